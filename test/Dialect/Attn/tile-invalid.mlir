// RUN: not attn-opt %s --attn-tile=q-tile=0 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not attn-opt %s --attn-tile=compute-type=f16 2>&1 | FileCheck %s --check-prefix=TYPE

// SIZE: attn-tile: q-tile and kv-tile must be at least 1, but got 0 and 64
// TYPE: attn-tile: compute-type must be f32 or f64, but got 'f16'

func.func @dense(%q: tensor<1x1x4x4xf32>, %o: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
         outs(%o : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

