//===- AllocChecks.cpp - Overflow checks of buffer sizes ------------------===//
#include "AllocChecks.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

using namespace mlir;

/// Collects the factors of the `llvm.mul` tree that computes `value`.
static void collectFactors(Value value, SmallVectorImpl<Value> &factors) {
  if (auto mul = value.getDefiningOp<LLVM::MulOp>()) {
    collectFactors(mul.getLhs(), factors);
    collectFactors(mul.getRhs(), factors);
    return;
  }
  factors.push_back(value);
}

namespace {
/// The parts of a buffer size as the memref lowering computes it:
/// `ptrtoint(getelementptr null[f0 * f1 * ...] : T) + padding`.
struct SizeExpression {
  SmallVector<Value> factors;
  Type elementType;
  Value padding;
};
} // namespace

/// Matches the size operand of a malloc call, or returns nullopt.
static std::optional<SizeExpression> matchSize(Value size) {
  SizeExpression expr;
  if (auto add = size.getDefiningOp<LLVM::AddOp>()) {
    size = add.getLhs();
    expr.padding = add.getRhs();
    if (!size.getDefiningOp<LLVM::PtrToIntOp>())
      std::swap(size, expr.padding);
  }
  auto toInt = size.getDefiningOp<LLVM::PtrToIntOp>();
  if (!toInt)
    return std::nullopt;
  auto gep = toInt.getArg().getDefiningOp<LLVM::GEPOp>();
  if (!gep || !gep.getBase().getDefiningOp<LLVM::ZeroOp>() ||
      gep.getDynamicIndices().size() != 1 ||
      gep.getRawConstantIndices().size() != 1)
    return std::nullopt;
  expr.elementType = gep.getElemType();
  collectFactors(gep.getDynamicIndices().front(), expr.factors);
  return expr;
}

/// Emits `acc * rhs` (or `acc + rhs`) with an overflow bit or-ed into `flag`.
template <typename OpT>
static Value accumulate(OpBuilder &b, Location loc, Value acc, Value rhs,
                        Value &flag) {
  Type i64 = b.getI64Type();
  auto pair =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i64, b.getI1Type()});
  Value result = OpT::create(b, loc, pair, acc, rhs);
  Value overflow = LLVM::ExtractValueOp::create(b, loc, result, 1);
  flag = LLVM::OrOp::create(b, loc, flag, overflow);
  return LLVM::ExtractValueOp::create(b, loc, result, 0);
}

void attn_run::insertAllocationSizeChecks(ModuleOp module,
                                          StringRef checkFunction) {
  SmallVector<std::pair<LLVM::CallOp, SizeExpression>> calls;
  module.walk([&](LLVM::CallOp call) {
    std::optional<StringRef> callee = call.getCallee();
    if (!callee || *callee != "malloc" || call.getNumOperands() != 1 ||
        !call.getOperand(0).getType().isInteger(64))
      return;
    if (std::optional<SizeExpression> expr = matchSize(call.getOperand(0)))
      calls.push_back({call, std::move(*expr)});
  });
  if (calls.empty())
    return;

  MLIRContext *context = module.getContext();
  OpBuilder b(context);
  Type i64 = b.getI64Type();
  if (!module.lookupSymbol<LLVM::LLVMFuncOp>(checkFunction)) {
    b.setInsertionPointToStart(module.getBody());
    LLVM::LLVMFuncOp::create(
        b, module.getLoc(), checkFunction,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {i64}));
  }
  DataLayout layout(module);
  for (auto &[call, expr] : calls) {
    Location loc = call.getLoc();
    b.setInsertionPoint(call);
    Value flag =
        LLVM::ConstantOp::create(b, loc, b.getI1Type(), b.getBoolAttr(false));
    Value bytes = LLVM::ConstantOp::create(
        b, loc, i64, b.getI64IntegerAttr(layout.getTypeSize(expr.elementType)));
    // A product with a factor 0 is 0, whatever the other factors.
    Value zero = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(0));
    Value nonZero =
        LLVM::ConstantOp::create(b, loc, b.getI1Type(), b.getBoolAttr(true));
    for (Value factor : expr.factors) {
      bytes = accumulate<LLVM::UMulWithOverflowOp>(b, loc, bytes, factor, flag);
      nonZero = LLVM::AndOp::create(
          b, loc, nonZero,
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, factor, zero));
    }
    if (expr.padding)
      accumulate<LLVM::UAddWithOverflowOp>(b, loc, bytes, expr.padding, flag);
    flag = LLVM::AndOp::create(b, loc, flag, nonZero);
    Value wide = LLVM::ZExtOp::create(b, loc, i64, flag);
    LLVM::CallOp::create(b, loc, TypeRange{}, checkFunction, ValueRange{wide});
  }
}
