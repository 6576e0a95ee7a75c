// attn-gpu-host-buffers{abi=device}: the arguments of a public function are
// the caller's device buffers, used in place: no allocation and no copy of
// an argument; a result that is an argument (the outs operand) is returned
// as it is, written in place.
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-gpu-host-buffers="abi=device" | FileCheck %s

// A buffer copied into the outs argument at the end is that argument
// (no temporary, no copy); a returned clone of an argument is the argument.
// CHECK-LABEL: func.func @entry(
// CHECK-SAME: %[[A:.*]]: memref<?x4xf32>, %[[B:.*]]: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>)
// CHECK-NOT: gpu.alloc
// CHECK-NOT: gpu.memcpy
// CHECK: linalg.copy ins(%[[A]] : memref<?x4xf32>) outs(%[[B]] : memref<?x4xf32>)
// CHECK-NOT: gpu.
// CHECK-NOT: memref.alloc
// CHECK: return %[[B]], %[[A]] : memref<?x4xf32>, memref<?x4xf32>
func.func @entry(%a: memref<?x4xf32>, %b: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x4xf32>
  %t = memref.alloc(%n) : memref<?x4xf32>
  memref.copy %a, %t : memref<?x4xf32> to memref<?x4xf32>
  memref.copy %t, %b : memref<?x4xf32> to memref<?x4xf32>
  %c = memref.alloc(%n) : memref<?x4xf32>
  memref.copy %a, %c : memref<?x4xf32> to memref<?x4xf32>
  memref.dealloc %t : memref<?x4xf32>
  return %b, %c : memref<?x4xf32>, memref<?x4xf32>
}

// -----

// When the outs argument is read as well, the temporary stays on the device
// (a kernel copies it).
// CHECK-LABEL: func.func @reads_outs(
// CHECK-SAME: %[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>)
// CHECK-NOT: gpu.memcpy
// CHECK: %[[T:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK: linalg.copy ins(%[[B]] : memref<4xf32>) outs(%[[T]] : memref<4xf32>)
// CHECK: linalg.copy ins(%[[T]] : memref<4xf32>) outs(%[[B]] : memref<4xf32>)
// CHECK: gpu.dealloc  %[[T]]
// CHECK-NOT: gpu.memcpy
// CHECK: return %[[B]]
func.func @reads_outs(%a: memref<4xf32>, %b: memref<4xf32>) -> memref<4xf32> {
  %t = memref.alloc() : memref<4xf32>
  memref.copy %b, %t : memref<4xf32> to memref<4xf32>
  memref.copy %t, %b : memref<4xf32> to memref<4xf32>
  memref.dealloc %t : memref<4xf32>
  return %b : memref<4xf32>
}

// -----

// A constant still gets a device copy, freed before the return.
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
// CHECK-LABEL: func.func @constant(
// CHECK-SAME: %[[O:.*]]: memref<4xf32>)
// CHECK: %[[G:.*]] = memref.get_global @table
// CHECK: %[[DG:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK: gpu.memcpy  %[[DG]], %[[G]]
// CHECK: linalg.copy ins(%[[DG]] : memref<4xf32>) outs(%[[O]] : memref<4xf32>)
// CHECK: gpu.dealloc  %[[DG]]
// CHECK-NEXT: return %[[O]]
func.func @constant(%o: memref<4xf32>) -> memref<4xf32> {
  %g = memref.get_global @table : memref<4xf32>
  memref.copy %g, %o : memref<4xf32> to memref<4xf32>
  return %o : memref<4xf32>
}

// -----

// A new result has no caller's buffer to go to.
func.func @new_result(%a: memref<4xf32>) -> memref<4xf32> {
  %t = memref.alloc() : memref<4xf32>
  // expected-error @below {{attn-gpu-host-buffers: result #0 of @new_result is not an argument; with abi=device every result must be an argument written in place (an outs operand), or use abi=host}}
  return %t : memref<4xf32>
}
