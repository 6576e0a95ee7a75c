//===- Oracles.cpp - Semantic checks of the attn-fuzz target --------------===//

#include "Oracles.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

static bool isAttnDialectOp(Operation *op) {
  return op->getDialect() && op->getDialect()->getNamespace() == "attn";
}

std::string attn_fuzz::findUnknownAttnAttribute(ModuleOp module) {
  std::string found;
  module->walk([&](Operation *op) {
    if (!isAttnDialectOp(op))
      return WalkResult::advance();
    ArrayRef<StringAttr> inherent = op->getName().getAttributeNames();
    for (NamedAttribute attr : op->getAttrs()) {
      StringRef name = attr.getName().getValue();
      if (name.contains('.') || llvm::is_contained(inherent, attr.getName()))
        continue;
      found = "'" + op->getName().getStringRef().str() + "' accepted `" +
              name.str() + "`, an attribute it does not define";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

std::string attn_fuzz::findMalformedSegments(ModuleOp module) {
  std::string found;
  module->walk([&](Operation *op) {
    if (!isAttnDialectOp(op))
      return WalkResult::advance();
    std::optional<Attribute> attr = op->getInherentAttr("operandSegmentSizes");
    auto sizes = attr ? dyn_cast_or_null<DenseI32ArrayAttr>(*attr) : nullptr;
    if (!sizes)
      return WalkResult::advance();
    int64_t mandatory = isa<attn::SdpaOp>(op) ? 4 : 0;
    for (auto [index, size] : llvm::enumerate(sizes.asArrayRef())) {
      if (size == 1 || (size == 0 && int64_t(index) >= mandatory))
        continue;
      found = "'" + op->getName().getStringRef().str() + "' accepted " +
              std::to_string(size) + " values for operand segment " +
              std::to_string(index);
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

bool attn_fuzz::isAttnModule(ModuleOp module, bool sdpaOnly) {
  WalkResult result = module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<attn::SdpaOp>(op))
      return WalkResult::skip(); // score_mod may hold any pure op.
    if (isAttnDialectOp(op))
      return sdpaOnly ? WalkResult::interrupt() : WalkResult::skip();
    if (isa<ModuleOp, func::FuncOp, func::ReturnOp, arith::ConstantOp,
            tensor::EmptyOp>(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return !result.wasInterrupted();
}

std::string attn_fuzz::findNonLLVMOp(ModuleOp module) {
  std::string found;
  module->walk([&](Operation *op) {
    // The fused pipeline's parallel loop stays in the OpenMP dialect, which
    // LLVM IR translation takes like the LLVM dialect.
    StringRef dialect =
        op->getDialect() ? op->getDialect()->getNamespace() : StringRef();
    if (op == module.getOperation() || dialect == "llvm" || dialect == "omp")
      return WalkResult::advance();
    found = op->getName().getStringRef().str();
    return WalkResult::interrupt();
  });
  return found;
}

std::string attn_fuzz::findAttnOp(ModuleOp module) {
  std::string found;
  module->walk([&](Operation *op) {
    if (!isAttnDialectOp(op))
      return WalkResult::advance();
    found = op->getName().getStringRef().str();
    return WalkResult::interrupt();
  });
  return found;
}
