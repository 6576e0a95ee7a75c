// A cf.assert that fails in the compiled code prints its message as an
// `attn-run: error:` on stderr and exits with 3, not SIGABRT and LLVM's
// crash report.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-run %s --entry=make --random-inputs --dim=3 --dump-inputs=%t/three
// RUN: attn-run %s --input=a=%t/three/x.npy --input=b=%t/three/x.npy --print | FileCheck %s --check-prefix=OK
// RUN: not attn-run %s --input=a=%t/three/x.npy --random-inputs 2>%t/err | FileCheck %s --check-prefix=STDOUT --allow-empty
// RUN: FileCheck %s --check-prefix=FIRED --implicit-check-not=PLEASE --implicit-check-not="Stack dump" < %t/err
// OK: result0: tensor<3xf32>
// STDOUT-NOT: lengths
// FIRED: attn-run: error: a run-time check of the compiled code failed: lengths of a and b differ
func.func @main(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?xf32>
  %m = tensor.dim %b, %c0 : tensor<?xf32>
  %eq = arith.cmpi eq, %n, %m : index
  cf.assert %eq, "lengths of a and b differ"
  return %a : tensor<?xf32>
}
func.func @make(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
