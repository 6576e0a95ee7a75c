//===- CpuPipeline.cpp - attn-cpu-pipeline --------------------------------===//
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Replaces every memref.alloca_scope by its body between an
/// llvm.intr.stacksave and an llvm.intr.stackrestore, as the memref-to-LLVM
/// lowering would. convert-scf-to-openmp wraps the body of each parallel
/// loop in one (so that its allocas are freed per iteration), but an
/// alloca_scope must have a single block, which the scf loops inside it no
/// longer are after convert-scf-to-cf.
struct InlineAllocaScopesPass
    : PassWrapper<InlineAllocaScopesPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(InlineAllocaScopesPass)

  StringRef getArgument() const final { return "attn-inline-alloca-scopes"; }
  StringRef getDescription() const final {
    return "memref.alloca_scope -> stacksave, its body, stackrestore";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk(
        [&](memref::AllocaScopeOp scope) { scopes.push_back(scope); });
    IRRewriter rewriter(&getContext());
    // Post-order: inner scopes first.
    for (memref::AllocaScopeOp scope : scopes) {
      Location loc = scope.getLoc();
      rewriter.setInsertionPoint(scope);
      Value saved = LLVM::StackSaveOp::create(
          rewriter, loc, LLVM::LLVMPointerType::get(&getContext()));
      Block *body = &scope.getBodyRegion().front();
      Operation *terminator = body->getTerminator();
      SmallVector<Value> results(terminator->getOperands());
      rewriter.inlineBlockBefore(body, scope);
      rewriter.setInsertionPoint(terminator);
      LLVM::StackRestoreOp::create(rewriter, loc, saved);
      rewriter.eraseOp(terminator);
      rewriter.replaceOp(scope, results);
    }
  }
};
} // namespace

LogicalResult mlir::attn::buildCpuPipeline(
    OpPassManager &pm, const CpuPipelineOptions &options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  bool fused = options.mode == "fused";
  if (!fused && options.mode != "reference")
    return errorHandler("attn-cpu-pipeline: mode must be 'reference' or "
                        "'fused', but got '" +
                        options.mode + "'");
  if (options.bf16Isa != "none" && options.bf16Isa != "avx512bf16" &&
      options.bf16Isa != "amx")
    return errorHandler("attn-cpu-pipeline: bf16-isa must be 'none', "
                        "'avx512bf16' or 'amx', but got '" +
                        options.bf16Isa + "'");
  if (options.bf16Isa != "none" && options.vectorWidth != 16)
    return errorHandler("attn-cpu-pipeline: bf16-isa=" + options.bf16Isa +
                        " needs vector-width=16, but got " +
                        Twine(int64_t(options.vectorWidth)));
  if (options.computeType != "f32" && options.computeType != "f64")
    return errorHandler("attn-cpu-pipeline: compute-type must be f32 or f64, "
                        "but got '" +
                        options.computeType + "'");

  // attn -> linalg on tensors. The fused path first gives lsh and cluster
  // their linear-time choices, and kernelized, lowrank and lightconv their
  // fused forms (f32 compute).
  if (fused) {
    AttnFuseLshClusterOptions fuseOptions;
    fuseOptions.computeType = options.computeType;
    pm.addPass(createAttnFuseLshCluster(fuseOptions));
  }
  if (fused && options.computeType == "f32")
    pm.addPass(createAttnFuseVariants());
  AttnDecomposeOptions decomposeOptions;
  decomposeOptions.computeType = options.computeType;
  pm.addPass(createAttnDecompose(decomposeOptions));
  if (fused) {
    if (options.qTile < 1 || options.kvTile < 1)
      return errorHandler("attn-cpu-pipeline: q-tile and kv-tile must be at "
                          "least 1");
    AttnTileOptions tileOptions;
    tileOptions.qTile = options.qTile;
    tileOptions.kvTile = options.kvTile;
    tileOptions.computeType = options.computeType;
    // The prefetches stay off: they no longer cost BigBird anything (only
    // the tile past each key range is prefetched, not the next tile of a
    // random range that spans every key tile), but they did not shorten the
    // window at N=65536 either (CPU time per call, docs/Pipelines.md).
    tileOptions.prefetch = false;
    // The output is written into the caller's destination in place:
    // attn-return-arguments-in-place (below) drops the clone that the
    // buffer deallocation makes of a returned argument.
    tileOptions.freshDestination = false;
    pm.addPass(createAttnTile(tileOptions));
    pm.addPass(createAttnPrepareTileLoops());
  } else {
    AttnLowerToLinalgOptions lowerOptions;
    lowerOptions.computeType = options.computeType;
    pm.addPass(createAttnLowerToLinalg(lowerOptions));
  }
  buildCpuBackend(pm, options);
  return success();
}

void mlir::attn::buildCpuBackend(OpPassManager &pm,
                                 const CpuPipelineOptions &options) {
  bool fused = options.mode == "fused";
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Tensors -> buffers. Function boundaries use identity layouts so that the
  // C interface takes plain strided descriptors.
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::BufferDeallocationPipelineOptions deallocOptions;
  bufferization::buildBufferDeallocationPipeline(pm, deallocOptions);
  // The fused forms' outs written in place are the entry's result, not a
  // copy of them.
  if (fused)
    pm.addPass(createAttnReturnArgumentsInPlace());
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());
  // The tiles' f32 contractions as register-tiled vector micro-kernels.
  if (fused && options.vectorWidth > 0) {
    AttnCpuMicroKernelsOptions kernelOptions;
    kernelOptions.vectorWidth = options.vectorWidth;
    kernelOptions.bf16Isa = options.bf16Isa;
    pm.addPass(createAttnCpuMicroKernels(kernelOptions));
  }

  // Buffers -> loops -> LLVM. The flash form's scf.forall over (batch, head,
  // query tile) becomes an scf.parallel and then an OpenMP worksharing loop
  // (omp.parallel + omp.wsloop), whose iterations the OpenMP runtime shares
  // among its threads. It is the only scf.parallel: the linalg ops become
  // sequential scf.for loops.
  if (fused)
    pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  if (fused) {
    pm.addPass(createConvertSCFToOpenMPPass());
    pm.addPass(std::make_unique<InlineAllocaScopesPass>());
  }
  // The math ops (of a score_mod) that have no LLVM intrinsic: isinf,
  // isnormal and clampf become arith; ipowi and fpowi with an exponent wider
  // than i32 become generated functions (after bufferization: their loops are
  // unstructured control flow); erf, erfc, cbrt, acosh, asinh and atanh
  // become libm calls after convert-math-to-llvm.
  pm.addPass(createAttnExpandMath());
  ConvertMathToFuncsOptions mathToFuncsOptions;
  mathToFuncsOptions.minWidthOfFPowIExponent = 33;
  pm.addPass(createConvertMathToFuncs(mathToFuncsOptions));
  pm.addPass(createSCFToControlFlowPass());
  // After expand-strided-metadata, which emits affine.apply of its own.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  if (fused) {
    // The micro-kernels' vector ops (and the vector.extract / insert that
    // convert-math-to-libm makes of a vector libm call); their W x W
    // transposes as shuffles (16 x 16 ones in the AVX-512 manner).
    ConvertVectorToLLVMPassOptions vectorOptions;
    // x86vector.avx512.dot of the bf16 kernels -> llvm.x86.avx512bf16.*.
    vectorOptions.x86Vector = options.bf16Isa != "none";
    // amx.tile_* of the AMX kernels -> llvm.x86.tile*.internal.
    vectorOptions.amx = options.bf16Isa == "amx";
    vectorOptions.vectorTransposeLowering =
        options.vectorWidth == 16 ? vector::VectorTransposeLowering::Shuffle16x16
                                  : vector::VectorTransposeLowering::Shuffle1D;
    pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  }
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  if (fused)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::registerAttnPassesAndPipelines() {
  registerAttnPasses();
  registerGpuPipeline();
  registerPassPipeline(
      "attn-cpu-pipeline",
      "attn IR on tensors down to the LLVM dialect for the CPU "
      "(mode=fused, the default: decompose, attn-tile, bufferize, loops, "
      "OpenMP, LLVM; mode=reference: lower-to-linalg instead of attn-tile)",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CpuPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        return buildCpuPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(CpuPipelineOptions());
      });
}
