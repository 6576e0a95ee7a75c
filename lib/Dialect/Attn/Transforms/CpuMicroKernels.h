//===- CpuMicroKernels.h - Vector code for the flash form's tiles -*- C++ -*-===//
//
// Pieces of attn-cpu-microkernels (CpuMicroKernels.cpp has the pass and the
// contraction kernels).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace attn {

/// Rewrites a 2-D linalg.generic on buffers whose operands are tiles
/// (indexed (i, j), unit inner stride) or rows (indexed (i)), with
/// iterators (parallel, parallel) writing tiles or (parallel, reduction)
/// writing rows through max / min / add, and whose body is element-wise
/// scalar ops (and linalg.index), into per-row loops over vectors of `width`
/// lanes (the last one masked). Fails, leaving `op` alone, on anything else.
LogicalResult vectorizeRowGeneric(RewriterBase &rewriter, linalg::GenericOp op,
                                  int64_t width);

/// Clones the scalar element-wise `op` (or an arith.constant) at `b` on
/// vectors of `width` lanes: its operands through `mapping`, those not in it
/// broadcast; maps its result to the vector one.
void cloneOnVectors(OpBuilder &b, Location loc, Operation &op,
                    IRMapping &mapping, int64_t width);

/// Emits `for (iv = lo; iv < hi; iv += step) body(iv)` at `b`'s point, with
/// `b` inside the loop while `body` runs.
void buildForLoop(OpBuilder &b, Location loc, Value lo, Value hi, Value step,
                  function_ref<void(Value)> body);

// Operand layouts of the bf16 dot-product kernels (CpuBf16Packing.cpp).
// Each returns a bf16 stack buffer (memref.alloca) of dynamic shape.

/// Returns `a` (f32 [m, k], unit inner stride) rounded to bf16 as [m, kEven]
/// (kEven >= k, a multiple of `width` or k rounded up to even; the padding
/// columns are zero). With `rows`, the buffer has that many rows (>= m), the
/// ones past m left unset.
Value packRowsToBf16(OpBuilder &b, Location loc, Value a, Value m, Value k,
                     Value kEven, int64_t width, Value rows = Value());

/// Returns Bp [k / 2, 2 nPadded] with Bp[p, 2j + t] = B[j, 2p + t] for
/// `bMat` bf16 [n, k] (unit inner stride, k static and even), zero for
/// n <= j < nPadded. Whole width x width blocks of pairs are transposed in
/// registers. With `into` (bf16 [k / 2, >= 2 nPadded], unit inner stride),
/// Bp is written there and returned instead of a stack buffer.
Value packPairsTransposed(OpBuilder &b, Location loc, Value bMat, Value n,
                          int64_t k, Value nPadded, int64_t width,
                          Value into = Value());

/// Returns Bp [ceil(k / 2), 2 nPadded] with Bp[p, 2j + t] = B[2p + t, j] for
/// `bMat` bf16 [k, n] (unit inner stride), zero where 2p + t >= k or j >= n;
/// nPadded is a multiple of `width`. With `pairRows` (>= ceil(k / 2)), Bp has
/// that many rows, the ones past k zero. With `into` (bf16 [pairs, >= 2
/// nPadded], unit inner stride), Bp is written there and returned.
Value packPairsInterleaved(OpBuilder &b, Location loc, Value bMat, Value k,
                           Value n, Value nPadded, int64_t width,
                           Value pairRows = Value(), Value into = Value());

/// Emits `C += A B` (or `A B^T` with `transposedB`) on AMX tiles: A f32
/// [M, K] rounded to bf16, B bf16 ([K, N] or [N, K]) in pairs of k (the
/// layout of the tiles' right operand), 16 x 16 f32 accumulator tiles of
/// 16 x 32 bf16 products (`amx.tile_mulf`), in a zero-padded stack copy of
/// C. With `zeroInit`, C's old values are not read. With `transposedB`, K
/// must be static and a multiple of 64.
///
/// When B is the tile of one (batch, head) of a rank-4 [B, H, N, D] buffer
/// that the enclosing scf.forall reads but does not write (the keys or the
/// values), the whole buffer is packed once into that layout before the
/// forall (in parallel over batch and head) and the contraction reads its
/// tile from there; `prepacked` remembers these buffers so that every
/// contraction of the forall shares them.
struct AmxPrepacked {
  /// (forall, buffer, transposed ? 1 : 0, padding) -> the packed buffer
  /// [B, H, rows, cols].
  llvm::DenseMap<std::tuple<Operation *, Value, unsigned, int64_t>, Value>
      buffers;
};

/// The right operand `bMat` of a bf16 contraction (the AMX kernel's and the
/// AVX512-BF16 kernel's) in the pair layout, [kPadded / 2, 2 nPadded]
/// (kPadded: k rounded up to even or more, nPadded a multiple of `pad`,
/// with nPadded - n < pad): when `bMat` is the (batch, head) tile of a
/// rank-4 buffer that the enclosing scf.forall only reads (see
/// buildAmxContraction), a view of that buffer packed once before the forall
/// with `pad` padding keys (columns, for the keys) and pair rows (for the
/// values); the values only where the tile starts on an even key and its
/// padding pairs are zero there (k == kPadded or the last tile), else
/// `packHere()` at run time. Without `prepacked` or such a tile,
/// `packHere()`.
Value packPairsOnce(OpBuilder &b, Location loc, Value bMat, bool transposedB,
                    Value k, Value kPadded, Value nPadded, int64_t pad,
                    AmxPrepacked *prepacked, function_ref<Value()> packHere);
/// With `aBf16` (bf16 [M rounded up to 32, K rounded up to 64], zero past
/// K), A is that instead of a rounded copy of `a`.
void buildAmxContraction(OpBuilder &b, Location loc, Value a, Value bMat,
                         Value c, bool transposedB, bool zeroInit,
                         AmxPrepacked *prepacked = nullptr,
                         Value aBf16 = Value());

/// The scf.for that `b`'s insertion point is directly in, when `a` holds the
/// same values throughout it and the loop sits directly in a parallel
/// iteration or an alloca scope (whose stack is released per iteration), so
/// that a copy of `a` made before the loop lives as long as needed; else
/// null. (The query tile in the key-tile loop: rounded to bf16 once.)
scf::ForOp loopInvariantFor(OpBuilder &b, Value a);

/// For `contraction` (C += P V on AMX, P f32 [M, K] the score tile), when
/// the flash form's step before it is `P = exp2(...)` element-wise in place,
/// a zero fill of a row buffer R and `R += rowsum P`, with nothing else
/// touching P: replaces those three ops by one pass that writes P rounded to
/// bf16 into a new buffer in AMX's left-operand layout (freed after the
/// contraction) and the row sums of the unrounded P into R, and returns that
/// buffer; else returns null and changes nothing.
Value fuseProbabilitiesToBf16(RewriterBase &b, Operation *contraction,
                              Value p);

/// For `rowMax` (R = max over j of S[i, j], as the flash form's
/// select-maximum, after a fill of R with -inf), when the op before that fill
/// is an element-wise pass in place on S (with bf16 inputs on AMX, the score
/// scale): replaces the three ops by one row loop that applies the pass,
/// stores S and takes the maximum as it goes. Fails, changing nothing,
/// otherwise.
LogicalResult fuseScaleAndRowMax(RewriterBase &b, linalg::GenericOp rowMax);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H
