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
// crosses a loop iteration. A right operand that is the (batch, head) tile of
// a rank-4 buffer read-only in the enclosing scf.forall (the keys, the
// values) is read from a copy of that whole buffer packed once before the
// forall, instead of being packed again for every query tile
// (`packPairsOnce`, which the AVX512-BF16 kernel uses too).
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/SmallBitVector.h"

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

/// Whether an op inside `loop`'s regions writes to a view of `root` (ops
/// without declared effects that touch it, and writes to no particular
/// value, count as writes).
bool writesInside(Operation *loop, Value root) {
  auto writes = [&](Operation *op) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects)
      return op->getNumRegions() == 0 &&
             llvm::any_of(op->getOperands(), [&](Value v) {
               return isa<MemRefType>(v.getType()) && rootBuffer(v) == root;
             });
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    // The AMX ops' effects without a value are on the tile registers; their
    // memory operands declare their own.
    bool amxOp = isa<amx::AMXDialect>(op->getDialect());
    return llvm::any_of(list, [&](MemoryEffects::EffectInstance &effect) {
      Value v = effect.getValue();
      return isa<MemoryEffects::Write>(effect.getEffect()) &&
             (v ? rootBuffer(v) == root : !amxOp);
    });
  };
  for (Region &region : loop->getRegions())
    if (region.walk([&](Operation *op) {
                return writes(op) ? WalkResult::interrupt()
                                  : WalkResult::advance();
              })
            .wasInterrupted())
      return true;
  return false;
}

/// Whether the buffer `a` holds the same values throughout `loop`: defined
/// outside it, and no op inside writes to a view of its root buffer.
bool isInvariantIn(Value a, scf::ForOp loop) {
  return loop.isDefinedOutsideOfLoop(a) && !writesInside(loop, rootBuffer(a));
}

/// `bMat` as the tile of one (batch, head) of a rank-4 bf16 buffer:
/// `memref.subview %base[batch, head, start, 0] [1, 1, n, D] [1, 1, 1, 1]`
/// (D static, the first two dims dropped) inside an scf.forall that reads
/// `base` without writing it.
struct HeadTile {
  scf::ForallOp forall;
  Value base;
  OpFoldResult batch, head, start;
};

std::optional<HeadTile> matchHeadTile(Value bMat) {
  auto view = bMat.getDefiningOp<memref::SubViewOp>();
  if (!view)
    return std::nullopt;
  MemRefType source = view.getSourceType();
  if (source.getRank() != 4 || view.getType().getRank() != 2 ||
      !source.getLayout().isIdentity() || !source.getElementType().isBF16() ||
      ShapedType::isDynamic(source.getDimSize(3)))
    return std::nullopt;
  ArrayRef<int64_t> sizes = view.getStaticSizes();
  if (sizes[0] != 1 || sizes[1] != 1 || sizes[3] != source.getDimSize(3) ||
      view.getStaticOffsets()[3] != 0 ||
      !llvm::all_of(view.getStaticStrides(), [](int64_t s) { return s == 1; }))
    return std::nullopt;
  llvm::SmallBitVector dropped = view.getDroppedDims();
  if (!dropped.test(0) || !dropped.test(1))
    return std::nullopt;
  auto forall = view->getParentOfType<scf::ForallOp>();
  Value base = view.getSource();
  if (!forall || !forall.isDefinedOutsideOfLoop(base) ||
      writesInside(forall, rootBuffer(base)))
    return std::nullopt;
  SmallVector<OpFoldResult> offsets = view.getMixedOffsets();
  return HeadTile{forall, base, offsets[0], offsets[1], offsets[2]};
}

/// `memref<?x?xbf16, strided<[?, 1], offset: ?>>`: the packed operand, a
/// view of a prepacked buffer or a stack buffer.
MemRefType dynamicBf16View(OpBuilder &b) {
  return MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                         b.getBF16Type(),
                         StridedLayoutAttr::get(b.getContext(),
                                                ShapedType::kDynamic,
                                                {ShapedType::kDynamic, 1}));
}

/// A rank-2 view `[rows, cols]` at (batch, head, row, col) of the rank-4
/// `buffer`, cast to the fully dynamic strided type.
Value headView(OpBuilder &b, Location loc, Value buffer, OpFoldResult batch,
               OpFoldResult head, OpFoldResult row, OpFoldResult col,
               OpFoldResult rows, OpFoldResult cols) {
  auto sourceType = cast<MemRefType>(buffer.getType());
  SmallVector<OpFoldResult> offsets = {batch, head, row, col};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                     rows, cols};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  SmallVector<int64_t> shape;
  for (OpFoldResult size : {rows, cols})
    shape.push_back(isa<Attribute>(size)
                        ? getConstantIntValue(size).value_or(ShapedType::kDynamic)
                        : ShapedType::kDynamic);
  auto viewType = memref::SubViewOp::inferRankReducedResultType(
      shape, sourceType, offsets, sizes, strides);
  Value view = memref::SubViewOp::create(b, loc, viewType, buffer, offsets,
                                         sizes, strides);
  return memref::CastOp::create(b, loc, dynamicBf16View(b), view);
}

/// The whole of `tile.base` in the layout of the right operand, packed
/// before `tile.forall` in parallel over (batch, head) into a heap buffer
/// [B, H, rows, cols] freed after it (`pad`: 32 for AMX's blocks, the
/// column block of the AVX512-BF16 kernel):
/// - transposed (the keys, B^T): rows D / 2, cols 2 (N + pad), Bp[p, 2j + t]
///   = K[j, 2p + t], zero for j >= N, so that a tile starting at any key
///   reads its padded columns inside the buffer;
/// - else (the values): rows ceil(N / 2) + pad, cols 2 roundUp(D, pad),
///   Bp[p, 2j + t] = V[2p + t, j], zero past N.
Value prepackHead(OpBuilder &b, Location loc, const HeadTile &tile,
                  bool transposed, int64_t pad, AmxPrepacked &cache) {
  scf::ForallOp user = tile.forall;
  auto key = std::make_tuple(user.getOperation(), tile.base,
                             unsigned(transposed), pad);
  if (Value packed = cache.buffers.lookup(key))
    return packed;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(user);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  int64_t d = cast<MemRefType>(tile.base.getType()).getDimSize(3);
  Value batches = memref::DimOp::create(b, loc, tile.base, 0);
  Value heads = memref::DimOp::create(b, loc, tile.base, 1);
  Value keys = memref::DimOp::create(b, loc, tile.base, 2);
  Value rows, cols, paddedKeys;
  if (transposed) {
    rows = index(d / 2);
    paddedKeys = arith::AddIOp::create(b, loc, keys, index(pad));
    cols = arith::MulIOp::create(b, loc, paddedKeys, index(2));
  } else {
    rows = arith::AddIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, keys, index(2)),
        index(pad));
    cols = index(2 * llvm::alignTo(d, pad));
  }
  auto type = MemRefType::get(SmallVector<int64_t>(4, ShapedType::kDynamic),
                              b.getBF16Type());
  Value packed = memref::AllocOp::create(
      b, loc, type, ValueRange{batches, heads, rows, cols},
      b.getI64IntegerAttr(64));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{batches, heads}, ValueRange{},
      std::nullopt);
  {
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(forall.getBody());
    Value bi = forall.getInductionVars()[0], hi = forall.getInductionVars()[1];
    Value zero = index(0);
    Value from = headView(b, loc, tile.base, bi, hi, zero, zero, keys,
                          b.getIndexAttr(d));
    Value into = headView(b, loc, packed, bi, hi, zero, zero, rows, cols);
    if (transposed)
      packPairsTransposed(b, loc, from, keys, d, paddedKeys, kTileCols, into);
    else
      packPairsInterleaved(b, loc, from, keys, index(d),
                           index(llvm::alignTo(d, pad)), kTileCols, rows,
                           into);
  }
  b.setInsertionPointAfter(user);
  memref::DeallocOp::create(b, loc, packed);
  cache.buffers[key] = packed;
  return packed;
}
} // namespace

Value mlir::attn::packPairsOnce(OpBuilder &b, Location loc, Value bMat,
                                bool transposedB, Value k, Value kPadded,
                                Value nPadded, int64_t pad,
                                AmxPrepacked *prepacked,
                                function_ref<Value()> packHere) {
  std::optional<HeadTile> tile =
      prepacked ? matchHeadTile(bMat) : std::optional<HeadTile>();
  if (!tile)
    return packHere();
  Value two = arith::ConstantIndexOp::create(b, loc, 2);
  Value pairRows = arith::DivUIOp::create(b, loc, kPadded, two);
  Value start = getValueOrCreateConstantIndexOp(b, loc, tile->start);
  if (transposedB) {
    // The keys: columns 2 start .. 2 (start + nPadded) of the packed head;
    // the padding columns past this tile are never stored to C.
    Value whole = prepackHead(b, loc, *tile, true, pad, *prepacked);
    return headView(b, loc, whole, tile->batch, tile->head, b.getIndexAttr(0),
                    arith::MulIOp::create(b, loc, start, two).getResult(),
                    getAsOpFoldResult(pairRows),
                    arith::MulIOp::create(b, loc, nPadded, two).getResult());
  }
  // The values: pair rows start / 2 .. (start + kPadded) / 2 of the packed
  // head, when the tile starts on a pair and its padding rows are zero in
  // there (a tile of whole k blocks, or the last one); else packed here.
  Value whole = prepackHead(b, loc, *tile, false, pad, *prepacked);
  Value keys = memref::DimOp::create(b, loc, tile->base, 2);
  auto eq = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  };
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value even = eq(arith::RemUIOp::create(b, loc, start, two), zeroIndex);
  Value wholeBlocks = eq(k, kPadded);
  Value last = eq(arith::AddIOp::create(b, loc, start, k), keys);
  Value inPlace = arith::AndIOp::create(
      b, loc, even, arith::OrIOp::create(b, loc, wholeBlocks, last));
  MemRefType dynamicType = dynamicBf16View(b);
  auto choice = scf::IfOp::create(b, loc, TypeRange{dynamicType}, inPlace,
                                  /*withElseRegion=*/true);
  OpBuilder::InsertionGuard ifGuard(b);
  b.setInsertionPointToStart(choice.thenBlock());
  Value view = headView(
      b, loc, whole, tile->batch, tile->head,
      arith::DivUIOp::create(b, loc, start, two).getResult(),
      b.getIndexAttr(0), pairRows,
      arith::MulIOp::create(b, loc, nPadded, two).getResult());
  scf::YieldOp::create(b, loc, view);
  b.setInsertionPointToStart(choice.elseBlock());
  scf::YieldOp::create(
      b, loc,
      memref::CastOp::create(b, loc, dynamicType, packHere()).getResult());
  return choice.getResult(0);
}

scf::ForOp mlir::attn::loopInvariantFor(OpBuilder &b, Value a) {
  auto loop = dyn_cast_or_null<scf::ForOp>(b.getInsertionBlock()->getParentOp());
  // Only out of a loop directly in a parallel iteration or a scope, whose
  // stack is released per iteration (an alloca in an outer loop's body
  // would grow the stack with each of its iterations).
  if (loop &&
      isa<scf::ForallOp, scf::ParallelOp, memref::AllocaScopeOp>(
          loop->getParentOp()) &&
      isInvariantIn(a, loop))
    return loop;
  return scf::ForOp();
}

void mlir::attn::buildAmxContraction(OpBuilder &b, Location loc, Value a,
                                     Value bMat, Value c, bool transposedB,
                                     bool zeroInit, AmxPrepacked *prepacked,
                                     Value aBf16) {
  scf::ForOp loop = loopInvariantFor(b, a);
  bool hoist = bool(loop);
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  // A rounded to bf16: before the enclosing loop when A does not change in
  // it (the query tile, the same for every key tile), else in the scope.
  if (hoist)
    b.setInsertionPoint(loop);
  else
    b.setInsertionPointToStart(&scope.getBodyRegion().emplaceBlock());
  Value aPacked = aBf16;
  if (!aPacked) {
    Value rowsA = memref::DimOp::create(b, loc, a, 0);
    Value depthA = memref::DimOp::create(b, loc, a, 1);
    aPacked = packRowsToBf16(b, loc, a, rowsA, depthA,
                             roundUp(b, loc, depthA, kBlockDepth), kTileCols,
                             roundUp(b, loc, rowsA, kBlockRows));
  }
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
  Value pairRows = arith::DivUIOp::create(b, loc, kPadded, two);
  auto packHere = [&]() {
    return transposedB
               ? packPairsTransposed(
                     b, loc, bMat, n,
                     cast<MemRefType>(bMat.getType()).getDimSize(1), nPadded,
                     kTileCols)
               : packPairsInterleaved(b, loc, bMat, k, n, nPadded, kTileCols,
                                      pairRows);
  };
  Value bPacked = packPairsOnce(b, loc, bMat, transposedB, k, kPadded,
                                nPadded, kBlockCols, prepacked, packHere);
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
