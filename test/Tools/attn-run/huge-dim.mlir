// A --dim too large to allocate, or whose byte size overflows, is an error
// with a message and exit code 1, not a crash.
// RUN: not attn-run %s --random-inputs --dim=99999999999 2>&1 | FileCheck %s --check-prefix=OOM
// RUN: not attn-run %s --random-inputs --dim=4611686018427387904 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// OOM: attn-run: error: cannot allocate an array of shape [2, 99999999999, 64]: out of memory
// OVERFLOW: attn-run: error: cannot allocate an array of shape [2, 4611686018427387904, 64]: its size overflows
// An array with a dim 0 is empty however large its other dims: it is
// created, written and read back.
// RUN: rm -rf %t && attn-run %s --entry=empty --random-inputs --dim=1000000000000000 --dump-inputs=%t --print | FileCheck %s --check-prefix=EMPTY
// RUN: attn-run %s --entry=empty --input=x=%t/x.npy --print | FileCheck %s --check-prefix=EMPTY
// EMPTY: result0: tensor<1000000000000000x1000000000000000x0xf32> []
func.func @empty(%x: tensor<?x?x0xf32>) -> tensor<?x?x0xf32> {
  return %x : tensor<?x?x0xf32>
}
func.func @main(%x: tensor<2x?x64xf32>) -> tensor<2x?x64xf32> {
  return %x : tensor<2x?x64xf32>
}
