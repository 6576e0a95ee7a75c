//===- RuntimeHooks.cpp - C library functions for compiled code -----------===//
//
// The compiled code calls the C library for its buffers (malloc) and for a
// failed cf.assert (puts of the message, then abort). The JIT resolves these
// names to the functions below instead: an allocation that fails is an
// `attn-run: error:` with exit code 1 (not a SIGSEGV in the first store), and
// a failed run-time check prints its message to stderr and exits with
// kExitRuntimeCheck (not SIGABRT and a stack dump).
//
//===----------------------------------------------------------------------===//
#include "RuntimeHooks.h"
#include "ExitCodes.h"

#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

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

extern "C" {
static void attnRunCheckAllocationSize(uint64_t overflowed) {
  if (overflowed)
    failAllocation(std::nullopt);
}

static void *attnRunMalloc(size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  void *pointer = std::malloc(size);
  if (!pointer && size)
    failAllocation(size);
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
  return pointer;
}

static void *attnRunRealloc(void *old, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  void *pointer = std::realloc(old, size);
  if (!pointer && size)
    failAllocation(size);
  return pointer;
}

static void *attnRunAlignedAlloc(size_t alignment, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  void *pointer = std::aligned_alloc(alignment, size);
  if (!pointer && size)
    failAllocation(size);
  return pointer;
}

static int attnRunPosixMemalign(void **result, size_t alignment, size_t size) {
  if (isOverflowedSize(size))
    failAllocation(std::nullopt);
  int status = posix_memalign(result, alignment, size);
  if (status == ENOMEM)
    failAllocation(size);
  return status;
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
  add("puts", &attnRunPuts);
  add("abort", &attnRunAbort);
  return symbols;
}
