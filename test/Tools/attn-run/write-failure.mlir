// Outputs are written to temporary files beside their destinations and
// renamed into place only when all were written. A failed write (here the
// file size limit of `ulimit -f 8`, 8 KiB; SIGXFSZ is ignored so that it is
// the error EFBIG) is an `attn-run: error:` with exit code 1 that leaves every
// existing file as it was and no temporary file behind.
// RUN: rm -rf %t && mkdir -p %t/dir
// RUN: attn-run %s --random-inputs --dim=4 --output=%t/one.npy
// RUN: cp %t/one.npy %t/one.saved
// RUN: not bash -c "ulimit -f 8 && exec attn-run %s --random-inputs --dim=100000 --output=%t/one.npy" 2>&1 | FileCheck %s --implicit-check-not=PLEASE
// RUN: cmp %t/one.npy %t/one.saved

// Two results: the first fits under the limit, the second does not; neither
// file changes.
// RUN: attn-run %s --entry=two --random-inputs --dim=4 --output=%t/dir
// RUN: cp %t/dir/result0.npy %t/result0.saved
// RUN: cp %t/dir/result1.npy %t/result1.saved
// RUN: attn-run %s --entry=make --random-inputs --dim=5 --dump-inputs=%t/small
// RUN: attn-run %s --entry=make --random-inputs --dim=100000 --dump-inputs=%t/big
// RUN: not bash -c "ulimit -f 8 && exec attn-run %s --entry=two --input=x=%t/small/x.npy --input=y=%t/big/x.npy --output=%t/dir" 2>&1 | FileCheck %s --check-prefix=SECOND --implicit-check-not=PLEASE
// RUN: cmp %t/dir/result0.npy %t/result0.saved
// RUN: cmp %t/dir/result1.npy %t/result1.saved
// RUN: ls %t %t/dir | FileCheck %s --check-prefix=NO-TEMP --implicit-check-not=.tmp-

// CHECK: attn-run: error: cannot write '{{.*}}one.npy': File too large
// SECOND: attn-run: error: cannot write '{{.*}}result1.npy': File too large
// NO-TEMP: one.npy
func.func @main(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
func.func @two(%x: tensor<?xf32>, %y: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  return %x, %y : tensor<?xf32>, tensor<?xf32>
}
func.func @make(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
