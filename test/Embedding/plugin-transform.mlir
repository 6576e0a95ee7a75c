// The dialect plugin also attaches the decompositions of the non-core ops
// (linalg::AggregatedOpInterface), so upstream mlir-opt's transform
// interpreter decomposes the attn.lowrank the script matches.
// REQUIRES: attn-embedding
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin --transform-interpreter %s | FileCheck %s

// CHECK-LABEL: func.func @lowrank
// CHECK-NOT: attn.lowrank
// CHECK: linalg.generic
// CHECK: attn.sdpa ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,
                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.lowrank"]} in %root : (!transform.any_op) -> !transform.any_op
    %new = transform.structured.decompose_interface %op : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
