//===- PatternVerifyTest.cpp - getChecked on hostile parameters -----------===//
//
// Attributes built from C++ go through the same verifiers as parsed ones:
// getChecked must refuse what the parser refuses (a union nested deeper than
// kMaxPatternNesting, a block_sparse layout that is not a 2-D i1 tensor) and
// say why.
//
//===----------------------------------------------------------------------===//
#include "PatternTestUtils.h"

#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

namespace {

/// Collects the messages of the diagnostics emitted while it lives.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *ctx)
      : handler(ctx, [this](Diagnostic &diag) {
          messages.push_back(diag.str());
          return success();
        }) {}
  std::vector<std::string> messages;

private:
  ScopedDiagnosticHandler handler;
};

TEST(PatternVerify, NestingLimitOfGetChecked) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  DiagnosticCollector diagnostics(c);
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(c)); };
  PatternAttrInterface pattern = CausalAttr::get(c, 0, false);
  for (unsigned level = 1; level <= kMaxPatternNesting; ++level) {
    PatternAttrInterface window = WindowAttr::get(c, level, 0);
    pattern = level % 2 ? PatternAttrInterface(
                              UnionAttr::getChecked(emitError, c, {pattern, window}))
                        : PatternAttrInterface(IntersectAttr::getChecked(
                              emitError, c, {window, pattern}));
    ASSERT_TRUE(pattern) << "level " << level;
  }
  EXPECT_TRUE(diagnostics.messages.empty());
  EXPECT_FALSE(UnionAttr::getChecked(emitError, c, {pattern}));
  ASSERT_EQ(diagnostics.messages.size(), 1u);
  EXPECT_EQ(diagnostics.messages.front(),
            "#attn.union nests unions and intersections more than 64 levels "
            "deep (the limit)");
}

TEST(PatternVerify, SharedPartsAreWalkedOnce) {
  // Each step (a union over an intersection, two levels) holds its
  // predecessor twice: 2^32 paths through 64 distinct combinators.
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(c)); };
  PatternAttrInterface pattern = StridedAttr::get(c, 3);
  for (unsigned level = 1; level <= kMaxPatternNesting / 2; ++level) {
    PatternAttrInterface window = WindowAttr::get(c, level, 0);
    pattern = UnionAttr::getChecked(
        emitError, c,
        {pattern, IntersectAttr::get(c, {pattern, window})});
    ASSERT_TRUE(pattern) << "level " << level;
  }
}

TEST(PatternVerify, BlockSparseLayoutIsA2DI1Tensor) {
  auto ctx = makeContext();
  MLIRContext *c = ctx.get();
  DiagnosticCollector diagnostics(c);
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(c)); };
  Type i1 = IntegerType::get(c, 1);
  auto layout = [&](ShapedType type) {
    return DenseIntElementsAttr::get(type, ArrayRef<bool>{true});
  };
  EXPECT_TRUE(BlockSparseAttr::getChecked(
      emitError, c, {2, 2}, layout(RankedTensorType::get({2, 2}, i1))));
  EXPECT_FALSE(BlockSparseAttr::getChecked(
      emitError, c, {2, 2}, layout(VectorType::get({2, 2}, i1))));
  EXPECT_FALSE(BlockSparseAttr::getChecked(
      emitError, c, {2, 2}, layout(RankedTensorType::get({2, 2, 1}, i1))));
  EXPECT_FALSE(
      BlockSparseAttr::getChecked(emitError, c, {2, 2}, DenseIntElementsAttr()));
  EXPECT_EQ(diagnostics.messages,
            (std::vector<std::string>{
                "#attn.block_sparse needs a tensor layout, but got "
                "'vector<2x2xi1>'",
                "#attn.block_sparse needs a 2-D i1 layout (query blocks x key "
                "blocks), but got 'tensor<2x2x1xi1>'",
                "#attn.block_sparse needs a layout"}));
}

} // namespace
