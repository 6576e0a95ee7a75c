//===- IRMutations.cpp - Mutations of parsed attn IR and generic form -----===//

#include "IRMutations.h"
#include "FuzzSupport.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn_fuzz;
using llvm::StringRef;

/// Inputs above this size or bracket depth are left to the text mutations:
/// parsing them here costs time per mutation, and parsing a pattern nested
/// thousands deep may overflow the stack (a bug the target must find, not
/// the mutator).
static constexpr size_t kMaxParsedSize = 64 * 1024;
static constexpr int kMaxParsedDepth = 200;

/// The deepest nesting of brackets in `text`.
static int bracketDepth(StringRef text) {
  int depth = 0, deepest = 0;
  for (char c : text) {
    if (c == '<' || c == '[' || c == '(' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if (c == '>' || c == ']' || c == ')' || c == '}')
      --depth;
  }
  return deepest;
}

//===----------------------------------------------------------------------===//
// Attributes that do not exist
//===----------------------------------------------------------------------===//

/// The inherent attribute names of every attn op.
static const char *const kAttnAttrNames[] = {
    "pattern",    "scale",     "ramp",        "max_span",   "causal",
    "window",     "top_k",     "num_buckets", "chunk_size", "look_back",
    "look_ahead", "normalize", "feature_map"};

/// `name` misspelt: a character dropped, repeated or swapped, capitalized.
static std::string misspell(StringRef name, Random &random) {
  std::string word = name.str();
  if (word.empty())
    return "x";
  size_t at = random.below(word.size());
  switch (random.below(4)) {
  case 0:
    if (word.size() > 1) {
      word.erase(at, 1);
      break;
    }
    [[fallthrough]];
  case 1:
    word.insert(at, 1, word[at]);
    break;
  case 2:
    if (at + 1 < word.size()) {
      std::swap(word[at], word[at + 1]);
      break;
    }
    word += "_";
    break;
  default:
    word[0] = llvm::toUpper(word[0]);
    break;
  }
  return word;
}

/// A value for an attribute: unit, integers, floats, bools, strings, a
/// pattern.
static Attribute randomAttrValue(MLIRContext *ctx, Random &random) {
  Builder b(ctx);
  switch (random.below(7)) {
  case 0:
  case 1:
    return b.getUnitAttr();
  case 2:
    return b.getI64IntegerAttr(random.parameter());
  case 3:
    return b.getF32FloatAttr(random.pick({0.5f, 0.0f, -1.0f, 1e30f}));
  case 4:
    return b.getBoolAttr(random.oneIn(2));
  case 5:
    return b.getStringAttr("causal");
  default:
    return mlir::attn::CausalAttr::get(ctx, 0, false);
  }
}

/// Adds an attribute that the op does not define: a misspelling of one it
/// defines, another attn op's attribute, a made-up or a dialect-prefixed name.
static bool addAttribute(Operation *op, Random &random) {
  ArrayRef<StringAttr> inherent = op->getName().getAttributeNames();
  std::string name;
  for (int attempt = 0; attempt < 8; ++attempt) {
    switch (random.below(4)) {
    case 0:
      if (!inherent.empty()) {
        name = misspell(random.pick(inherent).getValue(), random);
        break;
      }
      [[fallthrough]];
    case 1:
      name = random.pick(kAttnAttrNames);
      break;
    case 2:
      name = random.pick({"foo", "causal_", "dense", "bias", "mask", "lse"});
      break;
    default:
      name = random.pick(
          {"attn.foo", "attn.causal", "llvm.noinline", "test.unknown"});
      break;
    }
    bool isInherent = llvm::any_of(
        inherent, [&](StringAttr attr) { return attr.getValue() == name; });
    if (!isInherent && !name.empty())
      break;
    name.clear();
  }
  if (name.empty())
    return false;
  op->setDiscardableAttr(name, randomAttrValue(op->getContext(), random));
  return true;
}

//===----------------------------------------------------------------------===//
// score_mod bodies
//===----------------------------------------------------------------------===//

/// A float constant, at the edges sometimes.
static Value floatConstant(OpBuilder &b, Location loc, Random &random) {
  float value = random.pick({0.5f, 2.0f, -1.0f, 0.0f, -0.0f,
                             std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(), 1e30f});
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// Creates the op `name` on `operands` with one f32 result.
static Value createF32Op(OpBuilder &b, Location loc, StringRef name,
                         ValueRange operands) {
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addTypes(b.getF32Type());
  return b.create(state)->getResult(0);
}

/// A comparison of two of the index arguments.
static Value indexCondition(OpBuilder &b, Location loc, Block &block,
                            Random &random) {
  Value lhs = block.getArgument(1 + random.below(4));
  Value rhs = block.getArgument(1 + random.below(4));
  auto predicate = static_cast<arith::CmpIPredicate>(random.below(10));
  return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
}

/// Builds one computation on the score `s` before the terminator and returns
/// the new score: a unary or binary math / arith op, index arithmetic, a
/// select, scf.if, scf.for, scf.execute_region, a tensor round trip.
static Value buildScoreStep(OpBuilder &b, Location loc, Block &block, Value s,
                            Random &random) {
  static const char *const unary[] = {
      "math.erf",   "math.erfc",  "math.tanh",  "math.exp",   "math.log",
      "math.sqrt",  "math.rsqrt", "math.absf",  "math.cbrt",  "math.acosh",
      "math.asinh", "math.atanh", "math.sin",   "math.floor", "math.round",
      "math.exp2",  "math.log1p", "math.expm1", "math.tan",   "arith.negf"};
  static const char *const binary[] = {
      "arith.addf", "arith.mulf",     "arith.subf",    "arith.divf",
      "arith.remf", "arith.maximumf", "arith.minnumf", "math.powf",
      "math.atan2", "math.copysign"};
  Type f32 = b.getF32Type();
  switch (random.below(9)) {
  case 0:
  case 1:
    return createF32Op(b, loc, random.pick(unary), s);
  case 2:
    return createF32Op(
        b, loc, random.pick(binary),
        {s, random.oneIn(3) ? s : floatConstant(b, loc, random)});
  case 3: { // s + float(i - j)
    Value d = arith::SubIOp::create(b, loc, block.getArgument(3),
                                    block.getArgument(4));
    Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), d);
    Value f = arith::SIToFPOp::create(b, loc, f32, i64);
    return arith::AddFOp::create(b, loc, s, f);
  }
  case 4:
    return arith::SelectOp::create(b, loc,
                                   indexCondition(b, loc, block, random), s,
                                   floatConstant(b, loc, random));
  case 5: {
    Value cond = indexCondition(b, loc, block, random);
    auto ifOp = scf::IfOp::create(
        b, loc, cond,
        [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, s); },
        [&](OpBuilder &nb, Location l) {
          scf::YieldOp::create(nb, l, floatConstant(nb, l, random));
        });
    return ifOp.getResult(0);
  }
  case 6: {
    Value lb = arith::ConstantIndexOp::create(b, loc, 0);
    Value ub = block.getArgument(3);
    if (random.oneIn(2))
      ub = arith::ConstantIndexOp::create(b, loc, random.inRange(0, 3));
    Value step = arith::ConstantIndexOp::create(b, loc, 1);
    Value c = floatConstant(b, loc, random);
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, step, ValueRange{s},
        [&](OpBuilder &nb, Location l, Value, ValueRange args) {
          Value next = arith::AddFOp::create(nb, l, args[0], c);
          scf::YieldOp::create(nb, l, next);
        });
    return forOp.getResult(0);
  }
  case 7: {
    auto region = scf::ExecuteRegionOp::create(b, loc, TypeRange{f32});
    Block *body = b.createBlock(&region.getRegion(), region.getRegion().end());
    OpBuilder nb = OpBuilder::atBlockEnd(body);
    scf::YieldOp::create(nb, loc, s);
    b.setInsertionPointAfter(region);
    return region.getResult(0);
  }
  default: {
    Value t = tensor::FromElementsOp::create(b, loc, ValueRange{s});
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    return tensor::ExtractOp::create(b, loc, t, ValueRange{zero});
  }
  }
}

/// Adds a score_mod to an attn.sdpa without one (yielding the score), or a
/// step before the attn.yield of an existing one.
static bool extendScoreMod(attn::SdpaOp op, Random &random) {
  MLIRContext *ctx = op.getContext();
  OpBuilder b(ctx);
  Location loc = op.getLoc();
  Region &region = op.getScoreMod();
  if (region.empty()) {
    Type index = b.getIndexType();
    SmallVector<Type> types = {b.getF32Type(), index, index, index, index};
    SmallVector<Location> locs(types.size(), loc);
    Block *block = b.createBlock(&region, region.end(), types, locs);
    attn::YieldOp::create(b, loc, block->getArgument(0));
    if (random.oneIn(2))
      return true;
  }
  if (!region.hasOneBlock())
    return false;
  Block &block = region.front();
  auto yield = block.empty() ? nullptr : dyn_cast<attn::YieldOp>(block.back());
  if (!yield || yield->getNumOperands() != 1 ||
      !yield->getOperand(0).getType().isF32() || block.getNumArguments() != 5 ||
      llvm::any_of(block.getArguments().drop_front(),
                   [](BlockArgument arg) { return !arg.getType().isIndex(); }))
    return false;
  b.setInsertionPoint(yield);
  Value s = yield->getOperand(0);
  Value next = buildScoreStep(b, loc, block, s, random);
  yield->setOperand(0, next);
  return true;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

std::optional<std::string>
attn_fuzz::mutateParsedIR(StringRef text, Random &random, size_t maxSize,
                          std::optional<IRMutation> mutation) {
  if (text.size() > kMaxParsedSize || bracketDepth(text) > kMaxParsedDepth ||
      hitsKnownUpstreamCrash(text))
    return std::nullopt;
  MLIRContext context(getRegistry(), MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module =
      parseInput(text, context, /*verify=*/false, "mutator-input");
  if (!module)
    return std::nullopt;
  context.loadDialect<arith::ArithDialect, math::MathDialect, scf::SCFDialect,
                      tensor::TensorDialect>();

  SmallVector<Operation *> attnOps;
  SmallVector<attn::SdpaOp> sdpaOps;
  (*module)->walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "attn")
      attnOps.push_back(op);
    if (auto sdpa = dyn_cast<attn::SdpaOp>(op))
      sdpaOps.push_back(sdpa);
  });

  // The generic form when asked for, and always for inputs written in it: the
  // custom printers assume verified IR, which such inputs may not be.
  bool generic = text.contains("\"(") || random.oneIn(4);
  bool changed = false;
  switch (mutation ? *mutation : IRMutation(random.below(3))) {
  case IRMutation::Attribute:
    if (!attnOps.empty())
      changed =
          addAttribute(random.pick(ArrayRef<Operation *>(attnOps)), random);
    break;
  case IRMutation::ScoreMod:
    if (!sdpaOps.empty())
      changed =
          extendScoreMod(random.pick(ArrayRef<attn::SdpaOp>(sdpaOps)), random);
    break;
  case IRMutation::Generic: // Only the form (and maybe its segment sizes).
    changed = true;
    generic = true;
    break;
  }
  if (!changed)
    return std::nullopt;

  std::string printed;
  llvm::raw_string_ostream os(printed);
  OpPrintingFlags flags;
  flags.assumeVerified(); // Verifying here could crash on the inputs we seek.
  if (generic)
    flags.printGenericOpForm();
  module->print(os, flags);
  if (generic && (text.contains("\"(") || random.oneIn(2)))
    if (std::optional<std::string> segments =
            mutateSegmentSizes(printed, random))
      printed = std::move(*segments);
  if (printed.size() > maxSize)
    return std::nullopt;
  return printed;
}

std::optional<std::string> attn_fuzz::mutateSegmentSizes(StringRef text,
                                                         Random &random) {
  SmallVector<size_t> sites;
  for (StringRef key :
       {"operandSegmentSizes = array<i32", "resultSegmentSizes = array<i32"})
    for (size_t pos = text.find(key); pos != StringRef::npos;
         pos = text.find(key, pos + 1))
      sites.push_back(pos + key.size());
  if (sites.empty())
    return std::nullopt;
  size_t begin = random.pick(ArrayRef<size_t>(sites));
  size_t end = text.find('>', begin);
  if (end == StringRef::npos)
    return std::nullopt;
  SmallVector<int64_t> sizes;
  StringRef list = text.slice(begin, end).ltrim(": ");
  SmallVector<StringRef> items;
  list.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    int64_t value;
    if (item.trim().getAsInteger(10, value))
      return std::nullopt;
    sizes.push_back(value);
  }
  if (sizes.empty())
    return std::nullopt;

  size_t i = random.below(sizes.size()), j = random.below(sizes.size());
  switch (random.below(4)) {
  case 0: // Move one value from segment j to segment i (the sum holds).
    if (i == j || sizes[j] < 1)
      return std::nullopt;
    --sizes[j];
    ++sizes[i];
    break;
  case 1: { // A mandatory operand (one of the first four) gets 0 or 2.
    i = random.below(std::min<size_t>(4, sizes.size()));
    int64_t value = random.oneIn(2) ? 0 : 2;
    int64_t delta = value - sizes[i];
    sizes[i] = value;
    if (i != j && sizes[j] - delta >= 0)
      sizes[j] -= delta;
    break;
  }
  case 2:
    sizes[i] = random.pick({int64_t(-1), int64_t(0), int64_t(2), int64_t(3),
                            int64_t(100), int64_t(2147483647)});
    break;
  default:
    if (random.oneIn(2))
      sizes.pop_back();
    else
      sizes.push_back(random.below(2));
    break;
  }
  std::string out = text.take_front(begin).str();
  out += ": ";
  for (auto [index, value] : llvm::enumerate(sizes)) {
    if (index)
      out += ", ";
    out += std::to_string(value);
  }
  if (sizes.empty())
    out.resize(out.size() - 2); // `array<i32>`
  out += text.drop_front(end);
  return out;
}
