//===- AttnTransformOps.cpp - transform.attn.* ----------------------------===//
//
// Each op forwards to the function behind the matching pass, so that a
// transform script and the pass pipeline build the same IR.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"

#include "../Transforms/SdpaTiler.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.cpp.inc"

/// The compute type named by `name` (f32 or f64), or a silenceable failure
/// on `op`.
static FailureOr<FloatType> computeType(Operation *op, StringRef name) {
  return parseComputeType(op, op->getName().getStringRef(), name);
}

/// Runs the passes that `build` adds on each payload op of `targets`, which
/// must be isolated from above; `check` may refuse a target first.
static DiagnosedSilenceableFailure
runPasses(Operation *transform, transform::TransformState &state, Value targets,
          function_ref<void(OpPassManager &)> build,
          function_ref<bool(Operation *)> check = nullptr) {
  for (Operation *target : state.getPayloadOps(targets)) {
    if (check && !check(target))
      return DiagnosedSilenceableFailure::definiteFailure();
    if (!target->hasTrait<OpTrait::IsIsolatedFromAbove>())
      return emitDefiniteFailure(transform)
             << "expects targets isolated from above (a function or a "
                "module), but got "
             << target->getName();
    PassManager pm(target->getContext(), target->getName().getStringRef(),
                   OpPassManager::Nesting::Implicit);
    build(pm);
    if (failed(pm.run(target)))
      return emitDefiniteFailure(transform)
             << "the passes failed on the target";
  }
  return DiagnosedSilenceableFailure::success();
}

//===----------------------------------------------------------------------===//
// transform.attn.decompose
//===----------------------------------------------------------------------===//

DiagnosedSilenceableFailure
DecomposeOp::apply(transform::TransformRewriter &rewriter,
                   transform::TransformResults &,
                   transform::TransformState &state) {
  FailureOr<FloatType> type = computeType(*this, getComputeType());
  if (failed(type))
    return DiagnosedSilenceableFailure::definiteFailure();
  for (Operation *target : state.getPayloadOps(getTarget())) {
    SmallVector<Operation *> ops;
    target->walk([&](Operation *op) {
      if (isa<AttnDialect>(op->getDialect()) &&
          isa<linalg::AggregatedOpInterface>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> replacements =
          decomposeAttnOp(rewriter, op, *type);
      if (failed(replacements))
        return DiagnosedSilenceableFailure::definiteFailure();
      rewriter.replaceOp(op, *replacements);
    }
  }
  return DiagnosedSilenceableFailure::success();
}

void DecomposeOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::onlyReadsHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

//===----------------------------------------------------------------------===//
// transform.attn.tile and transform.attn.lower_to_linalg
//===----------------------------------------------------------------------===//

/// Replaces each attn.sdpa of `target` by what `build` makes of it; returns
/// the ops that define the first replacement values.
static DiagnosedSilenceableFailure
replaceSdpaOps(Operation *transform, transform::TransformRewriter &rewriter,
               transform::TransformState &state, Value target,
               function_ref<FailureOr<SmallVector<Value>>(SdpaOp)> build,
               SmallVectorImpl<Operation *> &results) {
  for (Operation *op : state.getPayloadOps(target)) {
    auto sdpa = dyn_cast<SdpaOp>(op);
    if (!sdpa) {
      DiagnosedSilenceableFailure diag = emitSilenceableFailure(transform)
                                         << "expects attn.sdpa targets";
      diag.attachNote(op->getLoc()) << "this target is " << op->getName();
      return diag;
    }
    rewriter.setInsertionPoint(sdpa);
    FailureOr<SmallVector<Value>> values = build(sdpa);
    if (failed(values))
      return DiagnosedSilenceableFailure::definiteFailure();
    results.push_back(values->front().getDefiningOp());
    rewriter.replaceOp(sdpa, *values);
  }
  return DiagnosedSilenceableFailure::success();
}

DiagnosedSilenceableFailure
TileOp::apply(transform::TransformRewriter &rewriter,
              transform::TransformResults &results,
              transform::TransformState &state) {
  FailureOr<FloatType> type = computeType(*this, getComputeType());
  if (failed(type))
    return DiagnosedSilenceableFailure::definiteFailure();
  if (getQTile() < 1 || getKvTile() < 1)
    return emitDefiniteFailure() << "expects q_tile and kv_tile of at least "
                                    "1, but got "
                                 << getQTile() << " and " << getKvTile();
  SmallVector<Operation *> loops;
  DiagnosedSilenceableFailure diag = replaceSdpaOps(
      *this, rewriter, state, getTarget(),
      [&](SdpaOp op) -> FailureOr<SmallVector<Value>> {
        return tile::buildFlashForm(rewriter, op, getQTile(), getKvTile(),
                                    *type, getPrefetch(), !getInPlace());
      },
      loops);
  if (!diag.succeeded())
    return diag;
  results.set(cast<OpResult>(getLoops()), loops);
  return DiagnosedSilenceableFailure::success();
}

void TileOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::consumesHandle(getTargetMutable(), effects);
  transform::producesHandle(getOperation()->getOpResults(), effects);
  transform::modifiesPayload(effects);
}

DiagnosedSilenceableFailure
LowerToLinalgOp::apply(transform::TransformRewriter &rewriter,
                       transform::TransformResults &,
                       transform::TransformState &state) {
  FailureOr<FloatType> type = computeType(*this, getComputeType());
  if (failed(type))
    return DiagnosedSilenceableFailure::definiteFailure();
  SmallVector<Operation *> unused;
  return replaceSdpaOps(
      *this, rewriter, state, getTarget(),
      [&](SdpaOp op) { return lowerSdpaToLinalg(rewriter, op, *type); },
      unused);
}

void LowerToLinalgOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::consumesHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

//===----------------------------------------------------------------------===//
// transform.attn.prepare_tile_loops and transform.attn.lower_to_cpu
//===----------------------------------------------------------------------===//

DiagnosedSilenceableFailure
PrepareTileLoopsOp::apply(transform::TransformRewriter &,
                          transform::TransformResults &,
                          transform::TransformState &state) {
  return runPasses(*this, state, getTarget(), [](OpPassManager &pm) {
    pm.addPass(createAttnPrepareTileLoops());
  });
}

void PrepareTileLoopsOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::onlyReadsHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

/// Refuses (with a diagnostic on `transform`) a target that is not a
/// builtin.module.
static bool isModuleTarget(Operation *transform, Operation *target) {
  if (isa<ModuleOp>(target))
    return true;
  transform->emitOpError() << "expects builtin.module targets, but got "
                           << target->getName();
  return false;
}

DiagnosedSilenceableFailure
LowerToCpuOp::apply(transform::TransformRewriter &,
                    transform::TransformResults &,
                    transform::TransformState &state) {
  if (getMode() != "fused" && getMode() != "reference")
    return emitDefiniteFailure() << "expects mode \"fused\" or \"reference\", "
                                    "but got \""
                                 << getMode() << "\"";
  CpuPipelineOptions options;
  options.mode = getMode().str();
  options.vectorWidth = getVectorWidth();
  return runPasses(
      *this, state, getTarget(),
      [&](OpPassManager &pm) { buildCpuBackend(pm, options); },
      [&](Operation *target) { return isModuleTarget(*this, target); });
}

void LowerToCpuOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::consumesHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

//===----------------------------------------------------------------------===//
// transform.attn.map_to_gpu_core and transform.attn.lower_to_gpu
//===----------------------------------------------------------------------===//

DiagnosedSilenceableFailure
MapToGpuCoreOp::apply(transform::TransformRewriter &,
                      transform::TransformResults &,
                      transform::TransformState &state) {
  auto isTile = [](int64_t v) { return v == 64 || v == 128; };
  if (!isTile(getQTile()) || (getKvTile() != 0 && !isTile(getKvTile())))
    return emitDefiniteFailure()
           << "expects q_tile and kv_tile of 64 or 128 (the Hopper core's "
              "tiles; kv_tile also 0: by head dim and pattern), but got "
           << getQTile() << " and " << getKvTile();
  return runPasses(
      *this, state, getTarget(),
      [&](OpPassManager &pm) {
        buildGpuCoreSteps(pm, getQTile(), getKvTile());
      },
      [&](Operation *target) { return isModuleTarget(*this, target); });
}

void MapToGpuCoreOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::onlyReadsHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

DiagnosedSilenceableFailure
LowerToGpuOp::apply(transform::TransformRewriter &,
                    transform::TransformResults &,
                    transform::TransformState &state) {
  GpuPipelineOptions options;
  options.chip = getChip().str();
  options.features = getFeatures().str();
  options.toolkit = getToolkit().str();
  options.optLevel = getOptLevel();
  options.format = getFormat().str();
  options.blockSize = getBlockSize();
  options.abi = getAbi().str();
  // The pipeline's checks; its tile options are map_to_gpu_core's.
  options.qTile = 128;
  options.kvTile = 0;
  if (getOptLevel() < 0 || getOptLevel() > 3)
    return emitDefiniteFailure()
           << "expects opt_level in 0..3, but got " << getOptLevel();
  std::string message;
  if (failed(verifyGpuPipelineOptions(options, [&](const Twine &text) {
        message = text.str();
        return failure();
      })))
    return emitDefiniteFailure() << message;
  return runPasses(
      *this, state, getTarget(),
      [&](OpPassManager &pm) { buildGpuBackend(pm, options); },
      [&](Operation *target) { return isModuleTarget(*this, target); });
}

void LowerToGpuOp::getEffects(
    SmallVectorImpl<MemoryEffects::EffectInstance> &effects) {
  transform::consumesHandle(getTargetMutable(), effects);
  transform::modifiesPayload(effects);
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

namespace {
class AttnTransformDialectExtension
    : public transform::TransformDialectExtension<
          AttnTransformDialectExtension> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AttnTransformDialectExtension)

  AttnTransformDialectExtension() {
    declareDependentDialect<AttnDialect>();
    declareGeneratedDialect<affine::AffineDialect>();
    declareGeneratedDialect<arith::ArithDialect>();
    declareGeneratedDialect<bufferization::BufferizationDialect>();
    declareGeneratedDialect<cf::ControlFlowDialect>();
    declareGeneratedDialect<gpu::GPUDialect>();
    declareGeneratedDialect<NVVM::NVVMDialect>();
    declareGeneratedDialect<nvgpu::NVGPUDialect>();
    declareGeneratedDialect<math::MathDialect>();
    declareGeneratedDialect<LLVM::LLVMDialect>();
    declareGeneratedDialect<linalg::LinalgDialect>();
    declareGeneratedDialect<memref::MemRefDialect>();
    declareGeneratedDialect<omp::OpenMPDialect>();
    declareGeneratedDialect<scf::SCFDialect>();
    declareGeneratedDialect<tensor::TensorDialect>();
    declareGeneratedDialect<vector::VectorDialect>();
    registerTransformOps<
#define GET_OP_LIST
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.cpp.inc"
        >();
  }
};
} // namespace

void mlir::attn::registerTransformDialectExtension(DialectRegistry &registry) {
  registry.addExtensions<AttnTransformDialectExtension>();
}
