//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecompose : Pass<"attn-decompose"> {
  let summary = "Decomposes every non-core attn op into attn.sdpa and linalg";
  let description = [{
    Rewrites `attn.lsh`, `attn.cluster`, `attn.lowrank`, `attn.kernelized`,
    `attn.pkm` and `attn.lightconv` into the core `attn.sdpa` (with remapped
    positions, `score_mod` or the `lse` result where the op needs them) plus
    `linalg`, `tensor`, `arith`, `math` and `scf` ops. `attn.sdpa` itself is
    left alone: `attn-lower-to-linalg` or the tiler takes it from there.

    Each decomposition is an external model of
    `linalg::AggregatedOpInterface`, so `transform.structured.decompose_interface`
    applies the same rewrite from a transform script.

    `compute-type` is the element type of every value the decompositions
    compute (scores, features, softmax statistics, sums). Discrete choices
    (LSH buckets, cluster memberships, top-k sets) are computed in f32 from
    the inputs either way (docs/Semantics.md §10), so both compute types see
    the same choices. With
    `compute-type=f64` the attention inside lsh, cluster and lowrank is built
    directly as the linalg of `attn-lower-to-linalg{compute-type=f64}`
    instead of an `attn.sdpa` (whose operands and results are f32, f16 or
    bf16): `attn-cpu-pipeline{compute-type=f64}`, the oracle of
    `attn-run --check`, computes every op in f64.

    Example:

    ```mlir
    // attn-opt --attn-decompose
    %r = attn.lowrank ins(%q, %k, %v : ...) projections(%e : tensor<1x64x?xf32>) outs(%o : ...) -> ...
    // becomes two linalg.generic projections of K and V over the sequence,
    // followed by a dense attn.sdpa on the projected keys and values.
    ```
  }];
  let options = [
    Option<"computeType", "compute-type", "std::string", /*default=*/"\"f32\"",
           "Element type of the values the decompositions compute: f32 (the "
           "numerics contract) or f64 (the higher-precision oracle)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnFuseLshCluster : Pass<"attn-fuse-lsh-cluster"> {
  let summary = "attn.lsh and attn.cluster for the fused pipeline: linear-time "
                "choices, then the gathered attn.sdpa";
  let description = [{
    The decomposition of `attn-decompose` for `attn.lsh` and `attn.cluster`
    (gather -> `attn.sdpa` with the original positions and an `lse` result
    -> log-sum-exp combine), with the discrete choices made in linear time
    instead of by all-pairs ranks: the LSH (bucket, position) order by a
    stable counting sort, each cluster's top w by a radix select on the
    scores' order-preserving bits (members listed in position order, so
    that causal tiles classify from their position ranges). Both are
    `scf.forall` loops over the rows. The choices are the reference's;
    `attn-tile` then runs the flash core over the gathered chunks or
    clusters. Nothing of size N x N is built. Run by
    `attn-cpu-pipeline{mode=fused}` before `attn-decompose`.
  }];
  let options = [
    Option<"computeType", "compute-type", "std::string", /*default=*/"\"f32\"",
           "Element type of the values the attention computes: f32 or f64">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnFuseVariants : Pass<"attn-fuse-variants"> {
  let summary = "Fused forms of attn.kernelized, attn.lowrank and "
                "attn.lightconv (the fused pipeline's attn-decompose)";
  let description = [{
    Runs before `attn-decompose` in `attn-cpu-pipeline{mode=fused}` (f32
    compute only) and rewrites the ops it takes into forms without the
    reference decomposition's large intermediates; ops it does not take
    (dynamic head or channel dims, non-f32 element types where noted) stay
    for `attn-decompose`. Each form is an `scf.forall` whose per-iteration
    linalg ops are 2-D tiles and contractions, so that
    `attn-prepare-tile-loops` and `attn-cpu-microkernels` treat them as they
    treat `attn-tile`'s tiles:

    * `attn.kernelized`: per (batch, head), the keys in chunks of `chunk`
      rows: phi(K) of the chunk, and the state `S = phi(K)^T [V | 1]`
      (`m x (Dv + 1)`, f32, the last column is `phi(K)^T 1`) accumulated
      with a running key stabiliser; then per query chunk
      `[num | den] = phi(Q) S`. Causal: one chunked scan, each chunk's
      queries against the state of the earlier chunks plus the masked
      intra-chunk product. Memory `O(chunk * m + m * Dv)` per iteration.
    * `attn.lowrank`: the projections `E K` and `F V` as 2-D contractions
      per (batch, KV head), the reduction over the sequence in chunks of
      `chunk` keys, then an `attn.sdpa` (the flash core through `attn-tile`).
    * `attn.lightconv`: the softmax of the kernel once, then per (batch,
      block of `chunk` positions, block of channels) the depthwise
      convolution written into `outs` in place. With whole kernel heads per
      vector of 16 channels, input-stationary: each input vector of x loaded
      once and FMA'd into the 16 output rows' accumulators it feeds, its
      weights broadcast from memory, the output vectors marked
      `attn.nontemporal`; otherwise over a zero-padded copy of the block's
      input rows.

    `docs/Pipelines.md` describes the forms.
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"64",
           "Rows of a key / query chunk (kernelized), keys of a reduction "
           "chunk (lowrank, times 4), positions of a block (lightconv)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def AttnLowerToLinalg : Pass<"attn-lower-to-linalg"> {
  let summary = "Lowers attn.sdpa to linalg: the reference (unfused) path";
  let description = [{
    The golden path: every `attn.sdpa` becomes a short sequence of
    `linalg.generic` ops that materialize the scores `[B, H, Nq, Nk]` in f32,
    apply bias, `score_mod`, the pattern predicate (built through
    `PatternAttrInterface::buildIsLive`), the mask and the adaptive span with
    `arith.select` (a masked value is never multiplied or added), take the
    row maximum over live scores and persistent memory, and normalise. A row
    with no live key gives 0 and `lse = -inf`. Grouped-query attention reads
    KV head `h / (H / Hkv)`.

    Dynamic dimensions that must agree (for example Nk of keys and values)
    are checked at run time with `cf.assert`.

    Other attn ops are left alone; run `attn-decompose` first.
  }];
  let options = [
    Option<"computeType", "compute-type", "std::string", /*default=*/"\"f32\"",
           "Element type of scores, statistics and accumulation: f32 (the "
           "numerics contract) or f64 (a higher-precision oracle for --check)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnExpandMath : Pass<"attn-expand-math"> {
  let summary = "Rewrites the math ops that have no LLVM lowering into ones "
                "that have";
  let description = [{
    `convert-math-to-llvm` lowers most `math` ops to LLVM intrinsics and
    `convert-math-to-libm` most of the others to libm calls; this pass
    rewrites the rest, on scalars of any float type, in terms of `arith` and
    `math.absf`:

    * `math.isinf %x`: `|x| == +inf`;
    * `math.isnormal %x`: `smallest normal <= |x| < +inf` (false for NaN);
    * `math.clampf %x to [%lo, %hi]`: `maximumf(minimumf(x, hi), lo)`, a
      clamp (MLIR 22's own expansion in `math-expand-ops` follows the op's
      documentation, `maximumf(minimumf(x, lo), hi)`, which is not one; later
      MLIR corrected the documentation to the clamp).

    `attn-cpu-pipeline` runs it so that every `math` op that a `score_mod`
    may hold compiles.

    Example:

    ```mlir
    // attn-opt --attn-expand-math
    %b = math.isinf %x : f32
    // becomes
    %a = math.absf %x : f32
    %inf = arith.constant 0x7F800000 : f32
    %b = arith.cmpf oeq, %a, %inf : f32
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
}

def AttnTile : Pass<"attn-tile"> {
  let summary = "Tiles attn.sdpa into the flash form: online softmax over "
                "key/value tiles, block skipping at run time";
  let description = [{
    Rewrites every `attn.sdpa` into its flash form, with every operand and
    region (mask, bias, memory, positions, span, score_mod, lse, GQA):

    * an `scf.forall` over (batch, query head, query tile of `q-tile` rows);
    * per query tile, f32 (or `compute-type`) running row maximum, sum and
      accumulator carried through an `scf.for` over key/value tiles of
      `kv-tile` keys; persistent memory first, as always-live key tiles;
    * the loop visits only the key tiles that the pattern's key intervals
      (`PatternAttrInterface::buildKeyIntervals`) cover, so a band costs
      O(live tiles); with a positions operand it visits every tile;
    * each tile's kind comes from `PatternAttrInterface::buildClassify` at
      run time, on the tile's rows or, with positions, on the minimum and
      maximum of its positions; met with the adaptive span's kind. An Empty
      tile is skipped (`scf.index_switch`), a Full tile evaluates no
      predicate, mask or span, a Partial tile applies them with
      `arith.select` (a value at a pair that is not live never reaches the
      row). With a mask, no tile is Full;
    * the two per-tile contractions are `linalg.matmul` ops (a selecting
      `linalg.generic` for the values of a Partial tile); the softmax uses
      `exp2` with log2(e) folded into the scale of the query tile (after
      bias and score_mod when present);
    * every size is dynamic, so one compiled form serves any length, tails
      and empty sequences included; no buffer of Nq x Nk elements exists.

    A row with no live key gives 0 and `lse = -inf`, never NaN; the NaN and
    large-score rules are those of `attn-lower-to-linalg`.

    ```mlir
    // attn-opt --attn-tile="q-tile=64 kv-tile=64"
    %r = attn.sdpa ins(%q, %k, %v : ...) outs(%o : ...) pattern(#attn.causal) -> ...
    // becomes scf.forall (%b, %h, %t) in (B, H, ceil(Nq / 64)) with an
    // scf.for over the key tiles up to the query tile's last row.
    ```
  }];
  let options = [
    Option<"qTile", "q-tile", "int64_t", /*default=*/"64",
           "Rows of a query tile (at least 1)">,
    Option<"kvTile", "kv-tile", "int64_t", /*default=*/"64",
           "Keys of a key/value tile (at least 1)">,
    Option<"freshDestination", "fresh-destination", "bool",
           /*default=*/"true",
           "A destination that is the function's own argument and whose "
           "result the function returns becomes a fresh tensor (in place, "
           "the buffer deallocation would clone it whole on every call); "
           "attn-cpu-pipeline turns it off, since its "
           "attn-return-arguments-in-place drops that clone">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"false",
           "Prefetch the next query tile's rows of q (and of the output "
           "written in place) and, before the key loop, the rows of k and v "
           "of the key tile just past each key range into the cache "
           "(memref.prefetch; attn-cpu-pipeline leaves it off)">,
    Option<"computeType", "compute-type", "std::string", /*default=*/"\"f32\"",
           "Element type of scores, statistics and accumulation: f32 (the "
           "numerics contract) or f64">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    // memref.prefetch on bufferization.to_buffer (prefetch=true).
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def AttnPrepareTileLoops : Pass<"attn-prepare-tile-loops"> {
  let summary = "Readies the per-tile linalg ops of the flash form for "
                "LLVM's vectorizers";
  let description = [{
    Runs after `attn-tile`, on the linalg ops inside its `scf.forall`:

    * named contractions (`linalg.matmul`) become `linalg.generic`;
    * a contraction `C[i, j] += A[i, k] * B[k, j]` (the probabilities times
      the values) has its loops interchanged to (i, k, j): the innermost loop
      is then parallel and walks B and C contiguously;
    * the float `arith` ops of their bodies get the `reassoc` and `contract`
      fast-math flags, so that the dot products (scores), the row maxima and
      the row sums, whose innermost loop is a reduction, vectorize, and
      multiply-adds fuse;
    * an f32 `math.exp2` becomes arith that vectorizes where a libm call
      does not: x clamped to [-126, 128], `n = roundeven(x)`, a degree-6
      polynomial in `x - n` (relative error below 1.3e-7) times `2^n` made
      in the exponent bits, exactly 0 for x <= -126 and NaN passed through;
      f64 keeps `exp2`.

    Reassociation and the approximation change the result within the fused
    tolerance; the result does not depend on the thread count.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect"
  ];
}

def AttnReturnArgumentsInPlace
    : Pass<"attn-return-arguments-in-place", "::mlir::ModuleOp"> {
  let summary = "Entries return a returned argument itself, not the buffer "
                "deallocation's clone of it";
  let description = [{
    The ownership-based buffer deallocation gives a function no ownership of
    its arguments, so a returned argument (an outs operand that the function
    wrote in place) is cloned: a whole copy of the result on every call, into
    fresh memory. In an entry (a public function that nothing in the module
    calls: attn-run's or the C interface's), whose caller frees what the code
    allocated but not its own arrays, the clone goes and the argument is
    returned itself, when the clone's only use is the return and nothing
    between them writes memory (only ops without memory effects, deallocs,
    their `scf.if` guards and other clones). attn-cpu-pipeline runs it in
    `mode=fused`, after the deallocation.
  }];
}

def AttnGpuSdpaCore : Pass<"attn-gpu-sdpa-core", "::mlir::ModuleOp"> {
  let summary = "Lowers attn.sdpa to the Hopper (sm_90a) flash core: a "
                "gpu.module kernel on TMA and wgmma plus its gpu.launch_func";
  let description = [{
    Rewrites every `attn.sdpa` whose q, k and v are bf16 or f16 with a head
    dim of 64 or 128 into a `gpu.launch_func` of a kernel in the
    `gpu.module @attn_gpu` (created on the first use):

    * one CTA per (query tile of `q-tile` rows, head, batch): grid
      `(ceil(Nq / q-tile), H, B)`, one warpgroup (128 threads) per 64 rows of
      the tile, the warpgroups sharing the key/value tiles;
    * the query tile is brought in once by TMA, the key and value tiles of
      `kv-tile` keys by TMA into a two-stage shared-memory ring, each stage
      on an mbarrier (`expect_tx`); 128-byte swizzle, tensor maps of rank 3
      over `[B * H, N, D]` so that rows past N are zero-filled;
    * S = Q K^T on `nvvm.wgmma.mma_async` (both operands K-major, shared
      memory descriptors built by the pass), O += P V on an `llvm.inline_asm`
      register-A wgmma with the accumulators tied (V MN-major);
    * the online softmax on the accumulator fragments in registers, row
      max and sum across the four lanes of a row with `gpu.shuffle xor`,
      `exp2` (`afn`) with `scale * log2(e)` folded in;
    * the key tiles visited come from the pattern's key intervals
      (`PatternAttrInterface::buildKeyIntervals`) and each tile's kind from
      `buildClassify`: Empty tiles do no arithmetic, Full tiles evaluate no
      predicate, Partial tiles (and the last tile when N is not a multiple of
      `kv-tile`) apply `buildIsLive` and `key < Nk`;
    * the epilogue divides by the row sum, converts to the output type and
      stores rows below Nq (and `lse`, when the op has it).

    The host side creates the tensor maps with `nvgpu.tma.create.descriptor`
    and passes them to the kernel as `!llvm.ptr` (a pointer to the
    CUtensorMap in device memory). Grouped-query attention is taken: query
    head h reads key/value head h / (H / Hkv). So is every sdpa operand:
    positions (every key tile visited, classified from the position ranges
    at run time), mask (every visited tile Partial) and bias (plain loads
    per fragment element), score_mod (the region as a function of the GPU
    module), span (tile kinds met with the span's; weights in Partial tiles)
    and memory (its tiles first in the key loop, from two more tensor maps)
    and document ids (`segments`: tiles met with the id ranges, ids compared
    in Partial tiles; with sorted key ids the key loop is clipped to the
    query tile's documents).
    Other head dims, f32, memory of another element type, a mask_mod, a
    block layout (`blocks`) and a score_mod that reads non-constant values from outside
    its region are refused with
    "not yet on the Hopper core: ...", or, with `claim`, left unchanged for
    the general path of `attn-gpu-pipeline`.
  }];
  let options = [
    Option<"kvTile", "kv-tile", "int64_t", /*default=*/"0",
           "Keys of a key/value tile: 64, 128, or 0 (the default): per op, "
           "128 for a causal or causal-window pattern at head dim 64 with "
           "128-row query tiles and no other operand, else 64">,
    Option<"qTile", "q-tile", "int64_t", /*default=*/"128",
           "Rows of a query tile: 64 (one warpgroup) or 128 (two)">,
    Option<"claim", "claim", "bool", /*default=*/"false",
           "Leave the attn.sdpa ops the core does not take for later passes "
           "(attn-gpu-pipeline's general path) instead of refusing them">,
    Option<"heavyFirst", "heavy-first", "bool", /*default=*/"true",
           "CTAs take the first query tile of every (batch, head) first, "
           "then each (batch, head)'s tiles from the last down; false: the "
           "grid's order">,
    Option<"minBlocksPerSM", "min-blocks-per-sm", "int64_t", /*default=*/"0",
           "CTAs per multiprocessor that ptxas must leave room for "
           "(nvvm.minctasm; above 1 caps the registers); 0: 2 where the "
           "shared memory of two CTAs fits and the op has no positions, "
           "mask, bias, score_mod, span or memory, else 1">,
    Option<"overlap", "overlap", "bool", /*default=*/"false",
           "Issue the scores of key tile j + 1 (an async wgmma group) before "
           "tile j's value product and run tile j + 1's softmax step while "
           "that product does (wgmma.wait_group 1); K and V get their own "
           "mbarriers. Off by default; docs/GPU.md ('Overlapped softmax') "
           "has its measurements and the tiles and CTAs per "
           "multiprocessor that the zero defaults then pick">,
    Option<"persistent", "persistent", "int64_t", /*default=*/"-1",
           "A persistent grid of at most this many CTAs (rounded down to a "
           "multiple of H; e.g. 264: 132 multiprocessors, two CTAs each), "
           "looping over the work tiles (query tile, head, batch) in rounds, "
           "a snake over a heaviest-first list (query tile 0 of every head, "
           "then tile-major from the last tile; mbarrier phases carried "
           "across tiles). 0: one CTA per work tile in the heavy-first "
           "order. -1 (the default): for a causal pattern the persistent "
           "kernel with every work tile its own CTA (one round: the "
           "tile-major order), 0 otherwise. Not with overlap, memory, "
           "positions, document ids or random lists (those ops keep one CTA "
           "per tile)">,
    Option<"pairStores", "pair-stores", "bool", /*default=*/"true",
           "The epilogue stores a thread's two adjacent output columns as "
           "one 4-byte store where the output's layout allows it (checked "
           "at run time); false: two 2-byte stores">,
    Option<"warpSpecialize", "warp-specialize", "bool", /*default=*/"false",
           "Build a producer warpgroup (one thread issues the TMA loads into "
           "a ring of K/V stages with full and empty mbarriers) and two "
           "consumer warpgroups (384 threads, one CTA per multiprocessor, "
           "setmaxnreg); only for dense and causal patterns with no other "
           "operand and 128-row query tiles (others keep the plain kernel). "
           "Off by default; docs/GPU.md ('Warp specialisation')">,
    Option<"wsStages", "ws-stages", "int64_t", /*default=*/"2",
           "With warp-specialize: K/V stages of the ring (2 or 3)">,
    Option<"wsPingPong", "ws-pingpong", "bool", /*default=*/"false",
           "With warp-specialize: the two consumer warpgroups take turns "
           "for their tensor-core products (named barriers), so that one's "
           "softmax runs while the other's products do">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect"
  ];
}

def AttnCpuMicroKernels : Pass<"attn-cpu-microkernels"> {
  let summary = "Register-tiled vector micro-kernels for the f32 contractions "
                "of the flash form's tiles";
  let description = [{
    Runs on buffers (after bufferization), on the `linalg.generic`
    contractions inside an `scf.forall` or `scf.parallel` whose operands are
    rank-2 f32 memrefs: `C[i, j] += A[i, k] * B[j, k]` (the scores
    `q k^T` of `attn-tile`) and `C[i, j] += A[i, k] * B[k, j]` (the
    probabilities times the values), in any loop order. Each becomes an
    outer-product micro-kernel in the vector dialect: an accumulator of MR
    rows by NR vectors of `vector-width` f32 lanes is held in registers
    across the k loop, updated by `vector.fma` of a broadcast element of A
    and a vector row of B; no horizontal reduction. For `B[j, k]` the tile
    of B is first packed transposed into a stack buffer (a
    `memref.alloca_scope`) whose rows are padded to whole column blocks.
    Column remainders use masked loads and stores, row remainders a one-row
    kernel, so any size works. MR x NR is 6 x 4 vectors for a width of 16
    (AVX-512), 6 x 2 otherwise (fewer columns when C has fewer static
    columns). Other ops are left alone, but for the stores of 64-byte
    vectors made by an op marked `attn.nontemporal` (attn-fuse-variants'
    lightconv output): each becomes a non-temporal `vector.store` where its
    address is 64-byte aligned (checked at run time) and a plain one
    elsewhere.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of a vector register: 16 for AVX-512, 8 for AVX2 (a "
           "power of two)">,
    Option<"bf16Isa", "bf16-isa", "std::string", /*default=*/"\"none\"",
           "bf16 B operands: 'none' (widened to f32, f32 FMAs), "
           "'avx512bf16' (pairs of k in x86vector.avx512.dot, A rounded to "
           "bf16; needs vector-width=16 and a host with avx512_bf16) or "
           "'amx' (AMX tiles, amx.tile_mulf, where the shapes allow, else as "
           "avx512bf16; needs a host with amx_bf16 and the OS's permission)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect", "::mlir::amx::AMXDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
