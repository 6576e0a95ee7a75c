//===- CpuAmxProbabilities.cpp - P in bf16 for AMX in one pass ------------===//
//
// `bf16-isa=amx` and `avx512bf16` of attn-cpu-microkernels: the flash
// form's key-tile step writes the probabilities `P = exp2(S - shift)` over
// the score tile S, sums them per row into a buffer R (after a zero fill of R), and then
// contracts P with the value tile; the AMX kernel rounds P to bf16 into its
// left-operand layout first. That is three passes over P. Here they become
// one, at the position of the exp pass: per row, P in vectors of 16 lanes
// from the exp pass's body, added to a vector row sum and rounded to bf16
// straight into the left-operand buffer ([m rounded up to 32, n rounded up
// to 64], padding columns zero), whose row sum is stored to R once per row.
// The f32 P is never written. With `bf16-isa=avx512bf16` the same buffer
// is the dot-product kernel's A (rows of pairs of P). In the same way, the
// scale pass over the score tile (bf16 queries are scaled after the
// contraction), the fill of the row maxima and the row maximum become one
// row loop.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr int64_t kLanes = 16;

bool isIdentity2d(AffineMap map) {
  return map.isIdentity() && map.getNumDims() == 2;
}

/// (i, j) -> (i).
bool isRowMap(AffineMap map) {
  return map.getNumDims() == 2 && map.getNumResults() == 1 &&
         map.getResult(0) == getAffineDimExpr(0, map.getContext());
}

bool isParallel2d(linalg::GenericOp op, bool reduceColumns) {
  SmallVector<utils::IteratorType> it = op.getIteratorTypesArray();
  return op.hasPureBufferSemantics() && it.size() == 2 &&
         it[0] == utils::IteratorType::parallel &&
         it[1] == (reduceColumns ? utils::IteratorType::reduction
                                 : utils::IteratorType::parallel);
}

/// Whether `op` touches (reads or writes) `buffer` or has effects it does not
/// declare.
bool touches(Operation *op, Value buffer) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return !isPure(op) || op->getNumRegions() != 0;
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  return llvm::any_of(list, [&](MemoryEffects::EffectInstance &effect) {
    return !effect.getValue() || effect.getValue() == buffer;
  });
}

/// S = f(S, rows...) element-wise in place (the scale pass, the exp pass),
/// with f made of arith and math ops on f32 / i32 / i1 scalars.
bool isElementwiseInPlace(linalg::GenericOp op, Value s) {
  if (!isParallel2d(op, false) || op.getNumDpsInits() != 1 ||
      op.getDpsInits()[0] != s)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = maps[operand.getOperandNumber()];
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isF32())
      return false;
    bool tile = operand.get() == s && isIdentity2d(map);
    bool row = type.getRank() == 1 && isRowMap(map);
    if (!tile && !row)
      return false;
  }
  for (Operation &inner : op.getBody()->without_terminator()) {
    bool known = isa<arith::ArithDialect>(inner.getDialect()) ||
                 isa<math::FmaOp, math::RoundEvenOp, math::Exp2Op>(inner);
    if (!known || inner.getNumRegions() != 0 || inner.getNumResults() != 1 ||
        !(inner.hasTrait<OpTrait::Elementwise>() ||
          isa<arith::ConstantOp>(inner)))
      return false;
    Type t = inner.getResult(0).getType();
    if (!t.isF32() && !t.isSignlessInteger(32) && !t.isInteger(1))
      return false;
  }
  return true;
}

/// A row reduction R = combine(R, S[i, j]) over S (its input): with
/// `maximum` `select(cmpf ogt(in, out), in, out)`, else `addf(out, in)`.
bool isRowReduction(linalg::GenericOp op, bool maximum) {
  if (!isParallel2d(op, true) || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto type = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
  if (!type || !type.getElementType().isF32() || !isIdentity2d(maps[0]) ||
      !isRowMap(maps[1]))
    return false;
  Block *body = op.getBody();
  Value in = body->getArgument(0), out = body->getArgument(1);
  Value yielded = cast<linalg::YieldOp>(body->getTerminator()).getOperand(0);
  if (maximum) {
    auto select = yielded.getDefiningOp<arith::SelectOp>();
    auto cmp = select ? select.getCondition().getDefiningOp<arith::CmpFOp>()
                      : arith::CmpFOp();
    return cmp && body->getOperations().size() == 3 &&
           cmp.getPredicate() == arith::CmpFPredicate::OGT &&
           cmp.getLhs() == in && cmp.getRhs() == out &&
           select.getTrueValue() == in && select.getFalseValue() == out;
  }
  auto add = yielded.getDefiningOp<arith::AddFOp>();
  return add && body->getOperations().size() == 2 &&
         ((add.getLhs() == in && add.getRhs() == out) ||
          (add.getLhs() == out && add.getRhs() == in));
}

/// A fill of `r` with `value`.
bool isFill(Operation *op, Value r, double value) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  if (!fill || fill.getOutputs()[0] != r)
    return false;
  auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto attr = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return attr && attr.getValueAsDouble() == value;
}

Value roundUp(OpBuilder &b, Location loc, Value v, int64_t multiple) {
  Value m = arith::ConstantIndexOp::create(b, loc, multiple);
  return arith::MulIOp::create(b, loc, arith::CeilDivUIOp::create(b, loc, v, m),
                               m);
}

/// The row loop that replaces `elementwise` (in place on S), a fill of R
/// and a row reduction of S into R: per row, the row operands once, then per
/// vector of 16 columns the element-wise body, combined into a vector
/// accumulator (a sum, or with `maximum` the row reduction's
/// select-maximum, which never picks NaN) and written either back to S
/// (f32, masked) or, with `packed`, rounded to bf16 into `packed` (columns
/// up to n rounded up to 64, the padding zero); once per row R[i] is the
/// reduced accumulator.
void buildRowPass(RewriterBase &b, linalg::GenericOp elementwise, Value s,
                  Value r, bool maximum, Value packed) {
  Location loc = elementwise.getLoc();
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value m = memref::DimOp::create(b, loc, s, 0);
  Value n = memref::DimOp::create(b, loc, s, 1);
  Value end = packed ? roundUp(b, loc, n, 64) : n;
  auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
  auto maskType = VectorType::get({kLanes}, b.getI1Type());
  auto splatF32 = [&](float v) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(f32Vec, b.getF32FloatAttr(v)));
  };
  Value zeros = splatF32(0.0f);
  Value neutral =
      maximum ? splatF32(-std::numeric_limits<float>::infinity()) : zeros;
  Block *body = elementwise.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  SmallVector<AffineMap> maps = elementwise.getIndexingMapsArray();
  buildForLoop(b, loc, index(0), m, index(1), [&](Value i) {
    // Row operands once per row, before R[i] is overwritten.
    IRMapping rowValues;
    for (OpOperand *operand : elementwise.getDpsInputOperands())
      if (maps[operand->getOperandNumber()].getNumResults() == 1)
        rowValues.map(body->getArgument(operand->getOperandNumber()),
                      vector::BroadcastOp::create(
                          b, loc, f32Vec,
                          memref::LoadOp::create(b, loc, operand->get(),
                                                 ValueRange{i})));
    auto columns = scf::ForOp::create(
        b, loc, index(0), end, index(kLanes), ValueRange{neutral},
        [&](OpBuilder &cb, Location, Value j0, ValueRange accs) {
          Value mask = vector::CreateMaskOp::create(
              cb, loc, maskType,
              ValueRange{arith::SubIOp::create(cb, loc, n, j0).getResult()});
          IRMapping mapping = rowValues;
          for (OpOperand *operand : elementwise.getDpsInputOperands())
            if (maps[operand->getOperandNumber()].getNumResults() == 2)
              mapping.map(body->getArgument(operand->getOperandNumber()),
                          vector::MaskedLoadOp::create(cb, loc, f32Vec, s,
                                                       ValueRange{i, j0}, mask,
                                                       zeros));
          for (Operation &inner : body->without_terminator())
            cloneOnVectors(cb, loc, inner, mapping, kLanes);
          Value x = mapping.lookupOrDefault(yield.getOperand(0));
          if (!isa<VectorType>(x.getType()))
            x = vector::BroadcastOp::create(cb, loc, f32Vec, x);
          // Lanes past n take the neutral element (zero in the padding
          // columns of `packed`).
          x = arith::SelectOp::create(cb, loc, mask, x, neutral);
          Value next;
          if (maximum)
            next = arith::SelectOp::create(
                cb, loc,
                arith::CmpFOp::create(cb, loc, arith::CmpFPredicate::OGT, x,
                                      accs[0]),
                x, accs[0]);
          else
            next = arith::AddFOp::create(cb, loc, accs[0], x,
                                         arith::FastMathFlags::reassoc);
          if (packed)
            vector::StoreOp::create(
                cb, loc,
                arith::TruncFOp::create(
                    cb, loc, VectorType::get({kLanes}, cb.getBF16Type()), x),
                packed, ValueRange{i, j0});
          else
            vector::MaskedStoreOp::create(cb, loc, s, ValueRange{i, j0}, mask,
                                          x);
          scf::YieldOp::create(cb, loc, ValueRange{next});
        });
    Value reduced =
        maximum ? vector::ReductionOp::create(
                      b, loc, vector::CombiningKind::MAXNUMF,
                      columns.getResult(0), arith::FastMathFlags::nnan)
                : vector::ReductionOp::create(
                      b, loc, vector::CombiningKind::ADD,
                      columns.getResult(0), arith::FastMathFlags::reassoc);
    memref::StoreOp::create(b, loc, reduced, r, ValueRange{i});
  });
}

/// The op before `op` that is not pure, or null.
Operation *previousEffect(Operation *op) {
  Operation *prev = op->getPrevNode();
  while (prev && isPure(prev))
    prev = prev->getPrevNode();
  return prev;
}
} // namespace

Value mlir::attn::fuseProbabilitiesToBf16(RewriterBase &b,
                                          Operation *contraction, Value p) {
  auto type = dyn_cast<MemRefType>(p.getType());
  if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
      !type.getLayout().isIdentity())
    return Value();
  // Walk back from the contraction: the ops between it and the row sum
  // must not touch P; the row sum's zero fill comes right before it (up to
  // pure ops), and the exp pass before that with nothing between that
  // touches P or R.
  Block *block = contraction->getBlock();
  Operation *op = contraction->getPrevNode();
  linalg::GenericOp sum;
  for (; op; op = op->getPrevNode()) {
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (generic && isRowReduction(generic, /*maximum=*/false) &&
        generic.getDpsInputs()[0] == p) {
      sum = generic;
      break;
    }
    if (touches(op, p))
      return Value();
  }
  if (!sum)
    return Value();
  Value r = sum.getDpsInits()[0];
  Operation *fill = previousEffect(sum);
  if (!fill || !isFill(fill, r, 0.0))
    return Value();
  auto exp = dyn_cast_or_null<linalg::GenericOp>(previousEffect(fill));
  if (!exp || !isElementwiseInPlace(exp, p))
    return Value();
  // After the contraction, P is not read again before it is freed.
  for (Operation *after = contraction->getNextNode(); after;
       after = after->getNextNode()) {
    if (auto dealloc = dyn_cast<memref::DeallocOp>(after))
      if (dealloc.getMemref() == p)
        break;
    if (touches(after, p) && !isa<scf::YieldOp>(after))
      return Value();
  }
  if (!p.getDefiningOp<memref::AllocOp>() ||
      p.getDefiningOp()->getBlock() != block)
    return Value();
  Location loc = exp.getLoc();
  b.setInsertionPoint(exp);
  Value m = memref::DimOp::create(b, loc, p, 0);
  Value n = memref::DimOp::create(b, loc, p, 1);
  Value packed = memref::AllocOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                      b.getBF16Type()),
      ValueRange{roundUp(b, loc, m, 32), roundUp(b, loc, n, 64)},
      b.getI64IntegerAttr(64));
  buildRowPass(b, exp, p, r, /*maximum=*/false, packed);
  b.setInsertionPointAfter(contraction);
  memref::DeallocOp::create(b, loc, packed);
  b.eraseOp(exp);
  b.eraseOp(fill);
  b.eraseOp(sum);
  return packed;
}

LogicalResult mlir::attn::fuseScaleAndRowMax(RewriterBase &b,
                                             linalg::GenericOp rowMax) {
  if (!isRowReduction(rowMax, /*maximum=*/true))
    return failure();
  Value s = rowMax.getDpsInputs()[0];
  Value r = rowMax.getDpsInits()[0];
  Operation *fill = previousEffect(rowMax);
  if (!fill || !isFill(fill, r, -std::numeric_limits<double>::infinity()))
    return failure();
  auto scale = dyn_cast_or_null<linalg::GenericOp>(previousEffect(fill));
  if (!scale || !isElementwiseInPlace(scale, s) ||
      llvm::is_contained(scale.getDpsInputs(), r))
    return failure();
  b.setInsertionPoint(scale);
  buildRowPass(b, scale, s, r, /*maximum=*/true, Value());
  b.eraseOp(scale);
  b.eraseOp(fill);
  b.eraseOp(rowMax);
  return success();
}
