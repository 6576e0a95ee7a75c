// RUN: not attn-opt %s --attn-tile=q-tile=0 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not attn-opt %s --attn-tile=compute-type=f16 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: attn-opt %s --attn-tile -verify-diagnostics -split-input-file

// SIZE: attn-tile: q-tile and kv-tile must be at least 1, but got 0 and 64
// TYPE: attn-tile: compute-type must be f32 or f64, but got 'f16'

func.func @dense(%q: tensor<1x1x4x4xf32>, %o: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
         outs(%o : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// -----

// A score_mod whose ops have regions cannot be inlined into a tile.
func.func @score_mod_with_region(%q: tensor<1x1x4x4xf32>, %o: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'attn.sdpa' op score_mod: only region-free pure ops can be tiled, but found scf.if}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
         outs(%o : tensor<1x1x4x4xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %c = arith.cmpi eq, %i, %j : index
           %t = scf.if %c -> f32 {
             scf.yield %s : f32
           } else {
             %z = arith.constant 0.0 : f32
             scf.yield %z : f32
           }
           attn.yield %t : f32
         } -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}
