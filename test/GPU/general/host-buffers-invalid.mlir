// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-gpu-host-buffers

// expected-error @below {{attn-gpu-host-buffers: argument #0 of @strided has a non-identity layout ('memref<4xf32, strided<[2]>>'); only contiguous buffers can be copied to the device}}
func.func @strided(%a: memref<4xf32, strided<[2]>>) {
  return
}

// -----

func.func @view(%a: memref<8xf32>) -> memref<4xf32, strided<[2]>> {
  %v = memref.subview %a[0] [4] [2] : memref<8xf32> to memref<4xf32, strided<[2]>>
  // expected-error @below {{attn-gpu-host-buffers: a result of @view has a non-identity layout ('memref<4xf32, strided<[2]>>'); only contiguous buffers can be copied back from the device}}
  return %v : memref<4xf32, strided<[2]>>
}

// -----

memref.global "private" constant @table : memref<4xf32> = dense<1.0>
func.func @nested(%c: i1) {
  scf.if %c {
    // expected-error @below {{attn-gpu-host-buffers: a constant buffer of @nested must be contiguous and at the function's top level to be copied to the device}}
    %g = memref.get_global @table : memref<4xf32>
  }
  return
}
