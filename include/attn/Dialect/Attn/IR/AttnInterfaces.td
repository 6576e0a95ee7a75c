//===- AttnInterfaces.td - Pattern and attention interfaces -*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD
#define ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Attn_PatternAttrInterface : AttrInterface<"PatternAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A sparsity pattern: a predicate on a (query position, key position) pair
    that says whether the pair is live. Positions are signed 64-bit integers
    (the `qpos` / `kpos` of `attn.sdpa`, by default the row and column).
    `numQueries` and `numKeys` are the sequence lengths Nq and Nk, which a few
    patterns read (bottom-right causal, BigBird random).

    The interface has three faces of one predicate, and every lowering talks
    to patterns only through it:

    * `isLive` evaluates the predicate on integers (folding, tests, the
      reference);
    * `buildIsLive` emits the same predicate as `arith` / `scf` IR over `i64`
      values, for masking inside partially live blocks;
    * `classify` answers for a whole block of positions whether every pair is
      live (`Full`), none is (`Empty`), or it cannot tell (`Partial`). It is
      conservative: `Partial` is always a correct answer, `Full` and `Empty`
      are promises. Sequence lengths passed as `ShapedType::kDynamic` are
      unknown; patterns that need them answer `Partial`.

    Two methods build the same facts as IR for a tiler that decides blocks
    at run time (`attn-tile`): `buildClassify` is `classify` over `i64`
    values, and `buildKeyIntervals` bounds the live keys of a range of
    queries so that the key loop visits only the tiles a pattern can leave
    live.

    `simplify` and `getBand` serve canonicalization (see `simplifyPattern`).
  }];
  let methods = [
    InterfaceMethod<
      "Returns whether the pair (query position `i`, key position `j`) is "
      "live for sequence lengths `numQueries` and `numKeys`.",
      "bool", "isLive",
      (ins "int64_t":$i, "int64_t":$j, "int64_t":$numQueries,
           "int64_t":$numKeys)>,
    InterfaceMethod<
      "Builds the predicate as an `i1` value from the `i64` values `i`, `j`, "
      "`numQueries` and `numKeys`; it equals `isLive` on every input. "
      "`facts` (may be null) are the query tile's `buildQueryTileFacts` "
      "values, which hold for every query `i` of that tile.",
      "::mlir::Value", "buildIsLive",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$i, "::mlir::Value":$j,
           "::mlir::Value":$numQueries, "::mlir::Value":$numKeys,
           "const ::mlir::attn::QueryTileFacts *":$facts)>,
    InterfaceMethod<
      "Classifies the block of query positions `queries` times key positions "
      "`keys` as Empty, Full or Partial (conservatively).",
      "::mlir::attn::BlockKind", "classify",
      (ins "::mlir::attn::PositionRange":$queries,
           "::mlir::attn::PositionRange":$keys,
           "int64_t":$numQueries, "int64_t":$numKeys)>,
    InterfaceMethod<
      "Builds `classify` as IR, for tilers that decide blocks at run time. "
      "The block is the box of query positions `[queryFirst, queryLast]` "
      "times key positions `[keyFirst, keyLast]` (inclusive, each non-empty) "
      "and the lengths are `numQueries` and `numKeys`, all `i64` values. "
      "Returns an `i8` value holding the `BlockKind` (0 Empty, 1 Full, "
      "2 Partial). Conservative like `classify` (Partial is always correct) "
      "and, with the lengths known, at least as precise as `classify`; "
      "PatternBlockMap.cpp lists the patterns that answer Partial more "
      "often. `facts` (may be null) are as for `buildIsLive`; the box's "
      "queries lie in their query tile.",
      "::mlir::Value", "buildClassify",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$queryFirst, "::mlir::Value":$queryLast,
           "::mlir::Value":$keyFirst, "::mlir::Value":$keyLast,
           "::mlir::Value":$numQueries, "::mlir::Value":$numKeys,
           "const ::mlir::attn::QueryTileFacts *":$facts)>,
    InterfaceMethod<
      "Builds the key intervals of a range of queries: a small, static "
      "number of inclusive `(first, last)` pairs of `i64` key positions "
      "(an interval with `first > last` is empty; `INT64_MIN` and "
      "`INT64_MAX` stand for unbounded) such that for every query position "
      "in `[queryFirst, queryLast]`, every live key position lies in one of "
      "them. Intervals may overlap. A tiler visits only the key tiles they "
      "cover, so a band costs O(live tiles), not O(all tiles).",
      "::llvm::SmallVector<std::pair<::mlir::Value, ::mlir::Value>>",
      "buildKeyIntervals",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$queryFirst, "::mlir::Value":$queryLast,
           "::mlir::Value":$numQueries, "::mlir::Value":$numKeys)>,
    InterfaceMethod<
      "Builds, once per query tile, values that this pattern's own "
      "predicates (not its parts') depend on only through the query "
      "position, for the queries in `[queryFirst, queryLast]` (`i64`), and "
      "adds them to `facts` under this pattern; `buildIsLive` and "
      "`buildClassify` then read them instead of recomputing them per pair "
      "or per key tile. `maxQueries`, when given, bounds "
      "`queryLast - queryFirst + 1`. By default there are none (only "
      "`#attn.random` has some: its per-query-block hash thresholds).",
      "void", "buildQueryTileFacts",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$queryFirst, "::mlir::Value":$queryLast,
           "::mlir::Value":$numQueries, "::mlir::Value":$numKeys,
           "std::optional<int64_t>":$maxQueries,
           "::mlir::attn::QueryTileFacts &":$facts), [{}], [{ return; }]>,
    InterfaceMethod<
      "Returns a simpler equivalent pattern in `context`, or this pattern.",
      "::mlir::attn::PatternAttrInterface", "simplify",
      (ins "const ::mlir::attn::PatternContext &":$context), [{}],
      [{ return ::llvm::cast<::mlir::attn::PatternAttrInterface>($_attr); }]>,
    InterfaceMethod<
      "If the pattern is exactly a diagonal band `lo <= j - i <= hi` in "
      "`context`, returns it.",
      "std::optional<::mlir::attn::DiagonalBand>", "getBand",
      (ins "const ::mlir::attn::PatternContext &":$context), [{}],
      [{ return std::nullopt; }]>,
  ];
  let extraClassDeclaration = [{
    /// `buildIsLive` and `buildClassify` without per-query-tile facts.
    ::mlir::Value buildIsLive(::mlir::OpBuilder &builder, ::mlir::Location loc,
                              ::mlir::Value i, ::mlir::Value j,
                              ::mlir::Value numQueries,
                              ::mlir::Value numKeys) const {
      return buildIsLive(builder, loc, i, j, numQueries, numKeys, nullptr);
    }
    ::mlir::Value buildClassify(::mlir::OpBuilder &builder,
                                ::mlir::Location loc, ::mlir::Value queryFirst,
                                ::mlir::Value queryLast, ::mlir::Value keyFirst,
                                ::mlir::Value keyLast, ::mlir::Value numQueries,
                                ::mlir::Value numKeys) const {
      return buildClassify(builder, loc, queryFirst, queryLast, keyFirst,
                           keyLast, numQueries, numKeys, nullptr);
    }
  }];
}

def Attn_AttentionOpInterface : OpInterface<"AttentionOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    Implemented by every attn op. Gives passes the facts they need without
    naming a concrete op: the output operand (the ops are in
    destination-passing style), the pattern of positions that the op's core
    attention uses, whether it is causal, and its flop count.

    Its verifier checks what every attn op shares: one result of the type of
    `outs`, and no attribute that the op does not define (a discardable
    attribute needs a dialect prefix, as in `{foo.bar}`).
  }];
  let methods = [
    InterfaceMethod<"Returns the destination (`outs`) operand.",
      "::mlir::Value", "getInit", (ins), [{}], [{ return $_op.getInit(); }]>,
    InterfaceMethod<
      "Returns the pattern over positions that the op's core attention "
      "applies (`#attn.dense` when the op has none).",
      "::mlir::attn::PatternAttrInterface", "getEffectivePattern", (ins), [{}],
      [{ return ::mlir::attn::DenseAttr::get($_op->getContext()); }]>,
    InterfaceMethod<"Returns whether a query only sees earlier keys.",
      "bool", "isCausal", (ins), [{}], [{ return false; }]>,
    InterfaceMethod<
      "Returns the floating-point operations of one evaluation as dense "
      "math counts them (for GFLOP/s reports), or nothing when a dimension "
      "it depends on is dynamic or the op has no formula.",
      "std::optional<double>", "getFlopCount", (ins), [{}],
      [{ return std::nullopt; }]>,
  ];
  // Runs after the op's own verifier, which checks that the operands the
  // interface reads are there.
  let verify = [{ return ::mlir::attn::verifyAttentionOpInterface($_op); }];
  let verifyWithRegions = 1;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD
