//===- CudaRuntime.cpp - mgpu* over the dlopen'ed CUDA driver API ---------===//
//
// Own minimal declarations of the driver API (no cuda.h needed to build).
// See AttnCudaRuntime.h for the error policy.
//
//===----------------------------------------------------------------------===//
#include "AttnCudaRuntime.h"
#include "HostCaches.h"

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace {

using attn::runtime::ReusePool;
using attn::runtime::TensorMapBytes;
using attn::runtime::TensorMapCache;
using attn::runtime::TensorMapGeometry;

//===----------------------------------------------------------------------===//
// The driver API, as far as it is used here
//===----------------------------------------------------------------------===//

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;
using CUmemoryPool = void *;

constexpr CUresult kSuccess = 0;
constexpr int kFuncAttrMaxDynamicSharedBytes = 8;
constexpr unsigned kStreamNonBlocking = 0x1;
constexpr unsigned kMemAttachGlobal = 0x1;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferSize = 6;
constexpr int kJitOptimizationLevel = 7;
constexpr int kMemPoolAttrReleaseThreshold = 4;
/// Device slots for tensor maps (128 bytes each) and streams kept for reuse.
constexpr size_t kTensorMapSlots = 1024;
constexpr size_t kKeptStreams = 16;
/// Dynamic shared memory above this needs the function attribute.
constexpr int kDefaultSharedLimit = 48 * 1024;
using TensorMap = TensorMapBytes;

/// The driver's functions, looked up by their versioned symbol names.
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  // Stream-ordered allocation (CUDA 11.2); optional.
  CUresult (*cuDeviceGetDefaultMemPool)(CUmemoryPool *, CUdevice);
  CUresult (*cuMemPoolSetAttribute)(CUmemoryPool, int, void *);
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuTensorMapEncodeTiled)(TensorMap *, int, unsigned, void *,
                                     const uint64_t *, const uint64_t *,
                                     const unsigned *, const unsigned *, int,
                                     int, int, int);
};

struct State {
  std::once_flag once;
  std::mutex mutex;
  Driver driver{};
  CUcontext context = nullptr;
  int device = 0;
  int status = ATTN_CUDA_OK;
  char message[256] = "";
  uint64_t failedCalls = 0;
  bool printErrors = true;
  /// Whether device memory comes from the device's default memory pool,
  /// stream-ordered (kept by the pool between calls instead of a
  /// cuMemAlloc / cuMemFree each, which synchronises the device).
  bool streamOrderedAlloc = false;
  /// ATTN_CUDA_POISON=1: every device allocation is filled with 0xFF bytes
  /// (NaN in f16, bf16, f32 and f64), so that unwritten results show.
  bool poison = false;
  /// Guards the members below.
  std::mutex cacheMutex;
  std::unordered_set<CUdeviceptr> pooledAllocations;
  /// The dynamic shared memory limit set on each function so far.
  std::unordered_map<CUfunction, int> sharedLimits;
  ReusePool<CUstream> streams{kKeptStreams};
  TensorMapCache tensorMaps{kTensorMapSlots};
  /// kTensorMapSlots device copies of tensor maps (allocated at first use).
  CUdeviceptr tensorMapSlots = 0;
};

State &state() {
  static State s;
  return s;
}

/// Records the first failure, prints it, and aborts when asked to.
void fail(int status, const char *message) {
  State &s = state();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    ++s.failedCalls;
    if (s.status != ATTN_CUDA_OK)
      return;
    s.status = status;
    std::snprintf(s.message, sizeof(s.message), "%s", message);
  }
  if (s.printErrors) {
    std::fprintf(stderr, "attn: %s\n", message);
    std::fflush(stderr);
  }
  const char *abortOnError = std::getenv("ATTN_CUDA_ABORT_ON_ERROR");
  if (abortOnError && std::strcmp(abortOnError, "1") == 0)
    std::abort();
}

template <typename Fn> bool lookup(void *library, const char *name, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, name));
  return fn != nullptr;
}

/// Loads libcuda.so.1 (by that name only: the toolkit's link stub
/// libcuda.so is never loaded) and retains device 0's primary context.
void load() {
  State &s = state();
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fail(ATTN_CUDA_NO_DRIVER, "no CUDA driver (libcuda.so.1 not found)");
    return;
  }
  Driver &d = s.driver;
  bool ok =
      lookup(library, "cuInit", d.cuInit) &&
      lookup(library, "cuGetErrorName", d.cuGetErrorName) &&
      lookup(library, "cuDeviceGet", d.cuDeviceGet) &&
      lookup(library, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain) &&
      lookup(library, "cuCtxSetCurrent", d.cuCtxSetCurrent) &&
      lookup(library, "cuCtxSynchronize", d.cuCtxSynchronize) &&
      lookup(library, "cuModuleLoadData", d.cuModuleLoadData) &&
      lookup(library, "cuModuleLoadDataEx", d.cuModuleLoadDataEx) &&
      lookup(library, "cuModuleUnload", d.cuModuleUnload) &&
      lookup(library, "cuModuleGetFunction", d.cuModuleGetFunction) &&
      lookup(library, "cuFuncSetAttribute", d.cuFuncSetAttribute) &&
      lookup(library, "cuLaunchKernel", d.cuLaunchKernel) &&
      lookup(library, "cuStreamCreate", d.cuStreamCreate) &&
      lookup(library, "cuStreamSynchronize", d.cuStreamSynchronize) &&
      lookup(library, "cuStreamDestroy_v2", d.cuStreamDestroy) &&
      lookup(library, "cuStreamWaitEvent", d.cuStreamWaitEvent) &&
      lookup(library, "cuEventCreate", d.cuEventCreate) &&
      lookup(library, "cuEventDestroy_v2", d.cuEventDestroy) &&
      lookup(library, "cuEventSynchronize", d.cuEventSynchronize) &&
      lookup(library, "cuEventRecord", d.cuEventRecord) &&
      lookup(library, "cuMemAlloc_v2", d.cuMemAlloc) &&
      lookup(library, "cuMemAllocManaged", d.cuMemAllocManaged) &&
      lookup(library, "cuMemFree_v2", d.cuMemFree) &&
      lookup(library, "cuMemcpyAsync", d.cuMemcpyAsync) &&
      lookup(library, "cuMemsetD32Async", d.cuMemsetD32Async) &&
      lookup(library, "cuMemsetD16Async", d.cuMemsetD16Async) &&
      lookup(library, "cuMemsetD8Async", d.cuMemsetD8Async) &&
      lookup(library, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD);
  // Only drivers for CUDA 12 and newer have tensor maps; optional.
  lookup(library, "cuTensorMapEncodeTiled", d.cuTensorMapEncodeTiled);
  bool pools =
      lookup(library, "cuDeviceGetDefaultMemPool",
             d.cuDeviceGetDefaultMemPool) &&
      lookup(library, "cuMemPoolSetAttribute", d.cuMemPoolSetAttribute) &&
      lookup(library, "cuMemAllocAsync", d.cuMemAllocAsync) &&
      lookup(library, "cuMemFreeAsync", d.cuMemFreeAsync);
  if (!ok) {
    fail(ATTN_CUDA_NO_DRIVER,
         "no CUDA driver (libcuda.so.1 lacks a driver API function)");
    return;
  }
  CUdevice device;
  if (d.cuInit(0) != kSuccess || d.cuDeviceGet(&device, s.device) != kSuccess ||
      d.cuDevicePrimaryCtxRetain(&s.context, device) != kSuccess) {
    fail(ATTN_CUDA_NO_DRIVER, "no CUDA device (cuInit or device 0 failed)");
    return;
  }
  const char *poison = std::getenv("ATTN_CUDA_POISON");
  s.poison = poison && std::strcmp(poison, "1") == 0;
  // The pool keeps what is freed (no release threshold), so that a call's
  // buffers come back without the driver's allocation and its device sync.
  // Devices without pools, and ATTN_CUDA_POOL=0, keep cuMemAlloc / cuMemFree.
  const char *usePool = std::getenv("ATTN_CUDA_POOL");
  CUmemoryPool pool = nullptr;
  uint64_t keepAll = ~uint64_t(0);
  s.streamOrderedAlloc =
      pools && !(usePool && std::strcmp(usePool, "0") == 0) &&
      d.cuCtxSetCurrent(s.context) == kSuccess &&
      d.cuDeviceGetDefaultMemPool(&pool, device) == kSuccess &&
      d.cuMemPoolSetAttribute(pool, kMemPoolAttrReleaseThreshold, &keepAll) ==
          kSuccess;
}

/// Returns whether calls may go to the driver, with the context current.
bool ready() {
  State &s = state();
  std::call_once(s.once, load);
  if (s.status != ATTN_CUDA_OK) {
    std::lock_guard<std::mutex> lock(s.mutex);
    ++s.failedCalls;
    return false;
  }
  return s.driver.cuCtxSetCurrent(s.context) == kSuccess;
}

/// Checks one driver call's result.
bool check(CUresult result, const char *driverFunction,
           const char *mgpuFunction) {
  if (result == kSuccess)
    return true;
  const char *name = nullptr;
  if (state().driver.cuGetErrorName(result, &name) != kSuccess || !name)
    name = "unknown error";
  char message[256];
  std::snprintf(message, sizeof(message), "CUDA error: %s (%d) in %s (%s)",
                name, result, driverFunction, mgpuFunction);
  fail(ATTN_CUDA_DRIVER_ERROR, message);
  return false;
}

/// Calls the driver function `fn` with the following arguments and checks
/// its result on behalf of the mgpu function `mgpu`.
#define ATTN_CALL(mgpu, fn, ...)                                               \
  check(state().driver.fn(__VA_ARGS__), #fn, mgpu)

/// ATTN_CUDA_PROFILE=1: the wall time spent in the main mgpu* functions and
/// their number of calls, printed to stderr at exit (where a compiled call's
/// host time goes).
enum ProfiledFunction {
  kProfLaunch,
  kProfStreamCreate,
  kProfStreamDestroy,
  kProfStreamSynchronize,
  kProfMemAlloc,
  kProfMemFree,
  kProfMemcpy,
  kProfTensorMap,
  kProfCount
};

struct Profile {
  bool enabled;
  std::atomic<uint64_t> nanoseconds[kProfCount] = {};
  std::atomic<uint64_t> calls[kProfCount] = {};

  Profile() {
    const char *value = std::getenv("ATTN_CUDA_PROFILE");
    enabled = value && std::strcmp(value, "1") == 0;
  }
  ~Profile() {
    if (!enabled)
      return;
    static const char *const names[kProfCount] = {
        "mgpuLaunchKernel",  "mgpuStreamCreate",
        "mgpuStreamDestroy", "mgpuStreamSynchronize",
        "mgpuMemAlloc",      "mgpuMemFree",
        "mgpuMemcpy",        "mgpuTensorMapEncodeTiledMemref"};
    std::fprintf(stderr,
                 "attn: CUDA runtime profile (calls, total us, us/call)\n");
    for (int i = 0; i < kProfCount; ++i) {
      uint64_t n = calls[i], ns = nanoseconds[i];
      if (n)
        std::fprintf(stderr, "attn:   %-32s %10llu %12.1f %9.2f\n", names[i],
                     static_cast<unsigned long long>(n), ns / 1e3,
                     ns / 1e3 / n);
    }
  }
};

Profile &profile() {
  static Profile p;
  return p;
}

/// Adds the wall time of its scope to one function's entry, when enabled.
class ProfileScope {
public:
  explicit ProfileScope(ProfiledFunction function) : function(function) {
    if (profile().enabled)
      start = std::chrono::steady_clock::now();
  }
  ~ProfileScope() {
    Profile &p = profile();
    if (!p.enabled)
      return;
    auto elapsed = std::chrono::steady_clock::now() - start;
    p.nanoseconds[function] += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    ++p.calls[function];
  }

private:
  ProfiledFunction function;
  std::chrono::steady_clock::time_point start;
};

/// Bytes of one element of a CUtensorMapDataType.
size_t getTensorMapElementSize(int64_t dataType) {
  static const size_t sizes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  if (dataType < 0 || dataType >= int64_t(sizeof(sizes) / sizeof(sizes[0])))
    return 0;
  return sizes[dataType];
}

} // namespace

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

extern "C" int attnCudaInit(void) {
  ready();
  return state().status;
}
extern "C" int attnCudaGetStatus(void) { return state().status; }
extern "C" const char *attnCudaGetMessage(void) { return state().message; }
extern "C" void attnCudaClearError(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.status == ATTN_CUDA_DRIVER_ERROR) {
    s.status = ATTN_CUDA_OK;
    s.message[0] = 0;
  }
}
extern "C" void attnCudaSetPrintErrors(int print) {
  state().printErrors = print != 0;
}
extern "C" uint64_t attnCudaGetFailedCalls(void) { return state().failedCalls; }

//===----------------------------------------------------------------------===//
// mgpu*: the signatures of MLIR 22's gpu-to-llvm lowering
//===----------------------------------------------------------------------===//

extern "C" void mgpuSetDefaultDevice(int32_t device) {
  state().device = device;
}

extern "C" CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  if (ready())
    ATTN_CALL("mgpuModuleLoad", cuModuleLoadData, &module, data);
  return module;
}

/// Loads PTX (format=isa), which the driver compiles at `optLevel`.
extern "C" CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  CUmodule module = nullptr;
  if (!ready())
    return nullptr;
  char log[4096] = "";
  int options[] = {kJitOptimizationLevel, kJitErrorLogBuffer,
                   kJitErrorLogBufferSize};
  void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel)), log,
                    reinterpret_cast<void *>(sizeof(log))};
  if (!ATTN_CALL("mgpuModuleLoadJIT", cuModuleLoadDataEx, &module, data, 3,
                 options, values) &&
      log[0])
    std::fprintf(stderr, "attn: PTX JIT log: %s\n", log);
  return module;
}

extern "C" void mgpuModuleUnload(CUmodule module) {
  if (!module || !ready())
    return;
  {
    // Its functions' handles may come back for another module's functions.
    std::lock_guard<std::mutex> lock(state().cacheMutex);
    state().sharedLimits.clear();
  }
  ATTN_CALL("mgpuModuleUnload", cuModuleUnload, module);
}

extern "C" CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function = nullptr;
  if (!ready())
    return function;
  // A null module is one that was never loaded: its load failed (and said so)
  // or the module constructor of the host code never ran.
  if (!module) {
    char message[256];
    std::snprintf(message, sizeof(message),
                  "kernel '%s' requested from a GPU module that is not loaded "
                  "(mgpuModuleGetFunction)",
                  name ? name : "?");
    fail(ATTN_CUDA_DRIVER_ERROR, message);
    return function;
  }
  ATTN_CALL("mgpuModuleGetFunction", cuModuleGetFunction, &function, module,
            name);
  return function;
}

extern "C" void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                 intptr_t gridY, intptr_t gridZ,
                                 intptr_t blockX, intptr_t blockY,
                                 intptr_t blockZ, int32_t sharedBytes,
                                 CUstream stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  ProfileScope scope(kProfLaunch);
  // A grid without blocks (no query tiles: Nq = 0) has no work; the driver
  // would reject it.
  if (!ready() || gridX <= 0 || gridY <= 0 || gridZ <= 0)
    return;
  if (!function) {
    fail(ATTN_CUDA_DRIVER_ERROR,
         "launch of a kernel that is not loaded (mgpuLaunchKernel)");
    return;
  }
  // The function's dynamic shared memory limit, raised once per size.
  if (sharedBytes > kDefaultSharedLimit) {
    State &s = state();
    bool raise;
    {
      std::lock_guard<std::mutex> lock(s.cacheMutex);
      int &limit = s.sharedLimits[function];
      raise = limit < sharedBytes;
    }
    if (raise) {
      if (!ATTN_CALL("mgpuLaunchKernel", cuFuncSetAttribute, function,
                     kFuncAttrMaxDynamicSharedBytes, sharedBytes))
        return;
      std::lock_guard<std::mutex> lock(s.cacheMutex);
      s.sharedLimits[function] = sharedBytes;
    }
  }
  ATTN_CALL("mgpuLaunchKernel", cuLaunchKernel, function, gridX, gridY, gridZ,
            blockX, blockY, blockZ, sharedBytes, stream, params, extra);
}

/// The caller's stream of attnCudaSetStream on this thread (null: none; the
/// legacy default stream is CU_STREAM_LEGACY, not null).
static thread_local CUstream callerStream = nullptr;

/// The driver's handle of the legacy default stream (CU_STREAM_LEGACY).
static CUstream const kStreamLegacy = reinterpret_cast<CUstream>(0x1);

extern "C" void attnCudaSetStream(void *stream) {
  callerStream = stream ? static_cast<CUstream>(stream) : kStreamLegacy;
}

extern "C" void attnCudaClearStream(void) { callerStream = nullptr; }

/// Compiled code creates a stream per asynchronous region and destroys it at
/// the region's end: a destroyed stream is kept and handed out again (work
/// still queued on it only orders the next user's work after it). With a
/// caller's stream set, that stream is handed out instead.
extern "C" CUstream mgpuStreamCreate() {
  ProfileScope scope(kProfStreamCreate);
  CUstream stream = nullptr;
  if (!ready())
    return nullptr;
  if (callerStream)
    return callerStream;
  {
    std::lock_guard<std::mutex> lock(state().cacheMutex);
    stream = state().streams.take();
  }
  if (!stream)
    ATTN_CALL("mgpuStreamCreate", cuStreamCreate, &stream, kStreamNonBlocking);
  return stream;
}

extern "C" void mgpuStreamDestroy(CUstream stream) {
  ProfileScope scope(kProfStreamDestroy);
  if (!stream || stream == callerStream || !ready())
    return;
  {
    std::lock_guard<std::mutex> lock(state().cacheMutex);
    if (state().streams.give(stream))
      return;
  }
  ATTN_CALL("mgpuStreamDestroy", cuStreamDestroy, stream);
}

extern "C" void mgpuStreamSynchronize(CUstream stream) {
  ProfileScope scope(kProfStreamSynchronize);
  // The caller's stream is the caller's to wait for.
  if (stream && stream != callerStream && ready())
    ATTN_CALL("mgpuStreamSynchronize", cuStreamSynchronize, stream);
}

extern "C" void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  if (stream && event && ready())
    ATTN_CALL("mgpuStreamWaitEvent", cuStreamWaitEvent, stream, event, 0);
}

extern "C" CUevent mgpuEventCreate() {
  CUevent event = nullptr;
  if (ready())
    ATTN_CALL("mgpuEventCreate", cuEventCreate, &event, 0);
  return event;
}

extern "C" void mgpuEventDestroy(CUevent event) {
  if (event && ready())
    ATTN_CALL("mgpuEventDestroy", cuEventDestroy, event);
}

extern "C" void mgpuEventSynchronize(CUevent event) {
  if (event && ready())
    ATTN_CALL("mgpuEventSynchronize", cuEventSynchronize, event);
}

extern "C" void mgpuEventRecord(CUevent event, CUstream stream) {
  if (event && ready())
    ATTN_CALL("mgpuEventRecord", cuEventRecord, event, stream);
}

/// Device memory, or managed memory when `hostShared` (gpu.alloc
/// host_shared). Zero bytes give null. On a stream (gpu.alloc async), from
/// the device's memory pool in the stream's order.
extern "C" void *mgpuMemAlloc(uint64_t bytes, CUstream stream,
                              bool hostShared) {
  ProfileScope scope(kProfMemAlloc);
  State &s = state();
  CUdeviceptr pointer = 0;
  if (bytes == 0 || !ready())
    return nullptr;
  if (hostShared) {
    ATTN_CALL("mgpuMemAlloc", cuMemAllocManaged, &pointer, bytes,
              kMemAttachGlobal);
  } else if (stream && s.streamOrderedAlloc) {
    if (ATTN_CALL("mgpuMemAlloc", cuMemAllocAsync, &pointer, bytes, stream)) {
      std::lock_guard<std::mutex> lock(s.cacheMutex);
      s.pooledAllocations.insert(pointer);
    }
  } else {
    ATTN_CALL("mgpuMemAlloc", cuMemAlloc, &pointer, bytes);
  }
  if (pointer && s.poison &&
      ATTN_CALL("mgpuMemAlloc", cuMemsetD8Async, pointer, 0xFF, bytes,
                stream) &&
      !stream)
    ATTN_CALL("mgpuMemAlloc", cuStreamSynchronize, nullptr);
  return reinterpret_cast<void *>(pointer);
}

/// Frees on `stream` what came from the pool. Without a stream, or for
/// memory of cuMemAlloc, cuMemFree (which waits for the device; for pool
/// memory the device is synchronised first, as cuMemFree would not).
extern "C" void mgpuMemFree(void *pointer, CUstream stream) {
  ProfileScope scope(kProfMemFree);
  State &s = state();
  if (!pointer || !ready())
    return;
  auto address = reinterpret_cast<CUdeviceptr>(pointer);
  bool pooled;
  {
    std::lock_guard<std::mutex> lock(s.cacheMutex);
    pooled = s.pooledAllocations.erase(address) != 0;
  }
  if (pooled && stream) {
    ATTN_CALL("mgpuMemFree", cuMemFreeAsync, address, stream);
    return;
  }
  if (pooled && !ATTN_CALL("mgpuMemFree", cuCtxSynchronize))
    return;
  ATTN_CALL("mgpuMemFree", cuMemFree, address);
}

/// Copies in either direction (unified addressing).
extern "C" void mgpuMemcpy(void *dst, void *src, size_t bytes,
                           CUstream stream) {
  ProfileScope scope(kProfMemcpy);
  if (bytes && ready())
    ATTN_CALL("mgpuMemcpy", cuMemcpyAsync, reinterpret_cast<CUdeviceptr>(dst),
              reinterpret_cast<CUdeviceptr>(src), bytes, stream);
}

extern "C" void mgpuMemset32(void *dst, unsigned value, size_t count,
                             CUstream stream) {
  if (count && ready())
    ATTN_CALL("mgpuMemset32", cuMemsetD32Async,
              reinterpret_cast<CUdeviceptr>(dst), value, count, stream);
}

extern "C" void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             CUstream stream) {
  if (count && ready())
    ATTN_CALL("mgpuMemset16", cuMemsetD16Async,
              reinterpret_cast<CUdeviceptr>(dst), value, count, stream);
}

/// The device buffer of the tensor map slots, allocated on first use.
/// Called with the cache mutex held.
static bool allocateTensorMapSlots(State &s) {
  return s.tensorMapSlots ||
         ATTN_CALL("mgpuTensorMapEncodeTiledMemref", cuMemAlloc,
                   &s.tensorMapSlots, kTensorMapSlots * sizeof(TensorMap));
}

/// Encodes a tiled tensor map of the memref `descriptor` (a ranked memref
/// descriptor of rank `rank`: allocated, aligned, offset, sizes, strides),
/// whose box has the sizes `boxDims` (outermost first), and returns a copy
/// of it in device memory (the kernel's argument is a pointer to it). The
/// copies live in a fixed set of slots, found again by the map's content
/// (TensorMapCache): an equal map of an earlier call costs no allocation and
/// no copy, and nothing leaks.
extern "C" void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill, int64_t *boxDims) {
  ProfileScope scope(kProfTensorMap);
  if (!ready())
    return nullptr;
  size_t elementSize = getTensorMapElementSize(dataType);
  if (!state().driver.cuTensorMapEncodeTiled || rank < 1 || rank > 5 ||
      !elementSize) {
    fail(ATTN_CUDA_DRIVER_ERROR,
         "CUDA error: no cuTensorMapEncodeTiled, or a rank outside 1..5 or "
         "an unknown data type (mgpuTensorMapEncodeTiledMemref)");
    return nullptr;
  }
  const int64_t *fields = static_cast<const int64_t *>(descriptor);
  char *aligned;
  std::memcpy(&aligned, &fields[1], sizeof(aligned));
  TensorMapGeometry geometry(rank, fields + 3, fields + 3 + rank, elementSize,
                             boxDims);
  void *address = aligned + fields[2] * elementSize;
  State &s = state();
  // An empty tensor's map is a stand-in over the slots' buffer (aligned,
  // never read through it), so the slots exist before any encoding.
  if (geometry.empty) {
    std::lock_guard<std::mutex> lock(s.cacheMutex);
    if (!allocateTensorMapSlots(s))
      return nullptr;
    address = reinterpret_cast<void *>(s.tensorMapSlots);
  }
  // Encoding reads only the arguments: callers on other threads do not wait
  // for it.
  TensorMap map{};
  if (!ATTN_CALL("mgpuTensorMapEncodeTiledMemref", cuTensorMapEncodeTiled, &map,
                 int(dataType), unsigned(rank), address, geometry.globalDim,
                 geometry.globalStrides, geometry.boxDim,
                 geometry.elementStrides, int(interleave), int(swizzle),
                 int(l2Promotion), int(oobFill)))
    return nullptr;
  std::lock_guard<std::mutex> lock(s.cacheMutex);
  if (!allocateTensorMapSlots(s))
    return nullptr;
  TensorMapCache::Slot slot = s.tensorMaps.lookup(map);
  CUdeviceptr copy = s.tensorMapSlots + slot.index * sizeof(TensorMap);
  if (!slot.upload)
    return reinterpret_cast<void *>(copy);
  // Starting over: kernels launched earlier may still read any slot.
  if (slot.flush &&
      !ATTN_CALL("mgpuTensorMapEncodeTiledMemref", cuCtxSynchronize))
    return nullptr;
  // cuMemcpyHtoD may return before its DMA lands (pageable source), and
  // streams of compiled code do not wait for the legacy stream: wait for it.
  if (!ATTN_CALL("mgpuTensorMapEncodeTiledMemref", cuMemcpyHtoD, copy, &map,
                 sizeof(map)) ||
      !ATTN_CALL("mgpuTensorMapEncodeTiledMemref", cuStreamSynchronize,
                 nullptr)) {
    s.tensorMaps.clear();
    return nullptr;
  }
  return reinterpret_cast<void *>(copy);
}
