// RUN: not attn-opt %s --attn-gpu-sdpa-core="kv-tile=32" 2>&1 | FileCheck %s
// RUN: not attn-opt %s --attn-gpu-sdpa-core="q-tile=96" 2>&1 | FileCheck %s --check-prefix=QTILE
// RUN: not attn-opt %s --attn-gpu-pipeline="q-tile=96" 2>&1 | FileCheck %s --check-prefix=PIPELINE

// CHECK: attn-gpu-sdpa-core: kv-tile must be 64, 128 or 0 (by head dim and pattern), but got 32
// QTILE: attn-gpu-sdpa-core: q-tile must be 64 or 128, but got 96
// PIPELINE: attn-gpu-pipeline: q-tile and kv-tile of the Hopper core must be 64 or 128 (kv-tile also 0: by head dim and pattern), but got q-tile=96 kv-tile=0
module {}
