// ptxas accepts the overlapped core (overlap=true: one CTA per
// multiprocessor, 64-key tiles) without spills and without serializing its
// wgmma products (no "Potential Performance Loss"): bf16 D = 128 causal and
// f16 D = 64 dense with lse.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa overlap=true" -o %t.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --implicit-check-not="Performance Loss"

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
