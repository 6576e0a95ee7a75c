//===- PatternBlockMapTest.cpp - buildClassify and buildKeyIntervals ------===//
//
// The IR that buildClassify and buildKeyIntervals emit is evaluated by
// folding each op on constants. For every sample pattern, buildClassify must
// answer exactly what `classify` answers with the lengths known (and so be
// sound against brute-force isLive), and every live key of a range of
// queries must lie in one of the key intervals.
//
//===----------------------------------------------------------------------===//
#include "PatternTestUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include "gtest/gtest.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

namespace {

/// A function of `numArgs` i64 arguments whose body `build` fills, evaluated
/// by folding.
class BuiltFunction {
public:
  using BodyFn =
      llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

  BuiltFunction(MLIRContext *ctx, unsigned numArgs, BodyFn build) {
    OpBuilder builder(ctx);
    Location loc = UnknownLoc::get(ctx);
    module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    SmallVector<Type> args(numArgs, builder.getI64Type());
    func = func::FuncOp::create(builder, loc, "f",
                                builder.getFunctionType(args, {}));
    Block *body = func.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    SmallVector<Value> results = build(builder, loc, body->getArguments());
    func::ReturnOp::create(builder, loc, results);
    func.setFunctionType(
        builder.getFunctionType(args, TypeRange(ValueRange(results))));
  }

  /// Returns the integer results, or nullopt when some op did not fold.
  std::optional<SmallVector<int64_t>> evaluate(ArrayRef<int64_t> values) {
    Builder b(func.getContext());
    SmallVector<Attribute> args;
    for (int64_t v : values)
      args.push_back(b.getI64IntegerAttr(v));
    std::optional<SmallVector<Attribute>> results =
        foldBlock(func.getBody().front(), args);
    if (!results)
      return std::nullopt;
    SmallVector<int64_t> ints;
    for (Attribute attr : *results) {
      auto value = llvm::dyn_cast_if_present<IntegerAttr>(attr);
      if (!value)
        return std::nullopt;
      ints.push_back(value.getValue().getSExtValue());
    }
    return ints;
  }

private:
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
};

/// buildClassify of `p` over (qFirst, qLast, kFirst, kLast, nq, nk).
BuiltFunction buildClassifyFunction(PatternAttrInterface p) {
  return BuiltFunction(
      p.getContext(), 6, [&](OpBuilder &b, Location loc, ValueRange a) {
        return SmallVector<Value>{
            p.buildClassify(b, loc, a[0], a[1], a[2], a[3], a[4], a[5])};
      });
}

/// buildKeyIntervals of `p` over (qFirst, qLast, nq, nk), flattened to
/// first0, last0, first1, last1, ...
BuiltFunction buildIntervalsFunction(PatternAttrInterface p) {
  return BuiltFunction(
      p.getContext(), 4, [&](OpBuilder &b, Location loc, ValueRange a) {
        SmallVector<Value> flat;
        for (auto [first, last] :
             p.buildKeyIntervals(b, loc, a[0], a[1], a[2], a[3])) {
          flat.push_back(first);
          flat.push_back(last);
        }
        return flat;
      });
}

std::string kindName(int64_t kind) {
  switch (kind) {
  case 0:
    return "Empty";
  case 1:
    return "Full";
  case 2:
    return "Partial";
  }
  return "invalid";
}

/// Blocks with a start in [-2, n + 1] and a size of 1, 2, 3 or 5.
std::vector<PositionRange> blocksFor(int64_t n) {
  std::vector<PositionRange> blocks;
  for (int64_t begin = -2; begin <= n + 1; ++begin)
    for (int64_t size : {1, 2, 3, 5})
      blocks.push_back({begin, begin + size});
  return blocks;
}

const std::pair<int64_t, int64_t> kLengths[] = {
    {1, 1}, {3, 8}, {8, 5}, {7, 7}, {2, 0}};

TEST(PatternBlockMap, BuiltClassifyEqualsClassify) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : samplePatterns(ctx.get())) {
    BuiltFunction built = buildClassifyFunction(p);
    for (auto [nq, nk] : kLengths)
      for (PositionRange q : blocksFor(nq))
        for (PositionRange k : blocksFor(nk)) {
          std::optional<SmallVector<int64_t>> value =
              built.evaluate({q.begin, q.last(), k.begin, k.last(), nq, nk});
          ASSERT_TRUE(value.has_value())
              << show(p) << ": the built classifier did not fold";
          int64_t want = static_cast<int64_t>(p.classify(q, k, nq, nk));
          ASSERT_EQ(kindName(value->front()), kindName(want))
              << show(p) << " nq=" << nq << " nk=" << nk << " q=[" << q.begin
              << "," << q.last() << "] k=[" << k.begin << "," << k.last()
              << "]";
        }
  }
}

TEST(PatternBlockMap, KeyIntervalsHoldEveryLiveKey) {
  auto ctx = makeContext();
  for (PatternAttrInterface p : samplePatterns(ctx.get())) {
    BuiltFunction built = buildIntervalsFunction(p);
    for (auto [nq, nk] : kLengths)
      for (PositionRange q : blocksFor(nq)) {
        std::optional<SmallVector<int64_t>> flat =
            built.evaluate({q.begin, q.last(), nq, nk});
        ASSERT_TRUE(flat.has_value())
            << show(p) << ": the built key intervals did not fold";
        ASSERT_FALSE(flat->empty()) << show(p) << ": no interval";
        for (int64_t i = q.begin; i < q.end; ++i)
          for (int64_t j = -4; j <= nk + 4; ++j) {
            if (!p.isLive(i, j, nq, nk))
              continue;
            bool covered = false;
            for (size_t n = 0; n < flat->size(); n += 2)
              covered |= (*flat)[n] <= j && j <= (*flat)[n + 1];
            ASSERT_TRUE(covered)
                << show(p) << " nq=" << nq << " nk=" << nk << " q=[" << q.begin
                << "," << q.last() << "]: live key " << j << " of query " << i
                << " is in no key interval";
          }
      }
  }
}

/// The intervals a tiler relies on to visit O(live tiles) are tight.
TEST(PatternBlockMap, KeyIntervalsOfBandsAndGlobalsAreTight) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  auto intervals = [&](PatternAttrInterface p, int64_t qFirst, int64_t qLast) {
    return *buildIntervalsFunction(p).evaluate({qFirst, qLast, 100, 100});
  };
  using V = SmallVector<int64_t>;
  EXPECT_EQ(intervals(CausalAttr::get(c, 0, false), 64, 127), V({lo, 127}));
  EXPECT_EQ(intervals(CausalAttr::get(c, 2, true), 10, 19), V({lo, 21}));
  EXPECT_EQ(intervals(WindowAttr::get(c, 8, 2), 64, 127), V({56, 129}));
  EXPECT_EQ(intervals(DilatedAttr::get(c, 2, 1, 3), 10, 12), V({4, 15}));
  EXPECT_EQ(intervals(BlockLocalAttr::get(c, 16), 20, 40), V({16, 47}));
  PatternAttrInterface global = GlobalAttr::get(c, {50, 51, 90}, 4);
  EXPECT_EQ(intervals(global, 10, 20), V({0, 3, 50, 51, 90, 90}));
  EXPECT_EQ(intervals(global, 3, 20), V({lo, hi, 50, 51, 90, 90}));
  EXPECT_EQ(intervals(global, 45, 50), V({lo, hi, 50, 51, 90, 90}));
  EXPECT_EQ(
      intervals(UnionAttr::get(c, {WindowAttr::get(c, 1, 1), global}), 10, 20),
      V({9, 21, 0, 3, 50, 51, 90, 90}));
  EXPECT_EQ(intervals(IntersectAttr::get(c, {CausalAttr::get(c, 0, false),
                                             WindowAttr::get(c, 8, 8)}),
                      64, 127),
            V({56, 127}));
  EXPECT_EQ(intervals(RandomAttr::get(c, 8, 1, 3), 0, 7), V({0, 103}));
}

/// The decisions of the tiler's tests, made at run time on values.
TEST(PatternBlockMap, BuiltClassifyDecidesTiles) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  auto kind = [&](PatternAttrInterface p, PositionRange q, PositionRange k,
                  int64_t nq, int64_t nk) {
    return kindName(
        buildClassifyFunction(p)
            .evaluate({q.begin, q.last(), k.begin, k.last(), nq, nk})
            ->front());
  };
  // Bottom-right causal needs the lengths, which classify cannot know when
  // they are dynamic but the IR always has.
  auto bottomRight = CausalAttr::get(c, 0, true);
  EXPECT_EQ(kind(bottomRight, {0, 64}, {0, 64}, 64, 128), "Full");
  EXPECT_EQ(kind(bottomRight, {0, 64}, {192, 256}, 64, 256), "Partial");
  EXPECT_EQ(kind(bottomRight, {0, 64}, {200, 264}, 64, 128), "Empty");
  auto layout = RankedTensorType::get({2, 2}, IntegerType::get(c, 1));
  auto sparse = BlockSparseAttr::get(
      c, {4, 4},
      DenseIntElementsAttr::get(layout,
                                ArrayRef<bool>{true, false, true, true}));
  EXPECT_EQ(kind(sparse, {4, 8}, {0, 8}, 8, 8), "Full");
  EXPECT_EQ(kind(sparse, {0, 4}, {4, 8}, 8, 8), "Empty");
  EXPECT_EQ(kind(sparse, {0, 8}, {0, 8}, 8, 8), "Partial");
  EXPECT_EQ(kind(sparse, {4, 8}, {0, 9}, 8, 9), "Partial");
}

} // namespace
