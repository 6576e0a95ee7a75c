// ptxas accepts the warp-specialised core (warp-specialize=true: 384
// threads, one CTA per multiprocessor, setmaxnreg 24 / 240) without spills,
// honours setmaxnreg (no C7508 "setmaxnreg ignored": the PTX has .maxntid
// 384 and .minnctapersm 1, so the register count at entry is known) and keeps the wgmma products asynchronous (no
// "Potential Performance Loss"): bf16 D = 128 causal and f16 D = 64 dense
// with lse, at 2 and 3 stages, with ping-pong, and with 128-key tiles.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa warp-specialize=true" -o %t.ws2.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.ws2.mlir %t.ws2.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ws2.ptx -o %t.ws2.cubin 2>&1 | FileCheck %s --implicit-check-not="Performance Loss" --implicit-check-not=C7508
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa warp-specialize=true ws-stages=3 ws-pingpong=true" -o %t.pp3.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.pp3.mlir %t.pp3.ptx
// RUN: %ptxas -arch=sm_90a -v %t.pp3.ptx -o %t.pp3.cubin 2>&1 | FileCheck %s --implicit-check-not="Performance Loss" --implicit-check-not=C7508
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa warp-specialize=true ws-pingpong=true kv-tile=128" -o %t.kv128.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.kv128.mlir %t.kv128.ptx
// RUN: %ptxas -arch=sm_90a -v %t.kv128.ptx -o %t.kv128.cubin 2>&1 | FileCheck %s --implicit-check-not="Performance Loss" --implicit-check-not=C7508

// CHECK: Compiling entry function 'sdpa_core_{{[01]}}' for 'sm_90a'
// CHECK: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK: Used {{[0-9]+}} registers
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
