// A --dim too large to allocate, or whose byte size overflows, is an error
// with a message and exit code 1, not a crash.
// RUN: not attn-run %s --random-inputs --dim=99999999999 2>&1 | FileCheck %s --check-prefix=OOM
// RUN: not attn-run %s --random-inputs --dim=4611686018427387904 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// OOM: attn-run: error: cannot allocate an array of shape [2, 99999999999, 64]: out of memory
// OVERFLOW: attn-run: error: cannot allocate an array of shape [2, 4611686018427387904, 64]: its size overflows
func.func @main(%x: tensor<2x?x64xf32>) -> tensor<2x?x64xf32> {
  return %x : tensor<2x?x64xf32>
}
