// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16" --canonicalize --cse \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --buffer-deallocation-pipeline --canonicalize | FileCheck %s --check-prefix=BUF
// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16 fresh-destination=false" --canonicalize --cse \
// RUN:   | FileCheck %s --check-prefix=INPLACE

// attn-tile writes each query tile's output straight into its slice of the
// forall's shared output (the normalisation's destination), so nothing is
// copied per tile. A destination that is the function's own argument and
// whose result the function returns becomes a fresh tensor: in place, the
// function would return its argument, which the buffer deallocation clones
// whole on every call. With fresh-destination=false (attn-cpu-pipeline,
// whose attn-return-arguments-in-place drops that clone) the argument itself
// is the forall's shared output.

// CHECK-LABEL: func.func @returned
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x2x128x8xf32>
// CHECK: scf.forall (%[[H:.*]], %[[T:.*]]) in (2, 8) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// CHECK: %[[DEST:.*]] = tensor.extract_slice %[[OUT]][0, %[[H]], %{{.*}}, 0] [1, 1, %{{.*}}, 8] [1, 1, 1, 1] : tensor<1x2x128x8xf32> to tensor<?x8xf32>
// CHECK: %[[NORM:.*]] = linalg.generic {{.*}} outs(%[[DEST]] : tensor<?x8xf32>)
// CHECK: arith.divf
// CHECK: tensor.parallel_insert_slice %[[NORM]] into %[[OUT]][0, %[[H]],
// INPLACE-LABEL: func.func @returned
// INPLACE-NOT: tensor.empty() : tensor<1x2x128x8xf32>
// INPLACE: scf.forall (%{{.*}}, %{{.*}}) in (2, 8) shared_outs(%{{.*}} = %arg1)
// BUF-LABEL: func.func @returned
// BUF-NOT: bufferization.clone
// BUF-NOT: memref.copy
// BUF: return
func.func @returned(%q: tensor<1x2x128x8xf32>, %o: tensor<1x2x128x8xf32>) -> tensor<1x2x128x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>)
         outs(%o : tensor<1x2x128x8xf32>) pattern(#attn.window<left = 20, right = 3>) -> tensor<1x2x128x8xf32>
  return %r : tensor<1x2x128x8xf32>
}

// A destination sliced from a larger tensor stays the destination, so the
// tiles are written in place into the larger one.
// CHECK-LABEL: func.func @sliced
// CHECK: %[[D:.*]] = tensor.extract_slice %arg1[0, 0, 0, 0] [1, 2, 128, 8] [1, 1, 1, 1]
// CHECK: scf.forall ({{.*}}) in (2, 8) shared_outs(%{{.*}} = %[[D]])
// BUF-LABEL: func.func @sliced
// BUF-NOT: memref.copy
// BUF: return
func.func @sliced(%q: tensor<1x2x128x8xf32>, %big: tensor<2x2x128x8xf32>) -> tensor<2x2x128x8xf32> {
  %o = tensor.extract_slice %big[0, 0, 0, 0] [1, 2, 128, 8] [1, 1, 1, 1]
      : tensor<2x2x128x8xf32> to tensor<1x2x128x8xf32>
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>)
         outs(%o : tensor<1x2x128x8xf32>) pattern(#attn.window<left = 20, right = 3>) -> tensor<1x2x128x8xf32>
  %w = tensor.insert_slice %r into %big[0, 0, 0, 0] [1, 2, 128, 8] [1, 1, 1, 1]
      : tensor<1x2x128x8xf32> into tensor<2x2x128x8xf32>
  return %w : tensor<2x2x128x8xf32>
}
