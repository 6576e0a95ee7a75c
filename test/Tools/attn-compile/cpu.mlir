// attn-compile --target=cpu: a library that needs no LLVM or MLIR, and a
// manifest of the entries with their argument names, element types and
// shapes (null: dynamic).
// RUN: rm -rf %t && attn-compile %s --target=cpu -o %t
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: ldd %t/libcpu.so | FileCheck %s --check-prefix=LDD
// RUN: nm -D --defined-only %t/libcpu.so | FileCheck %s --check-prefix=SYMBOLS
// RUN: attn-compile %s --target=cpu --entry=second --name=one -o %t/one
// RUN: FileCheck %s --input-file=%t/one/manifest.json --check-prefix=ONE

// CHECK: "entries": [
// CHECK: "args": [
// CHECK: "dtype": "f32",
// CHECK-NEXT: "name": "q",
// CHECK-NEXT: "shape": [
// CHECK-NEXT: 1,
// CHECK-NEXT: 2,
// CHECK-NEXT: null,
// CHECK-NEXT: 8
// CHECK: "name": "o",
// CHECK: "name": "main",
// CHECK: "results": [
// CHECK: "symbol": "_mlir_ciface_main"
// CHECK: "dtype": "bf16",
// CHECK-NEXT: "name": "x",
// CHECK: "name": "second",
// CHECK: "free": "attn_artifact_free",
// CHECK: "library": "libcpu.so",
// CHECK: "openmp": "libomp.so.5",
// CHECK: "runtime": null,
// CHECK: "target": "cpu",

// LDD-NOT: LLVM
// LDD-NOT: MLIR
// LDD: libc.so
// LDD-NOT: LLVM
// LDD-NOT: MLIR

// SYMBOLS-DAG: T _mlir_ciface_main
// SYMBOLS-DAG: T _mlir_ciface_second
// SYMBOLS-DAG: T attn_artifact_free

// ONE-NOT: "name": "main"
// ONE: "name": "second"
// ONE: "library": "libone.so"

func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>,
                %v: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

func.func @second(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  return %x : tensor<4xbf16>
}
