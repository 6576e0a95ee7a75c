// attn-gpu-tile-loops: the innermost dimension of each outermost
// scf.parallel is split into tiles of block-size threads with a bounds
// check; nested loops and loops with reductions are left alone.
// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-gpu-tile-loops{block-size=32}))' | FileCheck %s
// RUN: not attn-opt %s --pass-pipeline='builtin.module(func.func(attn-gpu-tile-loops{block-size=0}))' 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: attn-gpu-tile-loops: block-size must be in 1..1024, but got 0

// CHECK-LABEL: func.func @fill(
// CHECK-SAME: %[[B:.*]]: memref<?x?xf32>, %[[M:.*]]: index, %[[N:.*]]: index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[STEP:.*]] = arith.muli %[[C1]], %[[C32]]
// CHECK: scf.parallel (%[[I:.*]], %[[JJ:.*]]) = (%[[C0]], %[[C0]]) to (%[[M]], %[[N]]) step (%[[C1]], %[[STEP]])
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%[[C32]]) step (%{{.*}})
// CHECK: %[[OFF:.*]] = arith.muli %[[T]], %[[C1]]
// CHECK: %[[J:.*]] = arith.addi %[[JJ]], %[[OFF]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[J]], %[[N]]
// CHECK: scf.if %[[IN]] {
// CHECK: memref.store %{{.*}}, %[[B]][%[[I]], %[[J]]]
func.func @fill(%b: memref<?x?xf32>, %m: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
    memref.store %f, %b[%i, %j] : memref<?x?xf32>
  }
  return
}

// CHECK-LABEL: func.func @reduction(
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init
// CHECK-NOT: scf.if
func.func @reduction(%b: memref<?xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%z) -> f32 {
    %x = memref.load %b[%i] : memref<?xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %s = arith.addf %l, %r : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}
