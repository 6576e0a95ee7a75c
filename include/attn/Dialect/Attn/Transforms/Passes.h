//===- Passes.h - attn dialect passes and pipelines -------------*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class DialectRegistry;
namespace attn {

#define GEN_PASS_DECL
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

/// Options of `attn-cpu-pipeline`.
struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("fused (default: the flash form of attn-tile) or "
                     "reference (unfused, materialized scores: the oracle)"),
      llvm::cl::init("fused")};
  PassOptions::Option<std::string> computeType{
      *this, "compute-type",
      llvm::cl::desc("f32 (default) or f64 accumulation on the reference path"),
      llvm::cl::init("f32")};
  PassOptions::Option<int64_t> qTile{
      *this, "q-tile", llvm::cl::desc("mode=fused: rows of a query tile"),
      llvm::cl::init(128)};
  PassOptions::Option<int64_t> kvTile{
      *this, "kv-tile", llvm::cl::desc("mode=fused: keys of a key/value tile"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("mode=fused, f32: lanes of the micro-kernels' vectors "
                     "(16 for AVX-512, 8 for AVX2; attn-run picks it from "
                     "the host); 0 leaves the contractions to LLVM's "
                     "vectorizers"),
      llvm::cl::init(16)};
  PassOptions::Option<std::string> bf16Isa{
      *this, "bf16-isa",
      llvm::cl::desc("mode=fused, bf16 inputs: none (default: widened to f32, "
                     "f32 FMAs), avx512bf16 (x86vector.avx512.dot on pairs, "
                     "f32 accumulation; needs vector-width=16) or amx (AMX "
                     "tiles, else as avx512bf16); attn-run picks from the "
                     "host"),
      llvm::cl::init("none")};
};

/// Appends `attn-cpu-pipeline`: attn IR on tensors down to the LLVM dialect.
/// Fails (through `errorHandler`) on an unknown or unimplemented mode.
LogicalResult
buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options,
                 function_ref<LogicalResult(const Twine &)> errorHandler);
/// The steps of attn-cpu-pipeline after the attn lowering (linalg on
/// tensors to the LLVM dialect); `options.mode` must be valid.
void buildCpuBackend(OpPassManager &pm, const CpuPipelineOptions &options);

/// Attaches the decompositions of the non-core ops as external models of
/// `linalg::AggregatedOpInterface`.
void registerDecompositionInterfaces(DialectRegistry &registry);

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

/// Registers the passes, `attn-cpu-pipeline` and `attn-gpu-pipeline`.
void registerAttnPassesAndPipelines();

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
