//===- attn-compile.cpp - Ahead-of-time artifacts of attn specs -----------===//
//
// attn-compile SPEC.mlir --target=cpu|cuda -o DIR [--entry=NAME ...]
//              [--name=NAME] [--cpu=CPU] [--chip=sm_90a] [--features=+ptx80]
//              [--toolkit=/usr/local/cuda] [--format=fatbin|bin|isa]
//              [--gpu-abi=host|device]
//
// Writes DIR/lib<NAME>.so (host code; for cuda with the GPU binary embedded,
// linked against DIR/libattn_cuda_runtime.so, which is copied there, with
// rpath $ORIGIN) and DIR/manifest.json. The library needs only libc and
// libm (and the runtime for cuda): no LLVM or MLIR. The command line of
// writeArtifact (attn/Artifact/Artifact.h); see docs/GPU.md.
//
//===----------------------------------------------------------------------===//
#include "attn/Artifact/Artifact.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

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

/// The flags as attn::ArtifactOptions (the same names and defaults).
static void getArtifactOptions(attn::ArtifactOptions &options) {
  options.target = target;
  options.entries = ArrayRef<std::string>(entries);
  options.name = libName;
  options.hostCpu = hostCpu;
  options.chip = chip;
  options.features = features;
  options.toolkit = toolkit;
  options.format = format;
  options.gpuAbi = gpuAbi;
  options.linker = linker;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-compile: ahead-of-time artifacts\n");
  attn::ArtifactOptions options;
  getArtifactOptions(options);
  auto error = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "attn-compile") << message << "\n";
  };
  attn::ArtifactReporter reporter{error, "--", inputFile};
  if (failed(attn::verifyArtifactOptions(options, reporter)))
    return 1;

  DialectRegistry registry;
  attn::registerArtifactDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  FailureOr<attn::ParsedSpec> spec =
      attn::parseSpecFile(inputFile, sourceMgr, &context, error);
  if (failed(spec))
    return 1;
  return failed(attn::writeArtifact(*spec->module, options, outputDir,
                                    reporter, spec->state.get()));
}
