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

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
