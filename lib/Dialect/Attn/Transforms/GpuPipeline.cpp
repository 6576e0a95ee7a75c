//===- GpuPipeline.cpp - attn-gpu-pipeline --------------------------------===//
//
// attn IR on tensors -> the Hopper core (attn-gpu-sdpa-core) -> NVVM -> PTX
// and a cubin / fatbin in a gpu.binary, plus host code in the LLVM dialect.
// The lowering after the core is MLIR's own NVVM pass list (the one of
// `gpu-lower-to-nvvm-pipeline`), with the chip, PTX features and CUDA
// toolkit given explicitly.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
struct GpuPipelineOptions : public PassPipelineOptions<GpuPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture (sm_90a for wgmma)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features: +ptx80 or newer is required for sm_90a"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit (ptxas, fatbinary, libdevice)"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("gpu.binary format: isa (PTX), bin (cubin), fatbin, "
                     "offload (LLVM IR)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<int64_t> optLevel{
      *this, "opt-level", llvm::cl::desc("NVPTX optimization level"),
      llvm::cl::init(3)};
  PassOptions::Option<int64_t> kvTile{
      *this, "kv-tile", llvm::cl::desc("keys of a key/value tile: 64 or 128"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> qTile{
      *this, "q-tile",
      llvm::cl::desc("rows of a query tile: 64 (one warpgroup) or 128 (two)"),
      llvm::cl::init(128)};
};

LogicalResult buildGpuPipeline(OpPassManager &pm,
                               const GpuPipelineOptions &options,
                               function_ref<LogicalResult(const Twine &)> err) {
  if (options.chip.getValue().find("sm_90a") == std::string::npos)
    return err("attn-gpu-pipeline: the sdpa core needs chip=sm_90a (wgmma), "
               "got '" + options.chip.getValue() + "'");
  std::string text =
      "attn-gpu-sdpa-core{kv-tile=" + std::to_string(options.kvTile) +
      " q-tile=" + std::to_string(options.qTile) + "},inline,symbol-dce,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},func.func(gpu-async-region),"
      "convert-nvgpu-to-nvvm,gpu-kernel-outlining,convert-vector-to-scf,"
      "convert-scf-to-cf,convert-nvvm-to-llvm,convert-func-to-llvm,"
      "expand-strided-metadata,nvvm-attach-target{chip=" +
      options.chip.getValue() + " features=" + options.features.getValue() +
      " O=" + std::to_string(options.optLevel) +
      "},lower-affine,convert-arith-to-llvm,convert-index-to-llvm,canonicalize,"
      "cse,gpu.module(strip-debuginfo,convert-gpu-to-nvvm,"
      "llvm-optimize-for-nvvm-target,canonicalize,cse,"
      "reconcile-unrealized-casts),gpu-to-llvm,finalize-memref-to-llvm,"
      "gpu-module-to-binary{format=" +
      options.format.getValue() + " toolkit=" + options.toolkit.getValue() +
      "},convert-math-to-llvm,canonicalize,cse,reconcile-unrealized-casts";
  return parsePassPipeline(text, pm);
}
} // namespace

void mlir::attn::registerGpuPipeline() {
  registerPassPipeline(
      "attn-gpu-pipeline",
      "attn IR on tensors down to a gpu.binary (PTX / cubin / fatbin) and "
      "host code in the LLVM dialect: attn-gpu-sdpa-core, then MLIR's NVVM "
      "lowering with the chip, features and CUDA toolkit given",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        GpuPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        return buildGpuPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(GpuPipelineOptions());
      });
}
