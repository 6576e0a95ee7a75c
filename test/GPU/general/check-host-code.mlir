// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-gpu-check-host-code

func.func @host_load(%n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %d = gpu.alloc (%n) : memref<?xf32>
  // expected-error @below {{attn-gpu-pipeline: host code outside gpu.launch accesses a device buffer}}
  %x = memref.load %d[%c0] : memref<?xf32>
  return %x : f32
}

// -----

func.func @host_linalg(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @below {{attn-gpu-pipeline: this op was not mapped to a GPU kernel and would run on the host over device buffers}}
  linalg.copy ins(%a : memref<4xf32>) outs(%b : memref<4xf32>)
  return
}

// -----

// Inside gpu.launch, and on host stack buffers, loads and stores are fine.
func.func @fine(%n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = gpu.alloc (%n) : memref<?xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %f = memref.load %d[%c0] : memref<?xf32>
    memref.store %f, %d[%c0] : memref<?xf32>
    gpu.terminator
  }
  %s = memref.alloca() : memref<1xf32>
  %r = memref.load %s[%c0] : memref<1xf32>
  return %r : f32
}
