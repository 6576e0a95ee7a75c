// ptxas accepts the generated PTX for sm_90a and the core spills nothing
// (bf16 D = 128 causal and f16 D = 64 with lse; the default tiles, q-tile 128
// and kv-tile 64, and kv-tile 128 with q-tile 64), with one CTA per work tile
// (persistent=0; the causal default, the persistent kernel with every tile
// its own CTA, spills 12 bytes at D = 128 and q-tile 128:
// sdpa-core-persistent-ptxas.mlir, docs/GPU.md "Persistent grid and short
// sequences").
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa persistent=0" -o %t.kv64.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.kv64.mlir %t.kv64.ptx
// RUN: %ptxas -arch=sm_90a -v %t.kv64.ptx -o %t.kv64.cubin 2>&1 | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa kv-tile=128 q-tile=64 persistent=0" -o %t.kv128.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.kv128.mlir %t.kv128.ptx
// RUN: %ptxas -arch=sm_90a -v %t.kv128.ptx -o %t.kv128.cubin 2>&1 | FileCheck %s

// CHECK: Compiling entry function 'sdpa_core_{{[01]}}' for 'sm_90a'
// CHECK: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK: Compiling entry function 'sdpa_core_{{[01]}}' for 'sm_90a'
// CHECK: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NOT: spill
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}

func.func @dense_lse(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>, %o: tensor<?x?x?x64xf16>) -> (tensor<?x?x?x64xf16>, tensor<?x?x?xf32>) {
  %r:2 = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) outs(%o : tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16>, tensor<?x?x?xf32>
  return %r#0, %r#1 : tensor<?x?x?x64xf16>, tensor<?x?x?xf32>
}
