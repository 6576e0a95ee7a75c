//===- FusedSelect.cpp - linear-time sorts of the fused lsh / cluster -----===//
//
// See FusedSelect.h. Each row (one hash round, or one cluster, of one batch
// and head) is one iteration of an scf.forall; inside it, scf.for loops
// carry small tensors (a histogram) and the row's slices of the results,
// which bufferization updates in place.
//
//===----------------------------------------------------------------------===//
#include "FusedSelect.h"
#include "DecomposeUtils.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// The f32 lanes of the combine's vectors.
static constexpr int64_t kCombineLanes = 16;

namespace {
/// Builds the body of one row of a per-row scf.forall over dims 0..2 of a
/// [A0, A1, A2, N] tensor.
struct RowBuilder {
  OpBuilder &b;
  Location loc;
  SmallVector<Value> ivs; // the forall's (a0, a1, a2)

  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value zext(Value flag) {
    return arith::ExtUIOp::create(b, loc, b.getI64Type(), flag);
  }
  Value extract(Value t, Value i) {
    return tensor::ExtractOp::create(b, loc, t, ValueRange{i});
  }
  Value insert(Value v, Value t, Value i) {
    return tensor::InsertOp::create(b, loc, v, t, ValueRange{i});
  }
  /// A 1-D i64 tensor of `size` zeros.
  Value zeros(int64_t size) {
    Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{size},
                                          b.getI64Type());
    return linalg::FillOp::create(b, loc, i64(0), empty).getResult(0);
  }
  /// The row (a0, a1, a2, 0 .. len) of `t` as a 1-D slice.
  Value row(Value t, OpFoldResult len) {
    auto type = cast<RankedTensorType>(t.getType());
    auto rowType = RankedTensorType::get(
        {getConstantIntValue(len).value_or(ShapedType::kDynamic)},
        type.getElementType());
    OpFoldResult one = b.getIndexAttr(1);
    return tensor::ExtractSliceOp::create(
        b, loc, rowType, t,
        ArrayRef<OpFoldResult>{ivs[0], ivs[1], ivs[2], b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, one, one, len},
        ArrayRef<OpFoldResult>{one, one, one, one});
  }
  /// Writes `rowValue` back as row (a0, a1, a2) of the shared output `dest`
  /// (at the insertion point, inside the forall's terminator).
  void insertRow(Value rowValue, Value dest, OpFoldResult len) {
    OpFoldResult one = b.getIndexAttr(1);
    tensor::ParallelInsertSliceOp::create(
        b, loc, rowValue, dest,
        ArrayRef<OpFoldResult>{ivs[0], ivs[1], ivs[2], b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, one, one, len},
        ArrayRef<OpFoldResult>{one, one, one, one});
  }
  /// `for i in [0, ub)` carrying `inits`; `body` returns the next values.
  SmallVector<Value>
  loop(Value ub, ValueRange inits,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto op = scf::ForOp::create(
        b, loc, index(0), ub, index(1), inits,
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          scf::YieldOp::create(b, loc, body(iv, args));
        });
    return SmallVector<Value>(op.getResults());
  }
};
} // namespace

/// An scf.forall over dims 0..2 of `sizes` with `outs` as shared outputs;
/// `body` builds one row (returns the row values to write back, one per
/// output, each of length `lengths[i]`).
static SmallVector<Value>
forEachRow(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
           ValueRange outs, ArrayRef<OpFoldResult> lengths,
           function_ref<SmallVector<Value>(RowBuilder &, ValueRange)> body) {
  auto forall =
      scf::ForallOp::create(b, loc, sizes.take_front(3), outs, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  RowBuilder rb{b, loc, llvm::to_vector(forall.getInductionVars())};
  ValueRange shared = forall.getRegionIterArgs();
  SmallVector<Value> rows = body(rb, shared);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [row, dest, len] : llvm::zip_equal(rows, shared, lengths))
    rb.insertRow(row, dest, len);
  return SmallVector<Value>(forall.getResults());
}

std::pair<Value, Value>
mlir::attn::detail::countingSortSlots(OpBuilder &b, Location loc,
                                      Value buckets, int64_t numBuckets) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, buckets);
  Type i64Type = b.getI64Type();
  OpFoldResult len = sizes[3];
  // No positions (N = 0 statically): nothing to sort, and a row slice of a
  // static 0 dim would not verify.
  if (std::optional<int64_t> n = getConstantIntValue(len); n && *n == 0)
    return {emptyTensor(b, loc, sizes, i64Type),
            emptyTensor(b, loc, sizes, i64Type)};
  SmallVector<Value> results = forEachRow(
      b, loc, sizes,
      ValueRange{emptyTensor(b, loc, sizes, i64Type),
                 emptyTensor(b, loc, sizes, i64Type)},
      {len, len}, [&](RowBuilder &r, ValueRange shared) {
        Value n = toIndexValue(b, loc, len);
        Value keys = r.row(buckets, len);
        // The bucket of position i as an index, clamped into the bins.
        auto bucketAt = [&](Value i) {
          Value k = r.extract(keys, i);
          k = arith::MaxSIOp::create(b, loc, k, r.i64(0));
          k = arith::MinSIOp::create(b, loc, k, r.i64(numBuckets - 1));
          return r.toIndex(k);
        };
        // counts[k] = #{i : bucket(i) == k}.
        Value counts =
            r.loop(n, r.zeros(numBuckets), [&](Value i, ValueRange a) {
              Value k = bucketAt(i);
              return SmallVector<Value>{r.insert(
                  r.add(r.extract(a[0], k), r.i64(1)), a[0], k)};
            })[0];
        // next[k] = sum of counts below k: the first slot of bucket k.
        Value next = r.loop(
            r.index(numBuckets), {r.i64(0), r.zeros(numBuckets)},
            [&](Value k, ValueRange a) {
              return SmallVector<Value>{r.add(a[0], r.extract(counts, k)),
                                        r.insert(a[0], a[1], k)};
            })[1];
        // In increasing position: slot(i) = next[bucket(i)]++ (stable).
        SmallVector<Value> out = r.loop(
            n, {next, r.row(shared[0], len), r.row(shared[1], len)},
            [&](Value i, ValueRange a) {
              Value k = bucketAt(i);
              Value t = r.extract(a[0], k);
              Value position = toI64(b, loc, i);
              return SmallVector<Value>{
                  r.insert(r.add(t, r.i64(1)), a[0], k),
                  r.insert(t, a[1], i), r.insert(position, a[2], r.toIndex(t))};
            });
        return SmallVector<Value>{out[1], out[2]};
      });
  return {results[0], results[1]};
}

/// The order-preserving 32-bit key (as i64 in [0, 2^32)) of an f32 score:
/// key(x) < key(y) iff x < y for non-NaN x, y, with -0 read as +0.
static Value orderKey(RowBuilder &r, Value x) {
  OpBuilder &b = r.b;
  Location loc = r.loc;
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value isZero =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, zero);
  x = r.select(isZero, zero, x);
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), x);
  Value wide = arith::ExtUIOp::create(b, loc, b.getI64Type(), bits);
  Value negative = r.cmp(arith::CmpIPredicate::slt, bits,
                         arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0));
  Value flipped = arith::XOrIOp::create(b, loc, wide, r.i64(0xFFFFFFFFll));
  Value raised = arith::OrIOp::create(b, loc, wide, r.i64(0x80000000ll));
  return r.select(negative, flipped, raised);
}

std::pair<Value, Value>
mlir::attn::detail::topWindowMembers(OpBuilder &b, Location loc, Value scores,
                                     int64_t window) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, scores);
  SmallVector<OpFoldResult> memberSizes = {sizes[0], sizes[1], sizes[2],
                                           b.getIndexAttr(window)};
  Type i64Type = b.getI64Type();
  OpFoldResult len = sizes[3];
  SmallVector<Value> results = forEachRow(
      b, loc, sizes,
      ValueRange{emptyTensor(b, loc, memberSizes, i64Type),
                 emptyTensor(b, loc, sizes, i64Type)},
      {memberSizes[3], len}, [&](RowBuilder &r, ValueRange shared) {
        Value n = toIndexValue(b, loc, len);
        Value row = r.row(scores, len);
        auto keyAt = [&](Value i) { return orderKey(r, r.extract(row, i)); };
        // Radix select of the window-th largest key, 8 bits per pass from
        // the top: `prefix` holds the digits found so far (under `mask`),
        // `remaining` how many of the keys with that prefix are still to
        // be taken.
        Value prefix = r.i64(0), mask = r.i64(0), remaining = r.i64(window);
        for (int shift = 24; shift >= 0; shift -= 8) {
          Value hist = r.loop(n, r.zeros(256), [&](Value i, ValueRange a) {
            Value key = keyAt(i);
            Value match = r.cmp(arith::CmpIPredicate::eq,
                                arith::AndIOp::create(b, loc, key, mask),
                                prefix);
            Value digit = arith::AndIOp::create(
                b, loc, arith::ShRUIOp::create(b, loc, key, r.i64(shift)),
                r.i64(255));
            Value d = r.toIndex(digit);
            return SmallVector<Value>{
                r.insert(r.add(r.extract(a[0], d), r.zext(match)), a[0], d)};
          })[0];
          // From digit 255 down: the digit whose keys reach `remaining`, and
          // how many keys lie above it.
          Value notYet = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
          SmallVector<Value> scan = r.loop(
              r.index(256), {r.i64(0), r.i64(0), r.i64(0), notYet},
              [&](Value i, ValueRange a) {
                Value d = arith::SubIOp::create(b, loc, r.index(255), i);
                Value cum = r.add(a[0], r.extract(hist, d));
                Value hit = arith::AndIOp::create(
                    b, loc,
                    arith::XOrIOp::create(
                        b, loc, a[3],
                        arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
                    r.cmp(arith::CmpIPredicate::sge, cum, remaining));
                return SmallVector<Value>{
                    cum, r.select(hit, toI64(b, loc, d), a[1]),
                    r.select(hit, a[0], a[2]),
                    arith::OrIOp::create(b, loc, a[3], hit)};
              });
          prefix = arith::OrIOp::create(
              b, loc, prefix,
              arith::ShLIOp::create(b, loc, scan[1], r.i64(shift)));
          mask = arith::OrIOp::create(b, loc, mask, r.i64(255ll << shift));
          remaining = arith::SubIOp::create(b, loc, remaining, scan[2]);
        }
        // prefix is now the window-th largest key; every larger key and the
        // first `remaining` keys equal to it (in position order) are members.
        Value last = r.i64(window - 1);
        SmallVector<Value> out = r.loop(
            n,
            {r.i64(0), r.i64(0), r.row(shared[0], memberSizes[3]),
             r.row(shared[1], len)},
            [&](Value i, ValueRange a) {
              Value key = keyAt(i);
              Value tie = arith::AndIOp::create(
                  b, loc, r.cmp(arith::CmpIPredicate::eq, key, prefix),
                  r.cmp(arith::CmpIPredicate::slt, a[1], remaining));
              Value member = arith::OrIOp::create(
                  b, loc, r.cmp(arith::CmpIPredicate::sgt, key, prefix), tie);
              Value at = r.toIndex(arith::MinSIOp::create(b, loc, a[0], last));
              Value kept = r.select(member, toI64(b, loc, i), r.extract(a[2], at));
              return SmallVector<Value>{
                  r.add(a[0], r.zext(member)), r.add(a[1], r.zext(tie)),
                  r.insert(kept, a[2], at),
                  r.insert(r.select(member, a[0], r.i64(window)), a[3], i)};
            });
        return SmallVector<Value>{out[2], out[3]};
      });
  return {results[0], results[1]};
}

bool mlir::attn::detail::fusedCombineApplies(FloatType computeType,
                                             Type initElement, int64_t dv,
                                             bool zeroSize) {
  return computeType.isF32() && initElement.isF32() &&
         !ShapedType::isDynamic(dv) && dv % kCombineLanes == 0 && !zeroSize;
}

Value mlir::attn::detail::fusedCombineByLse(OpBuilder &b, Location loc,
                                            Value rows, Value o, Value lse,
                                            Value init, FloatType computeType,
                                            const SelfPart &self) {
  constexpr int64_t lanes = kCombineLanes, block = 64;
  auto oType = cast<RankedTensorType>(o.getType());
  auto rowsType = cast<RankedTensorType>(rows.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t dv = oType.getDimSize(3);
  auto hasZero = [](RankedTensorType t) {
    return llvm::is_contained(t.getShape(), 0);
  };
  if (!oType.getElementType().isF32() ||
      !cast<RankedTensorType>(lse.getType()).getElementType().isF32() ||
      !fusedCombineApplies(computeType, initType.getElementType(), dv,
                           hasZero(oType) || hasZero(rowsType) ||
                               hasZero(initType)))
    return {};
  Type f32 = b.getF32Type();
  auto vType = VectorType::get({lanes}, f32);
  // o as [B, G * M, Dv] and lse as [B, G * M]: a part's row g * M + u.
  Value flatO = tensor::CollapseShapeOp::create(
      b, loc, o, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  Value flatLse = tensor::CollapseShapeOp::create(
      b, loc, lse, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  SmallVector<OpFoldResult> rowSizes = getSizes(b, loc, rows);
  SmallVector<OpFoldResult> outSizes = getSizes(b, loc, init);
  outSizes[3] = b.getIndexAttr(dv);
  Value result = emptyTensor(b, loc, outSizes, f32);
  Value n = toIndexValue(b, loc, rowSizes[3]);
  Value parts = toIndexValue(b, loc, rowSizes[2]);
  Value blocks = arith::CeilDivUIOp::create(
      b, loc, n, arith::ConstantIndexOp::create(b, loc, block));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{rowSizes[0], rowSizes[1], blocks},
      ValueRange{result}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  RowBuilder r{b, loc, llvm::to_vector(forall.getInductionVars())};
  Value bi = r.ivs[0], hi = r.ivs[1];
  Value n0 = arith::MulIOp::create(b, loc, r.ivs[2], r.index(block));
  Value count = arith::MinUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, n, n0), r.index(block));
  OpFoldResult one = b.getIndexAttr(1), zeroAttr = b.getIndexAttr(0);
  Value tile = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({ShapedType::kDynamic, dv}, f32),
      forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, hi, n0, zeroAttr},
      ArrayRef<OpFoldResult>{one, one, count, b.getIndexAttr(dv)},
      ArrayRef<OpFoldResult>{one, one, one, one});
  auto f32Const = [&](double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)).getResult();
  };
  Value negInf = f32Const(-std::numeric_limits<double>::infinity());
  // Part p of query q: its row as an index (0 when it does not exist),
  // whether it does not, and its lse (-inf when it does not).
  auto part = [&](Value p, Value q) {
    Value row = tensor::ExtractOp::create(b, loc, rows,
                                          ValueRange{bi, hi, p, q});
    Value none = r.cmp(arith::CmpIPredicate::slt, row, r.i64(0));
    Value index = r.toIndex(r.select(none, r.i64(0), row));
    Value value =
        tensor::ExtractOp::create(b, loc, flatLse, ValueRange{bi, index});
    return std::make_tuple(index, none, r.select(none, negInf, value));
  };
  // The self part's lse, score + log(P) (-inf without parts or self part).
  Value selfLse = negInf;
  if (self.values) {
    Value partCount = arith::UIToFPOp::create(
        b, loc, f32, arith::IndexCastUIOp::create(b, loc, b.getI64Type(), parts));
    selfLse = arith::AddFOp::create(b, loc, f32Const(self.score),
                                    math::LogOp::create(b, loc, partCount));
  }
  Value out = r.loop(count, {tile}, [&](Value i, ValueRange iter) {
    Value q = r.add(n0, i);
    // shift = max_p lse_p (0 when -inf), total = sum_p exp(lse_p - shift).
    Value max = r.loop(parts, {selfLse}, [&](Value p, ValueRange a) {
      Value l = std::get<2>(part(p, q));
      return SmallVector<Value>{arith::MaximumFOp::create(b, loc, a[0], l)};
    })[0];
    Value shift = softmaxShift(b, loc, max);
    auto weightOf = [&](Value l) {
      return math::ExpOp::create(b, loc,
                                 arith::SubFOp::create(b, loc, l, shift));
    };
    Value selfWeight = self.values ? weightOf(selfLse) : f32Const(0.0);
    Value total = r.loop(parts, {selfWeight}, [&](Value p, ValueRange a) {
      Value w = weightOf(std::get<2>(part(p, q)));
      return SmallVector<Value>{arith::AddFOp::create(b, loc, a[0], w)};
    })[0];
    // out(q) = sum_p (exp(lse_p - shift) / total) o_p, parts that do not
    // exist skipped by selection; the self part first.
    Value zeros = arith::ConstantOp::create(
        b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
    SmallVector<Value> init(dv / lanes, zeros);
    if (self.values) {
      Value wv = vector::BroadcastOp::create(
          b, loc, vType, divideOrZero(b, loc, selfWeight, total));
      for (int64_t j = 0; j < dv / lanes; ++j) {
        Value v = vector::TransferReadOp::create(
            b, loc, vType, self.values, ValueRange{bi, hi, q, r.index(j * lanes)},
            f32Const(0.0), ArrayRef<bool>{true});
        init[j] = arith::MulFOp::create(b, loc, wv, v);
      }
    }
    SmallVector<Value> acc = r.loop(parts, init, [&](Value p, ValueRange a) {
      auto [row, none, l] = part(p, q);
      Value w = divideOrZero(b, loc, weightOf(l), total);
      Value wv = vector::BroadcastOp::create(b, loc, vType, w);
      SmallVector<Value> next;
      for (int64_t j = 0; j < dv / lanes; ++j) {
        Value v = vector::TransferReadOp::create(
            b, loc, vType, flatO, ValueRange{bi, row, r.index(j * lanes)},
            f32Const(0.0), ArrayRef<bool>{true});
        Value sum = arith::AddFOp::create(
            b, loc, a[j], arith::MulFOp::create(b, loc, wv, v));
        next.push_back(r.select(none, a[j], sum));
      }
      return next;
    });
    Value t = iter[0];
    for (int64_t j = 0; j < dv / lanes; ++j)
      t = vector::TransferWriteOp::create(b, loc, acc[j], t,
                                          ValueRange{i, r.index(j * lanes)},
                                          ArrayRef<bool>{true})
              .getResult();
    return SmallVector<Value>{t};
  })[0];
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, out, forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, hi, n0, zeroAttr},
      ArrayRef<OpFoldResult>{one, one, count, b.getIndexAttr(dv)},
      ArrayRef<OpFoldResult>{one, one, one, one});
  Value combined = forall.getResult(0);
  if (initType.isDynamicDim(3))
    combined = tensor::CastOp::create(b, loc, initType, combined);
  return combined;
}

/// The rows of a `block`-row tile that starts at `row0` of a length `n`
/// sequence: `min(block, n - row0)`.
static Value tileRows(OpBuilder &b, Location loc, Value row0, Value n,
                      int64_t block) {
  return arith::MinUIOp::create(b, loc, arith::SubIOp::create(b, loc, n, row0),
                                indexConst(b, loc, block));
}

/// The index of the first maximum of `[x ; -x]` for an f32 vector `x` of K
/// lanes (an i64 in [0, 2K); 0 when no lane compares, i.e. all NaN), as the
/// reference's argmax over the offers (x_k, k) and (-x_k, K + k) with `>`.
static Value argmaxOfBoth(OpBuilder &b, Location loc, Value x) {
  auto vType = cast<VectorType>(x.getType());
  int64_t k = vType.getNumElements();
  auto iType = VectorType::get({k}, b.getI64Type());
  Value negX = arith::NegFOp::create(b, loc, x);
  auto reduce = [&](vector::CombiningKind kind, Value v) {
    return vector::ReductionOp::create(b, loc, kind, v).getResult();
  };
  Value max = arith::MaxNumFOp::create(
      b, loc, reduce(vector::CombiningKind::MAXNUMF, x),
      reduce(vector::CombiningKind::MAXNUMF, negX));
  Value maxV = vector::BroadcastOp::create(b, loc, vType, max);
  SmallVector<int64_t> lanes(k);
  std::iota(lanes.begin(), lanes.end(), 0);
  auto iotaPlus = [&](int64_t base) {
    SmallVector<int64_t> v(lanes);
    for (int64_t &e : v)
      e += base;
    return arith::ConstantOp::create(
        b, loc, iType, DenseElementsAttr::get(iType, ArrayRef<int64_t>(v)));
  };
  Value none = arith::ConstantOp::create(
      b, loc, iType, DenseElementsAttr::get(iType, b.getI64IntegerAttr(2 * k)));
  // The smallest index whose value equals the maximum, in each half.
  auto firstEqual = [&](Value v, int64_t base) {
    Value eq =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, v, maxV);
    return reduce(vector::CombiningKind::MINSI,
                  arith::SelectOp::create(b, loc, eq, iotaPlus(base), none));
  };
  Value first = arith::MinSIOp::create(b, loc, firstEqual(x, 0),
                                       firstEqual(negX, k));
  Value found = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::slt, first,
      arith::ConstantIntOp::create(b, loc, b.getI64Type(), 2 * k));
  return arith::SelectOp::create(
      b, loc, found, first,
      arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0));
}

Value mlir::attn::detail::fusedBuckets(OpBuilder &b, Location loc, Value qk,
                                       Value rotations) {
  constexpr int64_t block = 64;
  auto qkType = cast<RankedTensorType>(qk.getType());
  auto rotType = cast<RankedTensorType>(rotations.getType());
  int64_t d = qkType.getDimSize(3), k = rotType.getDimSize(3);
  if (!qkType.getElementType().isF32() || !rotType.getElementType().isF32() ||
      ShapedType::isDynamic(d) || rotType.getDimSize(2) != d ||
      ShapedType::isDynamic(k) || d == 0 || k == 0)
    return {};
  SmallVector<OpFoldResult> q = getSizes(b, loc, qk);
  SmallVector<OpFoldResult> outSizes = {q[0], q[1],
                                        getSizes(b, loc, rotations)[1], q[2]};
  Type i64 = b.getI64Type();
  Value n = toIndexValue(b, loc, q[2]);
  Value blocks =
      arith::CeilDivUIOp::create(b, loc, n, indexConst(b, loc, block));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{outSizes[0], outSizes[1], outSizes[2], blocks},
      ValueRange{emptyTensor(b, loc, outSizes, i64)}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  RowBuilder r{b, loc, llvm::to_vector(forall.getInductionVars())};
  Value bi = r.ivs[0], hi = r.ivs[1], ri = r.ivs[2];
  Value n0 = arith::MulIOp::create(b, loc, r.ivs[3], r.index(block));
  Value rows = tileRows(b, loc, n0, n, block);
  // x = qk[b, h, n0 : n0 + rows] R[h, r]: [rows, K], a micro-kernel
  // contraction.
  Value x = fuse::contract(
      b, loc, fuse::rows4d(b, loc, qk, bi, hi, n0, rows),
      fuse::rows4d(b, loc, rotations, hi, ri, b.getIndexAttr(0),
                   b.getIndexAttr(d)),
      fuse::filled2d(b, loc, rows, b.getIndexAttr(k), 0.0));
  OpFoldResult one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets = {bi, hi, ri, n0};
  SmallVector<OpFoldResult> sizes = {one, one, one, rows};
  SmallVector<OpFoldResult> strides(4, one);
  Value dest = forall.getRegionIterArgs()[0];
  Value slice = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({ShapedType::kDynamic}, i64), dest, offsets,
      sizes, strides);
  auto vType = VectorType::get({k}, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value out = r.loop(rows, {slice}, [&](Value i, ValueRange a) {
    Value row = vector::TransferReadOp::create(
        b, loc, vType, x, ValueRange{i, r.index(0)}, zero,
        ArrayRef<bool>{true});
    return SmallVector<Value>{r.insert(argmaxOfBoth(b, loc, row), a[0], i)};
  })[0];
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, out, dest, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

/// The f32 vector `v / ||v||`, or 0 where `||v||` is 0 (normalizeRows of
/// DecomposeUtils.h on one row).
static Value unitVector(OpBuilder &b, Location loc, Value v) {
  auto vType = cast<VectorType>(v.getType());
  Value sum = vector::ReductionOp::create(
      b, loc, vector::CombiningKind::ADD, arith::MulFOp::create(b, loc, v, v));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value isZero =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, zero);
  Value norm = math::SqrtOp::create(b, loc, sum);
  Value unit = arith::DivFOp::create(
      b, loc, v, vector::BroadcastOp::create(b, loc, vType, norm));
  return arith::SelectOp::create(
      b, loc, isZero,
      arith::ConstantOp::create(b, loc, vType,
                                DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f))),
      unit);
}

/// Writes each of `tiles` into the matching shared output of `forall` at
/// (`offsets`, `sizes`, `strides`), in the forall's terminator, and returns
/// the forall's results.
static SmallVector<Value>
insertTiles(OpBuilder &b, Location loc, scf::ForallOp forall, ValueRange tiles,
            ArrayRef<SmallVector<OpFoldResult>> offsets,
            ArrayRef<SmallVector<OpFoldResult>> sizes,
            ArrayRef<OpFoldResult> strides) {
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [tile, shared, off, size] :
       llvm::zip(tiles, forall.getRegionIterArgs(), offsets, sizes))
    tensor::ParallelInsertSliceOp::create(b, loc, tile, shared, off, size,
                                          strides);
  return SmallVector<Value>(forall.getResults());
}
SmallVector<Value> mlir::attn::detail::fusedGatherRows(OpBuilder &b,
                                                       Location loc,
                                                       ValueRange srcs,
                                                       Value pos,
                                                       OpFoldResult headDiv) {
  Type f32 = b.getF32Type();
  for (Value src : srcs) {
    int64_t f = cast<RankedTensorType>(src.getType()).getDimSize(3);
    if (ShapedType::isDynamic(f) || f == 0 ||
        !isa<FloatType>(getElementTypeOrSelf(src.getType())) ||
        getElementTypeOrSelf(src.getType()).getIntOrFloatBitWidth() > 32)
      return {};
  }
  SmallVector<OpFoldResult> posSizes = getSizes(b, loc, pos);
  SmallVector<Value> inits;
  for (Value src : srcs) {
    SmallVector<OpFoldResult> sizes(posSizes);
    sizes.push_back(getSizes(b, loc, src)[3]);
    inits.push_back(emptyTensor(b, loc, sizes, f32));
  }
  Value div = safeDivisor(b, loc, headDiv);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{posSizes[0], posSizes[1]}, inits,
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  RowBuilder r{b, loc, llvm::to_vector(forall.getInductionVars())};
  Value bi = r.ivs[0], gi = r.ivs[1];
  Value head = arith::DivUIOp::create(b, loc, gi, div);
  Value m = toIndexValue(b, loc, posSizes[2]);
  OpFoldResult one = b.getIndexAttr(1), zeroAttr = b.getIndexAttr(0);
  SmallVector<SmallVector<OpFoldResult>> offsets, sizes;
  SmallVector<Value> tiles;
  SmallVector<OpFoldResult> strides(4, one);
  for (auto [src, shared] : llvm::zip(srcs, forall.getRegionIterArgs())) {
    int64_t f = cast<RankedTensorType>(src.getType()).getDimSize(3);
    offsets.push_back({bi, gi, zeroAttr, zeroAttr});
    sizes.push_back({one, one, posSizes[2], b.getIndexAttr(f)});
    auto tileType = RankedTensorType::get(
        {getConstantIntValue(posSizes[2]).value_or(ShapedType::kDynamic), f},
        f32);
    tiles.push_back(tensor::ExtractSliceOp::create(
        b, loc, tileType, shared, offsets.back(), sizes.back(), strides));
  }
  // Row by row: the source row at the position as whole vectors.
  SmallVector<Value> out = r.loop(m, tiles, [&](Value i, ValueRange a) {
    Value p = r.toIndex(
        tensor::ExtractOp::create(b, loc, pos, ValueRange{bi, gi, i}));
    SmallVector<Value> next;
    for (auto [src, tile] : llvm::zip(srcs, a)) {
      auto type = cast<RankedTensorType>(src.getType());
      auto vType = VectorType::get({type.getDimSize(3)}, type.getElementType());
      Value pad = arith::ConstantOp::create(
          b, loc, b.getFloatAttr(type.getElementType(), 0.0));
      Value v = vector::TransferReadOp::create(
          b, loc, vType, src, ValueRange{bi, head, p, r.index(0)}, pad,
          ArrayRef<bool>{true});
      if (!type.getElementType().isF32())
        v = arith::ExtFOp::create(
            b, loc, VectorType::get({type.getDimSize(3)}, f32), v);
      next.push_back(vector::TransferWriteOp::create(
                         b, loc, v, tile, ValueRange{i, r.index(0)},
                         ArrayRef<bool>{true})
                         .getResult());
    }
    return next;
  });
  return insertTiles(b, loc, forall, out, offsets, sizes, strides);
}

SmallVector<Value> mlir::attn::detail::fusedLshChunks(
    OpBuilder &b, Location loc, Value qk, Value v, Value slot, int64_t chunk,
    OpFoldResult numChunks, OpFoldResult window, Value lookBackMod,
    ValueRange dests) {
  auto qkType = cast<RankedTensorType>(qk.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  int64_t d = qkType.getDimSize(3), dv = vType.getDimSize(3);
  Type vElement = vType.getElementType();
  if (!qkType.getElementType().isF32() || !isa<FloatType>(vElement) ||
      vElement.getIntOrFloatBitWidth() > 32 || ShapedType::isDynamic(d) ||
      ShapedType::isDynamic(dv) || d == 0 || dv == 0 ||
      llvm::is_contained(cast<RankedTensorType>(slot.getType()).getShape(), 0))
    return {};
  Type f32 = b.getF32Type();
  SmallVector<OpFoldResult> q = getSizes(b, loc, qk);
  SmallVector<OpFoldResult> p = getSizes(b, loc, slot); // [B, H, R, N]
  OpFoldResult groups = mulSizes(b, loc, mulSizes(b, loc, p[1], p[2]), numChunks);
  OpFoldResult keyRows = mulSizes(b, loc, window, b.getIndexAttr(chunk));
  OpFoldResult c = b.getIndexAttr(chunk);
  SmallVector<OpFoldResult> qSizes = {q[0], groups, c, b.getIndexAttr(d)};
  SmallVector<OpFoldResult> kSizes = {q[0], groups, keyRows, b.getIndexAttr(d)};
  SmallVector<OpFoldResult> vSizes = {q[0], groups, keyRows,
                                      b.getIndexAttr(dv)};
  Value nC = safeDivisor(b, loc, numChunks);
  Value w = toIndexValue(b, loc, window);
  // Given destinations of the chunks' types take the place of new tensors
  // (a size that is an attribute is a static dim, as in tensor.empty).
  ArrayRef<OpFoldResult> allSizes[] = {qSizes, kSizes, vSizes};
  auto chunkType = [&](ArrayRef<OpFoldResult> sizes) {
    SmallVector<int64_t> shape;
    for (OpFoldResult size : sizes)
      shape.push_back(isa<Attribute>(size)
                          ? *getConstantIntValue(size)
                          : ShapedType::kDynamic);
    return RankedTensorType::get(shape, f32);
  };
  bool useDests = dests.size() == 3 &&
                  llvm::all_of(llvm::zip(dests, allSizes), [&](auto pair) {
                    return std::get<0>(pair).getType() ==
                           chunkType(std::get<1>(pair));
                  });
  SmallVector<Value> inits(dests.begin(), dests.end());
  if (!useDests)
    inits = {emptyTensor(b, loc, qSizes, f32), emptyTensor(b, loc, kSizes, f32),
             emptyTensor(b, loc, vSizes, f32)};
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{p[0], p[1], p[2]}, inits, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  RowBuilder r{b, loc, llvm::to_vector(forall.getInductionVars())};
  Value bi = r.ivs[0], hi = r.ivs[1], ri = r.ivs[2];
  // This (batch, head, round)'s chunks: groups g0 .. g0 + nC - 1.
  Value hr = r.add(arith::MulIOp::create(b, loc, hi,
                                         toIndexValue(b, loc, p[2])),
                   ri);
  Value g0 = arith::MulIOp::create(b, loc, hr, toIndexValue(b, loc, numChunks));
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  SmallVector<OpFoldResult> strides(4, one);
  SmallVector<SmallVector<OpFoldResult>> offsets, sizes;
  SmallVector<Value> tiles;
  SmallVector<OpFoldResult> *fullSizes[] = {&qSizes, &kSizes, &vSizes};
  for (auto [shared, fullPtr] :
       llvm::zip(forall.getRegionIterArgs(), fullSizes)) {
    SmallVector<OpFoldResult> &full = *fullPtr;
    offsets.push_back({bi, g0, zero, zero});
    sizes.push_back({one, numChunks, full[2], full[3]});
    auto tileType = RankedTensorType::get(
        {getConstantIntValue(numChunks).value_or(ShapedType::kDynamic),
         getConstantIntValue(full[2]).value_or(ShapedType::kDynamic),
         *getConstantIntValue(full[3])},
        f32);
    tiles.push_back(tensor::ExtractSliceOp::create(
        b, loc, tileType, shared, offsets.back(), sizes.back(), strides));
  }
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value vPad =
      arith::ConstantOp::create(b, loc, b.getFloatAttr(vElement, 0.0));
  auto write = [&](Value row, Value tile, Value i, Value j) {
    return vector::TransferWriteOp::create(b, loc, row, tile,
                                           ValueRange{i, j, r.index(0)},
                                           ArrayRef<bool>{true})
        .getResult();
  };
  // In position order: position pos goes to slot t = slot[pos] (chunk s,
  // row m); its qk row is a query of group s and, normalised, with its v
  // row, a key of every group that sees chunk s: (s - w + look_back) mod nC
  // at window slot w. The source rows are read once each, in memory order;
  // the writes go to one stream per bucket (the counting sort gives a
  // bucket's positions consecutive slots in position order), so neither
  // side depends on N for its cache and TLB footprint. (In slot order, each
  // row read was a random access into the head's qk and v: at N = 65536,
  // 16 MiB each, beyond this core's L2 and TLB reach, the walk took 5.9x
  // its time at N = 16384.)
  Value n = toIndexValue(b, loc, p[3]);
  Value cIdx = r.index(chunk);
  SmallVector<Value> out = r.loop(n, tiles, [&](Value pos, ValueRange a) {
    Value t = r.toIndex(
        tensor::ExtractOp::create(b, loc, slot, ValueRange{bi, hi, ri, pos}));
    Value s = arith::DivUIOp::create(b, loc, t, cIdx);
    Value m = arith::RemUIOp::create(b, loc, t, cIdx);
    Value row = vector::TransferReadOp::create(
        b, loc, VectorType::get({d}, f32), qk,
        ValueRange{bi, hi, pos, r.index(0)}, zeroF, ArrayRef<bool>{true});
    Value key = unitVector(b, loc, row);
    Value value = vector::TransferReadOp::create(
        b, loc, VectorType::get({dv}, vElement), v,
        ValueRange{bi, hi, pos, r.index(0)}, vPad, ArrayRef<bool>{true});
    if (!vElement.isF32())
      value = arith::ExtFOp::create(b, loc, VectorType::get({dv}, f32), value);
    Value qTile = write(row, a[0], s, m);
    // s + nC + look_back mod nC - w >= 0 for w < W <= nC.
    Value base = r.add(r.add(s, nC), lookBackMod);
    SmallVector<Value> kv = r.loop(w, {a[1], a[2]}, [&](Value wi, ValueRange kvTiles) {
      Value g = arith::RemUIOp::create(
          b, loc, arith::SubIOp::create(b, loc, base, wi), nC);
      Value at = r.add(arith::MulIOp::create(b, loc, wi, cIdx), m);
      return SmallVector<Value>{write(key, kvTiles[0], g, at),
                                write(value, kvTiles[1], g, at)};
    });
    return SmallVector<Value>{qTile, kv[0], kv[1]};
  });
  return insertTiles(b, loc, forall, out, offsets, sizes, strides);
}
