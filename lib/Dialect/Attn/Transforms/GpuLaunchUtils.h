//===- GpuLaunchUtils.h - Kernels launched from tensor-level IR -*- C++ -*-===//
//
// Shared by the rewrites that place a kernel of their own (written as text)
// in `gpu.module @attn_gpu` and launch it from tensor-level host code: the
// sdpa core (GpuSdpaCore.cpp) and causal FAVOR+'s mma products
// (GpuMmaGemm.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPULAUNCHUTILS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPULAUNCHUTILS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace attn {

/// `gpu.module @attn_gpu` of `module` (created at its end if absent); marks
/// `module` a GPU container module.
gpu::GPUModuleOp getOrCreateAttnGpuModule(ModuleOp module);

/// Moves `moved` (host ops in program order, the guarded launch last) into a
/// private host function `<kernelName>_launch` and calls it in their place.
/// attn-gpu-pipeline's buffer deallocation cannot analyse
/// nvgpu.tma.create.descriptor and gpu.launch_func (they declare no memory
/// effects) but accepts calls; it skips the functions that launch a kernel
/// (attn-gpu-buffer-deallocation), so the rest of the caller, the device
/// buffers of the kernel's outputs included, is still deallocated.
void outlineGpuLaunch(ModuleOp module, ArrayRef<Operation *> moved,
                      StringRef kernelName);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPULAUNCHUTILS_H
