//===- attn-compile.cpp - Ahead-of-time artifacts of attn specs -----------===//
//
// attn-compile SPEC.mlir --target=cpu|cuda -o DIR [--entry=NAME ...]
//              [--name=NAME] [--cpu=CPU] [--chip=sm_90a] [--features=+ptx80]
//              [--toolkit=/usr/local/cuda] [--format=fatbin|bin|isa]
//
// Writes DIR/lib<NAME>.so (host code; for cuda with the GPU binary embedded,
// linked against DIR/libattn_cuda_runtime.so, which is copied there, with
// rpath $ORIGIN) and DIR/manifest.json. The library needs only libc and
// libm (and the runtime for cuda): no LLVM or MLIR. See docs/GPU.md.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("attn-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<spec .mlir>"),
                                      cl::cat(category));
static cl::opt<std::string> outputDir("o", cl::Required,
                                      cl::desc("Output directory"),
                                      cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> target("target", cl::init("cpu"),
                                   cl::desc("cpu or cuda"), cl::cat(category));
static cl::list<std::string>
    entries("entry",
            cl::desc("A function to export (default: every public "
                     "function with a body)"),
            cl::cat(category));
static cl::opt<std::string>
    libName("name", cl::desc("Library name (default: the spec's file stem)"),
            cl::cat(category));
static cl::opt<std::string>
    hostCpu("cpu", cl::init("x86-64-v2"),
            cl::desc("Host CPU the library is compiled for (native: this "
                     "machine's)"),
            cl::cat(category));
static cl::opt<std::string> chip("chip", cl::init("sm_90a"),
                                 cl::desc("cuda: GPU architecture"),
                                 cl::cat(category));
static cl::opt<std::string> features("features", cl::init("+ptx80"),
                                     cl::desc("cuda: PTX features"),
                                     cl::cat(category));
static cl::opt<std::string> toolkit("toolkit", cl::init("/usr/local/cuda"),
                                    cl::desc("cuda: CUDA toolkit"),
                                    cl::cat(category));
static cl::opt<std::string>
    format("format", cl::init("fatbin"),
           cl::desc("cuda: the embedded GPU binary (fatbin, bin or isa)"),
           cl::cat(category));
static cl::opt<std::string>
    gpuAbi("gpu-abi", cl::init("host"),
           cl::desc("cuda: the entries' buffers, host (copied to and from "
                    "the device on each call) or device (device pointers "
                    "used in place; every result is an outs operand)"),
           cl::cat(category));
static cl::opt<std::string>
    linker("linker", cl::init(""),
           cl::desc("The compiler driver that links the library (default: "
                    "clang-22, else /usr/lib/llvm-22/bin/clang)"),
           cl::cat(category));

static llvm::raw_ostream &error() {
  return llvm::WithColor::error(llvm::errs(), "attn-compile");
}

/// The manifest name of an element type, or "" when it is not supported.
static std::string getDtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  for (unsigned width : {1u, 8u, 32u, 64u})
    if (type.isSignlessInteger(width))
      return "i" + std::to_string(width);
  return "";
}

/// {"dtype": ..., "shape": [4, null, 64]} of a ranked tensor; null marks a
/// dynamic dimension.
static FailureOr<llvm::json::Object> describe(Type type, Location loc) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::string dtype = tensor ? getDtypeName(tensor.getElementType()) : "";
  if (dtype.empty())
    return emitError(loc) << "attn-compile: every argument and result must "
                             "be a ranked tensor of f32, f64, f16, bf16, i1, "
                             "i8, i32 or i64, but got "
                          << type;
  llvm::json::Array shape;
  for (int64_t size : tensor.getShape())
    shape.push_back(ShapedType::isDynamic(size) ? llvm::json::Value(nullptr)
                                                : llvm::json::Value(size));
  return llvm::json::Object{{"dtype", dtype}, {"shape", std::move(shape)}};
}

/// The names of `func`'s arguments in the source ("%q" -> "q").
static SmallVector<std::string> getArgNames(func::FuncOp func,
                                            const AsmParserState &state) {
  SmallVector<std::string> names;
  const AsmParserState::BlockDefinition *def =
      state.getBlockDef(&func.getBody().front());
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    if (!def || i >= def->arguments.size()) {
      names.push_back("arg" + std::to_string(i));
      continue;
    }
    llvm::SMRange range = def->arguments[i].loc;
    StringRef text(range.Start.getPointer(),
                   range.End.getPointer() - range.Start.getPointer());
    names.push_back(text.drop_front(text.starts_with("%")).str());
  }
  return names;
}

/// Lowers `module` to the LLVM dialect for `target`.
static LogicalResult lower(ModuleOp module) {
  PassManager pm(module.getContext());
  auto errorHandler = [](const Twine &message) {
    error() << message << "\n";
    return failure();
  };
  if (target == "cpu") {
    attn::CpuPipelineOptions options;
    if (failed(attn::buildCpuPipeline(pm, options, errorHandler)))
      return failure();
  } else {
    attn::GpuPipelineOptions options;
    options.chip = chip;
    options.features = features;
    options.toolkit = toolkit;
    options.format = format;
    options.abi = gpuAbi;
    if (failed(attn::buildGpuPipeline(pm, options, errorHandler)))
      return failure();
  }
  if (failed(pm.run(module))) {
    error() << "the " << target << " pipeline failed on '" << inputFile
            << "'\n";
    return failure();
  }
  return success();
}

/// Translates the lowered module to LLVM IR and writes an object file.
static LogicalResult emitObject(ModuleOp module, StringRef path) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string message;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, message);
  if (!llvmTarget) {
    error() << "no LLVM target for " << triple.str() << ": " << message << "\n";
    return failure();
  }
  std::string cpu =
      hostCpu == "native" ? llvm::sys::getHostCPUName().str() : hostCpu;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, "", llvm::TargetOptions(), llvm::Reloc::PIC_));
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, libName);
  if (!llvmModule) {
    error() << "translation to LLVM IR failed\n";
    return failure();
  }
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  auto optimize = makeOptimizingTransformer(2, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    error() << "LLVM optimisation failed: " << llvm::toString(std::move(err))
            << "\n";
    return failure();
  }
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error() << "cannot write '" << path << "': " << ec.message() << "\n";
    return failure();
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error() << "the target cannot emit object files\n";
    return failure();
  }
  codegen.run(*llvmModule);
  out.keep();
  return success();
}

/// Links the object into DIR/lib<name>.so.
static LogicalResult link(StringRef object, StringRef library) {
  std::string driver = linker;
  if (driver.empty()) {
    auto found = llvm::sys::findProgramByName("clang-22");
    driver = found ? *found : "/usr/lib/llvm-22/bin/clang";
  }
  SmallVector<std::string> args = {driver,
                                   "-shared",
                                   "-o",
                                   library.str(),
                                   object.str(),
                                   "-Wl,--whole-archive",
                                   ATTN_ARTIFACT_SUPPORT,
                                   "-Wl,--no-whole-archive",
                                   "-Wl,--no-undefined",
                                   "-Wl,-rpath,$ORIGIN"};
  if (target == "cuda")
    args.append({"-L" + outputDir, "-lattn_cuda_runtime"});
  else
    args.append({"-L" + outputDir, "-l:libomp.so.5"});
  args.push_back("-lm");
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(driver, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    error() << "linking '" << library << "' with " << driver << " failed (exit "
            << rc << ")" << (message.empty() ? "" : ": " + message) << "\n";
    return failure();
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-compile: ahead-of-time artifacts\n");
  if (target != "cpu" && target != "cuda") {
    error() << "--target must be cpu or cuda, but got '" << target << "'\n";
    return 1;
  }
  if (gpuAbi != "host" && gpuAbi != "device") {
    error() << "--gpu-abi must be host or device, but got '" << gpuAbi
            << "'\n";
    return 1;
  }
  if (gpuAbi == "device" && target != "cuda") {
    error() << "--gpu-abi=device needs --target=cuda\n";
    return 1;
  }
  if (libName.empty())
    libName = llvm::sys::path::stem(inputFile).str();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<attn::AttnDialect>();
  attn::registerDecompositionInterfaces(registry);
  registerAllToLLVMIRTranslations(registry);
  attn::registerGpuTargets(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);

  std::string message;
  auto file = openInputFile(inputFile, &message);
  if (!file) {
    error() << message << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  AsmParserState state;
  Block block;
  if (failed(parseAsmSourceFile(sourceMgr, &block, ParserConfig(&context),
                                &state)))
    return 1;
  OwningOpRef<ModuleOp> module;
  if (llvm::hasSingleElement(block) && isa<ModuleOp>(block.front())) {
    module = cast<ModuleOp>(&block.front());
    module->getOperation()->remove();
  } else {
    module = ModuleOp::create(UnknownLoc::get(&context));
    module->getBody()->getOperations().splice(module->getBody()->begin(),
                                              block.getOperations());
  }
  if (failed(verify(*module)))
    return 1;

  // The entries and the manifest, from the spec before lowering.
  llvm::json::Array manifestEntries;
  SmallVector<func::FuncOp> funcs;
  for (auto func : module->getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic() &&
        (entries.empty() || llvm::is_contained(entries, func.getSymName())))
      funcs.push_back(func);
  for (const std::string &name : entries)
    if (!llvm::any_of(funcs,
                      [&](func::FuncOp f) { return f.getSymName() == name; })) {
      error() << "'" << inputFile << "' has no public function @" << name
              << " with a body\n";
      return 1;
    }
  if (funcs.empty()) {
    error() << "'" << inputFile << "' has no public function with a body\n";
    return 1;
  }
  for (func::FuncOp func : funcs) {
    SmallVector<std::string> names = getArgNames(func, state);
    llvm::json::Array args, results;
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
      auto arg = describe(type, func.getArgument(i).getLoc());
      if (failed(arg))
        return 1;
      arg->insert({"name", names[i]});
      args.push_back(std::move(*arg));
    }
    for (Type type : func.getResultTypes()) {
      auto result = describe(type, func.getLoc());
      if (failed(result))
        return 1;
      results.push_back(std::move(*result));
    }
    manifestEntries.push_back(llvm::json::Object{
        {"name", func.getSymName()},
        {"symbol", ("_mlir_ciface_" + func.getSymName()).str()},
        {"args", std::move(args)},
        {"results", std::move(results)}});
    func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(&context));
  }

  // A pass may report an error and still succeed (gpu-module-to-binary
  // with a missing toolkit and no kernel does): any error fails.
  bool sawError = false;
  ScopedDiagnosticHandler errorWatch(&context, [&](Diagnostic &diagnostic) {
    sawError |= diagnostic.getSeverity() == DiagnosticSeverity::Error;
    return failure(); // Printed by the handler below this one.
  });
  if (failed(lower(*module)) || sawError)
    return 1;
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
    error() << "cannot create '" << outputDir << "': " << ec.message() << "\n";
    return 1;
  }
  SmallString<256> object(outputDir), library(outputDir), manifest(outputDir);
  llvm::sys::path::append(object, "lib" + libName + ".o");
  llvm::sys::path::append(library, "lib" + libName + ".so");
  llvm::sys::path::append(manifest, "manifest.json");
  if (target == "cuda") {
    SmallString<256> runtime(outputDir);
    llvm::sys::path::append(runtime, "libattn_cuda_runtime.so");
    if (std::error_code ec =
            llvm::sys::fs::copy_file(ATTN_CUDA_RUNTIME_LIBRARY, runtime)) {
      error() << "cannot copy the runtime " << ATTN_CUDA_RUNTIME_LIBRARY
              << " to '" << runtime << "': " << ec.message() << "\n";
      return 1;
    }
  }
  if (target == "cpu") {
    // The fused CPU code's parallel loop calls LLVM's OpenMP runtime.
    SmallString<256> openmp(outputDir);
    llvm::sys::path::append(openmp, "libomp.so.5");
    if (std::error_code ec =
            llvm::sys::fs::copy_file(ATTN_OPENMP_LIBRARY, openmp)) {
      error() << "cannot copy the OpenMP runtime " << ATTN_OPENMP_LIBRARY
              << " to '" << openmp << "': " << ec.message() << "\n";
      return 1;
    }
  }
  if (failed(emitObject(*module, object)) || failed(link(object, library)))
    return 1;
  llvm::sys::fs::remove(object);

  llvm::json::Object root{
      {"format", "attn-artifact"},
      {"version", 1},
      {"target", target.getValue()},
      {"library", ("lib" + libName + ".so")},
      {"runtime", target == "cuda"
                      ? llvm::json::Value("libattn_cuda_runtime.so")
                      : llvm::json::Value(nullptr)},
      {"openmp", target == "cpu" ? llvm::json::Value("libomp.so.5")
                                 : llvm::json::Value(nullptr)},
      {"free", "attn_artifact_free"},
      {"entries", std::move(manifestEntries)}};
  if (target == "cuda")
    root.insert({"gpu", llvm::json::Object{{"chip", chip.getValue()},
                                           {"features", features.getValue()},
                                           {"format", format.getValue()},
                                           {"abi", gpuAbi.getValue()}}});
  std::error_code ec;
  llvm::raw_fd_ostream os(manifest, ec);
  if (ec) {
    error() << "cannot write '" << manifest << "': " << ec.message() << "\n";
    return 1;
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return 0;
}
