// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Sinks, neighbourhoods and document ids: every rule of docs/Semantics.md
// §2 and §3 that the verifier checks, with the diagnostic it gives.

func.func @sink_negative_first(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.sink needs first >= 0, but got first = -2}}
         pattern(#attn.sink<first = -2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @sink_token_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.sink needs tokens in (-2^31, 2^31), but got token 2147483648}}
         pattern(#attn.sink<tokens = [1, 2147483648]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @sink_unknown_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.sink has no parameter 'last'; its parameters are tokens, first}}
         pattern(#attn.sink<last = 2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_no_axes(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs a grid of 1 to 3 axes, but got extent with 0 sizes}}
         pattern(#attn.neighborhood<extent = [], window = []>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_four_axes(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs a grid of 1 to 3 axes, but got extent with 4 sizes}}
         pattern(#attn.neighborhood<extent = [2, 2, 2, 2], window = [1, 1, 1, 1]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_window_count(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs one window size per grid axis, but got 2 extents and 1 window sizes}}
         pattern(#attn.neighborhood<extent = [8, 8], window = [3]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_zero_extent(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs extents >= 1, but axis 1 has extent 0}}
         pattern(#attn.neighborhood<extent = [8, 0], window = [3, 1]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_window_too_wide(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs 1 <= window <= extent on every axis, but axis 0 has window 9 and extent 8}}
         pattern(#attn.neighborhood<extent = [8, 8], window = [9, 3]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_window_zero(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs 1 <= window <= extent on every axis, but axis 1 has window 0 and extent 8}}
         pattern(#attn.neighborhood<extent = [8, 8], window = [3, 0]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_grid_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood needs a grid of fewer than 2^31 positions}}
         pattern(#attn.neighborhood<extent = [65536, 65536], window = [3, 3]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @natten_missing_window(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.neighborhood is missing the parameter 'window' (its parameters are extent, window)}}
         pattern(#attn.neighborhood<extent = [8, 8]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @segments_float(%q: tensor<1x2x4x8xf32>, %s: tensor<1x4xf32>) {
  // expected-error @+1 {{'attn.sdpa' op expects query segments (document ids) to have element type i32 or i64, but got 'f32'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         segments(%s, %s : tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @segments_rank(%q: tensor<1x2x4x8xf32>, %s: tensor<1x4xi32>, %t: tensor<1x1x4xi32>) {
  // expected-error @+1 {{'attn.sdpa' op expects key segments of rank 2 [B, Nk], but got 'tensor<1x1x4xi32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         segments(%s, %t : tensor<1x4xi32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @segments_batch(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4xi32>) {
  // expected-error @+1 {{'attn.sdpa' op expects B of query segments}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         segments(%s, %s : tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @segments_length(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %s: tensor<1x4xi32>) {
  // expected-error @+1 {{'attn.sdpa' op expects Nk of key segments}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         segments(%s, %s : tensor<1x4xi32>, tensor<1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @segments_only_one(%q: tensor<1x2x4x8xf32>, %s: tensor<1x4xi32>) {
  // expected-error @+1 {{'attn.sdpa' op expects query segments and key segments together, but got only one of them}}
  %r = "attn.sdpa"(%q, %q, %q, %q, %s) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}
