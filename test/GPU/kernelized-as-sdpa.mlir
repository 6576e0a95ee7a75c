// attn-gpu-kernelized-as-sdpa: a non-causal favor_plus attn.kernelized in
// bf16 / f16 with D = Dv = 64 or 128 becomes two attn.sdpa ops with a bias
// (docs/GPU.md, "FAVOR+ on the Hopper core"); everything else stays.
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa=kv-splits=1 --canonicalize | FileCheck %s
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa --canonicalize | FileCheck %s --check-prefix=AUTO

// Phase 1: W (repeated over B, head g r + t for query head h) attends to the
// keys with the per-key bias -|k D^(-1/4)|^2 / 2 and returns the lse; phase 2:
// the queries attend to W with the values o1 and the bias lse1, into outs.
// CHECK-LABEL: func.func @favor_gqa
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x4x?x64xbf16>, %[[K:[a-z0-9]+]]: tensor<2x2x?x64xbf16>, %[[V:[a-z0-9]+]]: tensor<2x2x?x64xbf16>, %[[W:[a-z0-9]+]]: tensor<4x256x64xbf16>, %[[O:[a-z0-9]+]]: tensor<2x4x?x64xbf16>
// CHECK-DAG: %[[HALF:.+]] = arith.constant -6.250000e-02 : f32
// CHECK: %[[WF:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2]] : tensor<4x256x64xbf16> into tensor<4x16384xbf16>
// CHECK: %[[WB:.+]] = linalg.generic {{.*}} ins(%[[WF]] : tensor<4x16384xbf16>) outs({{.*}} : tensor<2x4x16384xbf16>)
// CHECK: %[[WQ:.+]] = tensor.expand_shape %[[WB]] {{.*}} into tensor<2x4x256x64xbf16>
// One thread per key row: the norms of K viewed as [B, Hkv Nk, D], then
// repeated over the r = 2 query heads of each KV head (B in a dim of its own).
// CHECK: %[[KR:.+]] = tensor.collapse_shape %[[K]] {{\[}}[0], [1, 2], [3]] : tensor<2x2x?x64xbf16> into tensor<2x?x64xbf16>
// CHECK: %[[N:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KR]] : tensor<2x?x64xbf16>) outs({{.*}} : tensor<2x?xf32>)
// CHECK: arith.mulf %{{.*}}, %[[HALF]] : f32
// CHECK: %[[N2:.+]] = tensor.expand_shape %[[N]] {{\[}}[0], [1, 2]] {{.*}} into tensor<2x2x?xf32>
// CHECK: %[[NR:.+]] = linalg.generic {{.*}} ins(%[[N2]] : tensor<2x2x?xf32>) outs({{.*}} : tensor<2x4x?xf32>)
// CHECK: %[[B1:.+]] = tensor.expand_shape %[[NR]] {{\[}}[0], [1], [2, 3]] {{.*}} into tensor<2x4x1x?xf32>
// CHECK: %[[O1:.+]], %[[LSE:.+]] = attn.sdpa ins(%[[WQ]], %[[K]], %[[V]] : tensor<2x4x256x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>) outs({{.*}}) bias(%[[B1]] : tensor<2x4x1x?xf32>) {scale = 0.353553385 : f32} -> tensor<2x4x256x64xbf16>, tensor<2x4x256xf32>
// CHECK: %[[B2:.+]] = tensor.expand_shape %[[LSE]] {{\[}}[0], [1], [2, 3]] output_shape [2, 4, 1, 256] : tensor<2x4x256xf32> into tensor<2x4x1x256xf32>
// CHECK: %[[R:.+]] = attn.sdpa ins(%[[Q]], %[[WQ]], %[[O1]] : tensor<2x4x?x64xbf16>, tensor<2x4x256x64xbf16>, tensor<2x4x256x64xbf16>) outs(%[[O]] : tensor<2x4x?x64xbf16>) bias(%[[B2]] : tensor<2x4x1x256xf32>) {scale = 0.353553385 : f32}
// CHECK: return %[[R]]
// CHECK-NOT: attn.kernelized
// AUTO-LABEL: func.func @favor_gqa
// AUTO-NOT: attn.kernelized
// AUTO-COUNT-2: attn.sdpa
func.func @favor_gqa(%q: tensor<2x4x?x64xbf16>, %k: tensor<2x2x?x64xbf16>, %v: tensor<2x2x?x64xbf16>, %w: tensor<4x256x64xbf16>, %o: tensor<2x4x?x64xbf16>) -> tensor<2x4x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x4x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x64xbf16>)
         projection(%w : tensor<4x256x64xbf16>)
         outs(%o : tensor<2x4x?x64xbf16>) -> tensor<2x4x?x64xbf16>
  return %r : tensor<2x4x?x64xbf16>
}

// A static Nk: the automatic choice cuts the keys into 2 runs (phase 1 then
// has 2 * 16 * 2 * 2 = 128 CTAs of 128 rows), a reshape to 32 heads; the runs
// are merged by log-sum-exp over [B Hkv, S, ...] views (max, sum of exp, log,
// the weighted sum of o1 in f32, then f16); a projection of one head (f32)
// is read at head 0.
// AUTO-LABEL: func.func @favor_split
// AUTO: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3]] output_shape [2, 32, 32768, 128] : tensor<2x1048576x128xf16> into tensor<2x32x32768x128xf16>
// AUTO: %{{.*}}, %[[LSE:.+]] = attn.sdpa {{.*}} bias(%{{.*}} : tensor<2x32x1x32768xf32>) {{.*}} -> tensor<2x32x256x128xf16>, tensor<2x32x256xf32>
// AUTO: %[[LSE5:.+]] = tensor.expand_shape %[[LSE]] {{.*}} into tensor<2x16x2x1x256xf32>
// AUTO: tensor.collapse_shape %[[LSE5]] {{\[}}[0, 1], [2], [3, 4]] : tensor<2x16x2x1x256xf32> into tensor<32x2x256xf32>
// AUTO: math.exp
// AUTO: math.log
// AUTO: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs({{.*}} : tensor<32x32768xf32>)
// AUTO: arith.truncf %{{.*}} : f32 to f16
// AUTO: attn.sdpa {{.*}} : tensor<2x16x4096x128xf16>, tensor<2x16x256x128xf16>, tensor<2x16x256x128xf16>) {{.*}} bias(%{{.*}} : tensor<2x16x1x256xf32>)
// AUTO-NOT: attn.kernelized
// AUTO-LABEL: func.func @not_taken
// CHECK-LABEL: func.func @favor_split
// CHECK-NOT: attn.kernelized
// CHECK-NOT: tensor<2x32x
func.func @favor_split(%q: tensor<2x16x4096x128xf16>, %k: tensor<2x16x65536x128xf16>, %v: tensor<2x16x65536x128xf16>, %w: tensor<1x256x128xf32>, %o: tensor<2x16x4096x128xf16>) -> tensor<2x16x4096x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x16x4096x128xf16>, tensor<2x16x65536x128xf16>, tensor<2x16x65536x128xf16>)
         projection(%w : tensor<1x256x128xf32>)
         outs(%o : tensor<2x16x4096x128xf16>) -> tensor<2x16x4096x128xf16>
  return %r : tensor<2x16x4096x128xf16>
}

// Not taken: causal FAVOR+ in f32 (causal bf16 / f16 FAVOR+ is the chunked
// scan, kernelized-causal.mlir), elu_plus_one, f32, a head dim the core does
// not take (32), Dv != D. They stay for the general path.
// CHECK-LABEL: func.func @not_taken
// CHECK-NOT: attn.sdpa
// CHECK-COUNT-5: attn.kernelized
// CHECK-NOT: attn.sdpa
// CHECK: return
func.func @not_taken(%q: tensor<1x2x?x64xbf16>, %w: tensor<2x16x64xbf16>, %o: tensor<1x2x?x64xbf16>,
                     %qf: tensor<1x2x?x64xf32>, %wf: tensor<2x16x64xf32>, %of: tensor<1x2x?x64xf32>,
                     %q32: tensor<1x2x?x32xbf16>, %w32: tensor<2x16x32xbf16>,
                     %v128: tensor<1x2x?x128xbf16>, %o128: tensor<1x2x?x128xbf16>)
    -> (tensor<1x2x?x64xf32>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xf32>, tensor<1x2x?x32xbf16>, tensor<1x2x?x128xbf16>) {
  %causal = attn.kernelized favor_plus ins(%qf, %qf, %qf : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         projection(%wf : tensor<2x16x64xf32>)
         outs(%of : tensor<1x2x?x64xf32>) {causal} -> tensor<1x2x?x64xf32>
  %elu = attn.kernelized elu_plus_one ins(%q, %q, %q : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16>
  %f32 = attn.kernelized favor_plus ins(%qf, %qf, %qf : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         projection(%wf : tensor<2x16x64xf32>)
         outs(%of : tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32>
  %d32 = attn.kernelized favor_plus ins(%q32, %q32, %q32 : tensor<1x2x?x32xbf16>, tensor<1x2x?x32xbf16>, tensor<1x2x?x32xbf16>)
         projection(%w32 : tensor<2x16x32xbf16>)
         outs(%q32 : tensor<1x2x?x32xbf16>) -> tensor<1x2x?x32xbf16>
  %dv = attn.kernelized favor_plus ins(%q, %q, %v128 : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x128xbf16>)
         projection(%w : tensor<2x16x64xbf16>)
         outs(%o128 : tensor<1x2x?x128xbf16>) -> tensor<1x2x?x128xbf16>
  return %causal, %elu, %f32, %d32, %dv : tensor<1x2x?x64xf32>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xf32>, tensor<1x2x?x32xbf16>, tensor<1x2x?x128xbf16>
}
