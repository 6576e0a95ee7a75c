//===- FusedSelect.cpp - linear-time sorts of the fused lsh / cluster -----===//
//
// See FusedSelect.h. Each row (one hash round, or one cluster, of one batch
// and head) is one iteration of an scf.forall; inside it, scf.for loops
// carry small tensors (a histogram) and the row's slices of the results,
// which bufferization updates in place.
//
//===----------------------------------------------------------------------===//
#include "FusedSelect.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

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

Value mlir::attn::detail::fusedCombineByLse(OpBuilder &b, Location loc,
                                            Value rows, Value o, Value lse,
                                            Value init, FloatType computeType) {
  constexpr int64_t lanes = 16, block = 64;
  auto oType = cast<RankedTensorType>(o.getType());
  auto rowsType = cast<RankedTensorType>(rows.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t dv = oType.getDimSize(3);
  auto hasZero = [](RankedTensorType t) {
    return llvm::is_contained(t.getShape(), 0);
  };
  if (!computeType.isF32() || !oType.getElementType().isF32() ||
      !cast<RankedTensorType>(lse.getType()).getElementType().isF32() ||
      !initType.getElementType().isF32() || ShapedType::isDynamic(dv) ||
      dv % lanes != 0 || hasZero(oType) || hasZero(rowsType) ||
      hasZero(initType))
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
  Value out = r.loop(count, {tile}, [&](Value i, ValueRange iter) {
    Value q = r.add(n0, i);
    // shift = max_p lse_p (0 when -inf), total = sum_p exp(lse_p - shift).
    Value max = r.loop(parts, {negInf}, [&](Value p, ValueRange a) {
      Value l = std::get<2>(part(p, q));
      return SmallVector<Value>{arith::MaximumFOp::create(b, loc, a[0], l)};
    })[0];
    Value shift = softmaxShift(b, loc, max);
    auto weightOf = [&](Value l) {
      return math::ExpOp::create(b, loc,
                                 arith::SubFOp::create(b, loc, l, shift));
    };
    Value total = r.loop(parts, {f32Const(0.0)}, [&](Value p, ValueRange a) {
      Value w = weightOf(std::get<2>(part(p, q)));
      return SmallVector<Value>{arith::AddFOp::create(b, loc, a[0], w)};
    })[0];
    // out(q) = sum_p (exp(lse_p - shift) / total) o_p, parts that do not
    // exist skipped by selection.
    Value zeros = arith::ConstantOp::create(
        b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
    SmallVector<Value> init(dv / lanes, zeros);
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
