//===- PatternClassifyTest.cpp - classify against brute-force isLive ------===//
//
// For every sample of every pattern attribute, every block of a grid of small
// position ranges (negative and past-the-end positions included) is classified
// and checked against isLive on each of its pairs: Full must mean every pair
// is live, Empty that none is. With lengths unknown to the classifier, the
// answer must hold for every length tried.
//
//===----------------------------------------------------------------------===//
#include "PatternTestUtils.h"

#include "gtest/gtest.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

namespace {

/// Counts live pairs of a block by brute force.
struct BlockCount {
  int64_t live = 0, total = 0;
};

BlockCount countLive(PatternAttrInterface p, PositionRange q, PositionRange k,
                     int64_t nq, int64_t nk) {
  BlockCount count;
  for (int64_t i = q.begin; i < q.end; ++i)
    for (int64_t j = k.begin; j < k.end; ++j) {
      count.live += p.isLive(i, j, nq, nk);
      ++count.total;
    }
  return count;
}

/// Every block with a start in [-2, n + 1] and a size in [1, 4].
std::vector<PositionRange> blocksFor(int64_t n) {
  std::vector<PositionRange> blocks;
  for (int64_t begin = -2; begin <= n + 1; ++begin)
    for (int64_t size = 1; size <= 4; ++size)
      blocks.push_back({begin, begin + size});
  return blocks;
}

/// Returns the failure text of one classifier answer, or "" when sound.
std::string checkSound(BlockKind kind, BlockCount count) {
  if (kind == BlockKind::Full && count.live != count.total)
    return "Full but " + std::to_string(count.total - count.live) + " dead";
  if (kind == BlockKind::Empty && count.live != 0)
    return "Empty but " + std::to_string(count.live) + " live";
  return "";
}

const int64_t kLengths[] = {1, 2, 3, 5, 7, 8};

TEST(PatternClassify, EveryPatternAttributeIsSampled) {
  auto ctx = makeContext();
  llvm::DenseSet<TypeID> sampled;
  for (PatternAttrInterface p : samplePatterns(ctx.get()))
    sampled.insert(p.getTypeID());
  std::vector<TypeID> registered = registeredPatternTypeIds(ctx.get());
  EXPECT_GE(registered.size(), 13u);
  for (TypeID id : registered)
    EXPECT_TRUE(sampled.contains(id))
        << AbstractAttribute::lookup(id, ctx.get()).getName().str()
        << " has no sample in samplePatterns: add one";
}

TEST(PatternClassify, SoundWithKnownLengths) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : samplePatterns(ctx.get()))
    for (int64_t nq : kLengths)
      for (int64_t nk : kLengths)
        for (PositionRange q : blocksFor(nq))
          for (PositionRange k : blocksFor(nk)) {
            BlockKind kind = p.classify(q, k, nq, nk);
            std::string error = checkSound(kind, countLive(p, q, k, nq, nk));
            ASSERT_EQ(error, "")
                << show(p) << " nq=" << nq << " nk=" << nk << " q=[" << q.begin
                << "," << q.end << ") k=[" << k.begin << "," << k.end << ")";
          }
}

TEST(PatternClassify, SoundWithUnknownLengths) {
  auto ctx = makeContext();
  int64_t dyn = ShapedType::kDynamic;
  for (PatternAttrInterface p : samplePatterns(ctx.get()))
    for (PositionRange q : blocksFor(6))
      for (PositionRange k : blocksFor(6)) {
        BlockKind kind = p.classify(q, k, dyn, dyn);
        for (int64_t nq : kLengths)
          for (int64_t nk : kLengths) {
            std::string error = checkSound(kind, countLive(p, q, k, nq, nk));
            ASSERT_EQ(error, "")
                << show(p) << " (lengths unknown to classify) nq=" << nq
                << " nk=" << nk << " q=[" << q.begin << "," << q.end << ") k=["
                << k.begin << "," << k.end << ")";
          }
      }
}

TEST(PatternClassify, SinglePairsAreExact) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : samplePatterns(ctx.get()))
    for (int64_t i = -2; i < 8; ++i)
      for (int64_t j = -2; j < 8; ++j) {
        BlockKind kind = classifyBlock(p, {i, i + 1}, {j, j + 1}, 6, 7);
        BlockKind want =
            p.isLive(i, j, 6, 7) ? BlockKind::Full : BlockKind::Empty;
        ASSERT_EQ(kind, want) << show(p) << " i=" << i << " j=" << j;
      }
}

/// Neighbourhood blocks as a tiler makes them: runs of consecutive positions
/// that span several grid rows (and slabs of a 3-D grid), up to past the end.
TEST(PatternClassify, NeighborhoodSoundOnMultiRowBlocks) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  NeighborhoodAttr samples[] = {
      NeighborhoodAttr::get(c, {5, 6}, {3, 3}),
      NeighborhoodAttr::get(c, {4, 7}, {4, 2}),
      NeighborhoodAttr::get(c, {3, 4, 5}, {3, 1, 5}),
      NeighborhoodAttr::get(c, {2, 3, 4}, {1, 2, 3}),
      NeighborhoodAttr::get(c, {40}, {9}),
  };
  int64_t decided = 0;
  for (NeighborhoodAttr p : samples) {
    int64_t cells = p.getNumCells();
    for (int64_t qBegin = -3; qBegin <= cells; ++qBegin)
      for (int64_t qSize : {1, 2, 5, 8, 13})
        for (int64_t kBegin = -3; kBegin <= cells; kBegin += 2)
          for (int64_t kSize : {1, 3, 6, 8, 13}) {
            PositionRange q{qBegin, qBegin + qSize}, k{kBegin, kBegin + kSize};
            BlockKind kind = p.classify(q, k, cells, cells);
            decided += kind != BlockKind::Partial;
            std::string error =
                checkSound(kind, countLive(p, q, k, cells, cells));
            ASSERT_EQ(error, "") << show(p) << " q=[" << q.begin << ","
                                 << q.end << ") k=[" << k.begin << ","
                                 << k.end << ")";
          }
  }
  EXPECT_GT(decided, 0);
}

/// The classifier is useful, not just sound: these blocks must be decided.
TEST(PatternClassify, DecidesTheBlocksATilerRelyOn) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  int64_t n = 256;
  auto causal = CausalAttr::get(c, 0, false);
  EXPECT_EQ(causal.classify({64, 128}, {0, 64}, n, n), BlockKind::Full);
  EXPECT_EQ(causal.classify({0, 64}, {64, 128}, n, n), BlockKind::Empty);
  EXPECT_EQ(causal.classify({64, 128}, {64, 128}, n, n), BlockKind::Partial);
  auto bottomRight = CausalAttr::get(c, 0, true);
  EXPECT_EQ(bottomRight.classify({0, 64}, {0, 64}, 64, 128), BlockKind::Full);
  EXPECT_EQ(causal.classify({0, 64}, {0, 64}, 64, 128), BlockKind::Partial);
  auto window = WindowAttr::get(c, 64, 0);
  EXPECT_EQ(window.classify({128, 192}, {0, 64}, n, n), BlockKind::Empty);
  auto blockLocal = BlockLocalAttr::get(c, 64);
  EXPECT_EQ(blockLocal.classify({64, 128}, {64, 128}, n, n), BlockKind::Full);
  EXPECT_EQ(blockLocal.classify({64, 128}, {0, 64}, n, n), BlockKind::Empty);
  auto global = GlobalAttr::get(c, {}, 64);
  EXPECT_EQ(global.classify({128, 192}, {0, 64}, n, n), BlockKind::Full);
  EXPECT_EQ(global.classify({128, 192}, {64, 128}, n, n), BlockKind::Empty);
  auto fixed = FixedAttr::get(c, 128, 64);
  EXPECT_EQ(fixed.classify({0, 64}, {64, 128}, n, n), BlockKind::Full);
  EXPECT_EQ(fixed.classify({0, 64}, {0, 64}, n, n), BlockKind::Empty);
  auto random = RandomAttr::get(c, 64, 1, 7);
  int64_t fullBlocks = 0;
  for (int64_t kb = 0; kb < 4; ++kb) {
    BlockKind kind = random.classify({0, 64}, {kb * 64, kb * 64 + 64}, n, n);
    EXPECT_NE(kind, BlockKind::Partial);
    fullBlocks += kind == BlockKind::Full;
  }
  EXPECT_EQ(fullBlocks, 1);
  auto axial = AxialAttr::get(c, 16, 16);
  EXPECT_EQ(axial.classify({16, 32}, {16, 32}, n, n), BlockKind::Full);
  auto strided = StridedAttr::get(c, 8);
  EXPECT_EQ(strided.classify({9, 10}, {2, 8}, n, n), BlockKind::Empty);
  auto sink = SinkAttr::get(c, {}, 64);
  EXPECT_EQ(sink.classify({128, 192}, {0, 64}, n, n), BlockKind::Full);
  EXPECT_EQ(sink.classify({0, 64}, {64, 128}, n, n), BlockKind::Empty);
  // 7 x 7 neighbourhoods on a 16 x 16 image, tiles of one row: rows more
  // than 3 apart (6 near the edges) are Empty, rows 0 .. 6 see all of row 3.
  auto natten = NeighborhoodAttr::get(c, {16, 16}, {7, 7});
  EXPECT_EQ(natten.classify({160, 176}, {16, 32}, n, n), BlockKind::Empty);
  EXPECT_EQ(natten.classify({160, 176}, {112, 128}, n, n), BlockKind::Partial);
  EXPECT_EQ(natten.classify({0, 16}, {112, 128}, n, n), BlockKind::Empty);
  EXPECT_EQ(natten.classify({0, 3}, {48, 51}, n, n), BlockKind::Full);
  auto natten1d = NeighborhoodAttr::get(c, {256}, {65});
  EXPECT_EQ(natten1d.classify({128, 136}, {103, 161}, n, n), BlockKind::Full);
  EXPECT_EQ(natten1d.classify({0, 8}, {64, 72}, n, n), BlockKind::Partial);
  EXPECT_EQ(natten1d.classify({0, 8}, {72, 80}, n, n), BlockKind::Empty);
}

} // namespace

namespace {
/// Whether the box q x k holds a live pair and whether all its pairs are.
std::pair<bool, bool> liveness(PatternAttrInterface p, PositionRange q,
                               PositionRange k, int64_t nq, int64_t nk) {
  bool any = false, all = true;
  for (int64_t i = q.begin; i < q.end; ++i)
    for (int64_t j = k.begin; j < k.end; ++j) {
      bool live = p.isLive(i, j, nq, nk);
      any |= live;
      all &= live;
    }
  return {any, all};
}
} // namespace

/// With the lengths known, random classifies every box exactly: Full when
/// every pair is live, Empty when none is, Partial only when both occur.
TEST(PatternClassify, RandomIsExactWithKnownLengths) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  for (int64_t block : {1, 2, 3, 4})
    for (int64_t perRow : {0, 1, 2, 3, 7})
      for (int64_t seed : {0, 5, -9}) {
        auto random = RandomAttr::get(c, block, perRow, seed);
        for (int64_t nk : {0, 1, 5, 9, 16}) {
          int64_t nq = 10;
          for (int64_t qb = -3; qb < nq + 2; qb += 2)
            for (int64_t qs : {1, 2, 5, 9})
              for (int64_t kb = -3; kb < nk + 2; ++kb)
                for (int64_t ks : {1, 2, 3, 6, 12}) {
                  PositionRange q{qb, qb + qs}, k{kb, kb + ks};
                  auto [any, all] = liveness(random, q, k, nq, nk);
                  BlockKind want = !any  ? BlockKind::Empty
                                   : all ? BlockKind::Full
                                         : BlockKind::Partial;
                  ASSERT_EQ(random.classify(q, k, nq, nk), want)
                      << show(random) << " nk=" << nk << " q=[" << q.begin
                      << "," << q.last() << "] k=[" << k.begin << ","
                      << k.last() << "]";
                }
        }
      }
}

/// BigBird's random blocks at the tile sizes of the CPU (64) and the GPU
/// (128 query rows) core: every tile is decided, none is Partial.
TEST(PatternClassify, RandomDecidesAlignedTiles) {
  auto ctx = makeContext();
  auto random = RandomAttr::get(ctx.get(), 64, 3, 11);
  int64_t n = 640;
  for (int64_t qTile : {64, 128})
    for (int64_t q = 0; q < n; q += qTile)
      for (int64_t k = 0; k < n; k += 64) {
        BlockKind kind = random.classify({q, q + qTile}, {k, k + 64}, n, n);
        if (qTile == 64)
          ASSERT_NE(kind, BlockKind::Partial) << "q=" << q << " k=" << k;
        auto [any, all] =
            liveness(random, {q, q + qTile}, {k, k + 64}, n, n);
        ASSERT_EQ(kind, !any  ? BlockKind::Empty
                        : all ? BlockKind::Full
                              : BlockKind::Partial);
      }
}
