//===- SdpaBlockLayout.cpp - Verifier of attn.sdpa's block layout ---------===//
//
// blocks(%num, %idx) and full_blocks(%fnum, %fidx) with block_size: the
// run-time block layout of attn.sdpa (FlexAttention's BlockMask).
//
//===----------------------------------------------------------------------===//
#include "AttnOpVerifiers.h"
#include "ShapeChecker.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

/// Checks one (count, indices) pair of the layout: `[Bl, Hl, NQB]` and
/// `[Bl, Hl, NQB, K]` of i32, Bl B or 1, Hl H or 1, NQB = ceil(Nq / BQ).
static LogicalResult verifyBlockList(SdpaOp op, StringRef what, Value count,
                                     Value indices, ShapedType q, int64_t bq) {
  ShapeChecker check(op);
  auto ct = cast<ShapedType>(count.getType());
  auto it = cast<ShapedType>(indices.getType());
  std::string countName = (what + " counts").str();
  std::string indexName = (what + " indices").str();
  Type i32 = IntegerType::get(op.getContext(), 32);
  if (failed(check.rank(countName, ct, 3, "[B or 1, H or 1, NQB]")) ||
      failed(check.rank(indexName, it, 4, "[B or 1, H or 1, NQB, K]")) ||
      failed(check.elementType(countName, ct, i32)) ||
      failed(check.elementType(indexName, it, i32)))
    return failure();
  for (unsigned d = 0; d < 3; ++d)
    if (failed(check.sameDim(d == 0 ? "B" : d == 1 ? "H" : "NQB", countName,
                             ct, d, indexName, it, d)))
      return failure();
  for (unsigned d = 0; d < 2; ++d) {
    int64_t size = ct.getDimSize(d), full = q.getDimSize(d);
    if (ShapedType::isDynamic(size) || size == 1 ||
        ShapedType::isDynamic(full) || size == full)
      continue;
    return op.emitOpError() << "expects dim " << d << " of the " << countName
                            << " to be " << (d == 0 ? "B" : "H") << " ("
                            << full << ") or 1, but got " << size;
  }
  int64_t nq = q.getDimSize(2), nqb = ct.getDimSize(2);
  if (!ShapedType::isDynamic(nq) && !ShapedType::isDynamic(nqb) &&
      nqb != (nq + bq - 1) / bq)
    return op.emitOpError() << "expects " << (nq + bq - 1) / bq
                            << " query blocks (NQB = ceil(Nq / BQ) = ceil("
                            << nq << " / " << bq << ")) in the " << countName
                            << ", but got " << nqb;
  return success();
}

LogicalResult mlir::attn::verifyBlockLayout(SdpaOp op, ShapedType q) {
  DenseI64ArrayAttr blockSize = op.getBlockSizeAttr();
  if (!op.getKvNumBlocks()) {
    if (op.getFullKvNumBlocks())
      return op.emitOpError("expects full_blocks only with blocks (the block "
                            "layout lists its partial blocks in blocks)");
    if (blockSize)
      return op.emitOpError("expects block_size only with a blocks operand");
    return success();
  }
  if (!blockSize)
    return op.emitOpError("with blocks expects the block_size attribute "
                          "(array<i64: BQ, BK>)");
  if (blockSize.size() != 2 || blockSize[0] < 1 || blockSize[1] < 1)
    return op.emitOpError("expects block_size = array<i64: BQ, BK> with BQ, "
                          "BK >= 1, but got ")
           << blockSize;
  if (failed(verifyBlockList(op, "blocks", op.getKvNumBlocks(),
                             op.getKvIndices(), q, blockSize[0])))
    return failure();
  if (Value fnum = op.getFullKvNumBlocks()) {
    if (failed(verifyBlockList(op, "full_blocks", fnum, op.getFullKvIndices(),
                               q, blockSize[0])))
      return failure();
    ShapeChecker check(op);
    auto a = cast<ShapedType>(op.getKvNumBlocks().getType());
    auto b = cast<ShapedType>(fnum.getType());
    if (failed(check.compatibleShapes("blocks counts", a, "full_blocks counts",
                                      b)))
      return failure();
  }
  return success();
}
