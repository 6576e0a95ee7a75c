// attn-return-arguments-in-place: an entry (a public function nothing in the module calls)
// returns a returned argument itself instead of the buffer deallocation's clone of it.
// RUN: attn-opt %s --split-input-file --attn-return-arguments-in-place | FileCheck %s

// The outs operand written in place and returned: no clone.
// CHECK-LABEL: func.func @entry(
// CHECK-SAME: %[[X:.*]]: memref<4xf32>, %[[O:.*]]: memref<4xf32>)
// CHECK-NOT: bufferization.clone
// CHECK: memref.dealloc
// CHECK: return %[[O]], %[[O]] : memref<4xf32>, memref<4xf32>
func.func @entry(%x: memref<4xf32>, %o: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %t = memref.alloc() : memref<4xf32>
  memref.copy %x, %t : memref<4xf32> to memref<4xf32>
  memref.copy %t, %o : memref<4xf32> to memref<4xf32>
  %c = bufferization.clone %o : memref<4xf32> to memref<4xf32>
  %d = bufferization.clone %o : memref<4xf32> to memref<4xf32>
  %true = arith.constant true
  scf.if %true {
    memref.dealloc %t : memref<4xf32>
  }
  return %c, %d : memref<4xf32>, memref<4xf32>
}

// -----

// A write to the argument between the clone and the return: the clone keeps the value.
// CHECK-LABEL: func.func @written_after
// CHECK: %[[C:.*]] = bufferization.clone
// CHECK: return %[[C]]
func.func @written_after(%x: memref<4xf32>, %o: memref<4xf32>) -> memref<4xf32> {
  %c = bufferization.clone %o : memref<4xf32> to memref<4xf32>
  memref.copy %x, %o : memref<4xf32> to memref<4xf32>
  return %c : memref<4xf32>
}

// -----

// A function the module calls (its caller owns and frees the result) and a private one keep
// their clones.
// CHECK-LABEL: func.func @callee
// CHECK: bufferization.clone
// CHECK-LABEL: func.func private @hidden
// CHECK: bufferization.clone
// CHECK-LABEL: func.func @caller
func.func @callee(%o: memref<4xf32>) -> memref<4xf32> {
  %c = bufferization.clone %o : memref<4xf32> to memref<4xf32>
  return %c : memref<4xf32>
}
func.func private @hidden(%o: memref<4xf32>) -> memref<4xf32> {
  %c = bufferization.clone %o : memref<4xf32> to memref<4xf32>
  return %c : memref<4xf32>
}
func.func @caller(%o: memref<4xf32>) -> memref<4xf32> {
  %r = func.call @callee(%o) : (memref<4xf32>) -> memref<4xf32>
  return %r : memref<4xf32>
}
