// attn.lsh through attn-gpu-pipeline on sm_90a: the chunk attention of
// attn-gpu-lsh-cluster-as-sdpa is claimed by the Hopper core (TMA + wgmma
// kernels with i64 positions, the causal pattern, a score_mod and the lse;
// one per part of the sdpa heads: four here); hashing, sorting, gathers and
// the combine are general-path kernels. ptxas assembles the core's kernels
// without spills. On sm_90 (no wgmma) the op keeps the general path.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx --binary attn_gpu
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_90" | FileCheck %s --check-prefix=SM90

// CHECK: llvm.func @lsh
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_1
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_2
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_3
// CHECK: gpu.binary @attn_gpu
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-NOT: sdpa_core_4

// PTXAS-COUNT-4: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: Compiling entry function

// With merge-rounds=1 merge-f32=1 (docs/GPU.md "Rounds combined in the core
// (session 12)"; CHECK above: merge-rounds=0): one core kernel per round (two here), each merging its rows into the
// result by log-sum-exp in its epilogue (the first into an f32 accumulator,
// the second from it into the op's outs); 15 general-path kernels and no
// combine; ptxas: no spills.
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa="merge-rounds=1 merge-f32=1" --attn-gpu-pipeline="format=isa" -o %t.merged.mlir
// RUN: FileCheck %s --check-prefix=MERGED < %t.merged.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.merged.mlir %t.merged.ptx --binary attn_gpu
// RUN: %ptxas -arch=sm_90a -v %t.merged.ptx -o %t.merged.cubin 2>&1 | FileCheck %s --check-prefix=MPTXAS
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa="merge-rounds=1 merge-f32=1" --canonicalize --attn-gpu-sdpa-core | FileCheck %s --check-prefix=CORE
// The default: the accumulator between the rounds in bf16 (merge-f32=0): no
// spills either.
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.m16.mlir
// RUN: FileCheck %s --check-prefix=MERGED < %t.m16.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.m16.mlir %t.m16.ptx --binary attn_gpu
// RUN: %ptxas -arch=sm_90a -v %t.m16.ptx -o %t.m16.cubin 2>&1 | FileCheck %s --check-prefix=MPTXAS
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa="merge-rounds=1 merge-f32=0" --canonicalize --attn-gpu-sdpa-core | FileCheck %s --check-prefix=CORE16

// MERGED: llvm.func @lsh
// MERGED-COUNT-15: gpu.launch_func {{.*}}@lsh_kernel{{(_[0-9]+)?}}::@lsh_kernel
// MERGED-NOT: @lsh_kernel_15
// MERGED-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0
// MERGED-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_1
// MERGED: gpu.binary @attn_gpu
// MERGED-NOT: sdpa_core_2

// MPTXAS-COUNT-2: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// MPTXAS-NOT: Compiling entry function

// The core takes both merges: no merge op is left; round 0 writes the f32
// accumulator [B H, N, Dv] and the lse [B H, N] (out and lse arguments),
// round 1 reads them (prevo, prevlse) and writes the bf16 result. Rows go
// to (b H + g / 8, position >> 2) (8 heads a head of the op, tags of 2
// bits), the weights by exp2.
// CORE-NOT: attn.gpu_lse_merge
// CORE: call @sdpa_core_0_launch({{.*}}memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?x?xi64>, memref<?x?x?xi64>, index, index, index) -> ()
// CORE: call @sdpa_core_1_launch({{.*}}memref<?x?x?xbf16>, memref<?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?x?xi64>, memref<?x?x?xi64>, index, index, index) -> ()
// CORE-NOT: attn.gpu_lse_merge
// CORE: gpu.func @sdpa_core_0(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %[[OUT0:.+]]: memref<?x?x?xf32>, %[[LSE0:.+]]: memref<?x?xf32>, %{{.+}}: memref<?x?x?xi64>, %{{.+}}: memref<?x?x?xi64>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CORE: arith.shrui %{{.+}}, %c2_i64 : i64
// CORE: memref.extract_strided_metadata %[[OUT0]] : memref<?x?x?xf32>
// CORE: llvm.store %{{.+}}, %{{.+}} : vector<2xf32>, !llvm.ptr<1>
// CORE: } else {
// CORE: memref.store %{{.+}}, %[[OUT0]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?xf32>
// CORE: memref.store %{{.+}}, %[[LSE0]][%{{.+}}, %{{.+}}] : memref<?x?xf32>
// CORE: gpu.func @sdpa_core_1(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %[[OUT1:.+]]: memref<?x?x?xbf16>, %[[LSE1:.+]]: memref<?x?xf32>, %[[PREVO:.+]]: memref<?x?x?xf32>, %[[PREVL:.+]]: memref<?x?xf32>, %{{.+}}: memref<?x?x?xi64>
// CORE: memref.load %[[PREVL]][%{{.+}}, %{{.+}}] : memref<?x?xf32>
// CORE: math.exp2
// CORE: math.exp2
// CORE: memref.extract_strided_metadata %[[OUT1]] : memref<?x?x?xbf16>
// CORE: memref.extract_strided_metadata %[[PREVO]] : memref<?x?x?xf32>
// CORE: llvm.load %{{.+}} : !llvm.ptr<1> -> vector<2xf32>
// CORE: llvm.store %{{.+}}, %{{.+}} : vector<2xbf16>, !llvm.ptr<1>
// CORE: } else {
// CORE: memref.load %[[PREVO]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?xf32>
// CORE: arith.truncf %{{.+}} : f32 to bf16
// CORE: memref.store %{{.+}}, %[[OUT1]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?xbf16>
// CORE: memref.store %{{.+}}, %[[LSE1]][%{{.+}}, %{{.+}}] : memref<?x?xf32>

// SM90: llvm.func @lsh
// SM90-NOT: sdpa_core
func.func @lsh(%qk: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>, %rot: tensor<2x2x64x8xbf16>, %o: tensor<1x2x1024x64xbf16>) -> tensor<1x2x1024x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<2x2x64x8xbf16>) outs(%o : tensor<1x2x1024x64xbf16>) {num_buckets = 16, chunk_size = 64, causal} -> tensor<1x2x1024x64xbf16>
  return %r : tensor<1x2x1024x64xbf16>
}

// With merge-f32=0 the accumulator between the rounds is bf16: round 0
// writes it in pairs of bf16, round 1 reads pairs of bf16 and widens them.
// CORE16: gpu.func @sdpa_core_0(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: memref<?x?x?xbf16>, %{{.+}}: memref<?x?xf32>, %{{.+}}: memref<?x?x?xi64>
// CORE16: llvm.store %{{.+}}, %{{.+}} : vector<2xbf16>, !llvm.ptr<1>
// CORE16: gpu.func @sdpa_core_1(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: memref<?x?x?xbf16>, %{{.+}}: memref<?x?xf32>, %[[PREVO:.+]]: memref<?x?x?xbf16>, %{{.+}}: memref<?x?xf32>, %{{.+}}: memref<?x?x?xi64>
// CORE16: llvm.load %{{.+}} : !llvm.ptr<1> -> vector<2xbf16>
// CORE16: arith.extf %{{.+}} : bf16 to f32
// CORE16: llvm.store %{{.+}}, %{{.+}} : vector<2xbf16>, !llvm.ptr<1>
// CORE16: } else {
// CORE16: memref.load %[[PREVO]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?xbf16>
