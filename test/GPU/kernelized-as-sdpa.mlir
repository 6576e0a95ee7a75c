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
// CHECK-DAG: arith.constant -6.250000e-02 : f32
// CHECK: %[[WB:.+]] = linalg.generic {{.*}} ins(%[[W]] : tensor<4x256x64xbf16>) outs({{.*}} : tensor<2x2x1x2x256x64xbf16>)
// CHECK: %[[WQ:.+]] = tensor.collapse_shape %[[WB]] {{\[}}[0], [1, 2, 3], [4], [5]] : tensor<2x2x1x2x256x64xbf16> into tensor<2x4x256x64xbf16>
// CHECK: %[[B1:.+]] = tensor.expand_shape {{.*}} into tensor<2x4x1x?xf32>
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

// A static Nk: the automatic choice cuts the keys into 4 runs (phase 1 then
// has 2 * 16 * 4 * 2 = 256 CTAs of 128 rows), a reshape to 64 heads; the runs
// are merged by log-sum-exp (max, sum of exp, log, the weighted sum of o1 in
// f32, then f16); a projection of one head (f32) is read at head 0.
// AUTO-LABEL: func.func @favor_split
// AUTO: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4]] output_shape [2, 16, 4, 16384, 128] : tensor<2x16x65536x128xf16> into tensor<2x16x4x16384x128xf16>
// AUTO: tensor.collapse_shape %{{.*}} : tensor<2x16x4x16384x128xf16> into tensor<2x64x16384x128xf16>
// AUTO: arith.truncf %{{.*}} : f32 to f16
// AUTO: %{{.*}}, %[[LSE:.+]] = attn.sdpa {{.*}} bias(%{{.*}} : tensor<2x64x1x16384xf32>) {{.*}} -> tensor<2x64x256x128xf16>, tensor<2x64x256xf32>
// AUTO: math.exp
// AUTO: math.log
// AUTO: arith.truncf %{{.*}} : f32 to f16
// AUTO: attn.sdpa {{.*}} : tensor<2x16x4096x128xf16>, tensor<2x16x256x128xf16>, tensor<2x16x256x128xf16>) {{.*}} bias(%{{.*}} : tensor<2x16x1x256xf32>)
// AUTO-NOT: attn.kernelized
// AUTO-LABEL: func.func @not_taken
// CHECK-LABEL: func.func @favor_split
// CHECK-NOT: attn.kernelized
// CHECK-NOT: tensor<2x64x
func.func @favor_split(%q: tensor<2x16x4096x128xf16>, %k: tensor<2x16x65536x128xf16>, %v: tensor<2x16x65536x128xf16>, %w: tensor<1x256x128xf32>, %o: tensor<2x16x4096x128xf16>) -> tensor<2x16x4096x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x16x4096x128xf16>, tensor<2x16x65536x128xf16>, tensor<2x16x65536x128xf16>)
         projection(%w : tensor<1x256x128xf32>)
         outs(%o : tensor<2x16x4096x128xf16>) -> tensor<2x16x4096x128xf16>
  return %r : tensor<2x16x4096x128xf16>
}

// Not taken: causal FAVOR+, elu_plus_one, f32, a head dim the core does not
// take (32), Dv != D. They stay for the general path.
// CHECK-LABEL: func.func @not_taken
// CHECK-NOT: attn.sdpa
// CHECK-COUNT-5: attn.kernelized
// CHECK-NOT: attn.sdpa
// CHECK: return
func.func @not_taken(%q: tensor<1x2x?x64xbf16>, %w: tensor<2x16x64xbf16>, %o: tensor<1x2x?x64xbf16>,
                     %qf: tensor<1x2x?x64xf32>, %wf: tensor<2x16x64xf32>, %of: tensor<1x2x?x64xf32>,
                     %q32: tensor<1x2x?x32xbf16>, %w32: tensor<2x16x32xbf16>,
                     %v128: tensor<1x2x?x128xbf16>, %o128: tensor<1x2x?x128xbf16>)
    -> (tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xf32>, tensor<1x2x?x32xbf16>, tensor<1x2x?x128xbf16>) {
  %causal = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         projection(%w : tensor<2x16x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) {causal} -> tensor<1x2x?x64xbf16>
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
  return %causal, %elu, %f32, %d32, %dv : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xf32>, tensor<1x2x?x32xbf16>, tensor<1x2x?x128xbf16>
}
