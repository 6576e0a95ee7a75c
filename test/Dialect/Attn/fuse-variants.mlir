// attn-fuse-variants: the fused forms of attn.kernelized, attn.lowrank, attn.pkm and
// attn.lightconv (docs/Pipelines.md): no tensor of the whole sequence's features, scores or
// candidates; chunks of 64 rows inside scf.forall iterations.
// RUN: attn-opt %s --verify-each --attn-fuse-variants --canonicalize --cse | FileCheck %s
// RUN: not attn-opt %s --verify-each --attn-fuse-variants=chunk=0 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// BAD: attn-fuse-variants: chunk must be at least 1, but got 0
// LLVM-NOT: linalg.
// LLVM-NOT: attn.

// Non-causal FAVOR+: a key pass per (b, h) into the states S = phi(K)^T V (m x Dv) and
// z = 1^T phi(K) (1 x m), then a query pass per (b, h, chunk) into a new result tensor.
// CHECK-LABEL: func.func @favor
// CHECK-NOT: tensor<2x4x?x32xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, 4) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<2x4x32x8xf32>, tensor<2x4x1x32xf32>)
// CHECK: scf.for {{.*}} iter_args({{.*}} -> (tensor<32x8xf32>, tensor<1x32xf32>, f32)
// The projection starts from -||x||^2 / 2 (scaled) in every column.
// CHECK: arith.negf
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x32xf32>) outs(%{{.*}} : tensor<?x32xf32>)
// CHECK: math.exp2
// The states are rescaled only when the key stabiliser changes.
// CHECK: scf.if %{{.*}} -> (tensor<32x8xf32>, tensor<1x32xf32>)
// CHECK: } else {
// The state update phi(K)^T V, A indexed (k, i), then z.
// CHECK: linalg.generic {indexing_maps = [#[[TA:map[0-9]*]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<32x8xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<1x?xf32>, tensor<?x32xf32>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: tensor.parallel_insert_slice {{.*}} : tensor<32x8xf32> into tensor<2x4x32x8xf32>
// CHECK: tensor.parallel_insert_slice {{.*}} : tensor<1x32xf32> into tensor<2x4x1x32xf32>
// CHECK: %[[NEW:.*]] = tensor.empty(%{{.*}}) : tensor<2x4x?x8xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (2, 4, %{{.*}}) shared_outs(%{{.*}} = %[[NEW]])
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<32x8xf32>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<32xf32>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: tensor.parallel_insert_slice {{.*}} : tensor<?x8xf32> into tensor<2x4x?x8xf32>
// CHECK-NOT: tensor<2x4x?x32xf32>
func.func @favor(%q: tensor<2x4x?x16xf32>, %k: tensor<2x2x?x16xf32>, %v: tensor<2x2x?x8xf32>,
                 %w: tensor<4x32x16xf32>, %o: tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x4x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x8xf32>)
         projection(%w : tensor<4x32x16xf32>) outs(%o : tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32>
  return %r : tensor<2x4x?x8xf32>
}

// m = 160: the projection in blocks of 64 columns (a loop over the whole blocks, then the 32
// left), phi(Q) S in blocks of 64 rows of S the same way.
// CHECK-LABEL: func.func @favor_blocks
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<?x160xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x64xf32>) outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x32xf32>) outs(%{{.*}} : tensor<?x32xf32>)
// CHECK: scf.forall
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<?x8xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64x8xf32>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<32x8xf32>) outs(%{{.*}} : tensor<?x8xf32>)
func.func @favor_blocks(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x8xf32>,
                        %w: tensor<1x160x16xf32>, %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x8xf32>)
         projection(%w : tensor<1x160x16xf32>) outs(%o : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// Causal: one chunked scan per (b, h) carrying the states (and with favor_plus the running key
// maximum) and the output; the intra-chunk pairs j <= i through a 64 x 64 liveness that selects,
// and their denominators through an index compare.
// CHECK-LABEL: func.func @elu_causal
// CHECK: arith.cmpi ule
// CHECK-SAME: index
// CHECK: -> tensor<64x64xi1>
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: scf.for {{.*}} -> (tensor<8x4xf32>, tensor<1x8xf32>, tensor<?x4xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x4xf32>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8xf32>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x4xf32>, tensor<?x?xi1>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: arith.select
// CHECK: ins(%{{.*}} : tensor<?x?xf32>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: linalg.index 1
// CHECK: arith.cmpi ule
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x4xf32>) outs(%{{.*}} : tensor<8x4xf32>)
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<1x?xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<1x8xf32>)
// CHECK-NOT: tensor<1x2x?x?xf32>
func.func @elu_causal(%q: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x4xf32>, %o: tensor<1x2x?x4xf32>)
    -> tensor<1x2x?x4xf32> {
  %r = attn.kernelized elu_plus_one ins(%q, %q, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x4xf32>)
         outs(%o : tensor<1x2x?x4xf32>) {causal} -> tensor<1x2x?x4xf32>
  return %r : tensor<1x2x?x4xf32>
}

// Low rank: both projections (one projection, f = e; here also v = k) in one forall, each
// chunk of 256 keys of e read by the two 2-D contractions, then attn.sdpa into the outs operand
// (attn-cpu-pipeline tiles it in place; lowrank-in-place.mlir). (canonicalize folds the unit
// batch dims of the foralls.)
// CHECK-LABEL: func.func @lowrank
// CHECK-SAME: %[[O:[a-z0-9]+]]: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
// CHECK: scf.for {{.*}} -> (tensor<16x8xf32>, tensor<16x8xf32>)
// CHECK: ins(%[[E:.*]], %{{.*}} : tensor<16x?xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<16x8xf32>)
// CHECK: ins(%[[E]], %{{.*}} : tensor<16x?xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<16x8xf32>)
// CHECK-NOT: scf.forall (
// CHECK-NOT: tensor.empty
// CHECK: attn.sdpa {{.*}} outs(%[[O]] :
func.func @lowrank(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %e: tensor<1x16x?xf32>,
                   %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.lowrank ins(%q, %k, %k : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         projections(%e : tensor<1x16x?xf32>) outs(%o : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// Product keys: the sub-keys transposed once; per (b, h, chunk) the sub-key scores of the
// chunk [?, n] (contractions), the maxima of the k column groups (a lower bound of the k-th
// score), then per query row scalar loops: one pass over each score row into a sorted list
// of k (an insertion only for an entry that beats the k-th: scf.if, then scf.while moving
// entries down), the candidates walked row by row (nested scf.while), the weights and keys
// into [?, k] tiles; then per row the value rows gathered as vectors. No k^2 candidate
// tensor.
// CHECK-LABEL: func.func @pkm
// CHECK: -> tensor<2x4x32xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, %{{.*}})
// CHECK: -> tensor<?x32xf32>
// CHECK: iterator_types = ["parallel", "reduction", "parallel"]{{.*}}tensor<?x8x4xf32>{{.*}}tensor<?x4xf32>
// CHECK: scf.for {{.*}} -> (tensor<12xf32>, tensor<12xi64>, tensor<?x4xf32>, tensor<?x4xi64>)
// CHECK: scf.for {{.*}} to %c32 {{.*}} -> (tensor<12xf32>, tensor<12xi64>, index, f32, i64)
// CHECK: scf.if
// CHECK: scf.while
// CHECK: scf.while
// CHECK: scf.while
// CHECK: math.exp
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} : tensor<1024x6xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK: vector.transfer_write
// CHECK-NOT: tensor<?x16xf32>
// CHECK-NOT: tensor<1x2x?x1024xf32>
func.func @pkm(%q: tensor<1x2x?x8xf32>, %s1: tensor<2x32x4xf32>, %s2: tensor<2x32x4xf32>,
               %vals: tensor<1024x6xf32>, %o: tensor<1x2x?x6xf32>) -> tensor<1x2x?x6xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x2x?x8xf32>, tensor<2x32x4xf32>, tensor<2x32x4xf32>, tensor<1024x6xf32>)
         outs(%o : tensor<1x2x?x6xf32>) {top_k = 4} -> tensor<1x2x?x6xf32>
  return %r : tensor<1x2x?x6xf32>
}

// Lightconv with whole kernel heads per vector of 16 channels (C / Hc = 32): the kernel's
// softmax once, spread to a table [Hc, 16, K] (one address per (accumulator, tap) of a
// register block); per (b, block of 64 positions) of the outs operand written in place
// (destination passing: the entry returns its argument) per 16 output rows and then per
// vector of channels, input-stationary: each of the 16 + K - 1 input vectors of x loaded
// once (interior blocks; the blocks at the ends of the sequence read x zero-padded) and
// FMA'd into the accumulators it feeds, with prefetches of rows ahead; the last FMA of each
// output vector marked attn.nontemporal for attn-cpu-microkernels; the rows after the last
// whole block one by one.
// CHECK-LABEL: func.func @lightconv
// CHECK: math.exp
// CHECK: -> tensor<4x16x3xf32>
// CHECK: %[[XBUF:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%[[OUT:.*]] = %arg2)
// CHECK: tensor.extract_slice %[[OUT]]
// CHECK: scf.if %{{.*}} -> (tensor<?x128xf32>)
// CHECK: scf.for %{{.*}} step %c16 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK-NOT: scf.for
// CHECK: vector.load %[[XBUF]]{{.*}} : memref<1x?x128xf32>, vector<16xf32>
// CHECK: memref.prefetch %[[XBUF]]{{.*}}, read, locality<2>, data
// CHECK-COUNT-16: vector.fma {{.*}} {attn.nontemporal} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK-COUNT-16: vector.transfer_write {{.*}} tensor<?x128xf32>
// CHECK: scf.for %{{.*}} step %c1 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK-COUNT-3: vector.fma
// CHECK: } else {
// CHECK: arith.select {{.*}} : vector<16xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @lightconv(%x: tensor<1x?x128xf32>, %w: tensor<4x3xf32>, %o: tensor<1x?x128xf32>)
    -> tensor<1x?x128xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x?x128xf32>, tensor<4x3xf32>) outs(%o : tensor<1x?x128xf32>)
         -> tensor<1x?x128xf32>
  return %r : tensor<1x?x128xf32>
}

// Lightconv with whole kernel heads per vector and K = 5 >= 4: the interior blocks' whole
// register blocks of 16 rows take the two-parallel fast FIR form, with a second table
// [Hc, 3 * 8 + 1, (K + 1) / 2] (h0 for P, h1 for Q, h0 + h1 for S): 26 FMAs (P 9 x 3 less
// the one past the block's rows, Q 8 x 2, S 8 x 3 = 66 in all, against 16 x 5), the sums of
// odd and next even input vectors, then per pair of rows P + Q and S - P' - Q, each marked
// attn.nontemporal and stored; the rows after the last whole block and the zero-padded
// blocks at the ends keep the direct form.
// CHECK-LABEL: func.func @lightconv_fir
// CHECK: -> tensor<4x16x5xf32>
// CHECK: -> tensor<4x25x3xf32>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%{{.*}} = %arg2)
// CHECK: scf.if %{{.*}} -> (tensor<?x128xf32>)
// CHECK: scf.for %{{.*}} step %c16 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK-NOT: scf.for
// CHECK-COUNT-66: vector.fma
// CHECK-NOT: vector.fma
// CHECK-COUNT-8: arith.subf {{.*}} {attn.nontemporal} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK: scf.for %{{.*}} step %c1 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK-COUNT-5: vector.fma
// CHECK: } else {
// CHECK-COUNT-16: vector.fma {{.*}} {attn.nontemporal} : vector<16xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK: return
func.func @lightconv_fir(%x: tensor<1x?x128xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x128xf32>)
    -> tensor<1x?x128xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x?x128xf32>, tensor<4x5xf32>) outs(%o : tensor<1x?x128xf32>)
         -> tensor<1x?x128xf32>
  return %r : tensor<1x?x128xf32>
}

// Lightconv with kernel heads that split a vector of 16 channels (C / Hc = 8): the kernel's
// softmax once, spread to [C / 16, K, 16] (each vector of channels'
// K weights contiguous); per (b, block of 64 positions) of the outs operand written in place
// (destination passing: the entry returns its argument) the block's 64 + K - 1 input rows
// gathered row by row into a tile whose rows are C + 16 floats apart (the interior blocks
// read x as it is, the blocks at the ends of the sequence zero-padded), then per 16 output
// rows and vector of channels (after prefetches of the next row block's output lines, for
// writing, and of the next block's input rows) the K taps with 16 vector accumulators
// carried in registers, each stored once; the rows after the last whole block one by one.
// CHECK-LABEL: func.func @lightconv_split_heads
// CHECK: math.exp
// CHECK: -> tensor<8x3x16xf32>
// CHECK: %[[OBUF:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK: %[[XBUF:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%[[OUT:.*]] = %arg2)
// CHECK: tensor.extract_slice %[[OUT]]
// CHECK: scf.if %{{.*}} -> (tensor<66x144xf32>)
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<1x?x128xf32>, vector<16xf32>
// CHECK: } else {
// CHECK: arith.select {{.*}} : vector<16xf32>
// CHECK: scf.for %{{.*}} step %c16 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK: tensor.extract_slice %{{.*}} : tensor<8x3x16xf32> to tensor<3x16xf32>
// CHECK-COUNT-16: memref.prefetch %[[OBUF]]{{.*}}, write, locality<3>, data
// CHECK: memref.prefetch %[[XBUF]]{{.*}}, read, locality<2>, data
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-16: vector.fma
// CHECK-COUNT-16: vector.transfer_write {{.*}} tensor<?x128xf32>
// CHECK: scf.for %{{.*}} step %c1 iter_args(%{{.*}}) -> (tensor<?x128xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step %c1 iter_args({{.*}}) -> (vector<16xf32>)
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @lightconv_split_heads(%x: tensor<1x?x128xf32>, %w: tensor<16x3xf32>, %o: tensor<1x?x128xf32>)
    -> tensor<1x?x128xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x?x128xf32>, tensor<16x3xf32>) outs(%o : tensor<1x?x128xf32>)
         -> tensor<1x?x128xf32>
  return %r : tensor<1x?x128xf32>
}

// Channel blocks that are no whole vectors (C = 24): the zero-padded rows by one gather
// generic, then per tap an element-wise generic over the block with the tap's weights as a
// column operand.
// CHECK-LABEL: func.func @lightconv_partial_vectors
// CHECK: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: tensor.extract_slice %[[OUT]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<?x24xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<?x24xf32>, tensor<24xf32>)
// CHECK: tensor.parallel_insert_slice
func.func @lightconv_partial_vectors(%x: tensor<1x?x24xf32>, %w: tensor<4x3xf32>,
                                     %o: tensor<1x?x24xf32>) -> tensor<1x?x24xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x?x24xf32>, tensor<4x3xf32>) outs(%o : tensor<1x?x24xf32>)
         -> tensor<1x?x24xf32>
  return %r : tensor<1x?x24xf32>
}
