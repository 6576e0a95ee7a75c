//===- FusePkmSelect.cpp - top k of the fused attn.pkm --------------------===//
//
// See FusePkmSelect.h. The lists are loop-carried tensors (updated in place
// after bufferization); their k-th entry and fill count are carried as
// scalars, so that an offer that does not beat the k-th (the common case
// once the list is full) is a compare and a branch.
//
//===----------------------------------------------------------------------===//
#include "FusePkmSelect.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {
using BeforeFn = function_ref<std::pair<Value, SmallVector<Value>>(ValueRange)>;
using BodyFn = function_ref<SmallVector<Value>(ValueRange)>;
} // namespace

/// `while (cond) args = after(args)`: `before` returns the condition and the
/// values passed on to `after` (and returned when the loop ends).
static SmallVector<Value> buildWhile(OpBuilder &b, Location loc,
                                     ValueRange inits, TypeRange passedTypes,
                                     BeforeFn before, BodyFn after) {
  auto op = scf::WhileOp::create(
      b, loc, passedTypes, inits,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        auto [cond, passed] = before(args);
        scf::ConditionOp::create(b, nl, cond, passed);
      },
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        scf::YieldOp::create(b, nl, after(args));
      });
  return SmallVector<Value>(op.getResults());
}

/// `cond ? then() : values`, as an scf.if whose else branch yields `values`.
static SmallVector<Value> buildIf(OpBuilder &b, Location loc, Value cond,
                                  ValueRange values, BodyFn then) {
  auto op = scf::IfOp::create(
      b, loc, cond,
      [&](OpBuilder &nb, Location nl) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        scf::YieldOp::create(b, nl, then(values));
      },
      [&](OpBuilder &nb, Location nl) {
        scf::YieldOp::create(nb, nl, values);
      });
  return SmallVector<Value>(op.getResults());
}

static Value i64(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
}

SmallVector<Value> TopListBuilder::pack(const TopList &list) {
  return {list.scores, list.keys, list.count, list.kthScore, list.kthKey};
}

TopList TopListBuilder::unpack(ValueRange v, int64_t offset) {
  return {v[0], v[1], v[2], v[3], v[4], offset};
}

Value TopListBuilder::at(Value t, int64_t offset, Value i) {
  if (offset != 0)
    i = arith::AddIOp::create(b, loc, i, cIndex(b, loc, offset));
  return tensor::ExtractOp::create(b, loc, t, i);
}

Value TopListBuilder::put(Value v, Value t, int64_t offset, Value i) {
  if (offset != 0)
    i = arith::AddIOp::create(b, loc, i, cIndex(b, loc, offset));
  return tensor::InsertOp::create(b, loc, v, t, i);
}

TopList TopListBuilder::start(Value scores, Value keys, int64_t offset,
                              int64_t sentinel, Value floor) {
  // The k-th best while the list is not full: (floor, sentinel) lets
  // through every offer that reaches the floor.
  if (!floor)
    floor = cF32(b, loc, -std::numeric_limits<double>::infinity());
  return {scores, keys, cIndex(b, loc, 0), floor, i64(b, loc, sentinel),
          offset};
}

Value TopListBuilder::groupMaxima(Value scores, Value rows, int64_t n) {
  // G[i, g] = max_m S[i, m k + g] over the m < n / k (every group has at
  // least one entry); loops (i, m, g).
  GenericBuilder g{b, loc};
  int64_t groups = n / k;
  Value init = filledTensor(b, loc, {rows, b.getIndexAttr(k)}, b.getF32Type(),
                            -std::numeric_limits<double>::infinity());
  Value view = tensor::ExtractSliceOp::create(
      b, loc, scores,
      ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(groups * k)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  auto viewType =
      RankedTensorType::get({ShapedType::kDynamic, groups, k}, b.getF32Type());
  view = tensor::ExpandShapeOp::create(
      b, loc, viewType, view, SmallVector<ReassociationIndices>{{0}, {1, 2}},
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(groups), b.getIndexAttr(k)});
  return g.generic(
      ValueRange{view}, init, {g.dims(3, {0, 1, 2}), g.dims(3, {0, 2})},
      g.iterators(3, {1}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, selectMax(nb, nl, a[1], a[0]));
      });
}

Value TopListBuilder::floorOf(Value maxima, Value row) {
  // The smallest maximum; a NaN one is passed over.
  scf::ForOp loop = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, k), cIndex(b, loc, 1),
      ValueRange{cF32(b, loc, std::numeric_limits<double>::infinity())},
      [&](Value g, ValueRange acc) -> SmallVector<Value> {
        Value m = tensor::ExtractOp::create(b, loc, maxima, ValueRange{row, g});
        Value less =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, m, acc[0]);
        return {arith::SelectOp::create(b, loc, less, m, acc[0])};
      });
  return loop.getResult(0);
}

Value TopListBuilder::before(Value s, Value x, Value t, Value y) {
  Value greater =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, s, t);
  Value equal = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, s, t);
  Value smaller =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  return arith::OrIOp::create(b, loc, greater,
                              arith::AndIOp::create(b, loc, equal, smaller));
}

TopList TopListBuilder::insert(const TopList &list, Value score, Value key,
                               bool largestKey) {
  // From the first unset slot (or the k-th, which drops out), move every
  // entry that (score, key) comes before one slot down.
  int64_t off = list.offset;
  Value one = cIndex(b, loc, 1), zero = cIndex(b, loc, 0);
  Value last = cIndex(b, loc, k - 1);
  Value start = arith::MinUIOp::create(b, loc, list.count, last);
  Type f32 = b.getF32Type(), i64Type = b.getI64Type(), index = b.getIndexType();
  SmallVector<Value> moved = buildWhile(
      b, loc, ValueRange{start, list.scores, list.keys},
      TypeRange{index, list.scores.getType(), list.keys.getType(), f32,
                i64Type},
      [&](ValueRange a) -> std::pair<Value, SmallVector<Value>> {
        Value p = a[0];
        Value above = arith::SubIOp::create(
            b, loc, arith::MaxUIOp::create(b, loc, p, one), one);
        Value s = at(a[1], off, above), x = at(a[2], off, above);
        Value more = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, p, zero),
            largestKey ? Value(arith::CmpFOp::create(
                             b, loc, arith::CmpFPredicate::OGT, score, s))
                       : before(score, key, s, x));
        return {more, {p, a[1], a[2], s, x}};
      },
      [&](ValueRange a) -> SmallVector<Value> {
        Value p = a[0];
        return {arith::SubIOp::create(b, loc, p, one), put(a[3], a[1], off, p),
                put(a[4], a[2], off, p)};
      });
  Value p = moved[0];
  Value scores = put(score, moved[1], off, p);
  Value keys = put(key, moved[2], off, p);
  Value count = arith::AddIOp::create(b, loc, list.count, one);
  // The k-th entry once the list is full.
  Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, count,
                                     cIndex(b, loc, k));
  Value kthScore = arith::SelectOp::create(b, loc, full, at(scores, off, last),
                                           list.kthScore);
  Value kthKey =
      arith::SelectOp::create(b, loc, full, at(keys, off, last), list.kthKey);
  count = arith::MinUIOp::create(b, loc, count, cIndex(b, loc, k));
  return {scores, keys, count, kthScore, kthKey, off};
}

TopList TopListBuilder::offer(const TopList &list, Value score, Value key,
                              bool largestKey) {
  Value beats = before(score, key, list.kthScore, list.kthKey);
  return unpack(buildIf(b, loc, beats, pack(list),
                        [&](ValueRange v) {
                          return pack(insert(unpack(v, list.offset), score, key,
                                             largestKey));
                        }),
                list.offset);
}

TopList TopListBuilder::topOfRow(TopList list, Value scores, Value row,
                                 int64_t n) {
  scf::ForOp loop = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, n), cIndex(b, loc, 1),
      pack(list), [&](Value j, ValueRange v) -> SmallVector<Value> {
        Value s = tensor::ExtractOp::create(b, loc, scores, ValueRange{row, j});
        Value x = arith::IndexCastOp::create(b, loc, b.getI64Type(), j);
        return pack(offer(unpack(v, list.offset), s, x, /*largestKey=*/true));
      });
  return unpack(loop.getResults(), list.offset);
}

TopList TopListBuilder::walk(TopList list, const TopList &along,
                             function_ref<Value(Value)> sumOf,
                             function_ref<TopList(Value, TopList)> body) {
  Value last = cIndex(b, loc, k - 1);
  SmallVector<Value> inits = {cIndex(b, loc, 0)};
  inits.append(pack(list));
  SmallVector<Type> types(ValueRange(inits).getTypes());
  SmallVector<Value> out = buildWhile(
      b, loc, inits, types,
      [&](ValueRange v) -> std::pair<Value, SmallVector<Value>> {
        // Entry i is set and its sum is not below the k-th score (UGE: a
        // NaN sum does not stop the walk). An unset entry's score is read
        // (in bounds) but not used.
        Value i = v[0];
        TopList l = unpack(v.drop_front(), list.offset);
        Value sum = sumOf(at(l.scores, along.offset,
                             arith::MinUIOp::create(b, loc, i, last)));
        Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                                          along.count);
        Value mayEnter = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::UGE, sum, l.kthScore);
        return {arith::AndIOp::create(b, loc, set, mayEnter),
                SmallVector<Value>(v)};
      },
      [&](ValueRange v) -> SmallVector<Value> {
        TopList l = body(v[0], unpack(v.drop_front(), list.offset));
        SmallVector<Value> next = {
            arith::AddIOp::create(b, loc, v[0], cIndex(b, loc, 1))};
        next.append(pack(l));
        return next;
      });
  return unpack(ValueRange(out).drop_front(), list.offset);
}

TopList TopListBuilder::topOfSums(TopList list, const TopList &first,
                                  const TopList &second, int64_t n) {
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, loc, x, y);
  };
  // The best score of `second` (an unset entry when `second` is empty, which
  // leaves no candidate whatever it holds).
  Value best2 = at(list.scores, second.offset, cIndex(b, loc, 0));
  // Rows a of `first` while a's best sum can enter; per row, columns c of
  // `second` while the sum can enter.
  return walk(
      list, first, [&](Value s) { return add(s, best2); },
      [&](Value a, TopList row) {
        Value s1 = at(row.scores, first.offset, a);
        Value x1 = arith::MulIOp::create(b, loc, at(row.keys, first.offset, a),
                                         i64(b, loc, n));
        return walk(
            row, second, [&](Value s) { return add(s1, s); },
            [&](Value c, TopList l) {
              Value sum = add(s1, at(l.scores, second.offset, c));
              Value key = arith::AddIOp::create(b, loc, x1,
                                                at(l.keys, second.offset, c));
              return offer(l, sum, key);
            });
      });
}
