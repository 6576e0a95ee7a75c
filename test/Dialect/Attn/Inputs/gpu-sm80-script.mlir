// attn-gpu-pipeline{chip=sm_80 features=+ptx70 format=isa} as a transform
// script (read by transform-gpu-pipeline.mlir): no Hopper core on sm_80, so
// every op takes the general path.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    transform.attn.decompose %root : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.attn.lower_to_linalg %sdpa : !transform.any_op
    transform.attn.lower_to_gpu %root {chip = "sm_80", features = "+ptx70", format = "isa"} : !transform.any_op
    transform.yield
  }
}
