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
