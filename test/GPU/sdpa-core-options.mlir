// RUN: not attn-opt %s --attn-gpu-sdpa-core="kv-tile=32" 2>&1 | FileCheck %s
// RUN: not attn-opt %s --attn-gpu-sdpa-core="q-tile=96" 2>&1 | FileCheck %s --check-prefix=QTILE
// RUN: not attn-opt %s --attn-gpu-pipeline="chip=sm_90" 2>&1 | FileCheck %s --check-prefix=CHIP

// CHECK: attn-gpu-sdpa-core: kv-tile must be 64 or 128, but got 32
// QTILE: attn-gpu-sdpa-core: q-tile must be 64 or 128, but got 96
// CHIP: attn-gpu-pipeline: the sdpa core needs chip=sm_90a (wgmma), got 'sm_90'
module {}
