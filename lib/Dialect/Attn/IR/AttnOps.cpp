//===- AttnOps.cpp - attn.sdpa, attn.yield and shared op checks -----------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "AttnOpFormat.h"
#include "AttnOpVerifiers.h"
#include "ShapeChecker.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

LogicalResult mlir::attn::verifyAttentionOpInterface(Operation *op) {
  auto iface = cast<AttentionOpInterface>(op);
  if (op->getNumResults() < 1 ||
      op->getResult(0).getType() != iface.getInit().getType())
    return op->emitOpError()
           << "expects the result type to equal the outs type "
           << iface.getInit().getType();
  return verifyDefinedAttributes(op);
}

LogicalResult mlir::attn::verifyDefinedAttributes(Operation *op) {
  ArrayRef<StringAttr> defined = op->getName().getAttributeNames();
  for (NamedAttribute attr : op->getDiscardableAttrDictionary()) {
    StringRef name = attr.getName().getValue();
    if (name.contains('.') || llvm::is_contained(defined, attr.getName()))
      continue;
    SmallVector<StringRef> names;
    for (StringAttr known : defined)
      if (known.getValue() != "operandSegmentSizes")
        names.push_back(known.getValue());
    InFlightDiagnostic diag = op->emitOpError()
                              << "does not define the attribute '" << name
                              << "' (";
    if (names.empty()) {
      diag << "it has no attributes";
    } else {
      diag << "its attributes are ";
      llvm::interleaveComma(names, diag);
    }
    diag << "; a discardable attribute needs a dialect prefix, as in "
            "'foo.bar')";
    if (name == "causal" && llvm::is_contained(names, "pattern"))
      diag << "; for causal attention write pattern(#attn.causal)";
    return diag;
  }
  return success();
}

LogicalResult mlir::attn::verifyOptionalScale(Operation *op, FloatAttr scale) {
  if (!scale || scale.getValue().isFinite())
    return success();
  return op->emitOpError() << "expects a finite scale, but got " << scale;
}

LogicalResult mlir::attn::verifyQueryKeyValue(Operation *op, ShapedType q,
                                              ShapedType k, ShapedType v,
                                              ShapedType out) {
  ShapeChecker check(op);
  if (failed(check.rank("query", q, 4, "[B, H, Nq, D]")) ||
      failed(check.rank("key", k, 4, "[B, Hkv, Nk, D]")) ||
      failed(check.rank("value", v, 4, "[B, Hkv, Nk, Dv]")) ||
      failed(check.rank("outs", out, 4, "[B, H, Nq, Dv]")) ||
      failed(check.floatElements("query", q)) ||
      failed(check.floatElements("key", k)) ||
      failed(check.floatElements("value", v)) ||
      failed(check.elementType("outs", out, v.getElementType())) ||
      failed(check.staticDim("query", q, 3, "D")) ||
      failed(check.staticDim("key", k, 3, "D")) ||
      failed(check.staticDim("value", v, 3, "Dv")) ||
      failed(check.sameDim("D", "query", q, 3, "key", k, 3)) ||
      failed(check.sameDim("B", "query", q, 0, "key", k, 0)) ||
      failed(check.sameDim("B", "query", q, 0, "value", v, 0)) ||
      failed(check.sameDim("Hkv", "key", k, 1, "value", v, 1)) ||
      failed(check.sameDim("Nk", "key", k, 2, "value", v, 2)) ||
      failed(check.sameDim("B", "outs", out, 0, "query", q, 0)) ||
      failed(check.sameDim("H", "outs", out, 1, "query", q, 1)) ||
      failed(check.sameDim("Nq", "outs", out, 2, "query", q, 2)) ||
      failed(check.sameDim("Dv", "outs", out, 3, "value", v, 3)))
    return failure();
  int64_t h = q.getDimSize(1), hkv = k.getDimSize(1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || h % hkv != 0))
    return op->emitOpError()
           << "expects the query heads H (" << h
           << ") to be a multiple of the key/value heads Hkv (" << hkv << ")";
  return success();
}

LogicalResult mlir::attn::verifyNoAttribute(Operation *op, StringRef name,
                                            StringRef why) {
  if (!op->hasAttr(name))
    return success();
  return op->emitOpError() << "has no " << name << " (" << why << ")";
}

LogicalResult mlir::attn::verifyCausalLengths(Operation *op, ShapedType q,
                                              ShapedType k, StringRef why) {
  int64_t nq = q.getDimSize(2), nk = k.getDimSize(2);
  if (ShapedType::isDynamic(nq) || ShapedType::isDynamic(nk) || nq == nk)
    return success();
  return op->emitOpError() << "with causal expects Nq == Nk (" << why
                           << "), but got Nq = " << nq << ", Nk = " << nk;
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

PatternAttrInterface SdpaOp::getPatternOrDense() {
  if (auto pattern = getPatternAttr())
    return pattern;
  return DenseAttr::get(getContext());
}

float SdpaOp::getScaleOrDefault() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValue().convertToFloat();
  return 1.0f / std::sqrt(float(getQuery().getType().getDimSize(3)));
}

PatternAttrInterface SdpaOp::getEffectivePattern() {
  return getPatternOrDense();
}

bool SdpaOp::isCausal() { return isa<CausalAttr>(getPatternOrDense()); }

/// 2 B H Nq (Nk + M) (D + Dv): the two products Q K^T and P V, memory
/// included, whatever the pattern skips.
std::optional<double> SdpaOp::getFlopCount() {
  auto q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  if (!q.hasStaticShape() || !k.hasStaticShape() || !v.hasStaticShape())
    return std::nullopt;
  double m = 0;
  if (Value mk = getMemoryKey()) {
    auto type = cast<ShapedType>(mk.getType());
    if (type.isDynamicDim(1))
      return std::nullopt;
    m = type.getDimSize(1);
  }
  return 2.0 * q.getDimSize(0) * q.getDimSize(1) * q.getDimSize(2) *
         (k.getDimSize(2) + m) * (q.getDimSize(3) + v.getDimSize(3));
}

/// Checks that a mask or bias of rank <= 4 broadcasts right-aligned to
/// [B, H, Nq, Nk]; a dim broadcasts only when it is statically 1.
static LogicalResult verifyBroadcastable(Operation *op, StringRef name,
                                         ShapedType type,
                                         ArrayRef<int64_t> target) {
  static const char *labels[] = {"B", "H", "Nq", "Nk"};
  if (type.getRank() > 4)
    return op->emitOpError() << "expects " << name
                             << " of rank at most 4 (broadcast to [B, H, Nq, "
                                "Nk]), but got "
                             << type;
  int64_t offset = 4 - type.getRank();
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t size = type.getDimSize(d), want = target[offset + d];
    if (ShapedType::isDynamic(size) || ShapedType::isDynamic(want) ||
        size == 1 || size == want)
      continue;
    return op->emitOpError()
           << "expects " << name << " dim " << d << " (" << size
           << ") to be 1 or to match " << labels[offset + d] << " (" << want
           << ") when broadcast to [B, H, Nq, Nk]";
  }
  return success();
}

/// Checks a positions operand [B, H or Hkv or 1, N] of i32 or i64.
static LogicalResult verifyPositions(Operation *op, StringRef name,
                                     ShapedType type, ShapedType q,
                                     ShapedType k, ShapedType seq,
                                     StringRef seqLabel) {
  ShapeChecker check(op);
  if (failed(check.rank(name, type, 3,
                        ("[B, H or Hkv or 1, " + seqLabel + "]").str())))
    return failure();
  Type elt = type.getElementType();
  if (!elt.isSignlessInteger(32) && !elt.isSignlessInteger(64))
    return op->emitOpError()
           << "expects " << name << " to have element type i32 or i64, but got "
           << elt;
  if (failed(check.sameDim("B", name, type, 0, "query", q, 0)) ||
      failed(check.sameDim(seqLabel, name, type, 2,
                           seqLabel == "Nq" ? "query" : "key", seq, 2)))
    return failure();
  int64_t heads = type.getDimSize(1);
  int64_t h = q.getDimSize(1), hkv = k.getDimSize(1);
  if (ShapedType::isDynamic(heads) || heads == 1 || ShapedType::isDynamic(h) ||
      ShapedType::isDynamic(hkv) || heads == h || heads == hkv)
    return success();
  return op->emitOpError() << "expects " << name << " dim 1 (" << heads
                           << ") to be H (" << h << "), Hkv (" << hkv
                           << ") or 1";
}

/// Checks the document ids `segments(%qseg, %kseg)`: both or neither,
/// `[B, Nq]` and `[B, Nk]`, i32 or i64.
static LogicalResult verifySegments(SdpaOp op, ShapedType q, ShapedType k) {
  Value qseg = op.getQuerySegments(), kseg = op.getKeySegments();
  if (!qseg != !kseg)
    return op.emitOpError("expects query segments and key segments together, "
                          "but got only one of them");
  if (!qseg)
    return success();
  ShapeChecker check(op);
  for (auto [name, value, seq, label] :
       {std::make_tuple("query segments", qseg, q, "Nq"),
        std::make_tuple("key segments", kseg, k, "Nk")}) {
    auto type = cast<ShapedType>(value.getType());
    if (failed(check.rank(name, type, 2, (Twine("[B, ") + label + "]").str())))
      return failure();
    Type elt = type.getElementType();
    if (!elt.isSignlessInteger(32) && !elt.isSignlessInteger(64))
      return op.emitOpError() << "expects " << name
                              << " (document ids) to have element type i32 or "
                                 "i64, but got "
                              << elt;
    if (failed(check.sameDim("B", name, type, 0, "query", q, 0)) ||
        failed(check.sameDim(label, name, type, 1,
                             StringRef(label) == "Nq" ? "query" : "key", seq,
                             2)))
      return failure();
  }
  return success();
}

/// Checks that `operandSegmentSizes` gives each required operand one value
/// (the ODS verifier checks the sum, the signs and the optional operands, but
/// not this).
static LogicalResult verifyRequiredOperands(SdpaOp op) {
  static const char *names[] = {"query", "key", "value", "outs"};
  ArrayRef<int32_t> sizes = op.getProperties().operandSegmentSizes;
  for (auto [index, name] : llvm::enumerate(names))
    if (sizes[index] != 1)
      return op.emitOpError()
             << "expects operandSegmentSizes to give the " << name
             << " operand (segment " << index << ") one value, but got "
             << sizes[index];
  return success();
}

LogicalResult SdpaOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyRequiredOperands(*this)))
    return failure();
  ShapeChecker check(op);
  auto q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  if (failed(verifyQueryKeyValue(op, q, k, v, getInit().getType())) ||
      failed(verifyOptionalScale(op, getScaleAttr())))
    return failure();
  SmallVector<int64_t> target = {q.getDimSize(0), q.getDimSize(1),
                                 q.getDimSize(2), k.getDimSize(2)};
  if (Value mask = getMask()) {
    auto type = cast<ShapedType>(mask.getType());
    if (failed(check.elementType("mask", type,
                                 IntegerType::get(getContext(), 1))) ||
        failed(verifyBroadcastable(op, "mask", type, target)))
      return failure();
  }
  if (Value bias = getBias()) {
    auto type = cast<ShapedType>(bias.getType());
    if (failed(check.floatElements("bias", type)) ||
        failed(verifyBroadcastable(op, "bias", type, target)))
      return failure();
  }
  if (!getMemoryKey() != !getMemoryValue())
    return emitOpError("expects memory keys and memory values together, but "
                       "got only one of them");
  if (getMemoryKey()) {
    auto mk = cast<ShapedType>(getMemoryKey().getType());
    auto mv = cast<ShapedType>(getMemoryValue().getType());
    if (failed(check.rank("memory keys", mk, 3, "[Hkv, M, D]")) ||
        failed(check.rank("memory values", mv, 3, "[Hkv, M, Dv]")) ||
        failed(check.floatElements("memory keys", mk)) ||
        failed(check.floatElements("memory values", mv)) ||
        failed(check.sameDim("Hkv", "memory keys", mk, 0, "key", k, 1)) ||
        failed(check.sameDim("Hkv", "memory values", mv, 0, "key", k, 1)) ||
        failed(
            check.sameDim("M", "memory keys", mk, 1, "memory values", mv, 1)) ||
        failed(check.staticDim("memory keys", mk, 2, "D")) ||
        failed(check.staticDim("memory values", mv, 2, "Dv")) ||
        failed(check.sameDim("D", "memory keys", mk, 2, "query", q, 3)) ||
        failed(check.sameDim("Dv", "memory values", mv, 2, "value", v, 3)))
      return failure();
  }
  if (!getQueryPositions() != !getKeyPositions())
    return emitOpError("expects query positions and key positions together, "
                       "but got only one of them");
  if (getQueryPositions()) {
    auto qp = cast<ShapedType>(getQueryPositions().getType());
    auto kp = cast<ShapedType>(getKeyPositions().getType());
    if (failed(verifyPositions(op, "query positions", qp, q, k, q, "Nq")) ||
        failed(verifyPositions(op, "key positions", kp, q, k, k, "Nk")))
      return failure();
  }
  if (Value span = getSpan()) {
    auto type = cast<ShapedType>(span.getType());
    if (failed(check.rank("span", type, 1, "[H]")) ||
        failed(
            check.elementType("span", type, Float32Type::get(getContext()))) ||
        failed(check.sameDim("H", "span", type, 0, "query", q, 1)))
      return failure();
    if (!getRampAttr() || !getMaxSpanAttr())
      return emitOpError("with span expects both the ramp and max_span "
                         "attributes");
    float ramp = getRampAttr().getValueAsDouble();
    float maxSpan = getMaxSpanAttr().getValueAsDouble();
    if (!(ramp > 0.0f) || !std::isfinite(ramp))
      return emitOpError() << "expects ramp > 0 (finite), but got " << ramp;
    if (!(maxSpan >= 0.0f) || !std::isfinite(maxSpan))
      return emitOpError() << "expects max_span >= 0 (finite), but got "
                           << maxSpan;
  } else if (getRampAttr() || getMaxSpanAttr()) {
    return emitOpError("expects ramp and max_span only with a span operand");
  }
  if (failed(verifySegments(*this, q, k)) || failed(verifyBlockLayout(*this, q)))
    return failure();
  if (Value lse = getLse()) {
    auto type = cast<ShapedType>(lse.getType());
    if (failed(check.rank("lse", type, 3, "[B, H, Nq]")) ||
        failed(
            check.elementType("lse", type, Float32Type::get(getContext()))) ||
        failed(check.sameDim("B", "lse", type, 0, "query", q, 0)) ||
        failed(check.sameDim("H", "lse", type, 1, "query", q, 1)) ||
        failed(check.sameDim("Nq", "lse", type, 2, "query", q, 2)))
      return failure();
  }
  return success();
}

/// Whether a score_mod may compute in `type`: index, signless integers of at
/// most 64 bits, f16, bf16, f32 or f64 (what the CPU lowering handles).
static bool isScoreModScalar(Type type) {
  if (type.isIndex() || type.isF16() || type.isBF16() || type.isF32() ||
      type.isF64())
    return true;
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.isSignless() && integer.getWidth() <= 64;
}

/// Whether attn-lower-to-linalg and attn-cpu-pipeline can lower `op` inside a
/// score_mod: the ops of arith, math, index and scf (scf.forall aside: it
/// works on shared tensors, not scalars), and tensor.extract / tensor.dim of
/// a tensor defined outside the region.
static bool isScoreModOp(Operation *op) {
  StringRef dialect = op->getName().getDialectNamespace();
  StringRef name = op->getName().getStringRef();
  if (dialect == "arith" || dialect == "math" || dialect == "index")
    return true;
  if (dialect == "scf")
    return name != "scf.forall" && name != "scf.forall.in_parallel";
  return name == "tensor.extract" || name == "tensor.dim";
}

/// Checks that every op of the (pure) score_mod or mask_mod `region` (called
/// `regionName`) can be lowered and computes in scalar types that the CPU
/// lowering supports.
static LogicalResult verifyScoreModLowerable(Region &region,
                                             StringRef regionName) {
  auto badType = [&](Operation *op, StringRef what, unsigned index, Type type) {
    return op->emitOpError()
           << what << " " << index << " has type " << type << ", which a "
           << regionName << " cannot compute in; allowed are index, "
              "signless integers of at most 64 bits, f16, bf16, f32 and f64";
  };
  WalkResult result = region.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<YieldOp>(op))
      return WalkResult::advance();
    if (!isScoreModOp(op)) {
      op->emitOpError()
          << "cannot be lowered in a " << regionName
          << "; allowed are the ops of the "
             "arith, math, index and scf dialects (not scf.forall), "
             "tensor.extract and tensor.dim";
      return WalkResult::interrupt();
    }
    for (auto [index, value] : llvm::enumerate(op->getResults()))
      if (!isScoreModScalar(value.getType())) {
        (void)badType(op, "result", index, value.getType());
        return WalkResult::interrupt();
      }
    for (Region &nested : op->getRegions())
      for (Block &block : nested)
        for (BlockArgument arg : block.getArguments())
          if (!isScoreModScalar(arg.getType())) {
            (void)badType(op, "block argument", arg.getArgNumber(),
                          arg.getType());
            return WalkResult::interrupt();
          }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Checks one of attn.sdpa's regions `name`: one block with the arguments
/// `args` (spelt `argsText` in the message), ending in attn.yield of one
/// `yielded` value, pure, and made of ops that lower.
static LogicalResult verifyModRegion(SdpaOp op, Region &region, StringRef name,
                                     ArrayRef<Type> args, StringRef argsText,
                                     Type yielded, StringRef yieldedText) {
  if (region.empty())
    return success();
  if (!region.hasOneBlock())
    return op.emitOpError() << "expects the " << name
                            << " region to have one block";
  Block &block = region.front();
  if (block.getArgumentTypes() != args) {
    std::string got;
    llvm::raw_string_ostream os(got);
    llvm::interleaveComma(block.getArgumentTypes(), os);
    return op.emitOpError() << "expects the " << name << " block arguments ("
                            << argsText << "), but got (" << got << ")";
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yielded)
    return op.emitOpError() << "expects the " << name
                            << " region to end in attn.yield of one "
                            << yieldedText << " value";
  WalkResult impure = region.walk([&](Operation *inner) {
    if (isa<YieldOp>(inner) || isMemoryEffectFree(inner))
      return WalkResult::advance();
    inner->emitOpError() << "is not pure; " << name
                         << " must be a pure function of its arguments";
    return WalkResult::interrupt();
  });
  if (impure.wasInterrupted())
    return failure();
  return verifyScoreModLowerable(region, name);
}

LogicalResult SdpaOp::verifyRegions() {
  Builder b(getContext());
  Type idx = b.getIndexType();
  if (failed(verifyModRegion(*this, getScoreMod(), "score_mod",
                             {b.getF32Type(), idx, idx, idx, idx},
                             "%s: f32, %b: index, %h: index, %i: index, %j: "
                             "index",
                             b.getF32Type(), "f32")))
    return failure();
  return verifyModRegion(*this, getMaskMod(), "mask_mod", {idx, idx, idx, idx},
                         "%b: index, %h: index, %i: index, %j: index",
                         b.getI1Type(), "i1");
}

//===----------------------------------------------------------------------===//
// attn.yield
//===----------------------------------------------------------------------===//

LogicalResult YieldOp::verify() { return verifyDefinedAttributes(*this); }

namespace {
/// Rewrites the pattern attribute of attn.sdpa into its canonical form.
struct SimplifySdpaPattern : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SdpaOp op,
                                PatternRewriter &rewriter) const override {
    PatternContext context;
    context.numQueries = op.getQuery().getType().getDimSize(2);
    context.numKeys = op.getKey().getType().getDimSize(2);
    context.defaultPositions = !op.getQueryPositions();
    PatternAttrInterface pattern = op.getPatternOrDense();
    PatternAttrInterface simple = simplifyPattern(pattern, context);
    bool explicitDense = op.getPatternAttr() && isa<DenseAttr>(simple);
    if (simple == pattern && !explicitDense)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (isa<DenseAttr>(simple))
        op.removePatternAttr();
      else
        op.setPatternAttr(simple);
    });
    return success();
  }
};

/// Drops document ids that are one and the same constant for every query
/// and key: they make every pair live.
struct DropUniformSegments : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SdpaOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getQuerySegments())
      return failure();
    DenseIntElementsAttr qseg, kseg;
    if (!matchPattern(op.getQuerySegments(), m_Constant(&qseg)) ||
        !matchPattern(op.getKeySegments(), m_Constant(&kseg)) ||
        !qseg.isSplat() || !kseg.isSplat() ||
        qseg.getSplatValue<APInt>().getSExtValue() !=
            kseg.getSplatValue<APInt>().getSExtValue())
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.getQuerySegmentsMutable().clear();
      op.getKeySegmentsMutable().clear();
    });
    return success();
  }
};

/// Drops a mask_mod that yields the constant true: it makes no pair dead.
struct DropTrueMaskMod : OpRewritePattern<SdpaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SdpaOp op,
                                PatternRewriter &rewriter) const override {
    Region &region = op.getMaskMod();
    if (region.empty())
      return failure();
    Value yielded = region.front().getTerminator()->getOperand(0);
    if (!matchPattern(yielded, m_One()))
      return failure();
    rewriter.modifyOpInPlace(op, [&] { rewriter.eraseBlock(&region.front()); });
    return success();
  }
};
} // namespace

void SdpaOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<SimplifySdpaPattern, DropUniformSegments, DropTrueMaskMod>(
      context);
}
