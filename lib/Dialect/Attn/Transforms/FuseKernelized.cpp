//===- FuseKernelized.cpp - fused form of attn.kernelized -----------------===//
//
// attn.kernelized (docs/Semantics.md §7) without the feature maps of the whole
// sequence: per (batch b, query head h), an scf.forall iteration, with W the
// head's projection and chunks of T rows (all f32):
//
//   non-causal   for each key chunk Kc, Vc:
//                  phi(Kc) [T, m] under the running key stabiliser c;
//                  S = alpha S + phi(Kc)^T Vc   (m x Dv)
//                  z = alpha z + 1^T phi(Kc)    (1 x m)
//                for each query chunk Qc:
//                  num = phi(Qc) S;  den = phi(Qc) z^T;
//                  o = den == 0 ? 0 : num / den
//   causal       for each chunk (queries and keys of the same rows):
//                  phi(Kc) under the running c; S, z rescaled;
//                  num = phi(Qc) S + live(phi(Qc) phi(Kc)^T) Vc
//                  den = phi(Qc) z^T + rowsum(live(phi(Qc) phi(Kc)^T))
//                    (live: j <= i within the chunk, a select);
//                  o = den == 0 ? 0 : num / den;  S += phi(Kc)^T Vc;
//                  z += 1^T phi(Kc)
//
// FAVOR+'s key stabiliser is the running maximum c of the finite exponents
// seen so far (0 while there is none); when it changes, S and z are rescaled
// by alpha = exp(c_old - c_new). It is a per-(b, h) key constant for every
// query that reads S, so it cancels in num / den (docs/Semantics.md §7 allows
// it); the query stabiliser is per row, as in the reference decomposition.
// phi's factor 1 / sqrt(m) cancels the same way and is left out. Exponents
// are kept in units of log2: W is scaled by D^(-1/4) log2(e) once, and the
// exps are exp2, which attn-prepare-tile-loops approximates by a polynomial
// that vectorizes.
//
// The contractions are cut into blocks of 64 columns (the projection) or 64
// rows of the state (phi(Q) S), so that each one's right operand (64 x 64
// f32, 16 KiB) stays in the L1 cache while attn-cpu-microkernels runs its
// register blocks (whole blocks of 4 vectors of 16 lanes) over the chunk's
// rows; the denominators are contractions of their own rather than an extra
// column of S (an extra column costs the micro-kernel a fifth vector of one
// lane).
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
struct KernelizedParts;

/// Columns (or contraction rows) of one block of the blocked contractions.
constexpr int64_t kBlock = 64;

class KernelizedFuser {
public:
  KernelizedFuser(OpBuilder &b, KernelizedOp op, int64_t chunk)
      : b(b), loc(op.getLoc()), op(op), chunk(chunk), g{b, op.getLoc()} {}

  /// Checks that the op is one the fused form takes.
  bool accepts();
  Value build();

private:
  /// The non-causal form: a key pass into the states, then a query pass.
  Value buildNonCausal(KernelizedParts &parts);
  /// The causal form: one chunked scan per (b, h).
  Value buildCausal(KernelizedParts &parts);

  /// `C += A B` in blocks of kBlock columns of B and C (`splitColumns`) or
  /// kBlock columns of A and rows of B.
  Value blockedContract(Value a, Value bm, Value c, bool splitColumns);
  /// FAVOR+: the exponents of `x` [t, D] in units of log2, [t, m]:
  /// x W'^T - log2(e) D^(-1/2) ||x||^2 / 2.
  Value favorExponents(Value x);
  /// phi of query rows `x` [t, D]: [t, m].
  Value queryFeatures(Value x);
  /// phi of key rows `x` [t, D] under the running maximum `runMax` (f32,
  /// -inf before any finite exponent); returns (phi, new running maximum).
  std::pair<Value, Value> keyFeatures(Value x, Value runMax);
  /// FAVOR+ phi = exp2(a - shift) [t, m] of f32 rows `x` over their
  /// exponents a (log2 units): per row for queries (`runMax` null), under the
  /// running maximum grown by this chunk for keys; returns (phi, new maximum
  /// or null).
  std::pair<Value, Value> favorFeatures(Value x, Value runMax);
  /// phi(x) elementwise (elu_plus_one, relu).
  Value elementwise(Value x);
  /// (S, z) scaled by exp2(shift(oldMax) - shift(newMax)) where the two
  /// shifts differ (FAVOR+), else as they are.
  std::pair<Value, Value> rescaled(Value state, Value z, Value oldMax,
                                   Value newMax);
  /// S += phi(K)^T Vc and z += 1^T phi(K) for a key chunk of `rows` rows.
  std::pair<Value, Value> accumulate(Value phiK, Value vc, Value rows,
                                     Value state, Value z);
  /// `den += phiQ z^T` [t] (z a 1-D [m] tensor).
  Value denominators(Value phiQ, Value z, Value den);
  /// A new tensor of `init`'s shape for the result. Every element is
  /// written and init is never read, so the foralls write a new tensor:
  /// bufferization then returns the buffer it allocates, where writing into
  /// init (a function argument) would have the deallocation pipeline copy the
  /// whole result once more before returning.
  Value newResult(Value init) {
    return tensor::EmptyOp::create(
        b, loc, getSizes(b, loc, init),
        cast<RankedTensorType>(init.getType()).getElementType());
  }
  /// o rows of the chunk, num / den (0 where den is 0), into `dest` [t, Dv].
  Value normalize(Value num, Value den, Value dest);

  OpBuilder &b;
  Location loc;
  KernelizedOp op;
  int64_t chunk;
  GenericBuilder g;
  FeatureMap fm;
  bool favor = false;
  int64_t dimD = 0, dimDv = 0, dimM = 0;
  /// W'[h]^T [D, m] (f32, scaled by D^(-1/4) log2(e)) of the current head,
  /// with favor_plus.
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

Value KernelizedFuser::blockedContract(Value a, Value bm, Value c,
                                       bool splitColumns) {
  SmallVector<OpFoldResult> as = getSizes(b, loc, a), bs = getSizes(b, loc, bm),
                            cs = getSizes(b, loc, c);
  OpFoldResult zero = b.getIndexAttr(0);
  // C's block at `offset` of `width` columns (or A's columns and B's rows).
  auto block = [&](Value acc, OpFoldResult offset, int64_t width) -> Value {
    OpFoldResult w = b.getIndexAttr(width);
    if (!splitColumns)
      return contract(b, loc, slice2d(b, loc, a, zero, as[0], offset, w),
                      slice2d(b, loc, bm, offset, w), acc);
    Value part =
        contract(b, loc, a, slice2d(b, loc, bm, zero, bs[0], offset, w),
                 slice2d(b, loc, acc, zero, cs[0], offset, w));
    return insert2d(b, loc, part, acc, zero, offset);
  };
  int64_t size = *getConstantIntValue(splitColumns ? bs[1] : bs[0]);
  int64_t whole = size / kBlock * kBlock;
  // The whole blocks in a loop (one micro-kernel in the code, not one per
  // block), then the rest.
  if (whole > kBlock)
    c = buildFor(b, loc, cIndex(b, loc, 0), cIndex(b, loc, whole),
                 cIndex(b, loc, kBlock), ValueRange{c},
                 [&](Value offset, ValueRange acc) -> SmallVector<Value> {
                   return {block(acc[0], offset, kBlock)};
                 })
            .getResult(0);
  else if (whole == kBlock)
    c = block(c, zero, kBlock);
  if (size > whole)
    c = block(c, b.getIndexAttr(whole), size - whole);
  return c;
}

Value KernelizedFuser::favorExponents(Value x) {
  SmallVector<OpFoldResult> s = getSizes(b, loc, x);
  double half = 0.5 * M_LOG2E / std::sqrt(double(dimD));
  Value sq = g.generic(
      ValueRange{x}, filledTensor(b, loc, {s[0]}, b.getF32Type(), 0.0),
      {g.dims(2, {0, 1}), g.dims(2, {0})}, g.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value sq = arith::MulFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, a[0], cF32(nb, nl, half)),
            a[0]);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], sq));
      });
  // The contraction starts from -sq (each row's constant) instead of 0.
  Value start = g.generic(
      ValueRange{sq},
      emptyTensor(b, loc, {s[0], b.getIndexAttr(dimM)}, b.getF32Type()),
      {g.dims(2, {0}), g.dims(2, {0, 1})}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, arith::NegFOp::create(nb, nl, a[0]));
      });
  return blockedContract(x, wT, start, /*splitColumns=*/true);
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
  Value expo = favorExponents(x);
  SmallVector<OpFoldResult> s = getSizes(b, loc, expo);
  double negInf = -std::numeric_limits<double>::infinity();
  AffineMap tile = g.dims(2, {0, 1}), row = g.dims(2, {0});
  // Queries: c_i = max_f a_if over the non-NaN a_if, then 0 when not finite
  // (a NaN in the row makes o_i NaN whatever the stabiliser, which cancels).
  // Keys: the largest finite exponent of each row, then of the chunk.
  Value rowMax = g.generic(
      ValueRange{expo}, filledTensor(b, loc, {s[0]}, b.getF32Type(), negInf),
      {tile, row}, g.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value e = a[0];
        if (keys)
          e = arith::SelectOp::create(nb, nl, isFinite(nb, nl, e), e,
                                      cF32(nb, nl, negInf));
        yieldOne(nb, nl, selectMax(nb, nl, a[1], e));
      });
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
    // The row shifts, once per row.
    AffineMap id1 = g.dims(1, {0});
    shift = g.generic(ValueRange{rowMax},
                      emptyTensor(b, loc, {s[0]}, b.getF32Type()), {id1, id1},
                      parallelIterators(1),
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        yieldOne(nb, nl,
                                 arith::SelectOp::create(
                                     nb, nl, isFinite(nb, nl, a[0]), a[0],
                                     cF32(nb, nl, 0.0)));
                      });
  }
  SmallVector<Value> inputs = {expo};
  SmallVector<AffineMap> maps = {tile};
  if (!keys) {
    inputs.push_back(shift);
    maps.push_back(row);
  }
  maps.push_back(tile);
  // In place of the exponents.
  Value phi = g.generic(
      inputs, expo, maps, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value e = arith::SubFOp::create(nb, nl, a[0], keys ? shift : a[1]);
        yieldOne(nb, nl, math::Exp2Op::create(nb, nl, e));
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

std::pair<Value, Value> KernelizedFuser::rescaled(Value state, Value z,
                                                  Value oldMax, Value newMax) {
  if (!favor)
    return {state, z};
  Value oldShift = softmaxShift(b, loc, oldMax);
  Value newShift = softmaxShift(b, loc, newMax);
  Value changed = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE,
                                        oldShift, newShift);
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{state.getType(), z.getType()},
                                changed, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  Value alpha = math::Exp2Op::create(
      b, loc, arith::SubFOp::create(b, loc, oldShift, newShift));
  AffineMap id = b.getMultiDimIdentityMap(2);
  SmallVector<Value> scaled;
  for (Value t : {state, z})
    scaled.push_back(
        g.generic(ValueRange{}, t, {id}, parallelIterators(2),
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    yieldOne(nb, nl, arith::MulFOp::create(nb, nl, a[0], alpha));
                  }));
  scf::YieldOp::create(b, loc, scaled);
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, loc, ValueRange{state, z});
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

std::pair<Value, Value> KernelizedFuser::accumulate(Value phiK, Value vc,
                                                    Value rows, Value state,
                                                    Value z) {
  state = contract(b, loc, phiK, attn::detail::toF32(b, loc, vc), state,
                   /*transposeA=*/true);
  Value ones = filled2d(b, loc, b.getIndexAttr(1), rows, 1.0);
  z = contract(b, loc, ones, phiK, z);
  return {state, z};
}

Value KernelizedFuser::denominators(Value phiQ, Value z, Value den) {
  return g.generic(ValueRange{phiQ, z}, den,
                   {g.dims(2, {0, 1}), g.dims(2, {1}), g.dims(2, {0})},
                   g.iterators(2, {1}),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value prod = arith::MulFOp::create(nb, nl, a[0], a[1]);
                     yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], prod));
                   });
}

Value KernelizedFuser::normalize(Value num, Value den, Value dest) {
  // One division per row, then multiplications.
  AffineMap id1 = g.dims(1, {0});
  Value inverse = g.generic(
      ValueRange{den}, emptyTensor(b, loc, getSizes(b, loc, den), b.getF32Type()),
      {id1, id1}, parallelIterators(1),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl,
                 arith::DivFOp::create(nb, nl, cF32(nb, nl, 1.0), a[0]));
      });
  Type outElt = cast<RankedTensorType>(dest.getType()).getElementType();
  AffineMap row = g.dims(2, {0});
  return g.generic(
      ValueRange{num, den, inverse}, dest,
      {g.dims(2, {0, 1}), row, row, g.dims(2, {0, 1})}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value zero = cF32(nb, nl, 0.0);
        Value isZero = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OEQ, a[1], zero);
        Value o = arith::SelectOp::create(
            nb, nl, isZero, zero, arith::MulFOp::create(nb, nl, a[0], a[2]));
        yieldOne(nb, nl, convertFloat(nb, nl, o, outElt));
      });
}

namespace {
/// What the non-causal and causal forms share: the per-head projection, the
/// KV head of a query head, the state types.
struct KernelizedParts {
  KernelizedParts(OpBuilder &b, Location loc, KernelizedOp op, bool favor,
                  int64_t dimD, int64_t dimM, int64_t dimDv, int64_t chunk)
      : b(b), loc(loc), dimD(dimD), dimM(dimM), q(op.getQuery()),
        k(op.getKey()), v(op.getValue()), init(op.getInit()),
        zero(b.getIndexAttr(0)), one(b.getIndexAttr(1)) {
    qs = getSizes(b, loc, q);
    step = cIndex(b, loc, chunk);
    c0 = cIndex(b, loc, 0);
    SmallVector<OpFoldResult> ks = getSizes(b, loc, k);
    sizeNq = toIndexValue(b, loc, qs[2]);
    sizeNk = toIndexValue(b, loc, ks[2]);
    // Query heads per KV head; Hkv > 0 divides H (asserted). max(., 1)
    // keeps the division defined when H = 0 (no iteration runs).
    group = arith::MaxUIOp::create(
        b, loc,
        arith::DivUIOp::create(b, loc, toIndexValue(b, loc, qs[1]),
                               toIndexValue(b, loc, ks[1])),
        cIndex(b, loc, 1));
    stateType = RankedTensorType::get({dimM, dimDv}, b.getF32Type());
    zType = RankedTensorType::get({1, dimM}, b.getF32Type());
    if (!favor)
      return;
    // W'^T [Hw, D, m] = D^(-1/4) log2(e) W^T in f32, once for every head.
    GenericBuilder g{b, loc};
    Value w = op.getProjection();
    wHeads = cast<RankedTensorType>(w.getType()).getDimSize(0);
    double scale = M_LOG2E / std::pow(double(dimD), 0.25);
    wTAll = g.generic(
        ValueRange{w},
        emptyTensor(b, loc,
                    {b.getIndexAttr(wHeads), b.getIndexAttr(dimD),
                     b.getIndexAttr(dimM)},
                    b.getF32Type()),
        {g.dims(3, {0, 2, 1}), g.dims(3, {0, 1, 2})}, parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value x = convertFloat(nb, nl, a[0], nb.getF32Type());
          yieldOne(nb, nl, arith::MulFOp::create(nb, nl, x, cF32(nb, nl, scale)));
        });
  }

  /// W'[h or 0]^T [D, m] for query head `hi` (null without a projection).
  Value headProjection(Value hi) {
    if (!wTAll)
      return Value();
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    Value wHead = wHeads == 1 ? cIndex(b, loc, 0) : hi;
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({dimD, dimM}, b.getF32Type()), wTAll,
        ArrayRef<OpFoldResult>{wHead, zero, zero},
        ArrayRef<OpFoldResult>{one, b.getIndexAttr(dimD),
                               b.getIndexAttr(dimM)},
        ArrayRef<OpFoldResult>{one, one, one});
  }
  Value kvHeadOf(Value hi) {
    return arith::DivUIOp::create(b, loc, hi, group).getResult();
  }
  /// `t[bi, hi]` of a rank-4 tensor as the 2-D `type`, or `t[bi, hi, 0]` as
  /// 1-D.
  Value slice(Value t, Value bi, Value hi, RankedTensorType type) {
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
    return tensor::ExtractSliceOp::create(
        b, loc, type, t, ArrayRef<OpFoldResult>{bi, hi, zero, zero},
        ArrayRef<OpFoldResult>{one, one, sizes[2], sizes[3]},
        ArrayRef<OpFoldResult>{one, one, one, one});
  }

  OpBuilder &b;
  Location loc;
  int64_t dimD, dimM;
  int64_t wHeads = 0;
  Value q, k, v, init;
  SmallVector<OpFoldResult> qs;
  OpFoldResult zero, one;
  Value step, c0;
  Value wTAll, sizeNq, sizeNk, group;
  RankedTensorType stateType, zType;
};
} // namespace

Value KernelizedFuser::build() {
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  assertQueryKeyValueSizes(b, loc, "attn.kernelized", q, k, v, op.getInit());
  if (op.getCausal())
    assertEqualSizes(b, loc, getSizes(b, loc, q)[2], getSizes(b, loc, k)[2],
                     "attn.kernelized: causal needs Nq == Nk");
  KernelizedParts parts(b, loc, op, favor, dimD, dimM, dimDv, chunk);
  return op.getCausal() ? buildCausal(parts) : buildNonCausal(parts);
}

Value KernelizedFuser::buildNonCausal(KernelizedParts &parts) {
  Value q = parts.q, k = parts.k, v = parts.v, init = parts.init;
  ArrayRef<OpFoldResult> qs = parts.qs;
  OpFoldResult zero = parts.zero, one = parts.one;
  Value step = parts.step, c0 = parts.c0;
  SmallVector<OpFoldResult> unitStrides(4, one);

  // The states S [B, H, m, Dv] and z [B, H, 1, m], one forall iteration per
  // (b, h).
  Value states0 = emptyTensor(
      b, loc, {qs[0], qs[1], b.getIndexAttr(dimM), b.getIndexAttr(dimDv)},
      b.getF32Type());
  Value zs0 = emptyTensor(
      b, loc, {qs[0], qs[1], one, b.getIndexAttr(dimM)}, b.getF32Type());
  auto keyPass =
      scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1]},
                            ValueRange{states0, zs0}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(keyPass.getBody());
    Value bi = keyPass.getInductionVars()[0];
    Value hi = keyPass.getInductionVars()[1];
    Value kvh = parts.kvHeadOf(hi);
    wT = parts.headProjection(hi);
    Value state0 =
        filled2d(b, loc, b.getIndexAttr(dimM), b.getIndexAttr(dimDv), 0.0);
    Value z0 = filled2d(b, loc, one, b.getIndexAttr(dimM), 0.0);
    Value max0 = cF32(b, loc, -std::numeric_limits<double>::infinity());
    auto keyLoop = buildFor(
        b, loc, c0, parts.sizeNk, step, ValueRange{state0, z0, max0},
        [&](Value t0, ValueRange iter) -> SmallVector<Value> {
          Value rows = chunkRows(b, loc, t0, parts.sizeNk, chunk);
          Value kc = rows4d(b, loc, k, bi, kvh, t0, rows);
          Value vc = rows4d(b, loc, v, bi, kvh, t0, rows);
          auto [phiK, newMax] = keyFeatures(kc, iter[2]);
          auto [state, z] = rescaled(iter[0], iter[1], iter[2], newMax);
          std::tie(state, z) = accumulate(phiK, vc, rows, state, z);
          return {state, z, newMax};
        });
    b.setInsertionPointToStart(keyPass.getTerminator().getBody());
    for (unsigned i = 0; i < 2; ++i) {
      auto type = cast<RankedTensorType>(keyLoop.getResult(i).getType());
      tensor::ParallelInsertSliceOp::create(
          b, loc, keyLoop.getResult(i), keyPass.getRegionIterArgs()[i],
          ArrayRef<OpFoldResult>{bi, hi, zero, zero},
          ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(type.getDimSize(0)),
                                 b.getIndexAttr(type.getDimSize(1))},
          unitStrides);
    }
  }
  Value states = keyPass.getResult(0), zs = keyPass.getResult(1);

  // The queries, one forall iteration per (b, h, chunk).
  Value numChunks = arith::CeilDivUIOp::create(b, loc, parts.sizeNq, step);
  auto queryPass = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1], numChunks},
      ValueRange{newResult(init)}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(queryPass.getBody());
  Value bi = queryPass.getInductionVars()[0];
  Value hi = queryPass.getInductionVars()[1];
  Value t0 =
      arith::MulIOp::create(b, loc, queryPass.getInductionVars()[2], step);
  wT = parts.headProjection(hi);
  Value rows = chunkRows(b, loc, t0, parts.sizeNq, chunk);
  Value state = parts.slice(states, bi, hi, parts.stateType);
  Value z = parts.slice(
      zs, bi, hi, RankedTensorType::get({dimM}, b.getF32Type()));
  Value phiQ = queryFeatures(rows4d(b, loc, q, bi, hi, t0, rows));
  Value num = blockedContract(
      phiQ, state, filled2d(b, loc, rows, b.getIndexAttr(dimDv), 0.0),
      /*splitColumns=*/false);
  Value den = denominators(
      phiQ, z, filledTensor(b, loc, {rows}, b.getF32Type(), 0.0));
  // The output rows, written in place.
  Value outRows = queryPass.getRegionIterArgs()[0];
  Value o = normalize(num, den, rows4d(b, loc, outRows, bi, hi, t0, rows));
  b.setInsertionPointToStart(queryPass.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, o, outRows, ArrayRef<OpFoldResult>{bi, hi, t0, zero},
      ArrayRef<OpFoldResult>{one, one, rows, b.getIndexAttr(dimDv)},
      unitStrides);
  return queryPass.getResult(0);
}

Value KernelizedFuser::buildCausal(KernelizedParts &parts) {
  Value q = parts.q, k = parts.k, v = parts.v, init = parts.init;
  ArrayRef<OpFoldResult> qs = parts.qs;
  OpFoldResult zero = parts.zero, one = parts.one;
  Value step = parts.step, c0 = parts.c0;

  // The intra-chunk liveness j <= i, once.
  AffineMap id = b.getMultiDimIdentityMap(2);
  Value live = g.generic(
      ValueRange{},
      emptyTensor(b, loc, {b.getIndexAttr(chunk), b.getIndexAttr(chunk)},
                  b.getI1Type()),
      {id}, parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange) {
        Value i = linalg::IndexOp::create(nb, nl, 0);
        Value j = linalg::IndexOp::create(nb, nl, 1);
        yieldOne(nb, nl,
                 arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule, j, i));
      });

  auto forall =
      scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1]},
                            ValueRange{newResult(init)}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0], hi = forall.getInductionVars()[1];
  Value kvh = parts.kvHeadOf(hi);
  wT = parts.headProjection(hi);
  Value shared = forall.getRegionIterArgs()[0];
  auto outType = cast<RankedTensorType>(init.getType());
  Value out = parts.slice(shared, bi, hi,
                          RankedTensorType::get({outType.getDimSize(2), dimDv},
                                                outType.getElementType()));
  Value state0 =
      filled2d(b, loc, b.getIndexAttr(dimM), b.getIndexAttr(dimDv), 0.0);
  Value z0 = filled2d(b, loc, one, b.getIndexAttr(dimM), 0.0);
  Value max0 = cF32(b, loc, -std::numeric_limits<double>::infinity());
  auto scan = buildFor(
      b, loc, c0, parts.sizeNq, step, ValueRange{state0, z0, max0, out},
      [&](Value t0, ValueRange iter) -> SmallVector<Value> {
        Value rows = chunkRows(b, loc, t0, parts.sizeNq, chunk);
        Value kc = rows4d(b, loc, k, bi, kvh, t0, rows);
        Value vc = attn::detail::toF32(b, loc, rows4d(b, loc, v, bi, kvh, t0, rows));
        auto [phiK, newMax] = keyFeatures(kc, iter[2]);
        auto [state, z] = rescaled(iter[0], iter[1], iter[2], newMax);
        Value phiQ = queryFeatures(rows4d(b, loc, q, bi, hi, t0, rows));
        // The earlier chunks through the state, then this chunk's pairs
        // j <= i.
        Value num = blockedContract(
            phiQ, state, filled2d(b, loc, rows, b.getIndexAttr(dimDv), 0.0),
            /*splitColumns=*/false);
        Value zRow = tensor::CollapseShapeOp::create(
            b, loc, RankedTensorType::get({dimM}, b.getF32Type()), z,
            ArrayRef<ReassociationIndices>{{0, 1}});
        Value den = denominators(
            phiQ, zRow, filledTensor(b, loc, {rows}, b.getF32Type(), 0.0));
        Value scores =
            contract(b, loc, phiQ, phiK, filled2d(b, loc, rows, rows, 0.0),
                     /*transposeA=*/false, /*transposeB=*/true);
        Value liveTile = slice2d(b, loc, live, zero, rows, zero, rows);
        num = contract(b, loc, scores, vc, num, false, false, liveTile);
        den = g.generic(
            ValueRange{scores}, den, {id, g.dims(2, {0})}, g.iterators(2, {1}),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value i = linalg::IndexOp::create(nb, nl, 0);
              Value j = linalg::IndexOp::create(nb, nl, 1);
              Value isLive = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::ule, j, i);
              Value s = arith::SelectOp::create(nb, nl, isLive, a[0],
                                                cF32(nb, nl, 0.0));
              yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], s));
            });
        Value dest = slice2d(b, loc, iter[3], t0, rows);
        Value o = normalize(num, den, dest);
        Value newOut = insert2d(b, loc, o, iter[3], t0);
        std::tie(state, z) = accumulate(phiK, vc, rows, state, z);
        return {state, z, newMax, newOut};
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, scan.getResult(3), shared,
      ArrayRef<OpFoldResult>{bi, hi, zero, zero},
      ArrayRef<OpFoldResult>{one, one, qs[2], b.getIndexAttr(dimDv)},
      SmallVector<OpFoldResult>(4, one));
  return forall.getResult(0);
}

FailureOr<Value> fuse::fuseKernelized(OpBuilder &b, KernelizedOp op,
                                      int64_t chunk) {
  KernelizedFuser fuser(b, op, chunk);
  if (!fuser.accepts())
    return failure();
  return fuser.build();
}
