//===- AttnOps.td - attn dialect ops -----------------------*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_TD

include "attn/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

class Attn_Op<string mnemonic, list<Trait> traits = [],
              list<string> interfaceMethods = []>
    : Op<Attn_Dialect, mnemonic, !listconcat(traits, [
        Pure,
        DeclareOpInterfaceMethods<Attn_AttentionOpInterface, interfaceMethods>])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

def Attn_SdpaOp : Attn_Op<"sdpa", [AttrSizedOperandSegments],
    ["getEffectivePattern", "isCausal", "getFlopCount"]> {
  let summary = "Scaled dot-product attention with a pattern (the core op)";
  let description = [{
    The complete semantics are in docs/Semantics.md §2 (the patterns: §3).

    Dense and patterned attention, and the core that every other attention op
    decomposes into. Per batch `b` and query head `h`, with
    `s_ij = scale * <q_i, k_j>` (plus `bias`, then `score_mod`):
    `o_i = sum_{live j} softmax_j(s_ij) v_j` and
    `lse_i = log sum_{live j} exp(s_ij)`. A row with no live key gives
    `o_i = 0` and `lse_i = -inf`.

    A pair `(i, j)` is live when `pattern` (default `#attn.dense`) holds for
    the positions `(qpos_i, kpos_j)`, the `mask` is true, the document ids
    (`segments`) are equal, and the adaptive span weight is non-zero.

    Optional operands, each in its own clause:

    * `mask(%m : tensor<...xi1>)`, `bias(%b : tensor<...xf32>)`: rank at most
      4, broadcast right-aligned to `[B, H, Nq, Nk]` (a dim broadcasts only
      when it is statically 1).
    * `memory(%mk, %mv : tensor<Hkv x M x D>, tensor<Hkv x M x Dv>)`:
      persistent memory vectors (all-attention), always live, appended to
      every query's keys.
    * `positions(%qpos, %kpos : tensor<B x Hp x Nq x i32|i64>, ...)`: the
      positions that the pattern, the span and `score_mod` see
      (`Hp` is H, Hkv or 1). The default is `qpos_i = i`, `kpos_j = j`.
    * `span(%z : tensor<H x f32>)` with the attributes `ramp` (> 0) and
      `max_span` (>= 0): adaptive span, weight
      `m_ij = clamp((ramp + clamp(z_h, 0, max_span) - |qpos_i - kpos_j|) / ramp, 0, 1)`.
    * `segments(%qseg, %kseg : tensor<B x Nq x i32|i64>, tensor<B x Nk x ...>)`:
      document ids of packed sequences; a pair is live only where
      `qseg[b, i] == kseg[b, j]` (row and column, not positions). Tiles are
      classified from each tile's smallest and largest id, so sorted ids
      cost only the blocks of the diagonal.
    * `blocks(%num, %idx : tensor<Bl x Hl x NQB x i32>, tensor<Bl x Hl x NQB x K x i32>)`
      with `block_size = array<i64: BQ, BK>`, and optionally
      `full_blocks(%fnum, %fidx : ...)` of the same shapes: a run-time block
      layout (FlexAttention's BlockMask: `kv_num_blocks`, `kv_indices`,
      `full_kv_num_blocks`, `full_kv_indices`). Query row `i` is in block
      `i / BQ`, key row `j` in block `j / BK` (rows, not positions); `Bl` is
      B or 1, `Hl` is H or 1, `NQB = ceil(Nq / BQ)`. A pair is live only
      where its key block is among the first `num` entries of its row's
      list in `blocks` or `full_blocks`; in a block listed in `full_blocks`,
      `mask_mod` is not evaluated (it is taken as true, as FlexAttention
      does for its full blocks). The fused pipeline visits exactly the
      listed blocks.

    The optional `mask_mod` region receives the batch, the query head and the
    two positions and yields an `i1`: a pair is live only where it yields
    true (memory keys excepted). It may use the same ops as `score_mod`.
    Without a block layout, the fused pipeline evaluates it once per call
    over every (query tile, key tile) and skips the tiles where it is false
    throughout (FlexAttention's `create_block_mask`).

    The optional `score_mod` region receives the score after scale and bias,
    the batch, the query head and the two positions, and yields the new
    score (ALiBi, soft-capping, relative biases). It must be pure and may use
    the ops of the arith, math, index and scf dialects (not `scf.forall`),
    and `tensor.extract` / `tensor.dim` of tensors defined outside it, on
    index, signless integers of at most 64 bits, f16, bf16, f32 and f64.

    The optional second result is `lse` (`[B, H, Nq]`, f32).

    Example (Longformer: window of 256 each side plus 64 global tokens, GQA):

    ```mlir
    %r = attn.sdpa ins(%q, %k, %v : tensor<2x16x?x128xbf16>, tensor<2x4x?x128xbf16>, tensor<2x4x?x128xbf16>)
           outs(%o : tensor<2x16x?x128xbf16>)
           pattern(#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>)
           -> tensor<2x16x?x128xbf16>
    ```

    ALiBi on a causal pattern:

    ```mlir
    %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
           outs(%o : tensor<1x8x?x64xf32>) pattern(#attn.causal)
           score_mod {
           ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
             %d = arith.subi %i, %j : index
             %di = arith.index_cast %d : index to i64
             %df = arith.sitofp %di : i64 to f32
             %slope = arith.constant 0.0625 : f32
             %pen = arith.mulf %slope, %df : f32
             %t = arith.subf %s, %pen : f32
             attn.yield %t : f32
           } -> tensor<1x8x?x64xf32>, tensor<1x8x?xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value, AnyRankedTensor:$init,
                       Optional<AnyRankedTensor>:$mask,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$memory_key,
                       Optional<AnyRankedTensor>:$memory_value,
                       Optional<AnyRankedTensor>:$query_positions,
                       Optional<AnyRankedTensor>:$key_positions,
                       Optional<AnyRankedTensor>:$span,
                       Optional<AnyRankedTensor>:$query_segments,
                       Optional<AnyRankedTensor>:$key_segments,
                       Optional<AnyRankedTensor>:$kv_num_blocks,
                       Optional<AnyRankedTensor>:$kv_indices,
                       Optional<AnyRankedTensor>:$full_kv_num_blocks,
                       Optional<AnyRankedTensor>:$full_kv_indices,
                       OptionalAttr<Attn_PatternAttrInterface>:$pattern,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$ramp,
                       OptionalAttr<F32Attr>:$max_span,
                       OptionalAttr<DenseI64ArrayAttr>:$block_size);
  let results = (outs AnyRankedTensor:$result,
                      Optional<AnyRankedTensor>:$lse);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `outs` `(` $init `:` type($init) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`memory` `(` $memory_key^ `,` $memory_value `:` type($memory_key) `,` type($memory_value) `)`)?
    (`positions` `(` $query_positions^ `,` $key_positions `:` type($query_positions) `,` type($key_positions) `)`)?
    (`span` `(` $span^ `:` type($span) `)`)?
    (`segments` `(` $query_segments^ `,` $key_segments `:` type($query_segments) `,` type($key_segments) `)`)?
    (`blocks` `(` $kv_num_blocks^ `,` $kv_indices `:` type($kv_num_blocks) `,` type($kv_indices) `)`)?
    (`full_blocks` `(` $full_kv_num_blocks^ `,` $full_kv_indices `:` type($full_kv_num_blocks) `,` type($full_kv_indices) `)`)?
    (`pattern` `(` $pattern^ `)`)?
    `` custom<AttnAttrDict>(attr-dict, "OpTag<SdpaOp>()", "{\"pattern\"}")
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($result) (`,` type($lse)^)?
  }];
  let extraClassDeclaration = [{
    /// The pattern, `#attn.dense` when absent.
    ::mlir::attn::PatternAttrInterface getPatternOrDense();
    /// The softmax scale: the attribute, or 1/sqrt(D).
    float getScaleOrDefault();
  }];
  let hasCanonicalizer = 1;
  let hasRegionVerifier = 1;
}

def Attn_YieldOp : Op<Attn_Dialect, "yield", [Pure, Terminator,
    ReturnLike, HasParent<"SdpaOp">]> {
  let summary = "Yields the score of a score_mod or the liveness of a mask_mod";
  let description = [{
    ```mlir
    attn.yield %t : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.lsh
//===----------------------------------------------------------------------===//

def Attn_LshOp : Attn_Op<"lsh", [], ["isCausal"]> {
  let summary = "Hashed attention (Reformer LSH)";
  let description = [{
    The complete semantics are in docs/Semantics.md §4.

    `qk` (`[B, H, N, D]`) is both queries and keys; `v` is `[B, H, N, Dv]`;
    `rotations` is `[H, R, D, num_buckets / 2]` (R hash rounds). Per round,
    positions are hashed by `argmax([x ; -x])` with `x = qk_i R[h, r]`, sorted
    by (bucket, position) and cut into chunks of `chunk_size`; a query sees
    the keys of its chunk, `look_back` chunks before and `look_ahead` after
    (cyclically), and only earlier positions if `causal`. Keys are
    normalised, queries are not; a query's own key is always live and scores
    `-1e5`. The rounds are combined by log-sum-exp.

    ```mlir
    %r = attn.lsh ins(%qk, %v, %rot : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<8x2x64x32xf32>)
           outs(%o : tensor<1x8x4096x64xf32>) {num_buckets = 64, chunk_size = 64, causal}
           -> tensor<1x8x4096x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$qk, AnyRankedTensor:$value,
                       AnyRankedTensor:$rotations, AnyRankedTensor:$init,
                       I64Attr:$num_buckets, I64Attr:$chunk_size,
                       DefaultValuedAttr<I64Attr, "1">:$look_back,
                       DefaultValuedAttr<I64Attr, "0">:$look_ahead,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $qk `,` $value `,` $rotations `:` type($qk) `,` type($value) `,` type($rotations) `)`
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<LshOp>()") `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.cluster
//===----------------------------------------------------------------------===//

def Attn_ClusterOp : Attn_Op<"cluster", [], ["isCausal"]> {
  let summary = "Clustered attention (Routing Transformer)";
  let description = [{
    The complete semantics are in docs/Semantics.md §5.

    Each of the C clusters (`centroids` is `[H, C, D]`) takes the `window`
    queries and the `window` keys whose normalised vectors score highest
    against its centroid; inside a cluster its queries attend to its keys
    (only earlier keys if `causal`). A query's clusters are combined by
    log-sum-exp; a query in no cluster gives 0.

    ```mlir
    %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<8x16x64xf32>)
           outs(%o : tensor<1x8x1024x64xf32>) {window = 64, causal}
           -> tensor<1x8x1024x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value, AnyRankedTensor:$centroids,
                       AnyRankedTensor:$init, I64Attr:$window,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $centroids `:` type($query) `,` type($key) `,` type($value) `,` type($centroids) `)`
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<ClusterOp>()") `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.lowrank
//===----------------------------------------------------------------------===//

def Attn_LowRankOp : Attn_Op<"lowrank"> {
  let summary = "Low-rank attention (Linformer)";
  let description = [{
    The complete semantics are in docs/Semantics.md §6.

    `o = softmax(scale * q (e k)^T) (f v)` with the projections `e`, `f`
    (`[Hkv or 1, r, Nk]`, read by KV head; `f` defaults to `e`). The
    projected keys and values are kept in f32. Low-rank attention has no
    pattern and no causal form: each projected key mixes every position.

    ```mlir
    %r = attn.lowrank ins(%q, %k, %v : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>)
           projections(%e : tensor<1x256x4096xf32>)
           outs(%o : tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value, AnyRankedTensor:$key_projection,
                       Optional<AnyRankedTensor>:$value_projection,
                       AnyRankedTensor:$init, OptionalAttr<F32Attr>:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `projections` `(` $key_projection `:` type($key_projection)
        (`,` $value_projection^ `:` type($value_projection))? `)`
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<LowRankOp>()") `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.kernelized
//===----------------------------------------------------------------------===//

def Attn_KernelizedOp : Attn_Op<"kernelized", [], ["isCausal"]> {
  let summary = "Kernelized / linear attention (Performer FAVOR+, linear transformer)";
  let description = [{
    The complete semantics are in docs/Semantics.md §7.

    `o_i = sum_j <phi(q_i), phi(k_j)> v_j / sum_j <phi(q_i), phi(k_j)>` over
    all keys, or `j <= i` if `causal`. `feature_map` is `favor_plus`
    (`phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(m)`, `x' = x D^(-1/4)`, which
    needs the `projection` W `[H or 1, m, D]`), `elu_plus_one` or `relu`
    (which take no projection). No scale.

    ```mlir
    %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>)
           projection(%w : tensor<8x256x64xf32>)
           outs(%o : tensor<1x8x4096x64xf32>) {causal} -> tensor<1x8x4096x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value,
                       Optional<AnyRankedTensor>:$projection,
                       AnyRankedTensor:$init, Attn_FeatureMapAttr:$feature_map,
                       UnitAttr:$causal);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $feature_map
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    (`projection` `(` $projection^ `:` type($projection) `)`)?
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<KernelizedOp>()", "{\"feature_map\"}") `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.pkm
//===----------------------------------------------------------------------===//

def Attn_PkmOp : Attn_Op<"pkm"> {
  let summary = "Product-key memory";
  let description = [{
    The complete semantics are in docs/Semantics.md §8.

    Per query (`q` is `[B, H, N, Dk]`, Dk even), the two halves score the
    sub-keys (`[H, n, Dk/2]` each); the `top_k` best of each half form
    `top_k^2` candidates `(x, y)` scoring `s1_x + s2_y`; the `top_k` best
    candidates are softmaxed and weigh the rows `x * n + y` of `values`
    (`[n * n, Dv]`, shared by all heads). Ties go to the smaller index. No
    scale.

    ```mlir
    %r = attn.pkm ins(%q, %sk1, %sk2, %vals : tensor<1x4x128x64xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<1024x64xf32>)
           outs(%o : tensor<1x4x128x64xf32>) {top_k = 8} -> tensor<1x4x128x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$subkeys1,
                       AnyRankedTensor:$subkeys2, AnyRankedTensor:$values,
                       AnyRankedTensor:$init, I64Attr:$top_k);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $subkeys1 `,` $subkeys2 `,` $values `:` type($query) `,` type($subkeys1) `,` type($subkeys2) `,` type($values) `)`
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<PkmOp>()") `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.lightconv
//===----------------------------------------------------------------------===//

def Attn_LightConvOp : Attn_Op<"lightconv", [], ["isCausal"]> {
  let summary = "Lightweight convolution (Lite Transformer short-range branch)";
  let description = [{
    The complete semantics are in docs/Semantics.md §9.

    `out[b, n, c] = sum_t w[h(c), t] x[b, n + t - P, c]` over `x` `[B, N, C]`
    and `weight` `[Hc, K]`, where channel `c` uses head `c / (C / Hc)`,
    `P = K - 1` if `causal` else `(K - 1) / 2`, and `x` outside `[0, N)` is 0.
    With `normalize` (the default) the weights are softmaxed over K in f32.
    Even K is rejected unless `causal`.

    ```mlir
    %r = attn.lightconv ins(%x, %w : tensor<2x?x256xf32>, tensor<8x7xf32>)
           outs(%o : tensor<2x?x256xf32>) -> tensor<2x?x256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       AnyRankedTensor:$init, UnitAttr:$causal,
                       DefaultValuedAttr<BoolAttr, "true">:$normalize);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `:` type($input) `,` type($weight) `)`
    `outs` `(` $init `:` type($init) `)` `` custom<AttnAttrDict>(attr-dict, "OpTag<LightConvOp>()") `->` type($result)
  }];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
