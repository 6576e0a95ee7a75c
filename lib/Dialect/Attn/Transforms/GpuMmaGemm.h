//===- GpuMmaGemm.h - Chunked products on mma.sync tensor cores -*- C++ -*-===//
//
// The matrix products of causal FAVOR+'s chunked scan (GpuKernelizedCausal.cpp)
// as one small kernel each: per (b, h) and chunk c, a [rows x cols] f32
// product over `k` of two bf16 / f16 operands, both read with the reduction
// dim contiguous ("A B^T"), on mma.sync m16n8k16 (f32 accumulators). The same
// product can be built as a linalg.generic instead (the CPU runs it, so the
// rewritten IR is checked against the float64 reference there).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUMMAGEMM_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUMMAGEMM_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir {
namespace attn {

/// How a product reads one operand X, a [Xb, Xrows, Xk] tensor of bf16 or
/// f16, for head bh = b H + h and chunk c: element (i, kk) of the chunk's
/// matrix is X[b batchMul + (h / group) % headMod, c rowStep + i,
/// c kStep + kk], 0 where the row is >= Xrows. The reduction range must lie
/// inside Xk. `transposed`: X is [Xb, Xk, Xrows] and the element
/// X[.., c kStep + kk, c rowStep + i] (two 16-bit loads a register instead
/// of one 32-bit load).
struct MmaOperand {
  Value tensor;
  int64_t batchMul, group, headMod, rowStep, kStep;
  bool transposed = false;
};

/// out[bh, c rows + i, j] = sum_{kk < k} A(i, kk) B(j, kk) in f32, for
/// bh < BH and c < nC. `rows` and `k` are multiples of 16, `cols` of 8.
/// `lowerMask`: the live scores of a chunk instead, j <= i (else 0), rounded
/// to the operands' element type.
struct MmaGemm {
  MmaOperand a, b;
  int64_t heads, k, rows, cols;
  bool lowerMask = false;
  /// Also write the maximum of each row over every column tile of the grid
  /// (8 nt columns, mmaGemmColumnTiles) into a second f32 result [BH, nC
  /// rows, cols / (8 nt)]: the warps' 16 x 8 nt tiles reduced by quad
  /// shuffles in the epilogue (causal FAVOR+'s per-query stabiliser).
  bool rowMax = false;
};

/// The [BH, nC rows, cols] f32 result of `g` (the operands' type with
/// lowerMask): a gpu.launch_func of an
/// mma.sync kernel `name` in gpu.module @attn_gpu of `module` (`launch`),
/// else a linalg.generic. With ATTN_MMA_KERNEL_DUMP set, the kernel text and
/// `g`'s parameters go to stderr (test/GPU/mma_gemm_emulate.py runs them).
Value buildMmaGemm(OpBuilder &b, Location loc, ModuleOp module,
                   const MmaGemm &g, OpFoldResult bh, Value nC, bool launch,
                   StringRef name, Value *rowMax = nullptr);

/// The kernel of `g` as gpu.func text (element type "bf16" or "f16"):
/// grid (BH nC, ceil(rows / 64), cols / (8 nt)), 128 threads; warp w of
/// block (p, y, z) computes rows [64 y + 16 w, + 16) and nt 8-column tiles
/// from 8 nt z, its fragments loaded from global memory (32-bit pairs).
std::string writeMmaGemmKernel(const MmaGemm &g, StringRef name,
                               StringRef element);

/// The 8-column tiles a warp of `g`'s kernel computes.
int64_t mmaGemmColumnTiles(const MmaGemm &g);

/// The exclusive prefix of causal FAVOR+'s chunk states as one sequential
/// scan over the chunks per state element: for T [BH, nC width, cols] (f32,
/// chunk c's state in rows [c width, c width + width)) and the running key
/// stabiliser R [BH, nC] (f32, non-decreasing in c),
///   acc_0 = 0, acc_{c+1} = (acc_c + T[c]) exp(R[c] - R[c + 1])
/// (so acc_c = sum_{c' < c} exp(R[c'] - R[c]) T[c']), and S[c] = acc_c /
/// max(1, c chunk / 1024) rounded to the element type, same layout as T.
/// width cols is a multiple of 128.
struct ChunkScan {
  int64_t width, cols, chunk;
};

/// Chunks a thread of the scan kernel loads before it adds them in order.
constexpr int64_t kChunkScanUnroll = 4;

/// The scan of `s` over `t` and `run` as a gpu.launch_func of kernel `name`
/// (one thread per (bh, state element), grid BH width cols / 128, 128
/// threads); the [BH, nC width, cols] result in `elt`.
Value buildChunkScan(OpBuilder &b, Location loc, ModuleOp module,
                     const ChunkScan &s, Value t, Value run, OpFoldResult bh,
                     Value nC, Type elt, StringRef name);

/// The kernel of buildChunkScan as gpu.func text (element "bf16" or "f16").
std::string writeChunkScanKernel(const ChunkScan &s, StringRef name,
                                 StringRef element);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUMMAGEMM_H
