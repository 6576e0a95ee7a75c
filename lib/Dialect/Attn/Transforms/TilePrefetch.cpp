//===- TilePrefetch.cpp - Cache prefetches of the flash form --------------===//
//
// With the `prefetch` option of attn-tile (on in attn-cpu-pipeline), the
// flash form asks the cache for rows before it reads them:
//
// * each query tile, for the rows of q of the next query tile (the next
//   iteration of the same thread when the OpenMP loop hands out contiguous
//   chunks);
// * each query tile, before its key loop, for the rows of k and v of the
//   key tile just past each of its key ranges: in a band (window,
//   Longformer's window), the one key tile that the next query tile reads
//   and no tile of this one did. Tiles inside a range are not prefetched:
//   the previous query tile of the thread read them, and a range that
//   spans every key tile (a random part's) would otherwise stream all of
//   k and v through the cache for each query tile, for the few tiles it
//   computes.
//
// The rows of a tile are contiguous, but a hardware prefetcher does not
// cross a 4 KiB page: without these, the first reads of a new tile wait on
// memory. The prefetches are `memref.prefetch` (read, locality 2: into the
// L2 cache) of every 64-byte line of the tile's rows, on read-only buffers
// of the operands; a tile past the end prefetches nothing.
//
//===----------------------------------------------------------------------===//

#include "SdpaTiler.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

/// Bytes of a cache line: one prefetch per line.
static constexpr int64_t kLineBytes = 64;

/// A read-only buffer of the rank-4 tensor `source` with a fully dynamic
/// strided layout (any buffer of the tensor casts to it).
static Value readOnlyBuffer(OpBuilder &b, Location loc, Value source) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  auto memrefType =
      MemRefType::get(type.getShape(), type.getElementType(), layout);
  return bufferization::ToBufferOp::create(b, loc, memrefType, source,
                                           /*read_only=*/true);
}

void SdpaTiler::buildPrefetchBuffers(Value init) {
  queryBuffer = readOnlyBuffer(b, loc, op.getQuery());
  keyBuffer = readOnlyBuffer(b, loc, op.getKey());
  valueBuffer = readOnlyBuffer(b, loc, op.getValue());
  // The destination written in place: its lines are asked for with the
  // write hint (the prefetch writes nothing; the buffer is only read here).
  if (init == op.getInit())
    outputBuffer = readOnlyBuffer(b, loc, init);
}

/// Prefetches the rows [tileIndex * rows, min((tileIndex + 1) * rows,
/// length)) of `buffer[bIdx, head]`, `cols` elements each.
void SdpaTiler::prefetchRows(Value buffer, Value head, Value tileIndex,
                             int64_t rows, Value length, int64_t cols,
                             bool isWrite) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t elementBytes =
      std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  int64_t lineElements = std::max<int64_t>(1, kLineBytes / elementBytes);
  Value start = mulIndex(tileIndex, index(rows));
  Value end = minIndex(arith::AddIOp::create(b, loc, start, index(rows)),
                       length);
  scf::ForOp::create(
      b, loc, start, end, index(1), ValueRange{},
      [&](OpBuilder &nb, Location nl, Value row, ValueRange) {
        for (int64_t col = 0; col < cols; col += lineElements) {
          Value c = arith::ConstantIndexOp::create(nb, nl, col);
          memref::PrefetchOp::create(nb, nl, buffer,
                                     ValueRange{bIdx, head, row, c},
                                     isWrite, /*localityHint=*/2,
                                     /*isDataCache=*/true);
        }
        scf::YieldOp::create(nb, nl);
      });
}

void SdpaTiler::prefetchNextQueryTile(const QueryTile &q) {
  Value next = arith::AddIOp::create(b, loc, q.index, index(1));
  prefetchRows(queryBuffer, hIdx, next, qTile, sizeNq, headDim);
  if (outputBuffer)
    prefetchRows(outputBuffer, hIdx, next, qTile, sizeNq, valueDim,
                 /*isWrite=*/true);
}

void SdpaTiler::prefetchKeyTile(Value tileIndex) {
  prefetchRows(keyBuffer, kvHead, tileIndex, kvTile, sizeNk, headDim);
  prefetchRows(valueBuffer, kvHead, tileIndex, kvTile, sizeNk, valueDim);
}
