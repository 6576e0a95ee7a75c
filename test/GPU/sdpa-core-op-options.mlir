// The attn.gpu_core attribute of an attn.sdpa overrides the pass options of
// attn-gpu-sdpa-core for that op alone (attn-gpu-lsh-cluster-as-sdpa sets
// it, docs/GPU.md "LSH and clustered attention on the Hopper core"): q_tile
// (the Q tensor map's box, the kernel's threads), kv_tile,
// min_blocks_per_sm (nvvm.minctasm) and kv_band (the key loop clipped to a
// query tile's band, below). An op without it keeps the options.
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

// -----

// kv_band = [block, lo, hi]: query row i has weight only on the key rows
// [b(i) + lo, b(i) + hi), b(i) = floor(i / block) block (attn.lsh's packed
// chunks). The key loop of a query tile [q0, qLast] visits the pattern's
// tiles (with positions: all of them) clipped to the tiles that meet
// [b(q0) + lo, min(b(qLast) + hi, Nk)).
// CHECK-LABEL: func.func @band
// CHECK: gpu.func @sdpa_core_0(
// CHECK: %[[N:.+]] = func.call @sdpa_core_0_tiles(
// CHECK: %[[T0:.+]]:2 = func.call @sdpa_core_0_tile(%c0,
// CHECK-DAG: %[[B48:.+]] = arith.constant 48 : index
// CHECK-DAG: %[[K64:.+]] = arith.constant 64 : index
// CHECK: %[[QL:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[QB:.+]] = arith.divui %[[Q0:.+]], %[[B48]] : index
// CHECK: %[[QS:.+]] = arith.muli %[[QB]], %[[B48]] : index
// CHECK: %[[LOW:.+]] = arith.constant 16 : index
// CHECK: %[[FIRST:.+]] = arith.addi %[[QS]], %[[LOW]] : index
// CHECK: %[[LB:.+]] = arith.divui %[[QL]], %[[B48]] : index
// CHECK: %[[LS:.+]] = arith.muli %[[LB]], %[[B48]] : index
// CHECK: %[[HIGH:.+]] = arith.constant 112 : index
// CHECK: %[[E0:.+]] = arith.addi %[[LS]], %[[HIGH]] : index
// CHECK: %[[END:.+]] = arith.minui %[[E0]], %arg{{[0-9]+}} : index
// CHECK: %[[FT:.+]] = arith.divui %[[FIRST]], %[[K64]] : index
// CHECK: %[[LO:.+]] = arith.maxui %[[T0]]#0, %[[FT]] : index
// CHECK: %[[CUREND:.+]] = arith.addi %[[T0]]#0, %[[N]] : index
// CHECK: %[[ET:.+]] = arith.ceildivui %[[END]], %[[K64]] : index
// CHECK: %[[HI:.+]] = arith.minui %[[CUREND]], %[[ET]] : index
// CHECK: %[[ANY:.+]] = arith.cmpi ult, %[[LO]], %[[HI]] : index
// CHECK: %[[CNT:.+]] = arith.subi %[[HI]], %[[LO]] : index
// CHECK: %[[VISIT:.+]] = arith.select %[[ANY]], %[[CNT]], %c0 : index
// CHECK: %[[SKIP:.+]] = arith.subi %[[LO]], %[[T0]]#0 : index
// The first visited tile is tile skip (prologue), the loop runs to the
// clipped count.
// CHECK: arith.cmpi ult, %{{.+}}, %[[VISIT]] : index
// CHECK: %[[J:.+]] = arith.addi %{{.+}}, %[[SKIP]] : index
// CHECK: func.call @sdpa_core_0_tile(%[[J]],
// CHECK: scf.for {{.*}} to %[[VISIT]]
func.func @band(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>, %qp: tensor<?x?x?xi64>, %kp: tensor<?x?x?xi64>) -> tensor<?x?x?x64xbf16> {
  %a = attn.sdpa ins(%q, %k, %k : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) positions(%qp, %kp : tensor<?x?x?xi64>, tensor<?x?x?xi64>) pattern(#attn.causal) {attn.gpu_core = {q_tile = 64 : i64, kv_tile = 64 : i64, kv_band = array<i64: 48, 16, 112>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_band_block(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band must be array<i64: block, lo, hi> with block >= 1 and 0 <= lo < hi, but got array<i64: 0, 0, 64>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {kv_band = array<i64: 0, 0, 64>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_band_empty(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band must be array<i64: block, lo, hi> with block >= 1 and 0 <= lo < hi, but got array<i64: 64, 64, 64>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {kv_band = array<i64: 64, 64, 64>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_band_negative(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band must be array<i64: block, lo, hi> with block >= 1 and 0 <= lo < hi, but got array<i64: 64, -64, 64>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {kv_band = array<i64: 64, -64, 64>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_band_size(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band must be array<i64: block, lo, hi> with block >= 1 and 0 <= lo < hi, but got array<i64: 64, 128>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {kv_band = array<i64: 64, 128>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_band_type(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band must be array<i64: block, lo, hi> with block >= 1 and 0 <= lo < hi, but got [64, 0, 128]}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {kv_band = [64, 0, 128]}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

// The band clips the key loop as one interval of tiles: not for patterns
// whose tiles are several ranges (a random part, a union that is no band).
func.func @bad_band_pattern(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: kv_band needs a pattern whose key tiles are one interval (dense, causal, windows, or positions)}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) pattern(#attn.random<block = 16, per_row = 2, seed = 3>) {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

// merge (attn.lsh's rounds, docs/GPU.md "Rounds combined in the core"):
// array<i64: first, tagBits, headChunks>.
func.func @bad_merge_first(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: merge must be array<i64: first, tagBits, headChunks> with first 0 or 1, 0 <= tagBits <= 62 and headChunks >= 1, but got array<i64: 2, 0, 1>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {merge = array<i64: 2, 0, 1>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

func.func @bad_merge_chunks(%q: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // expected-error @+1 {{attn.gpu_core: merge must be array<i64: first, tagBits, headChunks> with first 0 or 1, 0 <= tagBits <= 62 and headChunks >= 1, but got array<i64: 1, 0, 0>}}
  %a = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) {attn.gpu_core = {merge = array<i64: 1, 0, 0>}} -> tensor<?x?x?x64xbf16>
  return %a : tensor<?x?x?x64xbf16>
}

// -----

// A merge whose results are not read by the merge ops: the plain kernel
// (the op's own o and lse).
// CHECK-LABEL: func.func @merge_not_taken
// CHECK: gpu.func @sdpa_core_{{[0-9]+}}(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: memref<?x?x?xbf16>, %{{.+}}: memref<?x?xf32>, %{{.+}}: memref<?x?x?xi64>, %{{.+}}: memref<?x?x?xi64>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
func.func @merge_not_taken(%q: tensor<1x2x64x64xbf16>, %o: tensor<1x2x64x64xbf16>, %p: tensor<1x2x64xi64>) -> (tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>) {
  %a, %l = attn.sdpa ins(%q, %q, %q : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>) outs(%o : tensor<1x2x64x64xbf16>) positions(%p, %p : tensor<1x2x64xi64>, tensor<1x2x64xi64>) {attn.gpu_core = {merge = array<i64: 1, 0, 1>}} -> tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>
  return %a, %l : tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>
}
