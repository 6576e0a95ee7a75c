//===- DecomposeLsh.cpp - decomposition of attn.lsh
//------------------------===//
//
// attn.lsh (Reformer, DESIGN section 4) as gather -> chunked attn.sdpa with
// remapped positions -> scatter and log-sum-exp combine. Per batch b, head h
// and hash round r (all choices and scores in f32):
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
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

using utils::IteratorType;

/// The f32 score that a query's own key gets (DESIGN attn.lsh step 5).
static constexpr double kSelfScore = -1e5;

//===----------------------------------------------------------------------===//
// Small building helpers
//===----------------------------------------------------------------------===//

/// The map (d0, .., d{numDims-1}) -> (d{dims[0]}, d{dims[1]}, ..).
static AffineMap projection(MLIRContext *ctx, unsigned numDims,
                            ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

/// `x * y` on sizes, folded when both are static.
static OpFoldResult mulSizes(OpBuilder &b, Location loc, OpFoldResult x,
                             OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx * *cy);
  return arith::MulIOp::create(b, loc, toIndexValue(b, loc, x),
                               toIndexValue(b, loc, y))
      .getResult();
}

/// `x / y` (unsigned) on sizes, folded when both are static; `y` is >= 1.
static OpFoldResult divSizes(OpBuilder &b, Location loc, OpFoldResult x,
                             OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx / *cy);
  return arith::DivUIOp::create(b, loc, toIndexValue(b, loc, x),
                                toIndexValue(b, loc, y))
      .getResult();
}

static Value indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// `max(size, 1)` as an index value: a divisor that is never zero (where the
/// size is 0 the loops that divide by it run no iteration, but a division by
/// a constant zero would still be undefined behaviour for LLVM).
static Value safeDivisor(OpBuilder &b, Location loc, OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return indexConst(b, loc, std::max<int64_t>(*c, 1));
  return arith::MaxUIOp::create(b, loc, toIndexValue(b, loc, size),
                                indexConst(b, loc, 1));
}

static Value f32Const(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

static Value negInfF32(OpBuilder &b, Location loc) {
  return f32Const(b, loc, -std::numeric_limits<double>::infinity());
}

/// `tensor.empty` filled with an integer constant.
static Value filledInt(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                       Type type, int64_t value) {
  Value empty = emptyTensor(b, loc, sizes, type);
  Value cst = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
  return linalg::FillOp::create(b, loc, cst, empty).getResult(0);
}

/// Terminates a linalg.generic body with one value.
static void yieldValue(OpBuilder &b, Location loc, Value value) {
  linalg::YieldOp::create(b, loc, value);
}

/// One linalg.generic; returns its results.
static ValueRange
generic(OpBuilder &b, Location loc, ValueRange inputs, ValueRange inits,
        ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
        function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  return linalg::GenericOp::create(b, loc, types, inputs, inits, maps,
                                   iterators, body)
      .getResults();
}

/// Reduction iterators after `numParallel` parallel ones.
static SmallVector<IteratorType> reductionAfter(unsigned numParallel,
                                                unsigned numReduction = 1) {
  SmallVector<IteratorType> iterators = parallelIterators(numParallel);
  iterators.append(numReduction, IteratorType::reduction);
  return iterators;
}

static SmallVector<Value> indices(OpBuilder &b, Location loc, unsigned n) {
  SmallVector<Value> result;
  for (unsigned d = 0; d < n; ++d)
    result.push_back(linalg::IndexOp::create(b, loc, d));
  return result;
}

/// `cf.assert(cond)` with `message` when `cond` is not statically true.
static void assertTrue(OpBuilder &b, Location loc, Value cond,
                       const Twine &message) {
  if (std::optional<int64_t> c = getConstantIntValue(cond); c && *c)
    return;
  cf::AssertOp::create(b, loc, cond, message.str());
}

//===----------------------------------------------------------------------===//
// Element-wise and row helpers
//===----------------------------------------------------------------------===//

/// `t` with every element converted to f32 (`t` itself when already f32).
static Value toF32(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  if (type.getElementType().isF32())
    return t;
  unsigned rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  Value init = emptyTensor(b, loc, getSizes(b, loc, t), b.getF32Type());
  return generic(b, loc, t, init, {id, id}, parallelIterators(rank),
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   yieldValue(nb, l,
                              convertFloat(nb, l, args[0], nb.getF32Type()));
                 })[0];
}

/// Rows of `x` [B, H, N, D] (f32) divided by their Euclidean norm; a zero row
/// stays zero: `x / sqrt(sum_d x^2)`, or 0 where the sum is 0.
static Value normalizeRows(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  Value zeros =
      filledTensor(b, loc, ArrayRef(sizes).take_front(3), b.getF32Type(), 0.0);
  Value sumSq =
      generic(b, loc, x, zeros,
              {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2})},
              reductionAfter(3), [](OpBuilder &nb, Location l, ValueRange a) {
                Value sq = arith::MulFOp::create(nb, l, a[0], a[0]);
                yieldValue(nb, l, arith::AddFOp::create(nb, l, a[1], sq));
              })[0];
  Value init = emptyTensor(b, loc, sizes, b.getF32Type());
  return generic(
      b, loc, ValueRange{x, sumSq}, init,
      {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2}),
       projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value zero = f32Const(nb, l, 0.0);
        Value isZero =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
        Value norm = math::SqrtOp::create(nb, l, a[1]);
        Value scaled = arith::DivFOp::create(nb, l, a[0], norm);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, isZero, zero, scaled));
      })[0];
}

/// Gathers rows: `out[b, g, m, f] = f32(src[b, g / headDiv, pos[b, g, m], f])`
/// for `src` [B, Hs, Ns, F] and the i64 positions `pos` [B, G, M].
static Value gatherRows(OpBuilder &b, Location loc, Value src, Value pos,
                        OpFoldResult headDiv) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, pos);
  sizes.push_back(getSizes(b, loc, src)[3]);
  Value init = emptyTensor(b, loc, sizes, b.getF32Type());
  Value div = safeDivisor(b, loc, headDiv);
  return generic(
      b, loc, pos, init,
      {projection(ctx, 4, {0, 1, 2}), projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> idx = indices(nb, l, 4);
        Value head = arith::DivUIOp::create(nb, l, idx[1], div);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
        Value value = tensor::ExtractOp::create(
            nb, l, src, ValueRange{idx[0], head, row, idx[3]});
        yieldValue(nb, l, convertFloat(nb, l, value, nb.getF32Type()));
      })[0];
}

/// The log-sum-exp combination of P partial results per query (DESIGN attn.lsh
/// step 6). `rows` [B, H, P, N] (i64) names, for part p of query n, the row
/// `g * M + u` of the sdpa result `o` [B, G, M, Dv] and `lse` [B, G, M], or is
/// negative when the query has no such part. Writes
/// `o(n) = sum_p exp(lse_p - LSE) o_p` (0 when every lse_p is -inf) into
/// `init` [B, H, N, Dv] in its element type.
static Value combineByLse(OpBuilder &b, Location loc, Value rows, Value o,
                          Value lse, int64_t m, Value init) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  SmallVector<OpFoldResult> rowSizes = getSizes(b, loc, rows);
  SmallVector<OpFoldResult> querySizes = {rowSizes[0], rowSizes[1],
                                          rowSizes[3]};
  Value mValue = indexConst(b, loc, m);
  // lseP[b, h, p, n] = lse at the row of part p, or -inf.
  Value lseP = generic(
      b, loc, rows, emptyTensor(b, loc, rowSizes, f32),
      {b.getMultiDimIdentityMap(4), b.getMultiDimIdentityMap(4)},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value zero = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0);
        Value none =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[0], zero);
        Value safe = arith::SelectOp::create(nb, l, none, zero, a[0]);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), safe);
        Value g = arith::DivUIOp::create(nb, l, row, mValue);
        Value u = arith::RemUIOp::create(nb, l, row, mValue);
        Value value =
            tensor::ExtractOp::create(nb, l, lse, ValueRange{bIdx, g, u});
        yieldValue(
            nb, l,
            arith::SelectOp::create(nb, l, none, negInfF32(nb, l), value));
      })[0];
  // shift[b, h, n] = max_p lseP, or 0 when that is -inf.
  AffineMap partMap = projection(ctx, 4, {0, 1, 3, 2});
  AffineMap queryMap = projection(ctx, 4, {0, 1, 2});
  Value maxInit = filledTensor(b, loc, querySizes, f32,
                               -std::numeric_limits<double>::infinity());
  Value maxLse =
      generic(b, loc, lseP, maxInit, {partMap, queryMap}, reductionAfter(3),
              [](OpBuilder &nb, Location l, ValueRange a) {
                yieldValue(nb, l, arith::MaximumFOp::create(nb, l, a[0], a[1]));
              })[0];
  auto shiftOf = [](OpBuilder &nb, Location l, Value max) -> Value {
    Value isNegInf = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           max, negInfF32(nb, l));
    return arith::SelectOp::create(nb, l, isNegInf, f32Const(nb, l, 0.0), max);
  };
  // total[b, h, n] = sum_p exp(lseP - shift).
  Value total = generic(
      b, loc, ValueRange{lseP, maxLse},
      filledTensor(b, loc, querySizes, f32, 0.0), {partMap, queryMap, queryMap},
      reductionAfter(3), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value diff = arith::SubFOp::create(nb, l, a[0], shiftOf(nb, l, a[1]));
        Value w = math::ExpOp::create(nb, l, diff);
        yieldValue(nb, l, arith::AddFOp::create(nb, l, a[2], w));
      })[0];
  // acc[b, h, n, e] = sum_p exp(lseP - shift) o_p[e] (parts that do not exist
  // are skipped by selection, never read).
  SmallVector<OpFoldResult> outSizes = getSizes(b, loc, init);
  Value acc = generic(
      b, loc, ValueRange{rows, lseP, maxLse},
      filledTensor(b, loc, outSizes, f32, 0.0),
      {projection(ctx, 5, {0, 1, 4, 2}), projection(ctx, 5, {0, 1, 4, 2}),
       projection(ctx, 5, {0, 1, 2}), projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value eIdx = linalg::IndexOp::create(nb, l, 3);
        Value zero = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0);
        Value none =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[0], zero);
        Value safe = arith::SelectOp::create(nb, l, none, zero, a[0]);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), safe);
        Value g = arith::DivUIOp::create(nb, l, row, mValue);
        Value u = arith::RemUIOp::create(nb, l, row, mValue);
        Value value =
            tensor::ExtractOp::create(nb, l, o, ValueRange{bIdx, g, u, eIdx});
        Value diff = arith::SubFOp::create(nb, l, a[1], shiftOf(nb, l, a[2]));
        Value w = math::ExpOp::create(nb, l, diff);
        Value term = arith::MulFOp::create(nb, l, w, value);
        Value sum = arith::AddFOp::create(nb, l, a[3], term);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, none, a[3], sum));
      })[0];
  // out = total == 0 ? 0 : acc / total, in the element type of `init`.
  Type outType = cast<RankedTensorType>(init.getType()).getElementType();
  return generic(
      b, loc, ValueRange{acc, total}, init,
      {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2}),
       projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value zero = f32Const(nb, l, 0.0);
        Value empty =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
        Value ratio = arith::DivFOp::create(nb, l, a[0], a[1]);
        Value value = arith::SelectOp::create(nb, l, empty, zero, ratio);
        yieldValue(nb, l, convertFloat(nb, l, value, outType));
      })[0];
}

/// The results (o [B, G, M, Dv], lse [B, G, M]) of the sdpa that `build`
/// creates over `q` [B, G, M, D] and `v`, or empty tensors when there are no
/// sdpa heads (G = 0: no hash rounds, chunks or clusters): attn.sdpa needs
/// H >= 1. A dynamic G is tested at run time with scf.if.
static std::pair<Value, Value>
sdpaOrEmpty(OpBuilder &b, Location loc, Value q, Value v,
            function_ref<SdpaOp(OpBuilder &)> build) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, q);
  sizes[3] = getSizes(b, loc, v)[3];
  auto empties = [&](OpBuilder &nb) -> std::pair<Value, Value> {
    return {
        emptyTensor(nb, loc, sizes, nb.getF32Type()),
        emptyTensor(nb, loc, ArrayRef(sizes).take_front(3), nb.getF32Type())};
  };
  std::optional<int64_t> groups = getConstantIntValue(sizes[1]);
  if (groups && *groups == 0)
    return empties(b);
  if (groups) {
    SdpaOp sdpa = build(b);
    return {sdpa.getResult(), sdpa.getLse()};
  }
  Value none = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                     toIndexValue(b, loc, sizes[1]),
                                     indexConst(b, loc, 0));
  auto [emptyO, emptyLse] = empties(b);
  auto ifOp = scf::IfOp::create(
      b, loc, TypeRange{emptyO.getType(), emptyLse.getType()}, none,
      /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, ValueRange{emptyO, emptyLse});
    b.setInsertionPointToStart(ifOp.elseBlock());
    SdpaOp sdpa = build(b);
    scf::YieldOp::create(b, loc, ValueRange{sdpa.getResult(), sdpa.getLse()});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

/// The attn.sdpa of the gathered chunks, with the original positions, the
/// causal pattern when `causal`, the score_mod
/// `^bb0(%s, %b, %h, %i, %j): %i == %j ? -1e5 : %s` and an lse result.
static SdpaOp buildChunkSdpa(OpBuilder &b, Location loc, Value q, Value k,
                             Value v, Value qpos, Value kpos, bool causal,
                             FloatAttr scale) {
  SmallVector<OpFoldResult> qSizes = getSizes(b, loc, q);
  SmallVector<OpFoldResult> outSizes = {qSizes[0], qSizes[1], qSizes[2],
                                        getSizes(b, loc, v)[3]};
  Value init = emptyTensor(b, loc, outSizes, b.getF32Type());
  auto lseType = RankedTensorType::get(
      cast<RankedTensorType>(q.getType()).getShape().take_front(3),
      b.getF32Type());
  PatternAttrInterface pattern;
  if (causal)
    pattern =
        cast<PatternAttrInterface>(CausalAttr::get(b.getContext(), 0,
                                                   /*bottomRight=*/false));
  auto sdpa = SdpaOp::create(b, loc, init.getType(), lseType, q, k, v, init,
                             /*mask=*/nullptr, /*bias=*/nullptr,
                             /*memory_key=*/nullptr, /*memory_value=*/nullptr,
                             qpos, kpos, /*span=*/nullptr, pattern, scale,
                             /*ramp=*/nullptr, /*max_span=*/nullptr);
  OpBuilder::InsertionGuard guard(b);
  Type index = b.getIndexType();
  Block *block = b.createBlock(&sdpa.getScoreMod(), sdpa.getScoreMod().end(),
                               {b.getF32Type(), index, index, index, index},
                               SmallVector<Location>(5, loc));
  Value same =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                            block->getArgument(3), block->getArgument(4));
  Value score = arith::SelectOp::create(
      b, loc, same, f32Const(b, loc, kSelfScore), block->getArgument(0));
  YieldOp::create(b, loc, score);
  return sdpa;
}

//===----------------------------------------------------------------------===//
// Hashing and sorting
//===----------------------------------------------------------------------===//

/// `x[b, h, r, n, k] = sum_d qk[b, h, n, d] rot[h, r, d, k]` (f32).
static Value hashProjections(OpBuilder &b, Location loc, Value qk, Value rot) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> q = getSizes(b, loc, qk), r = getSizes(b, loc, rot);
  Value init =
      filledTensor(b, loc, {q[0], q[1], r[1], q[2], r[3]}, b.getF32Type(), 0.0);
  // Loops (b, h, r, n, k, d).
  return generic(
      b, loc, ValueRange{qk, rot}, init,
      {projection(ctx, 6, {0, 1, 3, 5}), projection(ctx, 6, {1, 2, 5, 4}),
       projection(ctx, 6, {0, 1, 2, 3, 4})},
      reductionAfter(5), [](OpBuilder &nb, Location l, ValueRange a) {
        Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
        yieldValue(nb, l, arith::AddFOp::create(nb, l, a[2], p));
      })[0];
}

/// `bucket[b, h, r, n] = argmax_m y_m` over `y = [x[.., 0 .. K-1] ; -x[..]]`
/// (i64), ties to the smaller m. The reduction keeps the maximum of
/// (y_m, -m) in lexicographic order, which does not depend on the order in
/// which the loop visits k; each k offers y_k = x_k and y_{K+k} = -x_k.
static Value argmaxBuckets(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  SmallVector<OpFoldResult> outSizes(ArrayRef(sizes).take_front(4));
  Value best = filledTensor(b, loc, outSizes, b.getF32Type(),
                            -std::numeric_limits<double>::infinity());
  Value arg = filledInt(b, loc, outSizes, b.getI64Type(), 0);
  Value numHalf = toI64(b, loc, toIndexValue(b, loc, sizes[4]));
  AffineMap out = projection(ctx, 5, {0, 1, 2, 3});
  ValueRange results = generic(
      b, loc, x, ValueRange{best, arg}, {b.getMultiDimIdentityMap(5), out, out},
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
  return results[1];
}

/// The slot of every position in the order sorted by (bucket, position):
/// `slot[b, h, r, n] = #{n' : (bucket(n'), n') < (bucket(n), n)}`.
static Value sortSlots(OpBuilder &b, Location loc, Value bucket) {
  MLIRContext *ctx = b.getContext();
  Value init = filledInt(b, loc, getSizes(b, loc, bucket), b.getI64Type(), 0);
  // Loops (b, h, r, n, n').
  return generic(
      b, loc, ValueRange{bucket, bucket}, init,
      {projection(ctx, 5, {0, 1, 2, 3}), projection(ctx, 5, {0, 1, 2, 4}),
       projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value n = linalg::IndexOp::create(nb, l, 3);
        Value other = linalg::IndexOp::create(nb, l, 4);
        Value lower =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[1], a[0]);
        Value same =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[1], a[0]);
        Value before =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, other, n);
        Value less = arith::OrIOp::create(
            nb, l, lower, arith::AndIOp::create(nb, l, same, before));
        Value one = arith::ExtUIOp::create(nb, l, nb.getI64Type(), less);
        yieldValue(nb, l, arith::AddIOp::create(nb, l, a[2], one));
      })[0];
}

/// The inverse permutation: `perm[b, h, r, t]` = the n with
/// `slot[b, h, r, n] == t`. Taking the maximum keeps every value in [0, N).
static Value invertPermutation(OpBuilder &b, Location loc, Value slot) {
  MLIRContext *ctx = b.getContext();
  Value init = filledInt(b, loc, getSizes(b, loc, slot), b.getI64Type(), 0);
  // Loops (b, h, r, t, n).
  return generic(
      b, loc, slot, init,
      {projection(ctx, 5, {0, 1, 2, 4}), projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value t = toI64(nb, l, linalg::IndexOp::create(nb, l, 3));
        Value n = toI64(nb, l, linalg::IndexOp::create(nb, l, 4));
        Value match =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[0], t);
        Value larger = arith::MaxSIOp::create(nb, l, a[1], n);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, match, larger, a[1]));
      })[0];
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
  MLIRContext *ctx = b.getContext();
  OpFoldResult rows =
      keys ? mulSizes(b, loc, ch.window, b.getIndexAttr(ch.chunk))
           : OpFoldResult(b.getIndexAttr(ch.chunk));
  Value init = emptyTensor(b, loc, {ch.batch, ch.groups, rows}, b.getI64Type());
  Value rounds = safeDivisor(b, loc, ch.rounds);
  Value numChunks = safeDivisor(b, loc, ch.numChunks);
  Value roundsTimesChunks =
      safeDivisor(b, loc, mulSizes(b, loc, ch.rounds, ch.numChunks));
  Value chunk = indexConst(b, loc, ch.chunk);
  return generic(
      b, loc, ValueRange{}, init, {projection(ctx, 3, {0, 1, 2})},
      parallelIterators(3), [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> idx = indices(nb, l, 3);
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
        yieldValue(nb, l, pos);
      })[0];
}

/// `rows[b, h, r, n] = (h R + r) N + slot[b, h, r, n]`: the row
/// `g * c + u` of position n in round r of the chunked sdpa result, with
/// `g = (h R + r) nC + slot / c` and `u = slot mod c`.
static Value resultRows(OpBuilder &b, Location loc, Value slot) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, slot);
  Value rounds = toI64(b, loc, toIndexValue(b, loc, sizes[2]));
  Value length = toI64(b, loc, toIndexValue(b, loc, sizes[3]));
  AffineMap id = b.getMultiDimIdentityMap(4);
  return generic(b, loc, slot, emptyTensor(b, loc, sizes, b.getI64Type()),
                 {id, id}, parallelIterators(4),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   Value h = toI64(nb, l, linalg::IndexOp::create(nb, l, 1));
                   Value r = toI64(nb, l, linalg::IndexOp::create(nb, l, 2));
                   Value hr = arith::AddIOp::create(
                       nb, l, arith::MulIOp::create(nb, l, h, rounds), r);
                   Value base = arith::MulIOp::create(nb, l, hr, length);
                   yieldValue(nb, l, arith::AddIOp::create(nb, l, base, a[0]));
                 })[0];
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
static Chunking computeChunking(OpBuilder &b, Location loc, LshOp op) {
  SmallVector<OpFoldResult> qk = getSizes(b, loc, op.getQk());
  Chunking ch;
  ch.chunk = op.getChunkSizeAttr().getInt();
  ch.batch = qk[0];
  ch.rounds = getSizes(b, loc, op.getRotations())[1];
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

FailureOr<SmallVector<Value>> mlir::attn::decomposeLsh(OpBuilder &b, LshOp op) {
  Location loc = op.getLoc();
  int64_t chunk = op.getChunkSizeAttr().getInt();
  if (chunk < 1)
    return op.emitOpError("cannot be decomposed with chunk_size < 1");
  emitRuntimeChecks(b, loc, op, chunk);

  // Hashing (f32): buckets, the sorted order and its inverse.
  Value qk = toF32(b, loc, op.getQk());
  Value keys = normalizeRows(b, loc, qk);
  Value rotations = toF32(b, loc, op.getRotations());
  Value buckets = argmaxBuckets(b, loc, hashProjections(b, loc, qk, rotations));
  Value slot = sortSlots(b, loc, buckets);
  Value perm = invertPermutation(b, loc, slot);

  // Gather into chunks: [B, H * R * nC, c | W * c, D].
  Chunking ch = computeChunking(b, loc, op);
  Value qpos = chunkPositions(b, loc, perm, ch, /*keys=*/false);
  Value kpos = chunkPositions(b, loc, perm, ch, /*keys=*/true);
  OpFoldResult perHead = mulSizes(b, loc, ch.rounds, ch.numChunks);
  Value chunkQ = gatherRows(b, loc, qk, qpos, perHead);
  Value chunkK = gatherRows(b, loc, keys, kpos, perHead);
  Value chunkV = gatherRows(b, loc, op.getValue(), kpos, perHead);

  auto [o, lse] = sdpaOrEmpty(b, loc, chunkQ, chunkV, [&](OpBuilder &nb) {
    return buildChunkSdpa(nb, loc, chunkQ, chunkK, chunkV, qpos, kpos,
                          op.getCausal(), op.getScaleAttr());
  });

  // Scatter back through the slots and combine the rounds.
  Value rows = resultRows(b, loc, slot);
  Value result = combineByLse(b, loc, rows, o, lse, chunk, op.getInit());
  return SmallVector<Value>{result};
}
