//===- DecomposeKernelized.cpp - decomposition of attn.kernelized ---------===//
//
// attn.kernelized (Performer FAVOR+ / linear transformer, docs/Semantics.md §7)
// becomes feature maps and a linear reduction, all in the compute type ct
// (f32, or f64 for the oracle of attn-run --check). Keys and values
// are first repeated to the H query heads (GQA), so every step below is per
// (b, h):
//
//   favor_plus    x' = x D^(-1/4),  a = W[h] x' - ||x'||^2 / 2,
//                 phi(q_i) = exp(a_i - c_i) / sqrt(m),  c_i = max_m a_im
//                 phi(k_j) = exp(a_j - c)   / sqrt(m),  c   = max_{j,m} a_jm
//                 (the per-query c_i and per-(b, h) key c cancel in the
//                 ratio; both are taken over finite values only, 0 if none:
//                 the same choice as reference.py)
//   elu_plus_one  phi(x) = x > 0 ? x + 1 : exp(min(x, 0))
//   relu          phi(x) = max(x, 0)
//
//   non-causal    KV[f,e] = sum_j phi(k_j)_f v_je,  z_f = sum_j phi(k_j)_f
//                 num_i = phi(q_i) KV,  den_i = <phi(q_i), z>
//   causal        A_ij = <phi(q_i), phi(k_j)>,
//                 num_i = sum_{j<=i} A_ij v_j,  den_i = sum_{j<=i} A_ij
//                 (masking selects, so a NaN in a later key never enters)
//   o_i           = den_i == 0 ? 0 : num_i / den_i   (select, never 0/0)
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

/// A float constant of type `type`.
static Value constant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

/// `|x| < inf`: false for +-inf and NaN.
static Value isFinite(OpBuilder &b, Location loc, Value x) {
  Value inf =
      constant(b, loc, x.getType(), std::numeric_limits<double>::infinity());
  Value abs = math::AbsFOp::create(b, loc, x);
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, abs, inf);
}

/// The projection W [H or 1, m, D] prepared for reading by query head.
using Projection = HeadOperand;

/// FAVOR+ features of x [B, H, N, D] (already per query head):
/// phi = exp(a - c) / sqrt(m), a = W x' - ||x'||^2 / 2, x' = x D^(-1/4);
/// c is per row for queries (`perRow`) and per (b, h) for keys.
static Value favorFeatures(GenericBuilder &g, Value x, Projection w,
                           bool perRow, FloatType ct) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t dimD = xType.getDimSize(3);
  double c = std::pow(double(dimD), -0.25);
  SmallVector<OpFoldResult> s = getSizes(b, loc, x);
  // m may be dynamic (the projection's second dim): take it from the tensor.
  OpFoldResult mSize = getSizes(b, loc, w.tensor)[1];

  // proj[b,h,n,m] = sum_d W[h or 0, m, d] (x[b,h,n,d] c).
  Value proj = g.generic(
      ValueRange{w.tensor, x},
      filledTensor(b, loc, {s[0], s[1], s[2], mSize}, ct, 0.0),
      {g.map(5,
             {w.shared ? b.getAffineConstantExpr(0) : g.d(1), g.d(3), g.d(4)}),
       g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value xs = arith::MulFOp::create(nb, nl, convertFloat(nb, nl, a[1], ct),
                                         constant(nb, nl, ct, c));
        Value prod =
            arith::MulFOp::create(nb, nl, convertFloat(nb, nl, a[0], ct), xs);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], prod));
      });
  // sq[b,h,n] = sum_d (x c)^2.
  Value sq = g.generic(
      ValueRange{x}, filledTensor(b, loc, {s[0], s[1], s[2]}, ct, 0.0),
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2})}, g.iterators(4, {3}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value xs = arith::MulFOp::create(nb, nl, convertFloat(nb, nl, a[0], ct),
                                         constant(nb, nl, ct, c));
        Value sq = arith::MulFOp::create(nb, nl, xs, xs);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], sq));
      });
  // a[b,h,n,m] = proj - sq / 2.
  Value expo = g.generic(
      ValueRange{proj, sq}, emptyTensor(b, loc, {s[0], s[1], s[2], mSize}, ct),
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2}), g.dims(4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value half =
            arith::MulFOp::create(nb, nl, a[1], constant(nb, nl, ct, 0.5));
        yieldOne(nb, nl, arith::SubFOp::create(nb, nl, a[0], half));
      });

  // The stabiliser c: queries max_m a[b,h,n,m] (NaN-propagating, then 0 if
  // not finite); keys max over finite a[b,h,:,:] (0 if there is none).
  double negInf = -std::numeric_limits<double>::infinity();
  Value stab;
  AffineMap stabMap;
  if (perRow) {
    stab = g.generic(
        ValueRange{expo}, filledTensor(b, loc, {s[0], s[1], s[2]}, ct, negInf),
        {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2})}, g.iterators(4, {3}),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, arith::MaximumFOp::create(nb, nl, a[1], a[0]));
        });
    stabMap = g.dims(4, {0, 1, 2});
  } else {
    stab = g.generic(
        ValueRange{expo}, filledTensor(b, loc, {s[0], s[1]}, ct, negInf),
        {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1})}, g.iterators(4, {2, 3}),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value finite =
              arith::SelectOp::create(nb, nl, isFinite(nb, nl, a[0]), a[0],
                                      constant(nb, nl, ct, negInf));
          yieldOne(nb, nl, arith::MaximumFOp::create(nb, nl, a[1], finite));
        });
    stabMap = g.dims(4, {0, 1});
  }
  // phi = exp(a - (finite(c) ? c : 0)) / sqrt(m).
  // A static m gives a constant in the body; a dynamic one a value computed
  // once outside it.
  std::optional<int64_t> staticM = getConstantIntValue(mSize);
  Value dynInvSqrtM;
  if (!staticM) {
    Value mIndex = toIndexValue(b, loc, mSize);
    Value mInt = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), mIndex);
    Value mFloat = arith::UIToFPOp::create(b, loc, ct, mInt);
    dynInvSqrtM = arith::DivFOp::create(b, loc, constant(b, loc, ct, 1.0),
                                        math::SqrtOp::create(b, loc, mFloat));
  }
  return g.generic(
      ValueRange{expo, stab},
      emptyTensor(b, loc, {s[0], s[1], s[2], mSize}, ct),
      {g.dims(4, {0, 1, 2, 3}), stabMap, g.dims(4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value shift = arith::SelectOp::create(nb, nl, isFinite(nb, nl, a[1]),
                                              a[1], constant(nb, nl, ct, 0.0));
        Value ex = math::ExpOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, a[0], shift));
        Value invSqrtM =
            staticM ? constant(nb, nl, ct, 1.0 / std::sqrt(double(*staticM)))
                    : dynInvSqrtM;
        yieldOne(nb, nl, arith::MulFOp::create(nb, nl, ex, invSqrtM));
      });
}

/// Elementwise feature maps (elu_plus_one, relu) of x [B, H, N, D] in `ct`.
static Value elementwiseFeatures(GenericBuilder &g, Value x, FeatureMap fm,
                                 FloatType ct) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  Value init = emptyTensor(b, loc, getSizes(b, loc, x), ct);
  AffineMap id = b.getMultiDimIdentityMap(4);
  return g.generic(ValueRange{x}, init, {id, id}, parallelIterators(4),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value v = convertFloat(nb, nl, a[0], ct);
                     Value zero = constant(nb, nl, ct, 0.0);
                     Value phi;
                     if (fm == FeatureMap::Relu) {
                       // max(x, 0), NaN-propagating like numpy's maximum.
                       phi = arith::MaximumFOp::create(nb, nl, v, zero);
                     } else {
                       // x > 0 ? x + 1 : exp(min(x, 0)).
                       Value pos = arith::CmpFOp::create(
                           nb, nl, arith::CmpFPredicate::OGT, v, zero);
                       Value plusOne = arith::AddFOp::create(
                           nb, nl, v, constant(nb, nl, ct, 1.0));
                       Value ex = math::ExpOp::create(
                           nb, nl, arith::MinimumFOp::create(nb, nl, v, zero));
                       phi = arith::SelectOp::create(nb, nl, pos, plusOne, ex);
                     }
                     yieldOne(nb, nl, phi);
                   });
}

/// acc + x * y in acc's type (a contraction body; x, y may need widening).
static void yieldMulAdd(OpBuilder &nb, Location nl, Value x, Value y,
                        Value acc) {
  Type ct = acc.getType();
  Value prod = arith::MulFOp::create(nb, nl, convertFloat(nb, nl, x, ct),
                                     convertFloat(nb, nl, y, ct));
  yieldOne(nb, nl, arith::AddFOp::create(nb, nl, acc, prod));
}

/// Non-causal numerator [B,H,N,Dv] and denominator [B,H,N] via
/// KV = phi_k^T v and z = sum_j phi_k.
static std::pair<Value, Value> linearSums(GenericBuilder &g, Value phiQ,
                                          Value phiK, Value v) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  Type ct = cast<RankedTensorType>(phiQ.getType()).getElementType();
  SmallVector<OpFoldResult> qs = getSizes(b, loc, phiQ);
  SmallVector<OpFoldResult> vs = getSizes(b, loc, v);
  // KV[b,h,f,e] = sum_j phiK[b,h,j,f] v[b,h,j,e]; dims (b,h,f,e,j).
  Value kv = g.generic(
      ValueRange{phiK, v},
      filledTensor(b, loc, {qs[0], qs[1], qs[3], vs[3]}, ct, 0.0),
      {g.dims(5, {0, 1, 4, 2}), g.dims(5, {0, 1, 4, 3}),
       g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldMulAdd(nb, nl, a[0], a[1], a[2]);
      });
  // z[b,h,f] = sum_j phiK[b,h,j,f]; dims (b,h,f,j).
  Value z = g.generic(
      ValueRange{phiK}, filledTensor(b, loc, {qs[0], qs[1], qs[3]}, ct, 0.0),
      {g.dims(4, {0, 1, 3, 2}), g.dims(4, {0, 1, 2})}, g.iterators(4, {3}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], a[0]));
      });
  // num[b,h,i,e] = sum_f phiQ[b,h,i,f] KV[b,h,f,e]; dims (b,h,i,e,f).
  Value num = g.generic(
      ValueRange{phiQ, kv},
      filledTensor(b, loc, {qs[0], qs[1], qs[2], vs[3]}, ct, 0.0),
      {g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 4, 3}),
       g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldMulAdd(nb, nl, a[0], a[1], a[2]);
      });
  // den[b,h,i] = sum_f phiQ[b,h,i,f] z[b,h,f]; dims (b,h,i,f).
  Value den = g.generic(
      ValueRange{phiQ, z}, filledTensor(b, loc, {qs[0], qs[1], qs[2]}, ct, 0.0),
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 3}), g.dims(4, {0, 1, 2})},
      g.iterators(4, {3}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldMulAdd(nb, nl, a[0], a[1], a[2]);
      });
  return {num, den};
}

/// `j <= i` from the linalg indices of dims `i` and `j`.
static Value causalLive(OpBuilder &nb, Location nl, unsigned i, unsigned j) {
  Value iv = linalg::IndexOp::create(nb, nl, i);
  Value jv = linalg::IndexOp::create(nb, nl, j);
  return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule, jv, iv);
}

/// Causal numerator and denominator through the materialised
/// A_ij = <phi_q_i, phi_k_j>, summed over j <= i only.
static std::pair<Value, Value> causalSums(GenericBuilder &g, Value phiQ,
                                          Value phiK, Value v) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  Type ct = cast<RankedTensorType>(phiQ.getType()).getElementType();
  SmallVector<OpFoldResult> qs = getSizes(b, loc, phiQ);
  SmallVector<OpFoldResult> ks = getSizes(b, loc, phiK);
  SmallVector<OpFoldResult> vs = getSizes(b, loc, v);
  // A[b,h,i,j] = sum_f phiQ[b,h,i,f] phiK[b,h,j,f]; dims (b,h,i,j,f).
  Value scores = g.generic(
      ValueRange{phiQ, phiK},
      filledTensor(b, loc, {qs[0], qs[1], qs[2], ks[2]}, ct, 0.0),
      {g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 3, 4}),
       g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldMulAdd(nb, nl, a[0], a[1], a[2]);
      });
  // num[b,h,i,e] = sum_j (j <= i ? A v : 0); dims (b,h,i,e,j).
  Value num = g.generic(
      ValueRange{scores, v},
      filledTensor(b, loc, {qs[0], qs[1], qs[2], vs[3]}, ct, 0.0),
      {g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 4, 3}),
       g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value prod =
            arith::MulFOp::create(nb, nl, a[0], convertFloat(nb, nl, a[1], ct));
        Value sum = arith::AddFOp::create(nb, nl, a[2], prod);
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, causalLive(nb, nl, 2, 4), sum,
                                         a[2]));
      });
  // den[b,h,i] = sum_j (j <= i ? A : 0); dims (b,h,i,j).
  Value den = g.generic(
      ValueRange{scores}, filledTensor(b, loc, {qs[0], qs[1], qs[2]}, ct, 0.0),
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2})}, g.iterators(4, {3}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value sum = arith::AddFOp::create(nb, nl, a[1], a[0]);
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, causalLive(nb, nl, 2, 3), sum,
                                         a[1]));
      });
  return {num, den};
}

FailureOr<SmallVector<Value>>
mlir::attn::decomposeKernelized(OpBuilder &b, KernelizedOp op, FloatType ct) {
  Location loc = op.getLoc();
  GenericBuilder g{b, loc};
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  Value init = op.getInit();
  FeatureMap fm = op.getFeatureMap();
  if ((fm == FeatureMap::FavorPlus) != bool(op.getProjection()))
    return op.emitOpError("decomposition expects a projection exactly with "
                          "favor_plus");

  // Run-time checks of dynamic dims that must match.
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q);
  SmallVector<OpFoldResult> ks = getSizes(b, loc, k);
  assertQueryKeyValueSizes(b, loc, "attn.kernelized", q, k, v, init);
  if (op.getCausal())
    assertEqualSizes(b, loc, qs[2], ks[2],
                     "attn.kernelized: causal needs Nq == Nk");

  // Per query head from here on: repeat the KV heads (GQA).
  Value kh = repeatHeads(b, loc, k, 1, qs[1]);
  Value vh = repeatHeads(b, loc, v, 1, qs[1]);

  Value phiQ, phiK;
  if (fm == FeatureMap::FavorPlus) {
    Projection w =
        selectHeads(g.b, g.loc, op.getProjection(), qs[1],
                    "attn.kernelized: projection dim 0 must be H or 1");
    phiQ = favorFeatures(g, q, w, /*perRow=*/true, ct);
    phiK = favorFeatures(g, kh, w, /*perRow=*/false, ct);
  } else {
    phiQ = elementwiseFeatures(g, q, fm, ct);
    phiK = elementwiseFeatures(g, kh, fm, ct);
  }

  auto [num, den] = op.getCausal() ? causalSums(g, phiQ, phiK, vh)
                                   : linearSums(g, phiQ, phiK, vh);

  // o = den == 0 ? 0 : num / den, in the outs' element type.
  Type outElt = cast<RankedTensorType>(init.getType()).getElementType();
  Value result = g.generic(
      ValueRange{num, den}, init,
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2}), g.dims(4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value o = divideOrZero(nb, nl, a[0], a[1]);
        yieldOne(nb, nl, convertFloat(nb, nl, o, outElt));
      });
  return SmallVector<Value>{result};
}
