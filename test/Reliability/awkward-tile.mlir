// Awkward but valid lengths for the flash form: N = 1, N = 0, N below one
// tile, N not a multiple of the tile, Nq != Nk, every dim dynamic. Each
// function goes through attn-tile with several tile sizes and through the
// fused pipeline with the verifier after each pass, and a few run under
// attn-run --check (fused, f32 against the f64 fused form).
// RUN: attn-opt %s --verify-each --attn-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --verify-each --attn-tile="q-tile=1 kv-tile=1" | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --verify-each --attn-tile="q-tile=5 kv-tile=3" --canonicalize --cse | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=mode=fused | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline="mode=fused q-tile=2 kv-tile=3 compute-type=f64" | FileCheck %s --check-prefix=LLVM
// RUN: attn-run %s --entry=size_one --random-inputs --mode=fused --check | FileCheck %s --check-prefix=RESULT
// RUN: attn-run %s --entry=not_a_multiple --random-inputs --mode=fused --check | FileCheck %s --check-prefix=RESULT
// RUN: attn-run %s --entry=all_dynamic_everything --random-inputs --dim=3 --mode=fused --check | FileCheck %s --check-prefix=BF16
// RUN: attn-run %s --entry=all_dynamic_everything --random-inputs --dim=9 --mode=fused --check | FileCheck %s --check-prefix=BF16

// TILE-NOT: = attn.
// TILE-COUNT-9: scf.forall
// LLVM-NOT: = attn.
// LLVM-NOT: scf.
// LLVM-COUNT-8: llvm.func @{{[a-z_0-9]+}}(
// RESULT: check result0 (f32): {{.*}}: ok
// BF16: check result0 (bf16): {{.*}}: ok
// BF16: check result1 (f32): {{.*}}: ok

// Every dim of size 1.
func.func @size_one(%q: tensor<1x1x1x1xf32>, %o: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>)
         outs(%o : tensor<1x1x1x1xf32>) pattern(#attn.causal) -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// Below one tile of the default 64, with a window far larger than both.
func.func @below_one_tile(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x2x3x8xf32>)
    -> tensor<1x2x3x8xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>)
         outs(%o : tensor<1x2x3x8xf32>) pattern(#attn.window<left = 2147483647, right = 2147483647>)
         -> tensor<1x2x3x8xf32>
  return %r : tensor<1x2x3x8xf32>
}

// 67 queries and 131 keys: a tail in both loops with the default tiles.
func.func @not_a_multiple(%q: tensor<1x2x67x8xf32>, %k: tensor<1x1x131x8xf32>, %v: tensor<1x1x131x4xf32>,
                          %o: tensor<1x2x67x4xf32>) -> (tensor<1x2x67x4xf32>, tensor<1x2x67xf32>) {
  %r, %l = attn.sdpa ins(%q, %k, %v : tensor<1x2x67x8xf32>, tensor<1x1x131x8xf32>, tensor<1x1x131x4xf32>)
         outs(%o : tensor<1x2x67x4xf32>)
         pattern(#attn.union<[#attn.causal<offset = -5, bottom_right>, #attn.global<tokens = [100], first = 2>]>)
         -> tensor<1x2x67x4xf32>, tensor<1x2x67xf32>
  return %r, %l : tensor<1x2x67x4xf32>, tensor<1x2x67xf32>
}

// No query, and no key (every row empty: o = 0, lse = -inf).
func.func @no_queries(%q: tensor<1x2x0x4xf32>, %k: tensor<1x2x5x4xf32>, %o: tensor<1x2x0x4xf32>) -> tensor<1x2x0x4xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x0x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>)
         outs(%o : tensor<1x2x0x4xf32>) -> tensor<1x2x0x4xf32>
  return %r : tensor<1x2x0x4xf32>
}
func.func @no_keys(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x0x4xf32>, %o: tensor<1x2x3x4xf32>)
    -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  %r, %l = attn.sdpa ins(%q, %k, %k : tensor<1x2x3x4xf32>, tensor<1x2x0x4xf32>, tensor<1x2x0x4xf32>)
         outs(%o : tensor<1x2x3x4xf32>) pattern(#attn.causal) -> tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return %r, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// Every dim dynamic, with mask, bias, memory, positions, span, score_mod and
// lse at once.
func.func @all_dynamic_everything(%q: tensor<?x?x?x8xbf16>, %k: tensor<?x?x?x8xbf16>,
    %v: tensor<?x?x?x8xbf16>, %o: tensor<?x?x?x8xbf16>, %m: tensor<?x?x?x?xi1>,
    %b: tensor<?x?xf32>, %mk: tensor<?x?x8xf32>, %mv: tensor<?x?x8xf32>,
    %qp: tensor<?x?x?xi64>, %kp: tensor<?x?x?xi64>, %z: tensor<?xf32>)
    -> (tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>) {
  %r, %l = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>)
         outs(%o : tensor<?x?x?x8xbf16>) mask(%m : tensor<?x?x?x?xi1>) bias(%b : tensor<?x?xf32>)
         memory(%mk, %mv : tensor<?x?x8xf32>, tensor<?x?x8xf32>)
         positions(%qp, %kp : tensor<?x?x?xi64>, tensor<?x?x?xi64>) span(%z : tensor<?xf32>)
         pattern(#attn.union<[#attn.dilated<left = 3, right = 3, dilation = 2>, #attn.axial<rows = 4, cols = 4>]>)
         {ramp = 2.0 : f32, max_span = 8.0 : f32}
         score_mod {
         ^bb0(%s: f32, %bb: index, %h: index, %i: index, %j: index):
           attn.yield %s : f32
         } -> tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>
  return %r, %l : tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>
}

// Every pattern whose block map is built, on dynamic lengths.
func.func @every_block_map(%q: tensor<1x1x?x4xf32>, %o: tensor<1x1x?x4xf32>) -> tensor<1x1x?x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>)
         outs(%o : tensor<1x1x?x4xf32>)
         pattern(#attn.union<[#attn.intersect<[#attn.causal<bottom_right>, #attn.block_local<size = 5>]>,
                              #attn.fixed<block = 6, summary = 2>, #attn.strided<stride = 7>,
                              #attn.random<block = 3, per_row = 1, seed = 9>, #attn.axial<rows = 3, cols = 9>,
                              #attn.block_sparse<block = [2, 3], layout = dense<[[true, false], [false, true]]> : tensor<2x2xi1>>,
                              #attn.global<tokens = [1, 2, 3, 9, 11, 40, 41, 60], first = 0>]>)
         -> tensor<1x1x?x4xf32>
  return %r : tensor<1x1x?x4xf32>
}

// Two sdpa in one function, the second reading the first.
func.func @chained(%q: tensor<1x1x9x4xf32>, %o: tensor<1x1x9x4xf32>) -> tensor<1x1x9x4xf32> {
  %r0 = attn.sdpa ins(%q, %q, %q : tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>)
         outs(%o : tensor<1x1x9x4xf32>) pattern(#attn.window<left = 1, right = 1>) -> tensor<1x1x9x4xf32>
  %r1 = attn.sdpa ins(%q, %q, %r0 : tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>)
         outs(%o : tensor<1x1x9x4xf32>) {scale = -3.0 : f32} -> tensor<1x1x9x4xf32>
  return %r1 : tensor<1x1x9x4xf32>
}
