//===- DecomposeLightConv.cpp - decomposition of attn.lightconv -----------===//
//
// attn.lightconv (Lite Transformer short-range branch, docs/Semantics.md §9) as
// linalg on tensors, computing in the compute type (f32, or f64 for the
// oracle of attn-run --check):
//
//   w'[g,t]   = normalize ? exp(w[g,t] - max_t w[g]) / sum_t exp(...) : w
//   out[b,n,g,j] = sum_{t : 0 <= n + t - P < N} w'[g,t] x[b, n + t - P, c],
//               P = causal ? K - 1 : (K - 1) / 2,  c = g * C/Hc + j
//
// The output channels are viewed as [Hc, C / Hc] (channel c uses weight head
// g), so no floordiv appears in an indexing map. The zero padding is a select
// on the bounds (the row read is clamped into [0, N)), not a tensor.pad: the
// padded copy would bufferize to a strided memref.copy, which needs a runtime
// library (memrefCopy) at run time.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

static AffineMap dimsMap(OpBuilder &b, unsigned numDims,
                         ArrayRef<unsigned> positions) {
  SmallVector<AffineExpr> exprs;
  for (unsigned p : positions)
    exprs.push_back(b.getAffineDimExpr(p));
  return AffineMap::get(numDims, 0, exprs, b.getContext());
}

/// The softmax of w [Hc, K] over K, in `ct`:
/// exp(w - max_t w) / sum_t exp(w - max_t w).
static Value softmaxWeights(OpBuilder &b, Location loc, Value w, FloatType ct) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, w);
  SmallVector<OpFoldResult> rows = {sizes[0]};
  AffineMap full = b.getMultiDimIdentityMap(2), row = dimsMap(b, 2, {0});
  SmallVector<utils::IteratorType> reduce = {utils::IteratorType::parallel,
                                             utils::IteratorType::reduction};
  Value mx = GenericBuilder{b, loc}.generic(
      ValueRange{w},
      filledTensor(b, loc, rows, ct, -std::numeric_limits<double>::infinity()),
      {full, row}, reduce, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = convertFloat(nb, nl, a[0], ct);
        yieldOne(nb, nl, arith::MaximumFOp::create(nb, nl, a[1], x));
      });
  Value ex = GenericBuilder{b, loc}.generic(
      ValueRange{w, mx}, emptyTensor(b, loc, sizes, ct), {full, row, full},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = convertFloat(nb, nl, a[0], ct);
        yieldOne(nb, nl,
                 math::ExpOp::create(nb, nl,
                                     arith::SubFOp::create(nb, nl, x, a[1])));
      });
  Value sum = GenericBuilder{b, loc}.generic(
      ValueRange{ex}, filledTensor(b, loc, rows, ct, 0.0), {full, row}, reduce,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], a[0]));
      });
  return GenericBuilder{b, loc}.generic(
      ValueRange{ex, sum}, emptyTensor(b, loc, sizes, ct), {full, row, full},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, arith::DivFOp::create(nb, nl, a[0], a[1]));
      });
}

/// [B, N, C] viewed as [B, N, Hc, C / Hc].
static Value splitChannels(OpBuilder &b, Location loc, Value t, int64_t heads) {
  auto type = cast<RankedTensorType>(t.getType());
  int64_t c = type.getDimSize(2);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  SmallVector<OpFoldResult> outSizes = {
      sizes[0], sizes[1], b.getIndexAttr(heads), b.getIndexAttr(c / heads)};
  auto outType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), heads, c / heads},
      type.getElementType());
  SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3}};
  return tensor::ExpandShapeOp::create(b, loc, outType, t, reassoc, outSizes);
}

Value mlir::attn::lightConvWeights(OpBuilder &b, LightConvOp op, FloatType ct) {
  Value w = op.getWeight();
  return op.getNormalize() ? softmaxWeights(b, op.getLoc(), w, ct) : w;
}

bool mlir::attn::detail::hasLightConvStaticShape(LightConvOp op) {
  auto xType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t c = xType.getDimSize(2), heads = wType.getDimSize(0);
  int64_t width = wType.getDimSize(1);
  return !ShapedType::isDynamic(c) && !ShapedType::isDynamic(heads) &&
         !ShapedType::isDynamic(width) && heads >= 1 && width >= 1 &&
         c % heads == 0 && (op.getCausal() || width % 2 != 0);
}

std::pair<SmallVector<OpFoldResult>, SmallVector<OpFoldResult>>
mlir::attn::detail::assertLightConvSizes(OpBuilder &b, Location loc,
                                         LightConvOp op) {
  SmallVector<OpFoldResult> xs = getSizes(b, loc, op.getInput());
  SmallVector<OpFoldResult> os = getSizes(b, loc, op.getInit());
  assertEqualSizes(b, loc, os[0], xs[0],
                   "attn.lightconv: outs and input differ in B");
  assertEqualSizes(b, loc, os[1], xs[1],
                   "attn.lightconv: outs and input differ in N");
  return {std::move(xs), std::move(os)};
}

FailureOr<SmallVector<Value>>
mlir::attn::decomposeLightConv(OpBuilder &b, LightConvOp op, FloatType ct) {
  Location loc = op.getLoc();
  Value x = op.getInput(), w = op.getWeight(), init = op.getInit();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t c = xType.getDimSize(2), heads = wType.getDimSize(0);
  int64_t width = wType.getDimSize(1);
  if (!attn::detail::hasLightConvStaticShape(op))
    return op.emitOpError("decomposition expects static C, Hc, K with "
                          "C % Hc == 0, K >= 1, and odd K unless causal");

  // Run-time checks of dynamic dims that must match.
  SmallVector<OpFoldResult> xs, os;
  std::tie(xs, os) = attn::detail::assertLightConvSizes(b, loc, op);
  // An outs with a dynamic C is checked against the input's static C and
  // worked on through a static-C view (splitChannels needs C / Hc).
  if (initType.isDynamicDim(2)) {
    assertEqualSizes(b, loc, os[2], b.getIndexAttr(c),
                     "attn.lightconv: outs and input differ in C");
    SmallVector<int64_t> shape(initType.getShape());
    shape[2] = c;
    init = tensor::CastOp::create(b, loc, initType.clone(shape), init);
    os[2] = b.getIndexAttr(c);
  }

  // The weights, softmaxed over K when normalize is set.
  Value weights = lightConvWeights(b, op, ct);

  // out[b,n,g,j] = sum_t w'[g,t] x[b, n + t - P, g * C/Hc + j] in ct, the
  // x term being 0 (selected, never read) outside [0, N); dims (b,n,g,j,t).
  int64_t pad = op.getCausal() ? width - 1 : (width - 1) / 2;
  int64_t group = c / heads;
  bool ctOut = initType.getElementType() == ct;
  Value acc =
      ctOut ? linalg::FillOp::create(
                  b, loc,
                  arith::ConstantOp::create(b, loc, b.getFloatAttr(ct, 0.0))
                      .getResult(),
                  init)
                  .getResult(0)
            : filledTensor(b, loc, os, ct, 0.0);
  Value accSplit = splitChannels(b, loc, acc, heads);
  Value length = toIndexValue(b, loc, xs[1]);
  SmallVector<AffineMap> maps = {dimsMap(b, 5, {2, 4}),
                                 dimsMap(b, 5, {0, 1, 2, 3})};
  SmallVector<utils::IteratorType> iterators = parallelIterators(5);
  iterators[4] = utils::IteratorType::reduction;
  Value conv = GenericBuilder{b, loc}.generic(
      ValueRange{weights}, accSplit, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto index = [&](unsigned d) {
          return linalg::IndexOp::create(nb, nl, d);
        };
        auto cst = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        // pos = n + t - P, live iff 0 <= pos < N; read at a clamped row.
        Value pos = arith::SubIOp::create(
            nb, nl, arith::AddIOp::create(nb, nl, index(1), index(4)),
            cst(pad));
        Value zero = cst(0);
        Value live = arith::AndIOp::create(
            nb, nl,
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, pos, zero),
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, pos,
                                  length));
        Value row = arith::SelectOp::create(nb, nl, live, pos, zero);
        Value channel = arith::AddIOp::create(
            nb, nl, arith::MulIOp::create(nb, nl, index(2), cst(group)),
            index(3));
        Value xv = tensor::ExtractOp::create(
            nb, nl, x, ValueRange{index(0), row, channel});
        Value p = arith::MulFOp::create(nb, nl, convertFloat(nb, nl, a[0], ct),
                                        convertFloat(nb, nl, xv, ct));
        Value sum = arith::AddFOp::create(nb, nl, a[1], p);
        yieldOne(nb, nl, arith::SelectOp::create(nb, nl, live, sum, a[1]));
      });
  Value result = tensor::CollapseShapeOp::create(
      b, loc, acc.getType(), conv,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  if (!ctOut) {
    AffineMap id = b.getMultiDimIdentityMap(3);
    result = GenericBuilder{b, loc}.generic(
        ValueRange{result}, init, {id, id}, parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl,
                   convertFloat(nb, nl, a[0], initType.getElementType()));
        });
  }
  if (result.getType() != initType)
    result = tensor::CastOp::create(b, loc, initType, result);
  return SmallVector<Value>{result};
}
