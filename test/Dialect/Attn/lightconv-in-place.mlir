// attn.lightconv through attn-cpu-pipeline writes its outs operand in place, and the entry
// returns that buffer (attn-return-arguments-in-place): no allocation of the result and no
// copy of it. With whole kernel heads per vector of 16 channels, the only allocations are
// the kernel's weights and their table (the input-stationary form reads x as it is), and
// each output vector is stored non-temporally where its address is 64-byte aligned, plainly
// elsewhere; with heads that split a vector, the weights, their vectors and the per-block
// tile.
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s

// CHECK-LABEL: llvm.func @lightconv(
// CHECK-NOT: memcpy
// CHECK-NOT: memrefCopy
// CHECK-COUNT-3: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK-NOT: memcpy
// CHECK: llvm.store %[[V:.*]], %{{.*}} {alignment = 64 : i64, nontemporal} : vector<16xf32>, !llvm.ptr
// CHECK: llvm.store %[[V]], %{{.*}} {alignment = 4 : i64} : vector<16xf32>, !llvm.ptr
// CHECK: llvm.return
func.func @lightconv(%x: tensor<1x40x32xf32>, %w: tensor<2x5xf32>, %o: tensor<1x40x32xf32>)
    -> tensor<1x40x32xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x40x32xf32>, tensor<2x5xf32>) outs(%o : tensor<1x40x32xf32>)
         -> tensor<1x40x32xf32>
  return %r : tensor<1x40x32xf32>
}

// CHECK-LABEL: llvm.func @lightconv_split_heads(
// CHECK-NOT: memcpy
// CHECK-NOT: memrefCopy
// CHECK-COUNT-4: llvm.call @malloc
// CHECK-NOT: llvm.call @malloc
// CHECK-NOT: memcpy
// CHECK-NOT: nontemporal
// CHECK: llvm.return
func.func @lightconv_split_heads(%x: tensor<1x40x32xf32>, %w: tensor<4x5xf32>,
                                 %o: tensor<1x40x32xf32>) -> tensor<1x40x32xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x40x32xf32>, tensor<4x5xf32>) outs(%o : tensor<1x40x32xf32>)
         -> tensor<1x40x32xf32>
  return %r : tensor<1x40x32xf32>
}
