// Awkward but valid attn.lightconv inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.lightconv
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-7: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-7: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1: one token, one channel, a kernel of width 1.
func.func @size_one(%x: tensor<1x1x1xf32>, %w: tensor<1x1xf32>, %o: tensor<1x1x1xf32>) -> tensor<1x1x1xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x1x1xf32>, tensor<1x1xf32>) outs(%o : tensor<1x1x1xf32>)
         -> tensor<1x1x1xf32>
  return %r : tensor<1x1x1xf32>
}

// A kernel far wider than the sequence (K = 63 > N = 3): almost all taps read padding.
func.func @kernel_wider_than_n(%x: tensor<2x3x4xf32>, %w: tensor<2x63xf32>, %o: tensor<2x3x4xf32>)
    -> tensor<2x3x4xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<2x3x4xf32>, tensor<2x63xf32>) outs(%o : tensor<2x3x4xf32>)
         -> tensor<2x3x4xf32>
  return %r : tensor<2x3x4xf32>
}

// Causal with an even kernel wider than N, not normalized, f16.
func.func @causal_even_wide(%x: tensor<1x5x6xf16>, %w: tensor<3x8xf16>, %o: tensor<1x5x6xf16>)
    -> tensor<1x5x6xf16> {
  %r = attn.lightconv ins(%x, %w : tensor<1x5x6xf16>, tensor<3x8xf16>) outs(%o : tensor<1x5x6xf16>)
         {causal, normalize = false} -> tensor<1x5x6xf16>
  return %r : tensor<1x5x6xf16>
}

// One head per channel, bf16.
func.func @head_per_channel_bf16(%x: tensor<1x7x5xbf16>, %w: tensor<5x3xbf16>, %o: tensor<1x7x5xbf16>)
    -> tensor<1x7x5xbf16> {
  %r = attn.lightconv ins(%x, %w : tensor<1x7x5xbf16>, tensor<5x3xbf16>) outs(%o : tensor<1x7x5xbf16>)
         -> tensor<1x7x5xbf16>
  return %r : tensor<1x7x5xbf16>
}

// B and N dynamic.
func.func @dynamic_b_n(%x: tensor<?x?x8xf32>, %w: tensor<2x3xf32>, %o: tensor<?x?x8xf32>)
    -> tensor<?x?x8xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<?x?x8xf32>, tensor<2x3xf32>) outs(%o : tensor<?x?x8xf32>)
         {causal} -> tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}

// Every dim dynamic that the verifier allows (C, Hc and K are static), outs with a dynamic C.
// Regression: the outs' dynamic C was split into heads as C / Hc = -2^62, an invalid
// memref.expand_shape after bufferization.
func.func @all_dynamic(%x: tensor<?x?x6xf32>, %w: tensor<2x4xf32>, %o: tensor<?x?x?xf32>)
    -> tensor<?x?x?xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<?x?x6xf32>, tensor<2x4xf32>) outs(%o : tensor<?x?x?xf32>)
         {causal} -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// N = 0.
func.func @empty(%x: tensor<1x0x2xf32>, %w: tensor<1x3xf32>, %o: tensor<1x0x2xf32>) -> tensor<1x0x2xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<1x0x2xf32>, tensor<1x3xf32>) outs(%o : tensor<1x0x2xf32>)
         -> tensor<1x0x2xf32>
  return %r : tensor<1x0x2xf32>
}
