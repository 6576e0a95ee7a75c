//===- SdpaTiler.h - The flash form of one attn.sdpa ------------*- C++ -*-===//
//
// The builder behind attn-tile (Tile.cpp has the overview): the loops and
// the pass in Tile.cpp, the operand tiles, tile kinds and per-tile steps in
// TileOperands.cpp, the online softmax in TileSoftmax.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILER_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILER_H

#include "SdpaLowering.h"
#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

namespace mlir {
namespace attn {
namespace tile {

/// A query tile: rows [start, start + size) of one (batch, head).
struct QueryTile {
  Value index;       // the tile's number (index)
  Value start, size; // index
  Value scaled;      // [size, D] in the compute type: q * scale (* log2 e)
  // A factor of the scores instead: with bf16 queries and f32 compute,
  // `scaled` is q itself (exact in bf16, for the bf16 dot product of
  // attn-cpu-microkernels) and the scale multiplies the score tile.
  double scoreScale = 1.0;
  Value positions;   // [size] slice of the positions operand, or null
  Value first, last; // i64 position range
  Value segments;    // [size] slice of the document ids, or null
  Value segFirst, segLast; // i64 smallest and largest document id
};

/// A key tile: keys [start, start + size) of one (batch, KV head), or of
/// the persistent memory.
struct KeyTile {
  Value start, size;  // index
  Value keys, values; // [size, D], [size, Dv] in the input element types
  Value positions;    // [size] slice of the positions operand, or null
  Value first, last;  // i64 position range
  Value segments;     // [size] slice of the document ids, or null
  Value segFirst, segLast; // i64 smallest and largest document id
  Value index;        // the tile's number (index), null for memory tiles
  Value fullListed;   // i1: listed in full_blocks (mask_mod not applied)
};

/// The flash form of `op` at the builder's insertion point (the reference
/// lowering when a head dim is 0); returns the values that replace its
/// results. attn-tile and transform.attn.tile use it.
/// With `prefetch`, each query tile asks the cache for the next query
/// tile's rows and, before its key loop, for the rows of the key tile just
/// past each of its key ranges (memref.prefetch; see TilePrefetch.cpp).
SmallVector<Value> buildFlashForm(OpBuilder &b, SdpaOp op, int64_t qTile,
                                  int64_t kvTile, FloatType computeType,
                                  bool prefetch = false,
                                  bool freshDestination = true);

/// Builds the flash form of one attn.sdpa.
class SdpaTiler {
public:
  SdpaTiler(OpBuilder &b, SdpaOp op, int64_t qTile, int64_t kvTile,
            FloatType ct, bool prefetch = false, bool freshDestination = true)
      : b(b), op(op), loc(op.getLoc()), ctx(op.getContext()), qTile(qTile),
        kvTile(kvTile), ct(ct), prefetch(prefetch),
        freshDestination(freshDestination),
        pattern(op.getPatternOrDense()),
        parts(detail::getSdpaParts(op)), scoreMod(parts.scoreMod) {
    // With a block layout, the tiles are its blocks.
    if (parts.layout) {
      this->qTile = parts.layout.blockQ;
      this->kvTile = parts.layout.blockK;
    } else {
      alignTilesToPattern();
    }
  }

  SmallVector<Value> run();

private:
  /// Narrows qTile and kvTile to the pattern's blocks (Tile.cpp).
  void alignTilesToPattern();

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }
  Value floatConst(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, nb.getFloatAttr(ct, v));
  }
  Value minIndex(Value a, Value c) {
    return arith::MinSIOp::create(b, loc, a, c);
  }
  Value mulIndex(Value a, Value c) {
    return arith::MulIOp::create(b, loc, a, c);
  }
  Value toI64(Value v) { return attn::toI64(b, loc, v); }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  /// Scores need the natural value before log2(e) is applied.
  bool naturalScores() { return op.getBias() || !op.getScoreMod().empty(); }

  void emitRuntimeChecks();
  Value slice(Value source, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, ArrayRef<unsigned> kept);
  Value positionsHead(Value positions);
  std::pair<Value, Value> positionRange(Value positionsSlice);
  void buildHeadValues(Value bIdx, Value hIdx);
  QueryTile buildQueryTile(Value tileIndex);
  /// The score tile of a query tile and a tile of keys (with
  /// `q.scoreScale` applied).
  Value buildScores(const QueryTile &q, Value keys);
  KeyTile buildKeyTile(Value tileIndex);
  KeyTile buildMemoryTile(Value tileIndex);
  SmallVector<std::pair<Value, Value>> keyTileRanges(const QueryTile &q);
  Value buildKeySegmentsSorted();
  Value searchKeySegments(Value id, bool after);
  std::pair<Value, Value> segmentKeyRows(const QueryTile &q);
  Value buildTileKind(const QueryTile &q, const KeyTile &k);
  Value meetSegments(Value kind, const QueryTile &q, const KeyTile &k);
  Value buildSpanWeight(OpBuilder &nb, Location nl, Value distance);
  Value operandTile(Value operand, const QueryTile &q, const KeyTile &k,
                    AffineMap &map);
  void inlineScoreMod(OpBuilder &nb, Location nl, Value &s, Value qi, Value kj);
  tile::RowState buildKeyStep(BlockKind kind, const QueryTile &q,
                              const KeyTile &k, const tile::RowState &state);
  tile::RowState buildMemoryLoop(const QueryTile &q, tile::RowState state);
  tile::RowState buildKeyLoop(const QueryTile &q, tile::RowState state);
  tile::RowState
  buildStateLoop(Value count, tile::RowState state,
                 function_ref<SmallVector<Value>(Value, ValueRange)> body);
  SmallVector<Value> buildDispatch(const QueryTile &q, const KeyTile &k,
                                   Value kind, ValueRange current);
  // mask_mod and the block layout (TileMaskMod.cpp).
  Value buildMaskModBlockMap();
  Value buildMaskModTileKind(OpBuilder &nb, Location nl, Value bb, Value hh,
                             Value qStart, Value qEnd, Value kStart,
                             Value kEnd);
  Value meetMaskMod(Value kind, const QueryTile &q, const KeyTile &k);
  Value maskModLive(OpBuilder &nb, Location nl, const KeyTile &k, Value qi,
                    Value kj);
  tile::RowState buildLayoutKeyLoop(const QueryTile &q, tile::RowState state);
  // Cache prefetches (TilePrefetch.cpp).
  void buildPrefetchBuffers(Value init);
  void prefetchRows(Value buffer, Value head, Value tileIndex, int64_t rows,
                    Value length, int64_t cols, bool isWrite = false);
  void prefetchNextQueryTile(const QueryTile &q);
  void prefetchKeyTile(Value tileIndex);

  OpBuilder &b;
  SdpaOp op;
  Location loc;
  MLIRContext *ctx;
  int64_t qTile, kvTile;
  FloatType ct;
  bool prefetch;
  /// Whether a returned argument destination becomes a fresh tensor.
  bool freshDestination;
  /// Read-only buffers of q, k and v for the prefetches (null without).
  Value queryBuffer, keyBuffer, valueBuffer;
  /// The destination's buffer when it is written in place (null otherwise).
  Value outputBuffer;
  PatternAttrInterface pattern;
  /// The pattern's facts of the query tile being built (null outside one).
  const QueryTileFacts *queryFacts = nullptr;
  detail::SdpaParts parts;
  /// Clones the score_mod region (empty without one).
  detail::ScoreModBuilder scoreMod;
  /// mask_mod's kinds per (batch or 1, head or 1, query tile, key tile), i8,
  /// or null (no mask_mod, or positions, or a block layout).
  Value maskModMap;
  bool maskMapPerBatch = false, maskMapPerHead = false;
  /// The block layout's owner map (detail::buildBlockOwners) and the length
  /// of its full list (index), or null.
  Value layoutOwners, fullLength;
  // Sizes (index) and lengths (i64).
  Value sizeB, sizeH, sizeHkv, sizeNq, sizeNk;
  int64_t headDim = 0, valueDim = 0;
  Value numQueries, numKeys;
  // Per (batch, head).
  Value bIdx, hIdx, kvHead, qPosHead, kPosHead, spanZ;
  // Per batch: whether its key document ids are sorted ([B] i1), or null.
  Value keySegmentsSorted;
};

} // namespace tile
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILER_H
