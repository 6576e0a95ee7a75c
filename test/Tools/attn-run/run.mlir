// Runs linalg and attn functions on seeded random inputs and checks them
// against the f64-accumulation build of the same function.
// RUN: attn-run %s --entry=matmul --mode=reference --random-inputs --dim=5 --print --check | FileCheck %s --check-prefix=MATMUL
// RUN: attn-run %s --entry=sdpa --random-inputs --dim=7 --check --bench=2 | FileCheck %s --check-prefix=SDPA
// RUN: attn-run %s --entry=scalar --random-inputs --seed=3 --print | FileCheck %s --check-prefix=SCALAR
// RUN: rm -rf %t && attn-run %s --entry=matmul --random-inputs --dim=3 --dump-inputs=%t/in --output=%t/out
// RUN: attn-run %s --entry=matmul --input=a=%t/in/a.npy --input=#1=%t/in/b.npy --output=%t/again.npy
// RUN: cmp %t/out/result0.npy %t/again.npy

// MATMUL: result0: tensor<5x5xf32> [
// MATMUL: check result0 (f32): max abs error {{.*}}, bound 1e-05, NaN 0, Inf 0, non-finite mismatches 0: ok
func.func @matmul(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %b, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
         outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// SDPA: check result0 (f32): {{.*}}: ok
// SDPA: bench @sdpa: 2 runs, median {{[0-9.]+}} ms, {{.*}} GFLOP/s (3.136e-06 GFLOP)
func.func @sdpa(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%q : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// SCALAR: result0: tensor<f32> [{{.+}}]
// SCALAR: result1: tensor<2xi1> [{{[01]}}, {{[01]}}]
func.func @scalar(%s: tensor<f32>, %m: tensor<2xi1>) -> (tensor<f32>, tensor<2xi1>) {
  return %s, %m : tensor<f32>, tensor<2xi1>
}
