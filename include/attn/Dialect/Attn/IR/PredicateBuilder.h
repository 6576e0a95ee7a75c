//===- PredicateBuilder.h - i64 arithmetic for pattern predicates -*- C++
//-*-===//
#ifndef ATTN_DIALECT_ATTN_IR_PREDICATEBUILDER_H
#define ATTN_DIALECT_ATTN_IR_PREDICATEBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {

/// Emits the `i64` / `i1` arithmetic that pattern predicates are made of, with
/// the same floor and mod conventions as the scalar predicates.
class PredicateBuilder {
public:
  PredicateBuilder(OpBuilder &builder, Location loc)
      : builder(builder), loc(loc) {}

  Value constant(int64_t value);
  Value boolean(bool value);
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  /// Floor division by a positive divisor.
  Value floorDiv(Value a, Value b);
  /// Non-negative remainder by a positive divisor.
  Value floorMod(Value a, Value b);
  Value cmp(arith::CmpIPredicate predicate, Value a, Value b);
  Value eq(Value a, Value b) { return cmp(arith::CmpIPredicate::eq, a, b); }
  Value le(Value a, Value b) { return cmp(arith::CmpIPredicate::sle, a, b); }
  Value lt(Value a, Value b) { return cmp(arith::CmpIPredicate::slt, a, b); }
  Value ge(Value a, Value b) { return cmp(arith::CmpIPredicate::sge, a, b); }
  /// Returns `lo <= x < hi`.
  Value inRange(Value x, Value lo, Value hi);
  Value logicalAnd(Value a, Value b);
  Value logicalOr(Value a, Value b);
  Value logicalNot(Value a);
  Value select(Value condition, Value a, Value b);
  Value min(Value a, Value b);
  Value max(Value a, Value b);
  /// The i8 constant of a `BlockKind` (see AttnAttrs.h), as `buildClassify`
  /// returns it.
  Value kind(int64_t blockKind);

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() { return loc; }

private:
  OpBuilder &builder;
  Location loc;
};

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_IR_PREDICATEBUILDER_H
