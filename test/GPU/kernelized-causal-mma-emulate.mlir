// The mma.sync kernels of causal FAVOR+'s products (GpuMmaGemm.cpp), interpreted on the CPU
// (mma_gemm_emulate.py: a warp's lanes in lock step, mma.sync by the PTX ISA's fragment
// layouts) against the products in numpy: features, chunk states, scores within a chunk and
// both numerator terms, for bf16 with grouped-query heads (H 4, Hkv 2, m 32, D 64) and f16
// with one projection head (D 128, m 64 = the chunk, Dv + 16 = 144 columns: 6 column tiles a
// warp), and bf16 with m 128 (two column tiles of 64 in the features of q: their row maxima per
// tile, from the epilogue's quad shuffles, against numpy's product). The prefix-scan kernel of each spec (chunk_scan_emulate.py: all threads at once) on
// random states and a non-decreasing stabiliser, 1, 7 and 40 chunks, against the exclusive
// prefix's definition in float64.
// RUN: env ATTN_MMA_KERNEL_DUMP=1 attn-opt %s --attn-gpu-kernelized-as-sdpa 2> %t.dump > /dev/null
// RUN: %python %S/mma_gemm_emulate.py %t.dump | FileCheck %s
// RUN: %python %S/chunk_scan_emulate.py %t.dump | FileCheck %s --check-prefix=SCAN
// CHECK: favor_mma_0_1 row maxima over 1 tiles: {{.*}} ok
// CHECK: favor_mma_2_1 row maxima over 2 tiles: {{.*}} ok
// CHECK-NOT: FAIL
// CHECK: 18 kernels, all ok
// SCAN: favor_mma_0_scan [80 32 64] bf16 nc 1: {{.*}} ok
// SCAN-COUNT-8: ok
// SCAN-NOT: FAIL
// SCAN: 3 scan kernels, 9 runs, all ok

func.func @gqa_bf16(%q: tensor<1x4x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>, %w: tensor<4x32x64xbf16>, %o: tensor<1x4x?x64xbf16>) -> tensor<1x4x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x4x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         projection(%w : tensor<4x32x64xbf16>)
         outs(%o : tensor<1x4x?x64xbf16>) {causal} -> tensor<1x4x?x64xbf16>
  return %r : tensor<1x4x?x64xbf16>
}

func.func @w1_d128_f16(%q: tensor<1x2x?x128xf16>, %k: tensor<1x2x?x128xf16>, %v: tensor<1x2x?x128xf16>, %w: tensor<1x64x128xf16>, %o: tensor<1x2x?x128xf16>) -> tensor<1x2x?x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x2x?x128xf16>, tensor<1x2x?x128xf16>, tensor<1x2x?x128xf16>)
         projection(%w : tensor<1x64x128xf16>)
         outs(%o : tensor<1x2x?x128xf16>) {causal} -> tensor<1x2x?x128xf16>
  return %r : tensor<1x2x?x128xf16>
}

func.func @m128_bf16(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>, %w: tensor<2x128x64xbf16>, %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         projection(%w : tensor<2x128x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) {causal} -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}
