//===- RuntimeHooks.cpp - C library functions for compiled code -----------===//
//
// The compiled code calls the C library for its buffers (malloc) and for a
// failed cf.assert (puts of the message, then abort). The JIT resolves these
// names to the functions below instead: an allocation that fails is an
// `attn-run: error:` with exit code 1 (not a SIGSEGV in the first store), and
// a failed run-time check prints its message to stderr and exits with
// kExitRuntimeCheck (not SIGABRT and a stack dump). The allocation functions
// and free also count the bytes that the code holds (`attn-run --profile`).
//
//===----------------------------------------------------------------------===//
#include "RuntimeHooks.h"
#include "ExitCodes.h"

#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace attn_run;
using llvm::StringRef;

namespace {
/// The message of the last `puts` of the compiled code, held back until the
/// next `puts`, the end of the call or an `abort` (which makes it the message
/// of a failed cf.assert).
struct PendingMessage {
  std::string text;
  bool present = false;
};
} // namespace

static PendingMessage pendingMessage;

namespace {
/// One allocation (bytes > 0) or release (bytes < 0) of a block.
struct AllocationEvent {
  void *pointer;
  int64_t bytes;
};
} // namespace

static std::atomic<bool> logging{false};
static std::mutex logMutex;
static std::vector<AllocationEvent> allocationLog;

void attn_run::startAllocationLog() {
  std::lock_guard<std::mutex> lock(logMutex);
  allocationLog.clear();
  logging = true;
}

AllocationStats attn_run::stopAllocationLog() {
  std::lock_guard<std::mutex> lock(logMutex);
  logging = false;
  // Backwards: an allocation survives when no release of its pointer
  // follows it.
  std::vector<bool> survives(allocationLog.size());
  std::unordered_set<void *> releasedLater;
  for (size_t i = allocationLog.size(); i-- > 0;) {
    const AllocationEvent &event = allocationLog[i];
    if (event.bytes < 0)
      releasedLater.insert(event.pointer);
    else
      survives[i] = !releasedLater.erase(event.pointer);
  }
  AllocationStats stats;
  int64_t live = 0, liveTemporary = 0;
  std::unordered_map<void *, int64_t> temporarySize;
  for (size_t i = 0, e = allocationLog.size(); i < e; ++i) {
    const AllocationEvent &event = allocationLog[i];
    live += event.bytes;
    stats.peakBytes = std::max(stats.peakBytes, live);
    if (event.bytes > 0) {
      ++stats.allocations;
      if (survives[i])
        continue;
      temporarySize[event.pointer] = event.bytes;
      liveTemporary += event.bytes;
      stats.peakTemporaryBytes =
          std::max(stats.peakTemporaryBytes, liveTemporary);
    } else if (auto it = temporarySize.find(event.pointer);
               it != temporarySize.end()) {
      liveTemporary -= it->second;
      temporarySize.erase(it);
    }
  }
  stats.resultBytes = live;
  allocationLog.clear();
  allocationLog.shrink_to_fit();
  return stats;
}

/// Records the block at `pointer` (null: nothing) as held.
static void countAllocation(void *pointer) {
  if (!pointer || !logging.load(std::memory_order_relaxed))
    return;
  int64_t bytes = int64_t(malloc_usable_size(pointer));
  std::lock_guard<std::mutex> lock(logMutex);
  allocationLog.push_back({pointer, bytes});
}

/// Records the block at `pointer` (null: nothing) as released; call before
/// the block is freed.
static void countRelease(void *pointer) {
  if (!pointer || !logging.load(std::memory_order_relaxed))
    return;
  int64_t bytes = int64_t(malloc_usable_size(pointer));
  std::lock_guard<std::mutex> lock(logMutex);
  allocationLog.push_back({pointer, -bytes});
}

void attn_run::flushRuntimeOutput() {
  if (!pendingMessage.present)
    return;
  pendingMessage.present = false;
  std::fputs(pendingMessage.text.c_str(), stdout);
  std::fputc('\n', stdout);
}

[[noreturn]] static void exitWith(int code) {
  llvm::outs().flush();
  llvm::errs().flush();
  std::fflush(stdout);
  std::fflush(stderr);
  // The compiled code is still on the stack: leave without running static
  // destructors.
  std::_Exit(code);
}

[[noreturn]] static void failAllocation(std::optional<uint64_t> size) {
  auto &os = llvm::WithColor::error(llvm::errs(), "attn-run")
             << "out of memory: the compiled code could not allocate ";
  if (size)
    os << *size << " bytes\n";
  else
    os << "a buffer of 2^63 bytes or more (its size, a product of dims, "
          "overflows)\n";
  exitWith(kExitError);
}

/// No allocation can hold 2^63 bytes or more: such a size comes from a
/// product that overflowed the compiled code's signed arithmetic.
static bool isOverflowedSize(uint64_t size) {
  return size > uint64_t(INT64_MAX);
}

/// Blocks of at least this many bytes (a large result or temporary) are
/// asked to live on transparent huge pages: their first touch then costs one
/// fault and one clear per 2 MiB instead of per 4 KiB page.
static constexpr size_t kHugeBlockBytes = size_t(32) << 20;
static constexpr size_t kHugePageBytes = size_t(2) << 20;

/// A block of `size` bytes from the C library (so that free releases it),
/// aligned to and padded to whole huge pages, with madvise(MADV_HUGEPAGE)
/// (transparent huge pages in `madvise` mode take only such ranges; where the
/// kernel refuses, the block stays on small pages).
static void *allocateOnHugePages(size_t padded) {
  void *pointer = std::aligned_alloc(kHugePageBytes, padded);
  if (pointer)
    (void)madvise(pointer, padded, MADV_HUGEPAGE);
  return pointer;
}

/// At most this many bytes of freed huge-page blocks are kept for reuse.
static constexpr size_t kHugeCacheBytes = size_t(1) << 30;

namespace {
/// The huge-page blocks of the compiled code: those in use (by padded size)
/// and those freed and kept for the next allocation of the same padded size.
/// glibc keeps freed blocks below its mmap threshold (32 MiB at most) in its
/// heap, so a call's smaller buffers come back without page faults in the
/// next call; blocks of 32 MiB or more are mmapped afresh by every call, and
/// every page of them faults and is cleared again (at lsh N = 65536, about
/// 200 MiB per call; the host may have taken the freed pages back, which
/// makes the faults slow and their cost vary between runs). The cache gives
/// the large blocks the same reuse.
struct HugeBlocks {
  std::mutex mutex;
  std::unordered_map<void *, size_t> inUse;
  std::unordered_multimap<size_t, void *> cached;
  size_t cachedBytes = 0;
};
} // namespace

static HugeBlocks &hugeBlocks() {
  static HugeBlocks *blocks = new HugeBlocks; // never destroyed: exit frees
  return *blocks;
}

/// A huge-page block of at least `size` bytes: a cached one of the same
/// padded size, else a new one (where that fails, the kept blocks are freed
/// and it is tried once more).
static void *allocateHugeBlock(size_t size) {
  size_t padded = (size + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  HugeBlocks &blocks = hugeBlocks();
  std::lock_guard<std::mutex> lock(blocks.mutex);
  void *pointer = nullptr;
  if (auto it = blocks.cached.find(padded); it != blocks.cached.end()) {
    pointer = it->second;
    blocks.cached.erase(it);
    blocks.cachedBytes -= padded;
  } else {
    pointer = allocateOnHugePages(padded);
    if (!pointer && !blocks.cached.empty()) {
      // Out of memory: give the kept blocks back and try once more.
      for (auto &[bytes, block] : blocks.cached)
        std::free(block);
      blocks.cached.clear();
      blocks.cachedBytes = 0;
      pointer = allocateOnHugePages(padded);
    }
  }
  if (pointer)
    blocks.inUse[pointer] = padded;
  return pointer;
}

/// Whether `pointer` can be a huge-page block: those are aligned to a huge
/// page, which spares the lock and the lookup for every ordinary free.
static bool mayBeHugeBlock(void *pointer) {
  return pointer &&
         (reinterpret_cast<uintptr_t>(pointer) & (kHugePageBytes - 1)) == 0;
}

void attn_run::freeCompiledBlock(void *pointer) {
  if (mayBeHugeBlock(pointer)) {
    HugeBlocks &blocks = hugeBlocks();
    std::lock_guard<std::mutex> lock(blocks.mutex);
    if (auto it = blocks.inUse.find(pointer); it != blocks.inUse.end()) {
      size_t padded = it->second;
      blocks.inUse.erase(it);
      if (blocks.cachedBytes + padded <= kHugeCacheBytes) {
        blocks.cached.emplace(padded, pointer);
        blocks.cachedBytes += padded;
        return;
      }
    }
  }
  std::free(pointer);
}

extern "C" {
static void attnRunCheckAllocationSize(uint64_t overflowed) {
  if (overflowed)
    failAllocation(std::nullopt);
}

static void *attnRunMalloc(size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  void *pointer =
      size >= kHugeBlockBytes ? allocateHugeBlock(size) : std::malloc(size);
  if (!pointer && size)
    failAllocation(size);
  countAllocation(pointer);
  return pointer;
}

static void *attnRunCalloc(size_t count, size_t size) {
  uint64_t bytes;
  if (__builtin_mul_overflow(uint64_t(count), uint64_t(size), &bytes) ||
      isOverflowedSize(bytes))
    failAllocation(std::nullopt);
  void *pointer = std::calloc(count, size);
  if (!pointer && bytes)
    failAllocation(bytes);
  countAllocation(pointer);
  return pointer;
}

static void *attnRunRealloc(void *old, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  // Recorded as a release and an allocation (a failed realloc exits).
  countRelease(old);
  if (mayBeHugeBlock(old)) { // a huge-page block becomes an ordinary one
    HugeBlocks &blocks = hugeBlocks();
    std::lock_guard<std::mutex> lock(blocks.mutex);
    blocks.inUse.erase(old);
  }
  void *pointer = std::realloc(old, size);
  if (!pointer && size)
    failAllocation(size);
  countAllocation(pointer);
  return pointer;
}

static void *attnRunAlignedAlloc(size_t alignment, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  void *pointer = std::aligned_alloc(alignment, size);
  if (!pointer && size)
    failAllocation(size);
  countAllocation(pointer);
  return pointer;
}

static int attnRunPosixMemalign(void **result, size_t alignment, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  int status = posix_memalign(result, alignment, size);
  if (status == ENOMEM)
    failAllocation(size);
  if (status == 0)
    countAllocation(*result);
  return status;
}

static void attnRunFree(void *pointer) {
  countRelease(pointer);
  freeCompiledBlock(pointer);
}

static int attnRunPuts(const char *message) {
  flushRuntimeOutput();
  pendingMessage.text = message;
  pendingMessage.present = true;
  return 0;
}

[[noreturn]] static void attnRunAbort() {
  auto &os = llvm::WithColor::error(llvm::errs(), "attn-run");
  if (pendingMessage.present)
    os << "a run-time check of the compiled code failed: "
       << pendingMessage.text << "\n";
  else
    os << "the compiled code aborted\n";
  exitWith(kExitRuntimeCheck);
}
} // extern "C"

llvm::orc::SymbolMap
attn_run::getRuntimeHooks(llvm::orc::MangleAndInterner interner) {
  llvm::orc::SymbolMap symbols;
  auto add = [&](StringRef name, auto *function) {
    symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                               llvm::JITSymbolFlags::Exported};
  };
  add(kCheckAllocationSize, &attnRunCheckAllocationSize);
  add("malloc", &attnRunMalloc);
  add("calloc", &attnRunCalloc);
  add("realloc", &attnRunRealloc);
  add("aligned_alloc", &attnRunAlignedAlloc);
  add("posix_memalign", &attnRunPosixMemalign);
  add("free", &attnRunFree);
  add("memrefCopy", &attnRunMemrefCopy);
  add("puts", &attnRunPuts);
  add("abort", &attnRunAbort);
  return symbols;
}
