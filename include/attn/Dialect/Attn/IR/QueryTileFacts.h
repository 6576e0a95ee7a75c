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
/// key tile. Each pattern builds its own through the interface method
/// `buildQueryTileFacts` (only `#attn.random` has some today: the hash
/// threshold of each query block of the tile, which makes its predicate
/// O(1) per pair).
///
/// A tiler builds one at the start of a query tile, before its key loop, and
/// passes it to every `buildIsLive` and `buildClassify` of that tile; union
/// and intersection pass it on to their parts. The values dominate
/// everything built after them in the same region, so the object must not be
/// passed outside the query tile's block.
class QueryTileFacts {
public:
  /// The facts of every sub-pattern of `pattern` (each pattern's
  /// `buildQueryTileFacts`) for the queries at positions
  /// `[queryFirst, queryLast]` (i64). `maxQueries`, when given, bounds
  /// `queryLast - queryFirst + 1` (the tile's rows without a positions
  /// operand); the facts may then cover every query of the tile, so that the
  /// predicates need no fallback.
  QueryTileFacts(PatternAttrInterface pattern, OpBuilder &builder, Location loc,
                 Value queryFirst, Value queryLast, Value numQueries,
                 Value numKeys, std::optional<int64_t> maxQueries);
  QueryTileFacts(const QueryTileFacts &) = delete;
  QueryTileFacts &operator=(const QueryTileFacts &) = delete;

  /// The facts of one pattern: `values` as its builder defined them, and
  /// whether they cover every query the predicates will be asked about.
  struct Entry {
    SmallVector<Value> values;
    bool complete = false;
  };

  /// Records the facts of `pattern` (from its `buildQueryTileFacts`).
  void add(Attribute pattern, Entry entry) {
    entries[pattern] = std::move(entry);
  }

  /// The facts of `pattern`, or null when it has none. `facts` may be null.
  static const Entry *lookup(const QueryTileFacts *facts, Attribute pattern);

private:
  llvm::DenseMap<Attribute, Entry> entries;
};

/// Boxes of at most this many (query block, key block) cells (and at most
/// this many blocks on each side) are classified exactly by `#attn.random`;
/// larger ones, which only positions operands make, are Partial unless they
/// are off the candidate blocks.
constexpr int64_t kRandomMaxExactCells = 4096;

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_IR_QUERYTILEFACTS_H
