// The persistent grid (persistent=P, docs/GPU.md "Persistent grid and short
// sequences"): the launch takes (max(min(tiles H B, P) / H, 1), H, 1) CTAs
// and the kernel loops over rounds of work tiles (a snake over the CTAs),
// carrying the key/value ring's count (the round is the Q barrier's phase);
// a round past the last work tile does nothing; the mbarriers are
// initialised in the first round only. Ops with positions keep one CTA per
// tile.
// RUN: attn-opt %s --attn-gpu-sdpa-core="persistent=264" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core="persistent=0" | FileCheck %s --check-prefix=GRID
// RUN: attn-opt %s --attn-gpu-sdpa-core | FileCheck %s --check-prefix=DEFAULT

// CHECK-LABEL: func.func private @sdpa_core_1_launch
// CHECK-NOT: arith.minui
// CHECK: gpu.launch_func
// CHECK-LABEL: func.func private @sdpa_core_0_launch
// CHECK: %[[CTAS:.+]] = arith.minui %{{.+}}, %c264{{[_0-9]*}} : index
// CHECK: %[[PER:.+]] = arith.divui %[[CTAS]], %[[H:[^ ]+]] : index
// CHECK: %[[GX:.+]] = arith.maxui %[[PER]], %c1{{[_0-9]*}} : index
// CHECK: gpu.launch_func {{ *}}@attn_gpu::@sdpa_core_0 blocks in (%[[GX]], %[[H]], %c1{{[_0-9]*}})
// CHECK: gpu.func @sdpa_core_0(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %[[OUT:.+]]: memref<?x?x?xbf16>,
// CHECK: %[[BH:.+]] = memref.dim %[[OUT]], %c0{{[_0-9]*}} : memref<?x?x?xbf16>
// CHECK: %[[TOTAL:.+]] = arith.muli %{{.+}}, %[[BH]] : index
// CHECK: %[[ROUNDS:.+]] = arith.ceildivui %[[TOTAL]], %{{.+}} : index
// CHECK: scf.for %[[IT:[^ ]+]] = %c0{{[_0-9]*}} to %[[ROUNDS]] step %c1{{[_0-9]*}} iter_args(%[[KV:[^ ]+]] = %c0{{[_0-9]*}}) -> (index) {
// CHECK: %[[W:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: %[[VALID:.+]] = arith.cmpi ult, %[[W]], %[[TOTAL]] : index
// CHECK: %[[RES:.+]] = scf.if %[[VALID]] -> (index) {
// CHECK: arith.cmpi eq, %[[IT]], %c0{{[_0-9]*}} : index
// CHECK: nvvm.mbarrier.init
// CHECK: scf.for %[[J:[^ ]+]] = %c0{{[_0-9]*}} to
// CHECK: arith.addi %[[J]], %[[KV]] : index
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: %[[KV2:.+]] = arith.addi %[[KV]], %{{.+}} : index
// CHECK: scf.yield %[[KV2]] : index
// CHECK-NEXT: } else {
// CHECK-NEXT: scf.yield %[[KV]] : index
// CHECK-NEXT: }
// CHECK-NEXT: scf.yield %[[RES]] : index
// CHECK-NEXT: }
// CHECK-NEXT: gpu.return
// CHECK: gpu.func @sdpa_core_1(
// CHECK-NOT: iter_args(%{{[^ ]+}} = %c0{{[_0-9]*}}) -> (index) {
// CHECK: gpu.return

// With persistent=0: the grid (tiles, H, B) and no work loop; the epilogue's
// pair stores (4-byte stores of two bf16 columns, where the output's layout
// allows) with the element stores as the fallback.
// GRID-LABEL: func.func private @sdpa_core_0_launch
// GRID-NOT: arith.minui
// GRID: gpu.launch_func {{ *}}@attn_gpu::@sdpa_core_0 blocks in (%{{.+}}, %{{.+}}, %{{.+}})
// GRID: gpu.func @sdpa_core_0(
// GRID-NOT: -> (index) {
// GRID: memref.extract_strided_metadata
// GRID: llvm.store %{{.+}}, %{{.+}} : vector<2xbf16>, !llvm.ptr<1>
// GRID: } else {
// GRID: memref.store
// GRID: gpu.return
// The default (persistent=-1): the causal op gets the persistent kernel with
// every work tile its own CTA, grid (tiles B, H, 1); the op with positions
// keeps the plain grid.
// DEFAULT-LABEL: func.func private @sdpa_core_1_launch
// DEFAULT-NOT: arith.minui
// DEFAULT: gpu.launch_func
// DEFAULT-LABEL: func.func private @sdpa_core_0_launch
// DEFAULT-NOT: arith.minui
// DEFAULT: %[[X:.+]] = arith.muli %{{.+}}, %{{.+}} : index
// DEFAULT: gpu.launch_func {{ *}}@attn_gpu::@sdpa_core_0 blocks in (%[[X]], %{{.+}}, %c1{{[_0-9]*}})
// DEFAULT: gpu.func @sdpa_core_0(
// DEFAULT: scf.for %{{.+}} iter_args(%{{[^ ]+}} = %c0{{[_0-9]*}}) -> (index) {
// DEFAULT: gpu.func @sdpa_core_1(
// DEFAULT-NOT: iter_args(%{{[^ ]+}} = %c0{{[_0-9]*}}) -> (index) {
// DEFAULT: gpu.return
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %p: tensor<?x?x?xi32>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  %s = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) positions(%p, %p : tensor<?x?x?xi32>, tensor<?x?x?xi32>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r, %s : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>
}
