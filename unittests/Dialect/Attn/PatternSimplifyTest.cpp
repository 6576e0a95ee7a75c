//===- PatternSimplifyTest.cpp - simplify against brute-force isLive ------===//
//
// Canonicalization may rewrite a pattern only into one that is live exactly
// where the original is. For every sample pattern (and a few that exercise the
// algebra) and a grid of lengths, the simplified pattern is compared with the
// original on every pair of positions the context allows: with static lengths
// and default positions, the pairs of [0, Nq) x [0, Nk); otherwise every pair
// of a grid that reaches past both ends.
//
//===----------------------------------------------------------------------===//
#include "PatternTestUtils.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

namespace {

const int64_t kLengths[] = {1, 2, 3, 5, 7, 8};
const int64_t kDynamic = ShapedType::kDynamic;

/// Patterns whose canonical form differs from them: nested, merged, absorbed
/// and degenerate parts.
std::vector<PatternAttrInterface> algebraSamples(MLIRContext *ctx) {
  auto window = [&](int64_t l, int64_t r) -> PatternAttrInterface {
    return WindowAttr::get(ctx, l, r);
  };
  auto causal = [&](int64_t offset, bool bottomRight) -> PatternAttrInterface {
    return CausalAttr::get(ctx, offset, bottomRight);
  };
  PatternAttrInterface strided = StridedAttr::get(ctx, 2);
  PatternAttrInterface dense = DenseAttr::get(ctx);
  return {
      UnionAttr::get(ctx, {window(5, -3), window(2, 1)}),
      UnionAttr::get(ctx, {window(-4, 6), causal(-5, false), window(-7, 9),
                           window(4, -2)}),
      UnionAttr::get(ctx, {causal(0, true), window(0, 0), strided}),
      UnionAttr::get(ctx, {causal(-1, true), window(3, -2)}),
      UnionAttr::get(ctx, {UnionAttr::get(ctx, {window(1, 0), strided}),
                           window(0, 2), strided}),
      UnionAttr::get(ctx, {DilatedAttr::get(ctx, 1, 1, 1),
                           BlockLocalAttr::get(ctx, 1), window(2, -2)}),
      IntersectAttr::get(ctx, {causal(0, false), window(3, 3)}),
      IntersectAttr::get(ctx, {causal(2, true), window(1, 4), dense}),
      IntersectAttr::get(ctx, {window(0, 2), causal(-3, false)}),
      IntersectAttr::get(ctx, {IntersectAttr::get(ctx, {strided, dense}),
                               FixedAttr::get(ctx, 2, 2), window(6, 6)}),
      IntersectAttr::get(ctx, {UnionAttr::get(ctx, {window(0, 0), dense}),
                               StridedAttr::get(ctx, 1)}),
      GlobalAttr::get(ctx, {3, 0, 1, 1, 2, 9, -2}, 1),
      GlobalAttr::get(ctx, {4, 4}, 4),
      SinkAttr::get(ctx, {2, 1, 1, 5}, 1),
      UnionAttr::get(ctx, {causal(0, false), SinkAttr::get(ctx, {6}, 0),
                           SinkAttr::get(ctx, {}, 2)}),
      NeighborhoodAttr::get(ctx, {1, 3, 1}, {1, 1, 1}),
      NeighborhoodAttr::get(ctx, {2, 2, 2}, {2, 2, 1}),
      window(9, 9),
      causal(8, false),
      causal(-9, true),
  };
}

/// Returns every sample that the property is checked on.
std::vector<PatternAttrInterface> allSamples(MLIRContext *ctx) {
  std::vector<PatternAttrInterface> samples = samplePatterns(ctx);
  for (PatternAttrInterface p : algebraSamples(ctx))
    samples.push_back(p);
  return samples;
}

/// Returns "" when `simple` is live exactly where `original` is for lengths
/// (nq, nk) on the positions `context` allows, else the first difference.
std::string compare(PatternAttrInterface original, PatternAttrInterface simple,
                    const PatternContext &context, int64_t nq, int64_t nk) {
  bool boundedPositions = context.defaultPositions;
  int64_t iBegin = boundedPositions ? 0 : -4, iEnd = boundedPositions ? nq : 12;
  int64_t jBegin = boundedPositions ? 0 : -4, jEnd = boundedPositions ? nk : 12;
  for (int64_t i = iBegin; i < iEnd; ++i)
    for (int64_t j = jBegin; j < jEnd; ++j)
      if (simple.isLive(i, j, nq, nk) != original.isLive(i, j, nq, nk))
        return show(original) + " simplified to " + show(simple) +
               " differs at i=" + std::to_string(i) +
               " j=" + std::to_string(j) + " nq=" + std::to_string(nq) +
               " nk=" + std::to_string(nk);
  return "";
}

/// Checks `simplifyPattern` and one `simplify` step of every sample in
/// `context`, for every length pair of the grid that the context admits.
void checkLiveSetKept(const PatternContext &context) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : allSamples(ctx.get())) {
    PatternAttrInterface canonical = simplifyPattern(p, context);
    PatternAttrInterface step = p.simplify(context);
    for (int64_t nq : kLengths)
      for (int64_t nk : kLengths) {
        if ((!ShapedType::isDynamic(context.numQueries) &&
             nq != context.numQueries) ||
            (!ShapedType::isDynamic(context.numKeys) && nk != context.numKeys))
          continue;
        ASSERT_EQ(compare(p, canonical, context, nq, nk), "");
        ASSERT_EQ(compare(p, step, context, nq, nk), "") << "(one step)";
      }
  }
}

TEST(PatternSimplify, KeepsTheLiveSetWithEveryPositionKnown) {
  for (int64_t nq : kLengths)
    for (int64_t nk : kLengths)
      checkLiveSetKept({nq, nk, /*defaultPositions=*/true});
}

TEST(PatternSimplify, KeepsTheLiveSetWithStaticLengthsAndPositions) {
  for (int64_t nq : kLengths)
    for (int64_t nk : kLengths)
      checkLiveSetKept({nq, nk, /*defaultPositions=*/false});
}

TEST(PatternSimplify, KeepsTheLiveSetWithDynamicLengths) {
  checkLiveSetKept({kDynamic, kDynamic, /*defaultPositions=*/false});
  checkLiveSetKept({kDynamic, kDynamic, /*defaultPositions=*/true});
  checkLiveSetKept({kDynamic, 5, /*defaultPositions=*/false});
  checkLiveSetKept({3, kDynamic, /*defaultPositions=*/false});
}

/// The property is not vacuous: most algebra samples do simplify.
TEST(PatternSimplify, AlgebraSamplesChange) {
  auto ctx = makeContext();
  PatternContext context{8, 8, /*defaultPositions=*/true};
  std::vector<PatternAttrInterface> samples = algebraSamples(ctx.get());
  size_t changed = llvm::count_if(samples, [&](PatternAttrInterface p) {
    return simplifyPattern(p, context) != p;
  });
  EXPECT_GE(changed, samples.size() - 2);
}

} // namespace
