//===- SdpaToLinalg.cpp - attn.sdpa to linalg (the reference path) --------===//
//
// The golden path: unfused, every intermediate materialized, each step one
// linalg.generic that reads like the formula in docs/Semantics.md §2.
//
//   S[b,h,i,j]  = sum_d q[b,h,i,d] k[b,h/G,j,d]                  (compute type)
//   T, L, W     = per pair: s = scale S + bias, s = score_mod(s, b, h, qpos,
//                 kpos); L = pattern(qpos, kpos) & mask & (span weight > 0);
//                 T = L ? s : -inf; W = span weight
//   Sm[b,h,i,m] = scale <q_i, mk[h/G, m]>                        (memory)
//   rowmax      = max(max_j T, max_m Sm)             (NaN-propagating maximum)
//   shift       = rowmax == -inf ? 0 : rowmax
//   P           = L ? W exp(T - shift) : 0,  Pm = exp(Sm - shift)
//   l           = sum_j P + sum_m Pm
//   acc         = sum_j (L ? P v : 0) + sum_m Pm mv
//   o           = l == 0 ? 0 : acc / l,   lse = shift + log(l)
//
// Masking always selects: a value at a pair that is not live is never added
// or multiplied, so a NaN there cannot reach the row.
//
//===----------------------------------------------------------------------===//
#include "SdpaLowering.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

using utils::IteratorType;

/// Builds the linalg ops of one attention.
class SdpaLowering {
public:
  SdpaLowering(OpBuilder &b, Location loc, const SdpaParts &op, FloatType ct)
      : b(b), op(op), loc(loc), ct(ct), ctx(b.getContext()) {}

  SmallVector<Value> run();

private:
  AffineExpr dim(unsigned d) { return getAffineDimExpr(d, ctx); }
  AffineMap map(unsigned numDims, ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(numDims, 0, exprs, ctx);
  }
  Value constF(double value) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ct, value));
  }
  Value negInf(OpBuilder &nb) {
    return arith::ConstantOp::create(
        nb, loc, nb.getFloatAttr(ct, -std::numeric_limits<double>::infinity()));
  }
  /// Sizes [B, H, Nq, x] for a tensor over query rows.
  SmallVector<OpFoldResult> rowSizes(OpFoldResult last) {
    return {sizeB, sizeH, sizeNq, last};
  }

  void emitRuntimeChecks();
  Value broadcastMap(Value operand, AffineMap &outMap);
  Value positionsFor(Value positions, OpFoldResult seqSize);
  Value scores(Value keys, OpFoldResult seqSize, bool sharedOverBatch);
  Value accumulate(Value acc, Value probs, Value live, Value values,
                   bool sharedOverBatch);
  Value maskModAndLayout(OpBuilder &nb, Location l, Value qi, Value kj,
                         Value owners, Value fullLength);
  AffineExpr batchOf(bool sharedOverBatch) {
    return sharedOverBatch ? getAffineConstantExpr(0, ctx) : dim(0);
  }

  OpBuilder &b;
  const SdpaParts &op;
  Location loc;
  FloatType ct;
  MLIRContext *ctx;
  OpFoldResult sizeB, sizeH, sizeHkv, sizeNq, sizeNk, sizeD, sizeDv;
};

} // namespace

/// Emits cf.assert for the equalities that the verifier could not check
/// because a dimension is dynamic.
void SdpaLowering::emitRuntimeChecks() {
  auto sizes = [&](Value v) { return getSizes(b, loc, v); };
  StringRef name = "attn.sdpa: ";
  assertQueryKeyValueSizes(b, loc, "attn.sdpa", op.query, op.key, op.value,
                           op.init);
  // Mask and bias: every dim that does not broadcast equals the target's.
  SmallVector<OpFoldResult> target = {sizeB, sizeH, sizeNq, sizeNk};
  for (Value operand : {op.mask, op.bias}) {
    if (!operand)
      continue;
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<OpFoldResult> s = sizes(operand);
    int64_t rank = type.getRank();
    for (int64_t d = 0; d < rank; ++d) {
      if (type.getDimSize(d) == 1)
        continue;
      assertEqualSizes(b, loc, s[d], target[4 - rank + d],
                       name + (operand == op.mask ? "mask" : "bias") +
                           " does not broadcast to [B, H, Nq, Nk]");
    }
  }
  if (Value mk = op.memoryKey) {
    SmallVector<OpFoldResult> m = sizes(mk), mv = sizes(op.memoryValue);
    assertEqualSizes(b, loc, m[0], sizeHkv,
                     name + "Hkv of memory keys differs");
    assertEqualSizes(b, loc, mv[0], sizeHkv,
                     name + "Hkv of memory values differs");
    assertEqualSizes(b, loc, m[1], mv[1],
                     name + "M of memory keys and values differ");
  }
  for (auto [positions, seq] : {std::make_pair(op.queryPositions, sizeNq),
                                std::make_pair(op.keyPositions, sizeNk)}) {
    if (!positions)
      continue;
    SmallVector<OpFoldResult> p = sizes(positions);
    assertEqualSizes(b, loc, p[0], sizeB, name + "B of positions differs");
    assertEqualSizes(b, loc, p[2], seq, name + "length of positions differs");
    // The head dim is 1, H or Hkv: checked in positionsFor.
  }
  if (Value span = op.span)
    assertEqualSizes(b, loc, sizes(span)[0], sizeH, name + "span is not [H]");
  assertSegmentSizes(b, loc, op.query, op.key, op.querySegments,
                     op.keySegments);
  assertBlockLayoutSizes(b, loc, op.layout, op.query);
}

void mlir::attn::detail::assertSegmentSizes(OpBuilder &b, Location loc,
                                            Value q, Value k, Value qseg,
                                            Value kseg) {
  if (!qseg)
    return;
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q), ks = getSizes(b, loc, k);
  for (auto [segments, seq, what] :
       {std::make_tuple(qseg, qs[2], "query"),
        std::make_tuple(kseg, ks[2], "key")}) {
    SmallVector<OpFoldResult> s = getSizes(b, loc, segments);
    assertEqualSizes(b, loc, s[0], qs[0],
                     Twine("attn.sdpa: B of ") + what + " segments differs");
    assertEqualSizes(b, loc, s[1], seq,
                     Twine("attn.sdpa: length of ") + what +
                         " segments differs");
  }
}

/// Returns the map of a mask or bias broadcast right-aligned to the iteration
/// space (b, h, i, j).
Value SdpaLowering::broadcastMap(Value operand, AffineMap &outMap) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t rank = type.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    if (type.getDimSize(d) == 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(dim(4 - rank + d));
  }
  outMap = map(4, exprs);
  return operand;
}

/// Returns positions [B, H, N] as i64, read from `positions` ([B, 1 or H or
/// Hkv, N], i32 or i64) by query head, or `arange(N)` when absent.
Value SdpaLowering::positionsFor(Value positions, OpFoldResult seqSize) {
  SmallVector<OpFoldResult> sizes = {sizeB, sizeH, seqSize};
  Value init = emptyTensor(b, loc, sizes, b.getI64Type());
  SmallVector<AffineMap> maps = {map(3, {dim(0), dim(1), dim(2)})};
  auto body = [&](OpBuilder &nb, Location l, ValueRange args) {
    if (!positions) {
      Value index = linalg::IndexOp::create(nb, l, 2);
      linalg::YieldOp::create(nb, l, toI64(nb, l, index));
      return;
    }
    // Head index: 0 if the dim is 1, h if it is H, else h / (H / Hkv).
    Value bIdx = linalg::IndexOp::create(nb, l, 0);
    Value hIdx = linalg::IndexOp::create(nb, l, 1);
    Value iIdx = linalg::IndexOp::create(nb, l, 2);
    Value heads = tensor::DimOp::create(nb, l, positions, 1);
    Value one = arith::ConstantIndexOp::create(nb, l, 1);
    Value zero = arith::ConstantIndexOp::create(nb, l, 0);
    Value h = toIndexValue(nb, l, sizeH), hkv = toIndexValue(nb, l, sizeHkv);
    Value group = arith::DivUIOp::create(nb, l, h, hkv);
    Value kvHead = arith::DivUIOp::create(nb, l, hIdx, group);
    Value isOne =
        arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, heads, one);
    Value isH =
        arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, heads, h);
    Value head = arith::SelectOp::create(
        nb, l, isOne, zero, arith::SelectOp::create(nb, l, isH, hIdx, kvHead));
    Value value = tensor::ExtractOp::create(nb, l, positions,
                                            ValueRange{bIdx, head, iIdx});
    linalg::YieldOp::create(nb, l, toI64(nb, l, value));
  };
  if (positions) {
    // The head dim must be 1, H or Hkv.
    Value heads = tensor::DimOp::create(b, loc, positions, 1);
    Value ok = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    for (OpFoldResult allowed :
         {OpFoldResult(b.getIndexAttr(1)), sizeH, sizeHkv})
      ok = arith::OrIOp::create(
          b, loc, ok,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads,
                                toIndexValue(b, loc, allowed)));
    cf::AssertOp::create(b, loc, ok,
                         "attn.sdpa: positions head dim is not 1, H or Hkv");
  }
  return linalg::GenericOp::create(b, loc, init.getType(), ValueRange{},
                                   ValueRange{init}, maps, parallelIterators(3),
                                   body)
      .getResult(0);
}

/// S[b,h,i,j] = scale * sum_d q[b,h,i,d] keys[b,h,j,d] in the compute type;
/// `keys` has H heads (already repeated for GQA) and, when `sharedOverBatch`,
/// a batch dim of 1 read by every batch (persistent memory).
Value SdpaLowering::scores(Value keys, OpFoldResult seqSize,
                           bool sharedOverBatch) {
  Value init = filledTensor(b, loc, rowSizes(seqSize), ct, 0.0);
  // Iteration space (b, h, i, j, d).
  SmallVector<AffineMap> maps = {
      map(5, {dim(0), dim(1), dim(2), dim(4)}),
      map(5, {batchOf(sharedOverBatch), dim(1), dim(3), dim(4)}),
      map(5, {dim(0), dim(1), dim(2), dim(3)})};
  SmallVector<IteratorType> iterators = parallelIterators(4);
  iterators.push_back(IteratorType::reduction);
  Value dot =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{op.query, keys}, ValueRange{init},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value qv = convertFloat(nb, l, args[0], ct);
            Value kv = convertFloat(nb, l, args[1], ct);
            Value prod = arith::MulFOp::create(nb, l, qv, kv);
            linalg::YieldOp::create(
                nb, l, arith::AddFOp::create(nb, l, args[2], prod).getResult());
          })
          .getResult(0);
  Value scale = constF(op.scale);
  AffineMap id = map(4, {dim(0), dim(1), dim(2), dim(3)});
  Value out = emptyTensor(b, loc, rowSizes(seqSize), ct);
  return linalg::GenericOp::create(
             b, loc, out.getType(), ValueRange{dot}, ValueRange{out},
             SmallVector<AffineMap>{id, id}, parallelIterators(4),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nb, l,
                   arith::MulFOp::create(nb, l, args[0], scale).getResult());
             })
      .getResult(0);
}

/// acc[b,h,i,e] += sum_j (live ? P v : 0) over (b, h, i, e, j), with
/// `live` (optional) selecting: a value at a pair that is not live is never
/// multiplied. `values` has H heads; see `scores` for `sharedOverBatch`.
Value SdpaLowering::accumulate(Value acc, Value probs, Value live, Value values,
                               bool sharedOverBatch) {
  SmallVector<IteratorType> iterators = parallelIterators(4);
  iterators.push_back(IteratorType::reduction);
  AffineMap pj = map(5, {dim(0), dim(1), dim(2), dim(4)});
  SmallVector<Value> ins = {probs, values};
  SmallVector<AffineMap> maps = {
      pj, map(5, {batchOf(sharedOverBatch), dim(1), dim(4), dim(3)})};
  if (live) {
    ins.push_back(live);
    maps.push_back(pj);
  }
  maps.push_back(map(5, {dim(0), dim(1), dim(2), dim(3)}));
  return linalg::GenericOp::create(
             b, loc, acc.getType(), ins, ValueRange{acc}, maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value term = arith::MulFOp::create(
                   nb, l, args[0], convertFloat(nb, l, args[1], ct));
               if (live) {
                 Value zero =
                     arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, 0.0));
                 term = arith::SelectOp::create(nb, l, args[2], term, zero);
               }
               linalg::YieldOp::create(
                   nb, l,
                   arith::AddFOp::create(nb, l, args.back(), term).getResult());
             })
      .getResult(0);
}

/// Inside the pair generic: whether the pair (qpos `qi`, kpos `kj`, i64) is
/// live under mask_mod and the block layout (`owners` non-null): its key
/// block listed, and mask_mod true unless the block is listed as full.
Value SdpaLowering::maskModAndLayout(OpBuilder &nb, Location l, Value qi,
                                     Value kj, Value owners, Value fullLength) {
  Value bIdx = linalg::IndexOp::create(nb, l, 0);
  Value hIdx = linalg::IndexOp::create(nb, l, 1);
  Value modLive;
  if (op.maskMod)
    modLive = op.maskMod(
        nb, l, bIdx, hIdx,
        arith::IndexCastOp::create(nb, l, nb.getIndexType(), qi),
        arith::IndexCastOp::create(nb, l, nb.getIndexType(), kj));
  if (!owners)
    return modLive;
  auto [bl, hl] = layoutRow(nb, l, op.layout, bIdx, hIdx);
  auto blockOf = [&](unsigned d, int64_t size) -> Value {
    return arith::DivUIOp::create(
        nb, l, linalg::IndexOp::create(nb, l, d),
        arith::ConstantIndexOp::create(nb, l, size));
  };
  Value owner = tensor::ExtractOp::create(
      nb, l, owners,
      ValueRange{bl, hl, blockOf(2, op.layout.blockQ),
                 blockOf(3, op.layout.blockK)});
  Value listed = arith::CmpIOp::create(
      nb, l, arith::CmpIPredicate::sge, owner,
      arith::ConstantIntOp::create(nb, l, nb.getI32Type(), 0));
  if (!modLive)
    return listed;
  Value fullListed = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                           owner, fullLength);
  return arith::AndIOp::create(
      nb, l, listed, arith::OrIOp::create(nb, l, fullListed, modLive));
}

SmallVector<Value> SdpaLowering::run() {
  Value q = op.query, k = op.key, v = op.value;
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q), ks = getSizes(b, loc, k),
                            vs = getSizes(b, loc, v);
  sizeB = qs[0];
  sizeH = qs[1];
  sizeNq = qs[2];
  sizeD = qs[3];
  sizeHkv = ks[1];
  sizeNk = ks[2];
  sizeDv = vs[3];
  emitRuntimeChecks();

  // Keys, values and memory with H heads (grouped-query attention).
  Value kx = repeatHeads(b, loc, k, 1, sizeH);
  Value vx = repeatHeads(b, loc, v, 1, sizeH);
  Value qpos = positionsFor(op.queryPositions, sizeNq);
  Value kpos = positionsFor(op.keyPositions, sizeNk);
  Value s = scores(kx, sizeNk, /*sharedOverBatch=*/false);

  // Per pair: bias, score_mod, liveness, span weight.
  AffineMap id4 = map(4, {dim(0), dim(1), dim(2), dim(3)});
  SmallVector<Value> ins = {s, qpos, kpos};
  SmallVector<AffineMap> maps = {id4, map(4, {dim(0), dim(1), dim(2)}),
                                 map(4, {dim(0), dim(1), dim(3)})};
  int biasArg = -1, maskArg = -1, spanArg = -1, segArg = -1;
  if (op.querySegments) {
    // Document ids: live only where qseg[b, i] == kseg[b, j].
    ins.append({op.querySegments, op.keySegments});
    maps.append({map(4, {dim(0), dim(2)}), map(4, {dim(0), dim(3)})});
    segArg = ins.size() - 2;
  }
  for (auto [operand, slot] :
       {std::make_pair(op.bias, &biasArg), std::make_pair(op.mask, &maskArg)}) {
    if (!operand)
      continue;
    AffineMap m;
    ins.push_back(broadcastMap(operand, m));
    maps.push_back(m);
    *slot = ins.size() - 1;
  }
  if (Value span = op.span) {
    ins.push_back(span);
    maps.push_back(map(4, {dim(1)}));
    spanArg = ins.size() - 1;
  }
  SmallVector<OpFoldResult> pairSizes = rowSizes(sizeNk);
  SmallVector<Value> outs = {emptyTensor(b, loc, pairSizes, ct),
                             emptyTensor(b, loc, pairSizes, b.getI1Type())};
  if (spanArg >= 0)
    outs.push_back(emptyTensor(b, loc, pairSizes, ct));
  for (size_t n = 0; n < outs.size(); ++n)
    maps.push_back(id4);
  Value nq = toI64(b, loc, toIndexValue(b, loc, sizeNq));
  Value nk = toI64(b, loc, toIndexValue(b, loc, sizeNk));
  PatternAttrInterface pattern = op.pattern;
  if (!pattern)
    pattern = DenseAttr::get(ctx);
  // The block layout: each pair's key block is looked up in the owner map.
  Value owners, fullLength;
  if (op.layout) {
    Value numKeyBlocks = arith::CeilDivUIOp::create(
        b, loc, toIndexValue(b, loc, sizeNk),
        arith::ConstantIndexOp::create(b, loc, op.layout.blockK));
    owners = buildBlockOwners(b, loc, op.layout, numKeyBlocks);
    fullLength = arith::IndexCastOp::create(
        b, loc, b.getI32Type(), fullListLength(b, loc, op.layout));
  }
  auto pairOp = linalg::GenericOp::create(
      b, loc, TypeRange(ValueRange(outs)), ins, outs, maps,
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange args) {
        Value score = args[0], qi = args[1], kj = args[2];
        if (biasArg >= 0)
          score = arith::AddFOp::create(nb, l, score,
                                        convertFloat(nb, l, args[biasArg], ct));
        if (op.scoreMod) {
          Value bIdx = linalg::IndexOp::create(nb, l, 0);
          Value hIdx = linalg::IndexOp::create(nb, l, 1);
          Value i = arith::IndexCastOp::create(nb, l, nb.getIndexType(), qi);
          Value j = arith::IndexCastOp::create(nb, l, nb.getIndexType(), kj);
          score = op.scoreMod(nb, l, score, bIdx, hIdx, i, j);
        }
        Value live = pattern.buildIsLive(nb, l, qi, kj, nq, nk);
        if (maskArg >= 0)
          live = arith::AndIOp::create(nb, l, live, args[maskArg]);
        if (segArg >= 0)
          live = arith::AndIOp::create(
              nb, l, live,
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                    toI64(nb, l, args[segArg]),
                                    toI64(nb, l, args[segArg + 1])));
        if (op.maskMod || owners)
          live = arith::AndIOp::create(nb, l, live,
                                       maskModAndLayout(nb, l, qi, kj, owners,
                                                        fullLength));
        SmallVector<Value> results;
        Value weight;
        if (spanArg >= 0) {
          // m = clamp((ramp + clamp(z, 0, max_span) - |qpos - kpos|) / ramp,
          //           0, 1); live only where m > 0.
          auto cst = [&](double x) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, x));
          };
          Value zero = cst(0.0), one = cst(1.0);
          Value ramp = cst(op.ramp.getValueAsDouble());
          Value maxSpan = cst(op.maxSpan.getValueAsDouble());
          Value z = convertFloat(nb, l, args[spanArg], ct);
          z = arith::MinimumFOp::create(
              nb, l, arith::MaximumFOp::create(nb, l, z, zero), maxSpan);
          Value dist = arith::SIToFPOp::create(
              nb, l, ct, arith::SubIOp::create(nb, l, qi, kj));
          dist = math::AbsFOp::create(nb, l, dist);
          Value m = arith::DivFOp::create(
              nb, l,
              arith::SubFOp::create(
                  nb, l, arith::AddFOp::create(nb, l, ramp, z), dist),
              ramp);
          m = arith::MinimumFOp::create(
              nb, l, arith::MaximumFOp::create(nb, l, m, zero), one);
          Value positive =
              arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, m, zero);
          live = arith::AndIOp::create(nb, l, live, positive);
          weight = m;
        }
        results.push_back(
            arith::SelectOp::create(nb, l, live, score, negInf(nb)));
        results.push_back(live);
        if (weight)
          results.push_back(weight);
        linalg::YieldOp::create(nb, l, results);
      });
  Value masked = pairOp.getResult(0), live = pairOp.getResult(1);
  Value weight = spanArg >= 0 ? pairOp.getResult(2) : Value();

  // Persistent memory: always live, no pattern / mask / bias / score_mod.
  Value memScores, memValues;
  OpFoldResult sizeM;
  if (Value mk = op.memoryKey) {
    sizeM = getSizes(b, loc, mk)[1];
    // [Hkv, M, D] -> [1, Hkv, M, D] -> H heads -> used with b broadcast.
    auto expand = [&](Value t) {
      auto type = cast<RankedTensorType>(t.getType());
      SmallVector<int64_t> shape = {1};
      llvm::append_range(shape, type.getShape());
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
      llvm::append_range(sizes, getSizes(b, loc, t));
      return tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(shape, type.getElementType()), t,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}}, sizes);
    };
    Value mkx = repeatHeads(b, loc, expand(mk), 1, sizeH);
    memValues = repeatHeads(b, loc, expand(op.memoryValue), 1, sizeH);
    memScores = scores(mkx, sizeM, /*sharedOverBatch=*/true);
  }

  // Row statistics over (b, h, i) reducing j.
  SmallVector<OpFoldResult> rowStat = {sizeB, sizeH, sizeNq};
  AffineMap row4 = map(4, {dim(0), dim(1), dim(2)});
  SmallVector<IteratorType> reduceLast = parallelIterators(3);
  reduceLast.push_back(IteratorType::reduction);
  auto rowReduce = [&](Value input, Value init, auto combine) {
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{input}, ValueRange{init},
               SmallVector<AffineMap>{id4, row4}, reduceLast,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l,
                                         combine(nb, l, args[0], args[1]));
               })
        .getResult(0);
  };
  auto maxf = [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
    return arith::MaximumFOp::create(nb, l, acc, x);
  };
  auto addf = [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
    return arith::AddFOp::create(nb, l, acc, x);
  };
  Value rowMax = filledTensor(b, loc, rowStat, ct,
                              -std::numeric_limits<double>::infinity());
  rowMax = rowReduce(masked, rowMax, maxf);
  if (memScores)
    rowMax = rowReduce(memScores, rowMax, maxf);

  // shift = rowmax == -inf ? 0 : rowmax.
  Value shift = linalg::GenericOp::create(
                    b, loc, rowMax.getType(), ValueRange{rowMax},
                    ValueRange{emptyTensor(b, loc, rowStat, ct)},
                    SmallVector<AffineMap>{map(3, {dim(0), dim(1), dim(2)}),
                                           map(3, {dim(0), dim(1), dim(2)})},
                    parallelIterators(3),
                    [&](OpBuilder &nb, Location l, ValueRange args) {
                      yieldOne(nb, l, softmaxShift(nb, l, args[0]));
                    })
                    .getResult(0);

  // P = L ? W exp(T - shift) : 0.
  SmallVector<Value> pIns = {masked, live, shift};
  SmallVector<AffineMap> pMaps = {id4, id4, row4};
  if (weight) {
    pIns.push_back(weight);
    pMaps.push_back(id4);
  }
  pMaps.push_back(id4);
  Value probs =
      linalg::GenericOp::create(
          b, loc, masked.getType(), pIns,
          ValueRange{emptyTensor(b, loc, pairSizes, ct)}, pMaps,
          parallelIterators(4),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value e = math::ExpOp::create(
                nb, l, arith::SubFOp::create(nb, l, args[0], args[2]));
            if (weight)
              e = arith::MulFOp::create(nb, l, e, args[3]);
            Value zero =
                arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, 0.0));
            linalg::YieldOp::create(
                nb, l,
                arith::SelectOp::create(nb, l, args[1], e, zero).getResult());
          })
          .getResult(0);
  Value memProbs;
  if (memScores)
    memProbs =
        linalg::GenericOp::create(
            b, loc, memScores.getType(), ValueRange{memScores, shift},
            ValueRange{emptyTensor(b, loc, rowSizes(sizeM), ct)},
            SmallVector<AffineMap>{id4, row4, id4}, parallelIterators(4),
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  nb, l,
                  math::ExpOp::create(
                      nb, l, arith::SubFOp::create(nb, l, args[0], args[1]))
                      .getResult());
            })
            .getResult(0);

  // l = sum_j P + sum_m Pm.
  Value denom = filledTensor(b, loc, rowStat, ct, 0.0);
  denom = rowReduce(probs, denom, addf);
  if (memProbs)
    denom = rowReduce(memProbs, denom, addf);

  // acc[b,h,i,e] = sum_j (L ? P v : 0) + sum_m Pm mv; space (b, h, i, e, j).
  Value acc = filledTensor(b, loc, rowSizes(sizeDv), ct, 0.0);
  acc = accumulate(acc, probs, live, vx, /*sharedOverBatch=*/false);
  if (memProbs)
    acc = accumulate(acc, memProbs, Value(), memValues,
                     /*sharedOverBatch=*/true);

  // o = l == 0 ? 0 : acc / l, in the element type of outs.
  Value init = op.init;
  Type outElt = cast<RankedTensorType>(init.getType()).getElementType();
  Value result =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{acc, denom}, ValueRange{init},
          SmallVector<AffineMap>{id4, row4, id4}, parallelIterators(4),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value o = divideOrZero(nb, l, args[0], args[1]);
            yieldOne(nb, l, convertFloat(nb, l, o, outElt));
          })
          .getResult(0);
  SmallVector<Value> results = {result};

  // lse = shift + log(l) (-inf for an empty row), in lseType (f32 for an
  // attn.sdpa).
  if (RankedTensorType lseType = op.lseType) {
    SmallVector<OpFoldResult> lseSizes;
    for (int64_t d = 0; d < 3; ++d)
      lseSizes.push_back(lseType.isDynamicDim(d) ? rowStat[d]
                                                 : OpFoldResult(b.getIndexAttr(
                                                       lseType.getDimSize(d))));
    Value lseInit = emptyTensor(b, loc, lseSizes, lseType.getElementType());
    AffineMap id3 = map(3, {dim(0), dim(1), dim(2)});
    results.push_back(
        linalg::GenericOp::create(
            b, loc, lseType, ValueRange{shift, denom}, ValueRange{lseInit},
            SmallVector<AffineMap>{id3, id3, id3}, parallelIterators(3),
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value value = arith::AddFOp::create(
                  nb, l, args[0], math::LogOp::create(nb, l, args[1]));
              linalg::YieldOp::create(
                  nb, l, convertFloat(nb, l, value, lseType.getElementType()));
            })
            .getResult(0));
  }
  return results;
}

SdpaParts mlir::attn::detail::getSdpaParts(SdpaOp op) {
  SdpaParts parts;
  parts.query = op.getQuery();
  parts.key = op.getKey();
  parts.value = op.getValue();
  parts.init = op.getInit();
  parts.mask = op.getMask();
  parts.bias = op.getBias();
  parts.memoryKey = op.getMemoryKey();
  parts.memoryValue = op.getMemoryValue();
  parts.queryPositions = op.getQueryPositions();
  parts.keyPositions = op.getKeyPositions();
  parts.querySegments = op.getQuerySegments();
  parts.keySegments = op.getKeySegments();
  parts.span = op.getSpan();
  parts.pattern = op.getPatternOrDense();
  parts.scale = op.getScaleOrDefault();
  parts.ramp = op.getRampAttr();
  parts.maxSpan = op.getMaxSpanAttr();
  if (Value lse = op.getLse())
    parts.lseType = cast<RankedTensorType>(lse.getType());
  parts.layout = getBlockLayout(op);
  if (!op.getScoreMod().empty()) {
    // Inlines the region: %s (as f32), %b, %h, %i, %j -> the yielded score.
    // Ops with regions (scf.if, scf.for, scf.while, ...) are cloned whole:
    // they stay inside the linalg.generic body and convert-scf-to-cf lowers
    // them after the generic has become loops.
    Block *block = &op.getScoreMod().front();
    parts.scoreMod = [block](OpBuilder &nb, Location l, Value s, Value bIdx,
                             Value hIdx, Value i, Value j) -> Value {
      Value yielded =
          inlineModRegion(nb, *block,
                          {convertFloat(nb, l, s, nb.getF32Type()), bIdx,
                           hIdx, i, j});
      return convertFloat(nb, l, yielded, s.getType());
    };
  }
  if (!op.getMaskMod().empty()) {
    Block *block = &op.getMaskMod().front();
    parts.maskMod = [block](OpBuilder &nb, Location, Value bIdx, Value hIdx,
                            Value i, Value j) -> Value {
      return inlineModRegion(nb, *block, {bIdx, hIdx, i, j});
    };
  }
  return parts;
}

Value mlir::attn::detail::inlineModRegion(OpBuilder &nb, Block &block,
                                          ValueRange args) {
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &inner : block.without_terminator())
    nb.clone(inner, mapping);
  // The yielded value may be defined above the region (a hoisted constant).
  return mapping.lookupOrDefault(block.getTerminator()->getOperand(0));
}

SmallVector<Value> mlir::attn::detail::buildSdpaLinalg(OpBuilder &b,
                                                       Location loc,
                                                       const SdpaParts &parts,
                                                       FloatType computeType) {
  return SdpaLowering(b, loc, parts, computeType).run();
}

FailureOr<SmallVector<Value>>
mlir::attn::lowerSdpaToLinalg(OpBuilder &b, SdpaOp op, FloatType computeType) {
  return buildSdpaLinalg(b, op.getLoc(), getSdpaParts(op), computeType);
}
