// Only a mask or bias dim that is statically 1 broadcasts. A dynamic dim that
// is 1 at run time must match its target: attn-run reports it before
// compiling (it used to specialise it into a static 1, accept it as a
// broadcast, and the compiled code then aborted).
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-run %s --entry=make --random-inputs --dim=6 --dump-inputs=%t/row
// RUN: attn-run %s --entry=makeBias --random-inputs --dim=1 --dump-inputs=%t/col

// RUN: not attn-run %s --random-inputs --input=m=%t/row/m.npy 2>&1 | FileCheck %s --check-prefix=MASK --implicit-check-not=PLEASE
// MASK: dynamic-broadcast.mlir:[[@LINE+14]]:8: error: 'attn.sdpa' op expects mask dim 0 (1 at run time) to match Nq (5): the mask has type 'tensor<?x?xi1>' here, and only a dim that is 1 in the type broadcasts (declare it as 1 to broadcast)
// MASK: attn-run: error: the input shapes do not fit @main

// RUN: not attn-run %s --entry=bias --random-inputs --input=b=%t/col/b.npy 2>&1 | FileCheck %s --check-prefix=BIAS --implicit-check-not=PLEASE
// BIAS: error: 'attn.sdpa' op expects bias dim 1 (1 at run time) to match Nk (6)

// A static 1 broadcasts, and a dynamic dim that matches runs.
// RUN: attn-run %s --entry=static --random-inputs --input=m=%t/row/m.npy --check | FileCheck %s --check-prefix=OK
// RUN: attn-run %s --entry=bias --random-inputs --dim=6 --check | FileCheck %s --check-prefix=OK
// RUN: attn-run %s --random-inputs --input=m=%t/row/m.npy --print-specialized --entry=static | FileCheck %s --check-prefix=SPEC
// OK: check result0 (f32): {{.*}}: ok
// SPEC-NOT: attn_run.
func.func @main(%q: tensor<1x1x5x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x4xf32>,
                %o: tensor<1x1x5x4xf32>, %m: tensor<?x?xi1>) -> tensor<1x1x5x4xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x5x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>)
         outs(%o : tensor<1x1x5x4xf32>) mask(%m : tensor<?x?xi1>) -> tensor<1x1x5x4xf32>
  return %r : tensor<1x1x5x4xf32>
}
func.func @static(%q: tensor<1x1x5x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x4xf32>,
                  %o: tensor<1x1x5x4xf32>, %m: tensor<1x?xi1>) -> tensor<1x1x5x4xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x5x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>)
         outs(%o : tensor<1x1x5x4xf32>) mask(%m : tensor<1x?xi1>) -> tensor<1x1x5x4xf32>
  return %r : tensor<1x1x5x4xf32>
}
func.func @bias(%q: tensor<1x1x5x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x4xf32>,
                %o: tensor<1x1x5x4xf32>, %b: tensor<5x?xf32>) -> tensor<1x1x5x4xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x5x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>)
         outs(%o : tensor<1x1x5x4xf32>) bias(%b : tensor<5x?xf32>) -> tensor<1x1x5x4xf32>
  return %r : tensor<1x1x5x4xf32>
}
func.func @make(%m: tensor<1x?xi1>) -> tensor<1x?xi1> {
  return %m : tensor<1x?xi1>
}
func.func @makeBias(%b: tensor<5x?xf32>) -> tensor<5x?xf32> {
  return %b : tensor<5x?xf32>
}
