// attn-cpu-pipeline{bf16-isa=avx512bf16}: the bf16 tiles' contractions reach
// LLVM IR as AVX512-BF16 dot products (vdpbf16ps); with bf16-isa=amx as AMX
// tile products (tdpbf16ps); with the default bf16-isa=none, and for f32
// inputs, there is neither.
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline="bf16-isa=avx512bf16" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=DOT
// RUN: attn-opt %s --verify-each --attn-cpu-pipeline="bf16-isa=amx" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=AMX
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=NONE
// RUN: not attn-opt %s --attn-cpu-pipeline="bf16-isa=avx512bf16 vector-width=8" 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: not attn-opt %s --attn-cpu-pipeline="bf16-isa=avx2" 2>&1 | FileCheck %s --check-prefix=BADISA

// DOT-LABEL: define {{.*}} @bf16
// DOT: call <16 x float> @llvm.x86.avx512bf16.dpbf16ps.512(<16 x float>
// DOT-LABEL: define {{.*}} @f32
// DOT-NOT: call {{.*}}dpbf16ps
// DOT: declare {{.*}} @llvm.x86.avx512bf16.dpbf16ps.512
// AMX-LABEL: define {{.*}} @bf16
// AMX: call x86_amx @llvm.x86.tdpbf16ps.internal(
// AMX-LABEL: define {{.*}} @f32
// AMX-NOT: call {{.*}}tdpbf16ps
// NONE-NOT: avx512bf16
// NONE-NOT: tdpbf16ps
// WIDTH: attn-cpu-pipeline: bf16-isa=avx512bf16 needs vector-width=16, but got 8
// BADISA: attn-cpu-pipeline: bf16-isa must be 'none', 'avx512bf16' or 'amx', but got 'avx2'

func.func @bf16(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x1x?x64xbf16>, %v: tensor<1x1x?x64xbf16>,
                %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) pattern(#attn.causal) -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}

func.func @f32(%q: tensor<1x2x?x64xf32>, %k: tensor<1x1x?x64xf32>, %v: tensor<1x1x?x64xf32>,
               %o: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>)
         outs(%o : tensor<1x2x?x64xf32>) pattern(#attn.causal) -> tensor<1x2x?x64xf32>
  return %r : tensor<1x2x?x64xf32>
}
