// The GPU pipeline written as a transform script (transform.attn.*) reaches
// the same module as the pass pipeline, down to the gpu.binary (format=isa:
// PTX, no CUDA toolkit needed): the outputs are compared whole, except the
// serialisation's timing property (LLVMIRToISATimeInMs), which varies.
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' \
// RUN:   | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.pass
// RUN: attn-opt %s --transform-preload-library=transform-library-paths=%p/Inputs/gpu-script.mlir \
// RUN:   --transform-interpreter | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.script
// RUN: diff %t.pass %t.script
// RUN: FileCheck %s < %t.script
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa abi=device q-tile=64 kv-tile=128 block-size=64})' \
// RUN:   | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.dev-pass
// RUN: attn-opt %s --transform-preload-library=transform-library-paths=%p/Inputs/gpu-device-script.mlir \
// RUN:   --transform-interpreter | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.dev-script
// RUN: diff %t.dev-pass %t.dev-script
// RUN: FileCheck %s --check-prefix=DEVICE < %t.dev-script
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{chip=sm_80 features=+ptx70 format=isa})' \
// RUN:   | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.sm80-pass
// RUN: attn-opt %s --transform-preload-library=transform-library-paths=%p/Inputs/gpu-sm80-script.mlir \
// RUN:   --transform-interpreter | sed -E 's/LLVMIRToISATimeInMs = [0-9]+/TIME/' > %t.sm80-script
// RUN: diff %t.sm80-pass %t.sm80-script
// RUN: FileCheck %s --check-prefix=SM80 < %t.sm80-script

// The bf16 sdpa on the Hopper core, the f32 sdpa and the lowrank op on the
// general path, all in gpu.binary ops.
// CHECK-LABEL: llvm.func @core(
// CHECK: llvm.call @sdpa_core_0_launch(
// CHECK-LABEL: llvm.func @general(
// CHECK: gpu.launch_func
// CHECK-LABEL: llvm.func @lowrank(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @attn_gpu {{.*}}.target sm_90a
// DEVICE-LABEL: llvm.func @core(
// DEVICE-NOT: mgpuMem
// DEVICE: llvm.call @sdpa_core_0_launch(
// DEVICE: gpu.binary @attn_gpu {{.*}}.target sm_90a
// SM80-LABEL: llvm.func @core(
// SM80-NOT: sdpa_core
// SM80: gpu.launch_func
// SM80-NOT: attn_gpu
// SM80: gpu.binary {{.*}}.target sm_80
func.func @core(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>,
                %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) pattern(#attn.causal) -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}

func.func @general(%q: tensor<1x4x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>,
                   %o: tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         outs(%o : tensor<1x4x?x16xf32>) pattern(#attn.window<left = 8, right = 0>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}

func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,
                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}
