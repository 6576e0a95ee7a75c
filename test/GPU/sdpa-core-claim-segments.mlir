// RUN: attn-opt %s --attn-gpu-sdpa-core=claim=true | FileCheck %s

// The claiming step leaves an sdpa with document ids to the general path
// (attn-lower-to-linalg), which handles them; the one without is claimed.
// CHECK-LABEL: func.func @segments
// CHECK: attn.sdpa {{.*}} segments(
// CHECK-LABEL: func.func @plain
// CHECK-NOT: attn.sdpa
// CHECK: return
func.func @segments(%q: tensor<1x2x8x64xbf16>, %s: tensor<1x8xi32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) segments(%s, %s : tensor<1x8xi32>, tensor<1x8xi32>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
func.func @plain(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
