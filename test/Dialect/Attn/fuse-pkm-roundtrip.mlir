// The fused attn.pkm prints as IR that parses again: the [rows, k] tile of
// i64 keys is filled with an integer constant (a float attribute of type i64
// verifies in memory but its printed form is rejected by the parser).
// RUN: attn-opt %s --verify-each --attn-fuse-variants | attn-opt --verify-each | FileCheck %s

// CHECK-LABEL: func.func @pkm
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK: linalg.fill ins(%[[ZERO]] : i64) outs(%{{.*}} : tensor<?x4xi64>)
// CHECK: scf.forall
func.func @pkm(%q: tensor<?x2x?x8xf32>, %s1: tensor<2x32x4xf32>, %s2: tensor<2x32x4xf32>,
               %vals: tensor<1024x6xf32>, %o: tensor<?x2x?x6xf32>) -> tensor<?x2x?x6xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<?x2x?x8xf32>, tensor<2x32x4xf32>, tensor<2x32x4xf32>, tensor<1024x6xf32>)
         outs(%o : tensor<?x2x?x6xf32>) {top_k = 4} -> tensor<?x2x?x6xf32>
  return %r : tensor<?x2x?x6xf32>
}
