// Canonicalizing a pattern with 100,000 parts or tokens is O(n log n)
// (issue 8): each case takes well under a second, and took from 6 s to over
// a minute when deduplication, band merging and the global token count were
// quadratic. The inputs are generated: see Inputs/generate_patterns.py.

// Windows that stay apart: nothing merges.
// RUN: %python %S/Inputs/generate_patterns.py bands 100000 > %t.bands.mlir
// RUN: timeout 20 attn-opt -canonicalize %t.bands.mlir | FileCheck %s --check-prefix=BANDS
// BANDS: pattern(#attn.union<[#attn.window<left = 0, right = 1>, #attn.window<left = -3, right = 4>, #attn.window<left = -6, right = 7>,
// BANDS-SAME: #attn.window<left = -299997, right = 299998>]>)

// Windows that touch their neighbours merge into one.
// RUN: %python %S/Inputs/generate_patterns.py touching 100000 > %t.touching.mlir
// RUN: timeout 20 attn-opt -canonicalize %t.touching.mlir | FileCheck %s --check-prefix=TOUCHING
// TOUCHING: pattern(#attn.window<left = 0, right = 199999>)

// Each part twice: the first occurrences stay, in order.
// RUN: %python %S/Inputs/generate_patterns.py duplicates 100000 > %t.duplicates.mlir
// RUN: timeout 20 attn-opt -canonicalize %t.duplicates.mlir | FileCheck %s --check-prefix=DUPLICATES
// DUPLICATES: pattern(#attn.union<[#attn.strided<stride = 2>, #attn.strided<stride = 3>, #attn.strided<stride = 4>,
// DUPLICATES-SAME: #attn.strided<stride = 50000>, #attn.strided<stride = 50001>]>)

// 100,000 global tokens with a static length: sorted, deduplicated, and the
// ones that extend `first` absorbed.
// RUN: %python %S/Inputs/generate_patterns.py tokens 100000 > %t.tokens.mlir
// RUN: timeout 20 attn-opt -canonicalize %t.tokens.mlir | FileCheck %s --check-prefix=TOKENS
// TOKENS: pattern(#attn.global<tokens = [12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 34,
// TOKENS-SAME: 199993, 199994], first = 6>)
