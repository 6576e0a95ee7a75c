// Awkward but valid attn.sdpa inputs through every pass and pipeline, with the
// verifier after each pass: each must succeed (issue 4, line 3).
// RUN: attn-opt %s --verify-each --attn-decompose | FileCheck %s --check-prefix=DECOMP
// RUN: attn-opt %s --verify-each --attn-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --canonicalize --attn-lower-to-linalg --canonicalize | FileCheck %s --check-prefix=LINALG
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=compute-type=f64 | FileCheck %s --check-prefix=LLVM

// DECOMP-COUNT-10: attn.sdpa
// LINALG-NOT: = attn.
// LLVM-NOT: = attn.
// LLVM-COUNT-10: llvm.func @{{[a-z_0-9]+}}(

// Every dim of size 1.
func.func @size_one(%q: tensor<1x1x1x1xf32>, %o: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>)
         outs(%o : tensor<1x1x1x1xf32>) pattern(#attn.causal) -> tensor<1x1x1x1xf32>
  return %r : tensor<1x1x1x1xf32>
}

// A window far larger than any sequence, and one of the largest parameters allowed.
func.func @huge_window(%q: tensor<1x2x3x8xf32>, %o: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
         outs(%o : tensor<1x2x3x8xf32>) pattern(#attn.window<left = 2147483647, right = 2147483647>)
         -> tensor<1x2x3x8xf32>
  return %r : tensor<1x2x3x8xf32>
}

// A pattern that masks everything (empty intersection), with lse.
func.func @masks_everything(%q: tensor<2x2x5x4xf32>, %o: tensor<2x2x5x4xf32>)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5xf32>) {
  %r, %l = attn.sdpa ins(%q, %q, %q : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
         outs(%o : tensor<2x2x5x4xf32>)
         pattern(#attn.intersect<[#attn.window<left = 0, right = 0>, #attn.causal<offset = -1>]>)
         -> tensor<2x2x5x4xf32>, tensor<2x2x5xf32>
  return %r, %l : tensor<2x2x5x4xf32>, tensor<2x2x5xf32>
}

// H = 8 x Hkv, lengths not multiples of anything, Nq != Nk.
func.func @gqa8(%q: tensor<1x16x7x8xf16>, %k: tensor<1x2x13x8xf16>, %v: tensor<1x2x13x4xf16>,
                %o: tensor<1x16x7x4xf16>) -> tensor<1x16x7x4xf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x16x7x8xf16>, tensor<1x2x13x8xf16>, tensor<1x2x13x4xf16>)
         outs(%o : tensor<1x16x7x4xf16>) pattern(#attn.causal<bottom_right>) -> tensor<1x16x7x4xf16>
  return %r : tensor<1x16x7x4xf16>
}

// Every dim dynamic, with mask, bias, memory, positions, span and lse at once.
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

// A score_mod that always yields -inf, on an empty-ish block-sparse layout.
func.func @neg_inf_scores(%q: tensor<1x1x9x4xf32>, %o: tensor<1x1x9x4xf32>) -> tensor<1x1x9x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>)
         outs(%o : tensor<1x1x9x4xf32>)
         pattern(#attn.block_sparse<block = [4, 4], layout = dense<[[false, true], [false, false]]> : tensor<2x2xi1>>)
         score_mod {
         ^bb0(%s: f32, %bb: index, %h: index, %i: index, %j: index):
           %ninf = arith.constant 0xFF800000 : f32
           attn.yield %ninf : f32
         } -> tensor<1x1x9x4xf32>
  return %r : tensor<1x1x9x4xf32>
}

// Random pattern with more candidate blocks requested than exist, fixed and strided heads.
func.func @random_overfull(%q: tensor<1x3x?x4xf32>, %o: tensor<1x3x?x4xf32>) -> tensor<1x3x?x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x3x?x4xf32>, tensor<1x3x?x4xf32>, tensor<1x3x?x4xf32>)
         outs(%o : tensor<1x3x?x4xf32>)
         pattern(#attn.union<[#attn.random<block = 1000, per_row = 1000, seed = -1>, #attn.fixed<block = 7, summary = 7>, #attn.strided<stride = 1000000>]>)
         -> tensor<1x3x?x4xf32>
  return %r : tensor<1x3x?x4xf32>
}

// Rank-0 style broadcasts: a 1-element mask and a rank-1 bias.
func.func @scalar_like_mask(%q: tensor<2x2x3x4xf32>, %o: tensor<2x2x3x4xf32>, %m: tensor<1x1x1x1xi1>,
                            %b: tensor<3xf32>) -> tensor<2x2x3x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
         outs(%o : tensor<2x2x3x4xf32>) mask(%m : tensor<1x1x1x1xi1>) bias(%b : tensor<3xf32>)
         -> tensor<2x2x3x4xf32>
  return %r : tensor<2x2x3x4xf32>
}

// Zero scale and a negative one.
func.func @odd_scales(%q: tensor<1x1x4x4xf32>, %o: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %r0 = attn.sdpa ins(%q, %q, %q : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
         outs(%o : tensor<1x1x4x4xf32>) {scale = 0.0 : f32} -> tensor<1x1x4x4xf32>
  %r1 = attn.sdpa ins(%q, %q, %r0 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
         outs(%o : tensor<1x1x4x4xf32>) {scale = -3.0 : f32} -> tensor<1x1x4x4xf32>
  return %r1 : tensor<1x1x4x4xf32>
}

// Empty sequence: a static dim of size 0.
func.func @empty_sequence(%q: tensor<1x2x0x4xf32>, %k: tensor<1x2x5x4xf32>, %o: tensor<1x2x0x4xf32>) -> tensor<1x2x0x4xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x0x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>)
         outs(%o : tensor<1x2x0x4xf32>) -> tensor<1x2x0x4xf32>
  return %r : tensor<1x2x0x4xf32>
}
