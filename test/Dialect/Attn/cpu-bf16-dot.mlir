// bf16 contractions of the flash form's tiles in attn-cpu-microkernels: with
// bf16-isa=avx512bf16, AVX512-BF16 dot products on pairs of k
// (x86vector.avx512.dot, f32 accumulators); with bf16-isa=amx, AMX tiles
// (amx.tile_mulf) on the same operand layouts; with bf16-isa=none (the default)
// the f32 kernel with B widened to f32 as it is loaded. f32 contractions are
// the f32 kernel either way.
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=avx512bf16" | FileCheck %s --check-prefix=DOT
// RUN: attn-opt %s --attn-cpu-microkernels | FileCheck %s --check-prefix=NONE
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=amx" | FileCheck %s --check-prefix=AMX
// RUN: not attn-opt %s --attn-cpu-microkernels="bf16-isa=avx2" 2>&1 | FileCheck %s --check-prefix=BADISA
// BADISA: error: attn-cpu-microkernels: bf16-isa must be 'none', 'avx512bf16' or 'amx', but got 'avx2'

#qk_q = affine_map<(i, j, k) -> (i, k)>
#qk_k = affine_map<(i, j, k) -> (j, k)>
#qk_s = affine_map<(i, j, k) -> (i, j)>
#pv_p = affine_map<(i, k, j) -> (i, k)>
#pv_v = affine_map<(i, k, j) -> (k, j)>
#pv_o = affine_map<(i, k, j) -> (i, j)>
#sel_p = affine_map<(i, j, k) -> (i, k)>
#sel_v = affine_map<(i, j, k) -> (k, j)>
#sel_o = affine_map<(i, j, k) -> (i, j)>

// S = Q K^T with bf16 keys. With the dot product, Q is rounded to bf16 (arith.truncf, the
// padding column of an odd k masked in), K packed as pairs (a bf16 pair is
// one 32-bit word: 16 x 16 word blocks transposed in registers), and per
// pair of k one broadcast word of Q and 4 dot products per row.
// DOT-LABEL: func.func @scores
// DOT: memref.alloca_scope
// DOT: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// DOT: vector.bitcast %{{.*}} : vector<32xbf16> to vector<16xi32>
// DOT: vector.transpose %{{.*}}, [1, 0] : vector<16x16xi32> to vector<16x16xi32>
// DOT: %{{.*}}:24 = scf.for
// DOT-COUNT-4: vector.load %{{.*}} : memref<?x?xbf16>, vector<32xbf16>
// DOT: vector.load %{{.*}} : memref<?x?xbf16>, vector<2xbf16>
// DOT: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// DOT: vector.broadcast %{{.*}} : i32 to vector<16xi32>
// DOT-COUNT-4: x86vector.avx512.dot %{{.*}} : vector<32xbf16> -> vector<16xf32>
// DOT-NOT: vector.fma
// DOT: vector.maskedstore
// DOT-NOT: linalg.generic
// With AMX tiles: 16 x 16 f32 accumulator tiles, 2 x 2 of them per block, 2 k tiles
// of 32 per iteration; on C in place when the sizes are whole blocks, else
// on a padded copy.
// AMX-LABEL: func.func @scores
// AMX: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// AMX: vector.transpose %{{.*}}, [1, 0] : vector<16x16xi32> to vector<16x16xi32>
// AMX: scf.if
// The head dim (64) is one k block: no k loop, the accumulators start as zero tiles.
// AMX-COUNT-4: amx.tile_zero : !amx.tile<16x16xf32>
// AMX-NOT: amx.tile_load %{{.*}} : memref<?x?xf32> into !amx.tile<16x16xf32>
// AMX: amx.tile_load %{{.*}} : memref<?x?xbf16> into !amx.tile<16x32xbf16>
// AMX-COUNT-4: amx.tile_mulf %{{.*}} : !amx.tile<16x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<16x16xf32>
// AMX: amx.tile_store %{{.*}} : memref<?x?xf32>, !amx.tile<16x16xf32>
// AMX: } else {
// AMX: memref.alloca
// AMX: amx.tile_mulf
// AMX-NOT: vector.fma
// AMX-NOT: x86vector
// NONE-LABEL: func.func @scores
// NONE-NOT: x86vector
// NONE: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// NONE: vector.transpose %{{.*}}, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// NONE: vector.fma
// NONE-NOT: linalg.generic
func.func @scores(%q: memref<?x64xf32>, %k: memref<?x64xbf16, strided<[64, 1], offset: ?>>, %s: memref<?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (4) {
    linalg.fill ins(%zero : f32) outs(%s : memref<?x?xf32>)
    linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%q, %k : memref<?x64xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%s : memref<?x?xf32>) {
    ^bb0(%a: f32, %b: bf16, %c: f32):
      %w = arith.extf %b : bf16 to f32
      %m = arith.mulf %a, %w fastmath<reassoc,contract> : f32
      %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// Q K^T for every key tile of a loop: Q does not change in the loop, so with AMX it is rounded
// to bf16 once, before the loop; a left operand that the loop writes is rounded in the loop.
// AMX-LABEL: func.func @scores_in_loop
// AMX: scf.forall
// AMX: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// AMX: scf.for
// AMX-NOT: arith.truncf
// AMX: amx.tile_mulf
// AMX-LABEL: func.func @scores_written_in_loop
// AMX: scf.for
// AMX: linalg.fill
// AMX: memref.alloca_scope
// AMX: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// AMX: amx.tile_mulf
func.func @scores_in_loop(%q: memref<?x64xf32>, %k: memref<?x64xbf16, strided<[64, 1], offset: ?>>, %s: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.forall (%t) in (4) {
    scf.for %j = %c0 to %c4 step %c1 {
      linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %k : memref<?x64xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%s : memref<?x?xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %w = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %w fastmath<reassoc,contract> : f32
        %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
        linalg.yield %r : f32
      }
    }
  }
  return
}
func.func @scores_written_in_loop(%q: memref<?x64xf32>, %k: memref<?x64xbf16, strided<[64, 1], offset: ?>>, %s: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.forall (%t) in (4) {
    scf.for %j = %c0 to %c4 step %c1 {
      linalg.fill ins(%one : f32) outs(%q : memref<?x64xf32>)
      linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %k : memref<?x64xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%s : memref<?x?xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %w = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %w fastmath<reassoc,contract> : f32
        %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
        linalg.yield %r : f32
      }
    }
  }
  return
}

// O += P V with bf16 values. With the dot product, P is rounded to bf16, the rows of V
// interleaved in pairs (vector.shuffle of two rows; the second row of an odd
// last pair masked off to zero), then the dot-product kernel from O.
// DOT-LABEL: func.func @values
// DOT: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// DOT: vector.maskedload %{{.*}} : memref<?x64xbf16, strided<[64, 1], offset: ?>>, vector<16xi1>, vector<16xbf16> into vector<16xbf16>
// DOT: vector.shuffle %{{.*}}, %{{.*}} [0, 16, 1, 17, 2, 18
// DOT: x86vector.avx512.dot
// DOT-NOT: vector.fma
// AMX-LABEL: func.func @values
// AMX: vector.shuffle
// AMX: amx.tile_mulf
// NONE-LABEL: func.func @values
// NONE-NOT: x86vector
// NONE: vector.load %{{.*}} : memref<?x64xbf16, strided<[64, 1], offset: ?>>, vector<16xbf16>
// NONE-NEXT: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// NONE: vector.fma
func.func @values(%p: memref<?x?xf32>, %v: memref<?x64xbf16, strided<[64, 1], offset: ?>>, %o: memref<?x64xf32>) {
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%p, %v : memref<?x?xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%o : memref<?x64xf32>) {
    ^bb0(%a: f32, %b: bf16, %c: f32):
      %w = arith.extf %b : bf16 to f32
      %m = arith.mulf %a, %w fastmath<reassoc,contract> : f32
      %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// A Partial tile's selecting P V keeps the f32 kernel with masked FMAs
// (a dot over a pair cannot drop one pair that is not live), V widened.
// AMX-LABEL: func.func @partial_values
// AMX-NOT: amx.
// AMX: vector.fma
// DOT-LABEL: func.func @partial_values
// DOT-NOT: x86vector
// DOT: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// DOT: vector.fma
// DOT: arith.select
func.func @partial_values(%p: memref<?x?xf32>, %v: memref<?x64xbf16, strided<[64, 1], offset: ?>>,
                          %live: memref<?x?xi1>, %o: memref<?x64xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#sel_p, #sel_v, #sel_p, #sel_o], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p, %v, %live : memref<?x?xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>, memref<?x?xi1>) outs(%o : memref<?x64xf32>) {
    ^bb0(%a: f32, %b: bf16, %l: i1, %c: f32):
      %w = arith.extf %b : bf16 to f32
      %m = arith.mulf %a, %w fastmath<reassoc,contract> : f32
      %s = arith.select %l, %m, %zero : f32
      %r = arith.addf %c, %s fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// f32 operands: the f32 kernel, whatever bf16-isa says.
// DOT-LABEL: func.func @f32_values
// DOT-NOT: x86vector
// DOT: vector.fma
func.func @f32_values(%p: memref<?x?xf32>, %v: memref<?x64xf32, strided<[64, 1], offset: ?>>, %o: memref<?x64xf32>) {
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%p, %v : memref<?x?xf32>, memref<?x64xf32, strided<[64, 1], offset: ?>>) outs(%o : memref<?x64xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32):
      %m = arith.mulf %a, %b fastmath<reassoc,contract> : f32
      %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}
