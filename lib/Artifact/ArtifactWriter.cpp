//===- ArtifactWriter.cpp - Ahead-of-time artifacts of attn specs ---------===//
//
// writeArtifact: the manifest from the spec, the target's pipeline on a copy
// of it, LLVM IR, an object file, and the host library linked with the
// support archive and the runtime copied next to it.
//
//===----------------------------------------------------------------------===//
#include "attn/Artifact/Artifact.h"
#include "SupportFiles.h"

#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// One writeArtifact call: the options, where to write and whom to tell.
struct Writer {
  const ArtifactOptions &options;
  StringRef outputDir;
  const ArtifactReporter &reporter;
  std::string libName;

  bool isCuda() const { return options.target == "cuda"; }
  std::string describeSource() const {
    return reporter.sourceName.empty()
               ? std::string("the module")
               : ("'" + reporter.sourceName + "'").str();
  }
  LogicalResult fail(const Twine &message) const {
    reporter.error(message);
    return failure();
  }

  FailureOr<llvm::json::Array>
  describeEntries(ModuleOp module, const AsmParserState *state,
                  SmallVectorImpl<StringRef> &exported);
  LogicalResult lower(ModuleOp module);
  LogicalResult emitObject(ModuleOp module, StringRef path);
  LogicalResult copySupportFiles();
  LogicalResult link(StringRef object, StringRef library);
  LogicalResult writeManifest(llvm::json::Array entries, StringRef path);
  LogicalResult replace(StringRef temp, StringRef path);
};
} // namespace

/// A temporary name next to `path`, unique to this process.
static std::string getTempPath(StringRef path) {
  return (path + ".tmp" + Twine(llvm::sys::Process::getProcessId())).str();
}

/// Renames `temp` to `path`. Every file of the directory is written under a
/// temporary name and renamed into place: a process that has the previous
/// library (or libomp.so.5) loaded keeps its mapping of the old file, which
/// writing in place would change under it.
LogicalResult Writer::replace(StringRef temp, StringRef path) {
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return fail("cannot rename '" + temp + "' to '" + path +
                "': " + ec.message());
  }
  return success();
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

LogicalResult attn::verifyArtifactOptions(const ArtifactOptions &options,
                                          const ArtifactReporter &reporter) {
  StringRef p = reporter.optionPrefix;
  if (options.target != "cpu" && options.target != "cuda") {
    reporter.error(p + "target must be cpu or cuda, but got '" +
                   options.target + "'");
    return failure();
  }
  if (options.gpuAbi != "host" && options.gpuAbi != "device") {
    reporter.error(p + "gpu-abi must be host or device, but got '" +
                   options.gpuAbi + "'");
    return failure();
  }
  if (options.gpuAbi == "device" && options.target != "cuda") {
    reporter.error(p + "gpu-abi=device needs " + p + "target=cuda");
    return failure();
  }
  return success();
}

/// The manifest's entries, from the spec before lowering; `exported` gets
/// their names.
FailureOr<llvm::json::Array>
Writer::describeEntries(ModuleOp module, const AsmParserState *state,
                        SmallVectorImpl<StringRef> &exported) {
  SmallVector<func::FuncOp> funcs;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic() &&
        (options.entries.empty() ||
         llvm::is_contained(options.entries, func.getSymName())))
      funcs.push_back(func);
  for (const std::string &name : options.entries)
    if (!llvm::any_of(funcs,
                      [&](func::FuncOp f) { return f.getSymName() == name; })) {
      (void)fail(describeSource() + " has no public function @" + name +
                 " with a body");
      return failure();
    }
  if (funcs.empty()) {
    (void)fail(describeSource() + " has no public function with a body");
    return failure();
  }
  llvm::json::Array entries;
  for (func::FuncOp func : funcs) {
    SmallVector<std::string> names = getArgumentNames(func, state, "arg");
    llvm::json::Array args, results;
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
      auto arg = describe(type, func.getArgument(i).getLoc());
      if (failed(arg))
        return failure();
      arg->insert({"name", names[i]});
      args.push_back(std::move(*arg));
    }
    for (Type type : func.getResultTypes()) {
      auto result = describe(type, func.getLoc());
      if (failed(result))
        return failure();
      results.push_back(std::move(*result));
    }
    entries.push_back(llvm::json::Object{
        {"name", func.getSymName()},
        {"symbol", ("_mlir_ciface_" + func.getSymName()).str()},
        {"args", std::move(args)},
        {"results", std::move(results)}});
    exported.push_back(func.getSymName());
  }
  return entries;
}

/// Lowers `module` to the LLVM dialect for the target.
LogicalResult Writer::lower(ModuleOp module) {
  PassManager pm(module.getContext());
  auto errorHandler = [&](const Twine &message) { return fail(message); };
  if (!isCuda()) {
    CpuPipelineOptions cpu;
    if (failed(buildCpuPipeline(pm, cpu, errorHandler)))
      return failure();
  } else {
    GpuPipelineOptions gpu;
    gpu.chip = options.chip;
    gpu.features = options.features;
    gpu.toolkit = options.toolkit;
    gpu.format = options.format;
    gpu.abi = options.gpuAbi;
    if (failed(buildGpuPipeline(pm, gpu, errorHandler)))
      return failure();
  }
  if (failed(pm.run(module)))
    return fail("the " + options.target + " pipeline failed on " +
                describeSource());
  return success();
}

/// Translates the lowered module to LLVM IR and writes an object file.
LogicalResult Writer::emitObject(ModuleOp module, StringRef path) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string message;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, message);
  if (!llvmTarget)
    return fail("no LLVM target for " + triple.str() + ": " + message);
  std::string cpu = options.hostCpu == "native"
                        ? llvm::sys::getHostCPUName().str()
                        : options.hostCpu.getValue();
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, "", llvm::TargetOptions(), llvm::Reloc::PIC_));
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, libName);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  auto optimize = makeOptimizingTransformer(2, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return fail("LLVM optimisation failed: " + llvm::toString(std::move(err)));
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  codegen.run(*llvmModule);
  out.keep();
  return success();
}

/// Copies the runtime the library links next to it: the CUDA runtime
/// (cuda) or LLVM's OpenMP runtime, which the fused CPU code's parallel loop
/// calls (cpu).
LogicalResult Writer::copySupportFiles() {
  std::string from = isCuda() ? getSupportFile(SupportFile::CudaRuntime)
                              : getSupportFile(SupportFile::OpenMP);
  StringRef what = isCuda() ? "runtime" : "OpenMP runtime";
  SmallString<256> to(outputDir);
  llvm::sys::path::append(to, isCuda() ? "libattn_cuda_runtime.so"
                                       : "libomp.so.5");
  std::string temp = getTempPath(to);
  if (std::error_code ec = llvm::sys::fs::copy_file(from, temp))
    return fail("cannot copy the " + what + " " + from + " to '" + temp +
                "': " + ec.message());
  return replace(temp, to);
}

/// Links the object into `library`.
LogicalResult Writer::link(StringRef object, StringRef library) {
  std::string driver = options.linker;
  if (driver.empty()) {
    auto found = llvm::sys::findProgramByName("clang-22");
    driver = found ? *found : "/usr/lib/llvm-22/bin/clang";
  }
  SmallVector<std::string> args = {driver,
                                   "-shared",
                                   "-o",
                                   getTempPath(library),
                                   object.str(),
                                   "-Wl,--whole-archive",
                                   getSupportFile(SupportFile::Archive),
                                   "-Wl,--no-whole-archive",
                                   "-Wl,--no-undefined",
                                   "-Wl,-rpath,$ORIGIN",
                                   "-L" + outputDir.str()};
  args.push_back(isCuda() ? "-lattn_cuda_runtime" : "-l:libomp.so.5");
  args.push_back("-lm");
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(driver, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    llvm::sys::fs::remove(args[3]);
    return fail("linking '" + library + "' with " + driver + " failed (exit " +
                Twine(rc) + ")" + (message.empty() ? "" : ": " + message));
  }
  return replace(args[3], library);
}

LogicalResult Writer::writeManifest(llvm::json::Array entries,
                                    StringRef path) {
  llvm::json::Object root{
      {"format", "attn-artifact"},
      {"version", 1},
      {"target", options.target},
      {"library", ("lib" + libName + ".so")},
      {"runtime", isCuda() ? llvm::json::Value("libattn_cuda_runtime.so")
                           : llvm::json::Value(nullptr)},
      {"openmp", isCuda() ? llvm::json::Value(nullptr)
                          : llvm::json::Value("libomp.so.5")},
      {"free", "attn_artifact_free"},
      {"entries", std::move(entries)}};
  if (isCuda())
    root.insert({"gpu", llvm::json::Object{{"chip", options.chip.getValue()},
                                           {"features", options.features.getValue()},
                                           {"format", options.format.getValue()},
                                           {"abi", options.gpuAbi.getValue()}}});
  std::string temp = getTempPath(path);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temp, ec);
    if (ec)
      return fail("cannot write '" + temp + "': " + ec.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    os.close();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return fail("cannot write '" + temp + "': " + message);
    }
  }
  return replace(temp, path);
}

/// What lowering and translating for `target` needs beyond the dialects a
/// caller's context may have been made with (attnRegisterAllDialects of the
/// C API has no GPU targets).
static void appendTranslations(MLIRContext *context) {
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  registerGpuTargets(registry);
  context->appendDialectRegistry(registry);
}

LogicalResult attn::writeArtifact(ModuleOp spec, const ArtifactOptions &options,
                                  StringRef outputDir,
                                  const ArtifactReporter &reporter,
                                  const AsmParserState *state) {
  if (failed(verifyArtifactOptions(options, reporter)))
    return failure();
  Writer writer{options, outputDir, reporter, options.name};
  if (writer.libName.empty())
    writer.libName = reporter.sourceName.empty()
                         ? std::string("artifact")
                         : llvm::sys::path::stem(reporter.sourceName).str();
  MLIRContext *context = spec.getContext();
  appendTranslations(context);

  // The manifest comes from the spec as parsed (`state` records its ops);
  // the pipeline lowers a copy, whose entries get `_mlir_ciface_` wrappers.
  SmallVector<StringRef> exported;
  FailureOr<llvm::json::Array> entries =
      writer.describeEntries(spec, state, exported);
  if (failed(entries))
    return failure();
  OwningOpRef<ModuleOp> module(spec.clone());
  for (StringRef name : exported)
    module->lookupSymbol(name)->setAttr(
        LLVM::LLVMDialect::getEmitCWrapperAttrName(), UnitAttr::get(context));

  // A pass may report an error and still succeed (gpu-module-to-binary
  // with a missing toolkit and no kernel does): any error fails.
  bool sawError = false;
  ScopedDiagnosticHandler errorWatch(context, [&](Diagnostic &diagnostic) {
    sawError |= diagnostic.getSeverity() == DiagnosticSeverity::Error;
    return failure(); // Left to the handlers registered before this one.
  });
  if (failed(writer.lower(*module)) || sawError)
    return failure();
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return writer.fail("cannot create '" + outputDir + "': " + ec.message());
  SmallString<256> object(outputDir), library(outputDir), manifest(outputDir);
  llvm::sys::path::append(object, "lib" + writer.libName + ".o");
  llvm::sys::path::append(library, "lib" + writer.libName + ".so");
  llvm::sys::path::append(manifest, "manifest.json");
  if (failed(writer.copySupportFiles()) ||
      failed(writer.emitObject(*module, object)) ||
      failed(writer.link(object, library)))
    return failure();
  llvm::sys::fs::remove(object);
  return writer.writeManifest(std::move(*entries), manifest);
}
