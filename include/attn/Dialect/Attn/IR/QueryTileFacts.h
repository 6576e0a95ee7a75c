//===- QueryTileFacts.h - per-query-tile values of pattern predicates -*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_QUERYTILEFACTS_H
#define ATTN_DIALECT_ATTN_IR_QUERYTILEFACTS_H

#include "attn/Dialect/Attn/IR/AttnAttrs.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace mlir {
namespace attn {

/// Values that a pattern's predicates depend on only through the query
/// position, built once per query tile so that `buildIsLive` and
/// `buildClassify` read them instead of recomputing them per pair or per
/// key tile. Today only `#attn.random` has such values: the hash threshold
/// of each query block of the tile (the `per_row`-th smallest hash among the
/// candidate key blocks), which makes its predicate O(1) per pair.
///
/// A tiler constructs one at the start of a query tile, before its key
/// loop; while it lives (on this thread), every `buildIsLive` and
/// `buildClassify` of a sub-pattern of `pattern` finds its facts and uses
/// them. The values dominate everything built after the constructor in the
/// same region, so the object must not outlive the query tile's block.
/// Without a live object the predicates compute everything themselves.
class QueryTileFacts {
public:
  /// Builds the facts of every sub-pattern of `pattern` for the queries at
  /// positions `[queryFirst, queryLast]` (i64). `maxQueries`, when given,
  /// bounds `queryLast - queryFirst + 1` (the tile's rows without a
  /// positions operand); the facts then cover every query of the tile and
  /// the predicates need no fallback.
  QueryTileFacts(PatternAttrInterface pattern, OpBuilder &builder,
                 Location loc, Value queryFirst, Value queryLast,
                 Value numQueries, Value numKeys,
                 std::optional<int64_t> maxQueries);
  ~QueryTileFacts();
  QueryTileFacts(const QueryTileFacts &) = delete;
  QueryTileFacts &operator=(const QueryTileFacts &) = delete;

  /// The facts of one pattern: `values` as its builder defined them, and
  /// whether they cover every query the predicates will be asked about.
  struct Entry {
    SmallVector<Value> values;
    bool complete = false;
  };

  /// The facts of `pattern` in the innermost live object of this thread, or
  /// null when there is none.
  static const Entry *lookup(Attribute pattern);

private:
  llvm::DenseMap<Attribute, Entry> entries;
  QueryTileFacts *outer;
};

/// Boxes of at most this many (query block, key block) cells (and at most
/// this many blocks on each side) are classified exactly by `#attn.random`;
/// larger ones, which only positions operands make, are Partial unless they
/// are off the candidate blocks.
constexpr int64_t kRandomMaxExactCells = 4096;

/// The random pattern's facts (for QueryTileFacts): `{firstBlock, table}`,
/// `table[t]` the threshold of query block `firstBlock + t`.
QueryTileFacts::Entry buildRandomQueryFacts(RandomAttr attr, OpBuilder &builder,
                                            Location loc, Value queryFirst,
                                            Value queryLast, Value numKeys,
                                            std::optional<int64_t> maxQueries);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_IR_QUERYTILEFACTS_H
