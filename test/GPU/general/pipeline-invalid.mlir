// RUN: not attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=cubin})' 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{chip=gfx90a})' 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{block-size=2048})' 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: attn-gpu-pipeline: block-size must be in 1..1024, but got 2048
// FORMAT: attn-gpu-pipeline: format must be fatbin, bin or isa, but got 'cubin'
// CHIP: attn-gpu-pipeline: chip must be an NVIDIA architecture such as sm_90a, but got 'gfx90a'
func.func @main() {
  return
}
