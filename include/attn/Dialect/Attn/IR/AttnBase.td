//===- AttnBase.td - The attn dialect definition ----------*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNBASE_TD
#define ATTN_DIALECT_ATTN_IR_ATTNBASE_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Efficient-attention variants stated as ops";
  let description = [{
    The `attn` dialect states attention variants as tensor ops in
    destination-passing style: dense and patterned attention (`attn.sdpa`
    with a pattern attribute), hashed (`attn.lsh`, Reformer), clustered
    (`attn.cluster`, Routing Transformer), low-rank (`attn.lowrank`,
    Linformer), kernelized (`attn.kernelized`, Performer FAVOR+ and linear
    attention), product-key memory (`attn.pkm`) and the Lite Transformer
    lightweight convolution (`attn.lightconv`).

    Conventions shared by the attention ops: Q is `[B, H, Nq, D]`, K is
    `[B, Hkv, Nk, D]`, V is `[B, Hkv, Nk, Dv]` and the result is
    `[B, H, Nq, Dv]`, with `H % Hkv == 0` (grouped-query attention: query head
    `h` reads KV head `h / (H / Hkv)`). B, H, Nq and Nk may be dynamic; D and
    Dv are static. Element types are f32, f16 and bf16; scores, softmax
    statistics and accumulation are f32 and the result has V's element type.

    A row whose live set is empty, or whose live scores are all `-inf`, gives
    a zero output row and `lse = -inf`, never NaN.

    Attribute dictionaries (`{...}`): an op rejects an attribute that it does
    not define, naming it and listing the ones it has (so `{causal}` on
    `attn.sdpa`, whose causal form is `pattern(#attn.causal)`, or a misspelt
    `{sacle = 0.5}` is an error, not dense attention). A discardable attribute
    needs a dialect prefix, as in `{foo.bar}`. The f32 attributes (`scale`,
    `ramp`, `max_span`) accept a plain float literal: `{scale = 0.125}` reads
    as `{scale = 0.125 : f32}`.

    Sparsity patterns are attributes implementing `PatternAttrInterface`
    (`#attn.causal`, `#attn.window<...>`, `#attn.union<[...]>`, ...): every
    lowering asks only that interface, so a new pattern is one attribute.

    The complete semantics (every op, every pattern, the NaN and empty-row
    rules, the numerics contract, the passes and tools) are written out in
    `docs/Semantics.md`; each op's description below gives its section.
  }];
  let useDefaultAttributePrinterParser = 1;
  let usePropertiesForAttributes = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNBASE_TD
