// attn.lowrank through attn-cpu-pipeline: the attention over the projected keys writes the
// outs operand in place and the entry returns that buffer (attn-return-arguments-in-place):
// no allocation of the result's size and no copy of it (before, a fresh result per call:
// at N = 65536 a 128 MiB buffer whose pages the kernel cleared on every call).
// python/tests/test_run_lowrank.py checks the same at run time (attn-run --profile).
// RUN: attn-opt %s --attn-cpu-pipeline --mlir-print-ir-after=attn-return-arguments-in-place -o /dev/null 2>&1 | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @lowrank(
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<2x4x96x16xf32>) -> memref<2x4x96x16xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<2x4x96x16xf32>
// CHECK-NOT: memref.copy
// CHECK: memref.subview %[[O]]
// CHECK-NOT: memref.alloc() {{.*}} : memref<2x4x96x16xf32>
// CHECK: return %[[O]] : memref<2x4x96x16xf32>
// LLVM-LABEL: llvm.func @lowrank(
// LLVM-NOT: memrefCopy
// LLVM: llvm.return
func.func @lowrank(%q: tensor<2x4x96x16xf32>, %k: tensor<2x4x300x16xf32>, %v: tensor<2x4x300x16xf32>,
                   %e: tensor<1x24x300xf32>, %o: tensor<2x4x96x16xf32>) -> tensor<2x4x96x16xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<2x4x96x16xf32>, tensor<2x4x300x16xf32>, tensor<2x4x300x16xf32>)
         projections(%e : tensor<1x24x300xf32>) outs(%o : tensor<2x4x96x16xf32>) -> tensor<2x4x96x16xf32>
  return %r : tensor<2x4x96x16xf32>
}
