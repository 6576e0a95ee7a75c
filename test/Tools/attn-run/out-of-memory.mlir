// A buffer that the compiled code cannot allocate is an `attn-run: error:`
// with exit code 1, not a SIGSEGV in its first store. The arrays here are
// empty (D = 0), so that the inputs are tiny while the scores [Nq, Nk] are
// not: 2^48 f32 (1 PiB, more than any address space) with Nq = Nk = 2^24,
// and a size that overflows 64 bits with Nk = 2^62 (a product that the
// compiled code's own arithmetic wraps around to a small number).
// RUN: not attn-run %s --mode=reference --random-inputs --dim=16777216 2>&1 | FileCheck %s --check-prefix=OOM --implicit-check-not=PLEASE
// RUN: not attn-run %s --mode=reference --entry=one_query --random-inputs --dim=4611686018427387904 2>&1 | FileCheck %s --check-prefix=OVERFLOW --implicit-check-not=PLEASE
// RUN: attn-run %s --mode=reference --entry=one_query --random-inputs --dim=3 --print | FileCheck %s --check-prefix=SMALL
// The fused pipeline (the default) takes a head dim of 0 too.
// RUN: attn-run %s --entry=one_query --random-inputs --dim=3 --print | FileCheck %s --check-prefix=SMALL
// OOM: attn-run: error: out of memory: the compiled code could not allocate {{[0-9]+}} bytes
// OVERFLOW: attn-run: error: out of memory: the compiled code could not allocate a buffer of 2^63 bytes or more (its size, a product of dims, overflows)
// SMALL: result0: tensor<1x1x1x0xf32> []
func.func @main(%q: tensor<1x1x?x0xf32>, %k: tensor<1x1x?x0xf32>, %v: tensor<1x1x?x0xf32>,
                %o: tensor<1x1x?x0xf32>) -> tensor<1x1x?x0xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x?x0xf32>, tensor<1x1x?x0xf32>, tensor<1x1x?x0xf32>)
         outs(%o : tensor<1x1x?x0xf32>) -> tensor<1x1x?x0xf32>
  return %r : tensor<1x1x?x0xf32>
}
func.func @one_query(%q: tensor<1x1x1x0xf32>, %k: tensor<1x1x?x0xf32>, %v: tensor<1x1x?x0xf32>,
                     %o: tensor<1x1x1x0xf32>) -> tensor<1x1x1x0xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x1x0xf32>, tensor<1x1x?x0xf32>, tensor<1x1x?x0xf32>)
         outs(%o : tensor<1x1x1x0xf32>) -> tensor<1x1x1x0xf32>
  return %r : tensor<1x1x1x0xf32>
}
