// RUN: attn-opt %s -split-input-file -verify-diagnostics

// A score_mod that is pure but cannot be lowered is rejected with the reason
// (issue 8, item 12): only ops of arith, math, index and scf (not
// scf.forall), tensor.extract and tensor.dim, on index, signless integers of
// at most 64 bits, f16, bf16, f32 and f64. Everything else compiles and runs:
// test/Reliability/score-mod-ops.mlir, python/tests/test_run_score_mod.py.

func.func @negative_score_mod_affine(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'affine.apply' op cannot be lowered in a score_mod; allowed are the ops of the arith, math, index and scf dialects (not scf.forall), tensor.extract and tensor.dim}}
           %d = affine.apply affine_map<(d0, d1) -> (d0 - d1)>(%i, %j)
           %di = arith.index_cast %d : index to i64
           %df = arith.sitofp %di : i64 to f32
           %t = arith.subf %s, %df : f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_ub_poison(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'ub.poison' op cannot be lowered in a score_mod}}
           %p = ub.poison : f32
           attn.yield %p : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_nested_tensor_insert(%q: tensor<1x2x4x8xf32>, %t0: tensor<2xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %c = arith.cmpi ult, %j, %i : index
           %t = scf.if %c -> f32 {
             // expected-error @+1 {{'tensor.insert' op cannot be lowered in a score_mod}}
             %n = tensor.insert %s into %t0[%h] : tensor<2xf32>
             %e = tensor.extract %n[%h] : tensor<2xf32>
             scf.yield %e : f32
           } else {
             scf.yield %s : f32
           }
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_forall(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'scf.forall' op cannot be lowered in a score_mod}}
           scf.forall (%x) in (%i) {
           }
           attn.yield %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_f128(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'arith.extf' op result 0 has type 'f128', which a score_mod cannot compute in; allowed are index, signless integers of at most 64 bits, f16, bf16, f32 and f64}}
           %w = arith.extf %s : f32 to f128
           %t = arith.truncf %w : f128 to f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_i128(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'arith.index_cast' op result 0 has type 'i128', which a score_mod cannot compute in}}
           %w = arith.index_cast %i : index to i128
           %t = arith.sitofp %w : i128 to f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_f8(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'arith.truncf' op result 0 has type 'f8E4M3FN', which a score_mod cannot compute in}}
           %n = arith.truncf %s : f32 to f8E4M3FN
           %t = arith.extf %n : f8E4M3FN to f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_vector(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'arith.constant' op result 0 has type 'vector<4xf32>', which a score_mod cannot compute in}}
           %v = arith.constant dense<1.0> : vector<4xf32>
           %e = math.exp %v : vector<4xf32>
           attn.yield %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_extract_complex(%q: tensor<1x2x4x8xf32>, %c: tensor<2xcomplex<f32>>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'tensor.extract' op result 0 has type 'complex<f32>', which a score_mod cannot compute in}}
           %e = tensor.extract %c[%h] : tensor<2xcomplex<f32>>
           attn.yield %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_while_argument(%q: tensor<1x2x4x8xf32>, %wide: f128) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'scf.while' op block argument 0 has type 'f128', which a score_mod cannot compute in}}
           %w = scf.while (%x = %wide) : (f128) -> f32 {
             %f = arith.constant false
             scf.condition(%f) %s : f32
           } do {
           ^bb0(%y: f32):
             scf.yield %wide : f128
           }
           attn.yield %w : f32
         } -> tensor<1x2x4x8xf32>
  return
}
