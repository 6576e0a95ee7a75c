//===- GpuPipeline.cpp - attn-gpu-pipeline --------------------------------===//
//
// attn IR on tensors -> host code (LLVM dialect, mgpu* calls) + gpu.binary.
//
//   1. Claiming steps: passes that lower the ops they support to their own
//      kernels (the Hopper sdpa core) and leave the others alone.
//   2. The general path, for every op left: attn-decompose and
//      attn-lower-to-linalg (the reference path, f32 compute), one-shot
//      bufferization, device buffers (attn-gpu-host-buffers), linalg ->
//      scf.parallel -> one gpu.launch per loop nest, kernel outlining.
//   3. The upstream NVVM lowering and serialisation, with the toolkit path
//      given explicitly, and the host code to LLVM.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

/// Whether `chip` has the instructions of the Hopper sdpa core (wgmma and
/// TMA: sm_90a; plain sm_90 has no wgmma).
static bool hasHopperCore(StringRef chip) { return chip == "sm_90a"; }

/// Step 1: the passes that claim the ops they support. Each rewrites the
/// ops it takes into its own kernels and leaves every other op (and every
/// configuration it does not support) unchanged for the general path.
/// The Hopper sdpa core (attn-gpu-sdpa-core) claims the attn.sdpa ops it
/// takes when the chip has wgmma (sm_90a); its pattern helpers are inlined
/// into the kernel and dropped.
static void addClaimingSteps(OpPassManager &pm,
                             const GpuPipelineOptions &options) {
  if (hasHopperCore(options.chip))
    buildGpuCoreSteps(pm, options.qTile, options.kvTile, options.heavyFirst,
                      options.minBlocksPerSM, options.overlap,
                      options.persistent, options.pairStores,
                      options.warpSpecialize, options.wsStages,
                      options.wsPingPong);
}

void mlir::attn::buildGpuCoreSteps(OpPassManager &pm, int64_t qTile,
                                   int64_t kvTile, bool heavyFirst,
                                   int64_t minBlocksPerSM, bool overlap,
                                   int64_t persistent, bool pairStores,
                                   bool warpSpecialize, int64_t wsStages,
                                   bool wsPingPong) {
  AttnGpuSdpaCoreOptions coreOptions;
  coreOptions.qTile = qTile;
  coreOptions.kvTile = kvTile;
  coreOptions.heavyFirst = heavyFirst;
  coreOptions.minBlocksPerSM = minBlocksPerSM;
  coreOptions.overlap = overlap;
  coreOptions.persistent = persistent;
  coreOptions.pairStores = pairStores;
  coreOptions.warpSpecialize = warpSpecialize;
  coreOptions.wsStages = wsStages;
  coreOptions.wsPingPong = wsPingPong;
  coreOptions.claim = true;
  pm.addPass(createAttnGpuSdpaCore(coreOptions));
  pm.addPass(createInlinerPass());
  pm.addPass(createSymbolDCEPass());
}

namespace {
/// Ownership-based buffer deallocation on every function except those that
/// launch a kernel (the Hopper core's launch helpers, see
/// GpuSdpaCore.cpp): upstream's analysis rejects gpu.launch_func, which
/// declares no memory effects. Those helpers allocate nothing; their callers
/// are deallocated as usual.
struct GpuBufferDeallocationPass
    : PassWrapper<GpuBufferDeallocationPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuBufferDeallocationPass)
  StringRef getArgument() const override {
    return "attn-gpu-buffer-deallocation";
  }
  StringRef getDescription() const override {
    return "ownership-based-buffer-deallocation on the functions that launch "
           "no kernel";
  }
  void runOnOperation() override {
    OpPassManager funcPm(func::FuncOp::getOperationName());
    funcPm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      bool launches = func.walk([](gpu::LaunchFuncOp) {
                            return WalkResult::interrupt();
                          }).wasInterrupted();
      if (!launches && failed(runPipeline(funcPm, func)))
        return signalPassFailure();
    }
  }
};

/// Rejects, with the reason, an attn.sdpa with a run-time block layout: the
/// general path would build its owner map by loops on the host over device
/// buffers. Such ops compile with attn-cpu-pipeline.
struct GpuRejectBlockLayoutPass
    : PassWrapper<GpuRejectBlockLayoutPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuRejectBlockLayoutPass)
  StringRef getArgument() const override {
    return "attn-gpu-reject-block-layout";
  }
  StringRef getDescription() const override {
    return "rejects attn.sdpa with a block layout (not on the GPU yet)";
  }
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](SdpaOp op) {
      if (!op.getKvNumBlocks())
        return WalkResult::advance();
      op.emitOpError("with a block layout (blocks) is not supported by "
                     "attn-gpu-pipeline yet (its owner map would be built by "
                     "host loops over device buffers); compile it with "
                     "attn-cpu-pipeline");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

/// Step 2, after the attn lowering: linalg on tensors down to outlined
/// kernels and synchronous host code with async tokens.
static void addGeneralPath(OpPassManager &pm,
                           const GpuPipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  // Upstream's buffer-deallocation-pipeline, with the ownership-based
  // deallocation skipping the functions that launch the Hopper core.
  pm.addPass(memref::createExpandReallocPass(
      memref::ExpandReallocPassOptions{/*emitDeallocs=*/false}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(std::make_unique<GpuBufferDeallocationPass>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());

  pm.addPass(createGpuHostBuffersPass(options.abi));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createGpuTileLoopsPass(options.blockSize));
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuCheckHostCodePass());
  pm.addPass(createAttnExpandMath());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
}

/// Step 3: kernels to NVVM and a gpu.binary; host code to LLVM. The order
/// follows upstream's gpu-lower-to-nvvm-pipeline.
static void addNvvmLowering(OpPassManager &pm,
                            const GpuPipelineOptions &options) {
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions targetOptions;
  targetOptions.chip = options.chip;
  targetOptions.features = options.features;
  targetOptions.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(targetOptions));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createStripDebugInfoPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(LLVM::createNVVMOptimizeForTargetPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  // After the kernels are NVVM: the Hopper core's shared memory
  // (#gpu.address_space<workgroup>) is mapped by convert-gpu-to-nvvm only.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binaryOptions;
  binaryOptions.toolkitPath = options.toolkit;
  binaryOptions.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binaryOptions));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attn::buildGpuBackend(OpPassManager &pm,
                                 const GpuPipelineOptions &options) {
  addGeneralPath(pm, options);
  addNvvmLowering(pm, options);
}

LogicalResult mlir::attn::verifyGpuPipelineOptions(
    const GpuPipelineOptions &options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  StringRef format = options.format;
  if (format != "fatbin" && format != "bin" && format != "isa")
    return errorHandler("attn-gpu-pipeline: format must be fatbin, bin or "
                        "isa, but got '" +
                        format + "'");
  if (!StringRef(options.chip).starts_with("sm_"))
    return errorHandler("attn-gpu-pipeline: chip must be an NVIDIA "
                        "architecture such as sm_90a, but got '" +
                        options.chip + "'");
  if (options.blockSize < 1 || options.blockSize > 1024)
    return errorHandler("attn-gpu-pipeline: block-size must be in 1..1024, "
                        "but got " +
                        Twine(options.blockSize));
  if (hasHopperCore(options.chip) &&
      ((options.qTile != 64 && options.qTile != 128) ||
       (options.kvTile != 0 && options.kvTile != 64 &&
        options.kvTile != 128)))
    return errorHandler("attn-gpu-pipeline: q-tile and kv-tile of the Hopper "
                        "core must be 64 or 128 (kv-tile also 0: by head dim "
                        "and pattern), but got q-tile=" +
                        Twine(options.qTile) +
                        " kv-tile=" + Twine(options.kvTile));
  if (options.abi != "host" && options.abi != "device")
    return errorHandler("attn-gpu-pipeline: abi must be host or device, but "
                        "got '" +
                        options.abi + "'");
  return success();
}

LogicalResult mlir::attn::buildGpuPipeline(
    OpPassManager &pm, const GpuPipelineOptions &options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (failed(verifyGpuPipelineOptions(options, errorHandler)))
    return failure();
  // FAVOR+ as two attn.sdpa ops (before the device results: the second one
  // writes the kernelized op's outs).
  if (hasHopperCore(options.chip))
    pm.addPass(createGpuKernelizedAsSdpaPass(options.favorKvSplits));
  // attn.lsh as gathered chunks on the core (likewise writes the op's outs).
  if (hasHopperCore(options.chip))
    pm.addPass(createGpuLshClusterAsSdpaPass());
  if (options.abi == "device")
    pm.addPass(createGpuDeviceResultsPass());
  addClaimingSteps(pm, options);
  // The general path: every op left, on the reference lowering (f32).
  pm.addPass(std::make_unique<GpuRejectBlockLayoutPass>());
  AttnDecomposeOptions decomposeOptions;
  decomposeOptions.computeType = "f32";
  pm.addPass(createAttnDecompose(decomposeOptions));
  AttnLowerToLinalgOptions lowerOptions;
  lowerOptions.computeType = "f32";
  pm.addPass(createAttnLowerToLinalg(lowerOptions));
  buildGpuBackend(pm, options);
  return success();
}

void mlir::attn::registerGpuPipeline() {
  PassRegistration<Pass>(
      []() -> std::unique_ptr<Pass> { return createGpuHostBuffersPass(); });
  PassRegistration<Pass>(
      []() -> std::unique_ptr<Pass> { return createGpuDeviceResultsPass(); });
  PassRegistration<Pass>(
      []() -> std::unique_ptr<Pass> { return createGpuCheckHostCodePass(); });
  PassRegistration<Pass>(
      []() -> std::unique_ptr<Pass> { return createGpuTileLoopsPass(); });
  PassRegistration<Pass>([]() -> std::unique_ptr<Pass> {
    return createGpuKernelizedAsSdpaPass();
  });
  PassRegistration<Pass>([]() -> std::unique_ptr<Pass> {
    return createGpuLshClusterAsSdpaPass();
  });
  registerPassPipeline(
      "attn-gpu-pipeline",
      "attn IR on tensors to host code in the LLVM dialect that calls the "
      "mgpu* runtime, with the kernels in a gpu.binary (claiming steps such "
      "as the sdpa core first, every other op on the general path)",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        GpuPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        return buildGpuPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
        optHandler(GpuPipelineOptions());
      });
}

void mlir::attn::registerGpuTargets(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerAllGPUToLLVMIRTranslations(registry);
}
