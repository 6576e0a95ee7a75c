// ptxas accepts the PTX of the core with operands. @positions (one
// operand) spills nothing; @every (positions, mask, bias, score_mod, span and
// memory at once) compiles (it spills today: docs/GPU.md).
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s

// ptxas reports the kernels last to first.
// CHECK: Compiling entry function 'sdpa_core_1' for 'sm_90a'
// CHECK: Used {{[0-9]+}} registers
// CHECK: Compiling entry function 'sdpa_core_0' for 'sm_90a'
// CHECK-NEXT: Function properties for sdpa_core_0
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
func.func @positions(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qp: tensor<?x?x?xi32>, %kp: tensor<?x?x?xi32>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>) {
  %r:2 = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) positions(%qp, %kp : tensor<?x?x?xi32>, tensor<?x?x?xi32>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %r#0, %r#1 : tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
}

func.func @every(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qp: tensor<?x?x?xi32>, %kp: tensor<?x?x?xi32>, %m: tensor<?x?xi1>, %bb: tensor<?x1x?x?xf32>, %z: tensor<?xf32>, %mk: tensor<?x?x128xbf16>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>) {
  %r:2 = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) mask(%m : tensor<?x?xi1>) bias(%bb : tensor<?x1x?x?xf32>) memory(%mk, %mk : tensor<?x?x128xbf16>, tensor<?x?x128xbf16>) positions(%qp, %kp : tensor<?x?x?xi32>, tensor<?x?x?xi32>) span(%z : tensor<?xf32>) pattern(#attn.causal) {ramp = 16.0 : f32, max_span = 100.0 : f32}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %d = arith.subi %i, %j : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %slope = arith.constant 0.0625 : f32
      %pen = arith.mulf %slope, %df : f32
      %t = arith.subf %s, %pen : f32
      attn.yield %t : f32
    } -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %r#0, %r#1 : tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
}
