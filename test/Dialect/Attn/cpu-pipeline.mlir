// RUN: attn-opt %s --attn-cpu-pipeline=mode=reference --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline="mode=reference compute-type=f64" --verify-each | FileCheck %s --check-prefix=F64
// RUN: attn-opt %s --attn-cpu-pipeline=mode=fused --verify-each | FileCheck %s --check-prefix=FUSED
// RUN: attn-opt %s --attn-cpu-pipeline=mode=fused | FileCheck %s --check-prefix=OMP
// RUN: attn-opt %s --attn-cpu-pipeline=mode=reference | FileCheck %s --check-prefix=NOOMP
// The default mode is fused.
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=OMP
// RUN: attn-opt %s --attn-cpu-pipeline="mode=fused q-tile=3 kv-tile=5 compute-type=f64" --verify-each | FileCheck %s --check-prefix=FUSED64
// RUN: not attn-opt %s --attn-cpu-pipeline="mode=fused kv-tile=0" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not attn-opt %s --attn-cpu-pipeline=mode=fast 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not attn-opt %s --attn-cpu-pipeline=compute-type=f16 2>&1 | FileCheck %s --check-prefix=TYPE

// attn-cpu-pipeline, mode=reference and mode=fused: attn IR on tensors down to
// the LLVM dialect, with nothing left of attn, linalg, tensor, memref or
// bufferization.
// CHECK-NOT: attn.
// CHECK-LABEL: llvm.func @causal_gqa
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: bufferization.
// CHECK-NOT: unrealized_conversion_cast
// CHECK: llvm.intr.maximum
// CHECK: llvm.intr.exp
// CHECK: llvm.fdiv
// CHECK: llvm.intr.log
// CHECK: llvm.call @free
// CHECK-LABEL: llvm.func @bf16_dynamic
// CHECK: llvm.fpext %{{.*}} : bf16 to f32
// mode=fused: the same, with the f32 exp2 of the tiles approximated
// (attn-prepare-tile-loops: fma and roundeven, no libm exp).
// FUSED-NOT: attn.
// FUSED-LABEL: llvm.func @causal_gqa
// FUSED-NOT: linalg.
// FUSED-NOT: tensor.
// FUSED-NOT: memref.
// FUSED-NOT: bufferization.
// FUSED-NOT: unrealized_conversion_cast
// FUSED: llvm.intr.maximum
// FUSED-NOT: llvm.intr.exp
// FUSED: llvm.intr.roundeven
// FUSED: llvm.intr.fma
// FUSED-NOT: llvm.intr.exp
// FUSED: llvm.fdiv
// FUSED: llvm.intr.log
// FUSED: llvm.call @free
// FUSED-LABEL: llvm.func @bf16_dynamic
// FUSED: llvm.fpext %{{.*}} : bf16 to f32
// F64-LABEL: llvm.func @causal_gqa
// F64: llvm.intr.exp(%{{.*}}) : (f64) -> f64
// FUSED64-LABEL: llvm.func @causal_gqa
// FUSED64: llvm.intr.exp2(%{{.*}}) : (f64) -> f64
// mode=fused: the forall over (batch, head, query tile) is one OpenMP
// worksharing loop with the three dims collapsed; the loops inside it are
// sequential. mode=reference has no OpenMP.
// OMP-LABEL: llvm.func @causal_gqa
// OMP: omp.parallel {
// OMP-NEXT: omp.wsloop {
// OMP-NEXT: omp.loop_nest ({{.*}}) : i64 = {{.*}} collapse(2) {
// OMP-NOT: omp.parallel
// OMP-LABEL: llvm.func @bf16_dynamic
// OMP: omp.parallel {
// OMP-NEXT: omp.wsloop {
// OMP-NEXT: omp.loop_nest ({{.*}}) : i64 = {{.*}} collapse(3) {
// OMP-NOT: omp.parallel
// NOOMP-NOT: omp.
// TILE: attn-cpu-pipeline: q-tile and kv-tile must be at least 1
// MODE: attn-cpu-pipeline: mode must be 'reference' or 'fused', but got 'fast'
// TYPE: attn-cpu-pipeline: compute-type must be f32 or f64, but got 'f16'
func.func @causal_gqa(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>,
                      %o: tensor<1x4x?x8xf32>) -> (tensor<1x4x?x8xf32>, tensor<1x4x?xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x4x?x8xf32>) pattern(#attn.causal) -> tensor<1x4x?x8xf32>, tensor<1x4x?xf32>
  return %r, %lse : tensor<1x4x?x8xf32>, tensor<1x4x?xf32>
}

func.func @bf16_dynamic(%q: tensor<?x?x?x8xbf16>, %k: tensor<?x?x?x8xbf16>, %v: tensor<?x?x?x8xbf16>,
                        %o: tensor<?x?x?x8xbf16>) -> tensor<?x?x?x8xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>)
         outs(%o : tensor<?x?x?x8xbf16>)
         pattern(#attn.union<[#attn.window<left = 3, right = 3>, #attn.global<first = 2>, #attn.random<block = 2, per_row = 1, seed = 7>]>)
         -> tensor<?x?x?x8xbf16>
  return %r : tensor<?x?x?x8xbf16>
}
