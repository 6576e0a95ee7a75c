// RUN: attn-opt %s --attn-cpu-microkernels | FileCheck %s
// RUN: attn-opt %s --attn-cpu-microkernels="vector-width=8" | FileCheck %s --check-prefix=AVX2
// RUN: not attn-opt %s --attn-cpu-microkernels="vector-width=12" 2>&1 | FileCheck %s --check-prefix=BADWIDTH

#qk_q = affine_map<(i, j, k) -> (i, k)>
#qk_k = affine_map<(i, j, k) -> (j, k)>
#qk_s = affine_map<(i, j, k) -> (i, j)>
#pv_p = affine_map<(i, k, j) -> (i, k)>
#pv_v = affine_map<(i, k, j) -> (k, j)>
#pv_o = affine_map<(i, k, j) -> (i, j)>
#tile = affine_map<(r, c) -> (r, c)>
#row = affine_map<(r, c) -> (r)>

// The scores S = Q K^T of one tile pair: K's tile is packed transposed into
// a stack buffer (16 x 16 blocks transposed in registers, the rest element
// by element), the zero fill of S is folded into the kernel, and the kernel
// is an outer product: a broadcast element of Q times a vector row of K^T,
// accumulated by vector.fma into 6 x 4 vectors held across the k loop, with
// no horizontal reduction.
// CHECK-LABEL: func.func @scores
// CHECK: scf.forall
// CHECK-NOT: linalg.fill
// CHECK: memref.alloca_scope
// CHECK: memref.alloca({{.*}}) {alignment = 64 : i64} : memref<?x?xf32>
// CHECK: vector.transpose %{{.*}}, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// The 6-row kernel: 24 accumulators start at zero.
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c6
// CHECK: vector.create_mask
// CHECK: %[[ACC:.*]]:24 = scf.for %{{.*}} iter_args
// CHECK-COUNT-4: vector.load %{{.*}} : memref<?x?xf32>, vector<16xf32>
// CHECK: memref.load
// CHECK-NEXT: vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK-NEXT: vector.fma
// CHECK-NOT: vector.reduction
// CHECK: scf.yield
// CHECK: vector.maskedstore
// The row remainder: a one-row kernel.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-NOT: linalg.generic
// AVX2-LABEL: func.func @scores
// AVX2: vector.transpose %{{.*}}, [1, 0] : vector<8x8xf32> to vector<8x8xf32>
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2: vector.fma {{.*}} : vector<8xf32>
func.func @scores(%q: memref<?x64xf32>, %k: memref<?x64xf32, strided<[64, 1], offset: ?>>, %s: memref<?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (4) {
    linalg.fill ins(%zero : f32) outs(%s : memref<?x?xf32>)
    linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%q, %k : memref<?x64xf32>, memref<?x64xf32, strided<[64, 1], offset: ?>>) outs(%s : memref<?x?xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32):
      %m = arith.mulf %a, %b fastmath<reassoc,contract> : f32
      %r = arith.addf %c, %m fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// The values O += P V: V is read in place, a row of 64 values is 4 whole
// vectors (no masks), and the accumulators start from O.
// CHECK-LABEL: func.func @values
// CHECK-NOT: memref.alloca_scope
// CHECK: scf.for %{{.*}} step %c6
// CHECK-COUNT-24: vector.load %{{.*}} : memref<?x64xf32>, vector<16xf32>
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %{{.*}} : memref<?x64xf32, strided<[64, 1], offset: ?>>, vector<16xf32>
// CHECK: vector.broadcast
// CHECK-NEXT: vector.fma
// CHECK-NOT: vector.reduction
// CHECK: vector.store
// CHECK-NOT: linalg.generic
func.func @values(%p: memref<?x?xf32>, %v: memref<?x64xf32, strided<[64, 1], offset: ?>>, %o: memref<?x64xf32>) {
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

// The softmax's row maximum (compare and select) and row sum become a
// vector accumulator per row, reduced across lanes once per row; the
// element-wise exp2 step runs on masked vectors with the row's shift
// broadcast.
// CHECK-LABEL: func.func @softmax
// CHECK: scf.for
// CHECK: %[[MAX:.*]] = scf.for {{.*}} -> (vector<16xf32>)
// CHECK: vector.maskedload
// CHECK: arith.cmpf ogt, {{.*}} : vector<16xf32>
// CHECK: arith.select {{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: vector.reduction <maxnumf>, %[[MAX]] fastmath<nnan> : vector<16xf32> into f32
// CHECK: scf.for
// CHECK: vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK: math.exp2 %{{.*}} : vector<16xf32>
// CHECK: vector.maskedstore
// CHECK: %[[SUM:.*]] = scf.for {{.*}} -> (vector<16xf32>)
// CHECK: arith.addf {{.*}} fastmath<reassoc,contract> : vector<16xf32>
// CHECK: vector.reduction <add>, %[[SUM]] fastmath<reassoc,contract> : vector<16xf32> into f32
// CHECK-NOT: linalg.generic
func.func @softmax(%s: memref<?x?xf32>, %m: memref<?xf32>, %p: memref<?x?xf32>, %l: memref<?xf32>) {
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#tile, #row], iterator_types = ["parallel", "reduction"]}
        ins(%s : memref<?x?xf32>) outs(%m : memref<?xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %gt = arith.cmpf ogt, %x, %acc : f32
      %r = arith.select %gt, %x, %acc : f32
      linalg.yield %r : f32
    }
    linalg.generic {indexing_maps = [#tile, #row, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%s, %m : memref<?x?xf32>, memref<?xf32>) outs(%p : memref<?x?xf32>) {
    ^bb0(%x: f32, %shift: f32, %out: f32):
      %d = arith.subf %x, %shift fastmath<reassoc,contract> : f32
      %e = math.exp2 %d : f32
      linalg.yield %e : f32
    }
    linalg.generic {indexing_maps = [#tile, #row], iterator_types = ["parallel", "reduction"]}
        ins(%p : memref<?x?xf32>) outs(%l : memref<?xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %r = arith.addf %acc, %x fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// A Partial tile: the predicate's i1 tile is written lane by lane (i1 is a
// byte in memory, not a bit of a vector), read back lane by lane into a
// vector<16xi1>, and the selecting value contraction is the same kernel with
// each FMA masked by the pair's liveness, so that 0 * inf never reaches O.
// CHECK-LABEL: func.func @partial
// CHECK: %[[LIVE:.*]] = arith.cmpi sge, {{.*}} : vector<16xindex>
// CHECK: scf.for
// CHECK: vector.extract %[[LIVE]][%{{.*}}] : i1 from vector<16xi1>
// CHECK: memref.store %{{.*}} : memref<?x?xi1>
// CHECK: vector.from_elements {{.*}} : vector<16xi1>
// CHECK: arith.select %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: scf.for %{{.*}} step %c6
// CHECK: scf.for
// CHECK: %[[BIT:.*]] = memref.load %{{.*}} : memref<?x?xi1>
// CHECK-NEXT: %[[LANES:.*]] = vector.broadcast %[[BIT]] : i1 to vector<16xi1>
// CHECK-NEXT: %[[FMA:.*]] = vector.fma
// CHECK-NEXT: arith.select %[[LANES]], %[[FMA]], %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK-NOT: linalg.generic
func.func @partial(%s: memref<?x?xf32>, %live: memref<?x?xi1>, %p: memref<?x?xf32>,
                   %v: memref<?x64xf32, strided<[64, 1], offset: ?>>, %o: memref<?x64xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#tile, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%s : memref<?x?xf32>) outs(%live : memref<?x?xi1>) {
    ^bb0(%x: f32, %out: i1):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %ok = arith.cmpi sge, %i, %j : index
      linalg.yield %ok : i1
    }
    linalg.generic {indexing_maps = [#tile, #tile, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%s, %live : memref<?x?xf32>, memref<?x?xi1>) outs(%p : memref<?x?xf32>) {
    ^bb0(%x: f32, %l: i1, %out: f32):
      %e = math.exp2 %x : f32
      %r = arith.select %l, %e, %zero : f32
      linalg.yield %r : f32
    }
    linalg.generic {indexing_maps = [affine_map<(r, e, c) -> (r, c)>, affine_map<(r, e, c) -> (c, e)>,
                                     affine_map<(r, e, c) -> (r, c)>, affine_map<(r, e, c) -> (r, e)>],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p, %v, %live : memref<?x?xf32>, memref<?x64xf32, strided<[64, 1], offset: ?>>, memref<?x?xi1>)
        outs(%o : memref<?x64xf32>) {
    ^bb0(%a: f32, %b: f32, %l: i1, %c: f32):
      %m = arith.mulf %a, %b fastmath<reassoc,contract> : f32
      %t2 = arith.select %l, %m, %zero : f32
      %r = arith.addf %c, %t2 fastmath<reassoc,contract> : f32
      linalg.yield %r : f32
    }
  }
  return
}

// Left alone: f64 contractions, a sum that may not be reassociated, an op
// outside a parallel loop, and a body with math.fpowi (no vector lowering).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK-NOT: vector.
// CHECK: return
func.func @left_alone(%a: memref<?x?xf64>, %b: memref<?x?xf64>, %c: memref<?x?xf64>,
                      %s: memref<?x?xf32>, %l: memref<?xf32>, %p: memref<?x?xf32>) {
  %three = arith.constant 3 : i32
  scf.forall (%t) in (4) {
    linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<?x?xf64>, memref<?x?xf64>) outs(%c : memref<?x?xf64>) {
    ^bb0(%x: f64, %y: f64, %z: f64):
      %m = arith.mulf %x, %y : f64
      %r = arith.addf %z, %m : f64
      linalg.yield %r : f64
    }
    linalg.generic {indexing_maps = [#tile, #row], iterator_types = ["parallel", "reduction"]}
        ins(%s : memref<?x?xf32>) outs(%l : memref<?xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %r = arith.addf %acc, %x : f32
      linalg.yield %r : f32
    }
    linalg.generic {indexing_maps = [#tile, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%s : memref<?x?xf32>) outs(%p : memref<?x?xf32>) {
    ^bb0(%x: f32, %out: f32):
      %r = math.fpowi %x, %three : f32, i32
      linalg.yield %r : f32
    }
  }
  linalg.generic {indexing_maps = [#tile, #tile], iterator_types = ["parallel", "parallel"]}
      ins(%s : memref<?x?xf32>) outs(%p : memref<?x?xf32>) {
  ^bb0(%x: f32, %out: f32):
    %r = math.exp2 %x : f32
    linalg.yield %r : f32
  }
  return
}

// BADWIDTH: error: attn-cpu-microkernels: vector-width must be a power of two between 1 and 64, but got 12
