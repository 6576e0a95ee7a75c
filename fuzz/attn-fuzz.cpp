//===- attn-fuzz.cpp - libFuzzer target: parse, verify, run the pipelines -===//
//
// Treats the input as MLIR source. Inputs that parse and verify are checked
// for what the verifier must reject (attributes that an attn op does not
// define, operand segment sizes that the custom form cannot state; see
// Oracles.h), canonicalized (verifying after the pass) and must
// still verify, and the result must print and parse back (which re-runs the
// attribute verifiers): IR that verified before and fails these after
// canonicalization is a bug, and the target aborts on it so that libFuzzer
// records the input as a crash. Parse and verifier errors are the expected
// outcome for most inputs; their diagnostics are swallowed.
//
// Inputs that verify and are small enough (see isSmallEnough) then go, each
// on a fresh clone of the parsed module, through
//   1. attn-decompose,
//   2. attn-decompose, attn-lower-to-linalg, which must leave no attn op,
//   3. the whole attn-cpu-pipeline (mlir::attn::buildCpuPipeline; f32 or
//      f64 compute type, picked from the input's length),
// with the IR verified after every pass. A pass may fail with an error
// diagnostic (that is the contract); a pass that fails without one, that
// leaves IR which does not verify, or that crashes is a bug. On modules of
// attn ops only (isAttnModule), attn-cpu-pipeline must leave nothing but the
// LLVM dialect, and on modules of attn.sdpa only it must not fail: what
// verifies there lowers (a score_mod body included).
//
// The structure-aware mutator that feeds this target is in Mutator.cpp.
//
// Only the dialects that attn IR uses are registered for parsing (attn and
// its dependent arith/scf/tensor, plus func, math, linalg), not
// registerAllDialects, so the fuzzer does not wander into upstream dialects.
// Before the pipelines run, the registry of attn-opt (every dialect, its
// interface models and extensions: bufferization, LLVM conversion) is
// appended to the context, as the passes need them.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"
#include "Oracles.h"

#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

using namespace mlir;
using namespace attn_fuzz;

/// Bounds the work per input so that the fuzzer keeps its speed (hundreds of
/// executions per second rather than a few): the pipelines run only on
/// modules of at most kMaxOps operations whose shaped types have rank at
/// most kMaxRank, static dimensions of at most kMaxDim and at most
/// kMaxElements static elements. Compile time does not depend on dynamic
/// sizes, but constant folding does on static ones (dense constants, folded
/// fills), and a few decompositions build IR per static slice. Larger inputs
/// are still parsed, verified and canonicalized. Attribute values (window
/// sizes, top_k, chunk sizes) are not bounded: the passes must not unroll
/// over them.
static constexpr int64_t kMaxDim = 64;
static constexpr int64_t kMaxRank = 6;
static constexpr int64_t kMaxElements = 1 << 16;
static constexpr int64_t kMaxOps = 64;
/// The largest pattern (sub-patterns plus listed global tokens) that goes to
/// the pipelines. Their time is linear in it, a fraction of a millisecond per
/// part or token (docs/Reliability.md), so a pattern of 100,000 would spend
/// the run's timeout on one input; parsing, verification and
/// canonicalization, which are O(n log n), still see every size.
static constexpr int64_t kMaxPatternSize = 2048;

/// Returns the size of the pattern algebra in `attr` as kMaxPatternSize
/// counts it.
static int64_t patternSize(Attribute attr) {
  int64_t size = 0;
  attr.walk([&](Attribute sub) {
    if (!isa<attn::PatternAttrInterface>(sub))
      return;
    ++size;
    if (auto global = dyn_cast<attn::GlobalAttr>(sub))
      size += global.getTokens().size();
  });
  return size;
}

static bool isSmallType(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped) {
    if (auto fn = dyn_cast<FunctionType>(type))
      return llvm::all_of(fn.getInputs(), isSmallType) &&
             llvm::all_of(fn.getResults(), isSmallType);
    return true;
  }
  if (!shaped.hasRank())
    return true;
  if (shaped.getRank() > kMaxRank)
    return false;
  int64_t elements = 1;
  for (int64_t dim : shaped.getShape()) {
    if (ShapedType::isDynamic(dim))
      continue;
    if (dim > kMaxDim)
      return false;
    elements *= dim;
  }
  return elements <= kMaxElements;
}

static bool isSmallEnough(ModuleOp module) {
  int64_t ops = 0;
  WalkResult result = module->walk([&](Operation *op) {
    if (++ops > kMaxOps)
      return WalkResult::interrupt();
    for (Type type : op->getResultTypes())
      if (!isSmallType(type))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (!isSmallType(arg.getType()))
            return WalkResult::interrupt();
    for (NamedAttribute attr : op->getAttrs()) {
      if (patternSize(attr.getValue()) > kMaxPatternSize)
        return WalkResult::interrupt();
      if (auto typeAttr = dyn_cast<TypeAttr>(attr.getValue()))
        if (!isSmallType(typeAttr.getValue()))
          return WalkResult::interrupt();
      if (auto typed = dyn_cast<TypedAttr>(attr.getValue()))
        if (!isSmallType(typed.getType()))
          return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// Verifies the IR after every pass that succeeded, and aborts (a bug) when
/// it does not verify. PassManager::enableVerifier would turn such IR into
/// an ordinary pass failure with a diagnostic, which the fuzzer accepts.
struct VerifyAfterEachPass : public PassInstrumentation {
  explicit VerifyAfterEachPass(std::function<void(Pass *)> onInvalid)
      : onInvalid(std::move(onInvalid)) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (failed(verify(op)))
      onInvalid(pass);
  }
  std::function<void(Pass *)> onInvalid;
};

/// True for a check named in ATTN_FUZZ_SKIP_CHECKS (a comma-separated list
/// of `attributes`, `segments`, `lowering`): a known bug that one of these
/// checks finds again and again can be set aside while looking for others.
static bool isSkipped(llvm::StringRef check) {
  static const std::string skipped = [] {
    const char *list = std::getenv("ATTN_FUZZ_SKIP_CHECKS");
    return "," + std::string(list ? list : "") + ",";
  }();
  return llvm::StringRef(skipped).contains(("," + check + ",").str());
}

/// Prints what went wrong and aborts (libFuzzer then saves the input).
[[noreturn]] static void reportBug(const llvm::Twine &what,
                                   const std::string &diagnostics) {
  llvm::errs() << "attn-fuzz: BUG: " << what << "\n";
  if (!diagnostics.empty())
    llvm::errs() << "attn-fuzz: diagnostics:\n" << diagnostics;
  llvm::errs().flush();
  std::abort();
}

/// ASan defaults for this binary (ASAN_OPTIONS still overrides them).
/// allow_user_poisoning=0: llvm::BumpPtrAllocator, inlined from the LLVM
/// headers into our instrumented code, poisons each new slab with
/// __asan_poison_memory_region and unpoisons allocations as it hands them out;
/// the copies inlined into the uninstrumented libMLIR/libLLVM never unpoison,
/// so when both share one allocator (an MLIRContext's attribute uniquer) ASan
/// reports a false use-after-poison the moment libMLIR writes to its
/// allocation. Heap redzones, use-after-free and leaks are still checked.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0:detect_leaks=1";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef input(reinterpret_cast<const char *>(data), size);
  if (hitsKnownUpstreamCrash(input))
    return -1; // Not added to the corpus.

  // A fresh context per input keeps runs independent (no uniqued attributes
  // or loaded dialects carried over) and reproducible. No threading: the
  // fuzzer is single-threaded and a thread pool per context is costly.
  MLIRContext context(getRegistry(), MLIRContext::Threading::DISABLED);

  // Swallow diagnostics; keep the ones emitted after canonicalization so a
  // bug report can show them, and count the errors.
  bool capture = false;
  std::string captured;
  int64_t errors = 0;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      ++errors;
    if (capture && captured.size() < 16384) {
      llvm::raw_string_ostream os(captured);
      os << diag << "\n";
    }
    return success();
  });

  OwningOpRef<ModuleOp> module =
      parseInput(input, context, /*verify=*/true, "fuzz-input");
  if (!module)
    return 0;
  // The parser verifies the ops it parsed; the implicit module wrapping
  // top-level ops is new and is verified here (symbol tables and the like).
  if (failed(verify(*module)))
    return 0;
  // What the verifier must have rejected.
  if (!isSkipped("attributes"))
    if (std::string accepted = findUnknownAttnAttribute(*module);
        !accepted.empty())
      reportBug("the verifier " + accepted, "");
  if (!isSkipped("segments"))
    if (std::string accepted = findMalformedSegments(*module);
        !accepted.empty())
      reportBug("the verifier " + accepted, "");

  // The pipelines below start from the module as parsed, as in attn-opt.
  OwningOpRef<ModuleOp> parsed = cast<ModuleOp>((*module)->clone());

  PassManager pm(&context, ModuleOp::getOperationName());
  pm.enableVerifier(true);
  pm.addPass(createCanonicalizerPass());
  capture = true;
  if (failed(pm.run(*module)))
    reportBug("canonicalize failed (or broke verification) on IR that "
              "verified",
              captured);
  if (failed(verify(*module)))
    reportBug("IR no longer verifies after canonicalize", captured);

  // The op verifiers do not re-run attribute verifiers, so an attribute that
  // a pattern built with `get` (not `getChecked`) outside its domain goes
  // unnoticed above. Printing and re-parsing the result runs the attribute
  // parsers and verifiers (and checks that the printers' output parses).
  std::string printed;
  {
    llvm::raw_string_ostream os(printed);
    module->print(os);
  }
  OwningOpRef<ModuleOp> reparsed =
      parseInput(printed, context, /*verify=*/true, "canonicalized");
  if (!reparsed || failed(verify(*reparsed)))
    reportBug("the canonicalized IR does not parse back and verify:\n" +
                  printed,
              captured);

  // The pipelines, on fresh copies of the module as parsed (not
  // canonicalized: that is what attn-opt and attn-run see).
  if (!isSmallEnough(*parsed))
    return 0;
  context.appendDialectRegistry(getPipelineRegistry());
  bool checkLowering = !isSkipped("lowering");
  bool attnModule = checkLowering && isAttnModule(*parsed, /*sdpaOnly=*/false);
  bool sdpaModule = checkLowering && isAttnModule(*parsed, /*sdpaOnly=*/true);
  // Runs a pipeline on a fresh copy of the parsed module; `check` looks at
  // the result when it succeeds and returns what is wrong with it.
  auto runPipeline =
      [&](llvm::StringRef name, llvm::function_ref<void(OpPassManager &)> build,
          llvm::function_ref<std::string(ModuleOp)> check, bool mustSucceed) {
        OwningOpRef<ModuleOp> clone = cast<ModuleOp>((*parsed)->clone());
        PassManager pm(&context, ModuleOp::getOperationName());
        pm.enableVerifier(false); // VerifyAfterEachPass does it, stricter.
        pm.addInstrumentation(
            std::make_unique<VerifyAfterEachPass>([&](Pass *pass) {
              reportBug(name + ": pass '" + pass->getArgument() +
                            "' left IR that does not verify",
                        captured);
            }));
        build(pm);
        captured.clear();
        errors = 0;
        if (failed(pm.run(*clone))) {
          if (errors == 0)
            reportBug(name + ": a pass failed without an error diagnostic",
                      captured);
          if (mustSucceed)
            reportBug(name + " failed on attn.sdpa IR that verified", captured);
          return;
        }
        std::string wrong = check(*clone);
        if (!wrong.empty())
          reportBug(name + " " + wrong, captured);
      };
  auto noCheck = [](ModuleOp) { return std::string(); };
  runPipeline(
      "attn-decompose",
      [](OpPassManager &pm) { pm.addPass(attn::createAttnDecompose()); },
      noCheck, /*mustSucceed=*/false);
  runPipeline(
      "attn-decompose,attn-lower-to-linalg",
      [](OpPassManager &pm) {
        pm.addPass(attn::createAttnDecompose());
        pm.addPass(attn::createAttnLowerToLinalg());
      },
      [](ModuleOp result) {
        std::string left = findAttnOp(result);
        return left.empty() ? left : "succeeded but left " + left;
      },
      /*mustSucceed=*/sdpaModule);
  // f64 on odd input lengths, so both compute types are fuzzed without
  // doubling the time per input.
  bool f64 = size % 2 == 1;
  runPipeline(
      f64 ? "attn-cpu-pipeline{compute-type=f64}" : "attn-cpu-pipeline",
      [&](OpPassManager &pm) {
        attn::CpuPipelineOptions options;
        options.computeType = f64 ? "f64" : "f32";
        if (failed(
                attn::buildCpuPipeline(pm, options, [](const llvm::Twine &msg) {
                  llvm::errs() << msg << "\n";
                  return failure();
                })))
          reportBug("buildCpuPipeline failed", "");
      },
      [&](ModuleOp result) {
        std::string left = attnModule ? findNonLLVMOp(result) : "";
        return left.empty() ? left
                            : "succeeded on attn IR but left " + left +
                                  ", which is in neither the LLVM nor the OpenMP dialect";
      },
      /*mustSucceed=*/sdpaModule);
  return 0;
}
