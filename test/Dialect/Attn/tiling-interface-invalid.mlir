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

func.func @split_memory(%q: tensor<1x1x8x8xf32>, %mk: tensor<1x2x8xf32>, %o: tensor<1x1x8x8xf32>)
    -> tensor<1x1x8x8xf32> {
  // expected-error @below {{with memory cannot be split over keys: each split would count the memory keys again}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
      outs(%o : tensor<1x1x8x8xf32>) memory(%mk, %mk : tensor<1x2x8xf32>, tensor<1x2x8xf32>)
      -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{could not tile reduction}}
    %f:2, %s, %c, %l = transform.structured.tile_reduction_using_forall %op by num_threads = [0, 0, 0, 2]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

func.func @split_random(%q: tensor<1x1x8x8xf32>, %o: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @below {{with a random pattern cannot be split over keys: the pattern depends on Nk}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
      outs(%o : tensor<1x1x8x8xf32>) pattern(#attn.random<block = 2, per_row = 1, seed = 3>)
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
