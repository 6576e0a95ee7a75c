// Awkward but valid attn.lowrank inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.lowrank
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-6: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-6: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1, rank 1.
func.func @size_one(%q: tensor<1x1x1x1xf32>, %e: tensor<1x1x1xf32>, %o: tensor<1x1x1x1xf32>)
    -> tensor<1x1x1x1xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>)
         projections(%e : tensor<1x1x1xf32>) outs(%o : tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// A rank far larger than Nk, H = 8 x Hkv, per-KV-head e and f, f16.
func.func @gqa8_rank_above_n(%q: tensor<1x16x3x4xf16>, %k: tensor<1x2x5x4xf16>, %v: tensor<1x2x5x2xf16>,
    %e: tensor<2x64x5xf32>, %f: tensor<2x64x5xf32>, %o: tensor<1x16x3x2xf16>) -> tensor<1x16x3x2xf16> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<1x16x3x4xf16>, tensor<1x2x5x4xf16>, tensor<1x2x5x2xf16>)
         projections(%e : tensor<2x64x5xf32>, %f : tensor<2x64x5xf32>) outs(%o : tensor<1x16x3x2xf16>)
         {scale = 0.0 : f32} -> tensor<1x16x3x2xf16>
  return %r : tensor<1x16x3x2xf16>
}

// Rank 0: the projected keys are empty, every row has an empty live set (o = 0).
func.func @rank_zero(%q: tensor<1x2x3x4xf32>, %e: tensor<1x0x3xf32>, %o: tensor<1x2x3x4xf32>)
    -> tensor<1x2x3x4xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>)
         projections(%e : tensor<1x0x3xf32>) outs(%o : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %r : tensor<1x2x3x4xf32>
}

// bf16, Nk = 1.
func.func @one_key_bf16(%q: tensor<2x1x9x8xbf16>, %k: tensor<2x1x1x8xbf16>, %e: tensor<1x3x1xf32>,
    %o: tensor<2x1x9x8xbf16>) -> tensor<2x1x9x8xbf16> {
  %r = attn.lowrank ins(%q, %k, %k : tensor<2x1x9x8xbf16>, tensor<2x1x1x8xbf16>, tensor<2x1x1x8xbf16>)
         projections(%e : tensor<1x3x1xf32>) outs(%o : tensor<2x1x9x8xbf16>) -> tensor<2x1x9x8xbf16>
  return %r : tensor<2x1x9x8xbf16>
}

// Every dim dynamic but D and Dv.
func.func @all_dynamic(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x4xf32>,
    %e: tensor<?x?x?xf32>, %f: tensor<?x?x?xf32>, %o: tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x4xf32>)
         projections(%e : tensor<?x?x?xf32>, %f : tensor<?x?x?xf32>) outs(%o : tensor<?x?x?x4xf32>)
         -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}

// Nk = 0 (no keys at all).
func.func @no_keys(%q: tensor<1x1x2x4xf32>, %k: tensor<1x1x0x4xf32>, %e: tensor<1x2x0xf32>,
    %o: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %r = attn.lowrank ins(%q, %k, %k : tensor<1x1x2x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32>)
         projections(%e : tensor<1x2x0xf32>) outs(%o : tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  return %r : tensor<1x1x2x4xf32>
}
