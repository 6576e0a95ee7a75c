//===- Jit.cpp - Compile an entry function and call it --------------------===//
#include "Jit.h"
#include "AllocChecks.h"
#include "RuntimeHooks.h"

#include "AttnCudaRuntime.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace mlir;
using namespace attn_run;

/// Returns a target machine for the host CPU, with its name and features.
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine() {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCPU(llvm::sys::getHostCPUName().str());
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    builder->getFeatures().AddFeature(feature.first(), feature.second);
  return builder->createTargetMachine();
}

/// The mgpu* functions of runtime/ (linked into attn-run), for the host code
/// of attn-gpu-pipeline.
static llvm::orc::SymbolMap
getCudaRuntimeSymbols(llvm::orc::MangleAndInterner interner) {
  llvm::orc::SymbolMap symbols;
  auto add = [&](StringRef name, auto *function) {
    symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                               llvm::JITSymbolFlags::Exported};
  };
  add("mgpuSetDefaultDevice", &mgpuSetDefaultDevice);
  add("mgpuModuleLoad", &mgpuModuleLoad);
  add("mgpuModuleLoadJIT", &mgpuModuleLoadJIT);
  add("mgpuModuleUnload", &mgpuModuleUnload);
  add("mgpuModuleGetFunction", &mgpuModuleGetFunction);
  add("mgpuLaunchKernel", &mgpuLaunchKernel);
  add("mgpuStreamCreate", &mgpuStreamCreate);
  add("mgpuStreamDestroy", &mgpuStreamDestroy);
  add("mgpuStreamSynchronize", &mgpuStreamSynchronize);
  add("mgpuStreamWaitEvent", &mgpuStreamWaitEvent);
  add("mgpuEventCreate", &mgpuEventCreate);
  add("mgpuEventDestroy", &mgpuEventDestroy);
  add("mgpuEventSynchronize", &mgpuEventSynchronize);
  add("mgpuEventRecord", &mgpuEventRecord);
  add("mgpuMemAlloc", &mgpuMemAlloc);
  add("mgpuMemFree", &mgpuMemFree);
  add("mgpuMemcpy", &mgpuMemcpy);
  add("mgpuMemset32", &mgpuMemset32);
  add("mgpuMemset16", &mgpuMemset16);
  add("mgpuTensorMapEncodeTiledMemref", &mgpuTensorMapEncodeTiledMemref);
  return symbols;
}

/// Returns the f32 lanes of the host's widest vector registers that the
/// micro-kernels of the fused pipeline use: 16 with AVX-512, 8 with AVX,
/// else 4.
static int64_t hostVectorWidth() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 16;
  if (features.lookup("avx"))
    return 8;
  return 4;
}

/// Asks Linux for the AMX tile data state of this process
/// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)), without which the
/// first AMX instruction is a fatal signal. Returns whether it was granted.
static bool requestAmxPermission() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

/// Returns the bf16 matrix instructions of the host that the fused pipeline
/// uses at `vectorWidth` f32 lanes: "amx" on a host with amx_bf16 (and
/// avx512_bf16) whose OS grants the tile state, at 16 lanes; "avx512bf16" on
/// a host with avx512_bf16 and no AMX at all (AMD Zen 4: 1.3x to 1.4x faster
/// than "none"); else "none" (bf16 widened to f32). Not "avx512bf16" where
/// the host has AMX but the OS refuses it: on Sapphire Rapids that kernel
/// was slower than "none" (docs/Pipelines.md, "bf16 and f16 inputs").
static std::string hostBf16Isa(int64_t vectorWidth) {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (vectorWidth != 16 || !features.lookup("avx512bf16"))
    return "none";
  bool hasAmx = features.lookup("amx-bf16") && features.lookup("amx-tile");
  if (hasAmx)
    return requestAmxPermission() ? "amx" : "none";
  return "avx512bf16";
}

FailureOr<std::unique_ptr<ExecutionEngine>>
attn_run::compileModule(ModuleOp module, StringRef entry, StringRef mode,
                        StringRef computeType, StringRef target,
                        int64_t vectorWidth, StringRef bf16Isa) {
  MLIRContext *context = module.getContext();
  OwningOpRef<ModuleOp> lowered(cast<ModuleOp>(module->clone()));
  auto func = lowered->lookupSymbol<func::FuncOp>(entry);
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(context));

  PassManager pm(context);
  auto errorHandler = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "attn-run") << message << "\n";
    return failure();
  };
  bool cuda = target == "cuda";
  if (cuda) {
    if (failed(attn::buildGpuPipeline(pm, attn::GpuPipelineOptions(),
                                      errorHandler)))
      return failure();
  } else {
    attn::CpuPipelineOptions options;
    options.mode = mode.str();
    options.computeType = computeType.str();
    options.vectorWidth = vectorWidth > 0 ? vectorWidth : hostVectorWidth();
    options.bf16Isa = bf16Isa == "auto" ? hostBf16Isa(options.vectorWidth)
                                        : bf16Isa.str();
    if (options.bf16Isa == "amx" && !requestAmxPermission()) {
      llvm::WithColor::error(llvm::errs(), "attn-run")
          << "--bf16-isa=amx: the OS did not grant the AMX tile state "
             "(arch_prctl ARCH_REQ_XCOMP_PERM)\n";
      return failure();
    }
    if (failed(attn::buildCpuPipeline(pm, options, errorHandler)))
      return failure();
  }
  if (failed(pm.run(*lowered))) {
    llvm::WithColor::error(llvm::errs(), "attn-run")
        << (cuda ? "attn-gpu-pipeline"
                 : "attn-cpu-pipeline{mode=" + mode.str() +
                       " compute-type=" + computeType.str() + "}")
        << " failed on @" << entry << "\n";
    return failure();
  }
  insertAllocationSizeChecks(*lowered, kCheckAllocationSize);

  // The host's target machine (its CPU name and features, AVX-512 where
  // there is): the JIT compiles for it, and the -O2 pipeline needs it too, or
  // its cost model knows no vector registers and the loop and SLP vectorizers
  // do nothing.
  auto targetMachine = createHostTargetMachine();
  if (!targetMachine) {
    llvm::WithColor::error(llvm::errs(), "attn-run")
        << "no target machine for the host: "
        << llvm::toString(targetMachine.takeError()) << "\n";
    return failure();
  }
  auto transformer = makeOptimizingTransformer(
      /*optLevel=*/2, /*sizeLevel=*/0, targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Default;
  // MLIR's C runner utilities (memrefCopy, ...), which the lowering of a
  // memref.copy between dynamic shapes calls; the fused form's parallel loop
  // calls the LLVM OpenMP runtime (__kmpc_fork_call, ...).
  static const StringRef runtimeLibs[] = {ATTN_C_RUNNER_UTILS, ATTN_LIBOMP};
  engineOptions.sharedLibPaths =
      ArrayRef<StringRef>(runtimeLibs).take_front(mode == "fused" ? 2 : 1);
  // ExecutionEngine only warns about a library it cannot load and goes on
  // without its symbols; say which one and stop instead.
  for (StringRef path : engineOptions.sharedLibPaths) {
    std::string message;
    if (!llvm::sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(),
                                                        &message)
             .isValid()) {
      llvm::WithColor::error(llvm::errs(), "attn-run")
          << "cannot load the run-time library " << path << ": " << message
          << "\n";
      return failure();
    }
  }
  auto engine = ExecutionEngine::create(*lowered, engineOptions,
                                        std::move(*targetMachine));
  if (!engine) {
    llvm::WithColor::error(llvm::errs(), "attn-run")
        << "JIT compilation failed: " << llvm::toString(engine.takeError())
        << "\n";
    return failure();
  }
  (*engine)->registerSymbols(getRuntimeHooks);
  if (cuda)
    (*engine)->registerSymbols(getCudaRuntimeSymbols);
  // The module constructors: attn-gpu-pipeline's host code loads its GPU
  // binary in one (llvm.mlir.global_ctors), which lookupPacked never runs.
  (*engine)->initialize();
  return std::move(*engine);
}

/// Writes a pointer into an int64 descriptor slot.
static void storePointer(int64_t &slot, const void *pointer) {
  std::memcpy(&slot, &pointer, sizeof(void *));
}

/// Reads a pointer from an int64 descriptor slot.
static char *loadPointer(const int64_t &slot) {
  char *pointer;
  std::memcpy(&pointer, &slot, sizeof(void *));
  return pointer;
}

/// Returns a descriptor {allocated, aligned, offset, sizes, strides} of a
/// C-ordered array.
static SmallVector<int64_t> makeDescriptor(HostArray &array) {
  ArrayRef<int64_t> shape = array.getShape();
  size_t rank = shape.size();
  SmallVector<int64_t> descriptor(3 + 2 * rank, 0);
  storePointer(descriptor[0], array.getData());
  storePointer(descriptor[1], array.getData());
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    descriptor[3 + i] = shape[i];
    descriptor[3 + rank + i] = stride;
    stride *= shape[i];
  }
  return descriptor;
}

Invocation::Invocation(ExecutionEngine &engine, StringRef entry,
                       MutableArrayRef<HostArray> args,
                       ArrayRef<ElementKind> resultKinds,
                       ArrayRef<unsigned> resultRanks)
    : engine(engine), entryName(("_mlir_ciface_" + entry).str()),
      resultKinds(resultKinds), resultRanks(resultRanks) {
  size_t resultSlots = getResultOffset(resultRanks.size());
  resultStorage.assign(std::max<size_t>(resultSlots, 1), 0);
  resultPointer = resultStorage.data();
  for (HostArray &array : args) {
    argDescriptors.push_back(makeDescriptor(array));
    inputAllocations.push_back(array.getData());
  }
  for (auto &descriptor : argDescriptors)
    argPointers.push_back(descriptor.data());
  // The packed interface takes a pointer to every C-interface argument; the
  // results, when there are any, come first as one pointer.
  if (!resultRanks.empty())
    packedArgs.push_back(&resultPointer);
  for (void *&pointer : argPointers)
    packedArgs.push_back(&pointer);
}

size_t Invocation::getResultOffset(unsigned index) const {
  size_t offset = 0;
  for (unsigned i = 0; i < index; ++i)
    offset += 3 + 2 * resultRanks[i];
  return offset;
}

llvm::Error Invocation::prepare() {
  auto packed = engine.lookupPacked(entryName);
  if (!packed)
    return packed.takeError();
  function = *packed;
  return llvm::Error::success();
}

void Invocation::call() {
  releaseResults();
  function(packedArgs.data());
  flushRuntimeOutput();
  hasResults = true;
}

SmallVector<HostArray> Invocation::copyResults() const {
  SmallVector<HostArray> results;
  for (unsigned r = 0, e = resultRanks.size(); r < e; ++r) {
    const int64_t *descriptor = resultStorage.data() + getResultOffset(r);
    unsigned rank = resultRanks[r];
    ArrayRef<int64_t> sizes(descriptor + 3, rank);
    ArrayRef<int64_t> strides(descriptor + 3 + rank, rank);
    HostArray array(resultKinds[r], sizes);
    size_t elementSize = getElementSize(resultKinds[r]);
    const char *base = loadPointer(descriptor[1]) + descriptor[2] * elementSize;
    SmallVector<int64_t> index(rank, 0);
    for (int64_t i = 0, n = array.getNumElements(); i < n; ++i) {
      int64_t offset = 0;
      for (unsigned d = 0; d < rank; ++d)
        offset += index[d] * strides[d];
      std::memcpy(array.getData() + i * elementSize,
                  base + offset * elementSize, elementSize);
      for (unsigned d = rank; d-- > 0;) {
        if (++index[d] < sizes[d])
          break;
        index[d] = 0;
      }
    }
    results.push_back(std::move(array));
  }
  return results;
}

bool Invocation::resultUses(const void *data) const {
  if (!hasResults)
    return false;
  for (unsigned r = 0, e = resultRanks.size(); r < e; ++r) {
    size_t offset = getResultOffset(r);
    if (loadPointer(resultStorage[offset]) == data ||
        loadPointer(resultStorage[offset + 1]) == data)
      return true;
  }
  return false;
}

void Invocation::releaseResults() {
  if (!hasResults)
    return;
  hasResults = false;
  // memref.get_global descriptors carry this marker as their allocation.
  char *globalMarker = reinterpret_cast<char *>(0xdeadbeef);
  llvm::DenseSet<void *> freed(inputAllocations.begin(),
                               inputAllocations.end());
  for (unsigned r = 0, e = resultRanks.size(); r < e; ++r) {
    char *allocated = loadPointer(resultStorage[getResultOffset(r)]);
    if (!allocated || allocated == globalMarker)
      continue;
    if (freed.insert(allocated).second)
      freeCompiledBlock(allocated);
  }
}
