//===- CpuMicroKernels.cpp - attn-cpu-microkernels ------------------------===//
//
// Replaces the f32 contractions of the flash form's tiles (on buffers, after
// bufferization) by register-tiled vector micro-kernels in outer-product
// form:
//
//   for each block of MR rows i and NR vectors of W columns j:
//     acc[r][c] = C[i + r, j + c W .. + W]                  (MR x NR vectors)
//     for k:  b[c] = Bt[k, j + c W .. + W]
//             acc[r][c] = fma(broadcast A[i + r, k], b[c], acc[r][c])
//     C[i + r, j + c W .. + W] = acc[r][c]
//
// The accumulators stay in registers across the k loop and no horizontal
// reduction is needed. `C += A B^T` (the scores `q k^T`) first packs B^T
// into a stack buffer whose rows are padded to whole column blocks;
// `C += A B` (the probabilities times the values) reads B in place. Column
// remainders are masked loads and stores; row remainders run a one-row
// kernel; any size works.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNCPUMICROKERNELS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {

/// `C[i, j] += sum_k A[i, k] * B[.., ..]`, with B indexed (j, k) when
/// `transposedB`, else (k, j); buffers of rank 2, A and C f32, B f32, bf16 or
/// f16 (widened to f32 in the body).
struct Contraction {
  Value a, b, c;
  bool transposedB;
  /// A indexed (k, i) (the state update phi(K)^T V of attn.kernelized's
  /// fused form).
  bool transposedA = false;
  /// Optional i1 [M, K] (indexed (i, k)): `C[i, j] += live[i, k] ? A[i, k] *
  /// B[k, j] : 0` (the value contraction of a Partial tile).
  Value live;
  /// A `linalg.fill` of +0.0 into C just before the contraction: the kernel
  /// starts from zero accumulators instead, and the fill goes.
  linalg::FillOp zeroFill;
};

/// Returns the linalg.fill of +0.0 into `c` that precedes `op` with only
/// side-effect-free ops between them, or null.
linalg::FillOp findZeroFill(Operation *op, Value c) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill.getOutputs()[0] != c)
        return nullptr;
      auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
      auto value = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
      if (!value || !value.getValue().isPosZero())
        return nullptr;
      return fill;
    }
    if (!isMemoryEffectFree(prev))
      return nullptr;
  }
  return nullptr;
}

/// Returns whether the innermost stride of `value`'s memref type is 1.
bool hasUnitInnerStride(Value value) {
  auto type = cast<MemRefType>(value.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return !strides.empty() && strides.back() == 1;
}

/// Returns whether `body` is `yield out + a * b`, or with `selecting`,
/// `yield out + (live ? a * b : 0)` (either operand order of + and *); with
/// `widenedB`, `b` is `arith.extf` of the block argument.
bool isMultiplyAdd(Block &body, bool selecting, bool widenedB) {
  // [extf,] mulf, [select,] addf and yield, besides constants.
  size_t numOps = llvm::count_if(
      body, [](Operation &op) { return !isa<arith::ConstantOp>(op); });
  if (numOps != (selecting ? 4u : 3u) + (widenedB ? 1u : 0u))
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body.getArgument(body.getNumArguments() - 1);
  Value other = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if (add.getLhs() != out && add.getRhs() != out)
    return false;
  if (selecting) {
    auto select = other.getDefiningOp<arith::SelectOp>();
    if (!select || select.getCondition() != body.getArgument(2))
      return false;
    auto zero = select.getFalseValue().getDefiningOp<arith::ConstantOp>();
    auto zeroValue = zero ? dyn_cast<FloatAttr>(zero.getValue()) : FloatAttr();
    if (!zeroValue || !zeroValue.getValue().isZero())
      return false;
    other = select.getTrueValue();
  }
  auto mul = other.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value x = body.getArgument(0), y = body.getArgument(1);
  if (widenedB) {
    auto ext = dyn_cast_or_null<arith::ExtFOp>(
        (mul.getLhs() == x ? mul.getRhs() : mul.getLhs()).getDefiningOp());
    if (!ext || ext.getIn() != y)
      return false;
    y = ext.getResult();
  }
  return (mul.getLhs() == x && mul.getRhs() == y) ||
         (mul.getLhs() == y && mul.getRhs() == x);
}

std::optional<Contraction> matchContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 3 ||
      op.getNumDpsInputs() < 2 || op.getNumDpsInputs() > 3 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  bool selecting = op.getNumDpsInputs() == 3;
  Value live = selecting ? op.getDpsInputs()[2] : Value();
  if (selecting) {
    auto type = dyn_cast<MemRefType>(live.getType());
    if (!type || type.getRank() != 2 || !type.getElementType().isInteger(1))
      return std::nullopt;
  }
  for (Value v : {a, b, c}) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || type.getRank() != 2)
      return std::nullopt;
    Type elt = type.getElementType();
    if (!elt.isF32() && !(v == b && (elt.isBF16() || elt.isF16())))
      return std::nullopt;
  }
  bool widenedB = !getElementTypeOrSelf(b.getType()).isF32();
  if (!isMultiplyAdd(*op.getBody(), selecting, widenedB))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto dimsOf = [](AffineMap map) -> std::optional<std::pair<unsigned, unsigned>> {
    if (map.getNumResults() != 2 || !map.isProjectedPermutation())
      return std::nullopt;
    return std::make_pair(cast<AffineDimExpr>(map.getResult(0)).getPosition(),
                          cast<AffineDimExpr>(map.getResult(1)).getPosition());
  };
  auto ma = dimsOf(maps[0]), mb = dimsOf(maps[1]),
       mc = dimsOf(maps[op.getNumDpsInputs()]);
  if (!ma || !mb || !mc)
    return std::nullopt;
  unsigned i = mc->first, j = mc->second;
  unsigned k = 3 - i - j;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators[i] != utils::IteratorType::parallel ||
      iterators[j] != utils::IteratorType::parallel ||
      iterators[k] != utils::IteratorType::reduction)
    return std::nullopt;
  bool transposedA = *ma == std::make_pair(k, i);
  if ((*ma != std::make_pair(i, k) && !transposedA) ||
      (selecting && (transposedA || dimsOf(maps[2]) !=
                                        std::make_optional(std::make_pair(i, k)))))
    return std::nullopt;
  bool transposedB;
  if (*mb == std::make_pair(j, k))
    transposedB = true;
  else if (*mb == std::make_pair(k, j))
    transposedB = false;
  else
    return std::nullopt;
  // Vectors are loaded along j from C and from B (or its packed transpose).
  if (!hasUnitInnerStride(c) || (!transposedB && !hasUnitInnerStride(b)))
    return std::nullopt;
  // A B^T with a liveness is not what attn-tile makes.
  if (selecting && transposedB)
    return std::nullopt;
  return Contraction{a, b, c, transposedB, transposedA, live,
                     findZeroFill(op, c)};
}

/// Emits the micro-kernels of one contraction.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, int64_t width)
      : b(b), loc(loc), width(width),
        vecType(VectorType::get({width}, b.getF32Type())),
        maskType(VectorType::get({width}, b.getI1Type())) {}

  void build(const Contraction &op);
  /// Whether the accumulators start at zero rather than from C.
  bool zeroInit = false;
  /// Whether a contraction with bf16 B may use the AVX512-BF16 dot product
  /// (`x86vector.avx512.dot`) on pairs of k; A is then rounded to bf16.
  bool allowBf16Dot = false;
  /// Whether such a contraction may use AMX tiles (`amx.tile_mulf`).
  bool allowAmx = false;
  /// The keys and values packed once per forall in the pair layout, for
  /// AMX and the AVX512-BF16 kernel (shared by the contractions of one pass
  /// run).
  AmxPrepacked *amxPrepacked = nullptr;
  /// A (P) already rounded to bf16 by the fused probabilities pass
  /// (CpuAmxProbabilities.cpp: AMX's left-operand layout, which the
  /// AVX512-BF16 kernel reads as rows of pairs), or null.
  Value leftBf16;
  /// Whether `op` takes the AMX kernel (`buildAmxContraction`).
  bool takesAmx(const Contraction &op) const {
    // AMX tiles take q k^T over a head dim of whole blocks of 64.
    return allowAmx && takesBf16Dot(op) &&
           (!op.transposedB ||
            cast<MemRefType>(op.b.getType()).getDimSize(1) % 64 == 0);
  }
  /// Whether `op` takes a bf16 kernel (AMX or the dot product).
  bool takesBf16Dot(const Contraction &op) const;

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, loc, memref, d);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }

  /// The kernel over `C += A Bt` for Bt indexed (k, j).
  void buildKernel(Value a, Value bt, Value c, bool fullBLoads);
  /// The liveness of the selecting contraction, or null.
  Value live;
  /// Whether A is indexed (k, i).
  bool transposedA = false;
  /// One block of `rows` rows starting at row `i0`, over every column block.
  void buildRowBlock(Value a, Value bt, Value c, Value i0, int64_t rows,
                     bool fullBLoads);
  /// Bt [K, Npad] = B^T with zero padding, in a stack buffer.
  Value packTransposed(Value bMat, Value n, Value k, Value nPadded);
  /// The bf16 dot-product kernel: A and B packed in pairs of k
  /// (CpuBf16Packing.cpp), then one `x86vector.avx512.dot` per pair.
  void buildBf16Dot(const Contraction &op);
  /// A vector of `width` lanes of `memref` at (row, col), masked when `mask`
  /// is set, widened to f32.
  Value loadWidened(Value memref, Value row, Value col, Value mask);

  OpBuilder &b;
  Location loc;
  int64_t width;
  VectorType vecType, maskType;
  // Register tile: mr rows by nr vectors.
  int64_t mr = 1, nr = 1;
  // Whether every column block is whole (no masks on C).
  bool fullColumns = false;
  // Whether the k loop runs over pairs of k with the bf16 dot product.
  bool dotPairs = false;
  Value m, n, kDim;
};

Value KernelBuilder::loadWidened(Value memref, Value row, Value col,
                                 Value mask) {
  Type elt = getElementTypeOrSelf(memref.getType());
  auto type = VectorType::get({width}, elt);
  Value v;
  if (!mask)
    v = vector::LoadOp::create(b, loc, type, memref, ValueRange{row, col});
  else
    v = vector::MaskedLoadOp::create(
        b, loc, type, memref, ValueRange{row, col}, mask,
        arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(type, b.getZeroAttr(elt))));
  return elt.isF32() ? v : arith::ExtFOp::create(b, loc, vecType, v).getResult();
}

bool KernelBuilder::takesBf16Dot(const Contraction &op) const {
  // The selecting contraction keeps the f32 kernel: its masked FMA drops a
  // pair that is not live, which a dot over two pairs cannot.
  if ((!allowBf16Dot && !allowAmx) || width != 16 || op.live || op.transposedA ||
      !getElementTypeOrSelf(op.b.getType()).isBF16() ||
      !hasUnitInnerStride(op.a) || !hasUnitInnerStride(op.b))
    return false;
  if (!op.transposedB)
    return true;
  // q k^T packs pairs of the head dim, which must be static and even.
  int64_t k = cast<MemRefType>(op.b.getType()).getDimSize(1);
  return !ShapedType::isDynamic(k) && k % 2 == 0;
}

void KernelBuilder::buildBf16Dot(const Contraction &op) {
  // A rounded to bf16 before the enclosing loop when A does not change in it
  // (the query tile, the same for every key tile).
  Value aHoisted;
  if (!leftBf16)
    if (scf::ForOp loop = loopInvariantFor(b, op.a)) {
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPoint(loop);
      Value rows = dim(op.a, 0), cols = dim(op.a, 1);
      Value even = arith::MulIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, cols, index(2)), index(2));
      aHoisted = packRowsToBf16(b, loc, op.a, rows, cols, even, width);
    }
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&scope.getBodyRegion().emplaceBlock());
  int64_t block = nr * width;
  Value pairs = arith::CeilDivUIOp::create(b, loc, kDim, index(2));
  Value kEven = arith::MulIOp::create(b, loc, pairs, index(2));
  Value nPadded = arith::MulIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, n, index(block)),
      index(block));
  Value aPacked = leftBf16 ? leftBf16
                  : aHoisted
                      ? aHoisted
                      : packRowsToBf16(b, loc, op.a, m, kDim, kEven, width);
  // B (the keys, the values) from a copy packed once per (batch, head)
  // before the forall where it is such a tile, else packed here.
  Value bPacked = packPairsOnce(b, loc, op.b, op.transposedB, kDim, kEven,
                                nPadded, block, amxPrepacked, [&]() {
    return op.transposedB
               ? packPairsTransposed(
                     b, loc, op.b, n,
                     cast<MemRefType>(op.b.getType()).getDimSize(1), nPadded,
                     width)
               : packPairsInterleaved(b, loc, op.b, kDim, n, nPadded, width);
  });
  dotPairs = true;
  kDim = pairs;
  buildKernel(aPacked, bPacked, op.c, /*fullBLoads=*/true);
  memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
}

void KernelBuilder::build(const Contraction &op) {
  live = op.live;
  transposedA = op.transposedA;
  m = dim(op.c, 0);
  n = dim(op.c, 1);
  kDim = dim(op.a, transposedA ? 0 : 1);
  // Register budget for accumulators: 24 of AVX-512's 32 registers, 12 of
  // AVX2's 16 (the rest hold the B vectors and a broadcast).
  int64_t budget = width >= 16 ? 24 : 12;
  int64_t maxNr = width >= 16 ? 4 : 2;
  int64_t staticN = cast<MemRefType>(op.c.getType()).getDimSize(1);
  if (!ShapedType::isDynamic(staticN))
    nr = std::min<int64_t>(std::max<int64_t>(1, llvm::divideCeil(staticN, width)),
                           maxNr + 2);
  else
    nr = maxNr;
  mr = std::max<int64_t>(1, std::min<int64_t>(8, budget / nr));
  int64_t block = nr * width;
  fullColumns = !ShapedType::isDynamic(staticN) && staticN % block == 0;

  if (takesBf16Dot(op)) {
    if (takesAmx(op)) {
      buildAmxContraction(b, loc, op.a, op.b, op.c, op.transposedB, zeroInit,
                          amxPrepacked, leftBf16);
      return;
    }
    buildBf16Dot(op);
    return;
  }
  if (!op.transposedB) {
    buildKernel(op.a, op.b, op.c, fullColumns);
    return;
  }
  // B is [N, K]: pack its transpose, rows padded to whole column blocks, in
  // a stack buffer that lives for this contraction only.
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  Block *body = &scope.getBodyRegion().emplaceBlock();
  b.setInsertionPointToStart(body);
  Value nPadded = arith::MulIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, n, index(block)),
      index(block));
  Value bt = packTransposed(op.b, n, kDim, nPadded);
  buildKernel(op.a, bt, op.c, /*fullBLoads=*/true);
  memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
}

Value KernelBuilder::packTransposed(Value bMat, Value nVal, Value kVal,
                                    Value nPadded) {
  auto type = MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                              b.getF32Type());
  // 64-byte alignment: whole cache lines, and aligned vector loads.
  Value bt = memref::AllocaOp::create(b, loc, type, ValueRange{kVal, nPadded},
                                      b.getI64IntegerAttr(64));
  Value zero = index(0), one = index(1);
  Value fzero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  // bt[k, j] = B[j, k] for j < N, in W x W blocks transposed in registers
  // (when B's rows are contiguous), the rest element by element; padding
  // columns are zero.
  Value wholeJ = zero, wholeK = zero;
  if (hasUnitInnerStride(bMat)) {
    Value w = index(width);
    wholeJ = sub(nVal, arith::RemUIOp::create(b, loc, nVal, w));
    wholeK = sub(kVal, arith::RemUIOp::create(b, loc, kVal, w));
    auto squareType = VectorType::get({width, width}, b.getF32Type());
    scf::ForOp::create(
        b, loc, zero, wholeJ, w, ValueRange{},
        [&](OpBuilder &nb, Location nl, Value j0, ValueRange) {
          scf::ForOp::create(
              nb, nl, zero, wholeK, w, ValueRange{},
              [&](OpBuilder &kb, Location kl, Value k0, ValueRange) {
                Value square = arith::ConstantOp::create(
                    kb, kl,
                    DenseElementsAttr::get(squareType, kb.getF32FloatAttr(0)));
                for (int64_t r = 0; r < width; ++r) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPoint(kb.getInsertionBlock(),
                                      kb.getInsertionPoint());
                  Value row = loadWidened(
                      bMat,
                      arith::AddIOp::create(
                          kb, kl, j0, arith::ConstantIndexOp::create(kb, kl, r)),
                      k0, Value());
                  square = vector::InsertOp::create(kb, kl, row, square,
                                                    ArrayRef<int64_t>{r});
                }
                Value t = vector::TransposeOp::create(kb, kl, square,
                                                      ArrayRef<int64_t>{1, 0});
                for (int64_t r = 0; r < width; ++r) {
                  Value row = vector::ExtractOp::create(kb, kl, t,
                                                        ArrayRef<int64_t>{r});
                  vector::StoreOp::create(
                      kb, kl, row, bt,
                      ValueRange{arith::AddIOp::create(
                                     kb, kl, k0,
                                     arith::ConstantIndexOp::create(kb, kl, r)),
                                 j0});
                }
                scf::YieldOp::create(kb, kl);
              });
          scf::YieldOp::create(nb, nl);
        });
  }
  auto copyTransposed = [&](Value jLo, Value jHi, Value kLo, Value kHi) {
    scf::ForOp::create(
        b, loc, jLo, jHi, one, ValueRange{},
        [&](OpBuilder &nb, Location nl, Value j, ValueRange) {
          scf::ForOp::create(
              nb, nl, kLo, kHi, one, ValueRange{},
              [&](OpBuilder &kb, Location kl, Value k, ValueRange) {
                Value v =
                    memref::LoadOp::create(kb, kl, bMat, ValueRange{j, k});
                if (!v.getType().isF32())
                  v = arith::ExtFOp::create(kb, kl, kb.getF32Type(), v);
                memref::StoreOp::create(kb, kl, v, bt, ValueRange{k, j});
                scf::YieldOp::create(kb, kl);
              });
          scf::YieldOp::create(nb, nl);
        });
  };
  // The columns k >= wholeK of whole row blocks, then the rows j >= wholeJ.
  copyTransposed(zero, wholeJ, wholeK, kVal);
  copyTransposed(wholeJ, nVal, zero, kVal);
  scf::ForOp::create(
      b, loc, zero, kVal, one, ValueRange{},
      [&](OpBuilder &nb, Location nl, Value k, ValueRange) {
        scf::ForOp::create(
            nb, nl, nVal, nPadded, one, ValueRange{},
            [&](OpBuilder &jb, Location jl, Value j, ValueRange) {
              memref::StoreOp::create(jb, jl, fzero, bt, ValueRange{k, j});
              scf::YieldOp::create(jb, jl);
            });
        scf::YieldOp::create(nb, nl);
      });
  return bt;
}

void KernelBuilder::buildKernel(Value a, Value bt, Value c, bool fullBLoads) {
  // Rows in whole blocks of mr, then the rest one at a time.
  Value wholeRows = sub(m, arith::RemUIOp::create(b, loc, m, index(mr)));
  scf::ForOp::create(b, loc, index(0), wholeRows, index(mr), ValueRange{},
                     [&](OpBuilder &nb, Location nl, Value i0, ValueRange) {
                       OpBuilder::InsertionGuard guard(b);
                       b.setInsertionPoint(nb.getInsertionBlock(),
                                           nb.getInsertionPoint());
                       buildRowBlock(a, bt, c, i0, mr, fullBLoads);
                       scf::YieldOp::create(b, loc);
                     });
  if (mr > 1)
    scf::ForOp::create(b, loc, wholeRows, m, index(1), ValueRange{},
                       [&](OpBuilder &nb, Location nl, Value i0, ValueRange) {
                         OpBuilder::InsertionGuard guard(b);
                         b.setInsertionPoint(nb.getInsertionBlock(),
                                             nb.getInsertionPoint());
                         buildRowBlock(a, bt, c, i0, 1, fullBLoads);
                         scf::YieldOp::create(b, loc);
                       });
}

void KernelBuilder::buildRowBlock(Value a, Value bt, Value c, Value i0,
                                  int64_t rows, bool fullBLoads) {
  int64_t block = nr * width;
  scf::ForOp::create(
      b, loc, index(0), n, index(block), ValueRange{},
      [&](OpBuilder &nb, Location nl, Value j0, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> cols, masks;
        for (int64_t v = 0; v < nr; ++v) {
          Value col = add(j0, index(v * width));
          cols.push_back(col);
          masks.push_back(fullColumns ? Value()
                                      : vector::CreateMaskOp::create(
                                            b, loc, maskType,
                                            ValueRange{sub(n, col)}));
        }
        Value zeros = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0f)));
        auto load = [&](Value memref, Value row, int64_t v,
                        bool full) -> Value {
          return loadWidened(memref, row, cols[v],
                             full ? Value() : masks[v]);
        };
        // With the dot product: a row of B holds `width` pairs of k.
        auto pairType = VectorType::get({2 * width}, b.getBF16Type());
        auto wordType = VectorType::get({width}, b.getI32Type());
        SmallVector<Value> rowIdx;
        for (int64_t r = 0; r < rows; ++r)
          rowIdx.push_back(add(i0, index(r)));
        SmallVector<Value> init;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t v = 0; v < nr; ++v)
            init.push_back(zeroInit ? zeros : load(c, rowIdx[r], v, false));
        auto kLoop = scf::ForOp::create(
            b, loc, index(0), kDim, index(1), init,
            [&](OpBuilder &kb, Location kl, Value k, ValueRange acc) {
              OpBuilder::InsertionGuard guard2(b);
              b.setInsertionPoint(kb.getInsertionBlock(),
                                  kb.getInsertionPoint());
              SmallVector<Value> bVecs;
              for (int64_t v = 0; v < nr; ++v)
                bVecs.push_back(
                    dotPairs ? vector::LoadOp::create(
                                   b, loc, pairType, bt,
                                   ValueRange{k, arith::MulIOp::create(
                                                     b, loc, cols[v], index(2))})
                                   .getResult()
                             : load(bt, k, v, fullBLoads));
              SmallVector<Value> next(acc.begin(), acc.end());
              for (int64_t r = 0; r < rows; ++r) {
                Value splat;
                if (dotPairs) {
                  // The pair (A[i, 2k], A[i, 2k + 1]) as one 32-bit word in
                  // every lane.
                  Value pair = vector::LoadOp::create(
                      b, loc, VectorType::get({2}, b.getBF16Type()), a,
                      ValueRange{rowIdx[r],
                                 arith::MulIOp::create(b, loc, k, index(2))});
                  Value word = vector::ExtractOp::create(
                      b, loc,
                      vector::BitCastOp::create(
                          b, loc, VectorType::get({1}, b.getI32Type()), pair),
                      ArrayRef<int64_t>{0});
                  splat = vector::BitCastOp::create(
                      b, loc, pairType,
                      vector::BroadcastOp::create(b, loc, wordType, word));
                } else {
                  SmallVector<Value, 2> at = {rowIdx[r], k};
                  if (transposedA)
                    std::swap(at[0], at[1]);
                  Value s = memref::LoadOp::create(b, loc, a, at);
                  splat = vector::BroadcastOp::create(b, loc, vecType, s);
                }
                // A pair that is not live leaves the accumulators alone
                // (a masked FMA), so 0 * inf never reaches them.
                Value liveLanes;
                if (live)
                  liveLanes = vector::BroadcastOp::create(
                      b, loc, maskType,
                      memref::LoadOp::create(b, loc, live,
                                             ValueRange{rowIdx[r], k}));
                for (int64_t v = 0; v < nr; ++v) {
                  Value acc = next[r * nr + v];
                  Value sum =
                      dotPairs ? x86vector::DotBF16Op::create(
                                     b, loc, vecType, acc, splat, bVecs[v])
                                     .getResult()
                               : vector::FMAOp::create(b, loc, splat, bVecs[v],
                                                       acc)
                                     .getResult();
                  if (liveLanes)
                    sum = arith::SelectOp::create(b, loc, liveLanes, sum, acc);
                  next[r * nr + v] = sum;
                }
              }
              scf::YieldOp::create(b, loc, next);
            });
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t v = 0; v < nr; ++v) {
            Value acc = kLoop.getResult(r * nr + v);
            if (masks[v])
              vector::MaskedStoreOp::create(b, loc, c,
                                            ValueRange{rowIdx[r], cols[v]},
                                            masks[v], acc);
            else
              vector::StoreOp::create(b, loc, acc, c,
                                      ValueRange{rowIdx[r], cols[v]});
          }
        scf::YieldOp::create(b, loc);
      });
}

/// The stores of the vectors attn-fuse-variants marked with
/// kNonTemporalAttr (on the op that makes them): each in-bounds, unmasked,
/// minor-identity vector.transfer_write of such a 64-byte vector into a
/// memref with unit inner stride becomes a non-temporal vector.store where
/// its address is 64-byte aligned (checked at run time: a whole cache line,
/// written without reading it for ownership) and a plain one elsewhere. The
/// marks are removed.
static void nonTemporalStores(RewriterBase &rewriter, Operation *root) {
  SmallVector<vector::TransferWriteOp> writes;
  root->walk([&](vector::TransferWriteOp write) {
    Operation *def = write.getVector().getDefiningOp();
    auto memref = dyn_cast<MemRefType>(write.getBase().getType());
    VectorType vType = write.getVectorType();
    int64_t offset;
    SmallVector<int64_t> strides;
    if (def && def->hasAttr(fuse::kNonTemporalAttr) && memref &&
        !write.getMask() && vType.getRank() == 1 &&
        write.getPermutationMap().isMinorIdentity() &&
        write.getInBoundsValues()[0] &&
        vType.getNumElements() * vType.getElementTypeBitWidth() == 512 &&
        succeeded(memref.getStridesAndOffset(strides, offset)) &&
        strides.back() == 1)
      writes.push_back(write);
  });
  // The marks are read: drop them (an arith op would carry its mark on into
  // the LLVM dialect).
  root->walk([](Operation *op) { op->removeAttr(fuse::kNonTemporalAttr); });
  for (vector::TransferWriteOp write : writes) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(write);
    Location loc = write.getLoc();
    Value base = write.getBase();
    auto meta = memref::ExtractStridedMetadataOp::create(rewriter, loc, base);
    Value element = meta.getOffset();
    for (auto [index, stride] :
         llvm::zip(write.getIndices(), meta.getStrides()))
      element = arith::AddIOp::create(
          rewriter, loc, element,
          arith::MulIOp::create(rewriter, loc, index, stride));
    int64_t bytes = write.getVectorType().getElementTypeBitWidth() / 8;
    Value address = arith::AddIOp::create(
        rewriter, loc,
        memref::ExtractAlignedPointerAsIndexOp::create(rewriter, loc, base),
        arith::MulIOp::create(
            rewriter, loc, element,
            arith::ConstantIndexOp::create(rewriter, loc, bytes)));
    Value aligned = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(
            rewriter, loc, address,
            arith::ConstantIndexOp::create(rewriter, loc, 64)),
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    auto ifOp = scf::IfOp::create(rewriter, loc, TypeRange{}, aligned,
                                  /*withElseRegion=*/true);
    rewriter.setInsertionPointToStart(ifOp.thenBlock());
    vector::StoreOp::create(rewriter, loc, write.getVector(), base,
                            write.getIndices(), /*nontemporal=*/true,
                            llvm::MaybeAlign(64));
    rewriter.setInsertionPointToStart(ifOp.elseBlock());
    vector::StoreOp::create(rewriter, loc, write.getVector(), base,
                            write.getIndices());
    rewriter.eraseOp(write);
  }
}

struct AttnCpuMicroKernels
    : public attn::impl::AttnCpuMicroKernelsBase<AttnCpuMicroKernels> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorWidth < 1 || vectorWidth > 64 ||
        (vectorWidth & (vectorWidth - 1)) != 0) {
      getOperation()->emitError()
          << "attn-cpu-microkernels: vector-width must be a power of two "
             "between 1 and 64, but got "
          << int64_t(vectorWidth);
      return signalPassFailure();
    }
    if (bf16Isa != "none" && bf16Isa != "avx512bf16" && bf16Isa != "amx") {
      getOperation()->emitError()
          << "attn-cpu-microkernels: bf16-isa must be 'none', 'avx512bf16' or "
             "'amx', but got '"
          << bf16Isa << "'";
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    nonTemporalStores(rewriter, getOperation());
    SmallVector<std::pair<linalg::GenericOp, Contraction>> targets;
    SmallVector<linalg::GenericOp> others;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (!op->getParentOfType<scf::ForallOp>() &&
          !op->getParentOfType<scf::ParallelOp>())
        return;
      if (std::optional<Contraction> match = matchContraction(op))
        targets.push_back({op, *match});
      else
        others.push_back(op);
    });
    AmxPrepacked amxPrepacked;
    // With AMX or the dot product, P V's probabilities are made in bf16 by
    // one pass (which replaces the exp pass and the row sum, so before the
    // others are collected).
    DenseMap<Operation *, Value> leftBf16;
    if (bf16Isa == "amx" || bf16Isa == "avx512bf16") {
      for (auto &[op, contraction] : targets) {
        KernelBuilder kernel(rewriter, op.getLoc(), vectorWidth);
        kernel.allowBf16Dot = true;
        kernel.allowAmx = bf16Isa == "amx";
        if (!contraction.transposedB && kernel.takesBf16Dot(contraction))
          if (Value packed =
                  fuseProbabilitiesToBf16(rewriter, op, contraction.a))
            leftBf16[op] = packed;
      }
      // The scale pass and the row maximum of a score tile, in a forall
      // with bf16 contractions, as one row loop.
      llvm::SmallPtrSet<Operation *, 4> bf16Foralls;
      for (auto &[op, contraction] : targets) {
        KernelBuilder kernel(rewriter, op.getLoc(), vectorWidth);
        kernel.allowBf16Dot = true;
        kernel.allowAmx = bf16Isa == "amx";
        if (kernel.takesBf16Dot(contraction))
          if (auto forall = op->getParentOfType<scf::ForallOp>())
            bf16Foralls.insert(forall);
      }
      SmallVector<linalg::GenericOp> rowMaxima;
      getOperation()->walk([&](linalg::GenericOp op) {
        // Only reductions: a fusion erases its own reduction and ops that
        // are not.
        auto forall = op->getParentOfType<scf::ForallOp>();
        if (forall && bf16Foralls.contains(forall) && op.getNumLoops() == 2 &&
            op.getIteratorTypesArray()[1] == utils::IteratorType::reduction)
          rowMaxima.push_back(op);
      });
      for (linalg::GenericOp op : rowMaxima)
        (void)fuseScaleAndRowMax(rewriter, op);
      others.clear();
      getOperation()->walk([&](linalg::GenericOp op) {
        if ((op->getParentOfType<scf::ForallOp>() ||
             op->getParentOfType<scf::ParallelOp>()) &&
            !llvm::any_of(targets, [&](auto &t) { return t.first == op; }))
          others.push_back(op);
      });
    }
    for (auto &[op, contraction] : targets) {
      rewriter.setInsertionPoint(op);
      KernelBuilder kernel(rewriter, op.getLoc(), vectorWidth);
      kernel.zeroInit = bool(contraction.zeroFill);
      kernel.allowBf16Dot = bf16Isa == "avx512bf16" || bf16Isa == "amx";
      kernel.allowAmx = bf16Isa == "amx";
      kernel.amxPrepacked = &amxPrepacked;
      kernel.leftBf16 = leftBf16.lookup(op);
      kernel.build(contraction);
      rewriter.eraseOp(op);
      if (contraction.zeroFill)
        rewriter.eraseOp(contraction.zeroFill);
    }
    // The element-wise and row-reduction ops of the tiles; what does not fit
    // stays for LLVM's vectorizers.
    for (linalg::GenericOp op : others)
      (void)vectorizeRowGeneric(rewriter, op, vectorWidth);
  }
};
} // namespace
