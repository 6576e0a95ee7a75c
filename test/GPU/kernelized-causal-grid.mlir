// Causal FAVOR+'s chunked scan at the bench's shape (B=2, H=16, N=65536,
// D=64, m=256) and at N=262144 with D 128: every launch grid within CUDA's
// limits (x < 2^31, y and z <= 65535 blocks). The first device run put N on
// grid y and failed at N = 65536 with CUDA_ERROR_INVALID_VALUE; the
// generics now put a dim of length N first (grid x) or innermost (tiles). The
// mma products' grids are (B H ceil(N / C), rows / 64, column tiles), the
// prefix scan's (B H (Dv + 16) m / 128, 1, 1), x from their launch helper's
// arguments.
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa abi=device" -o %t.mlir
// RUN: %python %S/launch_grid_limits.py %t.mlir | FileCheck %s
// CHECK-COUNT-30: grid [
// CHECK-NOT: OVER
// CHECK: grids ok

func.func @favor_causal_64k(%q: tensor<2x16x65536x64xbf16>, %w: tensor<16x256x64xbf16>, %o: tensor<2x16x65536x64xbf16>) -> tensor<2x16x65536x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<2x16x65536x64xbf16>, tensor<2x16x65536x64xbf16>, tensor<2x16x65536x64xbf16>)
         projection(%w : tensor<16x256x64xbf16>)
         outs(%o : tensor<2x16x65536x64xbf16>) {causal} -> tensor<2x16x65536x64xbf16>
  return %r : tensor<2x16x65536x64xbf16>
}

func.func @favor_causal_256k_d128(%q: tensor<1x4x262144x128xf16>, %k: tensor<1x2x262144x128xf16>, %w: tensor<1x128x128xf16>, %o: tensor<1x4x262144x128xf16>) -> tensor<1x4x262144x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %k : tensor<1x4x262144x128xf16>, tensor<1x2x262144x128xf16>, tensor<1x2x262144x128xf16>)
         projection(%w : tensor<1x128x128xf16>)
         outs(%o : tensor<1x4x262144x128xf16>) {causal} -> tensor<1x4x262144x128xf16>
  return %r : tensor<1x4x262144x128xf16>
}
