// Every op that the score_mod verifier accepts compiles: each math op (on f32,
// and on f64, f16 and bf16 where it has no LLVM intrinsic), integer division,
// the index dialect, tensor.extract of an operand, and scf.if / for / while /
// index_switch / execute_region / parallel in a score_mod go through
// attn-cpu-pipeline and translate to LLVM IR (issue 8, item 12). The ops that
// the verifier rejects are in test/Dialect/Attn/invalid-score-mod.mlir;
// python/tests/test_run_score_mod.py runs every math op against the reference.
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline=mode=reference | mlir-translate --mlir-to-llvmir | FileCheck %s
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline="mode=reference compute-type=f64" | mlir-translate --mlir-to-llvmir | FileCheck %s
// The fused default too: attn-prepare-tile-loops once left fast-math flags on
// the score_mod's extf / truncf, which became llvm.fpext / fptrunc with an
// attribute that LLVM IR translation rejects.
// The CHECK lines follow the reference lowering; for the fused one, that
// every function translates.
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=FUSED
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline="compute-type=f64" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=FUSED
// FUSED: define {{.*}} @unary_f32(
// FUSED: define {{.*}} @unary_f64(
// FUSED: define {{.*}} @unary_f16(
// FUSED: define {{.*}} @unary_bf16(
// FUSED: define {{.*}} @binary_f32(
// FUSED: define {{.*}} @powers_f32(
// FUSED: define {{.*}} @classify_f32(
// FUSED: define {{.*}} @integer(
// FUSED: define {{.*}} @division(
// FUSED: define {{.*}} @index_ops(
// FUSED: define {{.*}} @tensor_operand(
// FUSED: define {{.*}} @control_flow(

// Math ops without an LLVM intrinsic become libm calls (erf, erfc, cbrt,
// acosh, asinh, atanh), comparisons (isinf, isnormal), min / max (clampf) or
// generated functions (ipowi, fpowi with an i64 exponent).

// Every unary f32 op.
// CHECK-LABEL: define {{.*}} @unary_f32(
// CHECK: call float @acoshf(
// CHECK: call float @asinhf(
// CHECK: call float @atanhf(
// CHECK: call float @cbrtf(
// CHECK: call float @erff(
// CHECK: call float @erfcf(
func.func @unary_f32(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %u0 = math.absf %s : f32
    %a0 = arith.addf %s, %u0 : f32
    %u1 = math.acos %s : f32
    %a1 = arith.addf %a0, %u1 : f32
    %u2 = math.acosh %s : f32
    %a2 = arith.addf %a1, %u2 : f32
    %u3 = math.asin %s : f32
    %a3 = arith.addf %a2, %u3 : f32
    %u4 = math.asinh %s : f32
    %a4 = arith.addf %a3, %u4 : f32
    %u5 = math.atan %s : f32
    %a5 = arith.addf %a4, %u5 : f32
    %u6 = math.atanh %s : f32
    %a6 = arith.addf %a5, %u6 : f32
    %u7 = math.cbrt %s : f32
    %a7 = arith.addf %a6, %u7 : f32
    %u8 = math.ceil %s : f32
    %a8 = arith.addf %a7, %u8 : f32
    %u9 = math.cos %s : f32
    %a9 = arith.addf %a8, %u9 : f32
    %u10 = math.cosh %s : f32
    %a10 = arith.addf %a9, %u10 : f32
    %u11 = math.erf %s : f32
    %a11 = arith.addf %a10, %u11 : f32
    %u12 = math.erfc %s : f32
    %a12 = arith.addf %a11, %u12 : f32
    %u13 = math.exp %s : f32
    %a13 = arith.addf %a12, %u13 : f32
    %u14 = math.exp2 %s : f32
    %a14 = arith.addf %a13, %u14 : f32
    %u15 = math.expm1 %s : f32
    %a15 = arith.addf %a14, %u15 : f32
    %u16 = math.floor %s : f32
    %a16 = arith.addf %a15, %u16 : f32
    %u17 = math.log %s : f32
    %a17 = arith.addf %a16, %u17 : f32
    %u18 = math.log10 %s : f32
    %a18 = arith.addf %a17, %u18 : f32
    %u19 = math.log1p %s : f32
    %a19 = arith.addf %a18, %u19 : f32
    %u20 = math.log2 %s : f32
    %a20 = arith.addf %a19, %u20 : f32
    %u21 = math.round %s : f32
    %a21 = arith.addf %a20, %u21 : f32
    %u22 = math.roundeven %s : f32
    %a22 = arith.addf %a21, %u22 : f32
    %u23 = math.rsqrt %s : f32
    %a23 = arith.addf %a22, %u23 : f32
    %u24 = math.sin %s : f32
    %a24 = arith.addf %a23, %u24 : f32
    %u25 = math.sinh %s : f32
    %a25 = arith.addf %a24, %u25 : f32
    %u26 = math.sqrt %s : f32
    %a26 = arith.addf %a25, %u26 : f32
    %u27 = math.tan %s : f32
    %a27 = arith.addf %a26, %u27 : f32
    %u28 = math.tanh %s : f32
    %a28 = arith.addf %a27, %u28 : f32
    %u29 = math.trunc %s : f32
    %a29 = arith.addf %a28, %u29 : f32
    %t = arith.addf %a29, %s : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Every unary f64 op (libm in double where there is no intrinsic).
// CHECK-LABEL: define {{.*}} @unary_f64(
// CHECK: call double @acosh(
// CHECK: call double @asinh(
// CHECK: call double @atanh(
// CHECK: call double @cbrt(
// CHECK: call double @erf(
// CHECK: call double @erfc(
func.func @unary_f64(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = arith.extf %s : f32 to f64
    %u0 = math.absf %x : f64
    %a0 = arith.addf %x, %u0 : f64
    %u1 = math.acos %x : f64
    %a1 = arith.addf %a0, %u1 : f64
    %u2 = math.acosh %x : f64
    %a2 = arith.addf %a1, %u2 : f64
    %u3 = math.asin %x : f64
    %a3 = arith.addf %a2, %u3 : f64
    %u4 = math.asinh %x : f64
    %a4 = arith.addf %a3, %u4 : f64
    %u5 = math.atan %x : f64
    %a5 = arith.addf %a4, %u5 : f64
    %u6 = math.atanh %x : f64
    %a6 = arith.addf %a5, %u6 : f64
    %u7 = math.cbrt %x : f64
    %a7 = arith.addf %a6, %u7 : f64
    %u8 = math.ceil %x : f64
    %a8 = arith.addf %a7, %u8 : f64
    %u9 = math.cos %x : f64
    %a9 = arith.addf %a8, %u9 : f64
    %u10 = math.cosh %x : f64
    %a10 = arith.addf %a9, %u10 : f64
    %u11 = math.erf %x : f64
    %a11 = arith.addf %a10, %u11 : f64
    %u12 = math.erfc %x : f64
    %a12 = arith.addf %a11, %u12 : f64
    %u13 = math.exp %x : f64
    %a13 = arith.addf %a12, %u13 : f64
    %u14 = math.exp2 %x : f64
    %a14 = arith.addf %a13, %u14 : f64
    %u15 = math.expm1 %x : f64
    %a15 = arith.addf %a14, %u15 : f64
    %u16 = math.floor %x : f64
    %a16 = arith.addf %a15, %u16 : f64
    %u17 = math.log %x : f64
    %a17 = arith.addf %a16, %u17 : f64
    %u18 = math.log10 %x : f64
    %a18 = arith.addf %a17, %u18 : f64
    %u19 = math.log1p %x : f64
    %a19 = arith.addf %a18, %u19 : f64
    %u20 = math.log2 %x : f64
    %a20 = arith.addf %a19, %u20 : f64
    %u21 = math.round %x : f64
    %a21 = arith.addf %a20, %u21 : f64
    %u22 = math.roundeven %x : f64
    %a22 = arith.addf %a21, %u22 : f64
    %u23 = math.rsqrt %x : f64
    %a23 = arith.addf %a22, %u23 : f64
    %u24 = math.sin %x : f64
    %a24 = arith.addf %a23, %u24 : f64
    %u25 = math.sinh %x : f64
    %a25 = arith.addf %a24, %u25 : f64
    %u26 = math.sqrt %x : f64
    %a26 = arith.addf %a25, %u26 : f64
    %u27 = math.tan %x : f64
    %a27 = arith.addf %a26, %u27 : f64
    %u28 = math.tanh %x : f64
    %a28 = arith.addf %a27, %u28 : f64
    %u29 = math.trunc %x : f64
    %a29 = arith.addf %a28, %u29 : f64
    %t = arith.truncf %a29 : f64 to f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Every unary f16 op (libm in float where there is no intrinsic).
// CHECK-LABEL: define {{.*}} @unary_f16(
// CHECK: call float @acoshf(
// CHECK: call float @asinhf(
// CHECK: call float @atanhf(
// CHECK: call float @cbrtf(
// CHECK: call float @erff(
// CHECK: call float @erfcf(
func.func @unary_f16(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = arith.truncf %s : f32 to f16
    %u0 = math.absf %x : f16
    %a0 = arith.addf %x, %u0 : f16
    %u1 = math.acos %x : f16
    %a1 = arith.addf %a0, %u1 : f16
    %u2 = math.acosh %x : f16
    %a2 = arith.addf %a1, %u2 : f16
    %u3 = math.asin %x : f16
    %a3 = arith.addf %a2, %u3 : f16
    %u4 = math.asinh %x : f16
    %a4 = arith.addf %a3, %u4 : f16
    %u5 = math.atan %x : f16
    %a5 = arith.addf %a4, %u5 : f16
    %u6 = math.atanh %x : f16
    %a6 = arith.addf %a5, %u6 : f16
    %u7 = math.cbrt %x : f16
    %a7 = arith.addf %a6, %u7 : f16
    %u8 = math.ceil %x : f16
    %a8 = arith.addf %a7, %u8 : f16
    %u9 = math.cos %x : f16
    %a9 = arith.addf %a8, %u9 : f16
    %u10 = math.cosh %x : f16
    %a10 = arith.addf %a9, %u10 : f16
    %u11 = math.erf %x : f16
    %a11 = arith.addf %a10, %u11 : f16
    %u12 = math.erfc %x : f16
    %a12 = arith.addf %a11, %u12 : f16
    %u13 = math.exp %x : f16
    %a13 = arith.addf %a12, %u13 : f16
    %u14 = math.exp2 %x : f16
    %a14 = arith.addf %a13, %u14 : f16
    %u15 = math.expm1 %x : f16
    %a15 = arith.addf %a14, %u15 : f16
    %u16 = math.floor %x : f16
    %a16 = arith.addf %a15, %u16 : f16
    %u17 = math.log %x : f16
    %a17 = arith.addf %a16, %u17 : f16
    %u18 = math.log10 %x : f16
    %a18 = arith.addf %a17, %u18 : f16
    %u19 = math.log1p %x : f16
    %a19 = arith.addf %a18, %u19 : f16
    %u20 = math.log2 %x : f16
    %a20 = arith.addf %a19, %u20 : f16
    %u21 = math.round %x : f16
    %a21 = arith.addf %a20, %u21 : f16
    %u22 = math.roundeven %x : f16
    %a22 = arith.addf %a21, %u22 : f16
    %u23 = math.rsqrt %x : f16
    %a23 = arith.addf %a22, %u23 : f16
    %u24 = math.sin %x : f16
    %a24 = arith.addf %a23, %u24 : f16
    %u25 = math.sinh %x : f16
    %a25 = arith.addf %a24, %u25 : f16
    %u26 = math.sqrt %x : f16
    %a26 = arith.addf %a25, %u26 : f16
    %u27 = math.tan %x : f16
    %a27 = arith.addf %a26, %u27 : f16
    %u28 = math.tanh %x : f16
    %a28 = arith.addf %a27, %u28 : f16
    %u29 = math.trunc %x : f16
    %a29 = arith.addf %a28, %u29 : f16
    %t = arith.extf %a29 : f16 to f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Every unary bf16 op (libm in float where there is no intrinsic).
// CHECK-LABEL: define {{.*}} @unary_bf16(
// CHECK: call float @acoshf(
// CHECK: call float @asinhf(
// CHECK: call float @atanhf(
// CHECK: call float @cbrtf(
// CHECK: call float @erff(
// CHECK: call float @erfcf(
func.func @unary_bf16(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = arith.truncf %s : f32 to bf16
    %u0 = math.absf %x : bf16
    %a0 = arith.addf %x, %u0 : bf16
    %u1 = math.acos %x : bf16
    %a1 = arith.addf %a0, %u1 : bf16
    %u2 = math.acosh %x : bf16
    %a2 = arith.addf %a1, %u2 : bf16
    %u3 = math.asin %x : bf16
    %a3 = arith.addf %a2, %u3 : bf16
    %u4 = math.asinh %x : bf16
    %a4 = arith.addf %a3, %u4 : bf16
    %u5 = math.atan %x : bf16
    %a5 = arith.addf %a4, %u5 : bf16
    %u6 = math.atanh %x : bf16
    %a6 = arith.addf %a5, %u6 : bf16
    %u7 = math.cbrt %x : bf16
    %a7 = arith.addf %a6, %u7 : bf16
    %u8 = math.ceil %x : bf16
    %a8 = arith.addf %a7, %u8 : bf16
    %u9 = math.cos %x : bf16
    %a9 = arith.addf %a8, %u9 : bf16
    %u10 = math.cosh %x : bf16
    %a10 = arith.addf %a9, %u10 : bf16
    %u11 = math.erf %x : bf16
    %a11 = arith.addf %a10, %u11 : bf16
    %u12 = math.erfc %x : bf16
    %a12 = arith.addf %a11, %u12 : bf16
    %u13 = math.exp %x : bf16
    %a13 = arith.addf %a12, %u13 : bf16
    %u14 = math.exp2 %x : bf16
    %a14 = arith.addf %a13, %u14 : bf16
    %u15 = math.expm1 %x : bf16
    %a15 = arith.addf %a14, %u15 : bf16
    %u16 = math.floor %x : bf16
    %a16 = arith.addf %a15, %u16 : bf16
    %u17 = math.log %x : bf16
    %a17 = arith.addf %a16, %u17 : bf16
    %u18 = math.log10 %x : bf16
    %a18 = arith.addf %a17, %u18 : bf16
    %u19 = math.log1p %x : bf16
    %a19 = arith.addf %a18, %u19 : bf16
    %u20 = math.log2 %x : bf16
    %a20 = arith.addf %a19, %u20 : bf16
    %u21 = math.round %x : bf16
    %a21 = arith.addf %a20, %u21 : bf16
    %u22 = math.roundeven %x : bf16
    %a22 = arith.addf %a21, %u22 : bf16
    %u23 = math.rsqrt %x : bf16
    %a23 = arith.addf %a22, %u23 : bf16
    %u24 = math.sin %x : bf16
    %a24 = arith.addf %a23, %u24 : bf16
    %u25 = math.sinh %x : bf16
    %a25 = arith.addf %a24, %u25 : bf16
    %u26 = math.sqrt %x : bf16
    %a26 = arith.addf %a25, %u26 : bf16
    %u27 = math.tan %x : bf16
    %a27 = arith.addf %a26, %u27 : bf16
    %u28 = math.tanh %x : bf16
    %a28 = arith.addf %a27, %u28 : bf16
    %u29 = math.trunc %x : bf16
    %a29 = arith.addf %a28, %u29 : bf16
    %t = arith.extf %a29 : bf16 to f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// The binary and ternary f32 ops.
// CHECK-LABEL: define {{.*}} @binary_f32(
// CHECK: call float @llvm.minimum.f32(float %{{.*}}, float 5.000000e-01)
// CHECK: call float @llvm.maximum.f32(float %{{.*}}, float -5.000000e-01)
func.func @binary_f32(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.5 : f32
    %lo = arith.constant -0.5 : f32
    %u0 = math.atan2 %s, %c : f32
    %u1 = math.copysign %c, %s : f32
    %u2 = math.powf %c, %s : f32
    %u3 = math.fma %s, %c, %u0 : f32
    %u4 = math.clampf %s to [%lo, %c] : f32
    %a0 = arith.addf %u0, %u1 : f32
    %a1 = arith.addf %a0, %u2 : f32
    %a2 = arith.addf %a1, %u3 : f32
    %t = arith.addf %a2, %u4 : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Powers with an integer exponent, and sincos.
// CHECK-LABEL: define {{.*}} @powers_f32(
// CHECK: call float @llvm.powi.f32.i32(
// CHECK: call float @__mlir_math_fpowi_f32_i64(
// CHECK: call { float, float } @llvm.sincos.f32(
func.func @powers_f32(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %n3 = arith.constant 3 : i32
    %ii = arith.index_cast %i : index to i64
    %u0 = math.fpowi %s, %n3 : f32, i32
    %u1 = math.fpowi %s, %ii : f32, i64
    %sn, %cs = math.sincos %s : f32
    %a0 = arith.addf %u0, %u1 : f32
    %a1 = arith.addf %a0, %sn : f32
    %t = arith.addf %a1, %cs : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// The classification ops: isinf and isnormal as comparisons of |x|.
// CHECK-LABEL: define {{.*}} @classify_f32(
// CHECK: call float @llvm.fabs.f32(
// CHECK: fcmp oeq float %{{.*}}, 0x7FF0000000000000
// CHECK: fcmp oge float %{{.*}}, 0x3810000000000000
func.func @classify_f32(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = arith.extf %s : f32 to f64
    %p0 = math.isfinite %s : f32
    %p1 = math.isinf %s : f32
    %p2 = math.isnan %s : f32
    %p3 = math.isnormal %s : f32
    %p4 = math.isinf %x : f64
    %p5 = math.isnormal %x : f64
    %b0 = arith.xori %p0, %p1 : i1
    %b1 = arith.xori %b0, %p2 : i1
    %b2 = arith.xori %b1, %p3 : i1
    %b3 = arith.xori %b2, %p4 : i1
    %b4 = arith.xori %b3, %p5 : i1
    %z = arith.constant 0.0 : f32
    %t = arith.select %b4, %s, %z : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// The integer math ops; ipowi becomes a generated function.
// CHECK-LABEL: define {{.*}} @integer(
// CHECK: call i32 @llvm.abs.i32(
// CHECK: call i32 @llvm.ctlz.i32(
// CHECK: call i32 @llvm.cttz.i32(
// CHECK: call i32 @llvm.ctpop.i32(
// CHECK: call i32 @__mlir_math_ipowi_i32(
// CHECK: call i64 @__mlir_math_ipowi_i64(
func.func @integer(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %a = arith.index_cast %i : index to i32
    %u0 = math.absi %a : i32
    %u1 = math.ctlz %a : i32
    %u2 = math.cttz %a : i32
    %u3 = math.ctpop %a : i32
    %u4 = math.ipowi %a, %u3 : i32
    %w = arith.index_cast %j : index to i64
    %u5 = math.ipowi %w, %w : i64
    %u5t = arith.trunci %u5 : i64 to i32
    %a0 = arith.addi %u0, %u1 : i32
    %a1 = arith.addi %a0, %u2 : i32
    %a2 = arith.addi %a1, %u4 : i32
    %a3 = arith.addi %a2, %u5t : i32
    %f = arith.sitofp %a3 : i32 to f32
    %t = arith.addf %s, %f : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Integer division and remainder (not speculatable, but pure), on index and i32.
// CHECK-LABEL: define {{.*}} @division(
// CHECK: sdiv i64
// CHECK: udiv i64
// CHECK: srem i32
// CHECK: frem float
func.func @division(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %one = arith.constant 1 : index
    %d = arith.addi %j, %one : index
    %u0 = arith.divsi %i, %d : index
    %u1 = arith.divui %i, %d : index
    %u2 = arith.ceildivsi %i, %d : index
    %u3 = arith.ceildivui %i, %d : index
    %u4 = arith.floordivsi %i, %d : index
    %u5 = arith.remsi %i, %d : index
    %u6 = arith.remui %i, %d : index
    %a0 = arith.addi %u0, %u1 : index
    %a1 = arith.addi %a0, %u2 : index
    %a2 = arith.addi %a1, %u3 : index
    %a3 = arith.addi %a2, %u4 : index
    %a4 = arith.addi %a3, %u5 : index
    %a5 = arith.addi %a4, %u6 : index
    %n = arith.index_cast %a5 : index to i32
    %c7 = arith.constant 7 : i32
    %m = arith.remsi %n, %c7 : i32
    %f = arith.sitofp %m : i32 to f32
    %c = arith.constant 0.75 : f32
    %g = arith.remf %s, %c : f32
    %x = arith.addf %f, %g : f32
    %t = arith.addf %s, %x : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// The index dialect.
// CHECK-LABEL: define {{.*}} @index_ops(
// CHECK: sdiv i64
func.func @index_ops(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %one = index.constant 1
    %d = index.add %j, %one
    %u0 = index.sub %i, %d
    %u1 = index.mul %u0, %d
    %u2 = index.divs %u1, %d
    %u3 = index.divu %u2, %d
    %u4 = index.ceildivs %u3, %d
    %u5 = index.ceildivu %u4, %d
    %u6 = index.floordivs %u5, %d
    %u7 = index.rems %u6, %d
    %u8 = index.remu %u7, %d
    %u9 = index.maxs %u8, %i
    %u10 = index.maxu %u9, %i
    %u11 = index.mins %u10, %i
    %u12 = index.minu %u11, %i
    %u13 = index.shl %u12, %one
    %u14 = index.shrs %u13, %one
    %u15 = index.shru %u14, %one
    %u16 = index.and %u15, %i
    %u17 = index.or %u16, %j
    %u18 = index.xor %u17, %one
    %sz = index.sizeof
    %u19 = index.add %u18, %sz
    %lt = index.cmp slt(%u19, %i)
    %yes = index.bool.constant true
    %both = arith.andi %lt, %yes : i1
    %w = index.casts %u19 : index to i64
    %wu = index.castu %u19 : index to i32
    %f = arith.sitofp %w : i64 to f32
    %fu = arith.uitofp %wu : i32 to f32
    %x = arith.addf %f, %fu : f32
    %z = arith.constant 0.0 : f32
    %y = arith.select %both, %x, %z : f32
    %t = arith.addf %s, %y : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// tensor.extract and tensor.dim of an operand (per-head slopes).
// CHECK-LABEL: define {{.*}} @tensor_operand(
// CHECK: load float
func.func @tensor_operand(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>, %slopes: tensor<2xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %m = tensor.extract %slopes[%h] : tensor<2xf32>
    %c0 = arith.constant 0 : index
    %n = tensor.dim %slopes, %c0 : tensor<2xf32>
    %ni = arith.index_cast %n : index to i64
    %nf = arith.sitofp %ni : i64 to f32
    %x = arith.mulf %m, %nf : f32
    %t = arith.addf %s, %x : f32
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// Structured control flow: if, for, while, index_switch, execute_region and
// parallel stay in the linalg body and become branches.
// CHECK-LABEL: define {{.*}} @control_flow(
// CHECK: br i1
// CHECK: phi float
func.func @control_flow(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %half = arith.constant 0.5 : f32
    %before = arith.cmpi ule, %j, %i : index
    %a = scf.if %before -> f32 {
      %n = arith.negf %s : f32
      scf.yield %n : f32
    } else {
      scf.yield %s : f32
    }
    %f = scf.for %it = %c0 to %i step %c1 iter_args(%acc = %a) -> f32 {
      %m = arith.mulf %acc, %half : f32
      scf.yield %m : f32
    }
    %w:2 = scf.while (%n = %j, %acc = %f) : (index, f32) -> (index, f32) {
      %more = arith.cmpi ugt, %n, %c0 : index
      scf.condition(%more) %n, %acc : index, f32
    } do {
    ^bb0(%n2: index, %a2: f32):
      %n3 = arith.subi %n2, %c1 : index
      %a3 = arith.mulf %a2, %half : f32
      scf.yield %n3, %a3 : index, f32
    }
    %sw = scf.index_switch %h -> f32
    case 0 {
      %n = arith.negf %w#1 : f32
      scf.yield %n : f32
    }
    default {
      scf.yield %w#1 : f32
    }
    %ex = scf.execute_region -> f32 {
      %n = arith.addf %sw, %half : f32
      scf.yield %n : f32
    }
    %t = scf.parallel (%it) = (%c0) to (%i) step (%c1) init (%ex) -> f32 {
      scf.reduce(%half : f32) {
      ^bb0(%l: f32, %rr: f32):
        %m = arith.addf %l, %rr : f32
        scf.reduce.return %m : f32
      }
    }
    attn.yield %t : f32
  } -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}
