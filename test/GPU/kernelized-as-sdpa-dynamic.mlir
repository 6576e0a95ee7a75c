// FAVOR+ on the Hopper core with several dynamic dims: B, Nq and Nk dynamic,
// and a dynamic m with key runs. Every reshape of attn-gpu-kernelized-as-sdpa
// keeps B in a group of its own (at most one dynamic size per group of a
// tensor.expand_shape: expand-strided-metadata cannot lower more), so
// attn-gpu-pipeline compiles them; both attn.sdpa ops are claimed by the
// core. H = 0 (nothing to compute) is not rewritten: phase 1 would have no
// KV head.
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa favor-kv-splits=2" | FileCheck %s --check-prefix=RUNS
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa | FileCheck %s --check-prefix=REWRITE

// CHECK-DAG: llvm.func @favor_dynamic
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_1
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_2
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_3
// CHECK-DAG: llvm.func @no_heads
// CHECK: gpu.binary @attn_gpu
// CHECK-NOT: sdpa_core_4
// RUNS: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_3
// RUNS: gpu.binary @attn_gpu

// REWRITE-LABEL: func.func @favor_dynamic
// REWRITE-COUNT-2: attn.sdpa
// REWRITE-LABEL: func.func @favor_runs
// REWRITE-COUNT-2: attn.sdpa
// REWRITE-LABEL: func.func @no_heads
// REWRITE-NOT: attn.sdpa
// REWRITE: attn.kernelized favor_plus
// REWRITE-NOT: attn.sdpa
func.func @favor_dynamic(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %w: tensor<4x?x64xbf16>, %o: tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>)
         projection(%w : tensor<4x?x64xbf16>)
         outs(%o : tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16>
  return %r : tensor<?x4x?x64xbf16>
}

// A static Nk: favor-kv-splits=2 cuts the keys into two runs with B and m
// dynamic (the log-sum-exp merge's views).
func.func @favor_runs(%q: tensor<?x4x?x128xf16>, %k: tensor<?x2x4096x128xf16>, %v: tensor<?x2x4096x128xf16>, %w: tensor<1x?x128xf16>, %o: tensor<?x4x?x128xf16>) -> tensor<?x4x?x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<?x4x?x128xf16>, tensor<?x2x4096x128xf16>, tensor<?x2x4096x128xf16>)
         projection(%w : tensor<1x?x128xf16>)
         outs(%o : tensor<?x4x?x128xf16>) -> tensor<?x4x?x128xf16>
  return %r : tensor<?x4x?x128xf16>
}

func.func @no_heads(%q: tensor<1x0x4x64xbf16>, %k: tensor<1x1x8x64xbf16>, %w: tensor<1x16x64xbf16>, %o: tensor<1x0x4x64xbf16>) -> tensor<1x0x4x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %k : tensor<1x0x4x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>)
         projection(%w : tensor<1x16x64xbf16>)
         outs(%o : tensor<1x0x4x64xbf16>) -> tensor<1x0x4x64xbf16>
  return %r : tensor<1x0x4x64xbf16>
}
