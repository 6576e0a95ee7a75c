//===- GpuKernelizedCausal.cpp - causal FAVOR+ as a chunked scan ----------===//
//
// A step of attn-gpu-kernelized-as-sdpa (sm_90a): a causal favor_plus
// attn.kernelized (docs/Semantics.md §7) becomes a chunked scan in
// linalg.generic ops that the general path runs as one kernel each (the
// inputs read inside the bodies, sums kept in registers by scf.for loops),
// all in f32, with no N x N tensor and no whole-sequence state per position.
// Per (b, query head h) (KV head g, W = W[h] or W[0]), x' = s x with
// s = D^(-1/4), chunks of C rows (`causal-chunk`, 64), chunk c = rows [c C, c C + C):
//
//   AK[j, n] = <w_j, k'_n> - |k'_n|^2 / 2          (log of sqrt(m) phi(k_n)_j)
//   AQ[n, j] = <w_j, q'_n>                         (its -|q'|^2/2 cancels)
//   PQ[n, j] = exp(AQ[n, j] - max_j AQ[n, j])      (per-query stabiliser)
//   R[c]     = max over rows n < (c + 1) C and j of AK  (running key
//              stabiliser: a per-(b, h) key constant for every query of
//              chunk c, cancelling in its ratio)
//   PK[j, n] = exp(AK[j, n] - R[c(n)])
//   T[c]     = sum_{n in c} PK[:, n] [v_n, 1]       (m x (Dv + 1), the
//              last column the normaliser)
//   S[c]     = sum_{c' < c} exp(R[c'] - R[c]) T[c'] (the exclusive prefix,
//              under chunk c's stabiliser), in two levels: group sums of
//              G chunks (`causal-group`, 16), their exclusive prefix, then the chunks of
//              the own group
//   A[i, r]  = sum_j PQ[i, j] PK[j, c C + r]  for c C + r <= i, else 0
//   NUM[i]   = PQ[i, :] S[c(i)] + sum_r A[i, r] [v_{cC+r}, 1]
//   o_i      = NUM[i, :Dv] / NUM[i, Dv]  (0 where the denominator is 0)
//
// Taken: favor_plus, causal, q, k, v and the result of one element type
// bf16 or f16, D = Dv = 64 or 128, static H, Hkv, projection head dim and m
// (B and N may be dynamic). Everything else keeps the general path.
//
//===----------------------------------------------------------------------===//
#include "GpuKernelizedCausal.h"

#include "DecomposeUtils.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {

class CausalFavor {
public:
  CausalFavor(OpBuilder &b, KernelizedOp op, int64_t chunk, int64_t groupSize)
      : b(b), loc(op.getLoc()), op(op), kChunk(chunk), kGroup(groupSize) {
    auto q = cast<RankedTensorType>(op.getQuery().getType());
    auto w = cast<RankedTensorType>(op.getProjection().getType());
    elt = q.getElementType();
    heads = q.getDimSize(1);
    group = heads / cast<RankedTensorType>(op.getKey().getType()).getDimSize(1);
    d = q.getDimSize(3);
    m = w.getDimSize(1);
    wHeads = w.getDimSize(0);
    scale = std::pow(double(d), -0.25);
  }

  void run();

private:
  using Body = function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)>;
  using Step =
      function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)>;

  /// `init` written elementwise by `body` from its indices (in the tensor's
  /// dim order); every dim parallel. `order` lists the tensor dims from the
  /// outermost loop dim in (identity when empty): the general path puts the
  /// first three loop dims on grid x, y and z (y and z hold at most 65535
  /// blocks) and the innermost one on the threads, so a dim of length N
  /// goes first (x) or innermost (N / 128 tiles), never in the middle.
  Value genInto(Value init, Body body, ArrayRef<unsigned> order = {}) {
    unsigned rank = cast<RankedTensorType>(init.getType()).getRank();
    SmallVector<unsigned> pos(rank);
    for (unsigned i = 0; i < rank; ++i)
      pos[order.empty() ? i : order[i]] = i;
    GenericBuilder g{b, loc};
    return g.generic({}, init, {g.dims(rank, pos)}, g.iterators(rank, {}),
                     [&](OpBuilder &nb, Location nl, ValueRange) {
                       SmallVector<Value> loops =
                           attn::detail::loopIndices(nb, nl, rank);
                       SmallVector<Value> ix;
                       for (unsigned t = 0; t < rank; ++t)
                         ix.push_back(loops[pos[t]]);
                       linalg::YieldOp::create(nb, nl, body(nb, nl, ix));
                     });
  }
  /// A new f32 tensor of `sizes` computed by genInto.
  Value gen(ArrayRef<OpFoldResult> sizes, Body body,
            ArrayRef<unsigned> order = {}) {
    return genInto(emptyTensor(b, loc, sizes, b.getF32Type()), body, order);
  }
  /// `for i in [lo, hi)` carrying `inits`; returns the final values.
  SmallVector<Value> loop(OpBuilder &nb, Location nl, Value lo, Value hi,
                          ValueRange inits, Step step) {
    auto forOp = scf::ForOp::create(
        nb, nl, lo, hi, cidx(nb, nl, 1), inits,
        [&](OpBuilder &lb, Location ll, Value iv, ValueRange args) {
          scf::YieldOp::create(lb, ll, step(lb, iv, args));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  Value cidx(OpBuilder &nb, Location nl, int64_t v) {
    return arith::ConstantIndexOp::create(nb, nl, v);
  }
  Value f32(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(float(v)));
  }
  Value at(OpBuilder &nb, Location nl, Value t, ArrayRef<Value> ix) {
    Value x = tensor::ExtractOp::create(nb, nl, t, ix);
    if (x.getType() != nb.getF32Type())
      x = arith::ExtFOp::create(nb, nl, nb.getF32Type(), x);
    return x;
  }
  Value add(OpBuilder &nb, Location nl, Value x, Value y) {
    return arith::AddFOp::create(nb, nl, x, y);
  }
  Value mul(OpBuilder &nb, Location nl, Value x, Value y) {
    return arith::MulFOp::create(nb, nl, x, y);
  }
  Value fma(OpBuilder &nb, Location nl, Value x, Value y, Value acc) {
    return add(nb, nl, acc, mul(nb, nl, x, y));
  }
  Value expDiff(OpBuilder &nb, Location nl, Value x, Value y) {
    return math::ExpOp::create(nb, nl, arith::SubFOp::create(nb, nl, x, y));
  }
  Value iadd(OpBuilder &nb, Location nl, Value x, Value y) {
    return arith::AddIOp::create(nb, nl, x, y);
  }
  Value imul(OpBuilder &nb, Location nl, Value x, int64_t y) {
    return arith::MulIOp::create(nb, nl, x, cidx(nb, nl, y));
  }
  Value idiv(OpBuilder &nb, Location nl, Value x, int64_t y) {
    return arith::DivUIOp::create(nb, nl, x, cidx(nb, nl, y));
  }
  Value irem(OpBuilder &nb, Location nl, Value x, int64_t y) {
    return arith::RemUIOp::create(nb, nl, x, cidx(nb, nl, y));
  }
  Value imin(OpBuilder &nb, Location nl, Value x, Value y) {
    return arith::MinUIOp::create(nb, nl, x, y);
  }
  /// (b, h, g, hw) of a flat (b, h) index.
  struct Head {
    Value b, h, g, hw;
  };
  Head head(OpBuilder &nb, Location nl, Value bh) {
    Head r;
    r.b = idiv(nb, nl, bh, heads);
    r.h = irem(nb, nl, bh, heads);
    r.g = idiv(nb, nl, r.h, group);
    r.hw = wHeads == 1 ? cidx(nb, nl, 0) : r.h;
    return r;
  }
  /// <w_j, x_n> (and |x_n|^2) in f32 over D, x = q or k of head `hd`.
  std::pair<Value, Value> dot(OpBuilder &nb, Location nl, Value x, Value xh,
                              Head hd, Value n, Value j) {
    Value zero = f32(nb, nl, 0);
    auto r = loop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, d), {zero, zero},
                  [&](OpBuilder &lb, Value e, ValueRange acc) -> SmallVector<Value> {
                    Value xv = at(lb, nl, x, {hd.b, xh, n, e});
                    Value wv = at(lb, nl, op.getProjection(), {hd.hw, j, e});
                    return SmallVector<Value>{fma(lb, nl, xv, wv, acc[0]),
                                              fma(lb, nl, xv, xv, acc[1])};
                  });
    return {r[0], r[1]};
  }
  /// v[b, g, n, e] for e < Dv, 1 for e = Dv (f32).
  Value vExt(OpBuilder &nb, Location nl, Head hd, Value n, Value e) {
    Value isV = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult, e,
                                      cidx(nb, nl, d));
    Value eC = imin(nb, nl, e, cidx(nb, nl, d - 1));
    return arith::SelectOp::create(nb, nl, isV,
                                   at(nb, nl, op.getValue(), {hd.b, hd.g, n, eC}),
                                   f32(nb, nl, 1));
  }

  OpBuilder &b;
  Location loc;
  KernelizedOp op;
  /// Rows of a chunk and chunks of a group of the two-level prefix.
  int64_t kChunk, kGroup;
  Type elt;
  int64_t heads, group, d, m, wHeads;
  double scale;
};

void CausalFavor::run() {
  SmallVector<OpFoldResult> qs = getSizes(b, loc, op.getQuery());
  OpFoldResult bh = attn::detail::mulSizes(b, loc, qs[0], b.getIndexAttr(heads));
  OpFoldResult nRows = qs[2];
  Value nV = getValueOrCreateConstantIndexOp(b, loc, nRows);
  // nC = ceil(N / C), nG = ceil(nC / G).
  Value nCV = arith::CeilDivUIOp::create(b, loc, nV,
                                         attn::detail::indexConst(b, loc, kChunk));
  Value nGV = arith::CeilDivUIOp::create(b, loc, nCV,
                                         attn::detail::indexConst(b, loc, kGroup));
  OpFoldResult nC = getAsOpFoldResult(nCV), nG = getAsOpFoldResult(nGV);
  OpFoldResult mS = b.getIndexAttr(m), eS = b.getIndexAttr(m * (d + 1));
  int64_t ext = d + 1;
  double s = scale;
  float negInf = -std::numeric_limits<float>::infinity();
  Value q = op.getQuery(), k = op.getKey();

  // AK [BH, m, N] (keys along the innermost dim, read so by T and A).
  Value ak = gen({bh, mS, nRows}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    Head hd = head(nb, nl, ix[0]);
    auto [dt, nrm] = dot(nb, nl, k, hd.g, hd, ix[2], ix[1]);
    return arith::SubFOp::create(nb, nl, mul(nb, nl, dt, f32(nb, nl, s)),
                                 mul(nb, nl, nrm, f32(nb, nl, s * s / 2)))
        .getResult();
  });
  // AQ [BH, N, m], its row maxima and PQ.
  Value aq = gen({bh, nRows, mS}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    Head hd = head(nb, nl, ix[0]);
    return mul(nb, nl, dot(nb, nl, q, hd.h, hd, ix[1], ix[2]).first,
               f32(nb, nl, s));
  }, {1, 0, 2});
  Value qMax = gen({bh, nRows}, [&](OpBuilder &nb, Location nl,
                                    ArrayRef<Value> ix) -> Value {
    return loop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, m), {f32(nb, nl, negInf)},
                [&](OpBuilder &lb, Value j, ValueRange acc) -> SmallVector<Value> {
                  Value x = at(lb, nl, aq, {ix[0], ix[1], j});
                  return SmallVector<Value>{
                      arith::MaximumFOp::create(lb, nl, acc[0], x)};
                })[0];
  });
  Value pq = gen({bh, nRows, mS}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    return expDiff(nb, nl, at(nb, nl, aq, ix), at(nb, nl, qMax, {ix[0], ix[1]}));
  }, {1, 0, 2});
  // Per-chunk maxima of AK, then the running maximum R.
  Value cMax = gen({bh, nC}, [&](OpBuilder &nb, Location nl,
                                 ArrayRef<Value> ix) -> Value {
    Value lo = imul(nb, nl, ix[1], kChunk);
    Value hi = imin(nb, nl, iadd(nb, nl, lo, cidx(nb, nl, kChunk)), nV);
    return loop(nb, nl, lo, hi, {f32(nb, nl, negInf)},
                [&](OpBuilder &lb, Value n, ValueRange acc) -> SmallVector<Value> {
                  return loop(lb, nl, cidx(lb, nl, 0), cidx(lb, nl, m), acc,
                              [&](OpBuilder &jb, Value j, ValueRange a) -> SmallVector<Value> {
                                Value x = at(jb, nl, ak, {ix[0], j, n});
                                return SmallVector<Value>{
                                    arith::MaximumFOp::create(jb, nl, a[0], x)};
                              });
                })[0];
  });
  Value run = gen({bh, nC}, [&](OpBuilder &nb, Location nl,
                                ArrayRef<Value> ix) -> Value {
    return loop(nb, nl, cidx(nb, nl, 0), iadd(nb, nl, ix[1], cidx(nb, nl, 1)),
                {f32(nb, nl, negInf)},
                [&](OpBuilder &lb, Value c, ValueRange acc) -> SmallVector<Value> {
                  Value x = at(lb, nl, cMax, {ix[0], c});
                  return SmallVector<Value>{
                      arith::MaximumFOp::create(lb, nl, acc[0], x)};
                })[0];
  });
  auto runAt = [&](OpBuilder &nb, Location nl, Value bhI, Value c) {
    return at(nb, nl, run, {bhI, c});
  };
  Value pk = gen({bh, mS, nRows}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    return expDiff(nb, nl, at(nb, nl, ak, ix),
                   runAt(nb, nl, ix[0], idiv(nb, nl, ix[2], kChunk)));
  });
  // T [BH, nC, m (Dv + 1)].
  Value t = gen({bh, nC, eS}, [&](OpBuilder &nb, Location nl,
                                  ArrayRef<Value> ix) -> Value {
    Head hd = head(nb, nl, ix[0]);
    Value j = idiv(nb, nl, ix[2], ext), e = irem(nb, nl, ix[2], ext);
    Value lo = imul(nb, nl, ix[1], kChunk);
    Value hi = imin(nb, nl, iadd(nb, nl, lo, cidx(nb, nl, kChunk)), nV);
    return loop(nb, nl, lo, hi, {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value n, ValueRange acc) -> SmallVector<Value> {
                  return SmallVector<Value>{
                      fma(lb, nl, at(lb, nl, pk, {ix[0], j, n}),
                          vExt(lb, nl, hd, n, e), acc[0])};
                })[0];
  });
  // Group sums under the stabiliser of each group's last chunk.
  auto groupEnd = [&](OpBuilder &nb, Location nl, Value g) {
    Value end = imin(nb, nl, imul(nb, nl, g, kGroup), nCV);
    end = imin(nb, nl, iadd(nb, nl, end, cidx(nb, nl, kGroup)), nCV);
    return arith::SubIOp::create(nb, nl, end, cidx(nb, nl, 1)).getResult();
  };
  Value gs = gen({bh, nG, eS}, [&](OpBuilder &nb, Location nl,
                                   ArrayRef<Value> ix) -> Value {
    Value lo = imul(nb, nl, ix[1], kGroup);
    Value last = groupEnd(nb, nl, ix[1]);
    Value rEnd = runAt(nb, nl, ix[0], last);
    return loop(nb, nl, lo, iadd(nb, nl, last, cidx(nb, nl, 1)),
                {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value c, ValueRange acc) -> SmallVector<Value> {
                  Value f = expDiff(lb, nl, runAt(lb, nl, ix[0], c), rEnd);
                  return SmallVector<Value>{
                      fma(lb, nl, f, at(lb, nl, t, {ix[0], c, ix[2]}), acc[0])};
                })[0];
  });
  // Exclusive prefix of the group sums under R[g G - 1] (0 for g = 0).
  Value gp = gen({bh, nG, eS}, [&](OpBuilder &nb, Location nl,
                                   ArrayRef<Value> ix) -> Value {
    Value prev = arith::SubIOp::create(
        nb, nl,
        arith::MaxUIOp::create(nb, nl, imul(nb, nl, ix[1], kGroup),
                               cidx(nb, nl, 1)),
        cidx(nb, nl, 1));
    Value rPrev = runAt(nb, nl, ix[0], prev);
    return loop(nb, nl, cidx(nb, nl, 0), ix[1], {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value g, ValueRange acc) -> SmallVector<Value> {
                  Value f = expDiff(lb, nl,
                                    runAt(lb, nl, ix[0], groupEnd(lb, nl, g)),
                                    rPrev);
                  return SmallVector<Value>{fma(
                      lb, nl, f, at(lb, nl, gs, {ix[0], g, ix[2]}), acc[0])};
                })[0];
  });
  // S [BH, nC, m (Dv + 1)]: the exclusive prefix under R[c].
  Value st = gen({bh, nC, eS}, [&](OpBuilder &nb, Location nl,
                                   ArrayRef<Value> ix) -> Value {
    Value c = ix[1];
    Value g = idiv(nb, nl, c, kGroup);
    Value lo = imul(nb, nl, g, kGroup);
    Value rc = runAt(nb, nl, ix[0], c);
    Value prev = arith::SubIOp::create(
        nb, nl, arith::MaxUIOp::create(nb, nl, lo, cidx(nb, nl, 1)),
        cidx(nb, nl, 1));
    Value hasPrev = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ugt,
                                          lo, cidx(nb, nl, 0));
    Value fromGroups =
        mul(nb, nl, expDiff(nb, nl, runAt(nb, nl, ix[0], prev), rc),
            at(nb, nl, gp, {ix[0], g, ix[2]}));
    fromGroups =
        arith::SelectOp::create(nb, nl, hasPrev, fromGroups, f32(nb, nl, 0));
    return loop(nb, nl, lo, c, {fromGroups},
                [&](OpBuilder &lb, Value cc, ValueRange acc) -> SmallVector<Value> {
                  Value f = expDiff(lb, nl, runAt(lb, nl, ix[0], cc), rc);
                  return SmallVector<Value>{
                      fma(lb, nl, f, at(lb, nl, t, {ix[0], cc, ix[2]}), acc[0])};
                })[0];
  });
  // A [BH, N, C]: the live scores within the chunk.
  Value a = gen({bh, nRows, b.getIndexAttr(kChunk)}, [&](OpBuilder &nb,
                                                         Location nl,
                                                         ArrayRef<Value> ix) -> Value {
    Value n = iadd(nb, nl, imul(nb, nl, idiv(nb, nl, ix[1], kChunk), kChunk),
                   ix[2]);
    Value live = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule, n,
                                       ix[1]);
    Value nC2 = imin(nb, nl, n, ix[1]);
    Value sum = loop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, m), {f32(nb, nl, 0)},
                     [&](OpBuilder &lb, Value j, ValueRange acc) -> SmallVector<Value> {
                       return SmallVector<Value>{
                           fma(lb, nl, at(lb, nl, pq, {ix[0], ix[1], j}),
                               at(lb, nl, pk, {ix[0], j, nC2}), acc[0])};
                     })[0];
    return arith::SelectOp::create(nb, nl, live, sum, f32(nb, nl, 0))
        .getResult();
  }, {1, 0, 2});
  // NUM [BH, N, Dv + 1].
  Value num = gen({bh, nRows, b.getIndexAttr(ext)}, [&](OpBuilder &nb,
                                                        Location nl,
                                                        ArrayRef<Value> ix) -> Value {
    Head hd = head(nb, nl, ix[0]);
    Value c = idiv(nb, nl, ix[1], kChunk);
    Value lo = imul(nb, nl, c, kChunk);
    Value inter =
        loop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, m), {f32(nb, nl, 0)},
             [&](OpBuilder &lb, Value j, ValueRange acc) -> SmallVector<Value> {
               Value je = iadd(lb, nl, imul(lb, nl, j, ext), ix[2]);
               return SmallVector<Value>{
                   fma(lb, nl, at(lb, nl, pq, {ix[0], ix[1], j}),
                       at(lb, nl, st, {ix[0], c, je}), acc[0])};
             })[0];
    return loop(nb, nl, lo, iadd(nb, nl, ix[1], cidx(nb, nl, 1)), {inter},
                [&](OpBuilder &lb, Value n, ValueRange acc) -> SmallVector<Value> {
                  Value r = arith::SubIOp::create(lb, nl, n, lo);
                  return SmallVector<Value>{
                      fma(lb, nl, at(lb, nl, a, {ix[0], ix[1], r}),
                          vExt(lb, nl, hd, n, ix[2]), acc[0])};
                })[0];
  }, {1, 0, 2});
  // o = num / den (0 where den is 0), into outs; loops (n, b, h, dv).
  Value result = genInto(
      op.getInit(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
        Value bhI = iadd(nb, nl, imul(nb, nl, ix[0], heads), ix[1]);
        Value nu = at(nb, nl, num, {bhI, ix[2], ix[3]});
        Value de = at(nb, nl, num, {bhI, ix[2], cidx(nb, nl, d)});
        Value zero = f32(nb, nl, 0);
        Value isZero = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                             de, zero);
        Value o = arith::SelectOp::create(
            nb, nl, isZero, zero, arith::DivFOp::create(nb, nl, nu, de));
        return arith::TruncFOp::create(nb, nl, elt, o);
      },
      {2, 0, 1, 3});
  op.getResult().replaceAllUsesWith(result);
  op.erase();
}

} // namespace

bool mlir::attn::isGpuCausalFavorTaken(KernelizedOp op) {
  if (!op.getCausal() || !isGpuFavorShape(op))
    return false;
  // W is read as f32 inside the kernels; m is a static loop bound.
  auto w = cast<RankedTensorType>(op.getProjection().getType());
  return !w.getElementType().isF64() && !w.isDynamicDim(1);
}

void mlir::attn::buildGpuCausalFavor(OpBuilder &b, KernelizedOp op,
                                     int64_t chunk, int64_t group) {
  CausalFavor(b, op, chunk, group).run();
}
