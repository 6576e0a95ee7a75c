// tensor.cast ops that erase static information fold into attn ops
// (populateFoldTensorCastIntoAttnOpsPatterns); attn-run uses this to
// specialise the entry to the input shapes, and --print-specialized shows it.
// RUN: attn-run %s --random-inputs --dim=5 --print-specialized | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x5x8xf32>, %[[K:.+]]: tensor<1x2x5x8xf32>, %[[V:.+]]: tensor<1x2x5x8xf32>) -> tensor<1x2x?x8xf32>
// CHECK: %[[R0:.+]] = attn.sdpa ins(%[[Q]], %[[K]], %[[V]] : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) outs(%[[Q]] : tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
// The second op consumes the first through the folded cast.
// CHECK: %[[R1:.+]] = attn.sdpa ins(%[[R0]], %[[K]], %[[V]] : {{.*}}) outs(%[[R0]] : tensor<1x2x5x8xf32>) pattern(#attn.causal) -> tensor<1x2x5x8xf32>
// CHECK: %[[CAST:.+]] = tensor.cast %[[R1]] : tensor<1x2x5x8xf32> to tensor<1x2x?x8xf32>
// CHECK: return %[[CAST]]
func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%q : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  %s = attn.sdpa ins(%r, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%r : tensor<1x2x?x8xf32>) pattern(#attn.causal) -> tensor<1x2x?x8xf32>
  return %s : tensor<1x2x?x8xf32>
}

// RUN: attn-run %s --entry=lse --random-inputs --dim=3 --print-specialized | FileCheck %s --check-prefix=LSE
// Only the result that follows outs changes type; lse keeps its own.
// LSE-LABEL: func.func @lse
// LSE: %{{.+}}, %[[L:.+]] = attn.sdpa ins({{.*}}) outs(%{{.+}} : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>, tensor<1x2x?xf32>
// LSE: tensor.cast %{{.+}} : tensor<1x2x3x8xf32> to tensor<1x2x?x8xf32>
// LSE: return %{{.+}}, %[[L]]
func.func @lse(%q: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>) -> (tensor<1x2x?x8xf32>, tensor<1x2x?xf32>) {
  %r, %l = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>, tensor<1x2x?xf32>
  return %r, %l : tensor<1x2x?x8xf32>, tensor<1x2x?xf32>
}
