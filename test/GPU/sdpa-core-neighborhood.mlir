// RUN: attn-opt %s --attn-gpu-sdpa-core | FileCheck %s

// The Hopper core takes the new patterns through the pattern interface: the
// key tiles of a query tile come from the neighbourhood's grid rows
// (windows of 7 rows of 32: start = clamp(row - 3, 0, 25)) and the sinks.
// CHECK-LABEL: func.func private @sdpa_core_0_tiles(
// CHECK: %[[ROW:.*]] = arith.floordivsi %{{.*}}, %c32_i64 : i64
// CHECK: %[[UP:.*]] = arith.subi %[[ROW]], %c3_i64 : i64
// CHECK: arith.minsi %[[UP]], %c25_i64 : i64
// CHECK-LABEL: func.func private @sdpa_core_0_tile(
func.func @main(%q: tensor<1x2x?x64xbf16>, %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) outs(%o : tensor<1x2x?x64xbf16>)
    pattern(#attn.union<[#attn.neighborhood<extent = [32, 32], window = [7, 7]>, #attn.sink<first = 4>]>) -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}
