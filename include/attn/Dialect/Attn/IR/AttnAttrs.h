//===- AttnAttrs.h - Pattern attributes and their interface -----*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNATTRS_H
#define ATTN_DIALECT_ATTN_IR_ATTNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include <cstdint>
#include <optional>

namespace mlir {
namespace attn {

/// What a block of (query, key) position pairs holds, as far as a pattern can
/// tell: no live pair, only live pairs, or it cannot say.
enum class BlockKind { Empty, Full, Partial };

/// A half-open range of positions `[begin, end)`; `begin < end`.
struct PositionRange {
  int64_t begin;
  int64_t end;
  /// Returns the last position of the range.
  int64_t last() const { return end - 1; }
  /// Returns the number of positions.
  int64_t size() const { return end - begin; }
};

/// The facts a pattern may use to simplify itself: the static sequence lengths
/// (`ShapedType::kDynamic` when unknown) and whether positions are the default
/// `qpos_i = i`, `kpos_j = j`.
struct PatternContext {
  int64_t numQueries = ShapedType::kDynamic;
  int64_t numKeys = ShapedType::kDynamic;
  bool defaultPositions = false;
  /// Returns true when both lengths are static and positions are default, so
  /// that every live pair lies in `[0, Nq) x [0, Nk)`.
  bool knowsAllPositions() const {
    return defaultPositions && !ShapedType::isDynamic(numQueries) &&
           !ShapedType::isDynamic(numKeys);
  }
};

/// A diagonal band `lo <= j - i <= hi`; a missing bound is unbounded.
struct DiagonalBand {
  std::optional<int64_t> lo;
  std::optional<int64_t> hi;
};

/// Floor division and non-negative remainder on signed integers
/// (mathematical, also for negative operands). `b` must be positive.
int64_t floorDiv(int64_t a, int64_t b);
int64_t floorMod(int64_t a, int64_t b);

/// The splitmix64 hash that the random pattern draws with (docs/Semantics.md §3).
uint64_t splitmix64(uint64_t x);

/// The deepest nesting of `#attn.union` / `#attn.intersect` that the parser
/// and the verifiers of those attributes accept: the number of unions and
/// intersections on the longest path from a pattern to a leaf. Every walk over
/// a pattern recurses once per level, so the limit bounds their stack use.
constexpr unsigned kMaxPatternNesting = 64;

/// Per-query-tile values of pattern predicates (QueryTileFacts.h).
class QueryTileFacts;

} // namespace attn
} // namespace mlir

#include "attn/Dialect/Attn/IR/AttnAttrInterfaces.h.inc"
#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.h.inc"

namespace mlir {
namespace attn {

/// Returns the canonical form of `pattern` in `context`: the pattern algebra
/// (flattened and deduplicated unions and intersections, identities with
/// dense, merged bands) and, when every position is known, `#attn.dense` for a
/// pattern under which every pair is live.
PatternAttrInterface simplifyPattern(PatternAttrInterface pattern,
                                     const PatternContext &context);

/// Classifies a block like `pattern.classify`, answering exactly when the
/// block holds a single pair.
BlockKind classifyBlock(PatternAttrInterface pattern, PositionRange queries,
                        PositionRange keys, int64_t numQueries,
                        int64_t numKeys);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_H
