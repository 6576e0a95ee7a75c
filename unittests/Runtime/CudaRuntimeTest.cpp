//===- CudaRuntimeTest.cpp - The mgpu* runtime without a driver -----------===//
//
// On a machine without the CUDA driver (CI, the development machine, which
// has only the toolkit's link stub libcuda.so), every mgpu* function must
// return null or do nothing, and the status must say "no CUDA driver". On a
// machine with a driver the same calls must work.
//
//===----------------------------------------------------------------------===//
#include "AttnCudaRuntime.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

namespace {

/// Whether the dynamic loader finds the driver by its versioned name.
bool hasDriver() {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library)
    dlclose(library);
  return library != nullptr;
}

TEST(CudaRuntime, StatusMatchesTheDriver) {
  int status = attnCudaInit();
  if (hasDriver()) {
    EXPECT_NE(status, ATTN_CUDA_DRIVER_ERROR) << attnCudaGetMessage();
    return;
  }
  EXPECT_EQ(status, ATTN_CUDA_NO_DRIVER);
  EXPECT_STREQ(attnCudaGetMessage(), "no CUDA driver (libcuda.so.1 not found)");
}

TEST(CudaRuntime, CallsWithoutDriverAreSkipped) {
  if (attnCudaInit() != ATTN_CUDA_NO_DRIVER) {
    // With a device: one allocation, a round trip and a free must work.
    float in[4] = {1, 2, 3, 4}, out[4] = {0, 0, 0, 0};
    void *stream = mgpuStreamCreate();
    void *device = mgpuMemAlloc(sizeof(in), stream, false);
    ASSERT_NE(device, nullptr) << attnCudaGetMessage();
    mgpuMemcpy(device, in, sizeof(in), stream);
    mgpuMemcpy(out, device, sizeof(in), stream);
    mgpuStreamSynchronize(stream);
    mgpuMemFree(device, stream);
    mgpuStreamDestroy(stream);
    EXPECT_EQ(attnCudaGetStatus(), ATTN_CUDA_OK) << attnCudaGetMessage();
    EXPECT_EQ(std::memcmp(in, out, sizeof(in)), 0);
    return;
  }
  uint64_t before = attnCudaGetFailedCalls();
  char blob[16] = "not a module";
  EXPECT_EQ(mgpuModuleLoad(blob, sizeof(blob)), nullptr);
  EXPECT_EQ(mgpuModuleLoadJIT(blob, 3), nullptr);
  void *stream = mgpuStreamCreate();
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(mgpuMemAlloc(1024, stream, false), nullptr);
  EXPECT_EQ(mgpuMemAlloc(1024, stream, true), nullptr);
  float host[4] = {1, 2, 3, 4};
  mgpuMemcpy(host, host + 2, 2 * sizeof(float), stream);
  EXPECT_EQ(host[0], 1.0f) << "a copy ran without a driver";
  int64_t descriptor[7] = {0, 0, 0, 64, 64, 64, 1}, box[2] = {64, 64};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(2, descriptor, 9, 0, 3, 0, 0, box),
            nullptr);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  // Every call above but the null-stream ones was counted as skipped.
  EXPECT_GE(attnCudaGetFailedCalls() - before, 6u);
  // A missing driver is not cleared.
  attnCudaClearError();
  EXPECT_EQ(attnCudaGetStatus(), ATTN_CUDA_NO_DRIVER);
}

TEST(CudaRuntime, CallerStreamIsHandedOutAndNotWaitedFor) {
  bool device = attnCudaInit() == ATTN_CUDA_OK;
  void *own = mgpuStreamCreate();
  void *caller = device ? own : reinterpret_cast<void *>(0x40);
  attnCudaSetStream(caller);
  if (device) {
    // Handed out, and neither destroyed nor waited for by compiled code.
    EXPECT_EQ(mgpuStreamCreate(), caller);
    mgpuStreamSynchronize(caller);
    mgpuStreamDestroy(caller);
    EXPECT_EQ(mgpuStreamCreate(), caller);
    // Null is the legacy default stream (CU_STREAM_LEGACY).
    attnCudaSetStream(nullptr);
    EXPECT_EQ(mgpuStreamCreate(), reinterpret_cast<void *>(0x1));
  } else {
    // Without a driver nothing is handed out, set stream or not.
    EXPECT_EQ(mgpuStreamCreate(), nullptr);
  }
  attnCudaClearStream();
  if (device) {
    void *next = mgpuStreamCreate();
    EXPECT_NE(next, reinterpret_cast<void *>(0x1));
    mgpuStreamDestroy(next);
    mgpuStreamDestroy(own);
    EXPECT_EQ(attnCudaGetStatus(), ATTN_CUDA_OK) << attnCudaGetMessage();
  }
}

} // namespace
