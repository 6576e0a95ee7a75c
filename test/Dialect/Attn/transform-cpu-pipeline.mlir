// The CPU pipeline written as a transform script (transform.attn.*) reaches
// the same module as the pass pipeline: the outputs are compared whole.
// RUN: attn-opt %s --attn-cpu-pipeline="mode=fused q-tile=8 kv-tile=4" -o %t.pass
// RUN: attn-opt %s --transform-preload-library=transform-library-paths=%p/Inputs/cpu-fused-script.mlir \
// RUN:   --transform-interpreter -o %t.script
// RUN: diff %t.pass %t.script
// RUN: FileCheck %s < %t.script
// RUN: attn-opt %s --attn-cpu-pipeline="mode=reference" -o %t.ref-pass
// RUN: attn-opt %s --transform-preload-library=transform-library-paths=%p/Inputs/cpu-reference-script.mlir \
// RUN:   --transform-interpreter -o %t.ref-script
// RUN: diff %t.ref-pass %t.ref-script
// RUN: FileCheck %s --check-prefix=REF < %t.ref-script

// CHECK-LABEL: llvm.func @sdpa
// CHECK: omp.wsloop
// CHECK: llvm.intr.fma
// CHECK-LABEL: llvm.func @lowrank
// CHECK: omp.wsloop
// REF-LABEL: llvm.func @sdpa
// REF-NOT: omp.
// REF-LABEL: llvm.func @lowrank
func.func @sdpa(%q: tensor<1x4x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>,
                %o: tensor<1x4x?x16xf32>, %m: tensor<?x?xi1>) -> tensor<1x4x?x16xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         outs(%o : tensor<1x4x?x16xf32>) mask(%m : tensor<?x?xi1>)
         pattern(#attn.window<left = 8, right = 0>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}

func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,
                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}
