// Awkward but valid attn.kernelized inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.kernelized
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-7: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-7: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1, one random feature, causal.
func.func @size_one(%q: tensor<1x1x1x1xf32>, %w: tensor<1x1x1xf32>, %o: tensor<1x1x1x1xf32>)
    -> tensor<1x1x1x1xf32> {
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>)
         projection(%w : tensor<1x1x1xf32>) outs(%o : tensor<1x1x1x1xf32>) {causal} -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// H = 8 x Hkv, one projection shared by all heads, Nq != Nk, f16.
func.func @gqa8_shared_projection(%q: tensor<1x16x3x4xf16>, %k: tensor<1x2x7x4xf16>, %v: tensor<1x2x7x2xf16>,
    %w: tensor<1x5x4xf32>, %o: tensor<1x16x3x2xf16>) -> tensor<1x16x3x2xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x16x3x4xf16>, tensor<1x2x7x4xf16>, tensor<1x2x7x2xf16>)
         projection(%w : tensor<1x5x4xf32>) outs(%o : tensor<1x16x3x2xf16>) -> tensor<1x16x3x2xf16>
  return %r : tensor<1x16x3x2xf16>
}

// relu, causal, H = 8 x Hkv: zero denominators give 0.
func.func @relu_causal_gqa8(%q: tensor<2x8x5x4xf32>, %k: tensor<2x1x5x4xf32>, %o: tensor<2x8x5x4xf32>)
    -> tensor<2x8x5x4xf32> {
  %r = attn.kernelized relu ins(%q, %k, %k : tensor<2x8x5x4xf32>, tensor<2x1x5x4xf32>, tensor<2x1x5x4xf32>)
         outs(%o : tensor<2x8x5x4xf32>) {causal} -> tensor<2x8x5x4xf32>
  return %r : tensor<2x8x5x4xf32>
}

// elu_plus_one, bf16, Nk = 1.
func.func @elu_one_key_bf16(%q: tensor<1x2x6x8xbf16>, %k: tensor<1x2x1x8xbf16>, %o: tensor<1x2x6x8xbf16>)
    -> tensor<1x2x6x8xbf16> {
  %r = attn.kernelized elu_plus_one ins(%q, %k, %k : tensor<1x2x6x8xbf16>, tensor<1x2x1x8xbf16>, tensor<1x2x1x8xbf16>)
         outs(%o : tensor<1x2x6x8xbf16>) -> tensor<1x2x6x8xbf16>
  return %r : tensor<1x2x6x8xbf16>
}

// Every dim dynamic but D and Dv, causal favor_plus. Regression: a dynamic number of
// random features m (projection dim 1) built a tensor.empty with a static -2^63 dim.
func.func @all_dynamic(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x4xf32>,
    %w: tensor<?x?x8xf32>, %o: tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x4xf32>)
         projection(%w : tensor<?x?x8xf32>) outs(%o : tensor<?x?x?x4xf32>) {causal} -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}

// Every dim dynamic, relu, not causal.
func.func @all_dynamic_relu(%q: tensor<?x?x?x8xf16>, %k: tensor<?x?x?x8xf16>, %v: tensor<?x?x?x8xf16>,
    %o: tensor<?x?x?x8xf16>) -> tensor<?x?x?x8xf16> {
  %r = attn.kernelized relu ins(%q, %k, %v : tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>)
         outs(%o : tensor<?x?x?x8xf16>) -> tensor<?x?x?x8xf16>
  return %r : tensor<?x?x?x8xf16>
}

// No keys (Nk = 0) and no random features (m = 0).
func.func @empty(%q: tensor<1x1x2x4xf32>, %k: tensor<1x1x0x4xf32>, %w: tensor<1x0x4xf32>,
    %o: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %k : tensor<1x1x2x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32>)
         projection(%w : tensor<1x0x4xf32>) outs(%o : tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  return %r : tensor<1x1x2x4xf32>
}
