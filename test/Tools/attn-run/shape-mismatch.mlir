// Relations between dynamic dims are checked before compiling: attn-run
// specialises the entry to the input shapes and verifies it.
// RUN: rm -rf %t
// RUN: attn-run %s --entry=make --random-inputs --dim=6 --dump-inputs=%t/six
// RUN: attn-run %s --entry=make --random-inputs --dim=7 --dump-inputs=%t/seven
// RUN: not attn-run %s --input=q=%t/six/t.npy --input=k=%t/six/t.npy --input=v=%t/seven/t.npy 2>&1 | FileCheck %s
// RUN: attn-run %s --input=q=%t/six/t.npy --input=k=%t/seven/t.npy --input=v=%t/seven/t.npy --check | FileCheck %s --check-prefix=OK

// CHECK: shape-mismatch.mlir:[[@LINE+4]]:8: error: 'attn.sdpa' op expects Nk of key (6) to match Nk of value (7)
// CHECK: attn-run: error: the input shapes do not fit @main
// OK: check result0 (f32): {{.*}}: ok
func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%q : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}
func.func @make(%t: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  return %t : tensor<1x2x?x8xf32>
}
