// Awkward but valid attn.lsh inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP --implicit-check-not=attn.lsh
// RUN: attn-opt %s --verify-each --attn-decompose --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-7: func.func @
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-7: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1 that may be: one token, one chunk of one, two buckets, one round.
func.func @size_one(%qk: tensor<1x1x1x1xf32>, %rot: tensor<1x1x1x1xf32>, %o: tensor<1x1x1x1xf32>)
    -> tensor<1x1x1x1xf32> {
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>)
         outs(%o : tensor<1x1x1x1xf32>) {num_buckets = 2, chunk_size = 1, causal} -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// One chunk holding the whole sequence (chunk_size = N), look windows far larger than
// the number of chunks (each key at most once per round), N odd.
func.func @one_chunk_huge_look(%qk: tensor<2x2x7x4xf32>, %v: tensor<2x2x7x3xf32>,
    %rot: tensor<2x3x4x4xf32>, %o: tensor<2x2x7x3xf32>) -> tensor<2x2x7x3xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<2x2x7x4xf32>, tensor<2x2x7x3xf32>, tensor<2x3x4x4xf32>)
         outs(%o : tensor<2x2x7x3xf32>)
         {num_buckets = 8, chunk_size = 7, look_back = 1000000, look_ahead = 1000000}
         -> tensor<2x2x7x3xf32>
  return %r : tensor<2x2x7x3xf32>
}

// Chunks of one token, no look back or ahead, causal: every query sees only
// itself (the -1e5 self score) or keys of its own chunk.
func.func @chunk_of_one_causal(%qk: tensor<1x2x5x4xf16>, %v: tensor<1x2x5x4xf16>,
    %rot: tensor<2x2x4x1xf32>, %o: tensor<1x2x5x4xf16>) -> tensor<1x2x5x4xf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x5x4xf16>, tensor<1x2x5x4xf16>, tensor<2x2x4x1xf32>)
         outs(%o : tensor<1x2x5x4xf16>)
         {num_buckets = 2, chunk_size = 1, look_back = 0, look_ahead = 0, causal}
         -> tensor<1x2x5x4xf16>
  return %r : tensor<1x2x5x4xf16>
}

// More buckets than tokens, bf16, many rounds.
func.func @more_buckets_than_tokens(%qk: tensor<1x1x4x8xbf16>, %v: tensor<1x1x4x2xbf16>,
    %rot: tensor<1x5x8x32xf32>, %o: tensor<1x1x4x2xbf16>) -> tensor<1x1x4x2xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x1x4x8xbf16>, tensor<1x1x4x2xbf16>, tensor<1x5x8x32xf32>)
         outs(%o : tensor<1x1x4x2xbf16>) {num_buckets = 64, chunk_size = 2, scale = 0.0 : f32}
         -> tensor<1x1x4x2xbf16>
  return %r : tensor<1x1x4x2xbf16>
}

// Every dim dynamic but D, Dv and num_buckets / 2.
func.func @all_dynamic(%qk: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x4xf32>, %rot: tensor<?x?x8x2xf32>,
    %o: tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<?x?x?x8xf32>, tensor<?x?x?x4xf32>, tensor<?x?x8x2xf32>)
         outs(%o : tensor<?x?x?x4xf32>) {num_buckets = 4, chunk_size = 3, look_back = 2, causal}
         -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}

// Mixed static and dynamic: N dynamic, the rest static; the outs is dynamic where the
// inputs are static.
func.func @mixed_dynamic(%qk: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>, %rot: tensor<2x1x4x2xf32>,
    %o: tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<2x1x4x2xf32>)
         outs(%o : tensor<?x?x?x4xf32>) {num_buckets = 4, chunk_size = 4, look_ahead = 3}
         -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}

// A zero-length sequence (N = 0, zero chunks).
func.func @empty_sequence(%qk: tensor<1x1x0x4xf32>, %rot: tensor<1x1x4x1xf32>, %o: tensor<1x1x0x4xf32>)
    -> tensor<1x1x0x4xf32> {
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x4x1xf32>)
         outs(%o : tensor<1x1x0x4xf32>) {num_buckets = 2, chunk_size = 1} -> tensor<1x1x0x4xf32>
  return %r : tensor<1x1x0x4xf32>
}
