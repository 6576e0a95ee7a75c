// Awkward but valid attn.cluster inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.cluster
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-7: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-7: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1: one token, one cluster, a window of one, causal.
func.func @size_one(%q: tensor<1x1x1x1xf32>, %c: tensor<1x1x1xf32>, %o: tensor<1x1x1x1xf32>)
    -> tensor<1x1x1x1xf32> {
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1xf32>)
         outs(%o : tensor<1x1x1x1xf32>) {window = 1, causal} -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// The window takes every token (w = min(Nq, Nk)), Nq != Nk, lengths prime.
func.func @window_is_everything(%q: tensor<1x2x7x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x3xf32>,
    %c: tensor<2x3x4xf32>, %o: tensor<1x2x7x3xf32>) -> tensor<1x2x7x3xf32> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x2x7x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x3xf32>, tensor<2x3x4xf32>)
         outs(%o : tensor<1x2x7x3xf32>) {window = 5} -> tensor<1x2x7x3xf32>
  return %r : tensor<1x2x7x3xf32>
}

// H = 8 x Hkv, f16, more clusters than tokens, causal with a window of one:
// most queries are in no cluster or see no key (result 0).
func.func @gqa8_sparse(%q: tensor<2x16x3x8xf16>, %k: tensor<2x2x3x8xf16>, %v: tensor<2x2x3x4xf16>,
    %c: tensor<16x9x8xf32>, %o: tensor<2x16x3x4xf16>) -> tensor<2x16x3x4xf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<2x16x3x8xf16>, tensor<2x2x3x8xf16>, tensor<2x2x3x4xf16>, tensor<16x9x8xf32>)
         outs(%o : tensor<2x16x3x4xf16>) {window = 1, causal, scale = 0.0 : f32} -> tensor<2x16x3x4xf16>
  return %r : tensor<2x16x3x4xf16>
}

// bf16, k is q.
func.func @k_is_q_bf16(%q: tensor<1x1x6x2xbf16>, %v: tensor<1x1x6x2xbf16>, %c: tensor<1x2x2xf32>,
    %o: tensor<1x1x6x2xbf16>) -> tensor<1x1x6x2xbf16> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<1x1x6x2xbf16>, tensor<1x1x6x2xbf16>, tensor<1x1x6x2xbf16>, tensor<1x2x2xf32>)
         outs(%o : tensor<1x1x6x2xbf16>) {window = 4, causal} -> tensor<1x1x6x2xbf16>
  return %r : tensor<1x1x6x2xbf16>
}

// Every dim dynamic but D and Dv (window checked against the lengths at run time).
func.func @all_dynamic(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x4xf32>,
    %c: tensor<?x?x8xf32>, %o: tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x4xf32>, tensor<?x?x8xf32>)
         outs(%o : tensor<?x?x?x4xf32>) {window = 3} -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}

// Every dim dynamic, causal.
func.func @all_dynamic_causal(%q: tensor<?x?x?x8xf16>, %v: tensor<?x?x?x8xf16>,
    %c: tensor<?x?x8xf32>, %o: tensor<?x?x?x8xf16>) -> tensor<?x?x?x8xf16> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>, tensor<?x?x8xf32>)
         outs(%o : tensor<?x?x?x8xf16>) {window = 2, causal} -> tensor<?x?x?x8xf16>
  return %r : tensor<?x?x?x8xf16>
}

// No clusters at all (C = 0): every query is in no cluster and gives 0.
func.func @no_clusters(%q: tensor<1x2x4x4xf32>, %c: tensor<2x0x4xf32>, %o: tensor<1x2x4x4xf32>)
    -> tensor<1x2x4x4xf32> {
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<2x0x4xf32>)
         outs(%o : tensor<1x2x4x4xf32>) {window = 2} -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}
