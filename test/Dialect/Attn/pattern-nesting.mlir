// Unions and intersections nest at most 64 levels deep (kMaxPatternNesting):
// a deeper pattern is a diagnostic, from the parser (nested text) and from the
// attribute verifier (a chain of aliases), not a stack overflow (issue 8).
// The inputs are generated: see Inputs/generate_patterns.py.

// RUN: %python %S/Inputs/generate_patterns.py nested 64 | attn-opt | attn-opt | FileCheck %s --check-prefix=LIMIT
// LIMIT: attn.sdpa {{.*}} pattern(

// RUN: %python %S/Inputs/generate_patterns.py nested 65 | not attn-opt 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: %python %S/Inputs/generate_patterns.py nested 5000 | not attn-opt 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: #attn.{{union|intersect}} nests unions and intersections more than 64 levels deep (the limit)
// DEEP-NOT: error

// RUN: %python %S/Inputs/generate_patterns.py aliases 64 | attn-opt -canonicalize | FileCheck %s --check-prefix=ALIASES
// ALIASES: pattern(#attn.causal)

// RUN: %python %S/Inputs/generate_patterns.py aliases 65 | not attn-opt 2>&1 | FileCheck %s --check-prefix=DEEP-ALIASES
// RUN: %python %S/Inputs/generate_patterns.py aliases 100000 | not attn-opt 2>&1 | FileCheck %s --check-prefix=DEEP-ALIASES
// DEEP-ALIASES: <stdin>:66:{{[0-9]+}}: error: #attn.intersect nests unions and intersections more than 64 levels deep (the limit)
// DEEP-ALIASES-NEXT: #p65 = #attn.intersect<[#p64]>
