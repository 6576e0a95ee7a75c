//===- GpuCoreKernel.h - The Hopper sdpa core kernel as IR text -*- C++ -*-===//
//
// Writes the body of the Hopper (sm_90a) flash-attention core kernel of
// `attn-gpu-sdpa-core` as MLIR text (gpu, nvvm, llvm, arith, math, memref,
// scf), for one configuration: element type, head dim, key tile, lse. The
// pattern-dependent parts are calls to three helper functions that the pass
// builds through `PatternAttrInterface` next to the kernel.
//
// Shared memory (dynamic, rounded up to 1024 bytes at run time):
//   Q            : qTile x D, as D/64 sub-tiles of [qTile][64] (128-byte rows);
//                  warpgroup w reads rows [64 w, 64 w + 64)
//   K stage 0, 1 : kvTile x D each, the same sub-tile layout (`stages`
//                  of them when warp-specialised)
//   V stage 0, 1 : likewise
//   3 mbarriers  : Q, full[0], full[1] (5 with overlap: V's vfull[0, 1];
//                  warp-specialised, with or without overlap: Q,
//                  full[stages], empty[stages])
// Every sub-tile row is 128 bytes with TMA's 128-byte swizzle, 1024-aligned.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUCOREKERNEL_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUCOREKERNEL_H

#include <cstdint>
#include <string>

namespace mlir {
namespace attn {
namespace gpu_core {

/// Rows of a warpgroup's share of the query tile: one m64 wgmma.
constexpr int64_t kWarpgroupRows = 64;
/// Threads of a warpgroup.
constexpr int64_t kWarpgroupThreads = 128;
/// A discardable attribute of an attn.sdpa that overrides the core's pass
/// options for that op (the rewrites that build sdpa ops of a known shape
/// pick their tile): a dictionary with any of `q_tile` (64 or 128),
/// `kv_tile` (0: by head dim and pattern, 64 or 128) and
/// `min_blocks_per_sm` (0: the pass's rule), each i64, and `kv_band`
/// (array<i64: block, lo, hi>, below), read by attn-gpu-sdpa-core.
///
/// `kv_band = [block, lo, hi]` is the producer's promise that query row i
/// (of its head) has weight only on the key rows j with
/// b(i) + lo <= j < b(i) + hi, b(i) = floor(i / block) block (block >= 1,
/// 0 <= lo < hi): the keys outside are masked or score so low that their
/// weight is exactly 0 next to a live key of the same row. The core then
/// visits only the key tiles that meet [b(q0) + lo, b(qLast) + hi) for a
/// query tile [q0, qLast]; other backends may ignore it.
constexpr const char *kCoreOptionsAttr = "attn.gpu_core";

/// `merge = array<i64: first, tagBits, headChunks>` in kCoreOptionsAttr
/// (attn.lsh's rounds, GpuLshClusterAsSdpa.cpp): the op's results are read
/// only by two linalg.generic ops marked `kMergeAttr` ("lse" and "o"), which
/// merge its rows by log-sum-exp into accumulators [B H', N] (f32) and
/// [B H', N, Dv] (row (b H' + g / headChunks, qpos[b, g, m] >> tagBits) for
/// row m of head g; H' = H / headChunks), their inputs the previous
/// accumulators (lse: lse; o: o in f32 and lse; none when `first`). The
/// "lse" op may be gone (unused after the last round). attn-gpu-sdpa-core
/// then merges in the kernel's epilogue (KernelConfig::mergeHeadChunks)
/// and replaces the ops.
constexpr const char *kMergeAttr = "attn.gpu_lse_merge";

/// One kernel configuration.
struct KernelConfig {
  /// "bf16" or "f16": q, k, v and the output.
  std::string element;
  /// Head dim D of q, k and v (64 or 128).
  int64_t headDim;
  /// Keys of a key/value tile (64 or 128).
  int64_t kvTile;
  /// Rows of a query tile (64 or 128): one warpgroup per 64 rows, sharing
  /// the key/value tiles.
  int64_t qTile;
  /// Whether the kernel also writes the log-sum-exp.
  bool hasLse;
  /// `scale * log2(e)`.
  double scaleLog2;
  /// `scale` (used when a bias or score_mod needs the natural score).
  double scale = 1.0;
  /// "" (no positions operand), "i32" or "i64": the element type of the
  /// query and key positions `memref<?x?x?xT>` ([B, Hp, Nq] and [B, Hp, Nk],
  /// Hp one of 1, H, Hkv). With positions every key tile is visited and
  /// classified from the minimum and maximum positions of the query tile and
  /// of the key tile, by `@<name>_classify(qFirst, qLast, kFirst, kLast, Nq,
  /// Nk : i64) -> i8`; `@<name>_live` gets positions.
  std::string positions;
  /// "" (no document ids) or "i32" / "i64": the element types of the query
  /// and key document ids `memref<?x?xT>` ([B, Nq] and [B, Nk]), passed
  /// after the positions with `memref<?xi32>` [B], whether the key ids of
  /// each batch are sorted ascending (`<name>_sorted` below). A pair is live
  /// only where the ids of its row and column are equal. Each key tile's
  /// kind is met with the id ranges of the two tiles (Empty when they do
  /// not meet, Full when both hold one and the same id), and Partial tiles
  /// compare the ids per element.
  std::string querySegments, keySegments;
  /// With document ids and sorted key ids: visit only the key tiles that
  /// hold rows of the query tile's documents (two warp-wide binary searches
  /// at the start). Only for patterns whose key tiles are one interval (the
  /// j-th tile is the first tile + j): dense, causal, windows.
  bool clipToDocuments = false;
  /// The op's `kv_band` (see kCoreOptionsAttr; bandBlock 0: none): the key
  /// loop is clipped to the tiles that meet [b(q0) + bandLo, b(qLast) +
  /// bandHi), b(i) = floor(i / bandBlock) bandBlock. Only for patterns
  /// whose key tiles are one interval (with positions: all of them).
  int64_t bandBlock = 0, bandLo = 0, bandHi = 0;
  /// Whether a mask `memref<?x?x?x?xi1>` (right-aligned to [B, H, Nq, Nk],
  /// a dim of size 1 broadcasts) is passed: every visited tile is Partial.
  bool hasMask = false;
  /// "" (no bias) or the float element type of the bias `memref<?x?x?x?xT>`
  /// (broadcast like the mask), added to the natural score in every tile.
  std::string bias;
  /// Whether `@<name>_mod(s : f32, b, h, qpos, kpos : index) -> f32` (the
  /// op's score_mod) is applied to the natural score in every tile.
  bool hasScoreMod = false;
  /// Whether an adaptive span `memref<?xf32>` ([H]) is passed, with its
  /// `ramp` and `max_span`: tiles are met with the span's kind (Empty where
  /// every weight is 0, Full where every weight is 1) and Partial tiles
  /// weigh exp(s) by clamp((ramp + z' - |qpos - kpos|) / ramp, 0, 1).
  bool hasSpan = false;
  double ramp = 1.0, maxSpan = 0.0;
  /// Whether persistent memory is passed: two more tensor maps over
  /// [Hkv, M, D] (boxes like K and V) and M (`index`). Its ceil(M / kvTile)
  /// tiles are visited first, always live (keys >= M excepted), with no
  /// pattern, mask, bias, score_mod or span.
  bool hasMemory = false;
  /// Number of i64 facts of the pattern's random parts (GpuRandomLists.h):
  /// The kernel calls `@<name>_facts(qFirst, qLast, Nq, Nk : i64)` for them
  /// at its start, in every thread (the pass replaces the call by the
  /// lists' IR), and `_tiles`, `_tile` and `_live` take them as trailing
  /// arguments (`_live` first the first key of the key tile).
  int64_t numFacts = 0;
  /// The order in which the CTAs take the query tiles: the first query tile
  /// of every (batch, head) first (the rows of leading global tokens), then
  /// each (batch, head) from its last query tile down (causal: longest
  /// first), instead of the grid's order.
  bool heavyFirst = false;
  /// When above 1, the CTAs that should fit on a multiprocessor at once
  /// (`nvvm.minctasm`: ptxas caps the registers to match, spilling if it
  /// must).
  int64_t minBlocksPerSM = 1;
  /// Whether the scores of key tile j + 1 (an async wgmma group) are issued
  /// before tile j's value product, and tile j + 1's softmax step runs while
  /// that product does (`wgmma.wait_group 1`); K and V then have their own
  /// mbarriers per stage (not when warp-specialised: the producer's ring).
  bool overlap = false;
  /// A persistent grid (when true): the CTAs of the grid (gx, H, 1) take the
  /// ceil(Nq / qTile) x (B H) work tiles (B H read off the output's first
  /// dim) in rounds, in a snake order over a heaviest-first list (see
  /// persistentHeader in GpuCoreKernel.cpp); the mbarrier phases run on
  /// across tiles. Not with overlap, memory,
  /// positions, document ids or random facts.
  bool persistent = false;
  /// Whether the epilogue stores a thread's two adjacent output columns as
  /// one 4-byte store (where the output's layout allows it, checked at run
  /// time) instead of two 2-byte stores.
  bool pairStores = false;
  /// With `mergeHeadChunks` > 0 (and i64 positions, the lse, not
  /// warp-specialised or persistent) the epilogue merges row m of head g
  /// (batch b) into the accumulators `%out` [B H', N, Dv] and `%lse`
  /// [B H', N] at (b H' + g / mergeHeadChunks, qpos[b, g, m] >>
  /// mergeTagBits), H' = H / mergeHeadChunks, by log-sum-exp with the
  /// previous accumulators `%prevo`, `%prevlse` (extra arguments after
  /// `%lse`; none with `mergeFirst`: the row is stored there as it is).
  /// Within a launch each accumulator row must be written by one query row.
  /// `%prevo` is f32, and so is `%out` with `mergeF32` (an accumulator
  /// that a later round reads; else the op's element type).
  /// With `mergePairs` a thread's two adjacent columns of `%prevo` and
  /// `%out` are read and written as one 8-byte (f32) or 4-byte access where
  /// both layouts allow it (checked at run time), else one by one.
  int64_t mergeHeadChunks = 0, mergeTagBits = 0;
  /// `%prevo` is f32 with `mergePrevF32`, else the element type.
  bool mergeFirst = false, mergeF32 = false, mergePairs = false,
       mergePrevF32 = true;
  /// Whether the kernel is warp-specialised (docs/GPU.md, "Warp
  /// specialisation"): warpgroup 0 is the producer (`setmaxnreg` down; one
  /// thread issues Q and keeps a ring of `stages` K/V stages full, waiting
  /// on each stage's `empty` mbarrier), warpgroups 1 and 2 consume the
  /// 128-row query tile (`setmaxnreg` up) and release a stage by one arrive
  /// per warpgroup on its `empty` mbarrier: no CTA-wide barrier per key
  /// tile. With `overlap` the consumers run the overlapped loop and release
  /// tile j's stage after its value product. Only with qTile 128.
  bool warpSpecialize = false;
  /// K/V stages of the ring with `warpSpecialize` (2 or 3); 2 otherwise.
  int64_t stages = 2;
  /// With `warpSpecialize`: the two consumer warpgroups take turns for
  /// their products (named barriers 1 and 2): warpgroup w issues tile j's
  /// value product and tile j + 1's scores (in the other order with
  /// `overlap`) while the other runs a softmax.
  bool pingPong = false;
  /// Symbol of the kernel, and of its helpers `@<name>_tiles(qFirst, qLast,
  /// Nq, Nk : i64) -> index` (key tiles to visit), `@<name>_tile(j : index,
  /// qFirst, qLast, Nq, Nk : i64) -> (index, i8)` (the j-th tile and its
  /// BlockKind) and `@<name>_live(i, j, Nq, Nk : i64) -> i1` (the pattern).
  std::string name;
};

/// Bytes of dynamic shared memory the kernel needs (alignment slack
/// included).
int64_t sharedMemoryBytes(const KernelConfig &config);

/// Threads of a CTA: 128 per 64 query rows, and the producer warpgroup of a
/// warp-specialised kernel.
inline int64_t threadsPerBlock(const KernelConfig &config) {
  return (config.qTile / kWarpgroupRows + (config.warpSpecialize ? 1 : 0)) *
         kWarpgroupThreads;
}

/// Registers per thread after `setmaxnreg` in a warp-specialised kernel:
/// the producer warpgroup's and each consumer warpgroup's (128 * 24 + 256 *
/// 240 <= 64 Ki registers of a multiprocessor).
constexpr int64_t kProducerRegisters = 24, kConsumerRegisters = 240;

/// Threads of a CTA of the sorted-ids kernel, and the key pairs each checks.
constexpr int64_t kSortedThreads = 256, kSortedPairsPerThread = 8;

/// Returns `gpu.func @<name>_sorted(%kseg: memref<?x?xT>, %flags:
/// memref<?xi32>, %nk: index) kernel {...}` as text (T: `keySegments`): with
/// grid (ceil(Nk / (kSortedThreads * kSortedPairsPerThread)), B) it stores 0
/// into flags[b] where a key id of batch b is greater than the next one;
/// the host fills the flags with 1 before.
std::string writeSortedKernel(const KernelConfig &config);

/// Returns `gpu.func @<name>(...) kernel {...}` as text. Arguments: the Q, K
/// and V tensor maps (`!llvm.ptr` to a CUtensorMap of rank 3 over
/// [B*H, N, D], boxes [1, qTile or kvTile, 64], 128-byte swizzle, zero fill),
/// the output `memref<?x?x?xT>` [B*H, Nq, D], the lse `memref<?x?xf32>`
/// [B*H, Nq] when `hasLse`, the query and key positions, the document ids
/// and their sorted flags, the mask and the bias when configured, and Nq, Nk, Hkv (`index`; K and V maps are over
/// [B*Hkv, Nk, D], query head h reads key/value head h / (H / Hkv)). Grid
/// (ceil(Nq/qTile), H, B), `threadsPerBlock` threads.
std::string writeKernel(const KernelConfig &config);

} // namespace gpu_core
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUCOREKERNEL_H
