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
//              under chunk c's stabiliser): with the products on mma
//              (runMma) one sequential pass over the chunks per state
//              element, acc_{c+1} = (acc_c + T[c]) exp(R[c] - R[c + 1])
//              (`causal-prefix=scan`, a kernel of its own, GpuMmaGemm.h);
//              the scalar scan and `causal-prefix=levels` in two levels:
//              group sums of G chunks (`causal-group`, 16), their exclusive
//              prefix, then the chunks of the own group
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
#include "GpuMmaGemm.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
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
  CausalFavor(OpBuilder &b, KernelizedOp op, int64_t chunk, int64_t groupSize,
              bool levels)
      : b(b), loc(op.getLoc()), op(op), kChunk(chunk), kGroup(groupSize),
        kLevels(levels) {
    module = op->getParentOfType<ModuleOp>();
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
  /// The scan with its matrix products on mma.sync (`launch`) or as
  /// generics of the same products (the CPU checks them).
  void runMma(bool launch, StringRef name);

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
  /// A new tensor of `type` (the f32 value of `body` rounded to it): an
  /// operand of the mma products. Its init is a bufferization.alloc_tensor,
  /// not a tensor.empty: CSE would fold equal tensor.empty ops (PQ and the
  /// live scores with m = C) into one, and since the kernels read their
  /// operands through bufferization.to_buffer, which the in-place analysis
  /// does not see, a later generic would overwrite an operand before its
  /// product (measured on the H200: wrong rows from the second chunk on).
  Value genAs(Type type, ArrayRef<OpFoldResult> sizes, Body body,
              ArrayRef<unsigned> order = {}) {
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    dispatchIndexOpFoldResults(sizes, dynamic, shape);
    return genInto(
        bufferization::AllocTensorOp::create(
            b, loc, RankedTensorType::get(shape, type), dynamic),
        [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
          Value x = body(nb, nl, ix);
          return type == x.getType()
                     ? x
                     : arith::TruncFOp::create(nb, nl, type, x).getResult();
        },
        order);
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
  /// max over i in [lo, hi) of `read(i)` (-inf when empty).
  Value maxLoop(OpBuilder &nb, Location nl, Value lo, Value hi,
                function_ref<Value(OpBuilder &, Value)> read) {
    float negInf = -std::numeric_limits<float>::infinity();
    return loop(nb, nl, lo, hi, {f32(nb, nl, negInf)},
                [&](OpBuilder &lb, Value i, ValueRange acc) -> SmallVector<Value> {
                  return SmallVector<Value>{
                      arith::MaximumFOp::create(lb, nl, acc[0], read(lb, i))};
                })[0];
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

  /// Element x of chunk c's state T[c] of head bh.
  using StateAt =
      function_ref<Value(OpBuilder &, Location, Value, Value, Value)>;
  /// R[c] of head bh (`run`: [BH, nC]).
  Value runAt(OpBuilder &nb, Location nl, Value run, Value bhI, Value c);
  /// Column e of row n of head bh's numerator (e = Dv: the denominator).
  using NumAt = function_ref<Value(OpBuilder &, Location, Value, Value, Value)>;
  /// o = num / den (0 where den is 0), written into the op's outs.
  Value writeOut(NumAt numAt);
  /// [BH, rows]: the maximum over the m features (the last dim) of `t`.
  Value featureMax(OpFoldResult bh, OpFoldResult rows, Value t);
  /// [BH, nC]: R[c], the running maximum of the chunk maxima `cMax` (into a
  /// bufferization.alloc_tensor with `alloc`: a kernel reads it).
  Value runningMax(OpFoldResult bh, OpFoldResult nC, Value cMax,
                   bool alloc = false);
  /// The last chunk of group g.
  Value groupEnd(OpBuilder &nb, Location nl, Value g, Value nCV);
  /// [BH, nG, width]: the exclusive prefix of the group sums of the states
  /// (group g's under R[g G - 1]).
  Value groupPrefix(OpFoldResult bh, OpFoldResult nG, Value nCV,
                    OpFoldResult width, Value run, StateAt tAt);
  /// Element x of S[c] of head bh: the groups before (from `gp`), then the
  /// earlier chunks of c's group, under R[c].
  Value prefixAt(OpBuilder &nb, Location nl, Value bhI, Value c, Value x,
                 Value run, Value gp, StateAt tAt);

  OpBuilder &b;
  Location loc;
  KernelizedOp op;
  ModuleOp module;
  /// Rows of a chunk and chunks of a group of the two-level prefix.
  int64_t kChunk, kGroup;
  /// The mma path's prefix in two levels (`causal-prefix=levels`) instead
  /// of one sequential scan over the chunks.
  bool kLevels;
  Type elt;
  int64_t heads, group, d, m, wHeads;
  double scale;
};

Value CausalFavor::runAt(OpBuilder &nb, Location nl, Value run, Value bhI,
                         Value c) {
  return at(nb, nl, run, {bhI, c});
}

Value CausalFavor::featureMax(OpFoldResult bh, OpFoldResult rows, Value t) {
  return gen({bh, rows}, [&](OpBuilder &nb, Location nl,
                             ArrayRef<Value> ix) -> Value {
    return maxLoop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, m),
                   [&](OpBuilder &lb, Value j) {
                     return at(lb, nl, t, {ix[0], ix[1], j});
                   });
  });
}

Value CausalFavor::runningMax(OpFoldResult bh, OpFoldResult nC, Value cMax,
                              bool alloc) {
  auto body = [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
    return maxLoop(nb, nl, cidx(nb, nl, 0), iadd(nb, nl, ix[1], cidx(nb, nl, 1)),
                   [&](OpBuilder &lb, Value c) {
                     return at(lb, nl, cMax, {ix[0], c});
                   });
  };
  return alloc ? genAs(b.getF32Type(), {bh, nC}, body) : gen({bh, nC}, body);
}

Value CausalFavor::groupEnd(OpBuilder &nb, Location nl, Value g, Value nCV) {
  Value end = imin(nb, nl, imul(nb, nl, g, kGroup), nCV);
  end = imin(nb, nl, iadd(nb, nl, end, cidx(nb, nl, kGroup)), nCV);
  return arith::SubIOp::create(nb, nl, end, cidx(nb, nl, 1)).getResult();
}

Value CausalFavor::groupPrefix(OpFoldResult bh, OpFoldResult nG, Value nCV,
                               OpFoldResult width, Value run, StateAt tAt) {
  // Group sums under the stabiliser of each group's last chunk.
  Value gs = gen({bh, nG, width}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    Value lo = imul(nb, nl, ix[1], kGroup);
    Value last = groupEnd(nb, nl, ix[1], nCV);
    Value rEnd = runAt(nb, nl, run, ix[0], last);
    return loop(nb, nl, lo, iadd(nb, nl, last, cidx(nb, nl, 1)),
                {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value c, ValueRange acc) -> SmallVector<Value> {
                  Value f = expDiff(lb, nl, runAt(lb, nl, run, ix[0], c), rEnd);
                  return SmallVector<Value>{
                      fma(lb, nl, f, tAt(lb, nl, ix[0], c, ix[2]), acc[0])};
                })[0];
  });
  // Exclusive prefix of the group sums under R[g G - 1] (0 for g = 0).
  return gen({bh, nG, width}, [&](OpBuilder &nb, Location nl,
                                  ArrayRef<Value> ix) -> Value {
    Value prev = arith::SubIOp::create(
        nb, nl,
        arith::MaxUIOp::create(nb, nl, imul(nb, nl, ix[1], kGroup),
                               cidx(nb, nl, 1)),
        cidx(nb, nl, 1));
    Value rPrev = runAt(nb, nl, run, ix[0], prev);
    return loop(nb, nl, cidx(nb, nl, 0), ix[1], {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value g, ValueRange acc) -> SmallVector<Value> {
                  Value f = expDiff(
                      lb, nl,
                      runAt(lb, nl, run, ix[0], groupEnd(lb, nl, g, nCV)),
                      rPrev);
                  return SmallVector<Value>{fma(
                      lb, nl, f, at(lb, nl, gs, {ix[0], g, ix[2]}), acc[0])};
                })[0];
  });
}

Value CausalFavor::prefixAt(OpBuilder &nb, Location nl, Value bhI, Value c,
                            Value x, Value run, Value gp, StateAt tAt) {
  Value g = idiv(nb, nl, c, kGroup);
  Value lo = imul(nb, nl, g, kGroup);
  Value rc = runAt(nb, nl, run, bhI, c);
  Value prev = arith::SubIOp::create(
      nb, nl, arith::MaxUIOp::create(nb, nl, lo, cidx(nb, nl, 1)),
      cidx(nb, nl, 1));
  Value hasPrev = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ugt, lo,
                                        cidx(nb, nl, 0));
  Value fromGroups = mul(nb, nl, expDiff(nb, nl, runAt(nb, nl, run, bhI, prev), rc),
                         at(nb, nl, gp, {bhI, g, x}));
  fromGroups =
      arith::SelectOp::create(nb, nl, hasPrev, fromGroups, f32(nb, nl, 0));
  return loop(nb, nl, lo, c, {fromGroups},
              [&](OpBuilder &lb, Value cc, ValueRange acc) -> SmallVector<Value> {
                Value f = expDiff(lb, nl, runAt(lb, nl, run, bhI, cc), rc);
                return SmallVector<Value>{
                    fma(lb, nl, f, tAt(lb, nl, bhI, cc, x), acc[0])};
              })[0];
}

Value CausalFavor::writeOut(NumAt numAt) {
  // o = num / den (0 where den is 0), into outs; loops (n, b, h, dv).
  return genInto(
      op.getInit(),
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
        Value bhI = iadd(nb, nl, imul(nb, nl, ix[0], heads), ix[1]);
        Value nu = numAt(nb, nl, bhI, ix[2], ix[3]);
        Value de = numAt(nb, nl, bhI, ix[2], cidx(nb, nl, d));
        Value zero = f32(nb, nl, 0);
        Value isZero = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                             de, zero);
        Value o = arith::SelectOp::create(
            nb, nl, isZero, zero, arith::DivFOp::create(nb, nl, nu, de));
        return arith::TruncFOp::create(nb, nl, elt, o);
      },
      {2, 0, 1, 3});
}

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
  Value qMax = featureMax(bh, nRows, aq);
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
  Value run = runningMax(bh, nC, cMax);
  auto runAt = [&](OpBuilder &nb, Location nl, Value bhI, Value c) {
    return this->runAt(nb, nl, run, bhI, c);
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
  // S [BH, nC, m (Dv + 1)]: the exclusive prefix under R[c].
  auto tAt = [&](OpBuilder &nb, Location nl, Value bhI, Value c, Value x) {
    return at(nb, nl, t, {bhI, c, x});
  };
  Value gp = groupPrefix(bh, nG, nCV, eS, run, tAt);
  Value st = gen({bh, nC, eS}, [&](OpBuilder &nb, Location nl,
                                   ArrayRef<Value> ix) -> Value {
    return prefixAt(nb, nl, ix[0], ix[1], ix[2], run, gp, tAt);
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
  Value result = writeOut([&](OpBuilder &nb, Location nl, Value bhI, Value n,
                             Value e) { return at(nb, nl, num, {bhI, n, e}); });
  op.getResult().replaceAllUsesWith(result);
  op.erase();
}

void CausalFavor::runMma(bool launch, StringRef name) {
  SmallVector<OpFoldResult> qs = getSizes(b, loc, op.getQuery());
  OpFoldResult bh = attn::detail::mulSizes(b, loc, qs[0], b.getIndexAttr(heads));
  int64_t kvHeads = heads / group;
  OpFoldResult bhKv =
      attn::detail::mulSizes(b, loc, qs[0], b.getIndexAttr(kvHeads));
  Value nV = getValueOrCreateConstantIndexOp(b, loc, qs[2]);
  Value nCV = arith::CeilDivUIOp::create(
      b, loc, nV, attn::detail::indexConst(b, loc, kChunk));
  Value nGV = arith::CeilDivUIOp::create(
      b, loc, nCV, attn::detail::indexConst(b, loc, kGroup));
  OpFoldResult nC = getAsOpFoldResult(nCV), nG = getAsOpFoldResult(nGV);
  // The chunks' rows: N rounded up to whole chunks (zero past N).
  OpFoldResult nPad = getAsOpFoldResult(arith::MulIOp::create(
      b, loc, nCV, attn::detail::indexConst(b, loc, kChunk)));
  // Columns of the value operand: v, the normaliser column of ones, zeros
  // up to a multiple of 16 (whole 8-column tiles of the products).
  const int64_t ext = d + 16;
  OpFoldResult mS = b.getIndexAttr(m), eS = b.getIndexAttr(ext),
               cS = b.getIndexAttr(kChunk);
  // The operands of the products are in q's element type (the products
  // accumulate in f32): PQ, PK <= 1, the live scores <= m, v as given; S[c]
  // is scaled by 1 / prefixScale(c) (below) so that f16 holds it.
  Type mmaType = elt;
  double s = scale;
  auto collapse = [&](Value t) -> Value {
    return tensor::CollapseShapeOp::create(
        b, loc, t, ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
  };
  Value q3 = collapse(op.getQuery()), k3 = collapse(op.getKey());
  Value w3 = op.getProjection();
  int64_t counter = 0;
  auto product = [&](MmaOperand x, MmaOperand y, int64_t k, int64_t rows,
                     int64_t cols, bool lowerMask = false,
                     Value *rowMax = nullptr) {
    MmaGemm g{x, y, heads, k, rows, cols, lowerMask, rowMax != nullptr};
    return buildMmaGemm(b, loc, module, g, bh, nCV, launch,
                        (name + "_" + Twine(counter++)).str(), rowMax);
  };
  // How the products read a tensor of one row block per (b, h), per (b, g)
  // (keys and values) and W.
  auto perHead = [&](Value t, int64_t rowStep, int64_t kStep) {
    return MmaOperand{t, heads, 1, heads, rowStep, kStep};
  };
  auto perKvHead = [&](Value t, int64_t rowStep, int64_t kStep) {
    return MmaOperand{t, kvHeads, group, kvHeads, rowStep, kStep};
  };
  MmaOperand wOp{w3, 0, 1, wHeads, 0, 0};

  // |k'|^2 / s^2 per (b, g, n).
  Value nrm = gen({bhKv, qs[2]}, [&](OpBuilder &nb, Location nl,
                                     ArrayRef<Value> ix) -> Value {
    Value bI = idiv(nb, nl, ix[0], kvHeads), g = irem(nb, nl, ix[0], kvHeads);
    return loop(nb, nl, cidx(nb, nl, 0), cidx(nb, nl, d), {f32(nb, nl, 0)},
                [&](OpBuilder &lb, Value e, ValueRange acc) -> SmallVector<Value> {
                  Value x = at(lb, nl, op.getKey(), {bI, g, ix[1], e});
                  return SmallVector<Value>{fma(lb, nl, x, x, acc[0])};
                })[0];
  });
  // Features: <w_j, k_n> and <w_j, q_n>, [BH, nC C, m] (row n).
  Value akRaw = product(perKvHead(k3, kChunk, 0), wOp, d, kChunk, m);
  // With AQ's row maxima per column tile of its kernel ([BH, nC C, tiles]:
  // the epilogue reduces each warp's rows, so no kernel reads AQ for them).
  Value aqTileMax;
  Value aqRaw = product(perHead(q3, kChunk, 0), wOp, d, kChunk, m,
                        /*lowerMask=*/false, &aqTileMax);
  const int64_t aqTiles =
      cast<RankedTensorType>(aqTileMax.getType()).getDimSize(2);
  // AK = s <w_j, k_n> - s^2 |k_n|^2 / 2.
  auto akAt = [&](OpBuilder &nb, Location nl, Value bhI, Value n, Value j) {
    Head hd = head(nb, nl, bhI);
    Value kv = iadd(nb, nl, imul(nb, nl, hd.b, kvHeads), hd.g);
    Value nC2 = imin(nb, nl, n, arith::SubIOp::create(
                                    nb, nl, arith::MaxUIOp::create(
                                                nb, nl, nV, cidx(nb, nl, 1)),
                                    cidx(nb, nl, 1)));
    return arith::SubFOp::create(
               nb, nl, mul(nb, nl, at(nb, nl, akRaw, {bhI, n, j}), f32(nb, nl, s)),
               mul(nb, nl, at(nb, nl, nrm, {kv, nC2}), f32(nb, nl, s * s / 2)))
        .getResult();
  };
  // Chunk maxima of AK in two steps: per (chunk, feature) over the chunk's
  // rows (the features on the threads: coalesced reads), then over m.
  Value cjMax = gen({bh, nC, mS}, [&](OpBuilder &nb, Location nl,
                                      ArrayRef<Value> ix) -> Value {
    Value lo = imul(nb, nl, ix[1], kChunk);
    Value hi = imin(nb, nl, iadd(nb, nl, lo, cidx(nb, nl, kChunk)), nV);
    return maxLoop(nb, nl, lo, hi,
                   [&](OpBuilder &lb, Value n) {
                     return akAt(lb, nl, ix[0], n, ix[2]);
                   });
  }, {1, 0, 2});
  Value cMax = featureMax(bh, nC, cjMax);
  Value run = runningMax(bh, nC, cMax, /*alloc=*/launch && !kLevels);
  // PK = exp(AK - R[c(n)]) (0 past N), [BH, nC C, m].
  auto pkAt = [&](OpBuilder &nb, Location nl, Value bhI, Value n, Value j) {
    Value live =
        arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult, n, nV);
    Value p = expDiff(nb, nl, akAt(nb, nl, bhI, n, j),
                      runAt(nb, nl, run, bhI, idiv(nb, nl, n, kChunk)));
    return arith::SelectOp::create(nb, nl, live, p, f32(nb, nl, 0))
        .getResult();
  };
  Value pkRows = genAs(mmaType, {bh, nPad, mS},
                       [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) {
                         return pkAt(nb, nl, ix[0], ix[1], ix[2]);
                       },
                       {1, 0, 2});
  // PQ = exp(AQ - max_j AQ), [BH, nC C, m] (the maximum of the tiles').
  Value pq = genAs(mmaType, {bh, nPad, mS},
                   [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
                     Value x = at(nb, nl, aqRaw, ix);
                     Value mx = maxLoop(
                         nb, nl, cidx(nb, nl, 0), cidx(nb, nl, aqTiles),
                         [&](OpBuilder &lb, Value z) {
                           return at(lb, nl, aqTileMax, {ix[0], ix[1], z});
                         });
                     return math::ExpOp::create(
                         nb, nl,
                         mul(nb, nl, arith::SubFOp::create(nb, nl, x, mx),
                             f32(nb, nl, s)));
                   },
                   {1, 0, 2});
  // [v, 1, 0...]^T per (b, g): [B Hkv, Dv + 16, nC C] (0 past N).
  Value vt = genAs(mmaType, {bhKv, eS, nPad},
                   [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
                     Value bI = idiv(nb, nl, ix[0], kvHeads);
                     Value g = irem(nb, nl, ix[0], kvHeads);
                     Value n = ix[2], e = ix[1];
                     Value live = arith::CmpIOp::create(
                         nb, nl, arith::CmpIPredicate::ult, n, nV);
                     Value nClamp = imin(nb, nl, n, arith::SubIOp::create(
                         nb, nl, arith::MaxUIOp::create(nb, nl, nV,
                                                        cidx(nb, nl, 1)),
                         cidx(nb, nl, 1)));
                     Value isV = arith::CmpIOp::create(
                         nb, nl, arith::CmpIPredicate::ult, e, cidx(nb, nl, d));
                     Value isOne = arith::CmpIOp::create(
                         nb, nl, arith::CmpIPredicate::eq, e, cidx(nb, nl, d));
                     Value eC = imin(nb, nl, e, cidx(nb, nl, d - 1));
                     Value x = arith::SelectOp::create(
                         nb, nl, isV,
                         at(nb, nl, op.getValue(), {bI, g, nClamp, eC}),
                         arith::SelectOp::create(nb, nl, isOne, f32(nb, nl, 1),
                                                 f32(nb, nl, 0)));
                     return arith::SelectOp::create(nb, nl, live, x,
                                                    f32(nb, nl, 0))
                         .getResult();
                   });
  // T[c]^T = [v, 1]^T PK_c: [BH, nC (Dv + 16), m] (m innermost, as the
  // prefix generics read it: with T [.., m, Dv + 16] their reads were
  // strided and S took 34 of 65 ms at N = 65536 on the H200).
  MmaOperand pkByKey = perHead(pkRows, 0, kChunk);
  pkByKey.transposed = true;
  Value t = product(perKvHead(vt, 0, kChunk), pkByKey, kChunk, ext, m);
  // S[c] (the exclusive prefix), transposed for the product: [BH, nC (Dv +
  // 16), m].
  // max(1, c C / 1024): S[c] <= c C max(1, |v|) elementwise (PK <= 1), so
  // S[c] / prefixScale(c) <= 1024 max(1, |v|), in f16's range, and only
  // sums of PK averaging below 6e-8 per key (6e-5 / 1024) fall under f16's
  // normal range.
  auto prefixScale = [&](OpBuilder &nb, Location nl, Value c) -> Value {
    Value keys = arith::UIToFPOp::create(
        nb, nl, nb.getF32Type(),
        arith::IndexCastUIOp::create(nb, nl, nb.getI64Type(),
                                     imul(nb, nl, c, kChunk)));
    return arith::MaximumFOp::create(
        nb, nl, f32(nb, nl, 1),
        mul(nb, nl, keys, f32(nb, nl, 1.0 / 1024)));
  };
  // Element x = e m + j of T[c].
  auto tAt = [&](OpBuilder &nb, Location nl, Value bhI, Value c, Value x) {
    Value e = idiv(nb, nl, x, m), j = irem(nb, nl, x, m);
    return at(nb, nl, t, {bhI, iadd(nb, nl, imul(nb, nl, c, ext), e), j});
  };
  OpFoldResult stRows = getAsOpFoldResult(arith::MulIOp::create(
      b, loc, nCV, attn::detail::indexConst(b, loc, ext)));
  Value st;
  if (kLevels) {
    Value gp = groupPrefix(bh, nG, nCV, b.getIndexAttr(m * ext), run, tAt);
    st = genAs(mmaType, {bh, stRows, mS},
               [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
                 Value c = idiv(nb, nl, ix[1], ext);
                 Value e = irem(nb, nl, ix[1], ext);
                 Value x = iadd(nb, nl, imul(nb, nl, e, m), ix[2]);
                 return arith::DivFOp::create(
                     nb, nl, prefixAt(nb, nl, ix[0], c, x, run, gp, tAt),
                     prefixScale(nb, nl, c));
               },
               {1, 0, 2});
  } else if (launch) {
    // One thread per state element walks the chunks (GpuMmaGemm.h).
    st = buildChunkScan(b, loc, module, ChunkScan{ext, m, kChunk}, t, run, bh,
                        nCV, mmaType, (name + "_scan").str());
  } else {
    // The same recurrence, recomputed for each chunk (the CPU checks it):
    // acc_{c'+1} = (acc_{c'} + T[c']) exp(R[c'] - R[c' + 1]) for c' < c.
    st = genAs(mmaType, {bh, stRows, mS},
               [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
                 Value c = idiv(nb, nl, ix[1], ext);
                 Value e = irem(nb, nl, ix[1], ext);
                 Value acc =
                     loop(nb, nl, cidx(nb, nl, 0), c, {f32(nb, nl, 0)},
                          [&](OpBuilder &lb, Value cc,
                              ValueRange a) -> SmallVector<Value> {
                            Value tv = at(lb, nl, t,
                                          {ix[0],
                                           iadd(lb, nl, imul(lb, nl, cc, ext), e),
                                           ix[2]});
                            Value f = expDiff(
                                lb, nl, runAt(lb, nl, run, ix[0], cc),
                                runAt(lb, nl, run, ix[0],
                                      iadd(lb, nl, cc, cidx(lb, nl, 1))));
                            return SmallVector<Value>{
                                mul(lb, nl, add(lb, nl, a[0], tv), f)};
                          })[0];
                 return arith::DivFOp::create(nb, nl, acc,
                                              prefixScale(nb, nl, c));
               },
               {1, 0, 2});
  }
  // Scores within the chunk, A = PQ_c PK_c^T [BH, nC C, C], the live ones
  // (key r <= query i) in the operand type (the product's epilogue).
  Value live = product(perHead(pq, kChunk, 0), perHead(pkRows, kChunk, 0), m,
                       kChunk, kChunk, /*lowerMask=*/true);
  // NUM = PQ_c S[c] + A_c [v, 1]: two [BH, nC C, Dv + 16] products.
  Value inter = product(perHead(pq, kChunk, 0), perHead(st, ext, 0), m, kChunk,
                        ext);
  Value intra = product(perHead(live, kChunk, 0), perKvHead(vt, 0, kChunk),
                        kChunk, kChunk, ext);
  Value result = writeOut([&](OpBuilder &nb, Location nl, Value bhI, Value n,
                              Value e) {
    return fma(nb, nl, at(nb, nl, inter, {bhI, n, e}),
               prefixScale(nb, nl, idiv(nb, nl, n, kChunk)),
               at(nb, nl, intra, {bhI, n, e}));
  });
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

bool mlir::attn::isGpuCausalFavorMmaShape(KernelizedOp op, int64_t chunk) {
  auto w = cast<RankedTensorType>(op.getProjection().getType());
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  return chunk % 16 == 0 && w.getDimSize(1) % 16 == 0 &&
         w.getElementType() == q.getElementType();
}

void mlir::attn::buildGpuCausalFavor(OpBuilder &b, KernelizedOp op,
                                     int64_t chunk, int64_t group,
                                     StringRef mma, StringRef prefix,
                                     StringRef name) {
  CausalFavor scan(b, op, chunk, group, prefix == "levels");
  if (mma != "off" && isGpuCausalFavorMmaShape(op, chunk))
    scan.runMma(mma == "launch", name);
  else
    scan.run();
}
