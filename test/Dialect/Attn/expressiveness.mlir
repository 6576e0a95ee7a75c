// Sinks, neighbourhoods and document ids (docs/Semantics.md §2, §3): they
// parse, print, round-trip through the generic form, and canonicalize.
// RUN: attn-opt %s -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file -canonicalize | FileCheck %s --check-prefix=CANON

// CHECK-LABEL: func @prefix_lm
// CHECK: pattern(#attn.union<[#attn.causal, #attn.sink<first = 64>]>)
// CANON-LABEL: func @prefix_lm
// CANON: pattern(#attn.union<[#attn.causal, #attn.sink<first = 64>]>)
func.func @prefix_lm(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) outs(%q : tensor<1x2x?x8xf32>)
    pattern(#attn.union<[#attn.causal, #attn.sink<first = 64>]>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

// Tokens are sorted and deduplicated (those that extend `first` join it:
// @sink_tokens_absorbed); the sinks of a union merge into one.
// CHECK-LABEL: func @sinks
// CHECK: pattern(#attn.union<[#attn.window<left = 16, right = 0>, #attn.sink<tokens = [9, 4, 4, 5]>, #attn.sink<first = 3>]>)
// CANON-LABEL: func @sinks
// CANON: pattern(#attn.union<[#attn.window<left = 16, right = 0>, #attn.sink<tokens = [4, 5, 9], first = 3>]>)
func.func @sinks(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) outs(%q : tensor<1x2x?x8xf32>)
    pattern(#attn.union<[#attn.window<left = 16, right = 0>, #attn.sink<tokens = [9, 4, 4, 5]>, #attn.sink<first = 3>]>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

// CHECK-LABEL: func @sink_tokens_absorbed
// CANON-LABEL: func @sink_tokens_absorbed
// CANON: pattern(#attn.sink<first = 6>)
func.func @sink_tokens_absorbed(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) outs(%q : tensor<1x2x?x8xf32>)
    pattern(#attn.sink<tokens = [5, 4, 3], first = 3>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

// Extent-1 axes constrain nothing and go; neighbouring axes that their
// windows cover whole merge into one.
// CHECK-LABEL: func @natten
// CHECK: pattern(#attn.neighborhood<extent = [1, 16, 16], window = [1, 7, 7]>)
// CHECK: pattern(#attn.neighborhood<extent = [4, 2, 8], window = [4, 2, 3]>)
// CANON-LABEL: func @natten
// CANON: pattern(#attn.neighborhood<extent = [16, 16], window = [7, 7]>)
// CANON: pattern(#attn.neighborhood<extent = [8, 8], window = [8, 3]>)
func.func @natten(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) outs(%q : tensor<1x2x?x8xf32>)
    pattern(#attn.neighborhood<extent = [1, 16, 16], window = [1, 7, 7]>) -> tensor<1x2x?x8xf32>
  %s = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) outs(%r : tensor<1x2x?x8xf32>)
    pattern(#attn.neighborhood<extent = [4, 2, 8], window = [4, 2, 3]>) -> tensor<1x2x?x8xf32>
  return %s : tensor<1x2x?x8xf32>
}

// -----

// A neighbourhood whose windows cover a grid of every position is dense.
// CANON-LABEL: func @natten_whole_grid
// CANON: attn.sdpa
// CANON-NOT: pattern
// CANON-SAME: -> tensor
func.func @natten_whole_grid(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) outs(%q : tensor<1x2x12x8xf32>)
    pattern(#attn.neighborhood<extent = [3, 4], window = [3, 4]>) -> tensor<1x2x12x8xf32>
  return %r : tensor<1x2x12x8xf32>
}

// -----

// CHECK-LABEL: func @documents
// CHECK: segments(%{{.*}}, %{{.*}} : tensor<2x?xi32>, tensor<2x?xi64>) pattern(#attn.causal)
// CANON-LABEL: func @documents
// CANON: segments(
func.func @documents(%q: tensor<2x2x?x8xf32>, %qs: tensor<2x?xi32>, %ks: tensor<2x?xi64>) -> tensor<2x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32>) outs(%q : tensor<2x2x?x8xf32>)
    segments(%qs, %ks : tensor<2x?xi32>, tensor<2x?xi64>) pattern(#attn.causal) -> tensor<2x2x?x8xf32>
  return %r : tensor<2x2x?x8xf32>
}

// -----

// One and the same constant id everywhere: every pair is live, the ids go.
// Different constant ids stay.
// CANON-LABEL: func @uniform_documents
// CANON: %[[R:.*]] = attn.sdpa
// CANON-NOT: segments
// CANON-SAME: -> tensor<1x2x4x8xf32>
// CANON: attn.sdpa {{.*}} segments(
func.func @uniform_documents(%q: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %a = arith.constant dense<3> : tensor<1x4xi32>
  %b = arith.constant dense<3> : tensor<1x4xi64>
  %c = arith.constant dense<4> : tensor<1x4xi64>
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
    segments(%a, %b : tensor<1x4xi32>, tensor<1x4xi64>) -> tensor<1x2x4x8xf32>
  %s = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%r : tensor<1x2x4x8xf32>)
    segments(%a, %c : tensor<1x4xi32>, tensor<1x4xi64>) -> tensor<1x2x4x8xf32>
  return %s : tensor<1x2x4x8xf32>
}
