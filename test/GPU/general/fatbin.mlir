// The default format: ptxas and fatbinary from the toolkit given explicitly
// (toolkit=/usr/local/cuda), not from the environment.
// REQUIRES: cuda-toolkit
// RUN: env -u CUDA_HOME -u CUDA_ROOT -u CUDA_PATH PATH=/usr/bin:/bin attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline)' | FileCheck %s
// CHECK: gpu.binary @main_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}, "{{.*}}">]
// CHECK-NOT: assembly =
func.func @main(%x: tensor<1x?x16xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %y = attn.lightconv ins(%x, %w : tensor<1x?x16xf32>, tensor<4x5xf32>)
          outs(%o : tensor<1x?x16xf32>) {causal} -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}
