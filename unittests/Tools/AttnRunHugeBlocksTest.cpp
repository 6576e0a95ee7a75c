//===- AttnRunHugeBlocksTest.cpp - attn-run's huge-page block reuse --------===//
//
// attn-run's malloc and free for compiled code (tools/attn-run/RuntimeHooks.cpp)
// keep freed blocks of 32 MiB or more for the next allocation of the same
// padded size. These tests take the hooks from the symbol table the JIT gets.
//
//===----------------------------------------------------------------------===//
#include "RuntimeHooks.h"

#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/SelfExecutorProcessControl.h"
#include "llvm/IR/DataLayout.h"

#include "gtest/gtest.h"

#include <cstring>
#include <malloc.h>

namespace {

using MallocFn = void *(*)(size_t);
using ReallocFn = void *(*)(void *, size_t);
using FreeFn = void (*)(void *);

struct Hooks {
  MallocFn malloc = nullptr;
  ReallocFn realloc = nullptr;
  FreeFn free = nullptr;
};

Hooks getHooks() {
  llvm::orc::ExecutionSession session(
      llvm::cantFail(llvm::orc::SelfExecutorProcessControl::Create()));
  llvm::DataLayout layout("e-m:e-i64:64-n8:16:32:64-S128");
  llvm::orc::MangleAndInterner interner(session, layout);
  llvm::orc::SymbolMap symbols = attn_run::getRuntimeHooks(interner);
  Hooks hooks;
  hooks.malloc = symbols[interner("malloc")].getAddress().toPtr<MallocFn>();
  hooks.realloc = symbols[interner("realloc")].getAddress().toPtr<ReallocFn>();
  hooks.free = symbols[interner("free")].getAddress().toPtr<FreeFn>();
  llvm::cantFail(session.endSession());
  return hooks;
}

constexpr size_t kMiB = size_t(1) << 20;

TEST(AttnRunHugeBlocks, FreedBlockIsReusedOnceForTheSamePaddedSize) {
  Hooks h = getHooks();
  char *a = static_cast<char *>(h.malloc(40 * kMiB));
  ASSERT_NE(a, nullptr);
  EXPECT_GE(malloc_usable_size(a), 40 * kMiB);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % (2 * kMiB), 0u);
  std::memset(a, 7, 40 * kMiB);
  h.free(a);
  // 39 MiB + 1 byte pads to the same 40 MiB: the cached block comes back.
  char *b = static_cast<char *>(h.malloc(39 * kMiB + 1));
  EXPECT_EQ(b, a);
  // It is in use now: the next block is another one.
  char *c = static_cast<char *>(h.malloc(40 * kMiB));
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c, b);
  // A different padded size does not take a cached block of another size.
  h.free(c);
  char *d = static_cast<char *>(h.malloc(64 * kMiB));
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d, c);
  std::memset(d, 1, 64 * kMiB);
  h.free(b);
  h.free(d);
}

TEST(AttnRunHugeBlocks, ReallocatedBlockLeavesTheCache) {
  Hooks h = getHooks();
  char *a = static_cast<char *>(h.malloc(48 * kMiB));
  ASSERT_NE(a, nullptr);
  std::memset(a, 3, 48 * kMiB);
  char *b = static_cast<char *>(h.realloc(a, 1024));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b[1023], 3);
  h.free(b);
  // The C library owns the block now (it may have shrunk it in place): it is
  // not kept as a 48 MiB block, so the next one has room for 48 MiB.
  char *c = static_cast<char *>(h.malloc(48 * kMiB));
  ASSERT_NE(c, nullptr);
  EXPECT_GE(malloc_usable_size(c), 48 * kMiB);
  std::memset(c, 5, 48 * kMiB);
  h.free(c);
}

TEST(AttnRunHugeBlocks, ResultBlockFreedByTheRunnerIsReused) {
  Hooks h = getHooks();
  void *result = h.malloc(33 * kMiB);
  ASSERT_NE(result, nullptr);
  attn_run::freeCompiledBlock(result);
  void *next = h.malloc(34 * kMiB); // the same 34 MiB padded size
  EXPECT_EQ(next, result);
  h.free(next);
  // Small blocks go to the C library as before.
  void *small = h.malloc(1024);
  ASSERT_NE(small, nullptr);
  h.free(small);
}

} // namespace
