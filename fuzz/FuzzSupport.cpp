//===- FuzzSupport.cpp - What the attn-fuzz target and mutator share ------===//

#include "FuzzSupport.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdlib>

using namespace mlir;

const DialectRegistry &attn_fuzz::getRegistry() {
  static const DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    r->insert<attn::AttnDialect, func::FuncDialect, arith::ArithDialect,
              math::MathDialect, tensor::TensorDialect, scf::SCFDialect,
              linalg::LinalgDialect>();
    attn::registerDecompositionInterfaces(*r);
    return r;
  }();
  return *registry;
}

const DialectRegistry &attn_fuzz::getPipelineRegistry() {
  static const DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    registerAllDialects(*r);
    registerAllExtensions(*r);
    r->insert<attn::AttnDialect>();
    attn::registerDecompositionInterfaces(*r);
    return r;
  }();
  return *registry;
}

/// Known upstream crash, not ours (MLIR 22): linalg.transpose, .broadcast and
/// .reduce parse `permutation = [...]` / `dimensions = [...]` with
/// DenseI64ArrayAttr::parse and store its result unchecked, so a malformed
/// array stores a null attribute and NamedAttrList::set dereferences it
/// (SEGV in mlir::Attribute::getContext). Inputs where such a keyword is not
/// followed by a well-formed `= [int, ...]` are skipped so that this crash
/// does not drown the ones in attn code.
bool attn_fuzz::hitsKnownUpstreamCrash(llvm::StringRef input) {
  static const bool disabled = std::getenv("ATTN_FUZZ_NO_FILTER") != nullptr;
  if (disabled)
    return false;
  for (llvm::StringRef keyword : {"permutation", "dimensions"}) {
    for (size_t pos = input.find(keyword); pos != llvm::StringRef::npos;
         pos = input.find(keyword, pos + 1)) {
      llvm::StringRef rest = input.drop_front(pos + keyword.size()).ltrim();
      // Only `keyword =` reaches the crashing parser; `keyword` elsewhere
      // (an identifier, `dimensions(...)`) is harmless.
      if (!rest.consume_front("="))
        continue;
      rest = rest.ltrim();
      if (!rest.consume_front("["))
        return true;
      rest = rest.ltrim();
      if (rest.consume_front("]"))
        continue;
      while (true) {
        rest.consume_front("-");
        size_t digits = rest.find_first_not_of("0123456789");
        if (digits == 0 || digits == llvm::StringRef::npos || digits > 18)
          return true;
        rest = rest.drop_front(digits).ltrim();
        if (rest.consume_front("]"))
          break;
        if (!rest.consume_front(","))
          return true;
        rest = rest.ltrim();
      }
    }
  }
  return false;
}

OwningOpRef<ModuleOp> attn_fuzz::parseInput(llvm::StringRef input,
                                            MLIRContext &context, bool verify,
                                            llvm::StringRef name) {
  // A null-terminated copy: MLIR's lexer reads the terminator past the end
  // of the buffer.
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(input, name), llvm::SMLoc());
  ParserConfig config(&context, verify);
  return parseSourceFile<ModuleOp>(sourceMgr, config);
}
