//===- Artifact.h - Ahead-of-time artifacts of attn specs -------*- C++ -*-===//
//
// An artifact is a directory that needs no LLVM or MLIR to run:
//   lib<name>.so   host code, with the GPU binary embedded for cuda; links
//                  libattn_cuda_runtime.so (cuda) or libomp.so.5 (cpu),
//                  which are copied next to it (rpath $ORIGIN);
//   manifest.json  the entries (`_mlir_ciface_<name>` symbols) with their
//                  arguments' and results' element types and shapes (null
//                  marks a dynamic dimension).
// writeArtifact makes one (attn-compile and attnCompileArtifact of the C API
// are front ends over it); LoadedArtifact opens one and calls its entries.
// See docs/GPU.md ("Artifacts") and docs/Embedding.md.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ARTIFACT_ARTIFACT_H
#define ATTN_ARTIFACT_ARTIFACT_H

#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir {
class DialectRegistry;
namespace func {
class FuncOp;
} // namespace func

namespace attn {

/// The options of an artifact, named as attn-compile's flags and as in the
/// option string of attnCompileArtifact ("entry=a,b name=sdpa cpu=native",
/// "chip=sm_90a format=isa gpu-abi=device").
struct ArtifactOptions : public PassPipelineOptions<ArtifactOptions> {
  /// "cpu" or "cuda"; not an option of the string (attn-compile --target,
  /// the target argument of attnCompileArtifact).
  std::string target = "cpu";

  PassOptions::ListOption<std::string> entries{
      *this, "entry",
      llvm::cl::desc("The functions to export (default: every public "
                     "function with a body)")};
  PassOptions::Option<std::string> name{
      *this, "name",
      llvm::cl::desc("Library name: lib<name>.so (default: the spec's file "
                     "stem, or 'artifact')")};
  PassOptions::Option<std::string> hostCpu{
      *this, "cpu",
      llvm::cl::desc("Host CPU the library is compiled for (native: this "
                     "machine's)"),
      llvm::cl::init("x86-64-v2")};
  PassOptions::Option<std::string> linker{
      *this, "linker",
      llvm::cl::desc("The compiler driver that links the library (default: "
                     "clang-22, else /usr/lib/llvm-22/bin/clang)")};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("cuda: GPU architecture"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features", llvm::cl::desc("cuda: PTX features"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("cuda: CUDA toolkit"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("cuda: the embedded GPU binary (fatbin, bin or isa)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<std::string> gpuAbi{
      *this, "gpu-abi",
      llvm::cl::desc("cuda: the entries' buffers, host (copied to and from "
                     "the device on each call) or device (device pointers "
                     "used in place; every result is an outs operand)"),
      llvm::cl::init("host")};
};

/// How writeArtifact reports what has no location in the spec (bad options,
/// a missing entry, a failed link) and names things in those messages.
struct ArtifactReporter {
  /// Receives each such error message.
  llvm::function_ref<void(const llvm::Twine &)> error;
  /// How options are spelled in messages: "--" for a command line ("--target
  /// must be ..."), "" for an option string.
  llvm::StringRef optionPrefix = "";
  /// The spec in messages: its file, or empty for "the module".
  llvm::StringRef sourceName = "";
};

/// Checks the target and the GPU ABI (and their combination).
LogicalResult verifyArtifactOptions(const ArtifactOptions &options,
                                    const ArtifactReporter &reporter);

/// Writes the artifact of `module` (attn IR on tensors) into `outputDir`,
/// creating it. The module itself is left as it is (a copy is lowered).
/// `state`, when the module was parsed with one, names the manifest's
/// arguments as in the source; otherwise they are arg0, arg1, ... Errors in
/// the spec and of the pipelines go to the context's diagnostic handlers,
/// the others to `reporter`.
LogicalResult writeArtifact(ModuleOp module, const ArtifactOptions &options,
                            llvm::StringRef outputDir,
                            const ArtifactReporter &reporter,
                            const AsmParserState *state = nullptr);

//===----------------------------------------------------------------------===//
// Reading specs (shared by attn-compile and attn-run)
//===----------------------------------------------------------------------===//

/// Adds what parsing attn specs and writing their artifacts (or JIT
/// compiling them) needs: MLIR's dialects, extensions and translations to
/// LLVM IR, the NVVM target, the attn dialect and its decompositions.
void registerArtifactDialects(DialectRegistry &registry);

/// A spec parsed from a file, with the parser's record of it (the source
/// names of arguments).
struct ParsedSpec {
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<AsmParserState> state;
};

/// Parses and verifies the file `path` into a module (the top-level ops are
/// wrapped in one unless they are a single module), adding it to
/// `sourceMgr`. An unreadable file or a parse failure is reported to
/// `error`; the parser's and verifier's diagnostics go to the context.
FailureOr<ParsedSpec>
parseSpecFile(llvm::StringRef path, llvm::SourceMgr &sourceMgr,
              MLIRContext *context,
              llvm::function_ref<void(const llvm::Twine &)> error);

/// The source names of `func`'s arguments ("%q" -> "q"); an argument without
/// one (no `state`, an external function) is `fallbackPrefix` + its index.
SmallVector<std::string> getArgumentNames(func::FuncOp func,
                                          const AsmParserState *state,
                                          llvm::StringRef fallbackPrefix);

} // namespace attn
} // namespace mlir

#endif // ATTN_ARTIFACT_ARTIFACT_H
