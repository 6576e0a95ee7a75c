// attn-cpu-microkernels on the forms that attn-fuse-variants adds: a contraction whose A is
// indexed (k, i) (phi(K)^T V of attn.kernelized), and an element-wise generic with a column
// operand indexed (j) (a tap's weights in attn.lightconv).
// RUN: attn-opt %s --attn-cpu-microkernels=vector-width=16 | FileCheck %s

#a_t = affine_map<(i, j, k) -> (k, i)>
#b = affine_map<(i, j, k) -> (k, j)>
#c = affine_map<(i, j, k) -> (i, j)>
// CHECK-LABEL: func.func @transposed_a
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: memref.load %{{.*}}[%[[K]], %{{.*}}] : memref<64x32xf32>
// CHECK: vector.fma
func.func @transposed_a(%a: memref<64x32xf32>, %b: memref<64x65xf32>, %c: memref<32x65xf32>) {
  scf.forall (%i) in (2) {
    linalg.generic {indexing_maps = [#a_t, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<64x32xf32>, memref<64x65xf32>) outs(%c : memref<32x65xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
  }
  return
}

#tile = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
// CHECK-LABEL: func.func @column_operand
// CHECK-NOT: linalg.generic
// CHECK: vector.maskedload %{{.*}}[%{{.*}}], %{{.*}}, %{{.*}} : memref<64xf32>
// CHECK: arith.mulf {{.*}} : vector<16xf32>
func.func @column_operand(%x: memref<8x64xf32>, %w: memref<64xf32>, %o: memref<8x64xf32>) {
  scf.forall (%i) in (2) {
    linalg.generic {indexing_maps = [#tile, #col, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%x, %w : memref<8x64xf32>, memref<64xf32>) outs(%o : memref<8x64xf32>) {
    ^bb0(%xv: f32, %wv: f32, %acc: f32):
      %p = arith.mulf %wv, %xv : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
  }
  return
}

// A vector that attn-fuse-variants marked attn.nontemporal (lightconv's output vectors): its
// store becomes a non-temporal one where the address is 64-byte aligned (checked at run time
// from the buffer's aligned pointer, offset and strides), a plain one elsewhere; an unmarked
// vector's store stays as it is. The mark is removed (an arith op would carry it on into the
// LLVM dialect).
// CHECK-LABEL: func.func @nontemporal_store
// CHECK-NOT: attn.nontemporal
// CHECK: %[[BASE:.*]], %[[OFF:.*]], %{{.*}}:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %[[M:.*]] :
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[M]]
// CHECK: %[[REM:.*]] = arith.remui %{{.*}}, %c64
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[REM]], %c0
// CHECK: scf.if %[[OK]] {
// CHECK-NEXT: vector.store %[[V:.*]], %[[M]][%{{.*}}, %{{.*}}] {alignment = 64 : i64, nontemporal = true}
// CHECK-NEXT: } else {
// CHECK-NEXT: vector.store %[[V]], %[[M]][%{{.*}}, %{{.*}}] : memref
// CHECK: vector.transfer_write %{{.*}}, %[[M]]
// CHECK-NOT: nontemporal
// CHECK: return
func.func @nontemporal_store(%m: memref<?x32xf32, strided<[32, 1], offset: ?>>, %a: vector<16xf32>,
                             %i: index, %j: index) {
  %v = vector.fma %a, %a, %a {attn.nontemporal} : vector<16xf32>
  vector.transfer_write %v, %m[%i, %j] {in_bounds = [true]} : vector<16xf32>, memref<?x32xf32, strided<[32, 1], offset: ?>>
  %u = vector.fma %a, %a, %v : vector<16xf32>
  vector.transfer_write %u, %m[%i, %j] {in_bounds = [true]} : vector<16xf32>, memref<?x32xf32, strided<[32, 1], offset: ?>>
  return
}
