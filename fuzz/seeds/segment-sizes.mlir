// Seeds of attn-fuzz (see fuzz/make-seeds.py), not lit tests: the generic
// form of attn.sdpa with operandSegmentSizes that give a mandatory operand
// 0 or 2 values. The attention interface verifier read past the operands
// (a segfault) before the op verifier saw the sizes.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>, sym_name = "init_gets_none"}> ({
  ^bb0(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>):
    %0 = "attn.sdpa"(%q, %q, %q, %o) <{operandSegmentSizes = array<i32: 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
    }, {
    }) : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
    "func.return"(%0) : (tensor<1x2x8x4xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// -----

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>, sym_name = "query_gets_none"}> ({
  ^bb0(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>):
    %0 = "attn.sdpa"(%q, %q, %q, %o) <{operandSegmentSizes = array<i32: 0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
    }, {
    }) : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
    "func.return"(%0) : (tensor<1x2x8x4xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// -----

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>, sym_name = "init_gets_two"}> ({
  ^bb0(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>):
    %0 = "attn.sdpa"(%q, %q, %q, %o, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
    }, {
    }) : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
    "func.return"(%0) : (tensor<1x2x8x4xf32>) -> ()
  }) : () -> ()
}) : () -> ()
