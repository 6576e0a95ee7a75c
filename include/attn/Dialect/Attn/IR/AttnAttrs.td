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

class Attn_PatternAttr<string name, string mnemonicName,
                       list<string> overridden = []>
    : AttrDef<Attn_Dialect, name, [
        DeclareAttrInterfaceMethods<Attn_PatternAttrInterface, overridden>]> {
  let mnemonic = mnemonicName;
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

def Attn_WindowAttr : Attn_PatternAttr<"Window", "window", ["getBand"]> {
  let summary = "Sliding window: `i - left <= j <= i + right`";
  let description = [{
    Live when `i - left <= j <= i + right` (Longformer, Mistral). `left` and
    `right` may be negative as long as `left + right >= 0`.

    ```mlir
    #attn.window<left = 256, right = 0>
    ```
  }];
  let parameters = (ins "int64_t":$left, "int64_t":$right);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_DilatedAttr : Attn_PatternAttr<"Dilated", "dilated", ["simplify"]> {
  let summary = "Dilated sliding window";
  let description = [{
    Live when `i - left * dilation <= j <= i + right * dilation` and
    `(i - j) mod dilation == 0`. Requires `dilation >= 1` and
    `left + right >= 0`.

    ```mlir
    #attn.dilated<left = 4, right = 4, dilation = 2>
    ```
  }];
  let parameters = (ins "int64_t":$left, "int64_t":$right, "int64_t":$dilation);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_BlockLocalAttr : Attn_PatternAttr<"BlockLocal", "block_local",
                                           ["simplify"]> {
  let summary = "Attention inside aligned blocks of `size` positions";
  let description = [{
    Live when `floor(i / size) == floor(j / size)`. Requires `size >= 1`.

    ```mlir
    #attn.block_local<size = 64>
    ```
  }];
  let parameters = (ins "int64_t":$size);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_StridedAttr : Attn_PatternAttr<"Strided", "strided", ["simplify"]> {
  let summary = "Sparse Transformer strided head";
  let description = [{
    Live when `(i - j) mod stride == 0`. Requires `stride >= 1`.

    ```mlir
    #attn.strided<stride = 128>
    ```
  }];
  let parameters = (ins "int64_t":$stride);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_FixedAttr : Attn_PatternAttr<"Fixed", "fixed", ["simplify"]> {
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
  let parameters = (ins "int64_t":$block, "int64_t":$summary);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
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

def Attn_RandomAttr : Attn_PatternAttr<"Random", "random"> {
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
  let parameters = (ins "int64_t":$block, "int64_t":$per_row, "int64_t":$seed);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Returns ceil(numKeys / block), the number of candidate key blocks
    /// (without overflow for any non-negative numKeys).
    int64_t getNumCandidateBlocks(int64_t numKeys) const {
      return numKeys / getBlock() + (numKeys % getBlock() != 0);
    }
  }];
}

def Attn_AxialAttr : Attn_PatternAttr<"Axial", "axial"> {
  let summary = "Axial attention on a row-major rows x cols grid";
  let description = [{
    Live when both positions lie on the grid (`0 <= p < rows * cols`, at
    `(floor(p / cols), p mod cols)`) and share a row or a column (Axial
    Transformer). Requires `rows, cols >= 1`.

    ```mlir
    #attn.axial<rows = 32, cols = 32>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_BlockSparseAttr : Attn_PatternAttr<"BlockSparse", "block_sparse"> {
  let summary = "A block layout: which (query block, key block) tiles are live";
  let description = [{
    Live when the bit of block `(floor(i / bq), floor(j / bk))` of `layout`
    (an `M x K` `i1` tensor) is set; positions outside the layout are not
    live. Requires `bq, bk >= 1`.

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
    ```mlir
    #attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::PatternAttrInterface">:$parts);
  let assemblyFormat = "`<` `[` $parts `]` `>`";
  let genVerifyDecl = 1;
}

def Attn_IntersectAttr : Attn_PatternAttr<"Intersect", "intersect",
                                          ["simplify", "getBand"]> {
  let summary = "A pair is live when every part says so";
  let description = [{
    ```mlir
    #attn.intersect<[#attn.causal, #attn.strided<stride = 4>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::PatternAttrInterface">:$parts);
  let assemblyFormat = "`<` `[` $parts `]` `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
