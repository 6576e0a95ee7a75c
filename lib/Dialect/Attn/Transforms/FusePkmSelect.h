//===- FusePkmSelect.h - top k of the fused attn.pkm ----------*- C++ -*-===//
//
// The discrete choices of attn.pkm (docs/Semantics.md §8) for one query, as
// scalar scf loops on small tensors (in place after bufferization): a list
// of the best k (score, key) pairs offered so far, kept sorted in the order
// (larger score, then smaller key), into which an offer is inserted only
// when it beats the k-th. One pass over a row of n sub-key scores costs n
// compares and a few insertions; the candidates (x, y) of two sorted lists
// are offered row by row and column by column, each walk stopping at the
// first sum below the k-th (the sums only fall along a list: exact).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEPKMSELECT_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEPKMSELECT_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {
namespace fuse {

/// A sorted list of at most k (score, key) pairs: entries `offset` to
/// `offset + k` of the `scores` f32 and `keys` i64 1-D tensors, whose first
/// `count` (index) are set, best first, and the k-th best (`kthScore`,
/// `kthKey`), or (the floor given to `start` or -inf, sentinel) while fewer
/// than k are set (the sentinel is above every key). The lists of one query
/// share their two tensors (one buffer each after bufferization; each update is
/// in place).
struct TopList {
  Value scores, keys, count, kthScore, kthKey;
  int64_t offset = 0;
};

/// Builds the selection loops at `b`'s insertion point.
class TopListBuilder {
public:
  TopListBuilder(OpBuilder &b, Location loc, int64_t k)
      : b(b), loc(loc), k(k) {}

  /// An empty list at `offset` of `scores` and `keys` (the old contents of
  /// its entries are not read), with keys below `sentinel`. With `floor`,
  /// a score that the k-th best is known to reach (a lower bound), offers
  /// below it are passed over without a look at the list.
  TopList start(Value scores, Value keys, int64_t offset, int64_t sentinel,
                Value floor = {});

  /// The top k of row `row` of `scores` [rows, n] (f32), keyed by column:
  /// `list` (empty, from start) after offering every column in order.
  TopList topOfRow(TopList list, Value scores, Value row, int64_t n);

  /// A lower bound of the k-th best score of each row of `scores`
  /// [rows, n] (n >= k): the smallest of the maxima of the k column groups
  /// `j mod k` over the first k floor(n / k) columns (k distinct entries
  /// reach it). One generic over the tile
  /// (its inner loop contiguous) and, per row, k compares: returns
  /// `[rows, k]` group maxima; `floorOf` reduces one row of them.
  Value groupMaxima(Value scores, Value rows, int64_t n);
  Value floorOf(Value maxima, Value row);

  /// The top k of the sums `first.scores[a] + second.scores[c]` keyed by
  /// `first.keys[a] * n + second.keys[c]` over the set entries of two lists
  /// (each sorted by `topOfRow`), into `list` (empty, on the same tensors,
  /// whose values in `list` are the newest: the lists are read from them).
  TopList topOfSums(TopList list, const TopList &first, const TopList &second,
                    int64_t n);

private:
  /// `list` with (score, key) inserted when it beats the k-th. With
  /// `largestKey` (the key is above every key in the list: offers in
  /// increasing key order), an entry moves down only for a larger score.
  TopList offer(const TopList &list, Value score, Value key,
                bool largestKey = false);
  /// Walks the set entries i of `along` (sorted by `topOfRow`) in order
  /// while the sum that `sumOf` makes of entry i's score can still enter
  /// `list` (is not below its k-th score): `list = body(i, list)`. The sums
  /// only fall along a sorted list, so the first one below the k-th ends the
  /// walk exactly.
  TopList walk(TopList list, const TopList &along,
               function_ref<Value(Value)> sumOf,
               function_ref<TopList(Value, TopList)> body);
  /// (score, key) inserted into a list that it beats.
  TopList insert(const TopList &list, Value score, Value key, bool largestKey);
  /// Whether (s, x) comes before (t, y): s > t, or s == t and x < y.
  Value before(Value s, Value x, Value t, Value y);

  SmallVector<Value> pack(const TopList &list);
  /// A list at `offset` from its packed values.
  TopList unpack(ValueRange values, int64_t offset);
  /// Entry `i` (from the list's start) of `t`, and `t` with `v` there.
  Value at(Value t, int64_t offset, Value i);
  Value put(Value v, Value t, int64_t offset, Value i);

  OpBuilder &b;
  Location loc;
  int64_t k;
};

} // namespace fuse
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEPKMSELECT_H
