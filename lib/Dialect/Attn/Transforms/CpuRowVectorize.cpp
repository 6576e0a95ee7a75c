//===- CpuRowVectorize.cpp - Row-wise vector code for the tiles' generics -===//
//
// The element-wise and row-reduction linalg.generic ops of the flash form's
// tiles (scale, exp2 of the online softmax, row max, row sum, rescaling of
// the accumulator, normalisation) as explicit vector code: per row, a loop
// over the columns in vectors of W lanes, the body's scalar ops cloned on
// vectors, the last vector masked. A row reduction keeps a vector
// accumulator and reduces it across lanes once per row.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// A tile indexed (i, j), a row vector indexed (i) (one value per row), or a
/// column vector indexed (j) (the same vector for every row; inputs only).
enum class OperandKind { Tile, Row, Column };

/// How one output of a row reduction combines: `out = combine(out, x)`.
struct Reduction {
  vector::CombiningKind kind;
  /// `select(cmpf ogt (x, out), x, out)`: `kind` is MAXNUMF, and no lane of
  /// the accumulator is ever NaN.
  bool selectMax = false;
  SmallVector<Operation *, 2> ops; // the combining ops in the body
  Value x;                         // the value combined into the output
  arith::FastMathFlags fastMath = arith::FastMathFlags::none;
};

/// Returns `combine(acc, x)` for `red`, on scalars or vectors.
Value combine(OpBuilder &b, Location loc, const Reduction &red, Value acc,
              Value x) {
  if (red.selectMax) {
    Value greater =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, acc);
    return arith::SelectOp::create(b, loc, greater, x, acc);
  }
  switch (red.kind) {
  case vector::CombiningKind::MAXIMUMF:
    return arith::MaximumFOp::create(b, loc, acc, x, red.fastMath);
  case vector::CombiningKind::MINIMUMF:
    return arith::MinimumFOp::create(b, loc, acc, x, red.fastMath);
  default:
    return arith::AddFOp::create(b, loc, acc, x, red.fastMath);
  }
}

bool isVectorizableElementType(Type type) {
  return type.isF32() || type.isF64() || type.isIndex() ||
         type.isSignlessInteger(32) || type.isSignlessInteger(64);
}

std::optional<OperandKind> operandKind(AffineMap map) {
  MLIRContext *ctx = map.getContext();
  if (map == AffineMap::getMultiDimIdentityMap(2, ctx))
    return OperandKind::Tile;
  if (map == AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx))
    return OperandKind::Row;
  if (map == AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx))
    return OperandKind::Column;
  return std::nullopt;
}

/// Returns the reduction that the yield of output `outArg` makes, or none:
/// `maximumf`, `minimumf` or (reassociable) `addf` of the output and a
/// value, or `select(cmpf ogt (x, out), x, out)` (a maximum that passes over
/// NaN).
std::optional<Reduction> matchReduction(Value yielded, BlockArgument outArg) {
  Operation *op = yielded.getDefiningOp();
  if (!op || !op->getResult(0).hasOneUse())
    return std::nullopt;
  Reduction red;
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    auto cmp = select.getCondition().getDefiningOp<arith::CmpFOp>();
    Value x = select.getTrueValue();
    if (!cmp || select.getFalseValue() != outArg || !cmp->hasOneUse() ||
        cmp.getPredicate() != arith::CmpFPredicate::OGT ||
        cmp.getLhs() != x || cmp.getRhs() != outArg || x == outArg ||
        llvm::range_size(outArg.getUses()) != 2)
      return std::nullopt;
    red.kind = vector::CombiningKind::MAXNUMF;
    red.selectMax = true;
    red.ops = {cmp, select};
    red.x = x;
    return red;
  }
  if (op->getNumOperands() != 2 || !outArg.hasOneUse())
    return std::nullopt;
  if (auto fm = dyn_cast<arith::ArithFastMathInterface>(op))
    red.fastMath = fm.getFastMathFlagsAttr().getValue();
  if (isa<arith::MaximumFOp>(op))
    red.kind = vector::CombiningKind::MAXIMUMF;
  else if (isa<arith::MinimumFOp>(op))
    red.kind = vector::CombiningKind::MINIMUMF;
  else if (isa<arith::AddFOp>(op) &&
           arith::bitEnumContainsAll(red.fastMath,
                                     arith::FastMathFlags::reassoc))
    red.kind = vector::CombiningKind::ADD;
  else
    return std::nullopt;
  if (op->getOperand(0) == outArg)
    red.x = op->getOperand(1);
  else if (op->getOperand(1) == outArg)
    red.x = op->getOperand(0);
  else
    return std::nullopt;
  if (red.x == outArg)
    return std::nullopt;
  red.ops = {op};
  return red;
}

/// The neutral element of `kind` as an f32/f64 attribute.
TypedAttr neutral(OpBuilder &b, vector::CombiningKind kind, Type type) {
  double value = 0.0;
  if (kind == vector::CombiningKind::MAXIMUMF ||
      kind == vector::CombiningKind::MAXNUMF)
    value = -std::numeric_limits<double>::infinity();
  else if (kind == vector::CombiningKind::MINIMUMF)
    value = std::numeric_limits<double>::infinity();
  return b.getFloatAttr(type, value);
}
} // namespace

void attn::cloneOnVectors(OpBuilder &b, Location loc, Operation &op,
                          IRMapping &mapping, int64_t width) {
  auto splat = [&](Value v) -> Value {
    if (isa<VectorType>(v.getType()))
      return v;
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({width}, v.getType()), v);
  };
  if (isa<arith::ConstantOp>(op)) {
    mapping.map(op.getResult(0), splat(b.clone(op)->getResult(0)));
    return;
  }
  for (Value v : op.getOperands())
    if (!mapping.contains(v))
      mapping.map(v, splat(v));
  Operation *vec = b.clone(op, mapping);
  vec->getResult(0).setType(
      VectorType::get({width}, op.getResult(0).getType()));
}

LogicalResult attn::vectorizeRowGeneric(RewriterBase &b, linalg::GenericOp op,
                                        int64_t width) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 2)
    return failure();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators[0] != utils::IteratorType::parallel)
    return failure();
  bool reduce = iterators[1] == utils::IteratorType::reduction;
  Block *body = op.getBody();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<OperandKind> kinds;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    // i1 tiles (the liveness of a Partial tile) are bytes in memory, not
    // the bits of a vector<Wxi1>: they are read and written lane by lane.
    if (!type || type.getRank() > 2 ||
        !(isVectorizableElementType(type.getElementType()) ||
          (type.getRank() == 2 && type.getElementType().isInteger(1))))
      return failure();
    std::optional<OperandKind> kind =
        operandKind(maps[operand.getOperandNumber()]);
    if (!kind)
      return failure();
    if (*kind == OperandKind::Column && type.getElementType().isInteger(1))
      return failure();
    if (*kind != OperandKind::Row) {
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(type.getStridesAndOffset(strides, offset)) ||
          strides.back() != 1)
        return failure();
    }
    bool isInit = op.isDpsInit(&operand);
    // Parallel ops write tiles, reductions rows.
    if (isInit && ((*kind == OperandKind::Row) != reduce ||
                   *kind == OperandKind::Column))
      return failure();
    kinds.push_back(*kind);
  }
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  unsigned numInputs = op.getNumDpsInputs();
  SmallVector<Reduction> reductions;
  if (reduce) {
    for (unsigned o = 0; o < op.getNumDpsInits(); ++o) {
      std::optional<Reduction> r = matchReduction(
          yield.getOperand(o), body->getArgument(numInputs + o));
      if (!r)
        return failure();
      reductions.push_back(*r);
    }
  }
  // Every body op must be element-wise on scalars (or linalg.index).
  for (Operation &inner : body->without_terminator()) {
    if (isa<linalg::IndexOp>(inner))
      continue;
    // arith, and the math ops that become LLVM vector intrinsics (a
    // vector fpowi / ipowi has no lowering; others would be scalarized).
    bool known = isa<arith::ArithDialect>(inner.getDialect()) ||
                 isa<math::ExpOp, math::Exp2Op, math::LogOp, math::Log2Op,
                     math::SqrtOp, math::FmaOp, math::FloorOp, math::CeilOp,
                     math::AbsFOp, math::AbsIOp, math::CopySignOp,
                     math::RoundOp, math::RoundEvenOp, math::TruncOp>(inner);
    if (!known || inner.getNumRegions() != 0 || inner.getNumResults() != 1 ||
        !(inner.hasTrait<OpTrait::Elementwise>() ||
          isa<arith::ConstantOp>(inner)))
      return failure();
    for (Value v : inner.getOperands())
      if (isa<ShapedType>(v.getType()))
        return failure();
    if (!isVectorizableElementType(inner.getResult(0).getType()) &&
        !inner.getResult(0).getType().isInteger(1))
      return failure();
  }

  Location loc = op.getLoc();
  b.setInsertionPoint(op);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  // Sizes from the first operand that has each dimension.
  Value rows, cols;
  for (auto [operand, kind] : llvm::zip(op->getOpOperands(), kinds)) {
    if (!rows)
      rows = memref::DimOp::create(b, loc, operand.get(), 0);
    if (!cols && kind == OperandKind::Tile)
      cols = memref::DimOp::create(b, loc, operand.get(), 1);
  }
  if (!cols)
    return failure();
  VectorType maskType = VectorType::get({width}, b.getI1Type());
  auto vecOf = [&](Type t) { return VectorType::get({width}, t); };

  scf::ForOp::create(
      b, loc, index(0), rows, index(1), ValueRange{},
      [&](OpBuilder &rb, Location, Value r, ValueRange) {
        // Row operands and reduction initial values, as scalars.
        SmallVector<Value> accInit;
        for (const Reduction &red : reductions)
          accInit.push_back(vector::BroadcastOp::create(
              rb, loc, vecOf(red.x.getType()),
              arith::ConstantOp::create(
                  rb, loc, neutral(rb, red.kind, red.x.getType()))));
        auto colLoop = scf::ForOp::create(
            rb, loc, index(0), cols, index(width), accInit,
            [&](OpBuilder &cb, Location, Value c, ValueRange accs) {
              Value mask = vector::CreateMaskOp::create(
                  cb, loc, maskType,
                  ValueRange{arith::SubIOp::create(cb, loc, cols, c)});
              IRMapping mapping;
              // Vector form of a value defined outside the loop nest.
              auto splat = [&](Value v) -> Value {
                if (isa<VectorType>(v.getType()))
                  return v;
                return vector::BroadcastOp::create(cb, loc, vecOf(v.getType()),
                                                   v);
              };
              for (auto [operand, kind] :
                   llvm::zip(op->getOpOperands(), kinds)) {
                BlockArgument arg =
                    body->getArgument(operand.getOperandNumber());
                if (arg.use_empty() ||
                    (reduce && op.isDpsInit(&operand)))
                  continue;
                Type elt = arg.getType();
                Value loaded;
                if (kind == OperandKind::Row)
                  loaded = splat(memref::LoadOp::create(cb, loc, operand.get(),
                                                        ValueRange{r}));
                else if (kind == OperandKind::Column)
                  loaded = vector::MaskedLoadOp::create(
                      cb, loc, vecOf(elt), operand.get(), ValueRange{c}, mask,
                      arith::ConstantOp::create(
                          cb, loc,
                          cast<TypedAttr>(DenseElementsAttr::get(
                              vecOf(elt), cb.getZeroAttr(elt)))));
                else if (elt.isInteger(1)) {
                  // Lanes past the row's end read its last element (they
                  // are masked off).
                  Value last = arith::SubIOp::create(cb, loc, cols, index(1));
                  SmallVector<Value> lanes;
                  for (int64_t l = 0; l < width; ++l) {
                    Value col = arith::MinUIOp::create(
                        cb, loc, arith::AddIOp::create(cb, loc, c, index(l)),
                        last);
                    lanes.push_back(memref::LoadOp::create(
                        cb, loc, operand.get(), ValueRange{r, col}));
                  }
                  loaded = vector::FromElementsOp::create(cb, loc, vecOf(elt),
                                                          lanes);
                } else
                  loaded = vector::MaskedLoadOp::create(
                      cb, loc, vecOf(elt), operand.get(), ValueRange{r, c},
                      mask,
                      arith::ConstantOp::create(
                          cb, loc,
                          cast<TypedAttr>(DenseElementsAttr::get(
                              vecOf(elt), cb.getZeroAttr(elt)))));
                mapping.map(arg, loaded);
              }
              for (Operation &inner : body->without_terminator()) {
                // The combiners of row reductions run on the accumulators.
                if (llvm::any_of(reductions, [&](const Reduction &red) {
                      return llvm::is_contained(red.ops, &inner);
                    }))
                  continue;
                if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
                  Value v;
                  if (idx.getDim() == 0)
                    v = splat(r);
                  else
                    v = arith::AddIOp::create(
                        cb, loc, splat(c),
                        vector::StepOp::create(cb, loc, vecOf(cb.getIndexType())));
                  mapping.map(idx.getResult(), v);
                  continue;
                }
                cloneOnVectors(cb, loc, inner, mapping, width);
              }
              SmallVector<Value> nextAccs;
              for (auto [o, red] : llvm::enumerate(reductions)) {
                Value x = splat(mapping.lookupOrDefault(red.x));
                Value id = vector::BroadcastOp::create(
                    cb, loc, x.getType(),
                    arith::ConstantOp::create(
                        cb, loc, neutral(cb, red.kind, red.x.getType())));
                x = arith::SelectOp::create(cb, loc, mask, x, id);
                nextAccs.push_back(combine(cb, loc, red, accs[o], x));
              }
              if (!reduce)
                for (auto [o, value] : llvm::enumerate(yield.getOperands())) {
                  Value v = splat(mapping.lookupOrDefault(value));
                  Value out = op.getDpsInits()[o];
                  if (!cast<MemRefType>(out.getType())
                           .getElementType()
                           .isInteger(1)) {
                    vector::MaskedStoreOp::create(cb, loc, out,
                                                  ValueRange{r, c}, mask, v);
                    continue;
                  }
                  // i1: lane by lane, up to the row's end.
                  Value count = arith::MinUIOp::create(
                      cb, loc, arith::SubIOp::create(cb, loc, cols, c),
                      index(width));
                  scf::ForOp::create(
                      cb, loc, index(0), count, index(1), ValueRange{},
                      [&](OpBuilder &lb, Location, Value l, ValueRange) {
                        Value bit = vector::ExtractOp::create(
                            lb, loc, v, ArrayRef<OpFoldResult>{l});
                        memref::StoreOp::create(
                            lb, loc, bit, out,
                            ValueRange{r, arith::AddIOp::create(lb, loc, c, l)});
                        scf::YieldOp::create(lb, loc);
                      });
                }
              scf::YieldOp::create(cb, loc, nextAccs);
            });
        for (auto [o, red] : llvm::enumerate(reductions)) {
          Value out = op.getDpsInits()[o];
          // No lane of a select-max accumulator is NaN.
          arith::FastMathFlags flags =
              red.selectMax ? arith::FastMathFlags::nnan : red.fastMath;
          Value lanes = vector::ReductionOp::create(
              rb, loc, red.kind, colLoop.getResult(o), flags);
          Value old = memref::LoadOp::create(rb, loc, out, ValueRange{r});
          Value combined = combine(rb, loc, red, old, lanes);
          memref::StoreOp::create(rb, loc, combined, out, ValueRange{r});
        }
        scf::YieldOp::create(rb, loc);
      });
  b.eraseOp(op);
  return success();
}
