// attn-gpu-pipeline{format=isa} (chip sm_90a, abi host) as a transform
// script (read by transform-gpu-pipeline.mlir): the Hopper core claims the
// attn.sdpa ops it takes, every op left takes the general path.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    transform.attn.map_to_gpu_core %root {q_tile = 128} : !transform.any_op
    transform.attn.decompose %root {compute_type = "f32"} : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.attn.lower_to_linalg %sdpa {compute_type = "f32"} : !transform.any_op
    transform.attn.lower_to_gpu %root {chip = "sm_90a", format = "isa"} : !transform.any_op
    transform.yield
  }
}
