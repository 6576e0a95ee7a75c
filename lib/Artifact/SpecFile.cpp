//===- SpecFile.cpp - Reading attn specs for the tools --------------------===//
//
// What attn-compile and attn-run both do before compiling: register the
// dialects, parse and verify a spec file, name its functions' arguments.
//
//===----------------------------------------------------------------------===//
#include "attn/Artifact/Artifact.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

void attn::registerArtifactDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registerGpuTargets(registry);
  registry.insert<AttnDialect>();
  registerDecompositionInterfaces(registry);
}

FailureOr<attn::ParsedSpec>
attn::parseSpecFile(StringRef path, llvm::SourceMgr &sourceMgr,
                    MLIRContext *context,
                    function_ref<void(const Twine &)> error) {
  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &message);
  if (!file) {
    error(message);
    return failure();
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  ParsedSpec spec;
  spec.state = std::make_unique<AsmParserState>();
  Block block;
  if (failed(parseAsmSourceFile(sourceMgr, &block, ParserConfig(context),
                                spec.state.get()))) {
    error("cannot parse '" + path + "'");
    return failure();
  }
  if (llvm::hasSingleElement(block) && isa<ModuleOp>(block.front())) {
    spec.module = cast<ModuleOp>(&block.front());
    spec.module->getOperation()->remove();
  } else {
    spec.module = ModuleOp::create(FileLineColLoc::get(context, path, 0, 0));
    spec.module->getBody()->getOperations().splice(
        spec.module->getBody()->begin(), block.getOperations());
  }
  if (failed(verify(*spec.module)))
    return failure();
  return spec;
}

SmallVector<std::string>
attn::getArgumentNames(func::FuncOp func, const AsmParserState *state,
                       StringRef fallbackPrefix) {
  SmallVector<std::string> names;
  const AsmParserState::BlockDefinition *def =
      state && !func.isExternal() ? state->getBlockDef(&func.getBody().front())
                                  : nullptr;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    if (!def || i >= def->arguments.size()) {
      names.push_back((fallbackPrefix + Twine(i)).str());
      continue;
    }
    llvm::SMRange range = def->arguments[i].loc;
    StringRef text(range.Start.getPointer(),
                   range.End.getPointer() - range.Start.getPointer());
    names.push_back(text.drop_front(text.starts_with("%")).str());
  }
  return names;
}
