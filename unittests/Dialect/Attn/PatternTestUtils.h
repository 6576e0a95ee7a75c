//===- PatternTestUtils.h - Sample patterns and an IR evaluator -*- C++ -*-===//
#ifndef ATTN_UNITTESTS_PATTERNTESTUTILS_H
#define ATTN_UNITTESTS_PATTERNTESTUTILS_H

#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "mlir/IR/MLIRContext.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace attn {
namespace testing {

/// Returns a context with the attn dialect (and its dependencies) loaded.
std::unique_ptr<MLIRContext> makeContext();

/// Returns instances of every pattern attribute, with parameters chosen to
/// reach the corner cases of each predicate and classifier (negative offsets,
/// sizes of 1, blocks that do not divide the lengths, nested algebra, ...).
std::vector<PatternAttrInterface> samplePatterns(MLIRContext *ctx);

/// Returns the TypeIDs of every attribute of the attn dialect that implements
/// PatternAttrInterface.
std::vector<TypeID> registeredPatternTypeIds(MLIRContext *ctx);

/// Prints an attribute for test messages.
std::string show(Attribute attr);

/// Evaluates `block` (straight-line IR and scf.for) with its arguments bound
/// to `args` by folding each op on constants. Returns the attributes of the
/// terminator's operands, or nullopt when some op did not fold.
std::optional<SmallVector<Attribute>> foldBlock(Block &block,
                                                ArrayRef<Attribute> args);

/// The predicate of a pattern built as IR (`buildIsLive`) inside a function of
/// (i, j, numQueries, numKeys), evaluated by folding each op on constants.
class BuiltPredicate {
public:
  BuiltPredicate(PatternAttrInterface pattern);
  ~BuiltPredicate();
  /// Returns the i1 the IR computes, or nullopt when some op did not fold.
  std::optional<bool> evaluate(int64_t i, int64_t j, int64_t numQueries,
                               int64_t numKeys);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace testing
} // namespace attn
} // namespace mlir

#endif // ATTN_UNITTESTS_PATTERNTESTUTILS_H
