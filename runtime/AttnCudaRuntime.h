//===- AttnCudaRuntime.h - The host functions of compiled GPU code -*- C
//-*-===//
//
// The mgpu* functions that MLIR 22's gpu-to-llvm lowering calls (module load
// and launch, streams, events, allocation, copies, tensor maps), over the
// CUDA driver API, which is loaded with dlopen("libcuda.so.1") at first use:
// a program linked with this library starts on a machine without a GPU.
//
// Error policy (sticky): the first failure (no driver, or a driver call that
// does not return CUDA_SUCCESS) prints one line to stderr,
//   attn: no CUDA driver (libcuda.so.1 not found)
//   attn: CUDA error: CUDA_ERROR_<NAME> in <driver function> (<mgpu function>)
// and is kept; from then on every mgpu* function does nothing and returns
// null. Compiled code has no error path, so it runs to its end; its caller
// asks attnCudaGetStatus() afterwards and treats a non-zero value as the
// failure of the whole call (its results are garbage). With the environment
// variable ATTN_CUDA_ABORT_ON_ERROR=1 a failure aborts the process instead.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_ATTNCUDARUNTIME_H
#define ATTN_RUNTIME_ATTNCUDARUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes of attnCudaGetStatus.
enum AttnCudaStatus {
  ATTN_CUDA_OK = 0,
  /// libcuda.so.1 could not be loaded (or lacks a needed function).
  ATTN_CUDA_NO_DRIVER = 1,
  /// A driver call failed; attnCudaGetMessage says which.
  ATTN_CUDA_DRIVER_ERROR = 2,
};

/// Loads the driver and makes device 0's primary context current (once).
/// Returns the status afterwards; does not print when the status was already
/// set.
int attnCudaInit(void);
/// Returns the sticky status (an AttnCudaStatus).
int attnCudaGetStatus(void);
/// Returns the message of the first failure, or "" when there was none.
const char *attnCudaGetMessage(void);
/// Clears a DRIVER_ERROR status (a missing driver stays missing).
void attnCudaClearError(void);
/// Whether a failure is printed to stderr (default 1); a caller that
/// reports attnCudaGetMessage() itself turns it off.
void attnCudaSetPrintErrors(int print);
/// Returns the number of mgpu* calls that failed or were skipped since
/// the start (for tests).
uint64_t attnCudaGetFailedCalls(void);

/// Makes the compiled code that this thread calls from now on run on
/// `stream` (a CUstream; null is the legacy default stream), the caller's,
/// and return without waiting for it: mgpuStreamCreate hands `stream` out,
/// mgpuStreamSynchronize and mgpuStreamDestroy leave it alone. Work is then
/// ordered after the caller's earlier work on `stream`, and its results are
/// ready for the caller's later work there. Only for device-ABI code, which
/// leaves its results on the device: host-ABI code reads them on the host
/// after a synchronisation that this skips. A failure inside a kernel then
/// shows at the caller's next synchronisation, not in attnCudaGetStatus.
void attnCudaSetStream(void *stream);
/// Back to streams of the runtime's own, each waited for at its region's end.
void attnCudaClearStream(void);

/// The mgpu* functions, with the signatures that MLIR 22's gpu-to-llvm
/// lowering calls (CUDA handles as untyped pointers).
void mgpuSetDefaultDevice(int32_t device);
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool hostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream);
void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t dataType, int64_t interleave,
                                     int64_t swizzle, int64_t l2Promotion,
                                     int64_t oobFill, int64_t *boxDims);

#ifdef __cplusplus
}
#endif

#endif // ATTN_RUNTIME_ATTNCUDARUNTIME_H
