// Without a CUDA driver, --target=cuda stops before compiling, with one
// clear line and exit code 1 (the tools start on machines without a GPU).
// UNSUPPORTED: cuda-driver
// RUN: not attn-run %s --random-inputs --target=cuda 2>&1 | FileCheck %s
// CHECK: attn-run: error: --target=cuda: no CUDA driver (libcuda.so.1 not found)
// CHECK-NOT: attn:
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
