// attn-compile --target=cuda: host code with the GPU binary embedded, linked
// against the runtime, which is copied next to it (rpath $ORIGIN).
// RUN: rm -rf %t && attn-compile %s --target=cuda --format=isa -o %t
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: ls %t | FileCheck %s --check-prefix=FILES
// RUN: readelf -d %t/libcuda.so | FileCheck %s --check-prefix=DYNAMIC
// RUN: nm -D --undefined-only %t/libcuda.so | FileCheck %s --check-prefix=UNDEF

// CHECK: "gpu": {
// CHECK-NEXT: "abi": "host",
// CHECK-NEXT: "chip": "sm_90a",
// CHECK-NEXT: "features": "+ptx80",
// CHECK-NEXT: "format": "isa"
// CHECK: "runtime": "libattn_cuda_runtime.so",
// CHECK: "target": "cuda",

// FILES: libattn_cuda_runtime.so
// FILES-NEXT: libcuda.so
// FILES-NEXT: manifest.json

// DYNAMIC: NEEDED{{.*}}libattn_cuda_runtime.so
// DYNAMIC: RUNPATH{{.*}}[$ORIGIN]

// UNDEF-DAG: mgpuLaunchKernel
// UNDEF-DAG: mgpuModuleLoadJIT
// UNDEF-DAG: mgpuMemAlloc
// UNDEF-DAG: mgpuMemcpy

func.func @main(%x: tensor<1x?x16xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %y = attn.lightconv ins(%x, %w : tensor<1x?x16xf32>, tensor<4x5xf32>)
          outs(%o : tensor<1x?x16xf32>) {causal} -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}
