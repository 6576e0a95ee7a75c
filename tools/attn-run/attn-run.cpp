//===- attn-run.cpp - Compile and run one function on the CPU -------------===//
//
// attn-run FILE.mlir [--entry=NAME] [--input=NAME|#N=FILE.npy ...]
//         [--random-inputs [--seed=S] [--dim=N]] [--output=DIR|FILE.npy]
//         [--check] [--bench=N] [--profile] [--print]
//
// Exit codes: 0 success, 1 error, 2 --check exceeded a bound, 3 a run-time
// check of the compiled code failed. See docs/AttnRun.md.
//
//===----------------------------------------------------------------------===//
#include "ExitCodes.h"
#include "Inputs.h"
#include "Jit.h"
#include "Npy.h"
#include "RuntimeHooks.h"

#include "AttnCudaRuntime.h"

#include "attn/Artifact/Artifact.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/PrettyStackTrace.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <sys/resource.h>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>

using namespace mlir;
using namespace attn_run;
namespace cl = llvm::cl;

/// attn-run's own options: --help shows only these (and --help, --version);
/// the LLVM options linked in are listed by --help-hidden.
static cl::OptionCategory attnRunCategory("attn-run options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir file>"),
                                      cl::cat(attnRunCategory));
static cl::opt<std::string> entryName("entry", cl::init("main"),
                                      cl::desc("The function to run"),
                                      cl::cat(attnRunCategory));
static cl::opt<std::string> target("target", cl::init("cpu"),
                                   cl::desc("cpu, or cuda (attn-gpu-pipeline; "
                                            "needs the CUDA driver)"),
                                   cl::cat(attnRunCategory));
static cl::opt<std::string>
    mode("mode", cl::init("fused"),
         cl::desc("attn-cpu-pipeline mode: fused (default) or reference (the "
                  "unfused oracle)"),
         cl::cat(attnRunCategory));
static cl::list<std::string>
    inputSpecs("input",
               cl::desc("NAME=FILE.npy: the argument %NAME, or #N for the N-th "
                        "argument (from #0)"),
               cl::cat(attnRunCategory));
static cl::opt<bool>
    randomInputs("random-inputs",
                 cl::desc("Random data for arguments without --input"),
                 cl::cat(attnRunCategory));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of --random-inputs"),
                              cl::cat(attnRunCategory));
static cl::opt<int64_t>
    dynamicDimSize("dim", cl::init(64),
                   cl::desc("Size of dynamic dims of random inputs"),
                   cl::cat(attnRunCategory));
static cl::opt<std::string>
    dumpInputs("dump-inputs",
               cl::desc("Write every input as DIR/<argument name>.npy"),
               cl::cat(attnRunCategory));
static cl::opt<std::string>
    output("output", cl::desc("DIR (DIR/result<i>.npy) or FILE.npy"),
           cl::cat(attnRunCategory));
static cl::opt<bool>
    check("check", cl::desc("Compare with the f64-accumulation reference"),
          cl::cat(attnRunCategory));
static cl::opt<int64_t> vectorWidth(
    "vector-width", cl::init(0),
    cl::desc("--mode=fused: f32 lanes of the micro-kernels (a power of two; "
             "0, the default, picks 16 with AVX-512, 8 with AVX, else 4)"),
    cl::cat(attnRunCategory));
static cl::opt<std::string> bf16Isa(
    "bf16-isa", cl::init("auto"),
    cl::desc("--mode=fused, bf16 inputs: auto (the default: amx on a host "
             "with amx_bf16, avx512bf16 on one with avx512_bf16 and no "
             "AMX, else none), "
             "none (widened to f32), avx512bf16 (vdpbf16ps dot products) or "
             "amx (AMX tiles); f32 accumulation"),
    cl::cat(attnRunCategory));
static cl::opt<unsigned> benchRuns("bench", cl::init(0),
                                   cl::desc("Print the median time of N runs"),
                                   cl::cat(attnRunCategory));
/// --threads. A library that attn-run links registers a `threads` option of
/// its own, which attn-run does not use: it is unregistered first, and this
/// one is registered in its place when main starts.
static cl::opt<unsigned> &registerThreadsOption() {
  if (cl::Option *foreign = cl::getRegisteredOptions().lookup("threads"))
    foreign->removeArgument();
  static cl::opt<unsigned> numThreads(
      "threads", cl::init(0),
      cl::desc("OpenMP threads of --mode=fused (0: the runtime's default, "
               "OMP_NUM_THREADS or every core)"),
      cl::cat(attnRunCategory));
  return numThreads;
}
static cl::opt<bool>
    profile("profile",
          cl::desc("Print the JIT compile time and the peak heap memory of "
                   "the compiled call beyond its inputs and results"),
          cl::cat(attnRunCategory));
static cl::opt<bool> print("print", cl::desc("Print result shapes and values"),
                           cl::cat(attnRunCategory));
static cl::opt<bool> printSpecialized(
    "print-specialized",
    cl::desc("Print the entry specialised to the input shapes and exit"),
    cl::cat(attnRunCategory));

static llvm::raw_ostream &error() {
  return llvm::WithColor::error(llvm::errs(), "attn-run");
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// The parsed module and the source names of the entry's arguments.
struct ParsedInput {
  OwningOpRef<ModuleOp> module;
  SmallVector<std::string> argNames;
};

static FailureOr<ParsedInput> parseInput(llvm::SourceMgr &sourceMgr,
                                         MLIRContext *context) {
  FailureOr<attn::ParsedSpec> spec = attn::parseSpecFile(
      inputFile, sourceMgr, context,
      [](const Twine &message) { error() << message << "\n"; });
  if (failed(spec))
    return failure();
  ParsedInput parsed;
  parsed.module = std::move(spec->module);
  auto func = parsed.module->lookupSymbol<func::FuncOp>(entryName);
  if (!func || func.isExternal()) {
    std::string names;
    for (auto f : parsed.module->getOps<func::FuncOp>())
      if (!f.isExternal())
        names += (names.empty() ? "@" : ", @") + f.getSymName().str();
    error() << "'" << inputFile << "' has no function @" << entryName
            << " (functions: " << (names.empty() ? "none" : names)
            << "); choose one with --entry=NAME\n";
    return failure();
  }
  parsed.argNames = attn::getArgumentNames(func, spec->state.get(), "");
  return parsed;
}

//===----------------------------------------------------------------------===//
// Running, outputs, check and bench
//===----------------------------------------------------------------------===//

static SmallVector<HostArray> cloneAll(ArrayRef<HostArray> arrays) {
  SmallVector<HostArray> copies;
  for (const HostArray &array : arrays)
    copies.push_back(array.clone());
  return copies;
}

/// The results of one run of the entry and, with timed runs, their median
/// wall time and CPU time in milliseconds.
struct RunOutcome {
  SmallVector<HostArray> results;
  std::optional<double> medianMs;
  /// Seconds from the start of attn-cpu-pipeline to the compiled entry's
  /// address (the JIT compiles the module when the entry is looked up).
  double compileSeconds = 0;
  /// The heap buffers of the first call (see AllocationStats).
  AllocationStats memory;
  /// Median CPU time of the process (user + system, every thread) per timed
  /// call: unlike the wall clock, it leaves out the time that other work on
  /// the machine takes from the call's threads.
  std::optional<double> medianCpuMs;
};

/// User + system CPU time of the process so far, in ms (every thread).
static double processCpuMs() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const struct timeval &t) {
    return t.tv_sec * 1e3 + t.tv_usec / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

/// The median of `values` (not empty); sorts them.
static double median(SmallVectorImpl<double> &values) {
  llvm::sort(values);
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid]
                           : (values[mid - 1] + values[mid]) / 2;
}

/// Compiles `module` with `attn-cpu-pipeline{mode=pipelineMode
/// compute-type=computeType}` and runs the entry once on `inputs` (the code may
/// write into its arguments), then `timedRuns` more times on the same arguments
/// for --bench. With `consume`, the inputs themselves are handed to the code
/// and, without timed runs, freed as soon as no result needs them, so that
/// the peak memory is about twice the data (arguments, then results);
/// otherwise the code gets copies and `inputs` stay intact for a later run.
static FailureOr<RunOutcome>
compileAndRun(ModuleOp module, const EntrySignature &signature,
              SmallVectorImpl<HostArray> &inputs, StringRef pipelineMode,
              StringRef computeType, bool consume, unsigned timedRuns) {
  auto compileStart = std::chrono::steady_clock::now();
  // --check's reference (f64) always runs on the CPU.
  StringRef runTarget = computeType == "f64" ? StringRef("cpu") : target;
  FailureOr<std::unique_ptr<ExecutionEngine>> engine =
      compileModule(module, entryName, pipelineMode, computeType, runTarget,
                    vectorWidth, bf16Isa);
  if (failed(engine))
    return failure();
  SmallVector<HostArray> args;
  if (consume)
    args = std::move(inputs);
  else
    args = cloneAll(inputs);
  SmallVector<ElementKind> kinds;
  SmallVector<unsigned> ranks;
  for (const TensorSlot &slot : signature.results) {
    kinds.push_back(slot.kind);
    ranks.push_back(slot.type.getRank());
  }
  Invocation invocation(**engine, entryName, args, kinds, ranks);
  if (llvm::Error err = invocation.prepare()) {
    error() << "cannot find the compiled entry: " << toString(std::move(err))
            << "\n";
    return failure();
  }
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();
  if (profile)
    startAllocationLog();
  invocation.call();
  AllocationStats memory = profile ? stopAllocationLog() : AllocationStats();
  if (runTarget == "cuda" && attnCudaGetStatus() != ATTN_CUDA_OK) {
    error() << "--target=cuda: the run failed: " << attnCudaGetMessage()
            << "\n";
    return failure();
  }
  if (!timedRuns)
    for (HostArray &arg : args)
      if (!invocation.resultUses(arg.getData()))
        arg = HostArray();
  RunOutcome outcome{invocation.copyResults(), std::nullopt, compileSeconds,
                     memory};
  if (!timedRuns)
    return outcome;
  // The first call was the warm-up.
  SmallVector<double> times, cpuTimes;
  for (unsigned i = 0; i < timedRuns; ++i) {
    invocation.releaseResults();
    double cpuStart = processCpuMs();
    auto start = std::chrono::steady_clock::now();
    invocation.call();
    auto end = std::chrono::steady_clock::now();
    cpuTimes.push_back(processCpuMs() - cpuStart);
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  outcome.medianMs = median(times);
  outcome.medianCpuMs = median(cpuTimes);
  return outcome;
}

/// Writes `files` (see writeNpyFiles): all of them, or none.
static LogicalResult writeFiles(ArrayRef<NpyFile> files) {
  if (llvm::Error err = writeNpyFiles(files)) {
    error() << toString(std::move(err)) << "\n";
    return failure();
  }
  return success();
}

static LogicalResult createDirectory(StringRef path) {
  if (std::error_code ec = llvm::sys::fs::create_directories(path)) {
    error() << "cannot create '" << path << "': " << ec.message() << "\n";
    return failure();
  }
  return success();
}

static LogicalResult writeInputs(const EntrySignature &signature,
                                 ArrayRef<HostArray> inputs) {
  if (failed(createDirectory(dumpInputs)))
    return failure();
  SmallVector<NpyFile> files;
  for (auto [slot, array] : llvm::zip_equal(signature.args, inputs)) {
    SmallString<128> path(dumpInputs);
    llvm::sys::path::append(path, slot.name + ".npy");
    files.push_back({path.str().str(), &array});
  }
  return writeFiles(files);
}

static LogicalResult writeOutputs(ArrayRef<HostArray> results) {
  bool toFile = StringRef(output).ends_with(".npy");
  if (toFile && results.size() != 1) {
    error() << "--output=" << output << " names one file, but @" << entryName
            << " has " << results.size()
            << " results; give a directory instead\n";
    return failure();
  }
  if (toFile)
    return writeFiles({{output, &results.front()}});
  if (failed(createDirectory(output)))
    return failure();
  SmallVector<NpyFile> files;
  for (auto [index, array] : llvm::enumerate(results)) {
    SmallString<128> path(output);
    llvm::sys::path::append(path, "result" + Twine(index) + ".npy");
    files.push_back({path.str().str(), &array});
  }
  return writeFiles(files);
}

static void printResults(const EntrySignature &signature,
                         ArrayRef<HostArray> results) {
  for (auto [slot, array] : llvm::zip_equal(signature.results, results)) {
    llvm::outs() << slot.name << ": tensor<";
    for (int64_t dim : array.getShape())
      llvm::outs() << dim << "x";
    llvm::outs() << getElementName(array.getKind()) << "> [";
    int64_t shown = std::min<int64_t>(array.getNumElements(), 8);
    for (int64_t i = 0; i < shown; ++i)
      llvm::outs() << (i ? ", " : "")
                   << llvm::format("%g", array.getAsDouble(i));
    if (shown < array.getNumElements())
      llvm::outs() << ", ... (" << array.getNumElements() << " elements)";
    llvm::outs() << "]\n";
  }
}

/// The docs/Semantics.md §10 bound on ||out - ref|| / ||ref|| for `kind`.
static double getBound(ElementKind kind) {
  switch (kind) {
  case ElementKind::F16:
    return 2e-3;
  case ElementKind::BF16:
    return 1e-2;
  case ElementKind::F32:
  case ElementKind::F64:
    return mode == "fused" ? 1e-4 : 1e-5;
  default:
    return 0.0;
  }
}

/// Compares `out` with `ref`; prints one line; returns whether it is within
/// the bound.
static bool compareResult(StringRef name, const HostArray &out,
                          const HostArray &ref) {
  double maxAbs = 0, diffSq = 0, refSq = 0;
  int64_t nan = 0, inf = 0, mismatched = 0;
  for (int64_t i = 0, e = out.getNumElements(); i < e; ++i) {
    double o = out.getAsDouble(i), r = ref.getAsDouble(i);
    nan += std::isnan(o);
    inf += std::isinf(o);
    if (!std::isfinite(o) || !std::isfinite(r)) {
      bool same = (std::isnan(o) && std::isnan(r)) || o == r;
      mismatched += !same;
      continue;
    }
    maxAbs = std::max(maxAbs, std::abs(o - r));
    diffSq += (o - r) * (o - r);
    refSq += r * r;
  }
  double rel = refSq > 0 ? std::sqrt(diffSq / refSq) : std::sqrt(diffSq);
  double bound = getBound(out.getKind());
  bool ok = mismatched == 0 && rel <= bound;
  llvm::outs() << llvm::format(
      "check %s (%s): max abs error %.3e, rel error %.3e, bound %.0e, "
      "NaN %lld, Inf %lld, non-finite mismatches %lld: %s\n",
      name.str().c_str(), getElementName(out.getKind()).str().c_str(), maxAbs,
      rel, bound, (long long)nan, (long long)inf, (long long)mismatched,
      ok ? "ok" : "FAILED");
  return ok;
}

/// Estimates the flops of one call from the specialised entry: every attn op
/// through `AttentionOpInterface::getFlopCount`, linalg.matmul 2*M*N*K and
/// batch_matmul 2*B*M*N*K. Returns nullopt when an op has no count or a dim
/// is still dynamic.
static std::optional<double> estimateFlops(func::FuncOp func) {
  double flops = 0;
  bool known = true;
  auto dims = [&](Value v) -> ArrayRef<int64_t> {
    auto type = cast<ShapedType>(v.getType());
    if (!type.hasStaticShape())
      known = false;
    return type.getShape();
  };
  func.walk([&](Operation *op) {
    if (auto attnOp = dyn_cast<attn::AttentionOpInterface>(op)) {
      std::optional<double> count = attnOp.getFlopCount();
      known &= count.has_value();
      flops += count.value_or(0);
    } else if (isa<linalg::MatmulOp>(op)) {
      ArrayRef<int64_t> a = dims(op->getOperand(0)),
                        b = dims(op->getOperand(1));
      if (known)
        flops += 2.0 * a[0] * a[1] * b[1];
    } else if (isa<linalg::BatchMatmulOp>(op)) {
      ArrayRef<int64_t> a = dims(op->getOperand(0)),
                        b = dims(op->getOperand(1));
      if (known)
        flops += 2.0 * a[0] * a[1] * a[2] * b[2];
    }
  });
  if (!known || flops == 0)
    return std::nullopt;
  return flops;
}

static void printBench(double medianMs, std::optional<double> flops,
                       std::optional<double> medianCpuMs) {
  llvm::outs() << llvm::format("bench @%s: %u runs, median %.3f ms",
                               entryName.c_str(), (unsigned)benchRuns,
                               medianMs);
  if (flops)
    llvm::outs() << llvm::format(", %.3g GFLOP/s (%.4g GFLOP)",
                                 *flops / (medianMs * 1e6), *flops / 1e9);
  else
    llvm::outs() << ", GFLOP/s n/a";
  if (medianCpuMs)
    llvm::outs() << llvm::format("; CPU time median %.3f ms", *medianCpuMs);
  llvm::outs() << "\n";
}

/// --profile: the compile time and the heap memory of the first call. The
/// blocks still held when the call returns are its results; the peak of the
/// others is the memory of the call beyond its inputs (which attn-run owns)
/// and its results.
static void printProfile(const RunOutcome &run) {
  const AllocationStats &m = run.memory;
  llvm::outs() << llvm::format("compile @%s (mode=%s): %.3f s\n",
                               entryName.c_str(), mode.c_str(),
                               run.compileSeconds);
  llvm::outs() << llvm::format(
      "memory @%s: %lld bytes (%.2f MiB) beyond inputs and results; peak "
      "%lld bytes with the results (%lld bytes), %lld allocations\n",
      entryName.c_str(), (long long)m.peakTemporaryBytes,
      m.peakTemporaryBytes / (1024.0 * 1024.0), (long long)m.peakBytes,
      (long long)m.resultBytes, (long long)m.allocations);
}

//===----------------------------------------------------------------------===//
// main
//===----------------------------------------------------------------------===//

static int runMain(MLIRContext &context, llvm::SourceMgr &sourceMgr) {
  if (target != "cpu" && target != "cuda") {
    error() << "--target must be cpu or cuda, but got '" << target << "'\n";
    return kExitError;
  }
  attnCudaSetPrintErrors(0);
  if (target == "cuda" && attnCudaInit() != ATTN_CUDA_OK) {
    error() << "--target=cuda: " << attnCudaGetMessage() << "\n";
    return kExitError;
  }
  if (benchRuns == 0 && benchRuns.getNumOccurrences()) {
    error() << "--bench expects a positive number of runs\n";
    return kExitError;
  }
  FailureOr<ParsedInput> parsed = parseInput(sourceMgr, &context);
  if (failed(parsed))
    return kExitError;
  ModuleOp module = *parsed->module;
  auto func = module.lookupSymbol<func::FuncOp>(entryName);
  FailureOr<EntrySignature> signature =
      getEntrySignature(func, parsed->argNames);
  if (failed(signature))
    return kExitError;

  std::optional<RandomOptions> random;
  if (randomInputs)
    random = RandomOptions{seed, dynamicDimSize};
  if (randomInputs && dynamicDimSize < 0) {
    error() << "--dim must be non-negative\n";
    return kExitError;
  }
  FailureOr<SmallVector<HostArray>> inputs =
      loadInputs(*signature, inputSpecs, random);
  if (failed(inputs))
    return kExitError;
  if (!dumpInputs.empty() && failed(writeInputs(*signature, *inputs)))
    return kExitError;

  OwningOpRef<ModuleOp> specialized =
      specializeToInputs(module, entryName, *inputs);
  if (!specialized)
    return kExitError;
  if (printSpecialized) {
    specialized->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  std::optional<double> flops =
      estimateFlops(specialized->lookupSymbol<func::FuncOp>(entryName));

  // The inputs are needed again by --check only; --bench times the first
  // compiled entry again.
  FailureOr<RunOutcome> run = compileAndRun(module, *signature, *inputs, mode,
                                            "f32", !check, benchRuns);
  if (failed(run))
    return kExitError;
  SmallVector<HostArray> &results = run->results;
  if (!output.empty() && failed(writeOutputs(results)))
    return kExitError;
  if (print)
    printResults(*signature, results);

  bool checkFailed = false;
  if (check) {
    // The oracle: the reference pipeline in f64, whatever --mode is.
    FailureOr<RunOutcome> reference =
        compileAndRun(module, *signature, *inputs, "reference", "f64",
                      /*consume=*/true, /*timedRuns=*/0);
    if (failed(reference))
      return kExitError;
    for (auto [slot, out, ref] :
         llvm::zip_equal(signature->results, results, reference->results))
      checkFailed |= !compareResult(slot.name, out, ref);
  }
  if (profile)
    printProfile(*run);
  if (run->medianMs)
    printBench(*run->medianMs, flops, run->medianCpuMs);
  return checkFailed ? kExitCheckFailed : 0;
}

/// Moves every option that attn-run does not define (the LLVM options of
/// the linked libraries) behind --help-hidden.
static void hideForeignOptions() {
  for (cl::Option *option : cl::getRegisteredOptions().values()) {
    if (llvm::is_contained(option->Categories, &attnRunCategory) ||
        llvm::is_contained({"help", "help-hidden", "version"},
                           option->ArgStr) ||
        option->getOptionHiddenFlag() != cl::NotHidden)
      continue;
    option->setHiddenFlag(cl::Hidden);
  }
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // A crash is a bug of attn-run or attn-mlir, not of LLVM.
  llvm::setBugReportMsg(
      "attn-run crashed: this is a bug in attn-mlir (errors in the input are "
      "reported as 'attn-run: error:'); please report it with the command "
      "line and the input files.\n");
  // Writing past `ulimit -f` is then the error EFBIG, reported like any
  // other failed write, instead of a kill by SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  cl::opt<unsigned> &numThreads = registerThreadsOption();
  hideForeignOptions();
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-run: compile and run one function of an "
                              "attn / MLIR file on the CPU\n");
  // The OpenMP runtime reads its thread count when the first parallel loop
  // starts, after the JIT has loaded it.
  if (numThreads > 0)
    setenv("OMP_NUM_THREADS", std::to_string(numThreads).c_str(), 1);
  DialectRegistry registry;
  attn::registerArtifactDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  return runMain(context, sourceMgr);
}
