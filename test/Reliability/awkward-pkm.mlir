// Awkward but valid attn.pkm inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.pkm
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-5: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-5: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1 that may be: one sub-key per half (n = 1), top_k = 1, Dk = 2.
func.func @size_one(%q: tensor<1x1x1x2xf32>, %s: tensor<1x1x1xf32>, %vals: tensor<1x1xf32>,
    %o: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x1x1x2xf32>, tensor<1x1x1xf32>, tensor<1x1x1xf32>, tensor<1x1xf32>)
         outs(%o : tensor<1x1x1x1xf32>) {top_k = 1} -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// top_k = n (every candidate of both halves kept), f16 values, odd N.
func.func @top_k_is_n(%q: tensor<2x3x7x4xf32>, %s1: tensor<3x5x2xf32>, %s2: tensor<3x5x2xf32>,
    %vals: tensor<25x3xf16>, %o: tensor<2x3x7x3xf16>) -> tensor<2x3x7x3xf16> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<2x3x7x4xf32>, tensor<3x5x2xf32>, tensor<3x5x2xf32>, tensor<25x3xf16>)
         outs(%o : tensor<2x3x7x3xf16>) {top_k = 5} -> tensor<2x3x7x3xf16>
  return %r : tensor<2x3x7x3xf16>
}

// bf16 queries and values, one query.
func.func @bf16_one_query(%q: tensor<1x2x1x8xbf16>, %s: tensor<2x4x4xbf16>, %vals: tensor<16x2xbf16>,
    %o: tensor<1x2x1x2xbf16>) -> tensor<1x2x1x2xbf16> {
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x1x8xbf16>, tensor<2x4x4xbf16>, tensor<2x4x4xbf16>, tensor<16x2xbf16>)
         outs(%o : tensor<1x2x1x2xbf16>) {top_k = 3} -> tensor<1x2x1x2xbf16>
  return %r : tensor<1x2x1x2xbf16>
}

// Every dim dynamic that may be (n, Dk and Dv are static).
func.func @all_dynamic(%q: tensor<?x?x?x4xf32>, %s1: tensor<?x3x2xf32>, %s2: tensor<?x3x2xf32>,
    %vals: tensor<?x3xf32>, %o: tensor<?x?x?x3xf32>) -> tensor<?x?x?x3xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<?x?x?x4xf32>, tensor<?x3x2xf32>, tensor<?x3x2xf32>, tensor<?x3xf32>)
         outs(%o : tensor<?x?x?x3xf32>) {top_k = 2} -> tensor<?x?x?x3xf32>
  return %r : tensor<?x?x?x3xf32>
}

// N = 0 (no queries). Regression: the decomposition built a tensor.extract_slice at the
// static offset 0 of a dim of size 0, which the MLIR 22 verifier rejects.
func.func @no_queries(%q: tensor<1x1x0x4xf32>, %s: tensor<1x2x2xf32>, %vals: tensor<4x4xf32>,
    %o: tensor<1x1x0x4xf32>) -> tensor<1x1x0x4xf32> {
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x1x0x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<4x4xf32>)
         outs(%o : tensor<1x1x0x4xf32>) {top_k = 2} -> tensor<1x1x0x4xf32>
  return %r : tensor<1x1x0x4xf32>
}
