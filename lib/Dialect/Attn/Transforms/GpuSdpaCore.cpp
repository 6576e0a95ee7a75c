//===- GpuSdpaCore.cpp - attn.sdpa on the Hopper flash core ---------------===//
//
// `attn-gpu-sdpa-core`: every attn.sdpa that the core takes becomes a
// gpu.launch_func of a TMA + wgmma kernel (GpuCoreKernel.cpp writes its
// body) in `gpu.module @attn_gpu`. The pattern enters the kernel through
// three small functions built here from `PatternAttrInterface`: the number
// of key tiles a query tile visits, the j-th of them with its BlockKind, and
// the predicate for Partial tiles. The inliner folds them into the kernel.
//
//===----------------------------------------------------------------------===//
#include "GpuCoreKernel.h"
#include "GpuLaunchUtils.h"
#include "GpuRandomLists.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/RegionUtils.h"

#include <cmath>

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNGPUSDPACORE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The ops that merge an sdpa's rows into the rounds' accumulators.
struct MergeOps {
  linalg::GenericOp o, lse;
  /// Reshapes of the results that only the two read (erased with them).
  SmallVector<Operation *> views;
};

/// Returns why the core cannot take `op`, or an empty string.
std::string unsupportedReason(SdpaOp op) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto kType = cast<RankedTensorType>(op.getKey().getType());
  auto vType = cast<RankedTensorType>(op.getValue().getType());
  Type elt = qType.getElementType();
  if (!elt.isBF16() && !elt.isF16())
    return "element type must be bf16 or f16 (f32 and f64 go through "
           "attn-tile)";
  if (kType.getElementType() != elt || vType.getElementType() != elt)
    return "q, k and v must have the same element type";
  if (qType.getRank() != 4)
    return "q, k and v must be [B, H, N, D]";
  int64_t d = qType.getDimSize(3);
  if (d != 64 && d != 128)
    return "head dim must be 64 or 128 (other head dims: the general path)";
  if (kType.getDimSize(3) != d || vType.getDimSize(3) != d)
    return "k and v must have the head dim of q";
  if (Value mk = op.getMemoryKey()) {
    auto mkType = cast<RankedTensorType>(mk.getType());
    auto mvType = cast<RankedTensorType>(op.getMemoryValue().getType());
    if (mkType.getElementType() != elt || mvType.getElementType() != elt)
      return "memory keys and values must have the element type of q";
  }
  if (Value mask = op.getMask())
    if (cast<RankedTensorType>(mask.getType()).getRank() > 4)
      return "mask must have rank 0 to 4";
  if (Value bias = op.getBias()) {
    auto type = cast<RankedTensorType>(bias.getType());
    if (type.getRank() > 4)
      return "bias must have rank 0 to 4";
    Type e = type.getElementType();
    if (!e.isF32() && !e.isF16() && !e.isBF16() && !e.isF64())
      return "bias must be f16, bf16, f32 or f64";
  }
  if (Value qpos = op.getQueryPositions()) {
    auto qt = cast<RankedTensorType>(qpos.getType());
    auto kt = cast<RankedTensorType>(op.getKeyPositions().getType());
    if (qt.getElementType() != kt.getElementType())
      return "query and key positions must have the same element type";
    if (!qt.getElementType().isInteger(32) &&
        !qt.getElementType().isInteger(64))
      return "positions must be i32 or i64";
  }
  if (!op.getMaskMod().empty())
    return "mask_mod (the general path)";
  if (op.getKvNumBlocks())
    return "block layout (blocks: the general path)";
  if (!op.getScoreMod().empty()) {
    // The region becomes a function of the GPU module: it may use constants
    // from outside, nothing else.
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(op.getScoreMod(), above);
    for (Value v : above)
      if (!v.getDefiningOp() ||
          !v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>())
        return "score_mod that reads values from outside its region (other "
               "than constants)";
  }
  if (auto lse = op.getLse())
    if (!cast<RankedTensorType>(lse.getType()).getElementType().isF32())
      return "lse must be f32";
  return "";
}

/// The `persistent` value of a persistent kernel launched with every work
/// tile its own CTA (at least as many CTAs as any grid has work tiles).
static constexpr int64_t kAllWorkTiles = int64_t(1) << 40;

/// `op`'s pattern as a diagonal band `lo <= j - i <= hi` (dense, causal, a
/// window), if it is one, at the op's static lengths and key positions j.
static std::optional<DiagonalBand> patternBand(SdpaOp op) {
  PatternContext context;
  context.numQueries =
      cast<RankedTensorType>(op.getQuery().getType()).getDimSize(2);
  context.numKeys = cast<RankedTensorType>(op.getKey().getType()).getDimSize(2);
  context.defaultPositions = true;
  return op.getPatternOrDense().getBand(context);
}

/// The key tile of `op` for kv-tile=0, from the H200 measurements of
/// docs/GPU.md ("Tile shapes by head dim"): 128 for a pattern that is a
/// band of earlier keys (`j - i <= 0`: causal, a causal window) at head dim
/// 64 with 128-row query tiles and no other operand (the S accumulator then
/// fits next to O under the two-CTA register cap without spills), 64
/// otherwise and with `overlap`.
static int64_t automaticKvTile(SdpaOp op, int64_t qTile, bool overlap) {
  // With overlap two score tiles are live at once: 128-key tiles spill at
  // head dim 64 (255 registers and 300 bytes, one CTA per multiprocessor).
  if (overlap)
    return 64;
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  bool plain = !op.getQueryPositions() && !op.getMask() && !op.getBias() &&
               op.getScoreMod().empty() && !op.getSpan() &&
               !op.getMemoryKey() && !op.getLse() && !op.getQuerySegments();
  if (qType.getDimSize(3) != 64 || qTile != 128 || !plain)
    return 64;
  std::optional<DiagonalBand> band = patternBand(op);
  return band && band->hi && *band->hi <= 0 ? 128 : 64;
}

/// Whether `op` gets the warp-specialised kernel under `warp-specialize`
/// (docs/GPU.md, "Warp specialisation"; with `overlap` its consumers run the
/// overlapped loop): 128-row query tiles, a pattern whose key tiles are one
/// interval (dense, causal, windows) with no random lists, and no operand but
/// the optional lse. Every other op keeps the plain kernel.
static bool warpSpecializable(SdpaOp op, int64_t qTile, bool hasLists) {
  bool plain = !op.getQueryPositions() && !op.getMask() && !op.getBias() &&
               op.getScoreMod().empty() && !op.getSpan() &&
               !op.getMemoryKey() && !op.getQuerySegments();
  return qTile == 128 && !hasLists && plain && patternBand(op).has_value();
}

/// Builds the three pattern helpers of kernel `name` at the end of `module`.
class PatternHelpers {
public:
  /// `lists`: the pattern's random lists (the helpers then take their
  /// facts as trailing i64 arguments; see buildFacts).
  PatternHelpers(OpBuilder &b, Location loc, PatternAttrInterface pattern,
                 int64_t kvTile, std::optional<gpu_core::RandomLists> lists)
      : b(b), loc(loc), pattern(pattern), kvTile(kvTile),
        lists(std::move(lists)), home(b.getInsertionBlock()) {}

  /// With positions: every key tile is visited (`_tile` says Partial) and
  /// `@<name>_classify(qFirst, qLast, kFirst, kLast, nq, nk) -> i8`
  /// classifies it from position ranges.
  void buildForPositions(StringRef name) {
    Type i64 = b.getI64Type(), idx = b.getIndexType();
    {
      func::FuncOp f =
          makeFunc(name.str() + "_tiles", {i64, i64, i64, i64}, {idx});
      Value n = arith::CeilDivUIOp::create(b, loc, toIndex(f.getArgument(3)),
                                           index(kvTile));
      func::ReturnOp::create(b, loc, n);
    }
    {
      func::FuncOp f = makeFunc(name.str() + "_tile", {idx, i64, i64, i64, i64},
                                {idx, b.getI8Type()});
      func::ReturnOp::create(
          b, loc,
          ValueRange{f.getArgument(0),
                     arith::ConstantIntOp::create(
                         b, loc, b.getI8Type(),
                         static_cast<int64_t>(BlockKind::Partial))});
    }
    {
      func::FuncOp f =
          makeFunc(name.str() + "_classify", {i64, i64, i64, i64, i64, i64},
                   {b.getI8Type()});
      ValueRange a = f.getArguments();
      func::ReturnOp::create(
          b, loc,
          pattern.buildClassify(b, loc, a[0], a[1], a[2], a[3], a[4], a[5]));
    }
    buildLive(name);
  }

  /// `@<name>_mod(s : f32, b, h, i, j : index) -> f32`: the score_mod
  /// region, cloned with the constants it uses from outside.
  void buildScoreMod(StringRef name, Region &region) {
    Type idx = b.getIndexType(), f32 = b.getF32Type();
    func::FuncOp f =
        makeFunc(name.str() + "_mod", {f32, idx, idx, idx, idx}, {f32});
    Block &block = region.front();
    IRMapping mapping;
    for (unsigned i = 0; i < 5; ++i)
      mapping.map(block.getArgument(i), f.getArgument(i));
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(region, above);
    for (Value v : above)
      mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    for (Operation &inner : block.without_terminator())
      b.clone(inner, mapping);
    func::ReturnOp::create(
        b, loc, mapping.lookupOrDefault(block.getTerminator()->getOperand(0)));
  }

  void build(StringRef name) {
    Type i64 = b.getI64Type(), idx = b.getIndexType(), i1 = b.getI1Type();
    int64_t numFacts = lists ? lists->getNumFacts() : 0;
    SmallVector<Type> factTypes(numFacts, i64);
    auto withFacts = [&](SmallVector<Type> types) {
      llvm::append_range(types, factTypes);
      return types;
    };
    // @<name>_tiles(qFirst, qLast, nq, nk, facts...) -> index
    {
      func::FuncOp f = makeFunc(name.str() + "_tiles",
                                withFacts({i64, i64, i64, i64}), {idx});
      ValueRange a = f.getArguments();
      facts = a.drop_front(4);
      Value total = index(0);
      for (auto &range : ranges(a[0], a[1], a[2], a[3]))
        total = arith::AddIOp::create(b, loc, total, range.second);
      func::ReturnOp::create(b, loc, total);
    }
    // @<name>_tile(j, qFirst, qLast, nq, nk, facts...) -> (index, i8)
    {
      func::FuncOp f =
          makeFunc(name.str() + "_tile", withFacts({idx, i64, i64, i64, i64}),
                   {idx, b.getI8Type()});
      ValueRange a = f.getArguments();
      facts = a.drop_front(5);
      Value j = a[0];
      auto rs = ranges(a[1], a[2], a[3], a[4]);
      size_t n = rs.size();
      SmallVector<Value> prefix = {index(0)};
      for (auto &r : rs)
        prefix.push_back(
            arith::AddIOp::create(b, loc, prefix.back(), r.second));
      // The tile of iteration j: ranges are laid end to end.
      Value tile = arith::AddIOp::create(
          b, loc, rs[n - 1].first,
          arith::SubIOp::create(b, loc, j, prefix[n - 1]));
      for (size_t r = n - 1; r-- > 0;) {
        Value inR = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j,
                                          prefix[r + 1]);
        Value t = arith::AddIOp::create(
            b, loc, rs[r].first, arith::SubIOp::create(b, loc, j, prefix[r]));
        tile = arith::SelectOp::create(b, loc, inR, t, tile);
      }
      // A tile that an earlier range already holds is Empty here.
      Value seen = arith::ConstantIntOp::create(b, loc, i1, 0);
      for (size_t r = 0; r + 1 < n; ++r) {
        Value later = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                            j, prefix[r + 1]);
        Value end = arith::AddIOp::create(b, loc, rs[r].first, rs[r].second);
        Value inside = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, tile,
                                  rs[r].first),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tile,
                                  end));
        seen = arith::OrIOp::create(
            b, loc, seen, arith::AndIOp::create(b, loc, later, inside));
      }
      Value tile64 = arith::IndexCastOp::create(b, loc, i64, tile);
      Value keyFirst = arith::MulIOp::create(b, loc, tile64, cst(kvTile));
      Value keyLast = arith::MinSIOp::create(
          b, loc, arith::AddIOp::create(b, loc, keyFirst, cst(kvTile - 1)),
          arith::SubIOp::create(b, loc, a[4], cst(1)));
      Value kind = lists ? lists->buildClassify(b, loc, facts, a[1], a[2],
                                                keyFirst, keyLast, a[3], a[4])
                         : pattern.buildClassify(b, loc, a[1], a[2], keyFirst,
                                                 keyLast, a[3], a[4]);
      kind = arith::SelectOp::create(
          b, loc, seen, arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0),
          kind);
      func::ReturnOp::create(b, loc, ValueRange{tile, kind});
    }
    buildLive(name);
  }

private:
  /// @<name>_live(i, j, nq, nk) -> i1, with random lists
  /// @<name>_live(i, j, nq, nk, first key of j's tile, facts...) -> i1
  void buildLive(StringRef name) {
    Type i64 = b.getI64Type();
    SmallVector<Type> types(4 + (lists ? 1 + lists->getNumFacts() : 0), i64);
    func::FuncOp f = makeFunc(name.str() + "_live", types, {b.getI1Type()});
    ValueRange a = f.getArguments();
    Value live =
        lists ? lists->buildIsLive(b, loc, a.drop_front(5), a[4], a[0], a[1],
                                   a[2], a[3])
              : pattern.buildIsLive(b, loc, a[0], a[1], a[2], a[3]);
    func::ReturnOp::create(b, loc, live);
  }

  func::FuncOp makeFunc(const std::string &name, ArrayRef<Type> args,
                        ArrayRef<Type> results) {
    b.setInsertionPointToEnd(home);
    auto f =
        func::FuncOp::create(b, loc, name, b.getFunctionType(args, results));
    f.setPrivate();
    Block *body = f.addEntryBlock();
    b.setInsertionPointToStart(body);
    return f;
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value cst(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  /// (first tile, number of tiles) per key interval of the query rows
  /// [qFirst, qLast]; key position j is row j.
  SmallVector<std::pair<Value, Value>> ranges(Value qFirst, Value qLast,
                                              Value nq, Value nk) {
    // Keep the caller's insertion point: helpers are built at its end.
    SmallVector<std::pair<Value, Value>> out;
    Value size = cst(kvTile);
    auto intervals =
        lists ? lists->buildKeyIntervals(b, loc, facts, qFirst, qLast, nq, nk)
              : pattern.buildKeyIntervals(b, loc, qFirst, qLast, nq, nk);
    for (auto [first, last] : intervals) {
      Value lo = arith::MaxSIOp::create(b, loc, first, cst(0));
      Value hi = arith::MinSIOp::create(
          b, loc, last, arith::SubIOp::create(b, loc, nk, cst(1)));
      Value nonEmpty =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, lo, hi);
      Value begin = arith::DivSIOp::create(b, loc, lo, size);
      Value end = arith::AddIOp::create(
          b, loc, arith::DivSIOp::create(b, loc, hi, size), cst(1));
      Value count = arith::SelectOp::create(
          b, loc, nonEmpty, arith::SubIOp::create(b, loc, end, begin), cst(0));
      begin = arith::SelectOp::create(b, loc, nonEmpty, begin, cst(0));
      out.push_back({toIndex(begin), toIndex(count)});
    }
    if (out.empty())
      out.push_back({index(0), index(0)});
    return out;
  }

  OpBuilder &b;
  Location loc;
  PatternAttrInterface pattern;
  int64_t kvTile;
  std::optional<gpu_core::RandomLists> lists;
  /// The random facts of the helper being built.
  ValueRange facts;
  /// The block the helpers go to (the gpu.module's body).
  Block *home;
};

struct AttnGpuSdpaCorePass
    : public attn::impl::AttnGpuSdpaCoreBase<AttnGpuSdpaCorePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (kvTile != 0 && kvTile != 64 && kvTile != 128) {
      module.emitError() << "attn-gpu-sdpa-core: kv-tile must be 64, 128 or "
                            "0 (by head dim and pattern), but got "
                         << int64_t(kvTile);
      return signalPassFailure();
    }
    if (qTile != 64 && qTile != 128) {
      module.emitError() << "attn-gpu-sdpa-core: q-tile must be 64 or 128, "
                            "but got "
                         << int64_t(qTile);
      return signalPassFailure();
    }
    SmallVector<SdpaOp> targets;
    bool failed = false;
    module.walk([&](SdpaOp op) {
      std::string reason = unsupportedReason(op);
      if (reason.empty()) {
        targets.push_back(op);
      } else if (!claim) {
        op.emitOpError() << "not yet on the Hopper core: " << reason;
        failed = true;
      }
    });
    if (failed)
      return signalPassFailure();
    for (SdpaOp op : targets)
      if (mlir::failed(rewrite(op)))
        return signalPassFailure();
  }

  gpu::GPUModuleOp getOrCreateGpuModule() {
    return getOrCreateAttnGpuModule(getOperation());
  }

  /// The ops that merge `op`'s rows into the accumulators
  /// (gpu_core::kMergeAttr "o" and "lse"; the lse one may be gone, unused
  /// after the last round), when the kernel can take their place: every use
  /// of op's results lies in them (through reshapes), the o accumulator is
  /// [B H', N, Dv] in f32 or the op's element type and the lse [B H', N]
  /// f32, their inputs are the previous accumulators (o: o in f32 and lse;
  /// lse: the same lse; none when `first`), defined before `op` like their
  /// inits, and op has the lse and i64 positions. Else none: they run as
  /// they are.
  static std::optional<MergeOps> findMerge(SdpaOp op, bool first) {
    if (!op.getLse() || !op.getQueryPositions() ||
        !cast<RankedTensorType>(op.getQueryPositions().getType())
             .getElementType()
             .isInteger(64))
      return std::nullopt;
    MergeOps ops;
    // The results' uses, through reshapes (collapse_shape) outside.
    SmallVector<Operation *> users;
    for (Value result : op->getResults())
      llvm::append_range(users, result.getUsers());
    while (!users.empty()) {
      Operation *user = users.pop_back_val();
      if (isa<tensor::CollapseShapeOp>(user) &&
          !user->getParentOfType<linalg::GenericOp>()) {
        ops.views.push_back(user);
        llvm::append_range(users, user->getUsers());
        continue;
      }
      {
        auto gen = user->getParentOfType<linalg::GenericOp>();
        auto kind = gen ? gen->getAttrOfType<StringAttr>(gpu_core::kMergeAttr)
                        : StringAttr();
        if (!kind)
          return std::nullopt;
        linalg::GenericOp &slot = kind.getValue() == "o" ? ops.o : ops.lse;
        if (slot && slot != gen)
          return std::nullopt;
        slot = gen;
      }
    }
    if (!ops.o || ops.o == ops.lse)
      return std::nullopt;
    auto before = [&](Value v) {
      if (auto arg = dyn_cast<BlockArgument>(v))
        return arg.getOwner()->findAncestorOpInBlock(*op) != nullptr;
      Operation *def = v.getDefiningOp();
      return def->getBlock() == op->getBlock() && def->isBeforeInBlock(op);
    };
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    Type f32 = Float32Type::get(op.getContext());
    auto oType = dyn_cast<RankedTensorType>(ops.o.getResult(0).getType());
    if (!oType || oType.getRank() != 3)
      return std::nullopt;
    auto lseType = RankedTensorType::get(oType.getShape().take_front(2), f32);
    for (auto [gen, rank] : {std::make_pair(ops.o, 3), std::make_pair(ops.lse, 2)}) {
      if (!gen)
        continue;
      auto type = dyn_cast<RankedTensorType>(gen.getResult(0).getType());
      // The o accumulator in f32 (read by a later round) or the op's type.
      if (gen.getNumResults() != 1 || !type || type.getRank() != rank ||
          (type.getElementType() != f32 &&
           (rank == 2 || type.getElementType() != qType.getElementType())) ||
          (rank == 2 && type != lseType) ||
          gen.getNumDpsInputs() != (first ? 0 : rank == 3 ? 2 : 1) ||
          !before(gen.getDpsInits()[0]) ||
          (rank == 3 && type.getDimSize(2) != qType.getDimSize(3)))
        return std::nullopt;
    }
    // The previous accumulators: o (f32) and lse, inputs of the o op (and
    // the lse one of the lse op).
    if (!first) {
      ValueRange prev = ops.o.getDpsInputs();
      if ((prev[0].getType() != oType.clone(f32) &&
           prev[0].getType() != oType.clone(qType.getElementType())) ||
          prev[1].getType() != lseType ||
          !before(prev[0]) || !before(prev[1]) ||
          (ops.lse && ops.lse.getDpsInputs()[0] != prev[1]))
        return std::nullopt;
    }
    return ops;
  }

  LogicalResult rewrite(SdpaOp op) {
    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    Type elt = qType.getElementType();
    int64_t d = qType.getDimSize(3);

    // The pass options, or the op's own (gpu_core::kCoreOptionsAttr).
    int64_t qTile = this->qTile, minBlocksPerSM = this->minBlocksPerSM;
    int64_t kvTile = this->kvTile;
    DenseI64ArrayAttr band;
    bool overlap = this->overlap;
    int64_t persistent = this->persistent;
    bool pairStores = this->pairStores;
    if (auto own = op->getAttrOfType<DictionaryAttr>(
            gpu_core::kCoreOptionsAttr)) {
      if (auto q = own.getAs<IntegerAttr>("q_tile"))
        qTile = q.getInt();
      if (auto kv = own.getAs<IntegerAttr>("kv_tile"))
        kvTile = kv.getInt();
      if (auto m = own.getAs<IntegerAttr>("min_blocks_per_sm"))
        minBlocksPerSM = m.getInt();
      if (auto o = own.getAs<BoolAttr>("overlap"))
        overlap = o.getValue();
      if (auto p = own.getAs<IntegerAttr>("persistent"))
        persistent = p.getInt();
      if (auto ps = own.getAs<BoolAttr>("pair_stores"))
        pairStores = ps.getValue();
      if ((qTile != 64 && qTile != 128) ||
          (kvTile != 0 && kvTile != 64 && kvTile != 128))
        return op.emitOpError()
               << gpu_core::kCoreOptionsAttr
               << ": q_tile must be 64 or 128 and kv_tile 0, 64 or 128, but "
                  "got "
               << qTile << " and " << kvTile;
      if (Attribute b = own.get("kv_band")) {
        band = dyn_cast<DenseI64ArrayAttr>(b);
        if (!band || band.size() != 3 || band[0] < 1 || band[1] < 0 ||
            band[1] >= band[2])
          return op.emitOpError()
                 << gpu_core::kCoreOptionsAttr
                 << ": kv_band must be array<i64: block, lo, hi> with block "
                    ">= 1 and 0 <= lo < hi, but got "
                 << b;
      }
    }
    // The rounds' merge (gpu_core::kMergeAttr): the two ops that merge the
    // results, or none (then the op is lowered as it is; they stay).
    DenseI64ArrayAttr mergeAttr;
    if (auto own = op->getAttrOfType<DictionaryAttr>(
            gpu_core::kCoreOptionsAttr))
      if (Attribute m = own.get("merge")) {
        mergeAttr = dyn_cast<DenseI64ArrayAttr>(m);
        if (!mergeAttr || mergeAttr.size() != 3 || mergeAttr[0] < 0 ||
            mergeAttr[0] > 1 || mergeAttr[1] < 0 || mergeAttr[1] > 62 ||
            mergeAttr[2] < 1)
          return op.emitOpError()
                 << gpu_core::kCoreOptionsAttr
                 << ": merge must be array<i64: first, tagBits, headChunks> "
                    "with first 0 or 1, 0 <= tagBits <= 62 and headChunks >= "
                    "1, but got "
                 << m;
      }
    std::optional<MergeOps> merge;
    if (mergeAttr)
      merge = findMerge(op, mergeAttr[0] == 1);
    if (kvTile == 0)
      kvTile = automaticKvTile(op, qTile, overlap);
    gpu_core::KernelConfig config;
    config.element = elt.isBF16() ? "bf16" : "f16";
    config.headDim = d;
    config.kvTile = kvTile;
    config.qTile = qTile;
    config.hasLse = static_cast<bool>(op.getLse());
    config.scaleLog2 = double(op.getScaleOrDefault()) * M_LOG2E;
    config.scale = double(op.getScaleOrDefault());
    auto typeName = [](Type t) -> std::string {
      std::string text;
      llvm::raw_string_ostream os(text);
      t.print(os);
      return text;
    };
    if (Value qpos = op.getQueryPositions())
      config.positions =
          typeName(cast<RankedTensorType>(qpos.getType()).getElementType());
    config.hasMask = static_cast<bool>(op.getMask());
    if (Value bias = op.getBias())
      config.bias =
          typeName(cast<RankedTensorType>(bias.getType()).getElementType());
    config.hasScoreMod = !op.getScoreMod().empty();
    config.hasMemory = static_cast<bool>(op.getMemoryKey());
    if (op.getSpan()) {
      config.hasSpan = true;
      config.ramp = op.getRampAttr().getValueAsDouble();
      config.maxSpan = op.getMaxSpanAttr().getValueAsDouble();
    }
    config.name = "sdpa_core_" + std::to_string(counter++);
    config.heavyFirst = heavyFirst;
    config.minBlocksPerSM = minBlocksPerSM;
    config.overlap = overlap;
    std::optional<gpu_core::RandomLists> lists;
    if (!op.getQueryPositions())
      lists = gpu_core::RandomLists::get(op.getPatternOrDense(), qTile, kvTile);
    config.numFacts = lists ? lists->getNumFacts() : 0;
    // persistent < 0 (the default): the persistent kernel with every work
    // tile its own CTA for a causal pattern (one round: the tile-major
    // order, measured on the H200 faster for causal at N 1k to 16k, D 64
    // and 128, and slower for dense; docs/GPU.md, "Persistent grid and
    // short sequences"), off otherwise.
    if (persistent < 0)
      persistent =
          isa<CausalAttr>(op.getPatternOrDense()) ? kAllWorkTiles : 0;
    // A persistent grid only where a work tile needs nothing but its index.
    config.persistent = persistent > 0 && !overlap && !config.hasMemory &&
                        config.positions.empty() && config.numFacts == 0 &&
                        !op.getQuerySegments();
    config.pairStores = pairStores;
    if (Value qseg = op.getQuerySegments()) {
      config.querySegments =
          typeName(cast<RankedTensorType>(qseg.getType()).getElementType());
      config.keySegments = typeName(
          cast<RankedTensorType>(op.getKeySegments().getType())
              .getElementType());
      // A band's live keys of a query range are one interval, so the j-th
      // key tile visited is the first one + j and the key loop can be
      // clipped to the rows of the query tile's documents.
      config.clipToDocuments =
          !lists && !op.getQueryPositions() && patternBand(op).has_value();
    }
    if (band) {
      // The band clips the key loop as the documents do: the pattern's key
      // tiles must be one interval (with positions: every tile).
      if (lists || (!op.getQueryPositions() && !patternBand(op)))
        return op.emitOpError()
               << gpu_core::kCoreOptionsAttr
               << ": kv_band needs a pattern whose key tiles are one "
                  "interval (dense, causal, windows, or positions)";
      config.bandBlock = band[0];
      config.bandLo = band[1];
      config.bandHi = band[2];
    }
    if (merge) {
      config.mergeHeadChunks = mergeAttr[2];
      config.mergeTagBits = mergeAttr[1];
      config.mergeFirst = mergeAttr[0] == 1;
      config.mergeF32 = cast<RankedTensorType>(merge->o.getResult(0).getType())
                            .getElementType()
                            .isF32();
      config.mergePrevF32 =
          config.mergeFirst ||
          cast<RankedTensorType>(merge->o.getDpsInputs()[0].getType())
              .getElementType()
              .isF32();
      config.mergePairs = config.pairStores;
      config.pairStores = false;
    }
    if (!merge && warpSpecialize &&
        warpSpecializable(op, qTile, lists.has_value())) {
      if (wsStages != 2 && wsStages != 3)
        return op.emitOpError() << "ws-stages must be 2 or 3, but got "
                                << static_cast<int64_t>(wsStages);
      // One CTA per multiprocessor: the registers are split by setmaxnreg.
      config.warpSpecialize = true;
      // The persistent work loop is not built into the warp-specialised
      // kernel.
      config.persistent = false;
      config.stages = wsStages;
      config.pingPong = wsPingPong;
      config.minBlocksPerSM = 1;
    } else if (minBlocksPerSM <= 0) {
      // Two CTAs per multiprocessor overlap one's softmax with the other's
      // products (measured on the H200: dense D=128 10.2 -> 8.7 ms); Hopper
      // has 228 KiB of shared memory per multiprocessor, 1 KiB of it
      // reserved per CTA. Not with operands: the cap makes them spill, and
      // they were not measured. Document ids with a clipped key loop (dense,
      // causal) are measured (docs/GPU.md, "Document ids"): two CTAs are
      // faster at D 64 and 128 (D 128 spills a few bytes).
      int64_t perCta = gpu_core::sharedMemoryBytes(config) + 1024;
      bool operands = !config.positions.empty() ||
                      (!config.querySegments.empty() &&
                       !config.clipToDocuments) ||
                      config.hasMask ||
                      !config.bias.empty() || config.hasScoreMod ||
                      config.hasSpan || config.hasMemory;
      // With overlap the two score tiles and the output accumulator do not
      // fit the two-CTA cap of 128 registers (D 128: 174 to 194 registers
      // with one CTA; two CTAs spill and ptxas serializes the products).
      config.minBlocksPerSM =
          !operands && !overlap && 2 * perCta <= 228 * 1024 ? 2 : 1;
    }

    // The kernel and its pattern helpers.
    gpu::GPUModuleOp gpuModule = getOrCreateGpuModule();
    std::string text = "gpu.module @tmp {\n" + gpu_core::writeKernel(config);
    if (!config.keySegments.empty())
      text += gpu_core::writeSortedKernel(config);
    text += "}\n";
    // Verified with its helpers, after the pass.
    ParserConfig parserConfig(ctx, /*verifyAfterParse=*/false);
    OwningOpRef<ModuleOp> parsed =
        parseSourceString<ModuleOp>(text, parserConfig, "attn-gpu-sdpa-core");
    if (!parsed)
      return op.emitOpError("attn-gpu-sdpa-core: internal error: the kernel "
                            "text does not parse");
    auto tmp = cast<gpu::GPUModuleOp>(parsed->getBody()->front());
    auto kernels = llvm::to_vector(tmp.getBody()->getOps<gpu::GPUFuncOp>());
    gpu::GPUFuncOp kernel = kernels.front();
    gpu::GPUFuncOp sortedKernel = kernels.size() > 1 ? kernels[1] : nullptr;
    for (gpu::GPUFuncOp k : kernels)
      k->moveBefore(gpuModule.getBody(), gpuModule.getBody()->end());
    {
      OpBuilder hb = OpBuilder::atBlockEnd(gpuModule.getBody());
      PatternHelpers helpers(hb, loc, op.getPatternOrDense(), kvTile, lists);
      if (op.getQueryPositions())
        helpers.buildForPositions(config.name);
      else
        helpers.build(config.name);
      if (config.hasScoreMod)
        helpers.buildScoreMod(config.name, op.getScoreMod());
    }
    if (lists)
      buildFacts(kernel, config.name, *lists);

    // Host side: tensor maps, output buffers, the launch.
    OpBuilder b(op);
    auto dim = [&](Value t, int64_t i) -> Value {
      return tensor::DimOp::create(b, loc, t, i);
    };
    auto cidx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    // The host ops that go into the launch helper (outlineLaunch).
    SmallVector<Operation *> launchOps;
    auto tensorMap = [&](Value tensor, int64_t rows) -> Value {
      auto tType = cast<RankedTensorType>(tensor.getType());
      auto mType = MemRefType::get(tType.getShape(), elt);
      Value mem = bufferization::ToBufferOp::create(b, loc, mType, tensor,
                                                    /*readOnly=*/true);
      // [B, H, N, D] as [B*H, N, D]; memory is [Hkv, M, D] already.
      Value flat = tType.getRank() == 3
                       ? mem
                       : memref::CollapseShapeOp::create(
                             b, loc, mem,
                             ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
      Value unranked =
          memref::CastOp::create(b, loc, UnrankedMemRefType::get(elt, 0), flat);
      auto box =
          MemRefType::get({1, rows, 64}, elt, MemRefLayoutAttrInterface(),
                          b.getI64IntegerAttr(3));
      auto mapType = nvgpu::TensorMapDescriptorType::get(
          ctx, box, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
          nvgpu::TensorMapL2PromoKind::L2PROMO_NONE,
          nvgpu::TensorMapOOBKind::OOB_ZERO,
          nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
      Value map = nvgpu::TmaCreateDescriptorOp::create(
          b, loc, mapType, unranked, ValueRange{cidx(1), cidx(rows), cidx(64)});
      auto cast = UnrealizedConversionCastOp::create(
          b, loc, LLVM::LLVMPointerType::get(ctx), map);
      launchOps.push_back(map.getDefiningOp());
      launchOps.push_back(cast);
      return cast.getResult(0);
    };
    Value qMap = tensorMap(op.getQuery(), qTile);
    Value kMap = tensorMap(op.getKey(), kvTile);
    Value vMap = tensorMap(op.getValue(), kvTile);

    Value batch = dim(op.getQuery(), 0), heads = dim(op.getQuery(), 1);
    Value nq = dim(op.getQuery(), 2), nk = dim(op.getKey(), 2);
    Value kvHeads = dim(op.getKey(), 1);
    if (qType.isDynamicDim(1) || kType.isDynamicDim(1)) {
      // The kernel divides by H / Hkv: Hkv must divide H (H = 0 launches
      // nothing).
      Value one = cidx(1);
      Value divisor = arith::MaxUIOp::create(b, loc, kvHeads, one);
      Value divides = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq,
          arith::RemUIOp::create(b, loc, heads, divisor), cidx(0));
      Value nonZero = arith::OrIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, kvHeads,
                                cidx(0)),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads,
                                cidx(0)));
      cf::AssertOp::create(b, loc,
                           arith::AndIOp::create(b, loc, divides, nonZero),
                           "attn.sdpa on the Hopper core: the key/value head "
                           "count must divide the query head count");
    }
    SmallVector<Value> dynOut;
    for (int64_t i = 0; i < 4; ++i)
      if (qType.isDynamicDim(i))
        dynOut.push_back(dim(op.getQuery(), i));
    auto outType = MemRefType::get(qType.getShape(), elt);
    // Device memory (mgpuMemAlloc); the inputs' buffers must be device
    // memory too: the host path (runtime/) places them.
    auto deviceAlloc = [&](MemRefType type, ValueRange sizes) -> Value {
      return gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(),
                                  ValueRange{}, sizes, ValueRange{})
          .getMemref();
    };
    // With the merge: the new accumulators [B H', N, Dv] and [B H', N]
    // (the merge ops' shapes) in place of the op's results.
    // A device buffer of `type` ([B H', N, ...]), the sizes read off `like`.
    auto allocLike = [&](RankedTensorType type, Value like) -> Value {
      SmallVector<Value> sizes;
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          sizes.push_back(dim(like, i));
      return deviceAlloc(
          MemRefType::get(type.getShape(), type.getElementType()), sizes);
    };
    auto accumulator = [&](linalg::GenericOp gen) -> Value {
      auto type = cast<RankedTensorType>(gen.getResult(0).getType());
      // Written in place into the op's destination unless it is a
      // tensor.empty (the last round writes attn.lsh's outs: with
      // abi=device a result must be the caller's buffer).
      Value init = gen.getDpsInits()[0];
      if (!init.getDefiningOp<tensor::EmptyOp>())
        return bufferization::ToBufferOp::create(
            b, loc, MemRefType::get(type.getShape(), type.getElementType()),
            init);
      return allocLike(type, init);
    };
    Value out = merge ? accumulator(merge->o) : deviceAlloc(outType, dynOut);
    Value out3 = merge ? out
                       : memref::CollapseShapeOp::create(
                             b, loc, out,
                             ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}})
                             .getResult();
    SmallVector<Value> operands = {qMap, kMap, vMap, out3};
    Value lse;
    if (merge) {
      // Without the lse op (unused after the last round) the kernel's lse
      // goes to a buffer that nothing reads.
      if (merge->lse) {
        lse = accumulator(merge->lse);
      } else {
        auto oType = cast<RankedTensorType>(merge->o.getResult(0).getType());
        lse = allocLike(RankedTensorType::get(oType.getShape().take_front(2),
                                              b.getF32Type()),
                        merge->o.getDpsInits()[0]);
      }
      operands.push_back(lse);
      if (!config.mergeFirst)
        for (Value prev : merge->o.getDpsInputs())
          operands.push_back(bufferization::ToBufferOp::create(
              b, loc,
              MemRefType::get(cast<RankedTensorType>(prev.getType()).getShape(),
                              cast<RankedTensorType>(prev.getType())
                                  .getElementType()),
              prev, /*readOnly=*/true));
    } else if (op.getLse()) {
      auto lseTensor = cast<RankedTensorType>(op.getLse().getType());
      SmallVector<Value> dynLse;
      for (int64_t i = 0; i < 3; ++i)
        if (lseTensor.isDynamicDim(i))
          dynLse.push_back(dim(op.getQuery(), i));
      lse = deviceAlloc(MemRefType::get(lseTensor.getShape(), b.getF32Type()),
                        dynLse);
      operands.push_back(memref::CollapseShapeOp::create(
          b, loc, lse, ArrayRef<ReassociationIndices>{{0, 1}, {2}}));
    }
    // Positions [B, Hp, N]; Hp is 1, H or Hkv.
    auto sizeCheck = [&](Value ok, const Twine &what) {
      cf::AssertOp::create(b, loc, ok,
                           ("attn.sdpa on the Hopper core: " + what).str());
    };
    auto eq = [&](Value a, Value c) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, a, c);
    };
    auto buffer = [&](Value tensor) -> Value {
      auto t = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(t.getShape(), t.getElementType()), tensor,
          /*readOnly=*/true);
    };
    if (Value qpos = op.getQueryPositions()) {
      Value kpos = op.getKeyPositions();
      for (auto [pos, n] :
           {std::make_pair(qpos, nq), std::make_pair(kpos, nk)}) {
        Value hp = dim(pos, 1);
        Value ok = arith::AndIOp::create(
            b, loc,
            arith::AndIOp::create(b, loc, eq(dim(pos, 0), batch),
                                  eq(dim(pos, 2), n)),
            arith::OrIOp::create(
                b, loc, eq(hp, cidx(1)),
                arith::OrIOp::create(b, loc, eq(hp, heads), eq(hp, kvHeads))));
        sizeCheck(ok, "positions must be [B, 1 | H | Hkv, N]");
        operands.push_back(buffer(pos));
      }
    }
    // Document ids [B, Nq] and [B, Nk], and the [B] flags of sorted key ids
    // (filled with 1, cleared by the sorted-ids kernel before the core).
    Value sortedFlags;
    size_t keyIdsIndex = 0;
    if (Value qseg = op.getQuerySegments()) {
      Value kseg = op.getKeySegments();
      for (auto [ids, n] : {std::make_pair(qseg, nq), std::make_pair(kseg, nk)})
        sizeCheck(arith::AndIOp::create(b, loc, eq(dim(ids, 0), batch),
                                        eq(dim(ids, 1), n)),
                  "segments must be [B, Nq] and [B, Nk]");
      operands.push_back(buffer(qseg));
      keyIdsIndex = operands.size();
      operands.push_back(buffer(kseg));
      sortedFlags = deviceAlloc(
          MemRefType::get({ShapedType::kDynamic}, b.getI32Type()), {batch});
      operands.push_back(sortedFlags);
    }
    // Mask and bias, right-aligned to [B, H, Nq, Nk] as rank 4; a dim that
    // is not statically 1 must equal its target.
    Value target[4] = {batch, heads, nq, nk};
    for (Value operand : {op.getMask(), op.getBias()}) {
      if (!operand)
        continue;
      auto t = cast<RankedTensorType>(operand.getType());
      int64_t rank = t.getRank();
      for (int64_t i = 0; i < rank; ++i)
        if (t.getDimSize(i) != 1)
          sizeCheck(eq(dim(operand, i), target[4 - rank + i]),
                    Twine(operand == op.getMask() ? "mask" : "bias") +
                        " does not broadcast to [B, H, Nq, Nk]");
      Value v = operand;
      if (rank < 4) {
        SmallVector<int64_t> shape(4 - rank, 1);
        llvm::append_range(shape, t.getShape());
        SmallVector<ReassociationIndices> groups;
        if (rank > 0) {
          ReassociationIndices first;
          for (int64_t i = 0; i <= 4 - rank; ++i)
            first.push_back(i);
          groups.push_back(first);
          for (int64_t i = 5 - rank; i < 4; ++i)
            groups.push_back({i});
        }
        SmallVector<OpFoldResult> outShape;
        for (int64_t i = 0; i < 4; ++i)
          outShape.push_back(shape[i] == ShapedType::kDynamic
                                 ? OpFoldResult(dim(operand, i - (4 - rank)))
                                 : OpFoldResult(b.getIndexAttr(shape[i])));
        v = tensor::ExpandShapeOp::create(
            b, loc, RankedTensorType::get(shape, t.getElementType()), operand,
            groups, outShape);
      }
      operands.push_back(buffer(v));
    }
    if (Value span = op.getSpan()) {
      sizeCheck(eq(dim(span, 0), heads), "span is not [H]");
      operands.push_back(buffer(span));
    }
    // The kernel's memref arguments are fully dynamic.
    for (Value &v : llvm::MutableArrayRef<Value>(operands).drop_front(3)) {
      auto t = cast<MemRefType>(v.getType());
      SmallVector<int64_t> shape(t.getRank(), ShapedType::kDynamic);
      v = memref::CastOp::create(b, loc,
                                 MemRefType::get(shape, t.getElementType()), v);
    }
    if (Value mk = op.getMemoryKey()) {
      Value mv = op.getMemoryValue();
      sizeCheck(arith::AndIOp::create(
                    b, loc,
                    arith::AndIOp::create(b, loc, eq(dim(mk, 0), kvHeads),
                                          eq(dim(mv, 0), kvHeads)),
                    eq(dim(mk, 1), dim(mv, 1))),
                "memory must be [Hkv, M, D] keys and values");
      operands.push_back(tensorMap(mk, kvTile));
      operands.push_back(tensorMap(mv, kvTile));
      operands.push_back(dim(mk, 1));
    }
    operands.push_back(nq);
    operands.push_back(nk);
    operands.push_back(kvHeads);
    Value tiles = arith::CeilDivUIOp::create(b, loc, nq, cidx(qTile));
    Value smem = arith::ConstantIntOp::create(
        b, loc, b.getI32Type(), gpu_core::sharedMemoryBytes(config));
    // An empty grid is not a valid launch: no work when Nq, H or B is 0.
    Value blocks = arith::MulIOp::create(
        b, loc, arith::MulIOp::create(b, loc, tiles, heads), batch);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, blocks,
                                      cidx(0));
    auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifAny.thenBlock());
      if (sortedKernel) {
        // The sorted flags of the key ids; Nk <= 1 is sorted.
        // The kernel's views (cast to dynamic shapes above).
        Value kIds = operands[keyIdsIndex];
        sortedFlags = operands[keyIdsIndex + 1];
        gpu::MemsetOp::create(b, loc, Type(), ValueRange{}, sortedFlags,
                              arith::ConstantIntOp::create(
                                  b, loc, b.getI32Type(), 1));
        auto ifKeys = scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, nk,
                                  cidx(1)),
            /*withElseRegion=*/false);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(ifKeys.thenBlock());
        int64_t perBlock =
            gpu_core::kSortedThreads * gpu_core::kSortedPairsPerThread;
        gpu::LaunchFuncOp::create(
            b, loc, sortedKernel,
            gpu::KernelDim3{
                arith::CeilDivUIOp::create(b, loc, nk, cidx(perBlock)), batch,
                cidx(1)},
            gpu::KernelDim3{cidx(gpu_core::kSortedThreads), cidx(1), cidx(1)},
            /*dynamicSharedMemorySize=*/Value(),
            ValueRange{kIds, sortedFlags, nk});
      }
      gpu::KernelDim3 grid{tiles, heads, batch};
      if (config.persistent && persistent >= kAllWorkTiles) {
        // Every work tile its own CTA (one round).
        grid = gpu::KernelDim3{arith::MulIOp::create(b, loc, tiles, batch),
                               heads, cidx(1)};
      } else if (config.persistent) {
        // At most max(`persistent`, H) CTAs, a multiple of H: (gx, H, 1)
        // (more than `persistent` would not all be resident at once).
        Value ctas = arith::MinUIOp::create(b, loc, blocks, cidx(persistent));
        Value gx = arith::MaxUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, ctas, heads), cidx(1));
        grid = gpu::KernelDim3{gx, heads, cidx(1)};
      }
      gpu::LaunchFuncOp::create(
          b, loc, kernel, grid,
          gpu::KernelDim3{cidx(gpu_core::threadsPerBlock(config)), cidx(1),
                          cidx(1)},
          smem, operands);
    }
    launchOps.push_back(ifAny);
    outlineLaunch(launchOps, kernel.getName());

    if (merge) {
      for (auto [gen, buf] : {std::make_pair(merge->o, out),
                              std::make_pair(merge->lse, lse)}) {
        if (!gen)
          continue;
        gen.getResult(0).replaceAllUsesWith(bufferization::ToTensorOp::create(
            b, loc, gen.getResult(0).getType(), buf, /*restrict=*/true,
            /*writable=*/true));
        gen.erase();
      }
      for (Operation *view : llvm::reverse(merge->views))
        view->erase();
      op->erase();
      return success();
    }
    SmallVector<Value> results = {bufferization::ToTensorOp::create(
        b, loc, op.getResult().getType(), out, /*restrict=*/true,
        /*writable=*/true)};
    if (lse)
      results.push_back(bufferization::ToTensorOp::create(
          b, loc, op.getLse().getType(), lse, /*restrict=*/true,
          /*writable=*/true));
    op->replaceAllUsesWith(results);
    op->erase();
    return success();
  }

  /// Replaces the kernel's call of `@<name>_facts(qFirst, qLast, nq, nk)` by
  /// the lists' facts, built in place: they use warp shuffles, which the
  /// inliner does not move out of a helper function.
  static void buildFacts(gpu::GPUFuncOp kernel, StringRef name,
                         const gpu_core::RandomLists &lists) {
    SmallVector<func::CallOp> calls;
    kernel.walk([&](func::CallOp call) {
      if (call.getCallee() == (name + "_facts").str())
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      OpBuilder fb(call);
      call.replaceAllUsesWith(lists.buildFacts(
          fb, call.getLoc(), call.getOperand(0), call.getOperand(1),
          call.getOperand(3)));
      call.erase();
    }
  }

  /// Moves the tensor maps and the guarded launch into a host function of
  /// their own (outlineGpuLaunch, GpuLaunchUtils.h).
  void outlineLaunch(ArrayRef<Operation *> moved, StringRef kernelName) {
    outlineGpuLaunch(getOperation(), moved, kernelName);
  }

  int64_t counter = 0;
};

} // namespace
