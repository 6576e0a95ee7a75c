//===- AttnCanonicalization.h - Canonicalizations across dialects -*- C++
//-*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNCANONICALIZATION_H
#define ATTN_DIALECT_ATTN_IR_ATTNCANONICALIZATION_H

namespace mlir {
class RewritePatternSet;
namespace attn {

/// Adds a pattern that folds a `tensor.cast` into the attn op that consumes
/// it when the cast only erases static information (its source is more
/// static, `tensor::canFoldIntoConsumerOp`). The op is rebuilt on the cast's
/// source; when the `outs` operand changes, result 0 takes the more static
/// type and a `tensor.cast` back to the old type feeds its old users.
///
/// Together with the `tensor.cast` canonicalizations this propagates static
/// shapes through a function, so that the op verifiers can check relations
/// between dimensions that were dynamic (`attn-run` does this on the input
/// shapes before it compiles).
void populateFoldTensorCastIntoAttnOpsPatterns(RewritePatternSet &patterns);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_IR_ATTNCANONICALIZATION_H
