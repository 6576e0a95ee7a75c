// ptxas accepts the PTX of the core with document ids. At the defaults,
// causal D 64 (sorted key ids clip the key loop: binary searches with
// vote.sync; two CTAs per multiprocessor, so at most 128 registers) and
// BigBird D 64 (no clipping: per-tile id ranges only; one CTA) spill
// nothing, nor do the sorted-ids kernels; causal D 128 under the two-CTA cap
// spills 8 bytes (docs/GPU.md), and nothing with one CTA.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa min-blocks-per-sm=1" -o %t1.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t1.mlir %t1.ptx
// RUN: %ptxas -arch=sm_90a -v %t1.ptx -o %t1.cubin 2>&1 | FileCheck %s --check-prefix=ONE

// ptxas reports the kernels last to first.
// CHECK: Compiling entry function 'sdpa_core_2' for 'sm_90a'
// CHECK: Used {{[0-9]+}} registers
// CHECK: Compiling entry function 'sdpa_core_1_sorted' for 'sm_90a'
// CHECK-NEXT: Function properties for sdpa_core_1_sorted
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK: Compiling entry function 'sdpa_core_1' for 'sm_90a'
// CHECK-NEXT: Function properties for sdpa_core_1
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK: Compiling entry function 'sdpa_core_0' for 'sm_90a'
// CHECK-NEXT: Function properties for sdpa_core_0
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NEXT: Used {{[0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]}} registers

// ONE: Compiling entry function 'sdpa_core_2' for 'sm_90a'
// ONE-NEXT: Function properties for sdpa_core_2
// ONE-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// ONE: Compiling entry function 'sdpa_core_1' for 'sm_90a'
// ONE-NEXT: Function properties for sdpa_core_1
// ONE-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// ONE: Compiling entry function 'sdpa_core_0' for 'sm_90a'
// ONE-NEXT: Function properties for sdpa_core_0
// ONE-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
func.func @causal64(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>, %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>) -> tensor<?x?x?x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) segments(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>) pattern(#attn.causal) -> tensor<?x?x?x64xbf16>
  return %r : tensor<?x?x?x64xbf16>
}
func.func @bigbird64(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>, %qs: tensor<?x?xi64>, %ks: tensor<?x?xi64>) -> tensor<?x?x?x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) segments(%qs, %ks : tensor<?x?xi64>, tensor<?x?xi64>) pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 64>, #attn.random<block = 64, per_row = 3, seed = 7>]>) -> tensor<?x?x?x64xbf16>
  return %r : tensor<?x?x?x64xbf16>
}
func.func @causal128(%q: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) segments(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
