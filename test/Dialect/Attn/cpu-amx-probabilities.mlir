// bf16-isa=amx in attn-cpu-microkernels: the key-tile step's exp pass over the
// score tile P (in place), the zero fill of the row sums R and the row sum
// `R += rowsum P`, followed by `O += P V` on AMX, become one pass per row:
// P in vectors from the exp pass's body, summed (vector.reduction, stored to R
// once per row) and rounded to bf16 straight into AMX's left operand (a heap
// buffer [m rounded up to 32, n rounded up to 64], freed after the
// contraction), which the contraction reads instead of rounding P itself.
// When something else reads P in between, the three ops stay. With
// bf16-isa=avx512bf16 the same pass feeds the vdpbf16ps kernel, which reads
// that buffer as rows of pairs of P.
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=amx" | FileCheck %s
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=avx512bf16" | FileCheck %s --check-prefix=DOT

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#pv_p = affine_map<(i, k, j) -> (i, k)>
#pv_v = affine_map<(i, k, j) -> (k, j)>
#pv_o = affine_map<(i, k, j) -> (i, j)>

// CHECK-LABEL: func.func @fused
// CHECK: %[[PB:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?xbf16>
// CHECK: scf.for
// CHECK: memref.load %[[R:.*]][
// CHECK: scf.for
// CHECK: vector.maskedload %[[P:.*]][
// CHECK: math.exp2 %{{.*}} : vector<16xf32>
// CHECK: arith.select
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK: vector.store %{{.*}}, %[[PB]][
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.*}}, %[[R]][
// CHECK-NOT: linalg.generic
// CHECK: amx.tile_load %[[PB]][
// CHECK: amx.tile_mulf
// CHECK: memref.dealloc %[[PB]]
// CHECK: memref.dealloc %[[P]]
// DOT-LABEL: func.func @fused
// DOT: %[[PB:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?xbf16>
// DOT: math.exp2 %{{.*}} : vector<16xf32>
// DOT: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// DOT: vector.store %{{.*}}, %[[PB]][
// DOT: vector.reduction <add>
// DOT-NOT: linalg.generic
// DOT-NOT: arith.truncf
// DOT: vector.load %[[PB]][{{.*}}] : memref<?x?xbf16>, vector<2xbf16>
// DOT: x86vector.avx512.dot
// DOT: memref.dealloc %[[PB]]
func.func @fused(%v: memref<1x2x128x64xbf16>, %r: memref<?xf32>,
                 %o: memref<?x64xf32>, %rows: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%h) in (2) {
    scf.for %t = %c0 to %c2 step %c1 {
      %p = memref.alloc(%rows, %n) {alignment = 64 : i64} : memref<?x?xf32>
      %vt = memref.subview %v[0, %h, 0, 0] [1, 1, %n, 64] [1, 1, 1, 1]
          : memref<1x2x128x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #row, #id],
                      iterator_types = ["parallel", "parallel"]}
          ins(%p, %r : memref<?x?xf32>, memref<?xf32>) outs(%p : memref<?x?xf32>) {
      ^bb0(%s: f32, %shift: f32, %out: f32):
        %d = arith.subf %s, %shift : f32
        %e = math.exp2 %d : f32
        linalg.yield %e : f32
      }
      linalg.fill ins(%zero : f32) outs(%r : memref<?xf32>)
      linalg.generic {indexing_maps = [#id, #row],
                      iterator_types = ["parallel", "reduction"]}
          ins(%p : memref<?x?xf32>) outs(%r : memref<?xf32>) {
      ^bb0(%x: f32, %acc: f32):
        %sum = arith.addf %acc, %x : f32
        linalg.yield %sum : f32
      }
      linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o],
                      iterator_types = ["parallel", "reduction", "parallel"]}
          ins(%p, %vt : memref<?x?xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>)
          outs(%o : memref<?x64xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %w = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %w : f32
        %s = arith.addf %c, %m : f32
        linalg.yield %s : f32
      }
      memref.dealloc %p : memref<?x?xf32>
    }
  }
  return
}


// P read between the row sum and the contraction: the three ops stay (the fill
// is left for the loops, the others vectorized), and the contraction rounds P
// into a stack buffer itself.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: memref<?x?xbf16>
// CHECK: linalg.fill
// CHECK: memref.load
// CHECK: memref.alloca({{.*}}) {alignment = 64 : i64} : memref<?x?xbf16>
// CHECK: amx.tile_mulf
func.func @kept(%v: memref<1x2x128x64xbf16>, %r: memref<?xf32>,
                 %o: memref<?x64xf32>, %rows: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%h) in (2) {
    scf.for %t = %c0 to %c2 step %c1 {
      %p = memref.alloc(%rows, %n) {alignment = 64 : i64} : memref<?x?xf32>
      %vt = memref.subview %v[0, %h, 0, 0] [1, 1, %n, 64] [1, 1, 1, 1]
          : memref<1x2x128x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #row, #id],
                      iterator_types = ["parallel", "parallel"]}
          ins(%p, %r : memref<?x?xf32>, memref<?xf32>) outs(%p : memref<?x?xf32>) {
      ^bb0(%s: f32, %shift: f32, %out: f32):
        %d = arith.subf %s, %shift : f32
        %e = math.exp2 %d : f32
        linalg.yield %e : f32
      }
      linalg.fill ins(%zero : f32) outs(%r : memref<?xf32>)
      linalg.generic {indexing_maps = [#id, #row],
                      iterator_types = ["parallel", "reduction"]}
          ins(%p : memref<?x?xf32>) outs(%r : memref<?xf32>) {
      ^bb0(%x: f32, %acc: f32):
        %sum = arith.addf %acc, %x : f32
        linalg.yield %sum : f32
      }
      %first = memref.load %p[%c0, %c0] : memref<?x?xf32>
      memref.store %first, %r[%c0] : memref<?xf32>
      linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o],
                      iterator_types = ["parallel", "reduction", "parallel"]}
          ins(%p, %vt : memref<?x?xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>)
          outs(%o : memref<?x64xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %w = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %w : f32
        %s = arith.addf %c, %m : f32
        linalg.yield %s : f32
      }
      memref.dealloc %p : memref<?x?xf32>
    }
  }
  return
}

// In a forall with AMX contractions (bf16 keys), the scale pass over the score
// tile S (in place), the -inf fill of the row maxima R and the row maximum
// (select-maximum) become one row loop that stores the scaled S and keeps a
// vector maximum (NaN never selected), reduced once per row into R.
// CHECK-LABEL: func.func @scale_max
// CHECK: amx.tile_mulf
// CHECK: scf.for
// CHECK: vector.maskedload %[[S:.*]][
// CHECK: arith.mulf %{{.*}} : vector<16xf32>
// CHECK: arith.cmpf ogt
// CHECK: vector.maskedstore %[[S]][
// CHECK: vector.reduction <maxnumf>, %{{.*}} fastmath<nnan>
// CHECK: memref.store
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @scale_max(%q: memref<32x64xf32>, %k: memref<1x2x128x64xbf16>,
                     %r: memref<?xf32>, %rows: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 0.18 : f32
  scf.forall (%h) in (2) {
    scf.for %t = %c0 to %c2 step %c1 {
      %s = memref.alloc(%rows, %n) {alignment = 64 : i64} : memref<?x?xf32>
      %kt = memref.subview %k[0, %h, 0, 0] [1, 1, %n, 64] [1, 1, 1, 1]
          : memref<1x2x128x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>,
                                       affine_map<(i, j, k) -> (j, k)>,
                                       affine_map<(i, j, k) -> (i, j)>],
                      iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %kt : memref<32x64xf32>, memref<?x64xbf16, strided<[64, 1], offset: ?>>)
          outs(%s : memref<?x?xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %e = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %e : f32
        %sum = arith.addf %c, %m : f32
        linalg.yield %sum : f32
      }
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%s : memref<?x?xf32>) outs(%s : memref<?x?xf32>) {
      ^bb0(%x: f32, %out: f32):
        %y = arith.mulf %x, %scale : f32
        linalg.yield %y : f32
      }
      linalg.fill ins(%ninf : f32) outs(%r : memref<?xf32>)
      linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%s : memref<?x?xf32>) outs(%r : memref<?xf32>) {
      ^bb0(%x: f32, %acc: f32):
        %gt = arith.cmpf ogt, %x, %acc : f32
        %max = arith.select %gt, %x, %acc : f32
        linalg.yield %max : f32
      }
      memref.dealloc %s : memref<?x?xf32>
    }
  }
  return
}
