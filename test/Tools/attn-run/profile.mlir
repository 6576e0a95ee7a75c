// --profile prints the JIT compile time of the entry and the heap memory of
// its first call beyond the inputs and results (docs/AttnRun.md);
// python/tests/test_attn_run_profile.py checks the figures.
// RUN: attn-run %s --random-inputs --dim=16 --profile | FileCheck %s --check-prefix=FUSED
// RUN: attn-run %s --mode=reference --random-inputs --dim=16 --profile --bench=2 | FileCheck %s --check-prefix=REF
// RUN: attn-run %s --random-inputs --dim=16 | FileCheck %s --check-prefix=QUIET --allow-empty
// FUSED: compile @main (mode=fused): {{[0-9]+\.[0-9]+}} s
// FUSED-NEXT: memory @main: {{[0-9]+}} bytes ({{[0-9.]+}} MiB) beyond inputs and results; peak {{[0-9]+}} bytes with the results ({{[0-9]+}} bytes), {{[0-9]+}} allocations
// REF: compile @main (mode=reference): {{[0-9]+\.[0-9]+}} s
// REF-NEXT: memory @main: {{[0-9]+}} bytes
// REF-NEXT: bench @main: 2 runs
// QUIET-NOT: compile @
// QUIET-NOT: memory @
func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>,
                %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}
