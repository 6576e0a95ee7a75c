// Through the plugin, upstream mlir-opt has attn.sdpa's TilingInterface and
// the transform.attn.* ops: the fused CPU pipeline as a transform script
// gives attn-opt's pass pipeline output (the script's apply_registered_pass
// steps need the plugin's passes too).
// REQUIRES: attn-embedding
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin %s \
// RUN:   --transform-preload-library=transform-library-paths=%p/Inputs/tile-sdpa-script.mlir \
// RUN:   --transform-interpreter --canonicalize | FileCheck %s --check-prefix=TILED
// RUN: mlir-opt --load-dialect-plugin=%attn_plugin --load-pass-plugin=%attn_plugin %s \
// RUN:   --transform-preload-library=transform-library-paths=%attn_src_root/test/Dialect/Attn/Inputs/cpu-fused-script.mlir \
// RUN:   --transform-interpreter -o %t.plugin
// RUN: attn-opt %s --attn-cpu-pipeline="mode=fused q-tile=8 kv-tile=4" -o %t.pass
// RUN: diff %t.pass %t.plugin

// TILED: scf.forall (%{{.*}}, %[[H:.*]], %{{.*}}) in (2, 2, 4)
// TILED: attn.sdpa ins(%{{.*}} : tensor<1x2x4x8xf32>, tensor<1x1x12x8xf32>, tensor<1x1x12x8xf32>)
// TILED-SAME: pattern(#attn.causal)
func.func @sdpa(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x12x8xf32>, %v: tensor<2x2x12x8xf32>,
                %o: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x4x16x8xf32>, tensor<2x2x12x8xf32>, tensor<2x2x12x8xf32>)
         outs(%o : tensor<2x4x16x8xf32>) pattern(#attn.causal) -> tensor<2x4x16x8xf32>
  return %r : tensor<2x4x16x8xf32>
}
