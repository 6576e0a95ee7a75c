// Every input error is a one-line `attn-run: error:` and exit code 1.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-run %s --entry=make3 --random-inputs --dim=4 --dump-inputs=%t/r3
// RUN: attn-run %s --entry=make2x4 --random-inputs --dump-inputs=%t/w
// RUN: printf 'NOTNUMPY' > %t/bad.npy

// RUN: not attn-run %s 2>&1 | FileCheck %s --check-prefix=NO-INPUT
// NO-INPUT: attn-run: error: no input for argument 'x' (tensor<2x3xf32>) of @main: pass --input=x=FILE.npy or --random-inputs

// RUN: not attn-run %s --input=y=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: attn-run: error: --input names 'y', but @main has no argument %y (arguments: x; a position is written #N, e.g. --input=#0=FILE.npy)

// RUN: not attn-run %s --input=x=%t/missing.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: attn-run: error: input 'x': '{{.*}}missing.npy': cannot read

// RUN: not attn-run %s --input=x=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: attn-run: error: input 'x': '{{.*}}bad.npy': not an .npy file (bad magic string)

// RUN: not attn-run %s --input=#0=%t/r3/t.npy 2>&1 | FileCheck %s --check-prefix=RANK
// RANK: attn-run: error: input 'x' ('{{.*}}t.npy'): the array has rank 3, but argument %x has type tensor<2x3xf32> (rank 2)

// RUN: not attn-run %s --input=x=%t/w/t.npy 2>&1 | FileCheck %s --check-prefix=DIM
// DIM: attn-run: error: input 'x' ('{{.*}}t.npy'): dimension 1 of the array is 4, but argument %x has type tensor<2x3xf32> (expects 3)

// RUN: not attn-run %s --entry=f64 --input=x=%t/w/t.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: attn-run: error: input 'x' ('{{.*}}t.npy'): has dtype <f4, but the argument's element type f64 needs <f8

// RUN: not attn-run %s --entry=nope 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: attn-run: error: '{{.*}}errors.mlir' has no function @nope (functions: @main, @make3, @make2x4, @f64, @memref); choose one with --entry=NAME

// RUN: not attn-run %s --entry=memref --random-inputs 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: attn-run: error: argument 'm' of @memref has type memref<2xf32>; attn-run supports ranked tensors

// RUN: not attn-run %s --random-inputs --target=rocm 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: attn-run: error: --target must be cpu or cuda, but got 'rocm'

func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}
func.func @make3(%t: tensor<2x3x?xf32>) -> tensor<2x3x?xf32> {
  return %t : tensor<2x3x?xf32>
}
func.func @make2x4(%t: tensor<2x4xf32>) -> tensor<2x4xf32> {
  return %t : tensor<2x4xf32>
}
func.func @f64(%x: tensor<2x4xf64>) -> tensor<2x4xf64> {
  return %x : tensor<2x4xf64>
}
func.func @memref(%m: memref<2xf32>) {
  return
}
