// The decompositions are external models of linalg::AggregatedOpInterface, so
// a transform script can apply them to chosen ops (here only attn.lowrank;
// attn.lightconv stays).
// RUN: attn-opt %s --transform-interpreter --verify-each | FileCheck %s

// CHECK-LABEL: func.func @two_ops
// CHECK-NOT: attn.lowrank
// CHECK: attn.sdpa
// CHECK: attn.lightconv
func.func @two_ops(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>, %o: tensor<1x2x16x8xf32>,
                   %x: tensor<1x16x8xf32>, %w: tensor<2x3xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x16x8xf32>) {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %c = attn.lightconv ins(%x, %w : tensor<1x16x8xf32>, tensor<2x3xf32>) outs(%x : tensor<1x16x8xf32>)
         -> tensor<1x16x8xf32>
  return %r, %c : tensor<1x2x16x8xf32>, tensor<1x16x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %lowrank = transform.structured.match ops{["attn.lowrank"]} in %root : (!transform.any_op) -> !transform.any_op
    %new = transform.structured.decompose_interface %lowrank : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
