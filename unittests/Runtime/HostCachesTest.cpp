//===- HostCachesTest.cpp - Tensor map cache and stream reuse -------------===//
//
// The bookkeeping that lets compiled CUDA calls reuse the device copies of
// their tensor maps and their streams (runtime/HostCaches.h), without a GPU.
//
//===----------------------------------------------------------------------===//
#include "HostCaches.h"

#include "gtest/gtest.h"

#include <set>

namespace {

using attn::runtime::ReusePool;
using attn::runtime::TensorMapBytes;
using attn::runtime::TensorMapCache;
using attn::runtime::TensorMapGeometry;

TensorMapBytes makeMap(uint64_t address, uint64_t rows) {
  TensorMapBytes map{};
  map.words[0] = address;
  map.words[5] = rows;
  return map;
}

TEST(TensorMapCache, EqualContentFindsItsSlotAgain) {
  TensorMapCache cache(8);
  TensorMapCache::Slot q = cache.lookup(makeMap(0x1000, 1000));
  TensorMapCache::Slot k = cache.lookup(makeMap(0x2000, 1000));
  EXPECT_TRUE(q.upload);
  EXPECT_TRUE(k.upload);
  EXPECT_NE(q.index, k.index);
  // The next call's maps: same content, same slots, nothing to copy.
  TensorMapCache::Slot q2 = cache.lookup(makeMap(0x1000, 1000));
  TensorMapCache::Slot k2 = cache.lookup(makeMap(0x2000, 1000));
  EXPECT_FALSE(q2.upload);
  EXPECT_FALSE(k2.upload);
  EXPECT_EQ(q2.index, q.index);
  EXPECT_EQ(k2.index, k.index);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.hits, 2u);
  EXPECT_EQ(cache.misses, 2u);
}

TEST(TensorMapCache, AnyDifferingWordIsANewMap) {
  TensorMapCache cache(64);
  std::set<size_t> indices;
  for (int word = 0; word < 16; ++word) {
    TensorMapBytes map{};
    map.words[word] = 1;
    TensorMapCache::Slot slot = cache.lookup(map);
    EXPECT_TRUE(slot.upload) << "word " << word;
    indices.insert(slot.index);
  }
  EXPECT_EQ(indices.size(), 16u);
  // Another length of the same buffer is another map.
  EXPECT_TRUE(cache.lookup(makeMap(0x1000, 127)).upload);
  EXPECT_TRUE(cache.lookup(makeMap(0x1000, 4096)).upload);
}

TEST(TensorMapCache, StaysWithinItsSlotsAndStartsOverWhenFull) {
  TensorMapCache cache(4);
  for (uint64_t i = 0; i < 4; ++i) {
    TensorMapCache::Slot slot = cache.lookup(makeMap(i, 1));
    EXPECT_EQ(slot.index, i);
    EXPECT_FALSE(slot.flush);
  }
  // A fifth map: every slot is forgotten, the caller waits and refills 0.
  TensorMapCache::Slot fifth = cache.lookup(makeMap(4, 1));
  EXPECT_TRUE(fifth.upload);
  EXPECT_TRUE(fifth.flush);
  EXPECT_EQ(fifth.index, 0u);
  EXPECT_EQ(cache.size(), 1u);
  // A map of before the flush is new again and never lands on a live slot.
  TensorMapCache::Slot old = cache.lookup(makeMap(0, 1));
  EXPECT_TRUE(old.upload);
  EXPECT_FALSE(old.flush);
  EXPECT_EQ(old.index, 1u);
  // Many distinct maps: never a slot index at or past the capacity.
  for (uint64_t i = 0; i < 1000; ++i)
    EXPECT_LT(cache.lookup(makeMap(100 + i, 2)).index, cache.getCapacity());
  EXPECT_LE(cache.size(), 4u);
  EXPECT_EQ(cache.flushes, 1u + (1000 + 2 - 1) / 4);
}

TEST(TensorMapCache, ClearForgetsEverything) {
  TensorMapCache cache(4);
  cache.lookup(makeMap(1, 1));
  cache.clear();
  TensorMapCache::Slot slot = cache.lookup(makeMap(1, 1));
  EXPECT_TRUE(slot.upload);
  EXPECT_EQ(slot.index, 0u);
}

TEST(ReusePool, HandsBackWhatWasGivenUpToItsLimit) {
  int a, b, c;
  ReusePool<int *> pool(2);
  EXPECT_EQ(pool.take(), nullptr);
  EXPECT_TRUE(pool.give(&a));
  EXPECT_TRUE(pool.give(&b));
  EXPECT_FALSE(pool.give(&c)) << "the caller destroys what does not fit";
  EXPECT_EQ(pool.size(), 2u);
  std::set<int *> taken = {pool.take(), pool.take()};
  EXPECT_EQ(taken, (std::set<int *>{&a, &b}));
  EXPECT_EQ(pool.take(), nullptr);
}

TEST(TensorMapGeometry, InnermostFirstWithByteStrides) {
  // A [2, 16, 1000, 128] bf16 tensor, rows of 128, box [1, 1, 64, 64].
  const int64_t sizes[] = {2, 16, 1000, 128};
  const int64_t strides[] = {16 * 1000 * 128, 1000 * 128, 128, 1};
  const int64_t box[] = {1, 1, 64, 64};
  TensorMapGeometry g(4, sizes, strides, 2, box);
  EXPECT_FALSE(g.empty);
  EXPECT_EQ(g.globalDim[0], 128u);
  EXPECT_EQ(g.globalDim[1], 1000u);
  EXPECT_EQ(g.globalDim[2], 16u);
  EXPECT_EQ(g.globalDim[3], 2u);
  EXPECT_EQ(g.globalStrides[0], 128u * 2);
  EXPECT_EQ(g.globalStrides[1], 1000u * 128 * 2);
  EXPECT_EQ(g.globalStrides[2], 16u * 1000 * 128 * 2);
  EXPECT_EQ(g.boxDim[0], 64u);
  EXPECT_EQ(g.boxDim[1], 64u);
  EXPECT_EQ(g.boxDim[3], 1u);
  for (unsigned s : g.elementStrides)
    if (s)
      EXPECT_EQ(s, 1u);
}

TEST(TensorMapGeometry, EmptyTensorGetsAValidStandIn) {
  // No keys: [1, 2, 0, 64] with the strides a descriptor of it has (zeros
  // above the empty dim), which the driver would reject.
  const int64_t sizes[] = {1, 2, 0, 64};
  const int64_t strides[] = {0, 0, 64, 1};
  const int64_t box[] = {1, 1, 64, 64};
  TensorMapGeometry g(4, sizes, strides, 2, box);
  EXPECT_TRUE(g.empty);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(g.globalDim[i], 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(g.globalStrides[i] % 16, 0u);
    EXPECT_GT(g.globalStrides[i], 0u);
  }
  // The box is kept: the kernel's loads keep their shape.
  EXPECT_EQ(g.boxDim[0], 64u);
  EXPECT_EQ(g.boxDim[1], 64u);
}

} // namespace
