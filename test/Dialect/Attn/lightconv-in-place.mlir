// attn.lightconv through attn-cpu-pipeline writes its outs operand in place, and the entry
// returns that buffer (attn-return-arguments-in-place): no allocation of the result and no
// copy of it; the only allocations are the kernel's weights and the per-block tile.
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s

// CHECK-LABEL: llvm.func @lightconv(
// CHECK-NOT: memcpy
// CHECK-NOT: memrefCopy
// CHECK-COUNT-4: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK-NOT: memcpy
// CHECK: llvm.return
func.func @lightconv(%x: tensor<1x40x32xf32>, %w: tensor<2x5xf32>, %o: tensor<1x40x32xf32>)
    -> tensor<1x40x32xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x40x32xf32>, tensor<2x5xf32>) outs(%o : tensor<1x40x32xf32>)
         -> tensor<1x40x32xf32>
  return %r : tensor<1x40x32xf32>
}
