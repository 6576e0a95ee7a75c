// Every op and every pattern attribute round-trips, in the pretty form and
// through the generic form.
// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

!q = tensor<2x8x?x64xf32>
!kv = tensor<2x2x?x64xf32>

// CHECK-LABEL: func @sdpa_dense
// CHECK: attn.sdpa ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x?x64xf32>, tensor<2x2x?x64xf32>, tensor<2x2x?x64xf32>) outs(%{{.*}} : tensor<2x8x?x64xf32>) -> tensor<2x8x?x64xf32>
func.func @sdpa_dense(%q: !q, %k: !kv, %v: !kv, %o: !q) -> !q {
  %r = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) -> !q
  return %r : !q
}

// CHECK-LABEL: func @sdpa_every_operand
// CHECK: attn.sdpa ins({{.*}}) outs({{.*}}) mask(%{{.*}} : tensor<?x?xi1>) bias(%{{.*}} : tensor<8x1x1xf32>) memory(%{{.*}}, %{{.*}} : tensor<2x4x64xf32>, tensor<2x4x64xf32>) positions(%{{.*}}, %{{.*}} : tensor<2x1x?xi64>, tensor<2x1x?xi32>) span(%{{.*}} : tensor<8xf32>) pattern(#attn.causal) {max_span = 6.400000e+01 : f32, ramp = 3.200000e+01 : f32, scale = 1.250000e-01 : f32} -> tensor<2x8x?x64xf32>, tensor<2x8x?xf32>
func.func @sdpa_every_operand(%q: !q, %k: !kv, %v: !kv, %o: !q, %m: tensor<?x?xi1>,
    %b: tensor<8x1x1xf32>, %mk: tensor<2x4x64xf32>, %mv: tensor<2x4x64xf32>,
    %qp: tensor<2x1x?xi64>, %kp: tensor<2x1x?xi32>, %z: tensor<8xf32>) -> (!q, tensor<2x8x?xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q)
      mask(%m : tensor<?x?xi1>) bias(%b : tensor<8x1x1xf32>)
      memory(%mk, %mv : tensor<2x4x64xf32>, tensor<2x4x64xf32>)
      positions(%qp, %kp : tensor<2x1x?xi64>, tensor<2x1x?xi32>)
      span(%z : tensor<8xf32>) pattern(#attn.causal)
      {scale = 0.125 : f32, ramp = 32.0 : f32, max_span = 64.0 : f32}
      -> !q, tensor<2x8x?xf32>
  return %r, %lse : !q, tensor<2x8x?xf32>
}

// CHECK-LABEL: func @sdpa_score_mod
// CHECK: attn.sdpa {{.*}} score_mod {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK: %[[T:.+]] = math.tanh
// CHECK: attn.yield %{{.*}} : f32
func.func @sdpa_score_mod(%q: !q, %k: !kv, %v: !kv, %o: !q) -> !q {
  %r = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %cap = arith.constant 30.0 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32
  } -> !q
  return %r : !q
}

// CHECK-LABEL: func @patterns
func.func @patterns(%q: !q, %k: !kv, %v: !kv, %o: !q) {
  // CHECK: pattern(#attn.causal<offset = -3>)
  %0 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.causal<offset = -3>) -> !q
  // CHECK: pattern(#attn.causal<bottom_right>)
  %1 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.causal<bottom_right>) -> !q
  // CHECK: pattern(#attn.causal<offset = 2, bottom_right>)
  %2 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.causal<offset = 2, bottom_right>) -> !q
  // CHECK: pattern(#attn.window<left = 256, right = 0>)
  %3 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.window<left = 256, right = 0>) -> !q
  // CHECK: pattern(#attn.dilated<left = 4, right = 4, dilation = 2>)
  %4 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.dilated<left = 4, right = 4, dilation = 2>) -> !q
  // CHECK: pattern(#attn.block_local<size = 64>)
  %5 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.block_local<size = 64>) -> !q
  // CHECK: pattern(#attn.strided<stride = 128>)
  %6 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.strided<stride = 128>) -> !q
  // CHECK: pattern(#attn.fixed<block = 128, summary = 8>)
  %7 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.fixed<block = 128, summary = 8>) -> !q
  // CHECK: pattern(#attn.global<tokens = [0, 17, 511], first = 4>)
  %8 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.global<tokens = [0, 17, 511], first = 4>) -> !q
  // CHECK: pattern(#attn.global<first = 64>)
  %9 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.global<first = 64>) -> !q
  // CHECK: pattern(#attn.random<block = 64, per_row = 3, seed = -42>)
  %10 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.random<block = 64, per_row = 3, seed = -42>) -> !q
  // CHECK: pattern(#attn.axial<rows = 32, cols = 16>)
  %11 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.axial<rows = 32, cols = 16>) -> !q
  // CHECK: pattern(#attn.block_sparse<block = [64, 32], layout = dense<{{\[}}[true, false], [true, true]]> : tensor<2x2xi1>>)
  %12 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.block_sparse<block = [64, 32], layout = dense<[[true, false], [true, true]]> : tensor<2x2xi1>>) -> !q
  // CHECK: pattern(#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>)
  %13 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>) -> !q
  // CHECK: pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = 128>, #attn.fixed<block = 128, summary = 8>]>]>)
  %14 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = 128>, #attn.fixed<block = 128, summary = 8>]>]>) -> !q
  // CHECK: pattern(#attn.dense)
  %15 = attn.sdpa ins(%q, %k, %v : !q, !kv, !kv) outs(%o : !q) pattern(#attn.dense) -> !q
  return
}

// CHECK-LABEL: func @lsh
// CHECK: attn.lsh ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<8x2x64x32xf32>) outs(%{{.*}} : tensor<1x8x4096x64xf32>) {causal, chunk_size = 64 : i64, look_ahead = 1 : i64, look_back = 2 : i64, num_buckets = 64 : i64, scale = 1.250000e-01 : f32} -> tensor<1x8x4096x64xf32>
func.func @lsh(%qk: tensor<1x8x4096x64xf32>, %v: tensor<1x8x4096x64xf32>,
               %rot: tensor<8x2x64x32xf32>, %o: tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<8x2x64x32xf32>)
         outs(%o : tensor<1x8x4096x64xf32>)
         {num_buckets = 64, chunk_size = 64, look_back = 2, look_ahead = 1, causal, scale = 0.125 : f32}
         -> tensor<1x8x4096x64xf32>
  return %r : tensor<1x8x4096x64xf32>
}

// CHECK-LABEL: func @cluster
// CHECK: attn.cluster ins({{.*}} : tensor<1x8x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x32xf16>, tensor<8x16x64xf32>) outs(%{{.*}} : tensor<1x8x?x32xf16>) {causal, window = 64 : i64} -> tensor<1x8x?x32xf16>
func.func @cluster(%q: tensor<1x8x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x32xf16>,
                   %c: tensor<8x16x64xf32>, %o: tensor<1x8x?x32xf16>) -> tensor<1x8x?x32xf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x8x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x32xf16>, tensor<8x16x64xf32>)
         outs(%o : tensor<1x8x?x32xf16>) {window = 64, causal} -> tensor<1x8x?x32xf16>
  return %r : tensor<1x8x?x32xf16>
}

// CHECK-LABEL: func @lowrank
// CHECK: attn.lowrank ins({{.*}}) projections(%{{.*}} : tensor<1x16x128xf32>) outs
// CHECK: attn.lowrank ins({{.*}}) projections(%{{.*}} : tensor<2x16x128xf32>, %{{.*}} : tensor<2x16x128xf32>) outs
func.func @lowrank(%q: tensor<1x4x?x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>,
                   %e: tensor<1x16x128xf32>, %e2: tensor<2x16x128xf32>, %o: tensor<1x4x?x64xbf16>) {
  %0 = attn.lowrank ins(%q, %k, %v : tensor<1x4x?x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>)
         projections(%e : tensor<1x16x128xf32>) outs(%o : tensor<1x4x?x64xbf16>) -> tensor<1x4x?x64xbf16>
  %1 = attn.lowrank ins(%q, %k, %v : tensor<1x4x?x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>)
         projections(%e2 : tensor<2x16x128xf32>, %e2 : tensor<2x16x128xf32>) outs(%o : tensor<1x4x?x64xbf16>) -> tensor<1x4x?x64xbf16>
  return
}

// CHECK-LABEL: func @kernelized
// CHECK: attn.kernelized favor_plus ins({{.*}}) projection(%{{.*}} : tensor<8x256x64xf32>) outs({{.*}}) {causal}
// CHECK: attn.kernelized elu_plus_one ins({{.*}}) outs
// CHECK: attn.kernelized relu ins({{.*}}) outs
func.func @kernelized(%q: tensor<1x8x?x64xf32>, %w: tensor<8x256x64xf32>, %o: tensor<1x8x?x64xf32>) {
  %0 = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         projection(%w : tensor<8x256x64xf32>) outs(%o : tensor<1x8x?x64xf32>) {causal} -> tensor<1x8x?x64xf32>
  %1 = attn.kernelized elu_plus_one ins(%q, %q, %q : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32>
  %2 = attn.kernelized relu ins(%q, %q, %q : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32>
  return
}

// CHECK-LABEL: func @pkm
// CHECK: attn.pkm ins({{.*}} : tensor<1x4x?x64xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<1024x48xf16>) outs(%{{.*}} : tensor<1x4x?x48xf16>) {top_k = 8 : i64}
func.func @pkm(%q: tensor<1x4x?x64xf32>, %s1: tensor<4x32x32xf32>, %s2: tensor<4x32x32xf32>,
               %vals: tensor<1024x48xf16>, %o: tensor<1x4x?x48xf16>) -> tensor<1x4x?x48xf16> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x4x?x64xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<1024x48xf16>)
         outs(%o : tensor<1x4x?x48xf16>) {top_k = 8} -> tensor<1x4x?x48xf16>
  return %r : tensor<1x4x?x48xf16>
}

// CHECK-LABEL: func @lightconv
// CHECK: attn.lightconv ins(%{{.*}}, %{{.*}} : tensor<2x?x256xf32>, tensor<8x7xf32>) outs(%{{.*}} : tensor<2x?x256xf32>) -> tensor<2x?x256xf32>
// CHECK: attn.lightconv ins({{.*}}) outs({{.*}}) {causal, normalize = false}
func.func @lightconv(%x: tensor<2x?x256xf32>, %w: tensor<8x7xf32>, %w4: tensor<8x4xf32>, %o: tensor<2x?x256xf32>) {
  %0 = attn.lightconv ins(%x, %w : tensor<2x?x256xf32>, tensor<8x7xf32>) outs(%o : tensor<2x?x256xf32>) -> tensor<2x?x256xf32>
  %1 = attn.lightconv ins(%x, %w4 : tensor<2x?x256xf32>, tensor<8x4xf32>) outs(%o : tensor<2x?x256xf32>) {causal, normalize = false} -> tensor<2x?x256xf32>
  return
}

// An f32 attribute may be written as a plain float literal (issue 8).
// CHECK-LABEL: func @untyped_float_attributes
// CHECK: attn.sdpa {{.*}} {max_span = 6.400000e+01 : f32, ramp = 3.200000e+01 : f32, scale = 1.250000e-01 : f32}
// CHECK: attn.lsh {{.*}} {chunk_size = 4 : i64, num_buckets = 4 : i64, scale = 5.000000e-01 : f32}
// CHECK: attn.cluster {{.*}} {scale = 2.500000e-01 : f32, window = 2 : i64}
// CHECK: attn.lowrank {{.*}} {scale = 1.000000e-01 : f32}
func.func @untyped_float_attributes(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>, %rot: tensor<2x1x8x2xf32>,
                                    %c: tensor<2x3x8xf32>, %e: tensor<1x3x4xf32>) {
  %0 = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {scale = 0.125, ramp = 32.0, max_span = 64.0} -> tensor<1x2x4x8xf32>
  %1 = attn.lsh ins(%q, %q, %rot : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x1x8x2xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {num_buckets = 4, chunk_size = 4, scale = 0.5} -> tensor<1x2x4x8xf32>
  %2 = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>)
         outs(%q : tensor<1x2x4x8xf32>) {window = 2, scale = 0.25} -> tensor<1x2x4x8xf32>
  %3 = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>)
         outs(%q : tensor<1x2x4x8xf32>) {scale = 0.1} -> tensor<1x2x4x8xf32>
  return
}

// Default values are left out of the printed dictionary; dialect-prefixed
// discardable attributes are kept on every op.
// CHECK-LABEL: func @defaults_and_discardable_attributes
// CHECK: attn.sdpa {{.*}} pattern(#attn.causal) {foo.bar} -> tensor<1x2x4x8xf32>
// CHECK: attn.lsh {{.*}} {chunk_size = 4 : i64, num_buckets = 4 : i64, test.tag = 1 : i64} -> tensor<1x2x4x8xf32>
// CHECK: attn.lightconv {{.*}} {foo.bar} -> tensor<1x4x8xf32>
// CHECK: attn.kernelized relu {{.*}} {causal, foo.bar} -> tensor<1x2x4x8xf32>
// CHECK: attn.pkm {{.*}} {foo.bar, top_k = 2 : i64} -> tensor<1x2x8x4xf32>
func.func @defaults_and_discardable_attributes(%q: tensor<1x2x4x8xf32>, %rot: tensor<2x1x8x2xf32>,
    %x: tensor<1x4x8xf32>, %w: tensor<2x3xf32>, %pq: tensor<1x2x8x4xf32>, %s: tensor<2x4x2xf32>, %v: tensor<16x4xf32>) {
  %0 = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {pattern = #attn.causal, foo.bar} -> tensor<1x2x4x8xf32>
  %1 = attn.lsh ins(%q, %q, %rot : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x1x8x2xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {num_buckets = 4, chunk_size = 4, look_back = 1, look_ahead = 0, test.tag = 1} -> tensor<1x2x4x8xf32>
  %2 = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xf32>) outs(%x : tensor<1x4x8xf32>) {normalize = true, foo.bar} -> tensor<1x4x8xf32>
  %3 = attn.kernelized relu ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {causal, foo.bar} -> tensor<1x2x4x8xf32>
  %4 = attn.pkm ins(%pq, %s, %s, %v : tensor<1x2x8x4xf32>, tensor<2x4x2xf32>, tensor<2x4x2xf32>, tensor<16x4xf32>) outs(%pq : tensor<1x2x8x4xf32>)
         {top_k = 2, foo.bar} -> tensor<1x2x8x4xf32>
  return
}

// Dims that must match but are dynamic on one side verify (checked at run time).
// CHECK-LABEL: func @dynamic_dims_that_must_match
// CHECK: attn.lowrank
// CHECK: attn.pkm
// CHECK: attn.lightconv
func.func @dynamic_dims_that_must_match(%q: tensor<1x2x8x4xf32>, %e: tensor<1x3x8xf32>, %f: tensor<1x3x?xf32>,
    %s1: tensor<?x4x2xf32>, %s2: tensor<2x4x2xf32>, %vals: tensor<16x4xf32>,
    %x: tensor<1x?x8xf32>, %w: tensor<2x3xf32>, %o: tensor<1x4x8xf32>) {
  %0 = attn.lowrank ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         projections(%e : tensor<1x3x8xf32>, %f : tensor<1x3x?xf32>) outs(%q : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x2x8x4xf32>, tensor<?x4x2xf32>, tensor<2x4x2xf32>, tensor<16x4xf32>)
         outs(%q : tensor<1x2x8x4xf32>) {top_k = 2} -> tensor<1x2x8x4xf32>
  %2 = attn.lightconv ins(%x, %w : tensor<1x?x8xf32>, tensor<2x3xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}
