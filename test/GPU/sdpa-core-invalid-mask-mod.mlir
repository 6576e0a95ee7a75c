// RUN: attn-opt %s --attn-gpu-sdpa-core -split-input-file -verify-diagnostics
// RUN: not attn-opt %s --split-input-file --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' 2>&1 | FileCheck %s --check-prefix=PIPE

// The Hopper core declines mask_mod and the block layout, saying why; the
// general path of attn-gpu-pipeline takes mask_mod
// (sdpa-core-claim-mask-mod.mlir) but rejects a block layout with the
// reason.
// PIPE: error: 'attn.sdpa' op with a block layout (blocks) is not supported by attn-gpu-pipeline yet (its owner map would be built by host loops over device buffers); compile it with attn-cpu-pipeline

func.func @mask_mod(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: mask_mod (the general path)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

func.func @layout(%q: tensor<1x2x8x64xbf16>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x2xi32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  // expected-error @+1 {{not yet on the Hopper core: block layout (blocks: the general path)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>)
         blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x2xi32>) {block_size = array<i64: 4, 4>} -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
