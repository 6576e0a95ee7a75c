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

func.func @memory(%q: tensor<1x2x8x64xbf16>, %mk: tensor<2x4x64xf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: memory keys and values must have the element type of q}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) memory(%mk, %mk : tensor<2x4x64xf16>, tensor<2x4x64xf16>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

func.func @score_mod_reads_tensor(%q: tensor<1x2x8x64xbf16>, %t: tensor<2xf32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: score_mod that reads values from outside its region (other than constants)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = tensor.extract %t[%h] : tensor<2xf32>
    %y = arith.addf %s, %x : f32
    attn.yield %y : f32
  } -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
