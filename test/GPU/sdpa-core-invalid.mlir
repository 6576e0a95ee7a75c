// RUN: attn-opt %s --attn-gpu-sdpa-core -split-input-file -verify-diagnostics

func.func @f32(%q: tensor<1x2x8x64xf32>, %o: tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xf32> {
  // expected-error @+1 {{not yet on the Hopper core: element type must be bf16 or f16}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>) outs(%o : tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xf32>
  return %r : tensor<1x2x8x64xf32>
}

// -----

func.func @head_dim(%q: tensor<1x2x8x96xbf16>, %o: tensor<1x2x8x96xbf16>) -> tensor<1x2x8x96xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: head dim must be 64 or 128}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x96xbf16>, tensor<1x2x8x96xbf16>, tensor<1x2x8x96xbf16>) outs(%o : tensor<1x2x8x96xbf16>) -> tensor<1x2x8x96xbf16>
  return %r : tensor<1x2x8x96xbf16>
}

// -----

func.func @mask(%q: tensor<1x2x8x64xbf16>, %m: tensor<8x8xi1>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: mask}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) mask(%m : tensor<8x8xi1>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

func.func @bias(%q: tensor<1x2x8x64xbf16>, %b: tensor<8x8xf32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: bias}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) bias(%b : tensor<8x8xf32>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

func.func @score_mod(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: score_mod}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %s : f32
  } -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

func.func @positions(%q: tensor<1x2x8x64xbf16>, %p: tensor<1x1x8xi32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: positions}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) positions(%p, %p : tensor<1x1x8xi32>, tensor<1x1x8xi32>) pattern(#attn.causal) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
