// attn-gpu-pipeline{format=isa abi=device q-tile=64 kv-tile=128
// block-size=64} as a transform script (read by transform-gpu-pipeline.mlir):
// with abi=device the returned sdpa results are materialized in their outs
// arguments first (the registered pass attn-gpu-device-results).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root0: !transform.any_op {transform.consumed}) {
    %root = transform.apply_registered_pass "attn-gpu-device-results" to %root0
        : (!transform.any_op) -> !transform.any_op
    transform.attn.map_to_gpu_core %root {q_tile = 64, kv_tile = 128} : !transform.any_op
    transform.attn.decompose %root : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.attn.lower_to_linalg %sdpa : !transform.any_op
    transform.attn.lower_to_gpu %root {format = "isa", abi = "device", block_size = 64} : !transform.any_op
    transform.yield
  }
}
