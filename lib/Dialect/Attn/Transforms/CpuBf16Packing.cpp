//===- CpuBf16Packing.cpp - Operand layouts of the bf16 dot kernels -------===//
//
// The AVX512-BF16 dot product (`x86vector.avx512.dot`, vdpbf16ps) adds to
// each f32 lane j the products of one *pair* of bf16 values of each
// operand: `acc[j] += a[2j] b[2j] + a[2j+1] b[2j+1]`. The bf16 micro-kernel
// of attn-cpu-microkernels broadcasts a pair (A[i, 2p], A[i, 2p+1]) of a
// row of A to every lane and needs B with the pairs of its reduction
// dimension next to each other: Bp[p, 2j + t] = B(k = 2p + t, column j).
// These functions build A in bf16 and B in that layout, in stack buffers
// (the caller's memref.alloca_scope), zero-padded to whole pairs and to
// whole column blocks.
//
//===----------------------------------------------------------------------===//
#include "CpuMicroKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Small builders shared by the packers.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y));
  }
  /// A 1-D mask of `lanes` lanes with the first max(0, min(count, lanes))
  /// set.
  Value mask(int64_t lanes, Value count) {
    Value clamped = arith::MaxSIOp::create(b, loc, count, index(0));
    return vector::CreateMaskOp::create(
        b, loc, VectorType::get({lanes}, b.getI1Type()), ValueRange{clamped});
  }
  Value zeros(VectorType type) {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, b.getZeroAttr(type.getElementType())));
  }
  Value stackBuffer(Type element, Value rows, Value cols) {
    auto type = MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                                element);
    return memref::AllocaOp::create(b, loc, type, ValueRange{rows, cols},
                                    b.getI64IntegerAttr(64));
  }
  void loop(Value lo, Value hi, Value step, function_ref<void(Value)> body) {
    buildForLoop(b, loc, lo, hi, step, body);
  }
};
} // namespace

void mlir::attn::buildForLoop(OpBuilder &b, Location loc, Value lo, Value hi,
                              Value step, function_ref<void(Value)> body) {
  scf::ForOp::create(b, loc, lo, hi, step, ValueRange{},
                     [&](OpBuilder &nb, Location, Value iv, ValueRange) {
                       OpBuilder::InsertionGuard guard(b);
                       b.setInsertionPoint(nb.getInsertionBlock(),
                                           nb.getInsertionPoint());
                       body(iv);
                       scf::YieldOp::create(b, loc);
                     });
}

Value mlir::attn::packRowsToBf16(OpBuilder &b, Location loc, Value a, Value m,
                                 Value k, Value kEven, int64_t width,
                                 Value rows) {
  Emitter e{b, loc};
  auto f32Type = VectorType::get({width}, b.getF32Type());
  auto bf16Type = VectorType::get({width}, b.getBF16Type());
  Value packed = e.stackBuffer(b.getBF16Type(), rows ? rows : m, kEven);
  Value zeros = e.zeros(f32Type);
  e.loop(e.index(0), m, e.index(1), [&](Value i) {
    e.loop(e.index(0), kEven, e.index(width), [&](Value k0) {
      // Columns k .. kEven - 1 (at most one) are loaded as zero.
      Value row = vector::MaskedLoadOp::create(
          b, loc, f32Type, a, ValueRange{i, k0}, e.mask(width, e.sub(k, k0)),
          zeros);
      Value narrow = arith::TruncFOp::create(b, loc, bf16Type, row);
      vector::MaskedStoreOp::create(b, loc, packed, ValueRange{i, k0},
                                    e.mask(width, e.sub(kEven, k0)), narrow);
    });
  });
  return packed;
}

Value mlir::attn::packPairsTransposed(OpBuilder &b, Location loc, Value bMat,
                                      Value n, int64_t k, Value nPadded,
                                      int64_t width, Value into) {
  Emitter e{b, loc};
  int64_t pairs = k / 2;
  auto pairType = VectorType::get({2}, b.getBF16Type());
  auto rowType = VectorType::get({2 * width}, b.getBF16Type());
  auto wordType = VectorType::get({width}, b.getI32Type());
  auto squareType = VectorType::get({width, width}, b.getI32Type());
  Value packed =
      into ? into
           : e.stackBuffer(b.getBF16Type(), e.index(pairs), e.mul(nPadded, 2));
  // A pair of bf16 is one 32-bit word: Bp is the transpose of B seen as
  // [N, K / 2] words, done in width x width blocks in registers.
  Value wholeN = e.sub(n, arith::RemUIOp::create(b, loc, n, e.index(width)));
  int64_t wholePairs = pairs - pairs % width;
  e.loop(e.index(0), wholeN, e.index(width), [&](Value j0) {
    for (int64_t p0 = 0; p0 < wholePairs; p0 += width) {
      Value square = e.zeros(squareType);
      for (int64_t r = 0; r < width; ++r) {
        Value row = vector::LoadOp::create(
            b, loc, rowType, bMat,
            ValueRange{e.add(j0, e.index(r)), e.index(2 * p0)});
        square = vector::InsertOp::create(
            b, loc, vector::BitCastOp::create(b, loc, wordType, row), square,
            ArrayRef<int64_t>{r});
      }
      Value t = vector::TransposeOp::create(b, loc, square,
                                            ArrayRef<int64_t>{1, 0});
      for (int64_t r = 0; r < width; ++r) {
        Value words = vector::ExtractOp::create(b, loc, t, ArrayRef<int64_t>{r});
        vector::StoreOp::create(b, loc,
                                vector::BitCastOp::create(b, loc, rowType, words),
                                packed,
                                ValueRange{e.index(p0 + r), e.mul(j0, 2)});
      }
    }
  });
  // The rest pair by pair; columns n .. nPadded - 1 are zero.
  auto copyPairs = [&](Value jLo, Value jHi, int64_t pLo) {
    e.loop(jLo, jHi, e.index(1), [&](Value j) {
      for (int64_t p = pLo; p < pairs; ++p) {
        Value pair = vector::LoadOp::create(b, loc, pairType, bMat,
                                            ValueRange{j, e.index(2 * p)});
        vector::StoreOp::create(b, loc, pair, packed,
                                ValueRange{e.index(p), e.mul(j, 2)});
      }
    });
  };
  copyPairs(e.index(0), wholeN, wholePairs);
  copyPairs(wholeN, n, 0);
  Value zeroPair = e.zeros(pairType);
  e.loop(n, nPadded, e.index(1), [&](Value j) {
    for (int64_t p = 0; p < pairs; ++p)
      vector::StoreOp::create(b, loc, zeroPair, packed,
                              ValueRange{e.index(p), e.mul(j, 2)});
  });
  return packed;
}

Value mlir::attn::packPairsInterleaved(OpBuilder &b, Location loc, Value bMat,
                                       Value k, Value n, Value nPadded,
                                       int64_t width, Value pairRows,
                                       Value into) {
  Emitter e{b, loc};
  auto halfType = VectorType::get({width}, b.getBF16Type());
  Value pairs =
      pairRows ? pairRows : arith::CeilDivUIOp::create(b, loc, k, e.index(2));
  Value packed =
      into ? into : e.stackBuffer(b.getBF16Type(), pairs, e.mul(nPadded, 2));
  Value zeros = e.zeros(halfType);
  // Lanes of the two rows alternate: (r0[0], r1[0], r0[1], r1[1], ...).
  SmallVector<int64_t> interleave;
  for (int64_t l = 0; l < width; ++l) {
    interleave.push_back(l);
    interleave.push_back(width + l);
  }
  Value lastRow = e.sub(k, e.index(1));
  e.loop(e.index(0), pairs, e.index(1), [&](Value p) {
    Value r0 = e.mul(p, 2);
    Value r1 = e.add(r0, e.index(1));
    // Rows at or past k are zero (their loads masked off, their indices
    // kept in bounds): the second row of an odd k's last pair, and the
    // padding pairs up to pairRows.
    Value hasR0 =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, r0, k);
    Value hasR1 =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, r1, k);
    Value r0InBounds = arith::MinUIOp::create(b, loc, r0, lastRow);
    Value r1InBounds = arith::MinUIOp::create(b, loc, r1, lastRow);
    e.loop(e.index(0), nPadded, e.index(width), [&](Value j0) {
      Value live = e.sub(n, j0);
      Value liveR0 =
          arith::SelectOp::create(b, loc, hasR0, live, e.index(0));
      Value lo = vector::MaskedLoadOp::create(b, loc, halfType, bMat,
                                              ValueRange{r0InBounds, j0},
                                              e.mask(width, liveR0), zeros);
      Value liveR1 =
          arith::SelectOp::create(b, loc, hasR1, live, e.index(0));
      Value hi = vector::MaskedLoadOp::create(b, loc, halfType, bMat,
                                              ValueRange{r1InBounds, j0},
                                              e.mask(width, liveR1), zeros);
      Value both = vector::ShuffleOp::create(b, loc, lo, hi, interleave);
      vector::StoreOp::create(b, loc, both, packed,
                              ValueRange{p, e.mul(j0, 2)});
    });
  });
  return packed;
}
