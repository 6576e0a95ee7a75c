//===- CpuAmxProbabilities.cpp - P in bf16 for AMX in one pass ------------===//
//
// `bf16-isa=amx` of attn-cpu-microkernels: the flash form's key-tile step
// writes the probabilities `P = exp2(S - shift)` over the score tile S,
// sums them per row into a buffer R (after a zero fill of R), and then
// contracts P with the value tile; the AMX kernel rounds P to bf16 into its
// left-operand layout first. That is three passes over P. Here they become
// one, at the position of the exp pass: per row, P in vectors of 16 lanes
// from the exp pass's body, added to a vector row sum and rounded to bf16
// straight into the left-operand buffer ([m rounded up to 32, n rounded up
// to 64], padding columns zero), whose row sum is stored to R once per row.
// The f32 P is never written.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

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

/// The exp pass: S = f(S, rows...) element-wise in place, with f made of
/// arith and math ops on f32 / i32 / i1 scalars.
bool isExpPass(linalg::GenericOp op, Value s) {
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

/// The row sum: R += sum_j S[i, j] (addf of the output and the input).
bool isRowSum(linalg::GenericOp op, Value s) {
  if (!isParallel2d(op, true) || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1 || op.getDpsInputs()[0] != s)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!isIdentity2d(maps[0]) || !isRowMap(maps[1]))
    return false;
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && body->getOperations().size() == 2 &&
         ((add.getLhs() == body->getArgument(0) &&
           add.getRhs() == body->getArgument(1)) ||
          (add.getLhs() == body->getArgument(1) &&
           add.getRhs() == body->getArgument(0)));
}

/// A zero fill of `r`.
bool isZeroFill(Operation *op, Value r) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  if (!fill || fill.getOutputs()[0] != r)
    return false;
  auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto value = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return value && value.getValue().isZero();
}

Value roundUp(OpBuilder &b, Location loc, Value v, int64_t multiple) {
  Value m = arith::ConstantIndexOp::create(b, loc, multiple);
  return arith::MulIOp::create(b, loc, arith::CeilDivUIOp::create(b, loc, v, m),
                               m);
}

/// The fused pass of `exp` (then `fill` and `sum` are erased).
Value buildFused(RewriterBase &b, linalg::GenericOp exp, Value s, Value r,
                 Operation *contraction) {
  Location loc = exp.getLoc();
  b.setInsertionPoint(exp);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value m = memref::DimOp::create(b, loc, s, 0);
  Value n = memref::DimOp::create(b, loc, s, 1);
  Value nPadded = roundUp(b, loc, n, 64);
  auto bufferType = MemRefType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic}, b.getBF16Type());
  Value packed = memref::AllocOp::create(b, loc, bufferType,
                                         ValueRange{roundUp(b, loc, m, 32),
                                                    nPadded},
                                         b.getI64IntegerAttr(64));
  auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
  auto maskType = VectorType::get({kLanes}, b.getI1Type());
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(f32Vec, b.getF32FloatAttr(0.0f)));
  Block *body = exp.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  SmallVector<AffineMap> maps = exp.getIndexingMapsArray();
  buildForLoop(b, loc, index(0), m, index(1), [&](Value i) {
    // Row operands once per row, before R is overwritten with the sum.
    IRMapping rowValues;
    for (OpOperand *operand : exp.getDpsInputOperands())
      if (maps[operand->getOperandNumber()].getNumResults() == 1)
        rowValues.map(body->getArgument(operand->getOperandNumber()),
                      vector::BroadcastOp::create(
                          b, loc, f32Vec,
                          memref::LoadOp::create(b, loc, operand->get(),
                                                 ValueRange{i})));
    auto columns = scf::ForOp::create(
        b, loc, index(0), nPadded, index(kLanes), ValueRange{zeros},
        [&](OpBuilder &cb, Location, Value j0, ValueRange sums) {
          Value mask = vector::CreateMaskOp::create(
              cb, loc, maskType,
              ValueRange{arith::SubIOp::create(cb, loc, n, j0).getResult()});
          IRMapping mapping = rowValues;
          auto splat = [&](Value v) -> Value {
            if (isa<VectorType>(v.getType()))
              return v;
            return vector::BroadcastOp::create(
                cb, loc, VectorType::get({kLanes}, v.getType()), v);
          };
          for (OpOperand *operand : exp.getDpsInputOperands())
            if (maps[operand->getOperandNumber()].getNumResults() == 2)
              mapping.map(body->getArgument(operand->getOperandNumber()),
                          vector::MaskedLoadOp::create(cb, loc, f32Vec, s,
                                                       ValueRange{i, j0}, mask,
                                                       zeros));
          for (Operation &inner : body->without_terminator())
            cloneOnVectors(cb, loc, inner, mapping, kLanes);
          // Lanes past n are zero: in the sum and in the padding columns.
          Value p = arith::SelectOp::create(
              cb, loc, mask, splat(mapping.lookupOrDefault(yield.getOperand(0))),
              zeros);
          vector::StoreOp::create(
              cb, loc,
              arith::TruncFOp::create(
                  cb, loc, VectorType::get({kLanes}, cb.getBF16Type()), p),
              packed, ValueRange{i, j0});
          scf::YieldOp::create(
              cb, loc,
              ValueRange{arith::AddFOp::create(cb, loc, sums[0], p,
                                               arith::FastMathFlags::reassoc)
                             .getResult()});
        });
    Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            columns.getResult(0),
                                            arith::FastMathFlags::reassoc);
    memref::StoreOp::create(b, loc, sum, r, ValueRange{i});
  });
  b.setInsertionPointAfter(contraction);
  memref::DeallocOp::create(b, loc, packed);
  return packed;
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
    if (generic && isRowSum(generic, p)) {
      sum = generic;
      break;
    }
    if (touches(op, p))
      return Value();
  }
  if (!sum)
    return Value();
  Value r = sum.getDpsInits()[0];
  Operation *fill = sum->getPrevNode();
  while (fill && isPure(fill))
    fill = fill->getPrevNode();
  if (!fill || !isZeroFill(fill, r))
    return Value();
  Operation *prev = fill->getPrevNode();
  while (prev && isPure(prev))
    prev = prev->getPrevNode();
  auto exp = dyn_cast_or_null<linalg::GenericOp>(prev);
  if (!exp || !isExpPass(exp, p))
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
  Value packed = buildFused(b, exp, p, r, contraction);
  b.eraseOp(exp);
  b.eraseOp(fill);
  b.eraseOp(sum);
  return packed;
}
