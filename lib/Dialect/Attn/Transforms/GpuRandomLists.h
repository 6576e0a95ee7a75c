//===- GpuRandomLists.h - #attn.random on the Hopper core -------*- C++ -*-===//
//
// The Hopper core decides the `#attn.random` parts of a pattern (the pattern
// itself, or the direct parts of a `#attn.union` such as BigBird's window ∪
// global ∪ random) from per-query-tile lists instead of the rank-based
// predicate: at the start of the kernel each warp draws, for every query
// block of its query tile, the `per_row` key blocks with the smallest hash
// (the same picks as `PatternRandom.cpp`'s threshold table: the blocks whose
// hash is at most the per_row-th smallest), by `per_row` rounds of a
// warp-wide minimum. The core then visits only those key blocks (plus the
// key intervals of the other parts), classifies tiles exactly from the lists
// and tests a pair in Partial tiles by comparing its key block with them.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPURANDOMLISTS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPURANDOMLISTS_H

#include "attn/Dialect/Attn/IR/AttnAttrs.h"

#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir {
namespace attn {
namespace gpu_core {

/// The per-query-tile random lists of one pattern. Values of the lists
/// ("facts", i64) travel as extra arguments of the core's pattern helpers.
class RandomLists {
public:
  /// Returns the lists for `pattern` on a core whose query tiles start at
  /// multiples of `qTile` rows and whose key tiles start at multiples of
  /// `kvTile` keys, or nothing when the pattern has no random part that the
  /// core can list (no `#attn.random` at the top or directly in a union, or
  /// more query blocks per tile, picks or key blocks per tile than the
  /// kernel unrolls).
  static std::optional<RandomLists> get(PatternAttrInterface pattern,
                                        int64_t qTile, int64_t kvTile);

  /// The number of i64 facts.
  int64_t getNumFacts() const;

  /// Builds the facts of the query rows [qFirst, qLast] (qFirst a multiple
  /// of qTile, at least 0). Uses warp shuffles: every lane of every warp
  /// must run it, in uniform control flow.
  SmallVector<Value> buildFacts(OpBuilder &builder, Location loc, Value qFirst,
                                Value qLast, Value numKeys) const;

  /// `buildKeyIntervals` of the pattern with each random part's interval
  /// replaced by its picked blocks (one interval per pick, empty when none).
  SmallVector<std::pair<Value, Value>>
  buildKeyIntervals(OpBuilder &builder, Location loc, ValueRange facts,
                    Value qFirst, Value qLast, Value numQueries,
                    Value numKeys) const;

  /// `buildClassify` of the pattern for a box inside the query tile of the
  /// facts and a key range inside one key tile (kFirst >= 0, kLast < Nk);
  /// exact for the random parts.
  Value buildClassify(OpBuilder &builder, Location loc, ValueRange facts,
                      Value qFirst, Value qLast, Value kFirst, Value kLast,
                      Value numQueries, Value numKeys) const;

  /// `buildIsLive` of the pattern for a query row of the tile of the facts
  /// and a key of the key tile that starts at `tileFirst` (a multiple of
  /// kvTile): where random blocks are multiples of key tiles, the picks are
  /// compared with the tile's block, once per row rather than per pair.
  Value buildIsLive(OpBuilder &builder, Location loc, ValueRange facts,
                    Value tileFirst, Value i, Value j, Value numQueries,
                    Value numKeys) const;

private:
  RandomLists(PatternAttrInterface pattern, int64_t qTile, int64_t kvTile)
      : pattern(pattern), qTile(qTile), kvTile(kvTile) {}

  /// Query blocks of a tile and key blocks of a key tile of `random`.
  int64_t slots(RandomAttr random) const;
  int64_t keyBlocks(RandomAttr random) const;
  /// Facts of `random`: the first query block, then slots x per_row picks
  /// (-1 where there is none).
  int64_t factsOf(RandomAttr random) const {
    return 1 + slots(random) * random.getPerRow();
  }

  PatternAttrInterface pattern;
  int64_t qTile, kvTile;
  /// The parts (the pattern itself when it is not a union).
  SmallVector<PatternAttrInterface> parts;
};

} // namespace gpu_core
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPURANDOMLISTS_H
