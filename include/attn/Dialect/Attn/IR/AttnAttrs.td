//===- AttnAttrs.td - Pattern attributes and enums ---------*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD

include "attn/Dialect/Attn/IR/AttnBase.td"
include "attn/Dialect/Attn/IR/AttnInterfaces.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_FeatureMap : I32EnumAttr<"FeatureMap",
    "the feature map of kernelized attention", [
      I32EnumAttrCase<"FavorPlus", 0, "favor_plus">,
      I32EnumAttrCase<"EluPlusOne", 1, "elu_plus_one">,
      I32EnumAttrCase<"Relu", 2, "relu">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_FeatureMapAttr : EnumAttr<Attn_Dialect, Attn_FeatureMap, "feature_map">;

//===----------------------------------------------------------------------===//
// Pattern attributes
//===----------------------------------------------------------------------===//

/// A pattern attribute. `overridden` lists the interface methods with a
/// default (`simplify`, `getBand`) that the attribute implements itself.
class Attn_PatternAttr<string name, string mnemonicName,
                       list<string> overridden = []>
    : AttrDef<Attn_Dialect, name, [
        DeclareAttrInterfaceMethods<Attn_PatternAttrInterface, overridden>]> {
  let mnemonic = mnemonicName;
}

/// A pattern attribute whose parameters are the required `int64_t`s named in
/// `paramNames`, written `#attn.mnemonic<a = 1, b = 2>` (in any order). Its
/// parser names a parameter that is missing, repeated or unknown
/// (`parseIntParams` in PatternSyntax.cpp); `verify` checks their domain.
class Attn_IntParamsPatternAttr<string name, string mnemonicName,
                                list<string> paramNames,
                                list<string> overridden = []>
    : Attn_PatternAttr<name, mnemonicName, overridden> {
  let parameters = !dag(ins, !listsplat("int64_t", !size(paramNames)),
                        paramNames);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  defvar names = "{" # !interleave(!foreach(n, paramNames, "\"" # n # "\""),
                                   ", ") # "}";
  defvar values = !interleave(!foreach(i, !range(!size(paramNames)),
                                       "values[" # i # "]"), ", ");
  defvar fields = !interleave(!foreach(n, paramNames, "getImpl()->" # n), ", ");
  let extraClassDefinition = [{
    ::mlir::Attribute $cppClass::parse(::mlir::AsmParser &parser, ::mlir::Type) {
      ::llvm::SMLoc loc = parser.getCurrentLocation();
      ::llvm::SmallVector<int64_t, 4> values;
      if (::mlir::failed(::mlir::attn::parseIntParams(parser, getMnemonic(),
                                                      }] # names # [{, values)))
        return {};
      return parser.getChecked<$cppClass>(loc, parser.getContext(), }] # values # [{);
    }
    void $cppClass::print(::mlir::AsmPrinter &printer) const {
      ::mlir::attn::printIntParams(printer, }] # names # [{, {}] # fields # [{});
    }
  }];
}

def Attn_DenseAttr : Attn_PatternAttr<"Dense", "dense", ["getBand"]> {
  let summary = "Every pair is live";
  let description = [{
    The default pattern of `attn.sdpa`: every (query, key) pair is live.

    ```mlir
    #attn.dense
    ```
  }];
}

def Attn_CausalAttr : Attn_PatternAttr<"Causal", "causal",
                                       ["simplify", "getBand"]> {
  let summary = "A query sees keys up to its own position (plus an offset)";
  let description = [{
    Live when `j <= i + offset`; with `bottom_right`, when
    `j <= i + offset + Nk - Nq` (the last query is aligned with the last key,
    as in decoding). The defaults (`offset = 0`, top-left) are torch's
    `is_causal`.

    ```mlir
    #attn.causal
    #attn.causal<offset = 3>
    #attn.causal<bottom_right>
    #attn.causal<offset = -2, bottom_right>
    ```
  }];
  let parameters = (ins DefaultValuedParameter<"int64_t", "0">:$offset,
                        DefaultValuedParameter<"bool", "false">:$bottom_right);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_WindowAttr : Attn_IntParamsPatternAttr<"Window", "window",
    ["left", "right"], ["getBand"]> {
  let summary = "Sliding window: `i - left <= j <= i + right`";
  let description = [{
    Live when `i - left <= j <= i + right` (Longformer, Mistral). `left` and
    `right` may be negative as long as `left + right >= 0`.

    ```mlir
    #attn.window<left = 256, right = 0>
    ```
  }];
}

def Attn_DilatedAttr : Attn_IntParamsPatternAttr<"Dilated", "dilated",
    ["left", "right", "dilation"], ["simplify"]> {
  let summary = "Dilated sliding window";
  let description = [{
    Live when `i - left * dilation <= j <= i + right * dilation` and
    `(i - j) mod dilation == 0`. Requires `dilation >= 1` and
    `left + right >= 0`.

    ```mlir
    #attn.dilated<left = 4, right = 4, dilation = 2>
    ```
  }];
}

def Attn_BlockLocalAttr : Attn_IntParamsPatternAttr<"BlockLocal", "block_local",
    ["size"], ["simplify"]> {
  let summary = "Attention inside aligned blocks of `size` positions";
  let description = [{
    Live when `floor(i / size) == floor(j / size)`. Requires `size >= 1`.

    ```mlir
    #attn.block_local<size = 64>
    ```
  }];
}

def Attn_StridedAttr : Attn_IntParamsPatternAttr<"Strided", "strided",
    ["stride"], ["simplify"]> {
  let summary = "Sparse Transformer strided head";
  let description = [{
    Live when `(i - j) mod stride == 0`. Requires `stride >= 1`.

    ```mlir
    #attn.strided<stride = 128>
    ```
  }];
}

def Attn_FixedAttr : Attn_IntParamsPatternAttr<"Fixed", "fixed",
    ["block", "summary"], ["simplify"]> {
  let summary = "Sparse Transformer fixed head: the summary columns";
  let description = [{
    Live when `j mod block >= block - summary` (`0 <= summary <= block`):
    only the summary columns of each block. The full Sparse Transformer fixed
    head is
    `#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = l>, #attn.fixed<block = l, summary = c>]>]>`.

    ```mlir
    #attn.fixed<block = 128, summary = 8>
    ```
  }];
}

def Attn_GlobalAttr : Attn_PatternAttr<"Global", "global", ["simplify"]> {
  let summary = "Global tokens see and are seen by every position";
  let description = [{
    Live when `i` or `j` is global: one of the listed `tokens`, or
    `0 <= p < first` (Longformer, ETC, BigBird). `first >= 0`.

    ```mlir
    #attn.global<first = 64>
    #attn.global<tokens = [0, 17, 511]>
    ```
  }];
  let parameters = (ins OptionalArrayRefParameter<"int64_t">:$tokens,
                        DefaultValuedParameter<"int64_t", "0">:$first);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_SinkAttr : Attn_PatternAttr<"Sink", "sink", ["simplify"]> {
  let summary = "Sink keys that every query sees";
  let description = [{
    Live when the key `j` is a sink: one of the listed `tokens`, or
    `0 <= j < first` (attention sinks of StreamingLLM; the prefix of a
    prefix LM). Unlike `#attn.global`, a sink query sees nothing more than
    another query: only keys are special. `first >= 0`; every token fits in
    32 bits.

    ```mlir
    #attn.sink<first = 4>
    #attn.sink<tokens = [0, 100]>
    // Causal sliding window of 256 with 4 attention sinks (StreamingLLM):
    #attn.intersect<[#attn.causal, #attn.union<[#attn.window<left = 255, right = 0>, #attn.sink<first = 4>]>]>
    // Prefix LM with a bidirectional prefix of 64 positions:
    #attn.union<[#attn.causal, #attn.sink<first = 64>]>
    ```
  }];
  let parameters = (ins OptionalArrayRefParameter<"int64_t">:$tokens,
                        DefaultValuedParameter<"int64_t", "0">:$first);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_RandomAttr : Attn_IntParamsPatternAttr<"Random", "random",
    ["block", "per_row", "seed"], ["buildQueryTileFacts"]> {
  let summary = "BigBird random blocks, drawn by a seeded hash";
  let description = [{
    Key block `floor(j / block)` is live for query block `qb = floor(i / block)`
    when it is among the `min(per_row, ceil(Nk / block))` candidate blocks
    `0 .. ceil(Nk / block) - 1` with the smallest
    `splitmix64(seed ^ (qb << 32) ^ kb)` (unsigned 64-bit comparison). The
    draw is a pure function of the attribute and the positions, so the op
    stays deterministic. Requires `block >= 1`, `per_row >= 0`.

    ```mlir
    #attn.random<block = 64, per_row = 3, seed = 42>
    ```
  }];
  let extraClassDeclaration = [{
    /// Returns ceil(numKeys / block), the number of candidate key blocks
    /// (without overflow for any non-negative numKeys).
    int64_t getNumCandidateBlocks(int64_t numKeys) const {
      return numKeys / getBlock() + (numKeys % getBlock() != 0);
    }
  }];
}

def Attn_AxialAttr : Attn_IntParamsPatternAttr<"Axial", "axial",
    ["rows", "cols"]> {
  let summary = "Axial attention on a row-major rows x cols grid";
  let description = [{
    Live when both positions lie on the grid (`0 <= p < rows * cols`, at
    `(floor(p / cols), p mod cols)`) and share a row or a column (Axial
    Transformer). Requires `rows, cols >= 1`.

    ```mlir
    #attn.axial<rows = 32, cols = 32>
    ```
  }];
}

def Attn_NeighborhoodAttr : Attn_PatternAttr<"Neighborhood", "neighborhood",
                                             ["simplify"]> {
  let summary = "Neighborhood attention (NATTEN) on a 1-D, 2-D or 3-D grid";
  let description = [{
    Positions are laid row-major on the grid `extent = [E0, ..]` (1 to 3
    axes, the last one fastest): `p` is on the grid when
    `0 <= p < E0 * ..`, and its coordinate on axis `d` is
    `floor(p / S_d) mod E_d` with `S_d` the product of the extents after
    `d`. With `window = [W0, ..]` (`1 <= W_d <= E_d`), the window of a query
    coordinate `x` on axis `d` is `[s, s + W_d - 1]` with
    `s = clamp(x - floor(W_d / 2), 0, E_d - W_d)`: centred on the query and
    shifted to stay inside the grid (NATTEN; for an odd `W_d` the same as
    FlexAttention's NATTEN mask). A pair is live when both positions are on
    the grid and, on every axis, the key's coordinate lies in the query's
    window. The grid holds fewer than 2^31 positions.

    ```mlir
    // 7 x 7 neighbourhoods on a 64 x 64 image:
    #attn.neighborhood<extent = [64, 64], window = [7, 7]>
    // a 1-D sequence of 4096 with windows of 129:
    #attn.neighborhood<extent = [4096], window = [129]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$extent,
                        ArrayRefParameter<"int64_t">:$window);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Returns the number of grid positions (the product of the extents).
    int64_t getNumCells() const;
    /// Returns the stride of axis `d`: the product of the extents after it.
    int64_t getStride(unsigned d) const;
    /// Returns the first coordinate of the window of query coordinate `x`
    /// on axis `d`.
    int64_t getWindowStart(unsigned d, int64_t x) const;
  }];
}

def Attn_BlockSparseAttr : Attn_PatternAttr<"BlockSparse", "block_sparse"> {
  let summary = "A block layout: which (query block, key block) tiles are live";
  let description = [{
    Live when the bit of block `(floor(i / bq), floor(j / bk))` of `layout`
    (a dense `M x K` `i1` tensor; a vector or another element type or rank is
    rejected) is set; positions outside the layout are not live. Requires
    `bq, bk >= 1`.

    ```mlir
    #attn.block_sparse<block = [64, 64],
                       layout = dense<[[true, false], [true, true]]> : tensor<2x2xi1>>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$block,
                        "::mlir::DenseIntElementsAttr":$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Returns the layout bit of block (qb, kb); false outside the layout.
    bool isBlockLive(int64_t qb, int64_t kb) const;
  }];
}

def Attn_UnionAttr : Attn_PatternAttr<"Union", "union", ["simplify"]> {
  let summary = "A pair is live when any part says so";
  let description = [{
    Needs at least one part. Unions and intersections nest at most 64 levels
    deep (`kMaxPatternNesting`): the parser, the printer, the verifier and
    every pattern method recurse once per level, so a limit keeps a hostile
    input from overflowing the stack. Deeper nesting is rejected, by the
    parser and by `getChecked`, with a diagnostic that names the limit.

    ```mlir
    #attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::PatternAttrInterface">:$parts);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_IntersectAttr : Attn_PatternAttr<"Intersect", "intersect",
                                          ["simplify", "getBand"]> {
  let summary = "A pair is live when every part says so";
  let description = [{
    Needs at least one part; nests at most 64 levels deep, like
    `#attn.union`.

    ```mlir
    #attn.intersect<[#attn.causal, #attn.strided<stride = 4>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::PatternAttrInterface">:$parts);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
