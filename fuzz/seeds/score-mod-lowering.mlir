// Seeds of attn-fuzz (see fuzz/make-seeds.py), not lit tests: score_mod
// bodies that verified but did not lower: scf.if and scf.for (attn-lower-to-
// linalg refused ops with regions) and math.erf (attn-cpu-pipeline left it
// in the output, which attn-run then could not translate to LLVM IR).

func.func @score_mod_if(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi ult, %i, %j : index
    %t = scf.if %c -> f32 {
      scf.yield %s : f32
    } else {
      %z = arith.constant 0.0 : f32
      scf.yield %z : f32
    }
    attn.yield %t : f32
  } -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @score_mod_for(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %half = arith.constant 0.5 : f32
    %t = scf.for %k = %c0 to %i step %c1 iter_args(%acc = %s) -> (f32) {
      %n = arith.mulf %acc, %half : f32
      scf.yield %n : f32
    }
    attn.yield %t : f32
  } -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @score_mod_erf(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.erf %s : f32
    attn.yield %t : f32
  } -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}
