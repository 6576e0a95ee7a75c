// attn-gpu-host-buffers: the arguments and results of a public function stay
// host memrefs; the body works on device buffers.
// RUN: attn-opt %s --attn-gpu-host-buffers | FileCheck %s

// CHECK-LABEL: func.func @entry(
// CHECK-SAME: %[[A:.*]]: memref<?x4xf32>, %[[B:.*]]: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[A]]
// CHECK: %[[DA:.*]] = gpu.alloc  (%[[N]]) : memref<?x4xf32>
// CHECK: gpu.memcpy  %[[DA]], %[[A]]
// CHECK: %[[DB:.*]] = gpu.alloc
// CHECK: gpu.memcpy  %[[DB]], %[[B]]
// CHECK: %[[T:.*]] = gpu.alloc  (%{{.*}}) : memref<?x4xf32>
// CHECK: linalg.copy ins(%[[DA]] : memref<?x4xf32>) outs(%[[T]] : memref<?x4xf32>)
// CHECK: %[[S:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK: gpu.dealloc  %[[S]]
// The result that is an argument goes back into the argument's buffer; a
// new result into a new host buffer; then every device buffer is freed.
// CHECK: gpu.memcpy  %[[B]], %[[DB]]
// CHECK: %[[H:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: gpu.memcpy  %[[H]], %[[T]]
// CHECK: gpu.dealloc  %[[T]]
// CHECK: gpu.dealloc  %[[DA]]
// CHECK: gpu.dealloc  %[[DB]]
// CHECK: return %[[B]], %[[H]]
func.func @entry(%a: memref<?x4xf32>, %b: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x4xf32>
  %t = memref.alloc(%n) : memref<?x4xf32>
  memref.copy %a, %t : memref<?x4xf32> to memref<?x4xf32>
  %s = memref.alloc() : memref<4xf32>
  memref.dealloc %s : memref<4xf32>
  return %b, %t : memref<?x4xf32>, memref<?x4xf32>
}

// A private function is called with its caller's device buffers: only its
// allocations move.
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME: %[[X:.*]]: memref<4xf32>)
// CHECK-NOT: gpu.memcpy
// CHECK: gpu.alloc  () : memref<4xf32>
// CHECK-NOT: gpu.memcpy
// CHECK: return
func.func private @helper(%x: memref<4xf32>) -> memref<4xf32> {
  %t = memref.alloc() : memref<4xf32>
  return %t : memref<4xf32>
}

// A constant buffer gets a device copy, freed before the return; a result
// that is a view of an allocation is copied out and its allocation freed,
// once.
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
// CHECK-LABEL: func.func @constant_and_view(
// CHECK: %[[G:.*]] = memref.get_global @table
// CHECK: %[[DG:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK: gpu.memcpy  %[[DG]], %[[G]]
// CHECK: %[[T:.*]] = gpu.alloc  () : memref<2x2xf32>
// CHECK: %[[V:.*]] = memref.collapse_shape %[[T]]
// CHECK: linalg.copy ins(%[[DG]] : memref<4xf32>) outs(%[[V]] : memref<4xf32>)
// CHECK: %[[H1:.*]] = memref.alloc() : memref<4xf32>
// CHECK: gpu.memcpy  %[[H1]], %[[V]]
// CHECK: %[[H2:.*]] = memref.alloc() : memref<4xf32>
// CHECK: gpu.memcpy  %[[H2]], %[[V]]
// CHECK: gpu.dealloc  %[[T]]
// CHECK-NOT: gpu.dealloc  %[[T]]
// CHECK: gpu.dealloc  %[[DG]]
// CHECK-NEXT: return %[[H1]], %[[H2]]
func.func @constant_and_view(%a: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %g = memref.get_global @table : memref<4xf32>
  %t = memref.alloc() : memref<2x2xf32>
  %v = memref.collapse_shape %t [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  memref.copy %g, %v : memref<4xf32> to memref<4xf32>
  return %v, %v : memref<4xf32>, memref<4xf32>
}
