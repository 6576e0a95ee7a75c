//===- SdpaTiling.cpp - TilingInterface for attn.sdpa ---------------------===//
//
// The iteration domain of attn.sdpa is [0, B) x [0, H) x [0, Nq) x [0, Nk)
// (batch, query head, query: parallel; key: reduction), and a tile is the
// same op on slices of its operands:
//
//   query, init, result  [b, h, i, :]          lse        [b, h, i]
//   key, value           [b, kvh, j, :]        memory     [kvh, :, :]
//   mask, bias           every dim that is not statically 1, by the
//                        dimension of [B, H, Nq, Nk] it is aligned with
//   positions            [b, (h | kvh | :), i or j]        span  [h]
//   segments             [b, i or j]
//
// where kvh is the range of KV heads that the head tile reads (GQA: query
// head h reads KV head h / (H / Hkv)). A head tile either covers whole
// groups of H / Hkv heads or lies inside one group; anything else cannot be
// written as one attn.sdpa and is refused (a diagnostic when the sizes are
// static, a run-time assertion otherwise).
//
// What the tile sees must stay what the whole op saw:
// * positions: without a positions operand a position is its row, so a
//   query or key tile that may start anywhere but row 0 gets explicit
//   positions (iota from the tile's offsets) when anything reads positions
//   (a pattern other than dense, a span, or a score_mod that uses %i or
//   %j);
// * the score_mod's %b and %h are the global batch and head: the tile's
//   region adds the tile offsets to them;
// * `#attn.causal<bottom_right>` depends on Nq and Nk: with static lengths
//   its offset is rebased (`offset + Nk - Nq`) for a query or key tile; with
//   dynamic lengths such a tile is refused; a random pattern (which depends
//   on Nk) is rewritten for key splits as the block_sparse layout it draws
//   (static Nq and Nk without positions operands; refused otherwise), and
//   memory is left out of key splits, whose merge counts it once
//   (SdpaSplitKv.cpp).
//
// The key dimension is the reduction dimension of the domain: tiling it is
// split-KV, through PartialReductionOpInterface (SdpaSplitKv.cpp); tiled as a
// full reduction it is refused.
//
//===----------------------------------------------------------------------===//
#include "SdpaTiling.h"

#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {
/// The TilingInterface of attn.sdpa.
struct SdpaTilingModel
    : public TilingInterface::ExternalModel<SdpaTilingModel, SdpaOp> {
  /// (batch, head, query) are parallel; keys are a reduction.
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    SmallVector<utils::IteratorType> types(3, utils::IteratorType::parallel);
    types.push_back(utils::IteratorType::reduction);
    return types;
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto sdpa = cast<SdpaOp>(op);
    SmallVector<OpFoldResult> q = dims(b, op->getLoc(), sdpa.getQuery());
    SmallVector<OpFoldResult> k = dims(b, op->getLoc(), sdpa.getKey());
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    return {{zero, q[0], one},
            {zero, q[1], one},
            {zero, q[2], one},
            {zero, k[2], one}};
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto sdpa = cast<SdpaOp>(op);
    if (!isWhole(offsets[3], sizes[3], sdpa.getKey(), 2))
      return op->emitOpError(
          "cannot tile the key dimension as a full reduction: split keys "
          "with transform.structured.tile_reduction_using_for or "
          "tile_reduction_using_forall (PartialReductionOpInterface)");
    FailureOr<SdpaTileOp> tiled =
        buildSdpaTile(b, sdpa, offsets, sizes, /*keySplit=*/false);
    if (failed(tiled))
      return failure();
    return TilingResult{{tiled->op},
                        SmallVector<Value>(tiled->op->getResults()),
                        tiled->slices};
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    resultOffsets.assign(offsets.begin(), offsets.begin() + 3);
    resultSizes.assign(sizes.begin(), sizes.begin() + 3);
    if (resultNumber == 0) {
      auto sdpa = cast<SdpaOp>(op);
      resultOffsets.push_back(b.getIndexAttr(0));
      resultSizes.push_back(
          b.getIndexAttr(sdpa.getValue().getType().getDimSize(3)));
    }
    return success();
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &iterOffsets,
      SmallVectorImpl<OpFoldResult> &iterSizes) const {
    if (resultNumber == 0 && !isConstantIntValue(offsets[3], 0))
      return failure();
    iterOffsets.assign(offsets.begin(), offsets.begin() + 3);
    iterSizes.assign(sizes.begin(), sizes.begin() + 3);
    iterOffsets.push_back(b.getIndexAttr(0));
    iterSizes.push_back(dims(b, op->getLoc(), cast<SdpaOp>(op).getKey())[2]);
    return success();
  }

  FailureOr<TilingResult>
  generateResultTileValue(Operation *op, OpBuilder &b, unsigned resultNumber,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes) const {
    SmallVector<OpFoldResult> iterOffsets, iterSizes;
    if (failed(getIterationDomainTileFromResultTile(
            op, b, resultNumber, offsets, sizes, iterOffsets, iterSizes)))
      return failure();
    return getTiledImplementation(op, b, iterOffsets, iterSizes);
  }
};

/// The result shapes of attn.sdpa (those of `init`, and [B, H, Nq] for
/// lse), so that tiling can create the loops' destinations for dynamic
/// shapes.
struct SdpaReifyModel
    : public ReifyRankedShapedTypeOpInterface::ExternalModel<SdpaReifyModel,
                                                             SdpaOp> {
  LogicalResult reifyResultShapes(Operation *op, OpBuilder &b,
                                  ReifiedRankedShapedTypeDims &shapes) const {
    auto sdpa = cast<SdpaOp>(op);
    SmallVector<OpFoldResult> init = dims(b, op->getLoc(), sdpa.getInit());
    shapes.push_back(init);
    if (sdpa.getLse())
      shapes.push_back({init[0], init[1], init[2]});
    return success();
  }
};
} // namespace

void mlir::attn::registerSdpaTilingInterface(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    SdpaOp::attachInterface<SdpaTilingModel, SdpaReifyModel>(*ctx);
    detail::attachSdpaPartialReduction(*ctx);
  });
}
