//===- BuildUtils.cpp - IR building helpers for attn lowerings ------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

using namespace mlir;
using namespace mlir::attn;

Value mlir::attn::convertFloat(OpBuilder &b, Location loc, Value scalar,
                               Type type) {
  Type from = scalar.getType();
  if (from == type)
    return scalar;
  if (cast<FloatType>(from).getWidth() < cast<FloatType>(type).getWidth())
    return arith::ExtFOp::create(b, loc, type, scalar);
  // f64 -> bf16 goes through f32: LLVM lowers a direct truncation to a
  // compiler-rt call (__truncdfbf2) that the JIT cannot resolve.
  if (type.isBF16() && from.isF64())
    scalar = arith::TruncFOp::create(b, loc, b.getF32Type(), scalar);
  return arith::TruncFOp::create(b, loc, type, scalar);
}

Value mlir::attn::toI64(OpBuilder &b, Location loc, Value scalar) {
  Type i64 = b.getI64Type();
  if (scalar.getType() == i64)
    return scalar;
  if (scalar.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, i64, scalar);
  return arith::ExtSIOp::create(b, loc, i64, scalar);
}

SmallVector<OpFoldResult> mlir::attn::getSizes(OpBuilder &b, Location loc,
                                               Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value mlir::attn::emptyTensor(OpBuilder &b, Location loc,
                              ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value mlir::attn::filledTensor(OpBuilder &b, Location loc,
                               ArrayRef<OpFoldResult> sizes, Type elementType,
                               double value) {
  Value empty = emptyTensor(b, loc, sizes, elementType);
  Value cst =
      arith::ConstantOp::create(b, loc, b.getFloatAttr(elementType, value));
  return linalg::FillOp::create(b, loc, cst, empty).getResult(0);
}

Value mlir::attn::toIndexValue(OpBuilder &b, Location loc, OpFoldResult size) {
  return getValueOrCreateConstantIndexOp(b, loc, size);
}

Value mlir::attn::repeatHeads(OpBuilder &b, Location loc, Value t,
                              unsigned headDim, OpFoldResult numHeads) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  std::optional<int64_t> h = getConstantIntValue(numHeads);
  std::optional<int64_t> hkv = getConstantIntValue(sizes[headDim]);
  if (h && hkv && *h == *hkv)
    return t;
  // [.., Hkv, G, ..] with G = H / Hkv, broadcast along G, then collapse.
  Value hkvValue = toIndexValue(b, loc, sizes[headDim]);
  Value hValue = toIndexValue(b, loc, numHeads);
  OpFoldResult group =
      (h && hkv)
          ? OpFoldResult(b.getIndexAttr(*h / *hkv))
          : OpFoldResult(
                arith::DivUIOp::create(b, loc, hValue, hkvValue).getResult());
  SmallVector<OpFoldResult> expanded(sizes);
  expanded.insert(expanded.begin() + headDim + 1, group);
  Value init = emptyTensor(b, loc, expanded, type.getElementType());
  Value bcast =
      linalg::BroadcastOp::create(b, loc, t, init, {int64_t(headDim + 1)})
          .getResult()[0];
  SmallVector<ReassociationIndices> reassoc;
  for (unsigned d = 0; d < type.getRank(); ++d) {
    if (d < headDim)
      reassoc.push_back({int64_t(d)});
    else if (d == headDim)
      reassoc.push_back({int64_t(d), int64_t(d + 1)});
    else
      reassoc.push_back({int64_t(d + 1)});
  }
  return tensor::CollapseShapeOp::create(b, loc, bcast, reassoc);
}

void mlir::attn::assertEqualSizes(OpBuilder &b, Location loc, OpFoldResult a,
                                  OpFoldResult c, const Twine &message) {
  std::optional<int64_t> ca = getConstantIntValue(a),
                         cc = getConstantIntValue(c);
  if (ca && cc)
    return;
  Value eq =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                            toIndexValue(b, loc, a), toIndexValue(b, loc, c));
  cf::AssertOp::create(b, loc, eq, message.str());
}

void mlir::attn::assertQueryKeyValueSizes(OpBuilder &b, Location loc,
                                          StringRef opName, Value q, Value k,
                                          Value v, Value init) {
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q), ks = getSizes(b, loc, k),
                            vs = getSizes(b, loc, v),
                            os = getSizes(b, loc, init);
  std::string name = (opName + ": ").str();
  assertEqualSizes(b, loc, qs[0], ks[0], name + "B of query and key differ");
  assertEqualSizes(b, loc, qs[0], vs[0], name + "B of query and value differ");
  assertEqualSizes(b, loc, ks[1], vs[1], name + "Hkv of key and value differ");
  assertEqualSizes(b, loc, ks[2], vs[2], name + "Nk of key and value differ");
  assertEqualSizes(b, loc, os[0], qs[0], name + "B of outs and query differ");
  assertEqualSizes(b, loc, os[1], qs[1], name + "H of outs and query differ");
  assertEqualSizes(b, loc, os[2], qs[2], name + "Nq of outs and query differ");
  if (getConstantIntValue(qs[1]) && getConstantIntValue(ks[1]))
    return;
  Value h = toIndexValue(b, loc, qs[1]), hkv = toIndexValue(b, loc, ks[1]);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value nonZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, hkv, zero);
  cf::AssertOp::create(b, loc, nonZero, name + "Hkv is 0");
  // Divide by max(Hkv, 1): the assert above does not stop execution.
  Value safe = arith::MaxUIOp::create(
      b, loc, hkv, arith::ConstantIndexOp::create(b, loc, 1));
  Value divides =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                            arith::RemUIOp::create(b, loc, h, safe), zero);
  cf::AssertOp::create(b, loc, divides, name + "H is not a multiple of Hkv");
}

Value mlir::attn::divideOrZero(OpBuilder &b, Location loc, Value num,
                               Value den) {
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(den.getType()));
  Value isZero =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, den, zero);
  Value quotient = arith::DivFOp::create(b, loc, num, den);
  return arith::SelectOp::create(b, loc, isZero, zero, quotient);
}

Value mlir::attn::softmaxShift(OpBuilder &b, Location loc, Value max) {
  auto type = cast<FloatType>(max.getType());
  Value negInf = arith::ConstantOp::create(
      b, loc,
      b.getFloatAttr(type, APFloat::getInf(type.getFloatSemantics(), true)));
  Value isNegInf =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, max, negInf);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
  return arith::SelectOp::create(b, loc, isNegInf, zero, max);
}

SmallVector<utils::IteratorType> mlir::attn::parallelIterators(unsigned n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

void mlir::attn::yieldOne(OpBuilder &b, Location loc, Value v) {
  linalg::YieldOp::create(b, loc, ValueRange{v});
}

AffineMap GenericBuilder::dims(unsigned numDims, ArrayRef<unsigned> positions) {
  SmallVector<AffineExpr> exprs;
  for (unsigned p : positions)
    exprs.push_back(d(p));
  return map(numDims, exprs);
}

SmallVector<utils::IteratorType>
GenericBuilder::iterators(unsigned n, ArrayRef<unsigned> reductions) {
  SmallVector<utils::IteratorType> its = parallelIterators(n);
  for (unsigned r : reductions)
    its[r] = utils::IteratorType::reduction;
  return its;
}

Value GenericBuilder::generic(ValueRange inputs, Value init,
                              ArrayRef<AffineMap> maps,
                              ArrayRef<utils::IteratorType> its, BodyFn body) {
  return linalg::GenericOp::create(b, loc, TypeRange{init.getType()}, inputs,
                                   ValueRange{init}, maps, its, body)
      .getResult(0);
}

Value GenericBuilder::filled(ArrayRef<OpFoldResult> sizes, Type type,
                             double value) {
  if (isa<FloatType>(type))
    return filledTensor(b, loc, sizes, type, value);
  Value cst =
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, int64_t(value)));
  return linalg::FillOp::create(b, loc, cst, emptyTensor(b, loc, sizes, type))
      .getResult(0);
}

HeadOperand mlir::attn::selectHeads(OpBuilder &b, Location loc, Value t,
                                    OpFoldResult heads, const Twine &message) {
  auto type = cast<RankedTensorType>(t.getType());
  int64_t dim0 = type.getDimSize(0);
  if (dim0 == 1)
    return {t, true};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  if (!ShapedType::isDynamic(dim0)) {
    assertEqualSizes(b, loc, sizes[0], heads, message);
    return {t, false};
  }
  Value d0 = toIndexValue(b, loc, sizes[0]);
  Value h = toIndexValue(b, loc, heads);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value isOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d0, one);
  Value isHeads =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d0, h);
  cf::AssertOp::create(b, loc, arith::OrIOp::create(b, loc, isOne, isHeads),
                       message.str());
  SmallVector<OpFoldResult> outSizes(sizes);
  outSizes[0] = heads;
  Value init = emptyTensor(b, loc, outSizes, type.getElementType());
  unsigned rank = type.getRank();
  Value copy = GenericBuilder{b, loc}.generic(
      ValueRange{}, init, {b.getMultiDimIdentityMap(rank)},
      parallelIterators(rank), [&](OpBuilder &nb, Location nl, ValueRange) {
        SmallVector<Value> idx;
        for (unsigned d = 0; d < rank; ++d)
          idx.push_back(linalg::IndexOp::create(nb, nl, d));
        idx[0] = arith::SelectOp::create(nb, nl, isOne, zero, idx[0]);
        yieldOne(nb, nl, tensor::ExtractOp::create(nb, nl, t, idx));
      });
  return {copy, false};
}

FailureOr<FloatType> mlir::attn::parseComputeType(Operation *op, StringRef pass,
                                                  StringRef computeType) {
  if (computeType == "f32")
    return FloatType(Float32Type::get(op->getContext()));
  if (computeType == "f64")
    return FloatType(Float64Type::get(op->getContext()));
  return op->emitError() << pass
                         << ": compute-type must be f32 or f64, but got '"
                         << computeType << "'";
}
