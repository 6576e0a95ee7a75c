//===- AttnDialect.cpp - attn dialect registration and attributes ---------===//
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "PatternSyntax.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h" // Used by the generated attribute parser.

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnAttrInterfaces.cpp.inc"
#include "attn/Dialect/Attn/IR/AttnDialect.cpp.inc"
#include "attn/Dialect/Attn/IR/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Parameter domains
//===----------------------------------------------------------------------===//

/// Sizes, offsets and extents of patterns stay within 32 bits so that the
/// predicates never overflow 64-bit arithmetic on positions below 2^61.
static constexpr int64_t kParameterLimit = int64_t(1) << 31;

/// Checks `min <= value < 2^31` for the parameter `name` of `pattern`.
static LogicalResult
checkParameter(function_ref<InFlightDiagnostic()> emitError, StringRef pattern,
               StringRef name, int64_t value, int64_t min) {
  if (value >= min && value < kParameterLimit)
    return success();
  if (value < min)
    return emitError() << "#attn." << pattern << " needs " << name
                       << " >= " << min << ", but got " << name << " = "
                       << value;
  return emitError() << "#attn." << pattern << " needs " << name
                     << " below 2^31, but got " << name << " = " << value;
}

/// Checks that `value` lies in the symmetric 32-bit range.
static LogicalResult checkOffset(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef pattern, StringRef name,
                                 int64_t value) {
  return checkParameter(emitError, pattern, name, value, -kParameterLimit + 1);
}

LogicalResult WindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t left, int64_t right) {
  if (failed(checkOffset(emitError, "window", "left", left)) ||
      failed(checkOffset(emitError, "window", "right", right)))
    return failure();
  if (left + right < 0)
    return emitError() << "#attn.window needs left + right >= 0 (a non-empty "
                          "band), but got left = "
                       << left << ", right = " << right;
  return success();
}

LogicalResult DilatedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t left, int64_t right,
                                  int64_t dilation) {
  if (failed(checkOffset(emitError, "dilated", "left", left)) ||
      failed(checkOffset(emitError, "dilated", "right", right)) ||
      failed(checkParameter(emitError, "dilated", "dilation", dilation, 1)))
    return failure();
  if (left + right < 0)
    return emitError() << "#attn.dilated needs left + right >= 0 (a non-empty "
                          "band), but got left = "
                       << left << ", right = " << right;
  return success();
}

LogicalResult
BlockLocalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t size) {
  return checkParameter(emitError, "block_local", "size", size, 1);
}

LogicalResult StridedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t stride) {
  return checkParameter(emitError, "strided", "stride", stride, 1);
}

LogicalResult FixedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t block, int64_t summary) {
  if (failed(checkParameter(emitError, "fixed", "block", block, 1)) ||
      failed(checkParameter(emitError, "fixed", "summary", summary, 0)))
    return failure();
  if (summary > block)
    return emitError() << "#attn.fixed needs summary <= block, but got block = "
                       << block << ", summary = " << summary;
  return success();
}

LogicalResult GlobalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> tokens, int64_t first) {
  return checkParameter(emitError, "global", "first", first, 0);
}

LogicalResult SinkAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> tokens, int64_t first) {
  if (failed(checkParameter(emitError, "sink", "first", first, 0)))
    return failure();
  for (int64_t token : tokens)
    if (token <= -kParameterLimit || token >= kParameterLimit)
      return emitError() << "#attn.sink needs tokens in (-2^31, 2^31), but "
                            "got token "
                         << token;
  return success();
}

/// The most axes of a neighbourhood grid.
static constexpr size_t kMaxGridAxes = 3;

LogicalResult
NeighborhoodAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         ArrayRef<int64_t> extent, ArrayRef<int64_t> window) {
  if (extent.empty() || extent.size() > kMaxGridAxes)
    return emitError() << "#attn.neighborhood needs a grid of 1 to "
                       << kMaxGridAxes << " axes, but got extent with "
                       << extent.size() << " sizes";
  if (window.size() != extent.size())
    return emitError() << "#attn.neighborhood needs one window size per grid "
                          "axis, but got "
                       << extent.size() << " extents and " << window.size()
                       << " window sizes";
  int64_t cells = 1;
  for (auto [axis, e, w] : llvm::enumerate(extent, window)) {
    if (e < 1)
      return emitError() << "#attn.neighborhood needs extents >= 1, but axis "
                         << axis << " has extent " << e;
    if (w < 1 || w > e)
      return emitError() << "#attn.neighborhood needs 1 <= window <= extent on "
                            "every axis, but axis "
                         << axis << " has window " << w << " and extent " << e;
    if (e >= kParameterLimit || cells >= kParameterLimit / e)
      return emitError() << "#attn.neighborhood needs a grid of fewer than "
                            "2^31 positions";
    cells *= e;
  }
  return success();
}

LogicalResult RandomAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t block, int64_t perRow, int64_t seed) {
  if (failed(checkParameter(emitError, "random", "block", block, 1)) ||
      failed(checkParameter(emitError, "random", "per_row", perRow, 0)))
    return failure();
  return success();
}

LogicalResult AxialAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t rows, int64_t cols) {
  if (failed(checkParameter(emitError, "axial", "rows", rows, 1)) ||
      failed(checkParameter(emitError, "axial", "cols", cols, 1)))
    return failure();
  return success();
}

LogicalResult
BlockSparseAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        ArrayRef<int64_t> block, DenseIntElementsAttr layout) {
  if (block.size() != 2)
    return emitError() << "#attn.block_sparse needs block = [bq, bk] (two "
                          "sizes), but got "
                       << block.size() << " sizes";
  if (failed(checkParameter(emitError, "block_sparse", "bq", block[0], 1)) ||
      failed(checkParameter(emitError, "block_sparse", "bk", block[1], 1)))
    return failure();
  if (!layout)
    return emitError() << "#attn.block_sparse needs a layout";
  auto type = llvm::dyn_cast<RankedTensorType>(layout.getType());
  if (!type)
    return emitError() << "#attn.block_sparse needs a tensor layout, but got "
                       << layout.getType();
  if (type.getRank() != 2 || !type.getElementType().isSignlessInteger(1))
    return emitError() << "#attn.block_sparse needs a 2-D i1 layout "
                          "(query blocks x key blocks), but got "
                       << type;
  return success();
}

/// Returns the parts of a union or intersection, or nothing for another
/// pattern.
static std::optional<ArrayRef<PatternAttrInterface>> getParts(Attribute attr) {
  if (auto u = llvm::dyn_cast<UnionAttr>(attr))
    return u.getParts();
  if (auto i = llvm::dyn_cast<IntersectAttr>(attr))
    return i.getParts();
  return std::nullopt;
}

/// Returns the number of unions and intersections on the longest path from
/// `attr` down, or nothing once a path holds more than kMaxPatternNesting of
/// them (`level` of them lie above `attr`). The recursion is bounded by the
/// limit, and `memo` makes the walk visit each distinct sub-pattern once.
static std::optional<unsigned>
getNesting(Attribute attr, unsigned level,
           llvm::DenseMap<Attribute, unsigned> &memo) {
  std::optional<ArrayRef<PatternAttrInterface>> parts = getParts(attr);
  if (!parts)
    return 0;
  if (auto known = memo.find(attr); known != memo.end())
    return known->second;
  if (level >= kMaxPatternNesting)
    return std::nullopt;
  unsigned deepest = 0;
  for (PatternAttrInterface part : *parts) {
    std::optional<unsigned> nesting = getNesting(part, level + 1, memo);
    if (!nesting)
      return std::nullopt;
    deepest = std::max(deepest, *nesting);
  }
  return memo[attr] = deepest + 1;
}

/// Checks that a union or intersection has at least one part and nests at
/// most kMaxPatternNesting levels deep.
static LogicalResult verifyParts(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name,
                                 ArrayRef<PatternAttrInterface> parts) {
  if (parts.empty())
    return emitError() << "#attn." << name
                       << " needs at least one part, but got none";
  llvm::DenseMap<Attribute, unsigned> memo;
  for (PatternAttrInterface part : parts) {
    std::optional<unsigned> nesting = getNesting(part, 1, memo);
    if (!nesting || *nesting + 1 > kMaxPatternNesting)
      return emitError() << "#attn." << name
                         << " nests unions and intersections more than "
                         << kMaxPatternNesting << " levels deep (the limit)";
  }
  return success();
}

LogicalResult UnionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                ArrayRef<PatternAttrInterface> parts) {
  return verifyParts(emitError, "union", parts);
}

LogicalResult
IntersectAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      ArrayRef<PatternAttrInterface> parts) {
  return verifyParts(emitError, "intersect", parts);
}

bool BlockSparseAttr::isBlockLive(int64_t qb, int64_t kb) const {
  auto shape = getLayout().getType().getShape();
  if (qb < 0 || kb < 0 || qb >= shape[0] || kb >= shape[1])
    return false;
  return getLayout().getValues<bool>()[qb * shape[1] + kb];
}

LogicalResult CausalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t offset, bool bottomRight) {
  return checkOffset(emitError, "causal", "offset", offset);
}
