// What the attn.sdpa tiling and transform.attn.* refuse, and why.
// RUN: attn-opt %s --transform-interpreter -split-input-file -verify-diagnostics

// 6 query heads over 3 KV heads: a tile of 3 heads would straddle groups.
func.func @straddle(%q: tensor<1x6x8x8xf32>, %k: tensor<1x3x8x8xf32>, %o: tensor<1x6x8x8xf32>)
    -> tensor<1x6x8x8xf32> {
  // expected-error @below {{cannot be tiled with 3 query heads per tile: a head tile must cover whole groups of 2 query heads (H / Hkv) or lie inside one group}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x6x8x8xf32>, tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>)
      outs(%o : tensor<1x6x8x8xf32>) -> tensor<1x6x8x8xf32>
  return %r : tensor<1x6x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 3]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

func.func @bottom_right_dynamic(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %o: tensor<1x1x?x8xf32>)
    -> tensor<1x1x?x8xf32> {
  // expected-error @below {{with a bottom_right causal pattern can be tiled over queries or keys only with static Nq and Nk}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
      outs(%o : tensor<1x1x?x8xf32>) pattern(#attn.causal<bottom_right>) -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 16]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

func.func @not_sdpa(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @below {{this target is func.return}}
  return %a : tensor<4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["func.return"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{expects attn.sdpa targets}}
    %loops = transform.attn.tile %op {q_tile = 8, kv_tile = 8} : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}

// -----

func.func @not_module(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %f = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{expects builtin.module targets, but got func.func}}
    transform.attn.lower_to_cpu %f : !transform.any_op
    transform.yield
  }
}

// -----

func.func @bad_tile(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{expects q_tile and kv_tile of at least 1, but got 0 and 8}}
    %loops = transform.attn.tile %op {q_tile = 0, kv_tile = 8} : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}

// -----

func.func @key_full_reduction(%q: tensor<1x1x8x8xf32>, %o: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @below {{cannot tile the key dimension as a full reduction: split keys with transform.structured.tile_reduction_using_for or tile_reduction_using_forall}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
      outs(%o : tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A random pattern draws from the whole op's ceil(Nk / block) key blocks: a
// key split needs static Nq and Nk (and no positions) to get them as a
// block_sparse layout.
func.func @split_random_dynamic(%q: tensor<1x1x?x8xf32>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  // expected-error @below {{with a random pattern can be split over keys only with static Nq and Nk and without positions}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
      outs(%o : tensor<1x1x?x8xf32>) pattern(#attn.random<block = 2, per_row = 1, seed = 3>)
      -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{failed to tile using partial reduction}}
    %f:2, %s, %c, %l = transform.structured.tile_reduction_using_for %op by tile_sizes = [0, 0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

func.func @split_random_positions(%q: tensor<1x1x8x8xf32>, %o: tensor<1x1x8x8xf32>,
                                  %p: tensor<1x1x8xi64>) -> tensor<1x1x8x8xf32> {
  // expected-error @below {{with a random pattern can be split over keys only with static Nq and Nk and without positions}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
      outs(%o : tensor<1x1x8x8xf32>) positions(%p, %p : tensor<1x1x8xi64>, tensor<1x1x8xi64>)
      pattern(#attn.union<[#attn.causal, #attn.random<block = 2, per_row = 1, seed = 3>]>)
      -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{failed to tile using partial reduction}}
    %f:2, %s, %c, %l = transform.structured.tile_reduction_using_for %op by tile_sizes = [0, 0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    // expected-error @below {{expects q_tile and kv_tile of 64 or 128 (the Hopper core's tiles; kv_tile also 0: by head dim and pattern), but got 32 and 0}}
    transform.attn.map_to_gpu_core %root {q_tile = 32} : !transform.any_op
    transform.yield
  }
}

// -----

func.func @gpu_not_module(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %f = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{expects builtin.module targets, but got func.func}}
    transform.attn.map_to_gpu_core %f : !transform.any_op
    transform.yield
  }
}

// -----

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    // expected-error @below {{attn-gpu-pipeline: format must be fatbin, bin or isa, but got 'ptx'}}
    transform.attn.lower_to_gpu %root {format = "ptx"} : !transform.any_op
    transform.yield
  }
}

// -----

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    // expected-error @below {{attn-gpu-pipeline: abi must be host or device, but got 'shared'}}
    transform.attn.lower_to_gpu %root {abi = "shared"} : !transform.any_op
    transform.yield
  }
}

// -----

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    // expected-error @below {{expects opt_level in 0..3, but got 4}}
    transform.attn.lower_to_gpu %root {opt_level = 4} : !transform.any_op
    transform.yield
  }
}
