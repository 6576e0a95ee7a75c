// RUN: attn-opt %s --attn-fuse-lsh-cluster --verify-each | FileCheck %s --implicit-check-not="1024x1024"
// RUN: attn-opt %s --attn-fuse-lsh-cluster --attn-tile --canonicalize --verify-each | FileCheck %s --check-prefix=TILE --implicit-check-not="1024x1024" --implicit-check-not="attn.sdpa"
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// attn-fuse-lsh-cluster, the first step of attn-cpu-pipeline{mode=fused}: the
// choices in linear time (no N x N ranks, no N x N anything), then the
// chunk or cluster attention as one attn.sdpa over gathered rows with the
// original positions, which attn-tile turns into the flash core, and the
// log-sum-exp combination of the rounds or clusters.

// LLVM-LABEL: llvm.func @lsh
// LLVM: omp.parallel
// LLVM-LABEL: llvm.func @cluster
// LLVM: omp.parallel

// 2 heads, 2 rounds, N = 1024, chunks of 64, one (batch, head) at a time:
// an scf.for over the 2 heads carrying the result, whose body decomposes the
// head's [1, 1, N, D] slices: 2 * 16 = 32 sdpa heads of 64 queries against
// 128 keys (one chunk back). The chunk tensors and the chunk attention's o
// are allocated once (four alloc_tensor ops, which CSE does not fold into
// one, as it would fold equal tensor.empty ops) and carried by the loop:
// every head writes the same buffers.
// CHECK-LABEL: func.func @lsh
// CHECK: %[[QC:.*]] = bufferization.alloc_tensor() : tensor<1x32x64x16xf32>
// CHECK: %[[KC:.*]] = bufferization.alloc_tensor() : tensor<1x32x128x16xf32>
// CHECK: %[[VC:.*]] = bufferization.alloc_tensor() : tensor<1x32x128x16xf32>
// CHECK: %[[OC:.*]] = bufferization.alloc_tensor() : tensor<1x32x64x16xf32>
// CHECK: %[[LOOP:.*]]:5 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %arg3, %[[QA:.*]] = %[[QC]], %[[KA:.*]] = %[[KC]], %[[VA:.*]] = %[[VC]], %[[OA:.*]] = %[[OC]]) -> (tensor<1x2x1024x16xf32>, tensor<1x32x64x16xf32>, tensor<1x32x128x16xf32>, tensor<1x32x128x16xf32>, tensor<1x32x64x16xf32>)
// CHECK: %[[QK:.*]] = tensor.extract_slice %arg0[{{.*}}] [1, 1, 1024, 16] [1, 1, 1, 1] : tensor<1x2x1024x16xf32> to tensor<1x1x1024x16xf32>
// CHECK: %[[V:.*]] = tensor.extract_slice %arg1[{{.*}}] [1, 1, 1024, 16] [1, 1, 1, 1] : tensor<1x2x1024x16xf32> to tensor<1x1x1024x16xf32>
// CHECK: tensor.extract_slice %arg2[{{.*}}] [1, 2, 16, 4] [1, 1, 1, 1] : tensor<2x2x16x4xf32> to tensor<1x2x16x4xf32>
// CHECK: tensor.extract_slice %[[ACC]]
// Buckets: per (batch, head, round, block of 64 positions) the projections
// as one contraction, then per position the argmax over [x ; -x] on vectors
// (first maximum: the smallest index whose value equals the maximum).
// CHECK: %[[BUCKETS:.*]] = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 2, %{{.*}}) shared_outs({{.*}}) -> (tensor<1x1x2x1024xi64>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x4xf32>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: vector.reduction <maxnumf>, %{{.*}} : vector<4xf32> into f32
// CHECK: vector.reduction <minsi>, %{{.*}} : vector<4xi64> into i64
// CHECK: tensor.parallel_insert_slice
// The counting sort, one (batch, head, round) per iteration: the histogram
// of the 8 buckets, its exclusive prefix sum, then slot(n) = next[bucket(n)]++
// and perm(slot) = n, in position order (stable).
// CHECK: %[[SORT:.*]]:2 = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 2) shared_outs({{.*}}) -> (tensor<1x1x2x1024xi64>, tensor<1x1x2x1024xi64>)
// CHECK: tensor.extract_slice %[[BUCKETS]]
// CHECK: scf.for {{.*}} -> (tensor<8xi64>)
// CHECK: scf.for {{.*}} -> (i64, tensor<8xi64>)
// CHECK: scf.for {{.*}} -> (tensor<8xi64>, tensor<1024xi64>, tensor<1024xi64>)
// CHECK: tensor.parallel_insert_slice
// CHECK: tensor.parallel_insert_slice
// The chunks in one pass over the positions in order per (batch, head,
// round): each qk and v row read once as a vector, written at its slot (the
// sort's first result) as a query of its chunk and (the key normalised) as a
// key of the 2 chunks that see it.
// CHECK: %[[CH:.*]]:3 = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 2) shared_outs(%{{.*}} = %[[QA]], %{{.*}} = %[[KA]], %{{.*}} = %[[VA]]) -> (tensor<1x32x64x16xf32>, tensor<1x32x128x16xf32>, tensor<1x32x128x16xf32>)
// CHECK: scf.for %[[POS:.*]] = %{{.*}} to %{{.*}} step
// CHECK: tensor.extract %[[SORT]]#0[%{{.*}}, %{{.*}}, %{{.*}}, %[[POS]]]
// CHECK: vector.transfer_read %[[QK]]{{.*}} : tensor<1x1x1024x16xf32>, vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK: math.sqrt
// CHECK: vector.transfer_read %[[V]]{{.*}} : tensor<1x1x1024x16xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<16x64x16xf32>
// CHECK: scf.for
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<16x128x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<16x128x16xf32>
// The chunk attention with the original positions, strictly causal and
// without score_mod (the own key is added by the combine; both evaluated in
// Partial tiles only after attn-tile).
// CHECK: %[[RES:.*]], %[[LSE:.*]] = attn.sdpa ins(%[[CH]]#0, %[[CH]]#1, %[[CH]]#2 : tensor<1x32x64x16xf32>, tensor<1x32x128x16xf32>, tensor<1x32x128x16xf32>) outs(%[[OA]] : tensor<1x32x64x16xf32>) positions({{.*}} : tensor<1x32x64xi64>, tensor<1x32x128xi64>) pattern(#attn.causal<offset = -1>) -> tensor<1x32x64x16xf32>, tensor<1x32x64xf32>
// CHECK-NOT: score_mod
// The rounds and the own key by log-sum-exp: per (batch, head, block of 64
// queries) an scf.forall iteration writing a new tensor; the own key's lse
// -1e5 + log(rounds), per query the rounds' lse (maximum, one exp per
// round), then the own value row and the rounds' rows of o as whole vectors.
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[RES]] {{.*}} into tensor<1x2048x16xf32>
// CHECK: tensor.collapse_shape %[[LSE]] {{.*}} into tensor<1x2048xf32>
// CHECK: %[[NEW:.*]] = tensor.empty() : tensor<1x1x1024x16xf32>
// CHECK: %[[OUT:.*]] = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, %{{.*}}) shared_outs(%{{.*}} = %[[NEW]])
// CHECK: arith.constant -1.000000e+05 : f32
// CHECK: math.log
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: vector.transfer_read %[[V]]{{.*}} : tensor<1x1x1024x16xf32>, vector<16xf32>
// CHECK: vector.transfer_read %[[FLAT]]{{.*}} : tensor<1x2048x16xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<?x16xf32>
// CHECK: tensor.parallel_insert_slice
// The head's result into the carried output.
// CHECK: %[[NEXT:.*]] = tensor.insert_slice %[[OUT]] into %[[ACC]]
// CHECK: scf.yield %[[NEXT]], %[[CH]]#0, %[[CH]]#1, %[[CH]]#2, %[[RES]]
// CHECK: return %[[LOOP]]#0

// TILE-LABEL: func.func @lsh
// (canonicalize drops the unit dims of the foralls.)
// TILE: scf.for
// TILE: scf.forall ({{.*}}) in (2)
// The flash core: per (batch, chunk of a round, query tile), a loop over the
// key tiles, each classified from its position range.
// TILE: scf.forall ({{.*}}) in (32)
// TILE: scf.for
// TILE: scf.index_switch
// TILE: math.exp2
// TILE: tensor<1x2048x16xf32>

func.func @lsh(%qk: tensor<1x2x1024x16xf32>, %v: tensor<1x2x1024x16xf32>,
               %rot: tensor<2x2x16x4xf32>, %o: tensor<1x2x1024x16xf32>) -> tensor<1x2x1024x16xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x16xf32>, tensor<1x2x1024x16xf32>, tensor<2x2x16x4xf32>)
         outs(%o : tensor<1x2x1024x16xf32>) {num_buckets = 8, chunk_size = 64, causal}
         -> tensor<1x2x1024x16xf32>
  return %r : tensor<1x2x1024x16xf32>
}

// 2 heads, 4 centroids, window 256: 8 sdpa heads of 256 x 256.
// CHECK-LABEL: func.func @cluster
// Scores against the centroids, then per (batch, head, centroid) a radix
// select: 4 passes of a 256-bin histogram of the order-preserving key bits
// and a scan from the top digit; then the members in position order.
// CHECK: %[[QS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x4x1024xf32>)
// CHECK: %[[QSEL:.*]]:2 = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 2, 4) shared_outs({{.*}}) -> (tensor<1x2x4x256xi64>, tensor<1x2x4x1024xi64>)
// CHECK: tensor.extract_slice %[[QS]]
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: scf.for {{.*}} -> (tensor<256xi64>)
// CHECK: scf.for {{.*}} -> (i64, i64, i64, i1)
// CHECK: scf.for {{.*}} -> (tensor<256xi64>)
// CHECK: scf.for {{.*}} -> (tensor<256xi64>)
// CHECK: scf.for {{.*}} -> (tensor<256xi64>)
// CHECK: scf.for {{.*}} -> (i64, i64, tensor<256xi64>, tensor<1024xi64>)
// CHECK: %[[RES:.*]], %[[LSE:.*]] = attn.sdpa ins({{.*}} : tensor<1x8x256x16xf32>, tensor<1x8x256x16xf32>, tensor<1x8x256x16xf32>) {{.*}} positions({{.*}} : tensor<1x8x256xi64>, tensor<1x8x256xi64>) pattern(#attn.causal) -> tensor<1x8x256x16xf32>, tensor<1x8x256xf32>
// The clusters by log-sum-exp (non-members have slot 256: no part).
// CHECK: linalg.generic {{.*}} ins(%[[QSEL]]#1 : tensor<1x2x4x1024xi64>)
// CHECK: tensor.collapse_shape %[[RES]] {{.*}} into tensor<1x2048x16xf32>
// CHECK: %[[OUT:.*]] = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 2, %{{.*}}) shared_outs
// CHECK: vector.transfer_read
// CHECK: return %[[OUT]]

// TILE-LABEL: func.func @cluster
// TILE: scf.forall ({{.*}}) in (2, 4)
// TILE: scf.forall ({{.*}}) in (2, 4)
// Per (batch, cluster, query tile of 64 members): no 256 x 256 score tile.
// TILE: scf.forall ({{.*}}) in (8, 4)
// TILE-NOT: 256x256
// TILE: scf.index_switch
// TILE: return

func.func @cluster(%q: tensor<1x2x1024x16xf32>, %v: tensor<1x2x1024x16xf32>,
                   %c: tensor<2x4x16xf32>, %o: tensor<1x2x1024x16xf32>) -> tensor<1x2x1024x16xf32> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<1x2x1024x16xf32>, tensor<1x2x1024x16xf32>, tensor<1x2x1024x16xf32>, tensor<2x4x16xf32>)
         outs(%o : tensor<1x2x1024x16xf32>) {window = 256, causal} -> tensor<1x2x1024x16xf32>
  return %r : tensor<1x2x1024x16xf32>
}

// Without causal the own key is not the only key a strict pattern drops, so
// it keeps the score_mod: -1e5 at equal positions, in Full tiles too.
// CHECK-LABEL: func.func @lsh_noncausal
// CHECK: attn.sdpa {{.*}} positions({{.*}} : tensor<1x32x64xi64>, tensor<1x32x128xi64>) score_mod
// CHECK: arith.constant -1.000000e+05 : f32
// CHECK-NOT: math.log
// CHECK: return

// TILE-LABEL: func.func @lsh_noncausal
// TILE: return

func.func @lsh_noncausal(%qk: tensor<1x2x1024x16xf32>, %v: tensor<1x2x1024x16xf32>,
               %rot: tensor<2x2x16x4xf32>, %o: tensor<1x2x1024x16xf32>) -> tensor<1x2x1024x16xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x16xf32>, tensor<1x2x1024x16xf32>, tensor<2x2x16x4xf32>)
         outs(%o : tensor<1x2x1024x16xf32>) {num_buckets = 8, chunk_size = 64}
         -> tensor<1x2x1024x16xf32>
  return %r : tensor<1x2x1024x16xf32>
}
