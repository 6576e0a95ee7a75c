// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Every case uses small static shapes: B = 1, H = 2, Nq = Nk = 4, D = Dv = 8
// unless the case is about one of them.

//===----------------------------------------------------------------------===//
// ODS-generated and parser errors
//===----------------------------------------------------------------------===//

func.func @negative_unranked_operand(%q: tensor<*xf32>, %o: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %r = "attn.sdpa"(%q, %q, %q, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_unranked_operand_custom(%q: tensor<*xf32>, %o: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) outs(%o : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_pattern_not_a_pattern(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+2 {{invalid kind of attribute specified}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         pattern(1 : i64) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_pattern_attr_dict_not_a_pattern(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+2 {{attribute 'pattern' failed to satisfy constraint: PatternAttrInterface instance}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {pattern = 1 : i64} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lsh_missing_num_buckets(%x: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{requires attribute 'num_buckets'}}
  %r = attn.lsh ins(%x, %x, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%x : tensor<1x2x8x4xf32>)
         {chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_kernelized_unknown_feature_map(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+2 {{expected ::mlir::attn::FeatureMap to be one of: favor_plus, elu_plus_one, relu}}
  // expected-error @+1 {{failed to parse Attn_FeatureMapAttr parameter 'value'}}
  %r = attn.kernelized softmax ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_yield_outside_sdpa() {
  // expected-error @+1 {{expects parent op 'attn.sdpa'}}
  attn.yield
  return
}

// -----

func.func @negative_score_mod_no_terminator(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{block with no terminator}}
           %t = arith.addf %s, %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// AttentionOpInterface: result type equals the outs type
//===----------------------------------------------------------------------===//

func.func @negative_result_type_not_outs_type(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the result type to equal the outs type 'tensor<1x2x4x8xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x?xf32>
  return
}

// -----

func.func @negative_lightconv_result_type_not_outs_type(%x: tensor<1x4x8xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{expects the result type to equal the outs type 'tensor<1x4x8xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: query, key, value and outs (shared with cluster, lowrank, kernelized)
//===----------------------------------------------------------------------===//

func.func @negative_query_rank(%q: tensor<2x4x8xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects query of rank 4 [B, H, Nq, D], but got 'tensor<2x4x8xf32>'}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%k : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_rank(%q: tensor<1x2x4x8xf32>, %k: tensor<2x4x8xf32>) {
  // expected-error @+1 {{expects key of rank 4 [B, Hkv, Nk, D], but got 'tensor<2x4x8xf32>'}}
  %r = attn.sdpa ins(%q, %k, %q : tensor<1x2x4x8xf32>, tensor<2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_value_rank(%q: tensor<1x2x4x8xf32>, %v: tensor<2x4x8xf32>) {
  // expected-error @+1 {{expects value of rank 4 [B, Hkv, Nk, Dv], but got 'tensor<2x4x8xf32>'}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_outs_rank(%q: tensor<1x2x4x8xf32>, %o: tensor<2x4x8xf32>) {
  // expected-error @+1 {{expects outs of rank 4 [B, H, Nq, Dv], but got 'tensor<2x4x8xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @negative_query_element_type(%q: tensor<1x2x4x8xi32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects query to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x4x8xi32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%k : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_element_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xi32>) {
  // expected-error @+1 {{expects key to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.sdpa ins(%q, %k, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xi32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_value_element_type(%q: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf64>) {
  // expected-error @+1 {{expects value to have element type f32, f16 or bf16, but got 'f64'}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf64>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_outs_element_type(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf16>) {
  // expected-error @+1 {{expects outs to have element type 'f32', but got 'f16'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return
}

// -----

func.func @negative_query_dynamic_d(%q: tensor<1x2x4x?xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects query dim D (dim 3) to be static, but got 'tensor<1x2x4x?xf32>'}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x4x?xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%k : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_dynamic_d(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x?xf32>) {
  // expected-error @+1 {{expects key dim D (dim 3) to be static, but got 'tensor<1x2x4x?xf32>'}}
  %r = attn.sdpa ins(%q, %k, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x?xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_value_dynamic_dv(%q: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x?xf32>) {
  // expected-error @+1 {{expects value dim Dv (dim 3) to be static, but got 'tensor<1x2x4x?xf32>'}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x?xf32>) outs(%v : tensor<1x2x4x?xf32>) -> tensor<1x2x4x?xf32>
  return
}

// -----

func.func @negative_query_key_d_mismatch(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{expects D of query (8) to match D of key (4)}}
  %r = attn.sdpa ins(%q, %k, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_key_batch_mismatch(%q: tensor<1x2x4x8xf32>, %k: tensor<2x2x4x8xf32>) {
  // expected-error @+1 {{expects B of query (1) to match B of key (2)}}
  %r = attn.sdpa ins(%q, %k, %q : tensor<1x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_value_batch_mismatch(%q: tensor<1x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) {
  // expected-error @+1 {{expects B of query (1) to match B of value (2)}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_value_heads_mismatch(%q: tensor<1x2x4x8xf32>, %v: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{expects Hkv of key (2) to match Hkv of value (1)}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_value_length_mismatch(%q: tensor<1x2x4x8xf32>, %v: tensor<1x2x5x8xf32>) {
  // expected-error @+1 {{expects Nk of key (4) to match Nk of value (5)}}
  %r = attn.sdpa ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x5x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_outs_batch_mismatch(%q: tensor<1x2x4x8xf32>, %o: tensor<2x2x4x8xf32>) {
  // expected-error @+1 {{expects B of outs (2) to match B of query (1)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return
}

// -----

func.func @negative_outs_heads_mismatch(%q: tensor<1x2x4x8xf32>, %o: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{expects H of outs (4) to match H of query (2)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @negative_outs_length_mismatch(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x5x8xf32>) {
  // expected-error @+1 {{expects Nq of outs (5) to match Nq of query (4)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return
}

// -----

func.func @negative_outs_dv_mismatch(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{expects Dv of outs (16) to match Dv of value (8)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%o : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @negative_heads_not_multiple_of_kv_heads(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the query heads H (3) to be a multiple of the key/value heads Hkv (2)}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x3x4x8xf32>) -> tensor<1x3x4x8xf32>
  return
}

// -----

func.func @negative_zero_kv_heads(%q: tensor<1x2x4x8xf32>, %k: tensor<1x0x4x8xf32>) {
  // expected-error @+1 {{expects the query heads H (2) to be a multiple of the key/value heads Hkv (0)}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x4x8xf32>, tensor<1x0x4x8xf32>, tensor<1x0x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: scale, mask, bias
//===----------------------------------------------------------------------===//

func.func @negative_infinite_scale(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects a finite scale, but got 0x7F800000 : f32}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {scale = 0x7F800000 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_mask_element_type(%q: tensor<1x2x4x8xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{expects mask to have element type 'i1', but got 'f32'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         mask(%m : tensor<4x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_mask_rank(%q: tensor<1x2x4x8xf32>, %m: tensor<1x1x2x4x4xi1>) {
  // expected-error @+1 {{expects mask of rank at most 4 (broadcast to [B, H, Nq, Nk]), but got 'tensor<1x1x2x4x4xi1>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         mask(%m : tensor<1x1x2x4x4xi1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_mask_not_broadcastable(%q: tensor<1x2x4x8xf32>, %m: tensor<4x3xi1>) {
  // expected-error @+1 {{expects mask dim 1 (3) to be 1 or to match Nk (4) when broadcast to [B, H, Nq, Nk]}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         mask(%m : tensor<4x3xi1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_bias_element_type(%q: tensor<1x2x4x8xf32>, %b: tensor<4x4xi1>) {
  // expected-error @+1 {{expects bias to have element type f32, f16 or bf16, but got 'i1'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         bias(%b : tensor<4x4xi1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_bias_rank(%q: tensor<1x2x4x8xf32>, %b: tensor<1x1x2x4x4xf32>) {
  // expected-error @+1 {{expects bias of rank at most 4 (broadcast to [B, H, Nq, Nk]), but got 'tensor<1x1x2x4x4xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         bias(%b : tensor<1x1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_bias_not_broadcastable(%q: tensor<1x2x4x8xf32>, %b: tensor<3x4x4xf32>) {
  // expected-error @+1 {{expects bias dim 0 (3) to be 1 or to match H (2) when broadcast to [B, H, Nq, Nk]}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         bias(%b : tensor<3x4x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: memory
//===----------------------------------------------------------------------===//

func.func @negative_memory_key_without_value(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects memory keys and memory values together, but got only one of them}}
  %r = "attn.sdpa"(%q, %q, %q, %q, %mk) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_keys_rank(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3xf32>, %mv: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects memory keys of rank 3 [Hkv, M, D], but got 'tensor<2x3xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3xf32>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_values_rank(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{expects memory values of rank 3 [Hkv, M, Dv], but got 'tensor<1x2x3x8xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_keys_element_type(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xi8>, %mv: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects memory keys to have element type f32, f16 or bf16, but got 'i8'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xi8>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_values_element_type(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x8xi8>) {
  // expected-error @+1 {{expects memory values to have element type f32, f16 or bf16, but got 'i8'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x8xi8>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_keys_heads(%q: tensor<1x2x4x8xf32>, %mk: tensor<3x3x8xf32>, %mv: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects Hkv of memory keys (3) to match Hkv of key (2)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<3x3x8xf32>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_values_heads(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<3x3x8xf32>) {
  // expected-error @+1 {{expects Hkv of memory values (3) to match Hkv of key (2)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<3x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_size_mismatch(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x5x8xf32>) {
  // expected-error @+1 {{expects M of memory keys (3) to match M of memory values (5)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x5x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_keys_dynamic_d(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x?xf32>, %mv: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects memory keys dim D (dim 2) to be static, but got 'tensor<2x3x?xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x?xf32>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_values_dynamic_dv(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x?xf32>) {
  // expected-error @+1 {{expects memory values dim Dv (dim 2) to be static, but got 'tensor<2x3x?xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x?xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_keys_d_mismatch(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x4xf32>, %mv: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects D of memory keys (4) to match D of query (8)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x4xf32>, tensor<2x3x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_memory_values_dv_mismatch(%q: tensor<1x2x4x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects Dv of memory values (4) to match Dv of value (8)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: positions
//===----------------------------------------------------------------------===//

func.func @negative_query_positions_without_key_positions(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects query positions and key positions together, but got only one of them}}
  %r = "attn.sdpa"(%q, %q, %q, %q, %qp) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_positions_rank(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x4xi32>, %kp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects query positions of rank 3 [B, H or Hkv or 1, Nq], but got 'tensor<1x4xi32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x4xi32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_positions_rank(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x4xi32>, %kp: tensor<4xi32>) {
  // expected-error @+1 {{expects key positions of rank 3 [B, H or Hkv or 1, Nk], but got 'tensor<4xi32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x1x4xi32>, tensor<4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_positions_element_type(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x4xf32>, %kp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects query positions to have element type i32 or i64, but got 'f32'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x1x4xf32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_positions_element_type(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x4xi64>, %kp: tensor<1x1x4xi16>) {
  // expected-error @+1 {{expects key positions to have element type i32 or i64, but got 'i16'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x1x4xi64>, tensor<1x1x4xi16>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_positions_batch(%q: tensor<1x2x4x8xf32>, %qp: tensor<2x1x4xi32>, %kp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects B of query positions (2) to match B of query (1)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<2x1x4xi32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_query_positions_length(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x5xi32>, %kp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects Nq of query positions (5) to match Nq of query (4)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x1x5xi32>, tensor<1x1x4xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_key_positions_length(%q: tensor<1x2x4x8xf32>, %qp: tensor<1x1x4xi32>, %kp: tensor<1x1x5xi32>) {
  // expected-error @+1 {{expects Nk of key positions (5) to match Nk of key (4)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         positions(%qp, %kp : tensor<1x1x4xi32>, tensor<1x1x5xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_positions_heads(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x4x8xf32>, %qp: tensor<1x3x4xi32>, %kp: tensor<1x1x4xi32>) {
  // expected-error @+1 {{expects query positions dim 1 (3) to be H (4), Hkv (2) or 1}}
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x4x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x4x4x8xf32>)
         positions(%qp, %kp : tensor<1x3x4xi32>, tensor<1x1x4xi32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: adaptive span
//===----------------------------------------------------------------------===//

func.func @negative_span_rank(%q: tensor<1x2x4x8xf32>, %z: tensor<2x1xf32>) {
  // expected-error @+1 {{expects span of rank 1 [H], but got 'tensor<2x1xf32>'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2x1xf32>) {ramp = 1.0 : f32, max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_element_type(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf16>) {
  // expected-error @+1 {{expects span to have element type 'f32', but got 'f16'}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf16>) {ramp = 1.0 : f32, max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_heads(%q: tensor<1x2x4x8xf32>, %z: tensor<3xf32>) {
  // expected-error @+1 {{expects H of span (3) to match H of query (2)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<3xf32>) {ramp = 1.0 : f32, max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_without_ramp(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>) {
  // expected-error @+1 {{with span expects both the ramp and max_span attributes}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_without_max_span(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>) {
  // expected-error @+1 {{with span expects both the ramp and max_span attributes}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {ramp = 1.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_zero_ramp(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>) {
  // expected-error @+1 {{expects ramp > 0 (finite), but got 0.000000e+00}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {ramp = 0.0 : f32, max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_infinite_ramp(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>) {
  // expected-error @+1 {{expects ramp > 0 (finite)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {ramp = 0x7F800000 : f32, max_span = 4.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_span_negative_max_span(%q: tensor<1x2x4x8xf32>, %z: tensor<2xf32>) {
  // expected-error @+1 {{expects max_span >= 0 (finite), but got -1.000000e+00}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         span(%z : tensor<2xf32>) {ramp = 1.0 : f32, max_span = -1.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_ramp_without_span(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects ramp and max_span only with a span operand}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {ramp = 1.0 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: lse
//===----------------------------------------------------------------------===//

func.func @negative_lse_rank(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects lse of rank 3 [B, H, Nq], but got 'tensor<1x2x4x1xf32>'}}
  %r, %lse = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>, tensor<1x2x4x1xf32>
  return
}

// -----

func.func @negative_lse_element_type(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects lse to have element type 'f32', but got 'f16'}}
  %r, %lse = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>, tensor<1x2x4xf16>
  return
}

// -----

func.func @negative_lse_batch(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects B of lse (2) to match B of query (1)}}
  %r, %lse = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>, tensor<2x2x4xf32>
  return
}

// -----

func.func @negative_lse_heads(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects H of lse (3) to match H of query (2)}}
  %r, %lse = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>, tensor<1x3x4xf32>
  return
}

// -----

func.func @negative_lse_length(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects Nq of lse (5) to match Nq of query (4)}}
  %r, %lse = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>, tensor<1x2x5xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: score_mod region
//===----------------------------------------------------------------------===//

func.func @negative_score_mod_two_blocks(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod region to have one block}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           attn.yield %s : f32
         ^bb1(%t: f32):
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_missing_argument(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod block arguments (%s: f32, %b: index, %h: index, %i: index, %j: index), but got (f32, index, index, index)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %h: index, %i: index, %j: index):
           attn.yield %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_wrong_argument_type(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod block arguments (%s: f32, %b: index, %h: index, %i: index, %j: index)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: i64, %j: i64):
           attn.yield %s : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_yield_index(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod region to end in attn.yield of one f32 value}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           attn.yield %h : index
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_yield_two_values(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod region to end in attn.yield of one f32 value}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           attn.yield %s, %s : f32, f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_yield_nothing(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects the score_mod region to end in attn.yield of one f32 value}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           attn.yield
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func private @bias_of(index, index) -> f32

func.func @negative_score_mod_call(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'func.call' op is not pure; score_mod must be a pure function of its arguments}}
           %c = func.call @bias_of(%i, %j) : (index, index) -> f32
           %t = arith.addf %s, %c : f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_memref_load(%q: tensor<1x2x4x8xf32>, %slopes: memref<2xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{'memref.load' op is not pure; score_mod must be a pure function of its arguments}}
           %m = memref.load %slopes[%h] : memref<2xf32>
           %t = arith.subf %s, %m : f32
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_score_mod_nested_impure(%q: tensor<1x2x4x8xf32>, %slopes: memref<2xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %c = arith.cmpi ult, %j, %i : index
           %t = scf.if %c -> f32 {
             // expected-error @+1 {{'memref.load' op is not pure}}
             %m = memref.load %slopes[%h] : memref<2xf32>
             scf.yield %m : f32
           } else {
             scf.yield %s : f32
           }
           attn.yield %t : f32
         } -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.lsh (qk and value [1, 2, 8, 4], rotations [2, 1, 4, 2], 4 buckets)
//===----------------------------------------------------------------------===//

func.func @negative_lsh_qk_rank(%qk: tensor<2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects qk of rank 4 [B, H, N, D], but got 'tensor<2x8x4xf32>'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%v : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_value_rank(%qk: tensor<1x2x8x4xf32>, %v: tensor<2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects value of rank 4 [B, H, N, Dv], but got 'tensor<2x8x4xf32>'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_rotations_rank(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects rotations of rank 4 [H, R, D, num_buckets / 2], but got 'tensor<2x4x2xf32>'}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_rank(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<2x8x4xf32>) {
  // expected-error @+1 {{expects outs of rank 4 [B, H, N, Dv], but got 'tensor<2x8x4xf32>'}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_qk_element_type(%qk: tensor<1x2x8x4xi32>, %v: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects qk to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xi32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%v : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_value_element_type(%qk: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xi32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects value to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xi32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_rotations_element_type(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xi32>) {
  // expected-error @+1 {{expects rotations to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xi32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_element_type(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<1x2x8x4xbf16>) {
  // expected-error @+1 {{expects outs to have element type 'f32', but got 'bf16'}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<1x2x8x4xbf16>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xbf16>
  return
}

// -----

func.func @negative_lsh_qk_dynamic_d(%qk: tensor<1x2x8x?xf32>, %v: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects qk dim D (dim 3) to be static, but got 'tensor<1x2x8x?xf32>'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x?xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%v : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_value_dynamic_dv(%qk: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x?xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects value dim Dv (dim 3) to be static, but got 'tensor<1x2x8x?xf32>'}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x?xf32>, tensor<2x1x4x2xf32>) outs(%v : tensor<1x2x8x?xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x?xf32>
  return
}

// -----

func.func @negative_lsh_value_batch(%qk: tensor<1x2x8x4xf32>, %v: tensor<2x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects B of value (2) to match B of qk (1)}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_value_heads(%qk: tensor<1x2x8x4xf32>, %v: tensor<1x1x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects H of value (1) to match H of qk (2)}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_value_length(%qk: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects N of value (4) to match N of qk (8)}}
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_rotations_heads(%qk: tensor<1x2x8x4xf32>, %rot: tensor<3x1x4x2xf32>) {
  // expected-error @+1 {{expects H of rotations (3) to match H of qk (2)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_rotations_d(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x8x2xf32>) {
  // expected-error @+1 {{expects D of rotations (8) to match D of qk (4)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x8x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_batch(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<2x2x8x4xf32>) {
  // expected-error @+1 {{expects B of outs (2) to match B of qk (1)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<2x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<2x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_heads(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<1x4x8x4xf32>) {
  // expected-error @+1 {{expects H of outs (4) to match H of qk (2)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<1x4x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x4x8x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_length(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{expects N of outs (4) to match N of qk (8)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<1x2x4x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @negative_lsh_outs_dv(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>, %o: tensor<1x2x8x6xf32>) {
  // expected-error @+1 {{expects Dv of outs (6) to match Dv of value (4)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%o : tensor<1x2x8x6xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x6xf32>
  return
}

// -----

func.func @negative_lsh_nan_scale(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects a finite scale}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4, scale = 0x7FC00000 : f32} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_odd_num_buckets(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects num_buckets to be even and >= 2 (buckets come from argmax over [x ; -x]), but got 3}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 3, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_zero_num_buckets(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects num_buckets to be even and >= 2 (buckets come from argmax over [x ; -x]), but got 0}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 0, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_num_buckets_rotations_mismatch(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects rotations dim num_buckets / 2 to be 4 (num_buckets == 2 * rotations.shape[3]), but got 2}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 8, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_no_hash_round(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x0x4x2xf32>) {
  // expected-error @+1 {{expects at least one hash round (rotations dim R >= 1)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x0x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_zero_chunk_size(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects chunk_size >= 1, but got 0}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 0} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lsh_length_not_multiple_of_chunk(%qk: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{expects the sequence length N (8) to be a multiple of chunk_size (3)}}
  %r = attn.lsh ins(%qk, %qk, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%qk : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 3} -> tensor<1x2x8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.cluster (q, k, v [1, 2, 4, 8], centroids [2, 3, 8])
//===----------------------------------------------------------------------===//

func.func @negative_cluster_key_rank(%q: tensor<1x2x4x8xf32>, %k: tensor<2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects key of rank 4 [B, Hkv, Nk, D], but got 'tensor<2x4x8xf32>'}}
  %r = attn.cluster ins(%q, %k, %q, %c : tensor<1x2x4x8xf32>, tensor<2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_infinite_scale(%q: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects a finite scale}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2, scale = 0xFF800000 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_centroids_rank(%q: tensor<1x2x4x8xf32>, %c: tensor<3x8xf32>) {
  // expected-error @+1 {{expects centroids of rank 3 [H, C, D], but got 'tensor<3x8xf32>'}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_centroids_element_type(%q: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xi32>) {
  // expected-error @+1 {{expects centroids to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xi32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_centroids_heads(%q: tensor<1x2x4x8xf32>, %c: tensor<1x3x8xf32>) {
  // expected-error @+1 {{expects H of centroids (1) to match H of query (2)}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_centroids_d(%q: tensor<1x2x4x8xf32>, %c: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects D of centroids (4) to match D of query (8)}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_zero_window(%q: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects window >= 1, but got 0}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 0} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_window_above_queries(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x8x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects window <= min(Nq, Nk) (each cluster takes window queries and window keys), but got window = 5 > Nq = 4}}
  %r = attn.cluster ins(%q, %k, %k, %c : tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 5} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_cluster_window_above_keys(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{expects window <= min(Nq, Nk) (each cluster takes window queries and window keys), but got window = 5 > Nk = 4}}
  %r = attn.cluster ins(%q, %k, %k, %c : tensor<1x2x8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x8x8xf32>)
         {window = 5} -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @negative_cluster_causal_lengths(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{with causal expects Nq == Nk (causal clusters compare query and key positions of one sequence), but got Nq = 8, Nk = 4}}
  %r = attn.cluster ins(%q, %k, %k, %c : tensor<1x2x8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x8x8xf32>)
         {window = 2, causal} -> tensor<1x2x8x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.lowrank (q, k, v [1, 2, 4, 8], projections [1, 3, 4])
//===----------------------------------------------------------------------===//

func.func @negative_lowrank_causal(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>) {
  // expected-error @+1 {{has no causal (each projected key mixes every key position, so there is no position to mask)}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {causal} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_pattern(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>) {
  // expected-error @+1 {{has no pattern (each projected key mixes every key position, so there is no position to mask)}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {pattern = #attn.causal} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_heads_not_multiple(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>) {
  // expected-error @+1 {{expects the query heads H (3) to be a multiple of the key/value heads Hkv (2)}}
  %r = attn.lowrank ins(%q, %k, %k : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>) outs(%q : tensor<1x3x4x8xf32>)
         -> tensor<1x3x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_infinite_scale(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>) {
  // expected-error @+1 {{expects a finite scale}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {scale = 0x7F800000 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_key_projection_rank(%q: tensor<1x2x4x8xf32>, %e: tensor<3x4xf32>) {
  // expected-error @+1 {{expects key projection of rank 3 [Hkv or 1, r, Nk], but got 'tensor<3x4xf32>'}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_key_projection_element_type(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xi32>) {
  // expected-error @+1 {{expects key projection to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xi32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_key_projection_length(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x5xf32>) {
  // expected-error @+1 {{expects Nk of key projection (5) to match Nk of key (4)}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x5xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_key_projection_heads(%q: tensor<1x2x4x8xf32>, %e: tensor<3x3x4xf32>) {
  // expected-error @+1 {{expects key projection dim 0 (3) to be Hkv (2) or 1}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<3x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_value_projection_heads(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>, %f: tensor<3x3x4xf32>) {
  // expected-error @+1 {{expects value projection dim 0 (3) to be Hkv (2) or 1}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>, %f : tensor<3x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_value_projection_rank(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>, %f: tensor<1x1x3x4xf32>) {
  // expected-error @+1 {{expects value projection of rank 3 [Hkv or 1, r, Nk], but got 'tensor<1x1x3x4xf32>'}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>, %f : tensor<1x1x3x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_projection_shapes_differ(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>, %f: tensor<1x5x4xf32>) {
  // expected-error @+1 {{expects the value projection 'tensor<1x5x4xf32>' to have the shape of the key projection 'tensor<1x3x4xf32>'}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>, %f : tensor<1x5x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.kernelized (q, k, v [1, 2, 4, 8], projection [2, 16, 8])
//===----------------------------------------------------------------------===//

func.func @negative_kernelized_value_batch(%q: tensor<1x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) {
  // expected-error @+1 {{expects B of query (1) to match B of value (2)}}
  %r = attn.kernelized relu ins(%q, %q, %v : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_favor_without_projection(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{with favor_plus expects a projection operand (the random features W [H or 1, m, D])}}
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_relu_with_projection(%q: tensor<1x2x4x8xf32>, %w: tensor<2x16x8xf32>) {
  // expected-error @+1 {{with relu takes no projection operand (only favor_plus uses random features)}}
  %r = attn.kernelized relu ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<2x16x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_elu_with_projection(%q: tensor<1x2x4x8xf32>, %w: tensor<2x16x8xf32>) {
  // expected-error @+1 {{with elu_plus_one takes no projection operand (only favor_plus uses random features)}}
  %r = attn.kernelized elu_plus_one ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<2x16x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_projection_rank(%q: tensor<1x2x4x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{expects projection of rank 3 [H or 1, m, D], but got 'tensor<16x8xf32>'}}
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<16x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_projection_element_type(%q: tensor<1x2x4x8xf32>, %w: tensor<2x16x8xf64>) {
  // expected-error @+1 {{expects projection to have element type f32, f16 or bf16, but got 'f64'}}
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<2x16x8xf64>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_projection_d(%q: tensor<1x2x4x8xf32>, %w: tensor<2x16x4xf32>) {
  // expected-error @+1 {{expects D of projection (4) to match D of query (8)}}
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<2x16x4xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_projection_heads(%q: tensor<1x2x4x8xf32>, %w: tensor<3x16x8xf32>) {
  // expected-error @+1 {{expects projection dim 0 (3) to be H (2) or 1}}
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projection(%w : tensor<3x16x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_causal_lengths(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{with causal expects Nq == Nk (the causal prefix sum runs over one sequence), but got Nq = 8, Nk = 4}}
  %r = attn.kernelized elu_plus_one ins(%q, %k, %k : tensor<1x2x8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x8x8xf32>)
         {causal} -> tensor<1x2x8x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.pkm (q [1, 2, 4, 8], subkeys [2, 4, 4], values [16, 6], top_k = 2)
//===----------------------------------------------------------------------===//

func.func @negative_pkm_query_rank(%q: tensor<2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects query of rank 4 [B, H, N, Dk], but got 'tensor<2x4x8xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys1_rank(%q: tensor<1x2x4x8xf32>, %s1: tensor<4x4xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys1 of rank 3 [H, n, Dk / 2], but got 'tensor<4x4xf32>'}}
  %r = attn.pkm ins(%q, %s1, %s, %vals : tensor<1x2x4x8xf32>, tensor<4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys2_rank(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %s2: tensor<4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys2 of rank 3 [H, n, Dk / 2], but got 'tensor<4x4xf32>'}}
  %r = attn.pkm ins(%q, %s, %s2, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_values_rank(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects values of rank 2 [n * n, Dv], but got 'tensor<16xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_outs_rank(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<2x4x6xf32>) {
  // expected-error @+1 {{expects outs of rank 4 [B, H, N, Dv], but got 'tensor<2x4x6xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<2x4x6xf32>)
         {top_k = 2} -> tensor<2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_query_element_type(%q: tensor<1x2x4x8xi32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects query to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xi32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys1_element_type(%q: tensor<1x2x4x8xf32>, %s1: tensor<2x4x4xi32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys1 to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.pkm ins(%q, %s1, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xi32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys2_element_type(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %s2: tensor<2x4x4xi32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys2 to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.pkm ins(%q, %s, %s2, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xi32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_values_element_type(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xi32>, %o: tensor<1x2x4x6xi32>) {
  // expected-error @+1 {{expects values to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xi32>) outs(%o : tensor<1x2x4x6xi32>)
         {top_k = 2} -> tensor<1x2x4x6xi32>
  return
}

// -----

func.func @negative_pkm_outs_element_type(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf16>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects outs to have element type 'f16', but got 'f32'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf16>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_query_dynamic_dk(%q: tensor<1x2x4x?xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects query dim Dk (dim 3) to be static, but got 'tensor<1x2x4x?xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x?xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_values_dynamic_dv(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x?xf32>, %o: tensor<1x2x4x?xf32>) {
  // expected-error @+1 {{expects values dim Dv (dim 1) to be static, but got 'tensor<16x?xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x?xf32>) outs(%o : tensor<1x2x4x?xf32>)
         {top_k = 2} -> tensor<1x2x4x?xf32>
  return
}

// -----

func.func @negative_pkm_odd_dk(%q: tensor<1x2x4x7xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects an even query dim Dk (split into two halves), but got 7}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x7xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys_shapes_differ(%q: tensor<1x2x4x8xf32>, %s1: tensor<2x4x4xf32>, %s2: tensor<2x3x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys2 'tensor<2x3x4xf32>' to have the shape of subkeys1 'tensor<2x4x4xf32>'}}
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x3x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys_heads(%q: tensor<1x2x4x8xf32>, %s: tensor<3x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects H of subkeys1 (3) to match H of query (2)}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<3x4x4xf32>, tensor<3x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys_half_dk(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x3xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys1 dim Dk / 2 to be 4 (half the query dim), but got 3}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_subkeys_dynamic_n(%q: tensor<1x2x4x8xf32>, %s: tensor<2x?x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects subkeys1 dim n (dim 1) to be static, but got 'tensor<2x?x4xf32>'}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x?x4xf32>, tensor<2x?x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_outs_batch(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<2x2x4x6xf32>) {
  // expected-error @+1 {{expects B of outs (2) to match B of query (1)}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<2x2x4x6xf32>)
         {top_k = 2} -> tensor<2x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_outs_heads(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x1x4x6xf32>) {
  // expected-error @+1 {{expects H of outs (1) to match H of query (2)}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x1x4x6xf32>)
         {top_k = 2} -> tensor<1x1x4x6xf32>
  return
}

// -----

func.func @negative_pkm_outs_length(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{expects N of outs (5) to match N of query (4)}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x5x6xf32>)
         {top_k = 2} -> tensor<1x2x5x6xf32>
  return
}

// -----

func.func @negative_pkm_outs_dv(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expects Dv of outs (8) to match Dv of values (6)}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x8xf32>)
         {top_k = 2} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_pkm_values_rows(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<15x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects values dim n * n to be 16 (one row per sub-key pair), but got 15}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<15x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 2} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_zero_top_k(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects 1 <= top_k <= n (4), but got 0}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 0} -> tensor<1x2x4x6xf32>
  return
}

// -----

func.func @negative_pkm_top_k_above_n(%q: tensor<1x2x4x8xf32>, %s: tensor<2x4x4xf32>, %vals: tensor<16x6xf32>, %o: tensor<1x2x4x6xf32>) {
  // expected-error @+1 {{expects 1 <= top_k <= n (4), but got 5}}
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<16x6xf32>) outs(%o : tensor<1x2x4x6xf32>)
         {top_k = 5} -> tensor<1x2x4x6xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.lightconv (input [1, 4, 8], weight [2, 3])
//===----------------------------------------------------------------------===//

func.func @negative_lightconv_input_rank(%x: tensor<4x8xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{expects input of rank 3 [B, N, C], but got 'tensor<4x8xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<4x8xf32>, tensor<2x3xf32>) outs(%x : tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @negative_lightconv_weight_rank(%x: tensor<1x4x8xf32>, %w: tensor<2x1x3xf32>) {
  // expected-error @+1 {{expects weight of rank 2 [Hc, K], but got 'tensor<2x1x3xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x1x3xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_input_element_type(%x: tensor<1x4x8xi32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{expects input to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xi32>, tensor<2x3xf32>) outs(%x : tensor<1x4x8xi32>) -> tensor<1x4x8xi32>
  return
}

// -----

func.func @negative_lightconv_weight_element_type(%x: tensor<1x4x8xf32>, %w: tensor<2x3xi32>) {
  // expected-error @+1 {{expects weight to have element type f32, f16 or bf16, but got 'i32'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xi32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_dynamic_channels(%x: tensor<1x4x?xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{expects input dim C (dim 2) to be static, but got 'tensor<1x4x?xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x?xf32>, tensor<2x3xf32>) outs(%x : tensor<1x4x?xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

func.func @negative_lightconv_dynamic_heads(%x: tensor<1x4x8xf32>, %w: tensor<?x3xf32>) {
  // expected-error @+1 {{expects weight dim Hc (dim 0) to be static, but got 'tensor<?x3xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<?x3xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_dynamic_width(%x: tensor<1x4x8xf32>, %w: tensor<2x?xf32>) {
  // expected-error @+1 {{expects weight dim K (dim 1) to be static, but got 'tensor<2x?xf32>'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x?xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_outs_type(%x: tensor<1x4x8xf32>, %w: tensor<2x3xf32>, %o: tensor<1x4x8xf16>) {
  // expected-error @+1 {{expects outs to have element type 'f32', but got 'f16'}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xf32>) outs(%o : tensor<1x4x8xf16>) -> tensor<1x4x8xf16>
  return
}

// -----

func.func @negative_lightconv_channels_not_multiple_of_heads(%x: tensor<1x4x8xf32>, %w: tensor<3x3xf32>) {
  // expected-error @+1 {{expects the channels C (8) to be a multiple of the weight heads Hc (3)}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<3x3xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_zero_heads(%x: tensor<1x4x8xf32>, %w: tensor<0x3xf32>) {
  // expected-error @+1 {{expects the channels C (8) to be a multiple of the weight heads Hc (0)}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<0x3xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_zero_width(%x: tensor<1x4x8xf32>, %w: tensor<2x0xf32>) {
  // expected-error @+1 {{expects a kernel width K >= 1}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x0xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_lightconv_even_width(%x: tensor<1x4x8xf32>, %w: tensor<2x4xf32>) {
  // expected-error @+1 {{expects an odd kernel width K for a non-causal convolution (centred padding (K - 1) / 2), but got K = 4}}
  %r = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x4xf32>) outs(%x : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.window (pattern verifiers report at the attribute itself)
//===----------------------------------------------------------------------===//

func.func @negative_window_left_too_small(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window needs left >= -2147483647, but got left = -2147483648}}
         pattern(#attn.window<left = -2147483648, right = 2147483647>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_right_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window needs right below 2^31, but got right = 2147483648}}
         pattern(#attn.window<left = 0, right = 2147483648>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_empty_band(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window needs left + right >= 0 (a non-empty band), but got left = -5, right = 2}}
         pattern(#attn.window<left = -5, right = 2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.dilated
//===----------------------------------------------------------------------===//

func.func @negative_dilated_left_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated needs left below 2^31, but got left = 2147483648}}
         pattern(#attn.dilated<left = 2147483648, right = 0, dilation = 1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_right_too_small(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated needs right >= -2147483647, but got right = -2147483648}}
         pattern(#attn.dilated<left = 4, right = -2147483648, dilation = 1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_zero_dilation(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated needs dilation >= 1, but got dilation = 0}}
         pattern(#attn.dilated<left = 4, right = 4, dilation = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_dilation_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated needs dilation below 2^31, but got dilation = 2147483648}}
         pattern(#attn.dilated<left = 4, right = 4, dilation = 2147483648>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_empty_band(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated needs left + right >= 0 (a non-empty band), but got left = 1, right = -2}}
         pattern(#attn.dilated<left = 1, right = -2, dilation = 2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.block_local
//===----------------------------------------------------------------------===//

func.func @negative_block_local_zero_size(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_local needs size >= 1, but got size = 0}}
         pattern(#attn.block_local<size = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_local_size_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_local needs size below 2^31, but got size = 4294967296}}
         pattern(#attn.block_local<size = 4294967296>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.strided
//===----------------------------------------------------------------------===//

func.func @negative_strided_zero_stride(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.strided needs stride >= 1, but got stride = 0}}
         pattern(#attn.strided<stride = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_strided_stride_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.strided needs stride below 2^31, but got stride = 2147483648}}
         pattern(#attn.strided<stride = 2147483648>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.fixed
//===----------------------------------------------------------------------===//

func.func @negative_fixed_zero_block(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.fixed needs block >= 1, but got block = 0}}
         pattern(#attn.fixed<block = 0, summary = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_fixed_negative_summary(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.fixed needs summary >= 0, but got summary = -1}}
         pattern(#attn.fixed<block = 4, summary = -1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_fixed_summary_above_block(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.fixed needs summary <= block, but got block = 4, summary = 5}}
         pattern(#attn.fixed<block = 4, summary = 5>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.global
//===----------------------------------------------------------------------===//

func.func @negative_global_negative_first(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.global needs first >= 0, but got first = -1}}
         pattern(#attn.global<first = -1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_global_first_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.global needs first below 2^31, but got first = 2147483648}}
         pattern(#attn.global<tokens = [0, 3], first = 2147483648>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.random
//===----------------------------------------------------------------------===//

func.func @negative_random_zero_block(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.random needs block >= 1, but got block = 0}}
         pattern(#attn.random<block = 0, per_row = 1, seed = 7>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_random_negative_per_row(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.random needs per_row >= 0, but got per_row = -1}}
         pattern(#attn.random<block = 2, per_row = -1, seed = 7>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_random_per_row_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.random needs per_row below 2^31, but got per_row = 2147483648}}
         pattern(#attn.random<block = 2, per_row = 2147483648, seed = 7>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.axial
//===----------------------------------------------------------------------===//

func.func @negative_axial_zero_rows(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.axial needs rows >= 1, but got rows = 0}}
         pattern(#attn.axial<rows = 0, cols = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_axial_zero_cols(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.axial needs cols >= 1, but got cols = 0}}
         pattern(#attn.axial<rows = 4, cols = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_axial_rows_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.axial needs rows below 2^31, but got rows = 2147483648}}
         pattern(#attn.axial<rows = 2147483648, cols = 1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.block_sparse
//===----------------------------------------------------------------------===//

func.func @negative_block_sparse_one_size(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs block = [bq, bk] (two sizes), but got 1 sizes}}
         pattern(#attn.block_sparse<block = [2], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_three_sizes(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs block = [bq, bk] (two sizes), but got 3 sizes}}
         pattern(#attn.block_sparse<block = [2, 2, 2], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_zero_bq(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs bq >= 1, but got bq = 0}}
         pattern(#attn.block_sparse<block = [0, 2], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_zero_bk(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs bk >= 1, but got bk = 0}}
         pattern(#attn.block_sparse<block = [2, 0], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_bk_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs bk below 2^31, but got bk = 2147483648}}
         pattern(#attn.block_sparse<block = [2, 2147483648], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_layout_not_i1(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<2x2xi32>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<1> : tensor<2x2xi32>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_layout_not_2d(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<4xi1>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<true> : tensor<4xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.causal
//===----------------------------------------------------------------------===//

func.func @negative_causal_offset_too_large(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.causal needs offset below 2^31, but got offset = 2147483648}}
         pattern(#attn.causal<offset = 2147483648>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_causal_offset_too_small(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.causal needs offset >= -2147483647, but got offset = -2147483648}}
         pattern(#attn.causal<offset = -2147483648, bottom_right>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_causal_unknown_keyword(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{expected 'offset'}}
         pattern(#attn.causal<top_left>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.union and #attn.intersect: an empty part list reaches the verifier
//===----------------------------------------------------------------------===//

func.func @negative_union_no_parts(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.union needs at least one part, but got none}}
         pattern(#attn.union<[]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_intersect_no_parts(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.intersect needs at least one part, but got none}}
         pattern(#attn.intersect<[]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_union_part_not_a_pattern(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.union needs patterns as parts, but got 3 : i64}}
         pattern(#attn.union<[#attn.causal, 3 : i64]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_intersect_part_not_a_pattern(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.intersect needs patterns as parts, but got #attn<feature_map relu>}}
         pattern(#attn.intersect<[#attn<feature_map relu>]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Signed attribute values, extra attributes, shapes (added with the fixes)
//===----------------------------------------------------------------------===//

func.func @negative_lsh_look_back(%qk: tensor<1x1x8x4xf32>, %rot: tensor<1x2x4x2xf32>) {
  // expected-error @+1 {{expects look_back >= 0 and look_ahead >= 0, but got look_back = -1, look_ahead = 0}}
  %0 = attn.lsh ins(%qk, %qk, %rot : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x2x4x2xf32>) outs(%qk : tensor<1x1x8x4xf32>) {num_buckets = 4, chunk_size = 4, look_back = -1} -> tensor<1x1x8x4xf32>
  return
}

// -----

func.func @negative_lsh_chunk_size_negative_dynamic(%qk: tensor<1x1x?x4xf32>, %rot: tensor<1x2x4x2xf32>) {
  // expected-error @+1 {{expects chunk_size >= 1, but got -4}}
  %0 = attn.lsh ins(%qk, %qk, %rot : tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x2x4x2xf32>) outs(%qk : tensor<1x1x?x4xf32>) {num_buckets = 4, chunk_size = -4} -> tensor<1x1x?x4xf32>
  return
}

// -----

func.func @negative_cluster_window_negative_dynamic(%q: tensor<1x2x?x4xf32>, %c: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects window >= 1, but got -1}}
  %0 = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<2x3x4xf32>) outs(%q : tensor<1x2x?x4xf32>) {window = -1} -> tensor<1x2x?x4xf32>
  return
}

// -----

func.func @negative_kernelized_scale(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{has no scale (the feature map's inner product is the score)}}
  %0 = attn.kernelized relu ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%q : tensor<1x2x8x4xf32>) {scale = 0.5 : f32} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_kernelized_pattern(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{has no pattern (kernelized attention never forms the score matrix; only causal is supported)}}
  %0 = attn.kernelized relu ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%q : tensor<1x2x8x4xf32>) {pattern = #attn.causal} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_pkm_scale(%q: tensor<1x2x8x4xf32>, %s: tensor<2x4x2xf32>, %v: tensor<16x4xf32>) {
  // expected-error @+1 {{has no scale (sub-key scores are used as they are)}}
  %0 = attn.pkm ins(%q, %s, %s, %v : tensor<1x2x8x4xf32>, tensor<2x4x2xf32>, tensor<2x4x2xf32>, tensor<16x4xf32>) outs(%q : tensor<1x2x8x4xf32>) {top_k = 2, scale = 1.0 : f32} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_pkm_slots_overflow(%q: tensor<1x2x8x4xf32>, %s: tensor<2x4294967296x2xf32>, %v: tensor<16x4xf32>) {
  // expected-error @+1 {{expects n * n memory slots to fit in 64 bits, but got n = 4294967296}}
  %0 = attn.pkm ins(%q, %s, %s, %v : tensor<1x2x8x4xf32>, tensor<2x4294967296x2xf32>, tensor<2x4294967296x2xf32>, tensor<16x4xf32>) outs(%q : tensor<1x2x8x4xf32>) {top_k = 2} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lightconv_outs_shape(%x: tensor<1x4x8xf32>, %w: tensor<2x3xf32>, %o: tensor<1x5x8xf32>) {
  // expected-error @+1 {{expects outs 'tensor<1x5x8xf32>' to have the shape of the input 'tensor<1x4x8xf32>'}}
  %0 = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xf32>) outs(%o : tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
  return
}

// -----

func.func @negative_causal_offset_twice(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{#attn.causal has offset twice}}
  %0 = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%q : tensor<1x2x8x4xf32>) pattern(#attn.causal<offset = 1, offset = 2>) -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_causal_bottom_right_twice(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{#attn.causal has bottom_right twice}}
  %0 = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%q : tensor<1x2x8x4xf32>) pattern(#attn.causal<bottom_right, bottom_right>) -> tensor<1x2x8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attributes an op does not define are rejected, not ignored (issue 8)
//===----------------------------------------------------------------------===//

func.func @negative_sdpa_causal_unit_attribute(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op does not define the attribute 'causal' (its attributes are block_size, max_span, pattern, ramp, scale; a discardable attribute needs a dialect prefix, as in 'foo.bar'); for causal attention write pattern(#attn.causal)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) {causal} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_misspelt_scale(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op does not define the attribute 'sacle' (its attributes are block_size, max_span, pattern, ramp, scale;}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) {sacle = 0.5 : f32} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_unknown_attribute_generic(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op does not define the attribute 'window'}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) {window = 4 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lsh_unknown_attribute(%x: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+1 {{'attn.lsh' op does not define the attribute 'num_hashes' (its attributes are causal, chunk_size, look_ahead, look_back, num_buckets, scale;}}
  %r = attn.lsh ins(%x, %x, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%x : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4, num_hashes = 2} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_cluster_unknown_attribute(%q: tensor<1x2x4x8xf32>, %c: tensor<2x3x8xf32>) {
  // expected-error @+1 {{'attn.cluster' op does not define the attribute 'clusters' (its attributes are causal, scale, window;}}
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x3x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {window = 2, clusters = 3} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lowrank_unknown_attribute(%q: tensor<1x2x4x8xf32>, %e: tensor<1x3x4xf32>) {
  // expected-error @+1 {{'attn.lowrank' op does not define the attribute 'rank' (its attributes are scale;}}
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) projections(%e : tensor<1x3x4xf32>)
         outs(%q : tensor<1x2x4x8xf32>) {rank = 3} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_kernelized_unknown_attribute(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.kernelized' op does not define the attribute 'normalize' (its attributes are causal, feature_map;}}
  %r = attn.kernelized relu ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         {normalize} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_pkm_unknown_attribute(%q: tensor<1x2x8x4xf32>, %s: tensor<2x4x2xf32>, %v: tensor<16x4xf32>) {
  // expected-error @+1 {{'attn.pkm' op does not define the attribute 'topk' (its attributes are top_k;}}
  %0 = attn.pkm ins(%q, %s, %s, %v : tensor<1x2x8x4xf32>, tensor<2x4x2xf32>, tensor<2x4x2xf32>, tensor<16x4xf32>) outs(%q : tensor<1x2x8x4xf32>) {top_k = 2, topk = 2} -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @negative_lightconv_unknown_attribute(%x: tensor<1x4x8xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'attn.lightconv' op does not define the attribute 'softmax' (its attributes are causal, normalize;}}
  %0 = attn.lightconv ins(%x, %w : tensor<1x4x8xf32>, tensor<2x3xf32>) outs(%x : tensor<1x4x8xf32>) {softmax} -> tensor<1x4x8xf32>
  return
}

// -----

func.func @negative_yield_unknown_attribute(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @+1 {{'attn.yield' op does not define the attribute 'scale' (it has no attributes;}}
    attn.yield {scale = 2.0 : f32} %s : f32
  } -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Generic-form operand segments (issue 8): a required operand with no value
// or two values, negative sizes and a wrong sum are diagnostics
//===----------------------------------------------------------------------===//

func.func @negative_sdpa_segments_two_queries_no_outs(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op expects operandSegmentSizes to give the query operand (segment 0) one value, but got 2}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_no_outs(%q: tensor<1x2x4x8xf32>, %m: tensor<4x4xi1>) {
  // expected-error @+1 {{'attn.sdpa' op expects operandSegmentSizes to give the outs operand (segment 3) one value, but got 0}}
  %r = "attn.sdpa"(%q, %q, %q, %m) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<4x4xi1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_no_key(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op expects operandSegmentSizes to give the key operand (segment 1) one value, but got 0}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: 1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_negative(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'operandSegmentSizes' attribute cannot have negative elements}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: -1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_sum(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{operand count (4) does not match with the total size (5) specified in attribute 'operandSegmentSizes'}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_missing(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{operand count (4) does not match with the total size (0) specified in attribute 'operandSegmentSizes'}}
  %r = "attn.sdpa"(%q, %q, %q, %q) ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_segments_too_many(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{size mismatch in attribute conversion: 18 vs 17}}
  %r = "attn.sdpa"(%q, %q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({
  }, {
  }) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_sdpa_untyped_scale_beyond_f32(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'attn.sdpa' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>) {scale = 1.0e300} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_lsh_integer_scale(%x: tensor<1x2x8x4xf32>, %rot: tensor<2x1x4x2xf32>) {
  // expected-error @+2 {{'attn.lsh' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %r = attn.lsh ins(%x, %x, %rot : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<2x1x4x2xf32>) outs(%x : tensor<1x2x8x4xf32>)
         {num_buckets = 4, chunk_size = 4, scale = 1} -> tensor<1x2x8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #attn.block_sparse layouts: only a dense 2-D i1 tensor (issue 8)
//===----------------------------------------------------------------------===//

func.func @negative_block_sparse_si1_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<2x2xsi1>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<true> : tensor<2x2xsi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_ui1_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<2x2xui1>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<false> : tensor<2x2xui1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_vector_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a tensor layout, but got 'vector<2x2xi1>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<true> : vector<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_float_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a dense i1 tensor layout, but got dense<1.000000e+00> : tensor<2x2xf32>}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<1.0> : tensor<2x2xf32>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_i8_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<2x2xi8>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<1> : tensor<2x2xi8>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_rank3_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a 2-D i1 layout (query blocks x key blocks), but got 'tensor<1x2x2xi1>'}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense<true> : tensor<1x2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_sparse_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a dense i1 tensor layout, but got sparse<}}
         pattern(#attn.block_sparse<block = [2, 2], layout = sparse<[[0, 0]], [true]> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_resource_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a dense i1 tensor layout, but got dense_resource<}}
         pattern(#attn.block_sparse<block = [2, 2], layout = dense_resource<blob> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_integer_layout(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse needs a dense i1 tensor layout, but got 1 : i64}}
         pattern(#attn.block_sparse<block = [2, 2], layout = 1 : i64>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Pattern parameters: a missing, repeated or unknown one is named (issue 8)
//===----------------------------------------------------------------------===//

func.func @negative_window_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.window is missing the parameter 'right' (its parameters are left, right)}}
         pattern(#attn.window<left = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_left_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.window is missing the parameter 'left' (its parameters are left, right)}}
         pattern(#attn.window<right = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.dilated is missing the parameter 'right' (its parameters are left, right, dilation)}}
         pattern(#attn.dilated<left = 4, dilation = 2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_local_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.block_local is missing the parameter 'size' (its parameters are size)}}
         pattern(#attn.block_local<>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_strided_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.strided is missing the parameter 'stride' (its parameters are stride)}}
         pattern(#attn.strided<>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_fixed_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.fixed is missing the parameter 'summary' (its parameters are block, summary)}}
         pattern(#attn.fixed<block = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_random_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.random is missing the parameter 'per_row' (its parameters are block, per_row, seed)}}
         pattern(#attn.random<block = 4, seed = 1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_axial_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.axial is missing the parameter 'rows' (its parameters are rows, cols)}}
         pattern(#attn.axial<cols = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_missing_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{attn.block_sparse is missing the parameter 'layout' (its parameters are block, layout)}}
         pattern(#attn.block_sparse<block = [2, 2]>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_dilated_missing_parameters(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.dilated is missing the parameters 'left', 'right' (its parameters are left, right, dilation)}}
         pattern(#attn.dilated<dilation = 2>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_no_parameters(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window needs its parameters in <...>: left, right}}
         pattern(#attn.window) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_unknown_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window has no parameter 'rigth'; its parameters are left, right}}
         pattern(#attn.window<left = 4, rigth = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_parameter_twice(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.window has left twice}}
         pattern(#attn.window<left = 4, left = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_positional_parameters(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{expected a parameter of #attn.window (left, right)}}
         pattern(#attn.window<4, 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_window_missing_comma(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{expected ',' or '>' after a parameter of #attn.window}}
         pattern(#attn.window<left = 4 right = 0>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_global_unknown_parameter(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.global has no parameter 'last'; its parameters are tokens, first}}
         pattern(#attn.global<last = 4>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @negative_block_sparse_block_twice(%q: tensor<1x2x4x8xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%q : tensor<1x2x4x8xf32>)
         // expected-error @+1 {{#attn.block_sparse has block twice}}
         pattern(#attn.block_sparse<block = [2, 2], block = [2, 2], layout = dense<true> : tensor<2x2xi1>>) -> tensor<1x2x4x8xf32>
  return
}
