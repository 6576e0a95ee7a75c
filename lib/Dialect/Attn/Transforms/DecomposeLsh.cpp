//===- DecomposeLsh.cpp - decomposition of attn.lsh
//------------------------===//
//
// attn.lsh (Reformer, docs/Semantics.md §4) as gather -> chunked attn.sdpa with
// remapped positions -> scatter and log-sum-exp combine. Per batch b, head h
// and hash round r (the choices in f32, the rest in the compute type: f32, or
// f64 for the oracle of attn-run --check):
//
//   k^_j        = qk_j / ||qk_j||  (0 for a zero row)
//   x[r, n, k]  = sum_d qk[n, d] R[h, r, d, k]
//   bucket_r(n) = argmax([x ; -x])                  (first maximum on ties)
//   slot_r(n)   = #{n' : (bucket_r(n'), n') < (bucket_r(n), n)}
//   pi_r(t)     = the n with slot_r(n) == t         (the sorted order)
//
// The sorted sequence is cut into nC = N / c chunks; chunk ch of round r of
// head h becomes sdpa head g = (h R + r) nC + ch. Its queries are the slots
// ch c .. ch c + c - 1 and its keys the W = min(look_back + look_ahead + 1,
// nC) chunks (ch + w - look_back) mod nC, w < W (W consecutive offsets, so
// every chunk at most once). The sdpa sees the original positions pi_r(t),
// so `#attn.causal` is `pi_r(u) <= pi_r(t)`, and its score_mod gives the own
// key (equal positions) the unscaled score -1e5. The chunk outputs o_r and
// log-normalisers lse_r go back to position n through slot_r(n) and combine:
//
//   LSE(n) = log sum_r exp(lse_r(n)),  o(n) = sum_r exp(lse_r(n) - LSE(n))
//   o_r(n)
//
// (0 where every lse_r(n) is -inf).
//
// The fused form (attn-fuse-lsh-cluster) makes the same choices with linear
// work (FusedSelect.h): the buckets per block of positions as a contraction
// and a vector argmax, a counting sort, the chunks gathered as vector row
// copies (keys normalised on the way). With causal, the own key is the only
// key at the query's position, so the chunks run strictly causal
// (`#attn.causal<offset = -1>`, no score_mod) and the combine adds the own
// key as one more part per query: value v_n, lse -1e5 + log R (-1e5 once
// per round).
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FusedSelect.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// The score that a query's own key gets, unscaled (docs/Semantics.md §4 step 5).
static constexpr double kSelfScore = -1e5;

//===----------------------------------------------------------------------===//
// The chunk sdpa
//===----------------------------------------------------------------------===//

/// The score_mod of the chunk attention: a query's own key (equal positions)
/// scores the constant -1e5 instead of `s`, in s's type.
static Value selfScore(OpBuilder &b, Location loc, Value s, Value i, Value j) {
  Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, i, j);
  return arith::SelectOp::create(
      b, loc, same,
      arith::ConstantOp::create(b, loc,
                                b.getFloatAttr(s.getType(), kSelfScore)),
      s);
}

//===----------------------------------------------------------------------===//
// Hashing and sorting
//===----------------------------------------------------------------------===//

/// `x[b, h, r, n, k] = sum_d qk[b, h, n, d] rot[h, r, d, k]` (f32).
static Value hashProjections(OpBuilder &b, Location loc, Value qk, Value rot) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> q = getSizes(b, loc, qk), r = getSizes(b, loc, rot);
  Value init =
      filledTensor(b, loc, {q[0], q[1], r[1], q[2], r[3]}, b.getF32Type(), 0.0);
  // Loops (b, h, r, n, d, k): the innermost loop runs along contiguous rows
  // of rot and x (vectorizable), each x[.., k] still summed in order of d.
  SmallVector<utils::IteratorType> iterators = parallelIterators(6);
  iterators[4] = utils::IteratorType::reduction;
  return g.generic(ValueRange{qk, rot}, init,
                   {g.dims(6, {0, 1, 3, 4}), g.dims(6, {1, 2, 4, 5}),
                    g.dims(6, {0, 1, 2, 3, 5})},
                   iterators,
                   [](OpBuilder &nb, Location l, ValueRange a) {
                     Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
                     yieldOne(nb, l, arith::AddFOp::create(nb, l, a[2], p));
                   });
}

/// `bucket[b, h, r, n] = argmax_m y_m` over `y = [x[.., 0 .. K-1] ; -x[..]]`
/// (i64), ties to the smaller m. The reduction keeps the maximum of
/// (y_m, -m) in lexicographic order, which does not depend on the order in
/// which the loop visits k; each k offers y_k = x_k and y_{K+k} = -x_k.
static Value argmaxBuckets(OpBuilder &b, Location loc, Value x) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  SmallVector<OpFoldResult> outSizes(ArrayRef(sizes).take_front(4));
  Value best = filledTensor(b, loc, outSizes, b.getF32Type(),
                            -std::numeric_limits<double>::infinity());
  Value arg = g.filled(outSizes, b.getI64Type(), 0);
  Value numHalf = toI64(b, loc, toIndexValue(b, loc, sizes[4]));
  AffineMap out = g.dims(5, {0, 1, 2, 3});
  // Two results (value and index), so not GenericBuilder::generic.
  auto argmax = linalg::GenericOp::create(
      b, loc, TypeRange{best.getType(), arg.getType()}, x,
      ValueRange{best, arg}, {b.getMultiDimIdentityMap(5), out, out},
      reductionAfter(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value k = toI64(nb, l, linalg::IndexOp::create(nb, l, 4));
        Value curVal = a[1], curIdx = a[2];
        // (val, idx) replaces (curVal, curIdx) if val > curVal, or on a tie
        // if idx < curIdx.
        auto offer = [&](Value val, Value idx) {
          Value greater = arith::CmpFOp::create(
              nb, l, arith::CmpFPredicate::OGT, val, curVal);
          Value equal = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                              val, curVal);
          Value smaller = arith::CmpIOp::create(
              nb, l, arith::CmpIPredicate::slt, idx, curIdx);
          Value take = arith::OrIOp::create(
              nb, l, greater, arith::AndIOp::create(nb, l, equal, smaller));
          curVal = arith::SelectOp::create(nb, l, take, val, curVal);
          curIdx = arith::SelectOp::create(nb, l, take, idx, curIdx);
        };
        offer(a[0], k);
        offer(arith::NegFOp::create(nb, l, a[0]),
              arith::AddIOp::create(nb, l, k, numHalf));
        linalg::YieldOp::create(nb, l, ValueRange{curVal, curIdx});
      });
  return argmax.getResult(1);
}

/// The slot of every position in the order sorted by (bucket, position):
/// `slot[b, h, r, n] = #{n' : (bucket(n'), n') < (bucket(n), n)}`.
static Value sortSlots(OpBuilder &b, Location loc, Value bucket) {
  return rankPositions(
      b, loc, bucket, [](OpBuilder &nb, Location l, Value other, Value self) {
        Value lower = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                            other, self);
        Value same =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, other, self);
        return std::make_pair(lower, same);
      });
}

//===----------------------------------------------------------------------===//
// Chunks
//===----------------------------------------------------------------------===//

namespace {
/// The chunking of the sorted sequences of one attn.lsh.
struct Chunking {
  OpFoldResult batch, rounds, numChunks, groups; // groups = H * R * nC
  int64_t chunk;
  Value lookBackMod;   // look_back mod nC (index)
  OpFoldResult window; // W = min(look_back + look_ahead + 1, nC)
};
} // namespace

/// The original positions of the sorted slots seen by each chunk: with
/// `g = (h R + r) nC + ch`, `pos[b, g, m] = perm[b, h, r, t(m)]` where
/// `t(m) = ch c + m` for the queries (`keys` false) and, for the keys,
/// `t(m) = ((ch + m / c + nC - look_back mod nC) mod nC) c + m mod c`.
static Value chunkPositions(OpBuilder &b, Location loc, Value perm,
                            const Chunking &ch, bool keys) {
  GenericBuilder g{b, loc};
  OpFoldResult rows =
      keys ? mulSizes(b, loc, ch.window, b.getIndexAttr(ch.chunk))
           : OpFoldResult(b.getIndexAttr(ch.chunk));
  Value init = emptyTensor(b, loc, {ch.batch, ch.groups, rows}, b.getI64Type());
  Value rounds = safeDivisor(b, loc, ch.rounds);
  Value numChunks = safeDivisor(b, loc, ch.numChunks);
  Value roundsTimesChunks =
      safeDivisor(b, loc, mulSizes(b, loc, ch.rounds, ch.numChunks));
  Value chunk = indexConst(b, loc, ch.chunk);
  return g.generic(
      ValueRange{}, init, {g.dims(3, {0, 1, 2})}, parallelIterators(3),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> idx = loopIndices(nb, l, 3);
        Value h = arith::DivUIOp::create(nb, l, idx[1], roundsTimesChunks);
        Value r = arith::RemUIOp::create(
            nb, l, arith::DivUIOp::create(nb, l, idx[1], numChunks), rounds);
        Value own = arith::RemUIOp::create(nb, l, idx[1], numChunks);
        Value slotChunk = own, inChunk = idx[2];
        if (keys) {
          Value w = arith::DivUIOp::create(nb, l, idx[2], chunk);
          inChunk = arith::RemUIOp::create(nb, l, idx[2], chunk);
          Value shifted = arith::AddIOp::create(
              nb, l, arith::AddIOp::create(nb, l, own, w),
              arith::SubIOp::create(nb, l, numChunks, ch.lookBackMod));
          slotChunk = arith::RemUIOp::create(nb, l, shifted, numChunks);
        }
        Value t = arith::AddIOp::create(
            nb, l, arith::MulIOp::create(nb, l, slotChunk, chunk), inChunk);
        Value pos =
            tensor::ExtractOp::create(nb, l, perm, ValueRange{idx[0], h, r, t});
        yieldOne(nb, l, pos);
      });
}

/// `rows[b, h, r, n] = (h R + r) N + slot[b, h, r, n]`: the row
/// `g * c + u` of position n in round r of the chunked sdpa result, with
/// `g = (h R + r) nC + slot / c` and `u = slot mod c`.
static Value resultRows(OpBuilder &b, Location loc, Value slot) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, slot);
  Value rounds = toI64(b, loc, toIndexValue(b, loc, sizes[2]));
  Value length = toI64(b, loc, toIndexValue(b, loc, sizes[3]));
  AffineMap id = b.getMultiDimIdentityMap(4);
  return g.generic(slot, emptyTensor(b, loc, sizes, b.getI64Type()), {id, id},
                   parallelIterators(4),
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     Value h = toI64(nb, l, linalg::IndexOp::create(nb, l, 1));
                     Value r = toI64(nb, l, linalg::IndexOp::create(nb, l, 2));
                     Value hr = arith::AddIOp::create(
                         nb, l, arith::MulIOp::create(nb, l, h, rounds), r);
                     Value base = arith::MulIOp::create(nb, l, hr, length);
                     yieldOne(nb, l, arith::AddIOp::create(nb, l, base, a[0]));
                   });
}

//===----------------------------------------------------------------------===//
// decomposeLsh
//===----------------------------------------------------------------------===//

/// Emits the run-time checks of the sizes that the verifier could not see.
static void emitRuntimeChecks(OpBuilder &b, Location loc, LshOp op,
                              int64_t chunk) {
  auto sizes = [&](Value v) { return getSizes(b, loc, v); };
  SmallVector<OpFoldResult> qk = sizes(op.getQk()), v = sizes(op.getValue()),
                            rot = sizes(op.getRotations()),
                            o = sizes(op.getInit());
  std::string name = "attn.lsh: ";
  assertEqualSizes(b, loc, v[0], qk[0], name + "B of value and qk differ");
  assertEqualSizes(b, loc, v[1], qk[1], name + "H of value and qk differ");
  assertEqualSizes(b, loc, v[2], qk[2], name + "N of value and qk differ");
  assertEqualSizes(b, loc, o[0], qk[0], name + "B of outs and qk differ");
  assertEqualSizes(b, loc, o[1], qk[1], name + "H of outs and qk differ");
  assertEqualSizes(b, loc, o[2], qk[2], name + "N of outs and qk differ");
  assertEqualSizes(b, loc, o[3], v[3], name + "Dv of outs and value differ");
  assertEqualSizes(b, loc, rot[0], qk[1], name + "H of rotations differs");
  assertEqualSizes(b, loc, rot[2], qk[3], name + "D of rotations differs");
  assertEqualSizes(b, loc, rot[3],
                   b.getIndexAttr(op.getNumBucketsAttr().getInt() / 2),
                   name + "rotations.shape[3] is not num_buckets / 2");
  if (!getConstantIntValue(qk[2])) {
    Value rem = arith::RemUIOp::create(b, loc, toIndexValue(b, loc, qk[2]),
                                       indexConst(b, loc, chunk));
    Value divides = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                          indexConst(b, loc, 0));
    assertTrue(b, loc, divides, name + "N is not a multiple of chunk_size");
  }
}

/// The chunking of `op`: nC = N / c, W = min(look_back + look_ahead + 1, nC)
/// and look_back mod nC (with nC = 0 read as 1: then there is nothing to
/// compute).
static Chunking computeChunking(OpBuilder &b, Location loc, LshOp op,
                                Value qkIn, Value rotations) {
  SmallVector<OpFoldResult> qk = getSizes(b, loc, qkIn);
  Chunking ch;
  ch.chunk = op.getChunkSizeAttr().getInt();
  ch.batch = qk[0];
  ch.rounds = getSizes(b, loc, rotations)[1];
  ch.numChunks = divSizes(b, loc, qk[2], b.getIndexAttr(ch.chunk));
  ch.groups =
      mulSizes(b, loc, mulSizes(b, loc, qk[1], ch.rounds), ch.numChunks);
  // Both attributes are in [0, 2^63), so the sum fits in uint64_t.
  uint64_t lookBack = op.getLookBackAttr().getInt();
  uint64_t lookAhead = op.getLookAheadAttr().getInt();
  int64_t span = int64_t(std::min<uint64_t>(
      lookBack + lookAhead + 1, std::numeric_limits<int64_t>::max()));
  if (std::optional<int64_t> n = getConstantIntValue(ch.numChunks)) {
    ch.window = b.getIndexAttr(std::min(span, *n));
    ch.lookBackMod = indexConst(b, loc, *n == 0 ? 0 : lookBack % *n);
    return ch;
  }
  Value n = toIndexValue(b, loc, ch.numChunks);
  ch.window =
      arith::MinUIOp::create(b, loc, indexConst(b, loc, span), n).getResult();
  Value one = indexConst(b, loc, 1);
  Value safe = arith::MaxUIOp::create(b, loc, n, one);
  ch.lookBackMod = arith::RemUIOp::create(
      b, loc, indexConst(b, loc, int64_t(lookBack)), safe);
  return ch;
}

/// Whether fusedCombineByLse applies to `op`'s chunk results in `ct`: the
/// shapes of o, lse and the slots are products of op's sizes, so a static 0
/// among those is the only way one of them is statically empty.
static bool combinesFused(LshOp op, FloatType ct) {
  auto shape = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  auto initType = cast<RankedTensorType>(op.getInit().getType());
  int64_t dv = shape(op.getValue())[3];
  bool zeroSize = llvm::is_contained(shape(op.getQk()).take_front(3), 0) ||
                  shape(op.getRotations())[1] == 0 || dv == 0 ||
                  llvm::is_contained(initType.getShape(), 0);
  return fusedCombineApplies(ct, initType.getElementType(), dv, zeroSize);
}

namespace {
/// The operands of one attn.lsh decomposition: the op's own, or one
/// (batch, head)'s slices of them.
struct LshOperands {
  Value qk, value, rotations, init;
};
} // namespace

/// The decomposition of `op` on `in` (the op's operands or a slice of them),
/// without the run-time checks. The fused chunks are written into
/// `chunkDests` (q, k, v) and the chunk attention's o into `chunkDests[3]`
/// where their types match; `chunksOut`, when given, receives the chunk
/// tensors and o.
static Value decomposeOperands(OpBuilder &b, Location loc, LshOp op,
                               const LshOperands &in, FloatType ct, bool fused,
                               ValueRange chunkDests = {},
                               SmallVectorImpl<Value> *chunksOut = nullptr) {
  // Hashing (f32): buckets, the sorted order and its inverse.
  Value qk = toF32(b, loc, in.qk);
  // The unit keys (the fused form normalises them while gathering).
  Value keys = fused ? Value() : normalizeRows(b, loc, toFloat(b, loc, qk, ct));
  Value rotations = toF32(b, loc, in.rotations);
  Value buckets = fused ? fusedBuckets(b, loc, qk, rotations) : Value();
  if (!buckets)
    buckets = argmaxBuckets(b, loc, hashProjections(b, loc, qk, rotations));
  // perm is the inverse permutation: perm[b, h, r, t] = the n with slot == t.
  Value slot, perm;
  if (fused) {
    std::tie(slot, perm) = countingSortSlots(
        b, loc, buckets, op.getNumBucketsAttr().getInt());
  } else {
    slot = sortSlots(b, loc, buckets);
    perm = positionsByRank(b, loc, slot);
  }

  // Gather into chunks, in the compute type: [B, H * R * nC, c | W * c, D].
  Chunking ch = computeChunking(b, loc, op, qk, rotations);
  Value qpos = chunkPositions(b, loc, perm, ch, /*keys=*/false);
  Value kpos = chunkPositions(b, loc, perm, ch, /*keys=*/true);
  OpFoldResult perHead = mulSizes(b, loc, ch.rounds, ch.numChunks);
  SmallVector<Value> chunks;
  if (fused && ct.isF32())
    chunks = fusedLshChunks(b, loc, qk, in.value, slot, ch.chunk,
                            ch.numChunks, ch.window, ch.lookBackMod,
                            chunkDests.take_front(3));
  if (chunks.empty()) {
    if (!keys)
      keys = normalizeRows(b, loc, toFloat(b, loc, qk, ct));
    chunks = {gatherRows(b, loc, qk, qpos, perHead, ct),
              gatherRows(b, loc, keys, kpos, perHead, ct),
              gatherRows(b, loc, in.value, kpos, perHead, ct)};
  }

  // The chunk attention, causal on the original positions, with an lse
  // result. The own key lies in the query's own chunk only, so with causal
  // the fused form runs the chunks strictly causal (no score_mod: Full tiles
  // stay on the micro-kernels) and adds the own key in the combine, scoring
  // -1e5 once per round; otherwise the own key scores -1e5 by score_mod.
  bool ownKeyInCombine = fused && op.getCausal() && combinesFused(op, ct);
  Value q = chunks[0], k = chunks[1], v = chunks[2];
  // A given o destination (chunkDests[3]) of o's type takes the place of a
  // new tensor.
  Value oInit;
  if (chunkDests.size() == 4) {
    SmallVector<int64_t> oShape(cast<RankedTensorType>(q.getType()).getShape());
    oShape[3] = cast<RankedTensorType>(v.getType()).getDimSize(3);
    if (RankedTensorType::get(oShape, ct) == chunkDests[3].getType())
      oInit = chunkDests[3];
  }
  auto [o, lse] = attentionOrEmpty(b, loc, q, v, ct, [&](OpBuilder &nb) {
    if (ownKeyInCombine)
      return positionedAttention(nb, loc, q, k, v, qpos, kpos,
                                 /*causal=*/true, op.getScaleAttr(), ct,
                                 /*scoreMod=*/nullptr, /*causalOffset=*/-1,
                                 oInit);
    return positionedAttention(nb, loc, q, k, v, qpos, kpos, op.getCausal(),
                               op.getScaleAttr(), ct, selfScore,
                               /*causalOffset=*/0, oInit);
  }, oInit);

  // Scatter back through the slots and combine the rounds.
  Value rows = resultRows(b, loc, slot);
  SelfPart self;
  if (ownKeyInCombine) {
    self.values = toFloat(b, loc, in.value, ct);
    self.score = kSelfScore;
  }
  Value result =
      fused ? fusedCombineByLse(b, loc, rows, o, lse, in.init, ct, self)
            : Value();
  assert((result || !ownKeyInCombine) && "the fused combine was checked");
  if (chunksOut) {
    chunksOut->assign(chunks.begin(), chunks.end());
    chunksOut->push_back(o);
  }
  if (!result)
    result = combineByLse(b, loc, rows, o, lse, in.init, ct);
  return result;
}

/// Whether the fused form of `op` runs one (batch, head) at a time: f32
/// compute, more than one (batch, head), no size statically 0.
static bool perHeadSlabs(LshOp op, FloatType ct, bool fused) {
  auto shape = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  if (!fused || !ct.isF32())
    return false;
  for (Value v : {op.getQk(), op.getValue(), op.getRotations(), op.getInit()})
    if (llvm::is_contained(shape(v), 0))
      return false;
  ArrayRef<int64_t> qk = shape(op.getQk());
  return ShapedType::isDynamic(qk[0]) || ShapedType::isDynamic(qk[1]) ||
         qk[0] * qk[1] > 1;
}

/// `t[b, h]` as a [1, 1, ...] slice of a rank-4 tensor (`atHead` false:
/// `t[h]` of a [H, ...] one, as [1, ...]).
static Value headSlice(OpBuilder &b, Location loc, Value t, Value batch,
                       Value head, bool atHead = false) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  if (atHead) {
    offsets[0] = head;
    sizes[0] = b.getIndexAttr(1);
  } else {
    offsets[0] = batch;
    offsets[1] = head;
    sizes[0] = sizes[1] = b.getIndexAttr(1);
  }
  return tensor::ExtractSliceOp::create(b, loc, t, offsets, sizes, strides);
}

/// The chunk tensors (q, k, v) of one (batch, head) of `op`, f32, as the
/// fused chunks of its [1, 1, N, D] slices are shaped: [1, R nC, c, D],
/// [1, R nC, W c, D], [1, R nC, W c, Dv], and the chunk attention's o,
/// [1, R nC, c, Dv].
static SmallVector<Value> headChunkTensors(OpBuilder &b, Location loc,
                                           LshOp op) {
  Chunking ch = computeChunking(b, loc, op, op.getQk(), op.getRotations());
  OpFoldResult one = b.getIndexAttr(1);
  OpFoldResult groups = mulSizes(b, loc, ch.rounds, ch.numChunks);
  OpFoldResult keyRows = mulSizes(b, loc, ch.window, b.getIndexAttr(ch.chunk));
  OpFoldResult d = getSizes(b, loc, op.getQk())[3];
  OpFoldResult dv = getSizes(b, loc, op.getValue())[3];
  // bufferization.alloc_tensor, not tensor.empty: CSE would fold equal
  // tensor.empty ops (q and k with W = 1, k and v with Dv = D) into one
  // value, and the loop would then carry one buffer for two of them.
  auto alloc = [&](ArrayRef<OpFoldResult> sizes) -> Value {
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    dispatchIndexOpFoldResults(sizes, dynamic, shape);
    return bufferization::AllocTensorOp::create(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), dynamic);
  };
  return {alloc({one, groups, b.getIndexAttr(ch.chunk), d}),
          alloc({one, groups, keyRows, d}), alloc({one, groups, keyRows, dv}),
          alloc({one, groups, b.getIndexAttr(ch.chunk), dv})};
}

/// The fused decomposition one (batch, head) at a time: an scf.for over
/// B * H whose body decomposes the [1, 1, N, D] slices and inserts the
/// result into the carried output. The sort and attention buffers of a head
/// are live for one iteration only, so the peak memory is about 1 / (B H)
/// of the whole op's; the chunk tensors (the largest, O(R W N D) floats) and
/// the chunk attention's o (R N Dv floats) are carried by the loop, so that
/// every head writes the same buffers instead of faulting in fresh pages.
static Value decomposePerHead(OpBuilder &b, Location loc, LshOp op,
                              FloatType ct) {
  SmallVector<OpFoldResult> qk = getSizes(b, loc, op.getQk());
  Value heads = toIndexValue(b, loc, qk[1]);
  Value count =
      arith::MulIOp::create(b, loc, toIndexValue(b, loc, qk[0]), heads);
  SmallVector<Value> inits{op.getInit()};
  llvm::append_range(inits, headChunkTensors(b, loc, op));
  auto loop = scf::ForOp::create(
      b, loc, indexConst(b, loc, 0), count, indexConst(b, loc, 1), inits,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange acc) {
        Value batch = arith::DivUIOp::create(nb, l, iv, heads);
        Value head = arith::RemUIOp::create(nb, l, iv, heads);
        LshOperands in{
            headSlice(nb, l, op.getQk(), batch, head),
            headSlice(nb, l, op.getValue(), batch, head),
            headSlice(nb, l, op.getRotations(), batch, head, /*atHead=*/true),
            headSlice(nb, l, acc[0], batch, head)};
        SmallVector<Value> chunks;
        Value part = decomposeOperands(nb, l, op, in, ct, /*fused=*/true,
                                       acc.drop_front(), &chunks);
        SmallVector<OpFoldResult> sizes = getSizes(nb, l, in.init);
        SmallVector<OpFoldResult> offsets{batch, head, nb.getIndexAttr(0),
                                          nb.getIndexAttr(0)};
        SmallVector<OpFoldResult> strides(4, nb.getIndexAttr(1));
        SmallVector<Value> next{tensor::InsertSliceOp::create(
            nb, l, part, acc[0], offsets, sizes, strides)};
        // The chunks written into the carried tensors go round again; where
        // the chunks are not the fused ones, the carried tensors as they were.
        for (auto [dest, chunk] : llvm::zip_equal(acc.drop_front(), chunks))
          next.push_back(chunk.getType() == dest.getType() ? chunk : dest);
        scf::YieldOp::create(nb, l, next);
      });
  return loop.getResult(0);
}

FailureOr<SmallVector<Value>> mlir::attn::decomposeLsh(OpBuilder &b, LshOp op,
                                                       FloatType ct,
                                                       bool fused) {
  Location loc = op.getLoc();
  int64_t chunk = op.getChunkSizeAttr().getInt();
  if (chunk < 1)
    return op.emitOpError("cannot be decomposed with chunk_size < 1");
  emitRuntimeChecks(b, loc, op, chunk);
  if (perHeadSlabs(op, ct, fused))
    return SmallVector<Value>{decomposePerHead(b, loc, op, ct)};
  LshOperands in{op.getQk(), op.getValue(), op.getRotations(), op.getInit()};
  return SmallVector<Value>{decomposeOperands(b, loc, op, in, ct, fused)};
}
