//===- CpuAmxKernel.cpp - Tile contractions on AMX ------------------------===//
//
// `bf16-isa=amx` of attn-cpu-microkernels: a contraction of the flash form
// as 16 x 16 f32 accumulator tiles, each the sum over k blocks of 32 of
// `amx.tile_mulf` (TDPBF16PS: 16 x 16 x 32 bf16 products at once), in
// blocks of 2 x 2 tiles and 2 k blocks. The operands are padded copies in
// stack buffers: A rounded to bf16 in [32 m, 64 k] blocks, B in the pair
// layout of the right operand (the same as the AVX512-BF16 kernel's,
// CpuBf16Packing.cpp), and C in [32 m, 32 n] blocks; the accumulators go
// through that copy of C between iterations of the k loop, so no tile value
// crosses a loop iteration.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Rows and columns of an f32 accumulator tile; bf16 columns of an operand.
constexpr int64_t kTileRows = 16, kTileCols = 16, kTileDepth = 32;
/// The block of one loop iteration: 2 x 2 accumulator tiles, 2 k tiles.
constexpr int64_t kBlockRows = 2 * kTileRows, kBlockCols = 2 * kTileCols,
                  kBlockDepth = 2 * kTileDepth;

void forLoop(OpBuilder &b, Location loc, Value lo, Value hi, int64_t step,
             function_ref<void(Value)> body) {
  buildForLoop(b, loc, lo, hi, arith::ConstantIndexOp::create(b, loc, step),
               body);
}

/// Copies the [m, n] f32 block at (0, 0) from `from` to `to` in vectors of
/// 16 lanes, the last of each row masked.
void copyBlock(OpBuilder &b, Location loc, Value from, Value to, Value m,
               Value n) {
  auto vecType = VectorType::get({kTileCols}, b.getF32Type());
  auto maskType = VectorType::get({kTileCols}, b.getI1Type());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0f)));
  forLoop(b, loc, zero, m, 1, [&](Value i) {
    forLoop(b, loc, zero, n, kTileCols, [&](Value j0) {
      Value mask = vector::CreateMaskOp::create(
          b, loc, maskType,
          ValueRange{arith::SubIOp::create(b, loc, n, j0).getResult()});
      Value row = vector::MaskedLoadOp::create(b, loc, vecType, from,
                                               ValueRange{i, j0}, mask, zeros);
      vector::MaskedStoreOp::create(b, loc, to, ValueRange{i, j0}, mask, row);
    });
  });
}

Value roundUp(OpBuilder &b, Location loc, Value v, int64_t multiple) {
  Value m = arith::ConstantIndexOp::create(b, loc, multiple);
  return arith::MulIOp::create(b, loc,
                               arith::CeilDivUIOp::create(b, loc, v, m), m);
}

/// The buffer that `v` is a view of (through subviews, casts and the like).
Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether the buffer `a` holds the same values throughout `loop`: defined
/// outside it, and no op inside writes to a view of its root buffer (ops
/// without declared effects that touch it count as writes).
bool isInvariantIn(Value a, scf::ForOp loop) {
  if (!loop.isDefinedOutsideOfLoop(a))
    return false;
  Value root = rootBuffer(a);
  WalkResult result = loop.getBody()->walk([&](Operation *op) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects) {
      if (op->getNumRegions() == 0 &&
          llvm::any_of(op->getOperands(),
                       [&](Value v) { return isa<MemRefType>(v.getType()) &&
                                             rootBuffer(v) == root; }))
        return WalkResult::interrupt();
      return WalkResult::advance();
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (MemoryEffects::EffectInstance &effect : list) {
      if (!isa<MemoryEffects::Write>(effect.getEffect()))
        continue;
      Value v = effect.getValue();
      if (!v || rootBuffer(v) == root)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}
} // namespace

void mlir::attn::buildAmxContraction(OpBuilder &b, Location loc, Value a,
                                     Value bMat, Value c, bool transposedB,
                                     bool zeroInit) {
  auto loop = dyn_cast_or_null<scf::ForOp>(b.getInsertionBlock()->getParentOp());
  // Only out of a loop directly in a parallel iteration or a scope, whose
  // stack is released per iteration (an alloca in an outer loop's body
  // would grow the stack with each of its iterations).
  bool hoist = loop &&
               isa<scf::ForallOp, scf::ParallelOp, memref::AllocaScopeOp>(
                   loop->getParentOp()) &&
               isInvariantIn(a, loop);
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  // A rounded to bf16: before the enclosing loop when A does not change in
  // it (the query tile, the same for every key tile), else in the scope.
  if (hoist)
    b.setInsertionPoint(loop);
  else
    b.setInsertionPointToStart(&scope.getBodyRegion().emplaceBlock());
  Value rowsA = memref::DimOp::create(b, loc, a, 0);
  Value depthA = memref::DimOp::create(b, loc, a, 1);
  Value aPacked = packRowsToBf16(b, loc, a, rowsA, depthA,
                                 roundUp(b, loc, depthA, kBlockDepth),
                                 kTileCols, roundUp(b, loc, rowsA, kBlockRows));
  if (hoist)
    b.setInsertionPointToStart(&scope.getBodyRegion().emplaceBlock());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value m = memref::DimOp::create(b, loc, c, 0);
  Value n = memref::DimOp::create(b, loc, c, 1);
  Value k = memref::DimOp::create(b, loc, a, 1);
  Value mPadded = roundUp(b, loc, m, kBlockRows);
  Value nPadded = roundUp(b, loc, n, kBlockCols);
  Value kPadded = roundUp(b, loc, k, kBlockDepth);
  Value two = arith::ConstantIndexOp::create(b, loc, 2);
  int64_t staticK = cast<MemRefType>(a.getType()).getDimSize(1);
  bool singleKBlock = !ShapedType::isDynamic(staticK) && staticK > 0 &&
                      staticK <= kBlockDepth;
  Value bPacked =
      transposedB
          ? packPairsTransposed(b, loc, bMat, n,
                                cast<MemRefType>(bMat.getType()).getDimSize(1),
                                nPadded, kTileCols)
          : packPairsInterleaved(b, loc, bMat, k, n, nPadded, kTileCols,
                                 arith::DivUIOp::create(b, loc, kPadded, two));
  // The tiles on `acc` (C itself, or its padded copy).
  auto buildTiles = [&](Value acc) {
  auto accTile = amx::TileType::get({kTileRows, kTileCols}, b.getF32Type());
  auto operandTile =
      amx::TileType::get({kTileRows, kTileDepth}, b.getBF16Type());
  auto offset = [&](Value base, int64_t delta) -> Value {
    return arith::AddIOp::create(b, loc, base,
                                 arith::ConstantIndexOp::create(b, loc, delta));
  };
  // Blocks of 2 x 2 accumulator tiles, each pair of A and B tiles used
  // twice, over 2 k blocks per iteration: the 8 tile registers hold the 4
  // accumulators and 4 operands, and an accumulator goes through memory
  // once per 2 products.
  forLoop(b, loc, zero, mPadded, kBlockRows, [&](Value i0) {
    forLoop(b, loc, zero, nPadded, kBlockCols, [&](Value j0) {
      Value rows[2] = {i0, offset(i0, kTileRows)};
      Value cols[2] = {j0, offset(j0, kTileCols)};
      // One k block: the products of 2 k tiles added to `sums`.
      auto kBlock = [&](Value k0, MutableArrayRef<Value> sums) {
        for (int64_t step = 0; step < kBlockDepth; step += kTileDepth) {
          Value k = offset(k0, step);
          Value pairRow = arith::DivUIOp::create(b, loc, k, two);
          Value lhs[2], rhs[2];
          for (int r = 0; r < 2; ++r)
            lhs[r] = amx::TileLoadOp::create(b, loc, operandTile, aPacked,
                                             ValueRange{rows[r], k});
          for (int t = 0; t < 2; ++t)
            rhs[t] = amx::TileLoadOp::create(
                b, loc, operandTile, bPacked,
                ValueRange{pairRow,
                           arith::MulIOp::create(b, loc, cols[t], two)
                               .getResult()});
          for (int r = 0; r < 2; ++r)
            for (int t = 0; t < 2; ++t)
              sums[2 * r + t] = amx::TileMulFOp::create(
                  b, loc, accTile, lhs[r], rhs[t], sums[2 * r + t]);
        }
      };
      auto storeSums = [&](ArrayRef<Value> sums) {
        for (int r = 0; r < 2; ++r)
          for (int t = 0; t < 2; ++t)
            amx::TileStoreOp::create(b, loc, acc,
                                     ValueRange{rows[r], cols[t]},
                                     sums[2 * r + t]);
      };
      auto loadSums = [&](MutableArrayRef<Value> sums) {
        for (int r = 0; r < 2; ++r)
          for (int t = 0; t < 2; ++t)
            sums[2 * r + t] = amx::TileLoadOp::create(
                b, loc, accTile, acc, ValueRange{rows[r], cols[t]});
      };
      Value sums[4];
      if (singleKBlock) {
        // k fits one block (the head dim or the key tile of 64): no k loop,
        // and zero accumulators never go through memory.
        if (zeroInit)
          for (Value &sum : sums)
            sum = amx::TileZeroOp::create(b, loc, accTile);
        else
          loadSums(sums);
        kBlock(zero, sums);
        storeSums(sums);
        return;
      }
      if (zeroInit)
        for (Value i : rows)
          for (Value j : cols)
            amx::TileStoreOp::create(b, loc, acc, ValueRange{i, j},
                                     amx::TileZeroOp::create(b, loc, accTile));
      forLoop(b, loc, zero, kPadded, kBlockDepth, [&](Value k0) {
        loadSums(sums);
        kBlock(k0, sums);
        storeSums(sums);
      });
    });
  });
  };
  // Whole blocks (every tile but the tails): on C in place; else on a
  // padded copy.
  Value whole = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, m, mPadded),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, n, nPadded));
  auto branch = scf::IfOp::create(b, loc, whole, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard thenGuard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    buildTiles(c);
    b.setInsertionPointToStart(branch.elseBlock());
    auto accType = MemRefType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, b.getF32Type());
    Value acc = memref::AllocaOp::create(b, loc, accType,
                                         ValueRange{mPadded, nPadded},
                                         b.getI64IntegerAttr(64));
    if (!zeroInit)
      copyBlock(b, loc, c, acc, m, n);
    buildTiles(acc);
    copyBlock(b, loc, acc, c, m, n);
  }
  memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
}
