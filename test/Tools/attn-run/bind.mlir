// --input keys bind by the argument's SSA name ("0" is %0, whatever its
// position); "#N" is position N. A key that names no argument, or a position
// past the last, is an error, and so is a second file for one argument.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-run %s --entry=make2 --random-inputs --dim=2 --dump-inputs=%t/two
// RUN: attn-run %s --entry=make3 --random-inputs --dim=3 --dump-inputs=%t/three

// %1 is position 0 and %0 position 1: "0" binds %0, the 3-element array.
// RUN: attn-run %s --input=0=%t/three/t.npy --input=1=%t/two/t.npy --print | FileCheck %s --check-prefix=NAMES
// RUN: attn-run %s --input=#1=%t/three/t.npy --input=#0=%t/two/t.npy --print | FileCheck %s --check-prefix=NAMES
// NAMES: result0: tensor<2xf32>
// NAMES: result1: tensor<3xf32>

// RUN: not attn-run %s --entry=named --input=0=%t/two/t.npy 2>&1 | FileCheck %s --check-prefix=NUMBER
// NUMBER: attn-run: error: --input names '0', but @named has no argument %0 (arguments: a, b; a position is written #N, e.g. --input=#0=FILE.npy)

// RUN: not attn-run %s --entry=named --input=#2=%t/two/t.npy 2>&1 | FileCheck %s --check-prefix=PAST
// PAST: attn-run: error: --input names position #2, but @named has 2 arguments (#0 to #1)

// RUN: not attn-run %s --entry=named --input=#x=%t/two/t.npy 2>&1 | FileCheck %s --check-prefix=NOT-A-NUMBER
// NOT-A-NUMBER: attn-run: error: --input names position #x, but @named has 2 arguments (#0 to #1)

// RUN: not attn-run %s --entry=named --input=a=%t/two/t.npy --input=#0=%t/two/t.npy 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: attn-run: error: argument 'a' (#0) has two --input files

func.func @main(%1: tensor<?xf32>, %0: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  return %1, %0 : tensor<?xf32>, tensor<?xf32>
}
func.func @named(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}
func.func @make2(%t: tensor<?xf32>) -> tensor<?xf32> {
  return %t : tensor<?xf32>
}
func.func @make3(%t: tensor<?xf32>) -> tensor<?xf32> {
  return %t : tensor<?xf32>
}
