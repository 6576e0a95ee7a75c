//===- FuseKernelized.cpp - fused form of attn.kernelized -----------------===//
//
// attn.kernelized (docs/Semantics.md §7) without the feature maps of the whole
// sequence: per (batch b, query head h), an scf.forall iteration, with W the
// head's projection and chunks of T rows (all f32):
//
//   non-causal   for each key chunk Kc, Vc:
//                  phi(Kc) [T, m] under the running key stabiliser c;
//                  S = alpha S + phi(Kc)^T [Vc | 1]   (S is m x (Dv + 1))
//                for each query chunk Qc:
//                  [num | den] = phi(Qc) S;  o = den == 0 ? 0 : num / den
//   causal       for each chunk (queries and keys of the same rows):
//                  phi(Kc) under the running c; S = alpha S;
//                  [num | den] = phi(Qc) S
//                              + live(phi(Qc) phi(Kc)^T) [Vc | 1]
//                    (live: j <= i within the chunk, a select);
//                  o = den == 0 ? 0 : num / den;  S += phi(Kc)^T [Vc | 1]
//
// FAVOR+'s key stabiliser is the running maximum c of the finite exponents
// seen so far (0 while there is none); when it grows, S is rescaled by
// alpha = exp(c_old - c_new). It is a per-(b, h) key constant for every query
// that reads S, so it cancels in num / den (docs/Semantics.md §7 allows it);
// the query stabiliser is per row, as in the reference decomposition. The
// exps are exp2 of log2(e) x, which attn-prepare-tile-loops approximates by a
// polynomial that vectorizes.
//
// Taken: f32 compute, static D, Dv and m, a projection whose head dim is 1 or
// the static H. Anything else is left for attn-decompose.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {
class KernelizedFuser {
public:
  KernelizedFuser(OpBuilder &b, KernelizedOp op, int64_t chunk)
      : b(b), loc(op.getLoc()), op(op), chunk(chunk), g{b, op.getLoc()} {}

  /// Checks that the op is one the fused form takes.
  bool accepts();
  Value build();

private:
  /// FAVOR+: the product x W^T [t, m] (f32) and the row sums of squares
  /// ||x||^2 [t] of `x` (unscaled).
  std::pair<Value, Value> favorParts(Value x);
  /// `a = c proj - c^2 sq / 2` inside a generic body.
  Value exponent(OpBuilder &nb, Location nl, Value proj, Value sq);
  /// phi of query rows `x` [t, D]: [t, m].
  Value queryFeatures(Value x);
  /// phi of key rows `x` [t, D] under the running maximum `runMax` (f32,
  /// -inf before any finite exponent); returns (phi, new running maximum).
  std::pair<Value, Value> keyFeatures(Value x, Value runMax);
  /// FAVOR+ phi = exp(a - shift) / sqrt(m) [t, m] of f32 rows `x` over their
  /// exponents a: per row for queries (`runMax` null), under the running
  /// maximum grown by this chunk for keys; returns (phi, new maximum or null).
  std::pair<Value, Value> favorFeatures(Value x, Value runMax);
  /// phi(x) elementwise (elu_plus_one, relu).
  Value elementwise(Value x);
  /// [Vc | 1]: [t, Dv + 1] f32.
  Value augmentedValues(Value vc, Value rows);
  /// `state * alpha` element-wise.
  Value rescale(Value state, Value alpha);
  /// o rows of the chunk from [num | den] into `dest` [t, Dv].
  Value normalize(Value numDen, Value rows, Value dest);

  OpBuilder &b;
  Location loc;
  KernelizedOp op;
  int64_t chunk;
  GenericBuilder g;
  FeatureMap fm;
  bool favor = false;
  int64_t dimD = 0, dimDv = 0, dimM = 0;
  /// W[h]^T [D, m] (f32) of the current head, with favor_plus.
  Value wT;
};
} // namespace

bool KernelizedFuser::accepts() {
  fm = op.getFeatureMap();
  favor = fm == FeatureMap::FavorPlus;
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto vType = cast<RankedTensorType>(op.getValue().getType());
  dimD = qType.getDimSize(3);
  dimDv = vType.getDimSize(3);
  if (ShapedType::isDynamic(dimD) || ShapedType::isDynamic(dimDv))
    return false;
  dimM = dimD;
  if (favor) {
    if (!op.getProjection())
      return false;
    auto wType = cast<RankedTensorType>(op.getProjection().getType());
    dimM = wType.getDimSize(1);
    int64_t heads = wType.getDimSize(0);
    if (ShapedType::isDynamic(dimM) || ShapedType::isDynamic(heads) ||
        (heads != 1 && heads != qType.getDimSize(1)))
      return false;
  } else if (op.getProjection()) {
    return false;
  }
  return true;
}

std::pair<Value, Value> KernelizedFuser::favorParts(Value x) {
  SmallVector<OpFoldResult> s = getSizes(b, loc, x);
  Value proj = contract(b, loc, x, wT,
                        filled2d(b, loc, s[0], b.getIndexAttr(dimM), 0.0));
  Value sq = g.generic(
      ValueRange{x}, filledTensor(b, loc, {s[0]}, b.getF32Type(), 0.0),
      {g.dims(2, {0, 1}), g.dims(2, {0})}, g.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value sq = arith::MulFOp::create(nb, nl, a[0], a[0]);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], sq));
      });
  return {proj, sq};
}

Value KernelizedFuser::exponent(OpBuilder &nb, Location nl, Value proj,
                                Value sq) {
  double c = std::pow(double(dimD), -0.25);
  Value scaled = arith::MulFOp::create(nb, nl, proj, cF32(nb, nl, c));
  Value half = arith::MulFOp::create(nb, nl, sq, cF32(nb, nl, c * c * 0.5));
  return arith::SubFOp::create(nb, nl, scaled, half);
}

/// `|x| < inf`.
static Value isFinite(OpBuilder &nb, Location nl, Value x) {
  Value inf = arith::ConstantOp::create(
      nb, nl, nb.getF32FloatAttr(std::numeric_limits<float>::infinity()));
  return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT,
                               math::AbsFOp::create(nb, nl, x), inf);
}

Value KernelizedFuser::queryFeatures(Value x) {
  x = attn::detail::toF32(b, loc, x);
  if (!favor)
    return elementwise(x);
  return favorFeatures(x, Value()).first;
}

std::pair<Value, Value> KernelizedFuser::keyFeatures(Value x, Value runMax) {
  x = attn::detail::toF32(b, loc, x);
  if (!favor)
    return {elementwise(x), runMax};
  return favorFeatures(x, runMax);
}

std::pair<Value, Value> KernelizedFuser::favorFeatures(Value x, Value runMax) {
  bool keys = static_cast<bool>(runMax);
  auto [proj, sq] = favorParts(x);
  SmallVector<OpFoldResult> s = getSizes(b, loc, proj);
  double negInf = -std::numeric_limits<double>::infinity();
  AffineMap tile = g.dims(2, {0, 1}), row = g.dims(2, {0});
  // Queries: c_i = max_f a_if over the non-NaN a_if, then 0 when not finite
  // (a NaN in the row makes o_i NaN whatever the stabiliser, which cancels).
  // Keys: the largest finite exponent of each row, then of the chunk.
  Value rowMax = g.generic(
      ValueRange{proj, sq},
      filledTensor(b, loc, {s[0]}, b.getF32Type(), negInf), {tile, row, row},
      g.iterators(2, {1}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value e = exponent(nb, nl, a[0], a[1]);
        if (keys)
          e = arith::SelectOp::create(nb, nl, isFinite(nb, nl, e), e,
                                      cF32(nb, nl, negInf));
        yieldOne(nb, nl, selectMax(nb, nl, a[2], e));
      });
  SmallVector<Value> inputs = {proj, sq};
  SmallVector<AffineMap> maps = {tile, row};
  Value newMax, shift;
  if (keys) {
    Value chunkMax = g.generic(
        ValueRange{rowMax}, filledTensor(b, loc, {}, b.getF32Type(), negInf),
        {g.dims(1, {0}), AffineMap::get(1, 0, {}, b.getContext())},
        g.iterators(1, {0}), [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, arith::MaximumFOp::create(nb, nl, a[1], a[0]));
        });
    newMax = arith::MaximumFOp::create(
        b, loc, runMax,
        tensor::ExtractOp::create(b, loc, chunkMax, ValueRange{}));
    shift = softmaxShift(b, loc, newMax);
  } else {
    inputs.push_back(rowMax);
    maps.push_back(row);
  }
  maps.push_back(tile);
  double invSqrtM = 1.0 / std::sqrt(double(dimM));
  Value phi = g.generic(
      inputs, emptyTensor(b, loc, s, b.getF32Type()), maps,
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value rowShift = shift;
        if (!keys)
          rowShift = arith::SelectOp::create(nb, nl, isFinite(nb, nl, a[2]),
                                             a[2], cF32(nb, nl, 0.0));
        Value e =
            expViaExp2(nb, nl,
                       arith::SubFOp::create(
                           nb, nl, exponent(nb, nl, a[0], a[1]), rowShift));
        yieldOne(nb, nl,
                 arith::MulFOp::create(nb, nl, e, cF32(nb, nl, invSqrtM)));
      });
  return {phi, newMax};
}

Value KernelizedFuser::elementwise(Value x) {
  AffineMap id = b.getMultiDimIdentityMap(2);
  return g.generic(
      ValueRange{x}, emptyTensor(b, loc, getSizes(b, loc, x), b.getF32Type()),
      {id, id}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value zero = cF32(nb, nl, 0.0);
        if (fm == FeatureMap::Relu) {
          // max(x, 0) with NaN passed through, as compare and select
          // (arith.maximumf on vectors is expanded lane by lane).
          Value keep = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UGT,
                                             a[0], zero);
          yieldOne(nb, nl, arith::SelectOp::create(nb, nl, keep, a[0], zero));
          return;
        }
        Value pos = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                          a[0], zero);
        Value plusOne = arith::AddFOp::create(nb, nl, a[0], cF32(nb, nl, 1.0));
        Value below = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ULT,
                                            a[0], zero);
        Value e = expViaExp2(
            nb, nl, arith::SelectOp::create(nb, nl, below, a[0], zero));
        yieldOne(nb, nl, arith::SelectOp::create(nb, nl, pos, plusOne, e));
      });
}

Value KernelizedFuser::augmentedValues(Value vc, Value rows) {
  OpFoldResult zero = b.getIndexAttr(0);
  Value aug = filled2d(b, loc, rows, b.getIndexAttr(dimDv + 1), 1.0);
  Value left = slice2d(b, loc, aug, zero, rows, zero, b.getIndexAttr(dimDv));
  // A linalg.copy: an identity generic would fold into the insert_slice,
  // which bufferizes to a strided memref.copy (a call into the runtime).
  Value copied =
      linalg::CopyOp::create(b, loc, attn::detail::toF32(b, loc, vc), left)
          .getResult(0);
  return insert2d(b, loc, copied, aug, zero, zero);
}

Value KernelizedFuser::rescale(Value state, Value alpha) {
  AffineMap id = b.getMultiDimIdentityMap(2);
  return g.generic(ValueRange{}, state, {id}, parallelIterators(2),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     yieldOne(nb, nl,
                              arith::MulFOp::create(nb, nl, a[0], alpha));
                   });
}

Value KernelizedFuser::normalize(Value numDen, Value rows, Value dest) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  Value num = slice2d(b, loc, numDen, zero, rows, zero, b.getIndexAttr(dimDv));
  auto denType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  Value den = tensor::ExtractSliceOp::create(
      b, loc, denType, numDen,
      ArrayRef<OpFoldResult>{zero, b.getIndexAttr(dimDv)},
      ArrayRef<OpFoldResult>{rows, one}, ArrayRef<OpFoldResult>{one, one});
  Type outElt = cast<RankedTensorType>(dest.getType()).getElementType();
  return g.generic(ValueRange{num, den}, dest,
                   {g.dims(2, {0, 1}), g.dims(2, {0}), g.dims(2, {0, 1})},
                   parallelIterators(2),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value o = divideOrZero(nb, nl, a[0], a[1]);
                     yieldOne(nb, nl, convertFloat(nb, nl, o, outElt));
                   });
}

Value KernelizedFuser::build() {
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  Value init = op.getInit();
  bool causal = op.getCausal();
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q);
  SmallVector<OpFoldResult> ks = getSizes(b, loc, k);
  assertQueryKeyValueSizes(b, loc, "attn.kernelized", q, k, v, init);
  if (causal)
    assertEqualSizes(b, loc, qs[2], ks[2],
                     "attn.kernelized: causal needs Nq == Nk");
  Value sizeH = toIndexValue(b, loc, qs[1]);
  Value sizeHkv = toIndexValue(b, loc, ks[1]);
  Value sizeNq = toIndexValue(b, loc, qs[2]);
  Value sizeNk = toIndexValue(b, loc, ks[2]);
  // Query heads per KV head; Hkv > 0 divides H (asserted above). max(., 1)
  // keeps the division defined when H = 0 (no iteration runs).
  Value group = arith::MaxUIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, sizeH, sizeHkv),
      cIndex(b, loc, 1));
  double negInf = -std::numeric_limits<double>::infinity();
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult stateCols = b.getIndexAttr(dimDv + 1);

  // The intra-chunk liveness j <= i (causal), once.
  Value live;
  if (causal) {
    Value empty = emptyTensor(
        b, loc, {b.getIndexAttr(chunk), b.getIndexAttr(chunk)}, b.getI1Type());
    AffineMap id = b.getMultiDimIdentityMap(2);
    live = g.generic(ValueRange{}, empty, {id}, parallelIterators(2),
                     [&](OpBuilder &nb, Location nl, ValueRange) {
                       Value i = linalg::IndexOp::create(nb, nl, 0);
                       Value j = linalg::IndexOp::create(nb, nl, 1);
                       yieldOne(nb, nl,
                                arith::CmpIOp::create(
                                    nb, nl, arith::CmpIPredicate::ule, j, i));
                     });
  }

  // W^T [Hw, D, m] in f32, once for every head.
  Value wTAll;
  if (favor) {
    Value w = op.getProjection();
    int64_t wHeads = cast<RankedTensorType>(w.getType()).getDimSize(0);
    wTAll = g.generic(
        ValueRange{w},
        emptyTensor(b, loc,
                    {b.getIndexAttr(wHeads), b.getIndexAttr(dimD),
                     b.getIndexAttr(dimM)},
                    b.getF32Type()),
        {g.dims(3, {0, 2, 1}), g.dims(3, {0, 1, 2})}, parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, convertFloat(nb, nl, a[0], nb.getF32Type()));
        });
  }
  // Selects W[h or 0]^T [D, m] for query head `hi`.
  auto selectHead = [&](Value hi) {
    if (!favor)
      return;
    int64_t wHeads = cast<RankedTensorType>(wTAll.getType()).getDimSize(0);
    Value wHead = wHeads == 1 ? cIndex(b, loc, 0) : hi;
    wT = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({dimD, dimM}, b.getF32Type()), wTAll,
        ArrayRef<OpFoldResult>{wHead, zero, zero},
        ArrayRef<OpFoldResult>{one, b.getIndexAttr(dimD), b.getIndexAttr(dimM)},
        ArrayRef<OpFoldResult>{one, one, one});
  };
  Value step = cIndex(b, loc, chunk), c0 = cIndex(b, loc, 0);
  Value max0 = cF32(b, loc, negInf);
  // Rescales the state from the shift of `oldMax` to that of `newMax`.
  auto rescaled = [&](Value state, Value oldMax, Value newMax) -> Value {
    if (!favor)
      return state;
    Value alpha = math::ExpOp::create(
        b, loc,
        arith::SubFOp::create(b, loc, softmaxShift(b, loc, oldMax),
                              softmaxShift(b, loc, newMax)));
    return rescale(state, alpha);
  };
  auto kvHeadOf = [&](Value hi) {
    return arith::DivUIOp::create(b, loc, hi, group).getResult();
  };
  auto stateType = RankedTensorType::get({dimM, dimDv + 1}, b.getF32Type());
  SmallVector<OpFoldResult> stateSizes = {one, one, b.getIndexAttr(dimM),
                                          stateCols};
  SmallVector<OpFoldResult> unitStrides(4, one);

  if (!causal) {
    // The states S [B, H, m, Dv + 1], one forall iteration per (b, h).
    Value states0 =
        emptyTensor(b, loc, {qs[0], qs[1], b.getIndexAttr(dimM), stateCols},
                    b.getF32Type());
    auto keyPass =
        scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1]},
                              ValueRange{states0}, std::nullopt);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(keyPass.getBody());
      Value bi = keyPass.getInductionVars()[0];
      Value hi = keyPass.getInductionVars()[1];
      Value kvh = kvHeadOf(hi);
      selectHead(hi);
      Value state0 = filled2d(b, loc, b.getIndexAttr(dimM), stateCols, 0.0);
      auto keyLoop = buildFor(
          b, loc, c0, sizeNk, step, ValueRange{state0, max0},
          [&](Value t0, ValueRange iter) -> SmallVector<Value> {
            Value rows = chunkRows(b, loc, t0, sizeNk, chunk);
            Value kc = rows4d(b, loc, k, bi, kvh, t0, rows);
            Value vc = rows4d(b, loc, v, bi, kvh, t0, rows);
            auto [phiK, newMax] = keyFeatures(kc, iter[1]);
            Value state = rescaled(iter[0], iter[1], newMax);
            state = contract(b, loc, phiK, augmentedValues(vc, rows), state,
                             /*transposeA=*/true);
            return {state, newMax};
          });
      b.setInsertionPointToStart(keyPass.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(
          b, loc, keyLoop.getResult(0), keyPass.getRegionIterArgs()[0],
          ArrayRef<OpFoldResult>{bi, hi, zero, zero}, stateSizes, unitStrides);
    }
    Value states = keyPass.getResult(0);

    // The queries, one forall iteration per (b, h, chunk).
    Value numChunks = arith::CeilDivUIOp::create(b, loc, sizeNq, step);
    auto queryPass = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1], numChunks},
        ValueRange{init}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(queryPass.getBody());
    Value bi = queryPass.getInductionVars()[0];
    Value hi = queryPass.getInductionVars()[1];
    Value t0 =
        arith::MulIOp::create(b, loc, queryPass.getInductionVars()[2], step);
    selectHead(hi);
    Value rows = chunkRows(b, loc, t0, sizeNq, chunk);
    Value state = tensor::ExtractSliceOp::create(
        b, loc, stateType, states, ArrayRef<OpFoldResult>{bi, hi, zero, zero},
        stateSizes, unitStrides);
    Value phiQ = queryFeatures(rows4d(b, loc, q, bi, hi, t0, rows));
    Value numDen =
        contract(b, loc, phiQ, state, filled2d(b, loc, rows, stateCols, 0.0));
    auto outType = cast<RankedTensorType>(init.getType());
    Value o = normalize(numDen, rows,
                        emptyTensor(b, loc, {rows, b.getIndexAttr(dimDv)},
                                    outType.getElementType()));
    b.setInsertionPointToStart(queryPass.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        b, loc, o, queryPass.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{bi, hi, t0, zero},
        ArrayRef<OpFoldResult>{one, one, rows, b.getIndexAttr(dimDv)},
        unitStrides);
    return queryPass.getResult(0);
  }

  // Causal: one scan per (b, h).
  auto forall =
      scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1]},
                            ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0], hi = forall.getInductionVars()[1];
  Value kvh = kvHeadOf(hi);
  selectHead(hi);
  Value shared = forall.getRegionIterArgs()[0];
  auto outType = cast<RankedTensorType>(init.getType());
  Value out = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({outType.getDimSize(2), dimDv},
                            outType.getElementType()),
      shared, ArrayRef<OpFoldResult>{bi, hi, zero, zero},
      ArrayRef<OpFoldResult>{one, one, qs[2], b.getIndexAttr(dimDv)},
      unitStrides);
  Value state0 = filled2d(b, loc, b.getIndexAttr(dimM), stateCols, 0.0);
  auto scan = buildFor(
      b, loc, c0, sizeNq, step, ValueRange{state0, max0, out},
      [&](Value t0, ValueRange iter) -> SmallVector<Value> {
        Value rows = chunkRows(b, loc, t0, sizeNq, chunk);
        Value kc = rows4d(b, loc, k, bi, kvh, t0, rows);
        Value vAug =
            augmentedValues(rows4d(b, loc, v, bi, kvh, t0, rows), rows);
        auto [phiK, newMax] = keyFeatures(kc, iter[1]);
        Value state = rescaled(iter[0], iter[1], newMax);
        Value phiQ = queryFeatures(rows4d(b, loc, q, bi, hi, t0, rows));
        // The earlier chunks through the state, then this chunk's pairs
        // j <= i.
        Value numDen = contract(b, loc, phiQ, state,
                                filled2d(b, loc, rows, stateCols, 0.0));
        Value scores =
            contract(b, loc, phiQ, phiK, filled2d(b, loc, rows, rows, 0.0),
                     /*transposeA=*/false, /*transposeB=*/true);
        Value liveTile = slice2d(b, loc, live, zero, rows, zero, rows);
        numDen = contract(b, loc, scores, vAug, numDen, false, false, liveTile);
        Value dest = slice2d(b, loc, iter[2], t0, rows);
        Value o = normalize(numDen, rows, dest);
        Value newOut = insert2d(b, loc, o, iter[2], t0);
        state = contract(b, loc, phiK, vAug, state, /*transposeA=*/true);
        return {state, newMax, newOut};
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, scan.getResult(2), shared,
      ArrayRef<OpFoldResult>{bi, hi, zero, zero},
      ArrayRef<OpFoldResult>{one, one, qs[2], b.getIndexAttr(dimDv)},
      unitStrides);
  return forall.getResult(0);
}

FailureOr<Value> fuse::fuseKernelized(OpBuilder &b, KernelizedOp op,
                                      int64_t chunk) {
  KernelizedFuser fuser(b, op, chunk);
  if (!fuser.accepts())
    return failure();
  return fuser.build();
}
