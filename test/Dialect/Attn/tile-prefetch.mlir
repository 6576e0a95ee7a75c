// attn-tile{prefetch=true}: each query tile prefetches the next query tile's
// rows of q, each key tile the next key tile's rows of k and v (one
// memref.prefetch per 64-byte line: 4 per row of 64 f32, 2 per row of 64
// bf16), on read-only buffers of the operands. Without the option the form
// has no prefetch.
// RUN: attn-opt %s --attn-tile="q-tile=64 kv-tile=64 prefetch=true" | FileCheck %s
// RUN: attn-opt %s --attn-tile="q-tile=64 kv-tile=64" | FileCheck %s --check-prefix=NONE

// CHECK-LABEL: func.func @window
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG: %[[VB:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK: scf.forall
// CHECK: scf.for %[[R:.*]] =
// CHECK-COUNT-4: memref.prefetch %[[QB]][%{{.*}}, %{{.*}}, %[[R]], %{{.*}}], read, locality<2>, data
// CHECK: scf.for
// CHECK: scf.for %[[KR:.*]] =
// CHECK-COUNT-4: memref.prefetch %[[KB]][%{{.*}}, %{{.*}}, %[[KR]], %{{.*}}], read, locality<2>, data
// CHECK: scf.for %[[VR:.*]] =
// CHECK-COUNT-4: memref.prefetch %[[VB]][%{{.*}}, %{{.*}}, %[[VR]], %{{.*}}], read, locality<2>, data
// NONE-LABEL: func.func @window
// NONE-NOT: memref.prefetch
func.func @window(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>,
                  %o: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         outs(%o : tensor<1x2x?x64xf32>) pattern(#attn.window<left = 128, right = 128>)
         -> tensor<1x2x?x64xf32>
  return %r : tensor<1x2x?x64xf32>
}

// CHECK-LABEL: func.func @bf16
// CHECK: scf.for %[[R:.*]] =
// CHECK-COUNT-2: memref.prefetch %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %{{.*}}], read, locality<2>, data : memref<1x1x?x64xbf16
// CHECK-NOT: memref.prefetch %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %{{.*}}]
func.func @bf16(%q: tensor<1x1x?x64xbf16>, %k: tensor<1x1x?x64xbf16>, %v: tensor<1x1x?x64xbf16>,
                %o: tensor<1x1x?x64xbf16>) -> tensor<1x1x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>)
         outs(%o : tensor<1x1x?x64xbf16>) pattern(#attn.causal) -> tensor<1x1x?x64xbf16>
  return %r : tensor<1x1x?x64xbf16>
}
