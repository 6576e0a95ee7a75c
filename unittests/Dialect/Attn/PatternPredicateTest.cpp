//===- PatternPredicateTest.cpp - buildIsLive against isLive --------------===//
//
// The IR that buildIsLive emits is evaluated by folding each of its ops on
// constant inputs, and must equal isLive everywhere on a grid of positions
// and lengths. Scalar predicates are also checked against the definitions of
// docs/Semantics.md §3 written out independently here.
//
//===----------------------------------------------------------------------===//
#include "PatternTestUtils.h"

#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

namespace {

TEST(PatternPredicate, BuiltIREqualsIsLive) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : samplePatterns(ctx.get())) {
    BuiltPredicate built(p);
    for (int64_t nq : {1, 4, 7})
      for (int64_t nk : {1, 5, 9})
        for (int64_t i = -3; i <= 10; ++i)
          for (int64_t j = -3; j <= 10; ++j) {
            std::optional<bool> value = built.evaluate(i, j, nq, nk);
            ASSERT_TRUE(value.has_value())
                << show(p) << ": the built predicate did not fold";
            ASSERT_EQ(*value, p.isLive(i, j, nq, nk))
                << show(p) << " i=" << i << " j=" << j << " nq=" << nq
                << " nk=" << nk;
          }
  }
}

TEST(PatternPredicate, FloorAndModAreMathematical) {
  EXPECT_EQ(floorDiv(-1, 4), -1);
  EXPECT_EQ(floorDiv(-4, 4), -1);
  EXPECT_EQ(floorDiv(-5, 4), -2);
  EXPECT_EQ(floorDiv(7, 4), 1);
  EXPECT_EQ(floorMod(-1, 4), 3);
  EXPECT_EQ(floorMod(-4, 4), 0);
  EXPECT_EQ(floorMod(9, 4), 1);
}

TEST(PatternPredicate, Splitmix64MatchesTheReferenceSequence) {
  // The first outputs of the splitmix64 generator seeded with 0 are
  // splitmix64(0), splitmix64(golden), ... (published test vectors).
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(0x9E3779B97F4A7C15ULL), 0x6E789E6AA1B965F4ULL);
}

TEST(PatternPredicate, TableDefinitions) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  for (int64_t i = -6; i < 12; ++i)
    for (int64_t j = -6; j < 12; ++j) {
      int64_t nq = 5, nk = 9;
      EXPECT_EQ(CausalAttr::get(c, 1, true).isLive(i, j, nq, nk),
                j <= i + 1 + nk - nq);
      EXPECT_EQ(DilatedAttr::get(c, 2, 1, 3).isLive(i, j, nq, nk),
                i - 6 <= j && j <= i + 3 && ((i - j) % 3 + 3) % 3 == 0);
      EXPECT_EQ(BlockLocalAttr::get(c, 4).isLive(i, j, nq, nk),
                (i + 64) / 4 == (j + 64) / 4);
      EXPECT_EQ(FixedAttr::get(c, 4, 1).isLive(i, j, nq, nk),
                ((j % 4) + 4) % 4 == 3);
      EXPECT_EQ(AxialAttr::get(c, 2, 3).isLive(i, j, nq, nk),
                i >= 0 && j >= 0 && i < 6 && j < 6 &&
                    (i / 3 == j / 3 || i % 3 == j % 3));
      bool globalI = i == 7 || (i >= 0 && i < 2);
      bool globalJ = j == 7 || (j >= 0 && j < 2);
      EXPECT_EQ(GlobalAttr::get(c, {7}, 2).isLive(i, j, nq, nk),
                globalI || globalJ);
    }
}

TEST(PatternPredicate, RandomPicksPerRowBlocks) {
  auto ctx = makeContext();
  for (int64_t perRow : {0, 1, 2, 5}) {
    auto random = RandomAttr::get(ctx.get(), 4, perRow, 123);
    int64_t nk = 30, numBlocks = 8;
    for (int64_t qb = -1; qb < 5; ++qb) {
      int64_t chosen = 0;
      for (int64_t kb = 0; kb < numBlocks; ++kb)
        chosen += random.isLive(qb * 4, kb * 4, 16, nk);
      EXPECT_EQ(chosen, std::min(perRow, numBlocks)) << "qb=" << qb;
      EXPECT_FALSE(random.isLive(qb * 4, numBlocks * 4, 16, nk));
      EXPECT_FALSE(random.isLive(qb * 4, -1, 16, nk));
    }
  }
}

} // namespace

namespace {

/// An empty union or intersection cannot be written in text (the parser
/// rejects `<[]>`), so its verifier is reached through the C++ API.
TEST(PatternVerifier, EmptyUnionAndIntersectAreRejected) {
  auto ctx = makeContext();
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler(ctx.get(), [&](Diagnostic &diag) {
    messages.push_back(diag.str());
    return success();
  });
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(ctx.get())); };
  EXPECT_FALSE(UnionAttr::getChecked(emitError, ctx.get(), {}));
  EXPECT_FALSE(IntersectAttr::getChecked(emitError, ctx.get(), {}));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], "#attn.union needs at least one part, but got none");
  EXPECT_EQ(messages[1],
            "#attn.intersect needs at least one part, but got none");
}

} // namespace
