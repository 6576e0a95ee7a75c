// bf16-isa=amx in attn-cpu-microkernels: a contraction whose right operand is
// the (batch, head) tile of a rank-4 buffer that its scf.forall reads but does
// not write (the keys, the values) reads that tile from a copy of the whole
// buffer packed once before the forall, in parallel over (batch, head), and
// freed after it. The keys (B^T) always; the values when the tile starts on
// a pair of keys and is whole k blocks or the last tile (an scf.if, else
// packed per tile as before). A buffer written in the forall is packed per
// tile. bf16-isa=avx512bf16 (the vdpbf16ps kernel) reads the same layout,
// padded to its column block (3 x 16 for Dv = 48), and rounds the query tile
// to bf16 once before the key-tile loop.
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=amx" | FileCheck %s
// RUN: attn-opt %s --attn-cpu-microkernels="bf16-isa=avx512bf16" | FileCheck %s --check-prefix=DOT

#qk_q = affine_map<(i, j, k) -> (i, k)>
#qk_k = affine_map<(i, j, k) -> (j, k)>
#qk_s = affine_map<(i, j, k) -> (i, j)>
#pv_p = affine_map<(i, k, j) -> (i, k)>
#pv_v = affine_map<(i, k, j) -> (k, j)>
#pv_o = affine_map<(i, k, j) -> (i, j)>

// CHECK-LABEL: func.func @heads
// The keys: [B, H, D / 2, 2 (N + 32)], packed per (batch, head).
// CHECK: %[[KP:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?x?x?xbf16>
// CHECK: scf.forall
// CHECK: vector.transpose
// CHECK: }
// The values: [B, H, ceil(N / 2) + 32, 2 roundUp(Dv, 32)].
// CHECK: %[[VP:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?x?x?xbf16>
// CHECK: scf.forall
// CHECK: vector.shuffle
// CHECK: }
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: memref.subview %[[KP]]
// CHECK: amx.tile_mulf
// CHECK: scf.if
// CHECK: memref.subview %[[VP]]
// CHECK: } else {
// CHECK: memref.alloca
// CHECK: vector.shuffle
// CHECK: amx.tile_mulf
// CHECK: memref.dealloc %[[VP]]
// CHECK: memref.dealloc %[[KP]]
// DOT-LABEL: func.func @heads
// DOT: %[[KP:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?x?x?xbf16>
// DOT: scf.forall
// DOT: vector.transpose
// DOT: }
// DOT: %[[VP:.*]] = memref.alloc({{.*}}, %c96) {alignment = 64 : i64} : memref<?x?x?x?xbf16>
// DOT: scf.forall
// DOT: vector.shuffle
// DOT: }
// DOT: scf.forall
// The query tile in bf16, once per query tile.
// DOT: %[[QB:.*]] = memref.alloca({{.*}}) {alignment = 64 : i64} : memref<?x?xbf16>
// DOT: arith.truncf
// DOT: scf.for
// DOT-NOT: memref.alloca(
// DOT: memref.subview %[[KP]]
// DOT-NOT: vector.transpose
// DOT: vector.load %[[QB]]
// DOT: x86vector.avx512.dot
// DOT: scf.if
// DOT: memref.subview %[[VP]]
// DOT: } else {
// DOT: memref.alloca
// DOT: vector.shuffle
// DOT: x86vector.avx512.dot
// DOT: memref.dealloc %[[VP]]
// DOT: memref.dealloc %[[KP]]
func.func @heads(%q: memref<32x64xf32>, %k: memref<1x2x128x64xbf16>,
                 %v: memref<1x2x128x48xbf16>, %s: memref<32x64xf32>,
                 %o: memref<32x48xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  scf.forall (%h) in (2) {
    scf.for %t = %c0 to %c2 step %c1 {
      %start = arith.muli %t, %c64 : index
      %kt = memref.subview %k[0, %h, %start, 0] [1, 1, 64, 64] [1, 1, 1, 1]
          : memref<1x2x128x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
      %vt = memref.subview %v[0, %h, %start, 0] [1, 1, 64, 48] [1, 1, 1, 1]
          : memref<1x2x128x48xbf16> to memref<64x48xbf16, strided<[48, 1], offset: ?>>
      linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s],
                      iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %kt : memref<32x64xf32>, memref<64x64xbf16, strided<[64, 1], offset: ?>>)
          outs(%s : memref<32x64xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %e = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %e : f32
        %r = arith.addf %c, %m : f32
        linalg.yield %r : f32
      }
      linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o],
                      iterator_types = ["parallel", "reduction", "parallel"]}
          ins(%s, %vt : memref<32x64xf32>, memref<64x48xbf16, strided<[48, 1], offset: ?>>)
          outs(%o : memref<32x48xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %e = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %e : f32
        %r = arith.addf %c, %m : f32
        linalg.yield %r : f32
      }
    }
  }
  return
}

// Keys written inside the forall: packed per tile, nothing before the forall.
// CHECK-LABEL: func.func @written
// CHECK-NOT: memref.alloc(
// CHECK: scf.forall
// CHECK: memref.alloca
// CHECK: amx.tile_mulf
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @written(%q: memref<32x64xf32>, %k: memref<1x2x128x64xbf16>,
                   %s: memref<32x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : bf16
  scf.forall (%h) in (2) {
    scf.for %t = %c0 to %c2 step %c1 {
      %start = arith.muli %t, %c64 : index
      %kt = memref.subview %k[0, %h, %start, 0] [1, 1, 64, 64] [1, 1, 1, 1]
          : memref<1x2x128x64xbf16> to memref<64x64xbf16, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s],
                      iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %kt : memref<32x64xf32>, memref<64x64xbf16, strided<[64, 1], offset: ?>>)
          outs(%s : memref<32x64xf32>) {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %e = arith.extf %b : bf16 to f32
        %m = arith.mulf %a, %e : f32
        %r = arith.addf %c, %m : f32
        linalg.yield %r : f32
      }
      memref.store %zero, %k[%c0, %h, %start, %c0] : memref<1x2x128x64xbf16>
    }
  }
  return
}
