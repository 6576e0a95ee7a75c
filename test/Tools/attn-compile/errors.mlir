// RUN: rm -rf %t
// RUN: not attn-compile %s --target=rocm -o %t 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attn-compile %s --entry=nope -o %t 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not attn-compile %s --entry=scalar -o %t 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not attn-compile %s --entry=main --entry=conv --target=cuda --format=fatbin --toolkit=%t/none -o %t 2>&1 | FileCheck %s --check-prefix=TOOLKIT
// RUN: not attn-compile %s --target=cuda --gpu-abi=shared -o %t 2>&1 | FileCheck %s --check-prefix=ABI
// RUN: not attn-compile %s --gpu-abi=device -o %t 2>&1 | FileCheck %s --check-prefix=ABICPU
// ABI: attn-compile: error: --gpu-abi must be host or device, but got 'shared'
// ABICPU: attn-compile: error: --gpu-abi=device needs --target=cuda
// TARGET: attn-compile: error: --target must be cpu or cuda, but got 'rocm'
// ENTRY: attn-compile: error: '{{.*}}errors.mlir' has no public function @nope with a body
// TYPE: error: attn-compile: every argument and result must be a ranked tensor of f32, f64, f16, bf16, i1, i8, i32 or i64, but got 'f32'
// TOOLKIT: error: CUDA path: {{.*}}none does not exist or is not a directory

func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

func.func @conv(%x: tensor<1x?x16xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %y = attn.lightconv ins(%x, %w : tensor<1x?x16xf32>, tensor<4x5xf32>)
          outs(%o : tensor<1x?x16xf32>) {causal} -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}

func.func @scalar(%x: f32) -> f32 {
  return %x : f32
}
