//===- GpuKernelizedAsSdpa.cpp - FAVOR+ as two attn.sdpa ops --------------===//
//
// attn-gpu-kernelized-as-sdpa (a claiming step of attn-gpu-pipeline, before
// the Hopper core): a non-causal favor_plus attn.kernelized
// (docs/Semantics.md §7) becomes two attn.sdpa ops that the core takes, so
// the GPU never builds the N x m feature tensors. Per batch b and query head
// h (KV head g), with c = D^(-1/4), x' = c x and w_j the rows of W[h]:
//
//   phi(x)_j = exp(<w_j, x'> - |x'|^2 / 2) / sqrt(m)
//
//   phase 1  the m rows w_j attend to the keys k_n (scale c) with the values
//            v_n and the per-key bias b_n = -|k'_n|^2 / 2:
//              o1_j = sum_n e_jn v_n / sum_n e_jn,  lse1_j = log sum_n e_jn,
//              e_jn = exp(<w_j, k'_n> + b_n) = sqrt(m) phi(k_n)_j,
//            so sum_n phi(k_n)_j v_n = exp(lse1_j) o1_j / sqrt(m) and
//            sum_n phi(k_n)_j = exp(lse1_j) / sqrt(m).
//   phase 2  the queries q_i attend to the keys w_j (scale c) with the values
//            o1_j and the per-key bias lse1_j:
//              o_i = sum_j exp(<q'_i, w_j> + lse1_j) o1_j
//                    / sum_j exp(<q'_i, w_j> + lse1_j)
//                  = sum_j phi(q_i)_j S_v[j] / sum_j phi(q_i)_j S_1[j]
//            (the factor exp(-|q'_i|^2 / 2) / sqrt(m) of phi(q_i) and the
//            1 / sqrt(m) of S cancel in the ratio).
//
// With no key (Nk = 0) every lse1_j is -inf, phase 2's rows are empty and
// o = 0, which is §7's zero denominator.
//
// Phase 1 has only ceil(m / q-tile) query tiles per (b, h). `kv-splits` S
// cuts the keys into S contiguous runs of Nk / S keys that phase 1 takes as
// S times as many heads (a reshape: head (g S + s) of [B, Hkv S, Nk / S, D]
// is run s of KV head g; query head ((g S + s) r + t), r = H / Hkv, is the
// row block of W[g r + t]); the S partial results are merged by log-sum-exp
// in f32 before phase 2.
//
// Taken: favor_plus, not causal, q, k, v and the result of one element type
// bf16 or f16, D = Dv = 64 or 128, static H (not 0), Hkv and projection
// head dim (H or 1); B, Nq, Nk and m may be dynamic. The projection is
// converted to q's element type (the core's operands share it). o1 goes
// into phase 2 in that element type too (the values of a wgmma), lse1 in
// f32. Everything else (causal, elu_plus_one, relu, f32) stays for the
// general path.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "GpuKernelizedCausal.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Whether the rewrite takes `op` (see the file comment).
bool isTaken(KernelizedOp op) {
  return !op.getCausal() && isGpuFavorShape(op);
}

} // namespace

bool mlir::attn::isGpuFavorShape(KernelizedOp op) {
  if (op.getFeatureMap() != FeatureMap::FavorPlus || !op.getProjection())
    return false;
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  auto k = cast<RankedTensorType>(op.getKey().getType());
  auto v = cast<RankedTensorType>(op.getValue().getType());
  auto w = cast<RankedTensorType>(op.getProjection().getType());
  Type elt = q.getElementType();
  if ((!elt.isBF16() && !elt.isF16()) || k.getElementType() != elt ||
      v.getElementType() != elt)
    return false;
  int64_t d = q.getDimSize(3);
  if ((d != 64 && d != 128) || v.getDimSize(3) != d)
    return false;
  // H = 0 has nothing to compute (and phase 1 would have no KV head).
  return !q.isDynamicDim(1) && q.getDimSize(1) != 0 && !k.isDynamicDim(1) &&
         !w.isDynamicDim(0);
}

namespace {

/// The number of key runs of phase 1: `requested` when it is >= 1 and
/// divides a static Nk (else 1); with 0, the smallest power of two that
/// gives phase 1 at least 128 CTAs of 128 query rows (about one per
/// multiprocessor of an H100 / H200), keeping at least 2048 keys per run
/// (static B, m and Nk; else 1). Measured on an H200 (docs/GPU.md): B=2,
/// H=16, m=256 at N = 16384 and 65536, 2 runs were the fastest or within
/// 1% of it (1, 4, 8 and 16 slower).
int64_t keyRuns(KernelizedOp op, int64_t requested) {
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  auto w = cast<RankedTensorType>(op.getProjection().getType());
  int64_t nk = cast<RankedTensorType>(op.getKey().getType()).getDimSize(2);
  if (ShapedType::isDynamic(nk) || nk == 0)
    return 1;
  if (requested >= 1)
    return nk % requested == 0 ? requested : 1;
  int64_t batch = q.getDimSize(0), m = w.getDimSize(1);
  if (ShapedType::isDynamic(batch) || ShapedType::isDynamic(m))
    return 1;
  int64_t ctas = batch * q.getDimSize(1) * ((m + 127) / 128);
  int64_t runs = 1;
  while (ctas * runs < 128 && nk % (2 * runs) == 0 && nk / (2 * runs) >= 2048)
    runs *= 2;
  return runs;
}

/// Builds the two phases for one op.
class Rewriter {
public:
  Rewriter(OpBuilder &b, KernelizedOp op, int64_t runs)
      : b(b), loc(op.getLoc()), g{b, loc}, op(op), runs(runs) {
    auto q = cast<RankedTensorType>(op.getQuery().getType());
    elt = q.getElementType();
    heads = q.getDimSize(1);
    kvHeads = cast<RankedTensorType>(op.getKey().getType()).getDimSize(1);
    group = heads / kvHeads;
    d = q.getDimSize(3);
    scale = std::pow(double(d), -0.25);
  }

  void run() {
    Value w = op.getProjection();
    SmallVector<OpFoldResult> kSizes = getSizes(b, loc, op.getKey());
    OpFoldResult batch = kSizes[0];
    OpFoldResult m = getSizes(b, loc, w)[1];
    OpFoldResult runLen =
        runs == 1 ? kSizes[2]
                  : OpFoldResult(
                        b.getIndexAttr(*getConstantIntValue(kSizes[2]) / runs));
    int64_t heads1 = kvHeads * runs * group;
    // Keys and values as phase 1's [B, Hkv S, Nk / S, D].
    Value k1 = splitKeys(op.getKey(), batch, runLen);
    Value v1 = splitKeys(op.getValue(), batch, runLen);
    // Phase 1's queries: W[g r + t] for head (g S + s) r + t.
    Value wq = projectionByHead(w, batch, m, runs);
    // bias[b, (g S + s) r + t, 0, n] = -|c k[b, g, s Nk/S + n]|^2 / 2.
    Value bias1 = keyBias(batch, runLen);

    SmallVector<OpFoldResult> o1Sizes = {batch, b.getIndexAttr(heads1), m,
                                         b.getIndexAttr(d)};
    auto [o1, lse1] = sdpa(wq, k1, v1, emptyTensor(b, loc, o1Sizes, elt), bias1,
                           /*withLse=*/true);
    Value wk = wq;
    if (runs > 1) {
      std::tie(o1, lse1) = mergeRuns(o1, lse1, batch, m);
      wk = projectionByHead(w, batch, m, 1);
    }
    Value bias2 = expand(lse1, {{0}, {1}, {2, 3}},
                         {batch, b.getIndexAttr(heads), b.getIndexAttr(1), m});
    Value result =
        sdpa(op.getQuery(), wk, o1, op.getInit(), bias2, /*withLse=*/false)
            .first;
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }

private:
  /// An attn.sdpa with a bias and scale D^(-1/4); returns (o, lse or null).
  std::pair<Value, Value> sdpa(Value q, Value k, Value v, Value init,
                               Value bias, bool withLse) {
    Type lseType;
    if (withLse)
      lseType = RankedTensorType::get(
          cast<RankedTensorType>(q.getType()).getShape().take_front(3),
          b.getF32Type());
    auto op = SdpaOp::create(
        b, loc, init.getType(), lseType, q, k, v, init, /*mask=*/Value(), bias,
        /*memory_key=*/Value(), /*memory_value=*/Value(),
        /*query_positions=*/Value(), /*key_positions=*/Value(),
        /*span=*/Value(), /*query_segments=*/Value(), /*key_segments=*/Value(),
        /*kv_num_blocks=*/Value(), /*kv_indices=*/Value(),
        /*full_kv_num_blocks=*/Value(), /*full_kv_indices=*/Value(),
        /*pattern=*/PatternAttrInterface(), b.getF32FloatAttr(scale),
        /*ramp=*/FloatAttr(), /*max_span=*/FloatAttr(),
        /*block_size=*/DenseI64ArrayAttr());
    return {op.getResult(), withLse ? op.getLse() : Value()};
  }

  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    return attn::detail::mulSizes(b, loc, x, y);
  }

  // The reshapes below keep B in a group of its own and at most one dynamic
  // size in any group of an expand_shape: MLIR 22's expand-strided-metadata
  // fails on a memref.expand_shape with two dynamic sizes in one group (a
  // flat [B Hkv Nk] split into [B, Hkv, Nk] with B and Nk dynamic).

  /// `t` with the dims of each of `groups` merged (row-major).
  Value collapse(Value t, ArrayRef<ReassociationIndices> groups) {
    return tensor::CollapseShapeOp::create(b, loc, t, groups);
  }

  /// `t` with dim i split into the dims `groups[i]` of `shape` (row-major).
  Value expand(Value t, ArrayRef<ReassociationIndices> groups,
               ArrayRef<OpFoldResult> shape) {
    SmallVector<int64_t> staticShape;
    for (OpFoldResult size : shape)
      staticShape.push_back(
          getConstantIntValue(size).value_or(ShapedType::kDynamic));
    auto type = cast<RankedTensorType>(t.getType());
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(staticShape, type.getElementType()), t,
        groups, shape);
  }

  /// Keys or values [B, Hkv, Nk, D] as [B, Hkv S, Nk / S, D]: run s of KV
  /// head g is head g S + s.
  Value splitKeys(Value t, OpFoldResult batch, OpFoldResult runLen) {
    if (runs == 1)
      return t;
    return expand(
        collapse(t, {{0}, {1, 2}, {3}}), {{0}, {1, 2}, {3}},
        {batch, b.getIndexAttr(kvHeads * runs), runLen, b.getIndexAttr(d)});
  }

  // The general-path kernels below have at most three parallel loop dims,
  // the longest innermost: attn-gpu-tile-loops splits the innermost one over
  // a block's threads and gpu-map-parallel-loops puts three dims on the grid
  // (any further one would become a loop inside the block).

  /// W [Hw, m, D] repeated to [B, Hkv S' r, m, D] (S' = `numRuns`) in q's
  /// element type: head (g S' + s) r + t reads W[g r + t] (W[0] when
  /// Hw = 1).
  Value projectionByHead(Value w, OpFoldResult batch, OpFoldResult m,
                         int64_t numRuns) {
    bool shared = cast<RankedTensorType>(w.getType()).getDimSize(0) == 1;
    Value flat = collapse(w, {{0}, {1, 2}});
    int64_t headsOut = kvHeads * numRuns * group;
    AffineExpr head =
        shared ? b.getAffineConstantExpr(0)
               : g.d(1).floorDiv(numRuns * group) * group + g.d(1) % group;
    Value init = emptyTensor(
        b, loc, {batch, b.getIndexAttr(headsOut), mul(m, b.getIndexAttr(d))},
        elt);
    Value out = g.generic(ValueRange{flat}, init,
                          {g.map(3, {head, g.d(2)}), g.dims(3, {0, 1, 2})},
                          parallelIterators(3),
                          [&](OpBuilder &nb, Location nl, ValueRange a) {
                            yieldOne(nb, nl, convertFloat(nb, nl, a[0], elt));
                          });
    return expand(out, {{0}, {1}, {2, 3}},
                  {batch, b.getIndexAttr(headsOut), m, b.getIndexAttr(d)});
  }

  /// Phase 1's bias [B, Hkv S r, 1, Nk/S] (f32): -|c k_n|^2 / 2 per key row
  /// (one thread per row of K viewed as [B, Hkv Nk, D]), repeated over the r
  /// query heads of each KV head. This kernel took 0.53 to 0.6 ms of a 3 ms
  /// call at B=2, H=16, N=65536, D=64 on an H200 (0.44 TB/s), in each form
  /// tried (with K viewed as [B Hkv Nk, D]; the [B, Hkv Nk, D] view keeps
  /// one thread per row but was not timed): one thread per row; partial sums
  /// over 32-byte pieces with the rows innermost (the general path accumulates
  /// a reduction in memory, a load and a store per element); the D columns as D
  /// strided operands of an elementwise op (which also exceeds the kernel
  /// parameter space at D = 128). A coalesced form needs a warp per row (or the
  /// norms computed from the K tiles that phase 1's kernel loads), which the
  /// general path cannot say.
  Value keyBias(OpFoldResult batch, OpFoldResult runLen) {
    Type f32 = b.getF32Type();
    OpFoldResult rows =
        mul(b.getIndexAttr(kvHeads), getSizes(b, loc, op.getKey())[2]);
    Value keys = collapse(op.getKey(), {{0}, {1, 2}, {3}});
    double factor = -0.5 * scale * scale;
    Value norms = g.generic(
        ValueRange{keys}, filledTensor(b, loc, {batch, rows}, f32, 0.0),
        {g.dims(3, {0, 1, 2}), g.dims(3, {0, 1})}, g.iterators(3, {2}),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value x = convertFloat(nb, nl, a[0], f32);
          Value sq = arith::MulFOp::create(nb, nl, x, x);
          Value term =
              arith::MulFOp::create(nb, nl, sq, g.f32Const(nb, nl, factor));
          yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], term));
        });
    OpFoldResult one = b.getIndexAttr(1);
    OpFoldResult runHeads = b.getIndexAttr(kvHeads * runs);
    if (group == 1)
      return expand(norms, {{0}, {1, 2, 3}}, {batch, runHeads, one, runLen});
    // [B, Hkv S, Nk/S] -> [B, Hkv S r, Nk/S].
    Value runsOf = expand(norms, {{0}, {1, 2}}, {batch, runHeads, runLen});
    OpFoldResult heads1 = b.getIndexAttr(kvHeads * runs * group);
    Value repeated = g.generic(
        ValueRange{runsOf}, emptyTensor(b, loc, {batch, heads1, runLen}, f32),
        {g.map(3, {g.d(0), g.d(1).floorDiv(group), g.d(2)}),
         g.dims(3, {0, 1, 2})},
        parallelIterators(3), [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, a[0]);
        });
    return expand(repeated, {{0}, {1}, {2, 3}}, {batch, heads1, one, runLen});
  }

  /// Merges phase 1's S runs (o [B, Hkv S r, m, Dv] in elt, lse
  /// [B, Hkv S r, m] f32) by log-sum-exp into ([B, H, m, Dv] in elt,
  /// [B, H, m] f32): LSE = log sum_s exp(lse_s), o = sum_s exp(lse_s - LSE)
  /// o_s (0 and -inf when every lse_s is -inf). Viewed as [B Hkv, S, r m Dv]
  /// and [B Hkv, S, r m] (through [B, Hkv, S, r, m Dv] and [B, Hkv, S, r, m]).
  std::pair<Value, Value> mergeRuns(Value o, Value lse, OpFoldResult batch,
                                    OpFoldResult m) {
    Type f32 = b.getF32Type();
    OpFoldResult outer = mul(batch, b.getIndexAttr(kvHeads)),
                 s = b.getIndexAttr(runs), rm = mul(b.getIndexAttr(group), m),
                 rmd = mul(rm, b.getIndexAttr(d));
    OpFoldResult kv = b.getIndexAttr(kvHeads), r = b.getIndexAttr(group);
    OpFoldResult dSize = b.getIndexAttr(d), md = mul(m, dSize);
    // [B, Hkv S r, x] -> [B, Hkv, S, r, x] -> [B Hkv, S, r x].
    auto runsView = [&](Value t, OpFoldResult x) {
      return collapse(expand(t, {{0}, {1, 2, 3}, {4}}, {batch, kv, s, r, x}),
                      {{0, 1}, {2}, {3, 4}});
    };
    Value o3 = runsView(collapse(o, {{0}, {1}, {2, 3}}), md);
    Value lse3 = runsView(lse, m);
    double negInf = -std::numeric_limits<double>::infinity();
    // Loops (x, y, s): the largest lse_s, then sum_s exp(lse_s - shift).
    AffineMap lseIn = g.dims(3, {0, 2, 1}), row = g.dims(3, {0, 1});
    Value max = g.generic(
        ValueRange{lse3}, filledTensor(b, loc, {outer, rm}, f32, negInf),
        {lseIn, row}, g.iterators(3, {2}),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, arith::MaximumFOp::create(nb, nl, a[1], a[0]));
        });
    Value sum = g.generic(
        ValueRange{lse3, max}, filledTensor(b, loc, {outer, rm}, f32, 0.0),
        {lseIn, row, row}, g.iterators(3, {2}),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value e = math::ExpOp::create(
              nb, nl,
              arith::SubFOp::create(nb, nl, a[0], softmaxShift(nb, nl, a[1])));
          yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], e));
        });
    AffineMap id2 = g.dims(2, {0, 1});
    Value total =
        g.generic(ValueRange{max, sum}, emptyTensor(b, loc, {outer, rm}, f32),
                  {id2, id2, id2}, parallelIterators(2),
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    Value log = math::LogOp::create(nb, nl, a[1]);
                    yieldOne(nb, nl,
                             arith::AddFOp::create(
                                 nb, nl, softmaxShift(nb, nl, a[0]), log));
                  });
    // Loops (x, y, s) over [B Hkv, r m Dv]: o = sum_s w_s o_s in f32, then
    // elt; the lse of element y is at y / Dv.
    AffineExpr rowOf = g.d(1).floorDiv(d);
    Value merged = g.generic(
        ValueRange{o3, lse3, total},
        filledTensor(b, loc, {outer, rmd}, f32, 0.0),
        {g.dims(3, {0, 2, 1}), g.map(3, {g.d(0), g.d(2), rowOf}),
         g.map(3, {g.d(0), rowOf}), g.dims(3, {0, 1})},
        g.iterators(3, {2}), [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value ninf = arith::ConstantOp::create(
              nb, nl,
              nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
          Value empty = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                              a[2], ninf);
          Value weight = math::ExpOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, a[1], a[2]));
          weight = arith::SelectOp::create(nb, nl, empty,
                                           g.f32Const(nb, nl, 0.0), weight);
          Value x = convertFloat(nb, nl, a[0], f32);
          Value prod = arith::MulFOp::create(nb, nl, weight, x);
          yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[3], prod));
        });
    Value narrow = g.generic(
        ValueRange{merged}, emptyTensor(b, loc, {outer, rmd}, elt), {id2, id2},
        parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, convertFloat(nb, nl, a[0], elt));
        });
    // [B Hkv, r x] -> [B, Hkv, r, x] -> [B, H, x].
    Value o4 =
        collapse(expand(narrow, {{0, 1}, {2, 3, 4}}, {batch, kv, r, m, dSize}),
                 {{0}, {1, 2}, {3}, {4}});
    Value lse2 = collapse(expand(total, {{0, 1}, {2, 3}}, {batch, kv, r, m}),
                          {{0}, {1, 2}, {3}});
    return {o4, lse2};
  }

  OpBuilder &b;
  Location loc;
  GenericBuilder g;
  KernelizedOp op;
  int64_t runs;
  Type elt;
  int64_t heads, kvHeads, group, d;
  double scale;
};

struct GpuKernelizedAsSdpaPass
    : PassWrapper<GpuKernelizedAsSdpaPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuKernelizedAsSdpaPass)

  GpuKernelizedAsSdpaPass() = default;
  GpuKernelizedAsSdpaPass(const GpuKernelizedAsSdpaPass &other)
      : PassWrapper(other) {}
  explicit GpuKernelizedAsSdpaPass(int64_t splits) { kvSplits = splits; }

  StringRef getArgument() const final { return "attn-gpu-kernelized-as-sdpa"; }
  StringRef getDescription() const final {
    return "Rewrite non-causal favor_plus attn.kernelized (bf16 / f16, D 64 "
           "or 128) as two attn.sdpa ops that the Hopper core takes";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    math::MathDialect, scf::SCFDialect,
                    tensor::TensorDialect, bufferization::BufferizationDialect,
                    gpu::GPUDialect, memref::MemRefDialect, LLVM::LLVMDialect,
                    NVVM::NVVMDialect>();
  }

  Option<int64_t> kvSplits{
      *this, "kv-splits",
      llvm::cl::desc("Key runs of phase 1 (>= 1; must divide a static Nk, "
                     "else 1); 0 picks one from the static shape"),
      llvm::cl::init(0)};
  Option<int64_t> causalChunk{
      *this, "causal-chunk",
      llvm::cl::desc("Rows of a chunk of causal FAVOR+'s chunked scan (>= 1)"),
      llvm::cl::init(64)};
  Option<int64_t> causalGroup{
      *this, "causal-group",
      llvm::cl::desc("Chunks of a group of the scan's two-level prefix (>= 1)"),
      llvm::cl::init(16)};
  Option<std::string> causalMma{
      *this, "causal-mma",
      llvm::cl::desc("The scan's matrix products: launch (mma.sync kernels), "
                     "generic (the same products as linalg.generic, for the "
                     "CPU) or off (the scalar scan)"),
      llvm::cl::init("launch")};
  Option<std::string> causalPrefix{
      *this, "causal-prefix",
      llvm::cl::desc("The exclusive prefix of the chunk states on the mma "
                     "paths: scan (one sequential pass over the chunks per "
                     "state element) or levels (two levels of groups)"),
      llvm::cl::init("scan")};

  void runOnOperation() override {
    if (causalChunk < 1 || causalGroup < 1) {
      getOperation().emitError()
          << "attn-gpu-kernelized-as-sdpa: causal-chunk and causal-group must "
             "be >= 1";
      return signalPassFailure();
    }
    if (causalMma != "launch" && causalMma != "generic" &&
        causalMma != "off") {
      getOperation().emitError()
          << "attn-gpu-kernelized-as-sdpa: causal-mma must be launch, "
             "generic or off, but got '"
          << causalMma << "'";
      return signalPassFailure();
    }
    if (causalPrefix != "scan" && causalPrefix != "levels") {
      getOperation().emitError()
          << "attn-gpu-kernelized-as-sdpa: causal-prefix must be scan or "
             "levels, but got '"
          << causalPrefix << "'";
      return signalPassFailure();
    }
    if (kvSplits < 0) {
      getOperation().emitError()
          << "attn-gpu-kernelized-as-sdpa: kv-splits must be >= 0, but got "
          << kvSplits;
      return signalPassFailure();
    }
    SmallVector<KernelizedOp> ops, causal;
    getOperation().walk([&](KernelizedOp op) {
      if (isTaken(op))
        ops.push_back(op);
      else if (isGpuCausalFavorTaken(op))
        causal.push_back(op);
    });
    for (KernelizedOp op : ops) {
      OpBuilder b(op);
      Rewriter(b, op, keyRuns(op, kvSplits)).run();
    }
    // Causal FAVOR+: the chunked scan (GpuKernelizedCausal.cpp).
    int64_t index = 0;
    for (KernelizedOp op : causal) {
      OpBuilder b(op);
      buildGpuCausalFavor(b, op, causalChunk, causalGroup, causalMma,
                          causalPrefix, "favor_mma_" + std::to_string(index++));
    }
  }
};

} // namespace

std::unique_ptr<Pass>
mlir::attn::createGpuKernelizedAsSdpaPass(int64_t kvSplits) {
  return std::make_unique<GpuKernelizedAsSdpaPass>(kvSplits);
}
