// ptxas finds no spills in the persistent-grid kernels (persistent=264) of
// causal and dense at head dim 64 (two CTAs per multiprocessor: 128
// registers at most), and the epilogue's pair stores are 4-byte global
// stores. At head dim 128 the work loop's indices cost a few registers:
// causal spills 12 bytes, dense 16 (as without the option); docs/GPU.md,
// "Persistent grid and short sequences".
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa persistent=264" -o %t.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s

// PTX: st.global.b32
// CHECK-COUNT-2: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NOT: spill
func.func @causal_d64(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) pattern(#attn.causal) -> tensor<?x?x?x64xbf16>
  return %r : tensor<?x?x?x64xbf16>
}

func.func @dense_d64(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16>
  return %r : tensor<?x?x?x64xbf16>
}
