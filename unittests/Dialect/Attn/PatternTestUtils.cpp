//===- PatternTestUtils.cpp - Sample patterns and an IR evaluator ---------===//
#include "PatternTestUtils.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::testing;

std::unique_ptr<MLIRContext> testing::makeContext() {
  auto ctx = std::make_unique<MLIRContext>();
  ctx->loadDialect<AttnDialect, func::FuncDialect>();
  return ctx;
}

std::string testing::show(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << attr;
  return text;
}

/// Appends the TypeID of `AttrT` when it implements PatternAttrInterface.
template <typename... AttrTs>
static std::vector<TypeID> patternTypeIds(MLIRContext *ctx) {
  std::vector<TypeID> ids;
  auto add = [&](TypeID id) {
    if (AbstractAttribute::lookup(id, ctx).hasInterface(
            PatternAttrInterface::getInterfaceID()))
      ids.push_back(id);
  };
  (add(TypeID::get<AttrTs>()), ...);
  return ids;
}

std::vector<TypeID> testing::registeredPatternTypeIds(MLIRContext *ctx) {
  return patternTypeIds<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >(ctx);
}

std::vector<PatternAttrInterface> testing::samplePatterns(MLIRContext *ctx) {
  auto layout = [&](int64_t rows, int64_t cols, std::vector<bool> bits) {
    auto type = RankedTensorType::get({rows, cols}, IntegerType::get(ctx, 1));
    SmallVector<bool> data(bits.begin(), bits.end());
    return DenseIntElementsAttr::get(type, ArrayRef<bool>(data));
  };
  PatternAttrInterface window = WindowAttr::get(ctx, 2, 1);
  PatternAttrInterface causal = CausalAttr::get(ctx, 0, false);
  PatternAttrInterface strided = StridedAttr::get(ctx, 3);
  PatternAttrInterface global = GlobalAttr::get(ctx, {5}, 1);
  std::vector<PatternAttrInterface> patterns = {
      DenseAttr::get(ctx),
      causal,
      CausalAttr::get(ctx, 2, false),
      CausalAttr::get(ctx, -1, false),
      CausalAttr::get(ctx, 0, true),
      CausalAttr::get(ctx, -2, true),
      window,
      WindowAttr::get(ctx, 0, 0),
      WindowAttr::get(ctx, -1, 3),
      WindowAttr::get(ctx, 4, -2),
      DilatedAttr::get(ctx, 2, 1, 2),
      DilatedAttr::get(ctx, 1, 1, 3),
      DilatedAttr::get(ctx, 3, 0, 1),
      BlockLocalAttr::get(ctx, 1),
      BlockLocalAttr::get(ctx, 3),
      strided,
      StridedAttr::get(ctx, 1),
      FixedAttr::get(ctx, 4, 1),
      FixedAttr::get(ctx, 3, 0),
      FixedAttr::get(ctx, 3, 3),
      FixedAttr::get(ctx, 5, 2),
      global,
      GlobalAttr::get(ctx, {}, 0),
      GlobalAttr::get(ctx, {-1, 2, 2, 7}, 0),
      RandomAttr::get(ctx, 2, 1, 42),
      RandomAttr::get(ctx, 3, 2, -7),
      RandomAttr::get(ctx, 1, 3, 0),
      RandomAttr::get(ctx, 2, 0, 5),
      RandomAttr::get(ctx, 4, 9, 1),
      AxialAttr::get(ctx, 3, 3),
      AxialAttr::get(ctx, 1, 5),
      AxialAttr::get(ctx, 4, 1),
      AxialAttr::get(ctx, 2, 4),
      SinkAttr::get(ctx, {}, 2),
      SinkAttr::get(ctx, {-1, 4, 4, 6}, 0),
      SinkAttr::get(ctx, {3}, 1),
      SinkAttr::get(ctx, {}, 0),
      NeighborhoodAttr::get(ctx, {7}, {3}),
      NeighborhoodAttr::get(ctx, {6}, {2}),
      NeighborhoodAttr::get(ctx, {3, 3}, {1, 3}),
      NeighborhoodAttr::get(ctx, {2, 4}, {1, 2}),
      NeighborhoodAttr::get(ctx, {3, 2}, {3, 1}),
      NeighborhoodAttr::get(ctx, {2, 2, 2}, {1, 2, 1}),
      NeighborhoodAttr::get(ctx, {1, 5}, {1, 3}),
      BlockSparseAttr::get(ctx, {2, 3}, layout(3, 2, {1, 0, 0, 1, 1, 1})),
      BlockSparseAttr::get(ctx, {1, 2}, layout(2, 2, {0, 1, 1, 0})),
      BlockSparseAttr::get(ctx, {3, 3}, layout(1, 1, {1})),
      UnionAttr::get(ctx, {window, global}),
      UnionAttr::get(ctx, {causal, strided}),
      UnionAttr::get(ctx, {causal, SinkAttr::get(ctx, {}, 2)}),
      UnionAttr::get(ctx, {WindowAttr::get(ctx, 1, 0), SinkAttr::get(ctx, {}, 1),
                           SinkAttr::get(ctx, {5}, 0)}),
      UnionAttr::get(ctx,
                     {BlockLocalAttr::get(ctx, 4), FixedAttr::get(ctx, 4, 1)}),
      IntersectAttr::get(ctx, {causal, window}),
      IntersectAttr::get(ctx, {causal, strided}),
      IntersectAttr::get(
          ctx, {causal, UnionAttr::get(ctx, {BlockLocalAttr::get(ctx, 3),
                                             FixedAttr::get(ctx, 3, 1)})}),
      UnionAttr::get(ctx, {IntersectAttr::get(ctx, {window, strided}),
                           RandomAttr::get(ctx, 2, 1, 3)}),
  };
  return patterns;
}

//===----------------------------------------------------------------------===//
// BuiltPredicate
//===----------------------------------------------------------------------===//

struct BuiltPredicate::Impl {
  std::unique_ptr<MLIRContext> ctx;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
};

BuiltPredicate::BuiltPredicate(PatternAttrInterface pattern)
    : impl(std::make_unique<Impl>()) {
  MLIRContext *ctx = pattern.getContext();
  OpBuilder builder(ctx);
  Location loc = UnknownLoc::get(ctx);
  impl->module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(impl->module->getBody());
  Type i64 = builder.getI64Type();
  auto type =
      builder.getFunctionType({i64, i64, i64, i64}, {builder.getI1Type()});
  impl->func = func::FuncOp::create(builder, loc, "is_live", type);
  Block *body = impl->func.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  Value live = pattern.buildIsLive(builder, loc, body->getArgument(0),
                                   body->getArgument(1), body->getArgument(2),
                                   body->getArgument(3));
  func::ReturnOp::create(builder, loc, live);
}

BuiltPredicate::~BuiltPredicate() = default;

namespace {
/// Evaluates straight-line IR and scf.for by folding each op on constants.
class FoldingEvaluator {
public:
  /// Evaluates `block` with its arguments bound to `args`; returns the
  /// attributes of the terminator's operands.
  std::optional<SmallVector<Attribute>> run(Block &block,
                                            ArrayRef<Attribute> args) {
    for (auto [arg, value] : llvm::zip(block.getArguments(), args))
      env[arg] = value;
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        SmallVector<Attribute> results;
        for (Value v : op.getOperands())
          results.push_back(env.lookup(v));
        return results;
      }
      if (auto loop = dyn_cast<scf::ForOp>(&op)) {
        if (!runLoop(loop))
          return std::nullopt;
        continue;
      }
      SmallVector<Attribute> operands;
      for (Value v : op.getOperands())
        operands.push_back(env.lookup(v));
      SmallVector<OpFoldResult> folded;
      if (failed(op.fold(operands, folded)) ||
          folded.size() != op.getNumResults())
        return std::nullopt;
      for (auto [result, value] : llvm::zip(op.getResults(), folded)) {
        Attribute attr = llvm::dyn_cast_if_present<Attribute>(value);
        if (!attr)
          attr = env.lookup(llvm::cast<Value>(value));
        if (!attr)
          return std::nullopt;
        env[result] = attr;
      }
    }
    return std::nullopt;
  }

private:
  bool runLoop(scf::ForOp loop) {
    auto bound = [&](Value v) {
      return llvm::cast<IntegerAttr>(env.lookup(v)).getInt();
    };
    int64_t lb = bound(loop.getLowerBound()), ub = bound(loop.getUpperBound());
    int64_t step = bound(loop.getStep());
    SmallVector<Attribute> carried;
    for (Value v : loop.getInitArgs())
      carried.push_back(env.lookup(v));
    Type ivType = loop.getInductionVar().getType();
    for (int64_t iv = lb; iv < ub; iv += step) {
      SmallVector<Attribute> args = {IntegerAttr::get(ivType, iv)};
      args.append(carried);
      std::optional<SmallVector<Attribute>> next = run(*loop.getBody(), args);
      if (!next)
        return false;
      carried = *next;
    }
    for (auto [result, value] : llvm::zip(loop.getResults(), carried))
      env[result] = value;
    return true;
  }

  llvm::DenseMap<Value, Attribute> env;
};
} // namespace

std::optional<SmallVector<Attribute>>
testing::foldBlock(Block &block, ArrayRef<Attribute> args) {
  return FoldingEvaluator().run(block, args);
}

std::optional<bool> BuiltPredicate::evaluate(int64_t i, int64_t j,
                                             int64_t numQueries,
                                             int64_t numKeys) {
  Builder b(impl->func.getContext());
  SmallVector<Attribute> args = {b.getI64IntegerAttr(i), b.getI64IntegerAttr(j),
                                 b.getI64IntegerAttr(numQueries),
                                 b.getI64IntegerAttr(numKeys)};
  std::optional<SmallVector<Attribute>> results =
      FoldingEvaluator().run(impl->func.getBody().front(), args);
  if (!results || results->size() != 1)
    return std::nullopt;
  auto value = llvm::dyn_cast_if_present<IntegerAttr>(results->front());
  if (!value)
    return std::nullopt;
  return value.getValue().getBoolValue();
}
