//===- FuseVariants.h - Fused forms of the non-core ops -------*- C++ -*-===//
//
// Pieces of attn-fuse-variants (FuseVariants.cpp has the pass and the shared
// builders; one file per op builds its fused form).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEVARIANTS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEVARIANTS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {
namespace fuse {

/// A unit attribute on the op that makes a vector which is stored once and
/// not read back soon (a whole cache line of output): attn-cpu-microkernels
/// makes its in-bounds stores into memory non-temporal where they are
/// 64-byte aligned (no read for ownership of the line). Only a hint: the
/// value is the same either way.
inline constexpr llvm::StringLiteral kNonTemporalAttr = "attn.nontemporal";

/// The fused form of each op, built at `b`'s insertion point: the value that
/// replaces the op's result, or failure (nothing built, no diagnostic) when
/// the op is not one the fused form takes; it is then left for
/// attn-decompose.
FailureOr<Value> fuseKernelized(OpBuilder &b, KernelizedOp op, int64_t chunk);
FailureOr<Value> fuseLowRank(OpBuilder &b, LowRankOp op, int64_t chunk);
FailureOr<Value> fuseLightConv(OpBuilder &b, LightConvOp op, int64_t chunk);
FailureOr<Value> fusePkm(OpBuilder &b, PkmOp op, int64_t chunk);

/// An scf.for from `lb` to `ub` by `step` whose body `body` builds with `b`
/// (positioned in the loop) and whose returned values it yields.
scf::ForOp buildFor(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                    ValueRange init,
                    function_ref<SmallVector<Value>(Value, ValueRange)> body);

/// An index constant.
Value cIndex(OpBuilder &b, Location loc, int64_t v);

/// An f32 constant.
Value cF32(OpBuilder &b, Location loc, double v);

/// `min(step, size - start)`: the rows of the chunk that starts at `start`.
Value chunkRows(OpBuilder &b, Location loc, Value start, Value size,
                int64_t step);

/// `t[i0, i1, row0 : row0 + rows, :]` of a rank-4 tensor, as a 2-D tensor.
Value rows4d(OpBuilder &b, Location loc, Value t, Value i0, Value i1,
             OpFoldResult row0, OpFoldResult rows);

/// `t[row0 : row0 + rows, col0 : col0 + cols]` of a 2-D tensor (`cols` null:
/// every column from col0 on).
Value slice2d(OpBuilder &b, Location loc, Value t, OpFoldResult row0,
              OpFoldResult rows, OpFoldResult col0 = {},
              OpFoldResult cols = {});

/// Writes the 2-D `src` into `dest` at (row0, col0).
Value insert2d(OpBuilder &b, Location loc, Value src, Value dest,
               OpFoldResult row0, OpFoldResult col0 = {});

/// A 2-D f32 tensor of the given sizes filled with `value`.
Value filled2d(OpBuilder &b, Location loc, OpFoldResult rows,
               OpFoldResult cols, double value);

/// `C[i, j] += sum_k A[i, k] B[k, j]` as a linalg.generic on 2-D f32 tiles,
/// A read as [K, M] when `transposeA`, B as [N, K] when `transposeB` (the
/// forms that attn-cpu-microkernels takes). With `live` (i1 [M, K]) the
/// product of a pair that is not live is not added (a select, never a
/// multiplication by 0).
Value contract(OpBuilder &b, Location loc, Value a, Value bm, Value c,
               bool transposeA = false, bool transposeB = false,
               Value live = {});

/// `x > acc ? x : acc`: a maximum that passes over NaN, in the form that
/// attn-cpu-microkernels reduces with vector compares and selects
/// (arith.maximumf on vectors is no native instruction: LLVM expands it
/// lane by lane).
Value selectMax(OpBuilder &b, Location loc, Value acc, Value x);

/// `exp(x)` for f32 `x` as `exp2(x log2(e))`: attn-prepare-tile-loops turns
/// the f32 exp2 of the fused forms into a polynomial that vectorizes.
Value expViaExp2(OpBuilder &b, Location loc, Value x);

} // namespace fuse
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEVARIANTS_H
