// Upstream mlir-opt (Debian's, by its full path) with AttnPlugin.so: it
// parses and prints attn IR exactly as attn-opt does, and runs our passes and
// attn-cpu-pipeline. Plugin passes are named in --pass-pipeline: mlir-opt
// reads its pass flags before it loads the plugin.
// REQUIRES: attn-embedding

// Without the plugin, mlir-opt does not know attn.
// RUN: not mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// NOPLUGIN: Dialect `attn' not found for custom op 'attn.sdpa'

// Round trip: the plugin's output is attn-opt's, and parses again.
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin %s > %t.plugin.mlir
// RUN: attn-opt %s > %t.attn-opt.mlir
// RUN: diff %t.plugin.mlir %t.attn-opt.mlir
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin %t.plugin.mlir | FileCheck %s --check-prefix=ROUNDTRIP
// ROUNDTRIP-LABEL: func.func @causal_softcap
// ROUNDTRIP: attn.sdpa ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%{{.*}} : tensor<1x2x16x8xf32>) pattern(#attn.causal) score_mod {
// ROUNDTRIP: math.tanh
// ROUNDTRIP: attn.yield
// ROUNDTRIP-LABEL: func.func @lowrank
// ROUNDTRIP: attn.lowrank ins(

// A pass of the plugin.
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin --load-pass-plugin=%attn_plugin \
// RUN:   --pass-pipeline='builtin.module(attn-decompose)' %s | FileCheck %s --check-prefix=DECOMPOSE
// DECOMPOSE-LABEL: func.func @lowrank
// DECOMPOSE-NOT: attn.lowrank
// DECOMPOSE: linalg.generic
// DECOMPOSE: attn.sdpa ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)

// The pipeline, with options, down to the LLVM dialect.
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin --load-pass-plugin=%attn_plugin \
// RUN:   --pass-pipeline='builtin.module(attn-cpu-pipeline{mode=fused q-tile=8 kv-tile=4})' %s \
// RUN:   | FileCheck %s --check-prefix=FUSED
// FUSED-NOT: attn.
// FUSED-LABEL: llvm.func @causal_softcap
// FUSED-NOT: linalg.
// FUSED-NOT: tensor.
// FUSED: llvm.intr.maximum
// FUSED-LABEL: llvm.func @lowrank
// FUSED-NOT: attn.

// The README's command: an example spec (bf16, GQA, dynamic length).
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin --load-pass-plugin=%attn_plugin \
// RUN:   --pass-pipeline='builtin.module(attn-cpu-pipeline{mode=fused})' %attn_src_root/examples/longformer.mlir \
// RUN:   | FileCheck %s --check-prefix=EXAMPLE
// EXAMPLE-NOT: attn.
// EXAMPLE: llvm.func @main
// EXAMPLE-NOT: attn.

// A bad pipeline option is reported as by attn-opt.
// RUN: not mlir-opt --load-dialect-plugin=%attn_plugin --load-pass-plugin=%attn_plugin \
// RUN:   --pass-pipeline='builtin.module(attn-cpu-pipeline{mode=fast})' %s 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MODE
// MODE: error: attn-cpu-pipeline: mode must be 'reference' or 'fused', but got 'fast'

func.func @causal_softcap(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>,
                          %v: tensor<1x2x16x8xf32>, %o: tensor<1x2x16x8xf32>)
    -> tensor<1x2x16x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         outs(%o : tensor<1x2x16x8xf32>) pattern(#attn.causal) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %cap = arith.constant 30.0 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32
  } -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}

func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,
                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}
