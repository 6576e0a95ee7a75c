// attn-compile --target=cuda --gpu-abi=device: the manifest records the
// ABI; the library neither allocates nor copies an argument.
// RUN: rm -rf %t && attn-compile %s --target=cuda --format=isa --gpu-abi=device -o %t
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: nm -D --undefined-only %t/libcuda-device-abi.so | FileCheck %s --check-prefix=UNDEF
// RUN: rm -rf %t && attn-compile %s --target=cuda --format=isa -o %t
// RUN: FileCheck %s --input-file=%t/manifest.json --check-prefix=HOST

// CHECK: "gpu": {
// CHECK-NEXT: "abi": "device",
// HOST: "gpu": {
// HOST-NEXT: "abi": "host",

// UNDEF-NOT: mgpuMemcpy
// UNDEF-NOT: mgpuMemAlloc
// UNDEF: mgpuStreamSynchronize
// UNDEF-NOT: mgpuMemcpy
// UNDEF-NOT: mgpuMemAlloc

func.func @main(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>, %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) outs(%o : tensor<1x2x?x64xbf16>) {pattern = #attn.causal} -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}
