// The attn.gpu_core attribute of an attn.sdpa overrides the pass options of
// attn-gpu-sdpa-core for that op alone (attn-gpu-lsh-cluster-as-sdpa sets
// it, docs/GPU.md "LSH and clustered attention on the Hopper core"): q_tile
// (the Q tensor map's box, the kernel's threads), kv_tile and
// min_blocks_per_sm (nvvm.minctasm). An op without it keeps the options.
// RUN: attn-opt %s --split-input-file --attn-gpu-sdpa-core --verify-diagnostics | FileCheck %s

// The first op: grid ceil(Nq / 64); the second: ceil(Nq / 128).
// CHECK-LABEL: func.func @own_and_default
// CHECK: arith.ceildivui %{{.+}}, %c64{{[_0-9]*}} : index
// CHECK: arith.ceildivui %{{.+}}, %c128{{[_0-9]*}} : index
// CHECK-LABEL: func.func private @sdpa_core_1_launch
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// CHECK-LABEL: func.func private @sdpa_core_0_launch
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x64x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// CHECK: gpu.func @sdpa_core_0({{.*}}) kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 4 : i32}
// CHECK: gpu.func @sdpa_core_1({{.*}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32}
func.func @own_and_default(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) {
  %a = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) pattern(#attn.causal) {attn.gpu_core = {q_tile = 64 : i64, kv_tile = 128 : i64, min_blocks_per_sm = 4 : i64}} -> tensor<?x?x?x64xbf16>
  %b = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) pattern(#attn.causal) -> tensor<?x?x?x64xbf16>
  return %a, %b : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_q_tile(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: q_tile must be 64 or 128 and kv_tile 0, 64 or 128, but got 32 and 0}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {q_tile = 32 : i64}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}
