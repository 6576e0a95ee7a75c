//===- GpuLshClusterAsSdpa.cpp - lsh / cluster as sdpa on the Hopper core -===//
//
// attn-gpu-lsh-cluster-as-sdpa (a claiming step of attn-gpu-pipeline, before
// the Hopper core): an attn.lsh (docs/Semantics.md §4) in bf16 / f16 with
// D = Dv = 64 or 128 becomes parallel general-path kernels that hash and sort,
// attn.sdpa ops over the gathered chunks (one per part of the heads when
// their number is static, see KernelBuilder::spread; in the op's element
// type, with the original positions, the causal pattern and the own-key
// score_mod) that the core takes, and a log-sum-exp combine of the rounds. An attn.cluster (§5)
// likewise: a radix select of the top w per centroid, the same counting sort
// to list the members, one attn.sdpa over the gathered clusters, and the
// combine of a query's clusters (ClusterRewriter below).
//
// Every kernel below is a linalg.generic with at most three parallel dims,
// the longest innermost (attn-gpu-tile-loops puts it on a block's threads),
// and short reductions; nothing is O(N^2). Per row (b, h, round r) of
// N positions, cut into blocks of 128 positions:
//
//   x[bh, r K + k, n] = sum_d qk[bh, n, d] R[h, r, d, k]      (f32)
//   bucket(n)         = argmax([x ; -x])            (first maximum on ties)
//   hist[blk, k]      = #{n in blk : bucket(n) == k}
//   before[blk, k]    = sum_{blk' < blk} hist[blk', k]
//   start[k]          = sum_{k' < k} sum_blk hist[blk, k']
//   slot(n)           = start[bucket(n)] + before[blk(n), bucket(n)]
//                       + #{n' in blk(n), n' < n : bucket(n') == bucket(n)}
//
// (the stable counting sort by (bucket, position), O(N * 128) per row), and
// its inverse perm(t) = the n with slot(n) == t: t's bucket is the number of
// buckets that end at or before t, its block the number of blocks whose
// share of that bucket ends at or before t, and n the position of that block
// whose slot is t (both searched in nondecreasing ends; the counts compare
// the buckets packed 8, 4 or 2 to an i64 word, all fields of a word at once:
// see sort). Chunks, keys and the combine follow DecomposeLsh.cpp:
// chunk ch of round r of head h is sdpa head g = (h R + r) nC + ch; its
// queries are slots ch c .. ch c + c - 1 and its keys the W = min(look_back
// + look_ahead + 1, nC) chunks (ch + w - look_back) mod nC. The keys are
// qk / |qk| (f32, then the element type). The rounds combine per position as
// o = sum_r exp(lse_r - LSE) o_r in f32, written into the op's outs. With
// merge-rounds (on by default; static G, R <= 4) each round is one sdpa
// merged into the result after it, in the core kernel's epilogue where
// attn-gpu-sdpa-core takes it (mergedRounds); the accumulator between rounds
// in the element type unless merge-f32.
//
// Taken (lsh): qk, v and outs of one element type bf16 or f16, D = Dv = 64
// or 128, static H and rounds; (cluster): q, k, v and outs likewise, static
// H, Hkv and centroids. Everything else keeps the general path.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "GpuCoreKernel.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// Up to this many projections (num_buckets / 2) are kept in registers.
constexpr int64_t kMaxRegisterHalf = 64;
/// Positions per block of the counting sort.
constexpr int64_t kSortBlock = 128;
/// Steps of the radix count kept in 8-bit fields before they are added up
/// (a field counts at most one key a step).
constexpr int64_t kFieldRun = 255;
/// The unscaled score of a query's own key (docs/Semantics.md §4 step 5).
constexpr double kSelfScore = -1e5;
/// The score of a key of a packed head outside the query's window: finite,
/// so that a key tile with no live key for a row keeps a finite running
/// maximum; its weight vanishes against the own key (-1e5) or better.
constexpr double kDeadScore = -1e30;
/// Query rows of the core's tile: chunks are packed into sdpa heads of up
/// to this many queries.
constexpr int64_t kQueryRows = 128;
/// Clusters of one cluster weights kernel (two results each, memrefs among
/// the kernel's parameters, which the launch caps at 4 KiB).
constexpr int64_t kWeightOutputs = 16;

/// Whether `tensors` (the op's [B, H, N, D] operands and destination) are
/// what the Hopper core takes: one element type, bf16 or f16, rank 4, one
/// head dim of 64 or 128.
bool coreTensors(ArrayRef<RankedTensorType> tensors) {
  Type elt = tensors.front().getElementType();
  int64_t d = tensors.front().getRank() == 4 ? tensors.front().getDimSize(3)
                                             : 0;
  if ((!elt.isBF16() && !elt.isF16()) || (d != 64 && d != 128))
    return false;
  return llvm::all_of(tensors, [&](RankedTensorType t) {
    return t.getElementType() == elt && t.getRank() == 4 &&
           t.getDimSize(3) == d;
  });
}

/// Whether the rewrite takes `op` (see the file comment).
bool isTaken(LshOp op) {
  auto qk = cast<RankedTensorType>(op.getQk().getType());
  auto rot = cast<RankedTensorType>(op.getRotations().getType());
  if (!coreTensors({qk, cast<RankedTensorType>(op.getValue().getType()),
                    cast<RankedTensorType>(op.getInit().getType())}) ||
      !isa<FloatType>(rot.getElementType()) || rot.getRank() != 4)
    return false;
  return !qk.isDynamicDim(1) && !rot.isDynamicDim(1) &&
         op.getChunkSizeAttr().getInt() >= 1;
}

/// Builds the kernels of one attn.lsh.
/// The general-path kernel builders shared by the rewrites: small IR
/// helpers, register loops inside generic bodies, and the blocked counting
/// sort.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc), g{b, loc} {}

protected:
  OpFoldResult idx(int64_t v) { return b.getIndexAttr(v); }
  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    return mulSizes(b, loc, x, y);
  }
  OpFoldResult ceilDiv(OpFoldResult x, int64_t y) {
    if (std::optional<int64_t> c = getConstantIntValue(x))
      return idx((*c + y - 1) / y);
    return arith::CeilDivUIOp::create(b, loc, toIndexValue(b, loc, x),
                                      indexConst(b, loc, y))
        .getResult();
  }
  Value i64(OpBuilder &nb, Location nl, int64_t v) {
    return arith::ConstantIntOp::create(nb, nl, nb.getI64Type(), v);
  }
  Value cidx(OpBuilder &nb, Location nl, int64_t v) {
    return arith::ConstantIndexOp::create(nb, nl, v);
  }
  Value toIndex(OpBuilder &nb, Location nl, Value v) {
    return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), v);
  }
  Value cmp(OpBuilder &nb, Location nl, arith::CmpIPredicate p, Value x,
            Value y) {
    return arith::CmpIOp::create(nb, nl, p, x, y);
  }
  /// `for i in [0, count)` carrying `inits` in registers, inside a generic's
  /// body (a linalg reduction would keep its accumulator in memory on the
  /// general path: a load and a store per step); `step` returns the next
  /// values.
  SmallVector<Value>
  loop(OpBuilder &nb, Location nl, Value count, ValueRange inits,
       function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)> step) {
    auto forOp = scf::ForOp::create(
        nb, nl, cidx(nb, nl, 0), count, cidx(nb, nl, 1), inits,
        [&](OpBuilder &lb, Location ll, Value iv, ValueRange args) {
          scf::YieldOp::create(lb, ll, step(lb, iv, args));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  /// #{i in [0, count) : pred(i)} (i64), counted in registers.
  Value countWhere(OpBuilder &nb, Location nl, Value count,
                   function_ref<Value(OpBuilder &, Value)> pred) {
    return loop(nb, nl, count, {i64(nb, nl, 0)},
                [&](OpBuilder &lb, Value i, ValueRange acc) {
                  return SmallVector<Value>{countIf(lb, nl, acc[0], pred(lb, i))};
                })[0];
  }
  /// `acc + (flag ? 1 : 0)` in i64.
  Value countIf(OpBuilder &nb, Location nl, Value acc, Value flag) {
    return arith::AddIOp::create(
        nb, nl, acc, arith::ExtUIOp::create(nb, nl, nb.getI64Type(), flag));
  }

  /// `t` with the dims of each group merged.
  Value collapse(Value t, ArrayRef<ReassociationIndices> groups) {
    return tensor::CollapseShapeOp::create(b, loc, t, groups);
  }
  /// `t` with dim i split into the dims of group i, of sizes `shape`.
  Value expand(Value t, ArrayRef<ReassociationIndices> groups,
               ArrayRef<OpFoldResult> shape) {
    auto type = cast<RankedTensorType>(t.getType());
    SmallVector<int64_t> staticShape;
    for (OpFoldResult size : shape)
      staticShape.push_back(
          getConstantIntValue(size).value_or(ShapedType::kDynamic));
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(staticShape, type.getElementType()), t,
        groups, shape);
  }

  /// SWAR over i64 words of `64 / bits` fields of `bits` bits (8, 16 or
  /// 32): `ones` has a 1 in every field, `low` every field's bits but its
  /// top one.
  struct Fields {
    int64_t bits, perWord;
    uint64_t ones, low;
    explicit Fields(int64_t bits) : bits(bits), perWord(64 / bits) {
      ones = 0;
      for (int64_t i = 0; i < perWord; ++i)
        ones |= uint64_t(1) << (bits * i);
      low = ones * ((uint64_t(1) << (bits - 1)) - 1);
    }
    /// The padding field (all ones), never a bucket.
    uint64_t pad() const { return (uint64_t(1) << bits) - 1; }
  };
  Value i64u(OpBuilder &nb, Location nl, uint64_t v) {
    return i64(nb, nl, int64_t(v));
  }
  /// The top bit of every field of `word` that equals `k` (i64), exactly
  /// (no borrow crosses a field).
  Value matchFields(OpBuilder &nb, Location nl, const Fields &f, Value word,
                    Value k) {
    Value low = i64u(nb, nl, f.low);
    Value v = arith::XOrIOp::create(
        nb, nl, word, arith::MulIOp::create(nb, nl, k, i64u(nb, nl, f.ones)));
    Value t = arith::AddIOp::create(nb, nl, arith::AndIOp::create(nb, nl, v, low),
                                    low);
    Value any = arith::OrIOp::create(
        nb, nl, arith::OrIOp::create(nb, nl, t, v), low);
    return arith::XOrIOp::create(nb, nl, any, i64(nb, nl, -1));
  }
  /// Per field i of `topBits` (only top bits set): the number of set top
  /// bits in fields 0 .. i, in field i.
  Value prefixFields(OpBuilder &nb, Location nl, const Fields &f,
                     Value topBits) {
    return arith::MulIOp::create(
        nb, nl,
        arith::ShRUIOp::create(nb, nl, topBits, i64(nb, nl, f.bits - 1)),
        i64u(nb, nl, f.ones));
  }
  /// The number of set top bits of `topBits`.
  Value countFields(OpBuilder &nb, Location nl, const Fields &f,
                    Value topBits) {
    return arith::ShRUIOp::create(nb, nl, prefixFields(nb, nl, f, topBits),
                                  i64(nb, nl, 64 - f.bits));
  }
  /// #{i in [0, count) : at(i) <= t} (i64) for `at` nondecreasing in i, by
  /// binary search: `steps` halvings, enough when 2^steps > count.
  Value countAtMost(OpBuilder &nb, Location nl, Value count, int64_t steps,
                    Value t, function_ref<Value(OpBuilder &, Value)> at) {
    Value last = arith::SubIOp::create(
        nb, nl, arith::MaxUIOp::create(nb, nl, count, cidx(nb, nl, 1)),
        cidx(nb, nl, 1));
    SmallVector<Value> range = loop(
        nb, nl, cidx(nb, nl, steps), {cidx(nb, nl, 0), count},
        [&](OpBuilder &lb, Value, ValueRange lh) {
          Value active = cmp(lb, nl, arith::CmpIPredicate::ult, lh[0], lh[1]);
          Value mid = arith::ShRUIOp::create(
              lb, nl, arith::AddIOp::create(lb, nl, lh[0], lh[1]),
              cidx(lb, nl, 1));
          Value le = cmp(lb, nl, arith::CmpIPredicate::sle,
                         at(lb, arith::MinUIOp::create(lb, nl, mid, last)), t);
          Value up = arith::AndIOp::create(lb, nl, active, le);
          Value down = arith::AndIOp::create(
              lb, nl, active,
              arith::XOrIOp::create(
                  lb, nl, le,
                  arith::ConstantIntOp::create(lb, nl, lb.getI1Type(), 1)));
          return SmallVector<Value>{
              arith::SelectOp::create(
                  lb, nl, up, arith::AddIOp::create(lb, nl, mid, cidx(lb, nl, 1)),
                  lh[0]),
              arith::SelectOp::create(lb, nl, down, mid, lh[1])};
        });
    return toI64(nb, nl, range[0]);
  }
  /// Halvings that binary-search [0, count).
  static int64_t searchSteps(OpFoldResult count) {
    std::optional<int64_t> c = getConstantIntValue(count);
    if (!c)
      return 48;
    int64_t steps = 0;
    while ((int64_t(1) << steps) <= *c)
      ++steps;
    return steps;
  }

  /// tensors[part][ix] (tensors of one type; an scf.if per part after the
  /// first: the part is uniform across a warp in the combine).
  Value extractPart(OpBuilder &nb, Location nl, ArrayRef<Value> tensors,
                    Value part, ValueRange ix) {
    if (tensors.size() == 1)
      return tensor::ExtractOp::create(nb, nl, tensors.front(), ix);
    auto ifOp = scf::IfOp::create(
        nb, nl, cmp(nb, nl, arith::CmpIPredicate::eq, part, cidx(nb, nl, 0)),
        [&](OpBuilder &tb, Location tl) {
          scf::YieldOp::create(
              tb, tl,
              tensor::ExtractOp::create(tb, tl, tensors.front(), ix).getResult());
        },
        [&](OpBuilder &eb, Location el) {
          scf::YieldOp::create(
              eb, el,
              extractPart(eb, el, tensors.drop_front(),
                          arith::SubIOp::create(eb, el, part, cidx(eb, el, 1)),
                          ix));
        });
    return ifOp.getResult(0);
  }

  /// The stable blocked counting sort of every row of `bucket` [rows, N]
  /// (values in [0, bins)) by (bucket, position): returns (slot, perm), both
  /// [rows, N] i64, perm[row, slot[row, n]] = n (see the file comment);
  /// with `permCount`, perm only for the slots below it ([rows, permCount]).
  /// With `threshold` [rows], `bucket` holds keys and the bucket of a key x
  /// is 0 above threshold[row], 1 equal to it, 2 below (read where the
  /// buckets are, no bucket tensor). The buckets are first packed into i64 words of 8, 4 or 2 fields (the
  /// last word padded with the all-ones field, never a bucket); the
  /// histograms, the within-block counts and the inverse then compare a
  /// word's fields at once (`matchFields`), and the inverse finds a slot's
  /// bucket and block by binary search.
  std::pair<Value, Value> sort(ArrayRef<Value> bucketParts, int64_t bins,
                               OpFoldResult permCount = {},
                               Value threshold = {}) {
    // `bucketParts` [rows, N / parts] each: positions n of part n / (N /
    // parts) (static N then), one tensor (and the slot kernel's input) else.
    Value bucket = bucketParts.front();
    int64_t bucketParts_ = bucketParts.size();
    auto bucketAt = [&](OpBuilder &nb2, Location nl, Value row, Value pos) {
      if (bucketParts_ == 1)
        return tensor::ExtractOp::create(nb2, nl, bucket, ValueRange{row, pos})
            .getResult();
      Value partLen = cidx(
          nb2, nl, cast<RankedTensorType>(bucket.getType()).getDimSize(1));
      return extractPart(nb2, nl, bucketParts,
                         arith::DivUIOp::create(nb2, nl, pos, partLen),
                         ValueRange{row, arith::RemUIOp::create(nb2, nl, pos,
                                                                partLen)});
    };
    Type i64t = b.getI64Type();
    auto bucketOf = [&](OpBuilder &nb2, Location nl, Value row, Value x) {
      if (!threshold)
        return x;
      // (x <= t) + (x < t).
      Value t = tensor::ExtractOp::create(nb2, nl, threshold, ValueRange{row});
      return countIf(nb2, nl,
                     countIf(nb2, nl, i64(nb2, nl, 0),
                             cmp(nb2, nl, arith::CmpIPredicate::sle, x, t)),
                     cmp(nb2, nl, arith::CmpIPredicate::slt, x, t));
    };
    Fields f(bins < 255 ? 8 : bins < 65535 ? 16 : 32);
    int64_t blockWords = kSortBlock / f.perWord;
    SmallVector<OpFoldResult> sizes = getSizes(b, loc, bucket);
    OpFoldResult rowCount = sizes[0], length = sizes[1];
    if (bucketParts_ > 1)
      length = idx(cast<RankedTensorType>(bucket.getType()).getDimSize(1) *
                   bucketParts_);
    OpFoldResult blocks = ceilDiv(length, kSortBlock);
    OpFoldResult words = ceilDiv(length, f.perWord);
    Value n = toIndexValue(b, loc, length);
    Value numWords = toIndexValue(b, loc, words);
    OpFoldResult nb = idx(bins);
    OpFoldResult slots = permCount ? permCount : length;
    AffineMap id2 = g.dims(2, {0, 1});
    // packed[row, w]: the buckets of positions w P .. w P + P - 1.
    Value packed = g.generic(
        ValueRange{}, emptyTensor(b, loc, {rowCount, words}, i64t), {id2},
        parallelIterators(2), [&](OpBuilder &nb2, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb2, nl, 2);
          Value last = arith::SubIOp::create(
              nb2, nl, arith::MaxUIOp::create(nb2, nl, n, cidx(nb2, nl, 1)),
              cidx(nb2, nl, 1));
          Value word = i64(nb2, nl, 0);
          for (int64_t i = 0; i < f.perWord; ++i) {
            Value pos = arith::AddIOp::create(
                nb2, nl,
                arith::MulIOp::create(nb2, nl, ix[1], cidx(nb2, nl, f.perWord)),
                cidx(nb2, nl, i));
            Value k = bucketOf(
                nb2, nl, ix[0],
                bucketAt(nb2, nl, ix[0],
                         arith::MinUIOp::create(nb2, nl, pos, last)));
            Value field = arith::SelectOp::create(
                nb2, nl, cmp(nb2, nl, arith::CmpIPredicate::ult, pos, n), k,
                i64u(nb2, nl, f.pad()));
            word = arith::OrIOp::create(
                nb2, nl, word,
                arith::ShLIOp::create(nb2, nl, field, i64(nb2, nl, f.bits * i)));
          }
          yieldOne(nb2, nl, word);
        });
    // Word j of block blk of a row (all padding past the row's end).
    auto blockWord = [&](OpBuilder &nb2, Location nl, Value row, Value blk,
                         Value j) {
      Value w = arith::AddIOp::create(
          nb2, nl, arith::MulIOp::create(nb2, nl, blk, cidx(nb2, nl, blockWords)),
          j);
      Value last = arith::SubIOp::create(
          nb2, nl, arith::MaxUIOp::create(nb2, nl, numWords, cidx(nb2, nl, 1)),
          cidx(nb2, nl, 1));
      Value word = tensor::ExtractOp::create(
          nb2, nl, packed,
          ValueRange{row, arith::MinUIOp::create(nb2, nl, w, last)});
      return arith::SelectOp::create(
                 nb2, nl, cmp(nb2, nl, arith::CmpIPredicate::ult, w, numWords),
                 word, i64(nb2, nl, -1))
          .getResult();
    };
    // The fields equal to `want` in the first `words` words of block blk of
    // row `row` (each word compared at once).
    auto countInBlock = [&](OpBuilder &nb2, Location nl, Value row, Value blk,
                            Value words, Value want) -> Value {
      return loop(nb2, nl, words, {i64(nb2, nl, 0)},
                  [&](OpBuilder &jb, Value j, ValueRange acc) {
                    Value bits = matchFields(jb, nl, f,
                                             blockWord(jb, nl, row, blk, j), want);
                    return SmallVector<Value>{arith::AddIOp::create(
                        jb, nl, acc[0], countFields(jb, nl, f, bits))};
                  })[0];
    };
    // [rows, blocks, bins] tables, built with the longer of blk and k
    // innermost when bins is under a warp (else k innermost: a warp then
    // reads one block's words, the same addresses).
    bool blockInner = bins < 32;
    auto table = [&](function_ref<Value(OpBuilder &, Location, Value, Value,
                                        Value)>
                         entry) {
      AffineMap out = blockInner ? g.dims(3, {0, 2, 1}) : g.dims(3, {0, 1, 2});
      return g.generic(
          ValueRange{}, emptyTensor(b, loc, {rowCount, blocks, nb}, i64t), {out},
          parallelIterators(3), [&](OpBuilder &nb2, Location nl, ValueRange) {
            SmallVector<Value> ix = loopIndices(nb2, nl, 3);
            Value blk = blockInner ? ix[2] : ix[1];
            Value k = blockInner ? ix[1] : ix[2];
            yieldOne(nb2, nl, entry(nb2, nl, ix[0], blk, k));
          });
    };
    // hist[row, blk, k]: the block's words, each compared at once.
    Value hist = table([&](OpBuilder &nb2, Location nl, Value row, Value blk,
                           Value k) {
      return countInBlock(nb2, nl, row, blk, cidx(nb2, nl, blockWords),
                          toI64(nb2, nl, k));
    });
    // before[row, blk, k]: loops (row, blk, k, blk').
    Value before = table([&](OpBuilder &nb2, Location nl, Value row, Value blk,
                             Value k) {
      return loop(nb2, nl, blk, {i64(nb2, nl, 0)},
                  [&](OpBuilder &lb, Value other, ValueRange acc) {
                    Value c = tensor::ExtractOp::create(lb, nl, hist,
                                                        ValueRange{row, other, k});
                    return SmallVector<Value>{
                        arith::AddIOp::create(lb, nl, acc[0], c)};
                  })[0];
    });
    // total[row, k] (loops row, k, blk), start[row, k] (loops row, k, k').
    Value total = g.generic(
        hist, g.filled({rowCount, nb}, i64t, 0),
        {g.dims(3, {0, 2, 1}), g.dims(3, {0, 1})}, g.iterators(3, {2}),
        [&](OpBuilder &nb2, Location nl, ValueRange a) {
          yieldOne(nb2, nl, arith::AddIOp::create(nb2, nl, a[1], a[0]));
        });
    Value start = g.generic(
        total, g.filled({rowCount, nb}, i64t, 0),
        {g.dims(3, {0, 2}), g.dims(3, {0, 1})}, g.iterators(3, {2}),
        [&](OpBuilder &nb2, Location nl, ValueRange a) {
          Value k = linalg::IndexOp::create(nb2, nl, 1);
          Value other = linalg::IndexOp::create(nb2, nl, 2);
          Value lower = cmp(nb2, nl, arith::CmpIPredicate::ult, other, k);
          yieldOne(nb2, nl,
                   arith::AddIOp::create(
                       nb2, nl, a[1],
                       arith::SelectOp::create(nb2, nl, lower, a[0],
                                               i64(nb2, nl, 0))));
        });
    // slot[row, n] = start[k] + before[blk, k] + the earlier positions of
    // n's block in bucket k (k = bucket[row, n]): the whole words of the
    // block before n's word, then the fields of n's word below n.
    SmallVector<Value> slotInputs;
    SmallVector<AffineMap> slotMaps;
    if (bucketParts_ == 1) {
      slotInputs.push_back(bucket);
      slotMaps.push_back(id2);
    }
    slotMaps.push_back(id2);
    Value slot = g.generic(
        slotInputs, emptyTensor(b, loc, {rowCount, length}, i64t), slotMaps,
        parallelIterators(2), [&](OpBuilder &nb2, Location nl, ValueRange a) {
          SmallVector<Value> ix = loopIndices(nb2, nl, 2);
          Value row = ix[0], pos = ix[1];
          Value mine = bucketOf(nb2, nl, row,
                                bucketParts_ == 1 ? a[0]
                                                  : bucketAt(nb2, nl, row, pos));
          Value blk =
              arith::DivUIOp::create(nb2, nl, pos, cidx(nb2, nl, kSortBlock));
          Value within = arith::RemUIOp::create(nb2, nl, pos,
                                                cidx(nb2, nl, kSortBlock));
          Value wordsBefore = arith::DivUIOp::create(
              nb2, nl, within, cidx(nb2, nl, f.perWord));
          Value local = countInBlock(nb2, nl, row, blk, wordsBefore, mine);
          Value own = tensor::ExtractOp::create(
              nb2, nl, packed,
              ValueRange{row, arith::DivUIOp::create(nb2, nl, pos,
                                                     cidx(nb2, nl, f.perWord))});
          Value shift = arith::MulIOp::create(
              nb2, nl,
              toI64(nb2, nl,
                    arith::RemUIOp::create(nb2, nl, pos, cidx(nb2, nl, f.perWord))),
              i64(nb2, nl, f.bits));
          Value below = arith::SubIOp::create(
              nb2, nl, arith::ShLIOp::create(nb2, nl, i64(nb2, nl, 1), shift),
              i64(nb2, nl, 1));
          Value ownBits = arith::AndIOp::create(
              nb2, nl, matchFields(nb2, nl, f, own, mine), below);
          local = arith::AddIOp::create(nb2, nl, local,
                                        countFields(nb2, nl, f, ownBits));
          Value k = toIndex(nb2, nl, mine);
          Value s = tensor::ExtractOp::create(nb2, nl, start, ValueRange{row, k});
          Value e = tensor::ExtractOp::create(nb2, nl, before,
                                              ValueRange{row, blk, k});
          yieldOne(nb2, nl,
                   arith::AddIOp::create(
                       nb2, nl, arith::AddIOp::create(nb2, nl, s, e), local));
        });
    // The inverse, per slot t: its bucket k = #{k : start[k] + total[k] <=
    // t}, its block #{blk : start[k] + before[blk, k] + hist[blk, k] <= t}
    // (both nondecreasing: binary search), its rank r among the block's
    // positions of bucket k, and the position of that block's r-th field
    // equal to k.
    Value numBlocks = toIndexValue(b, loc, blocks);
    int64_t blockSteps = searchSteps(blocks), binSteps = searchSteps(nb);
    Value perm = g.generic(
        ValueRange{}, emptyTensor(b, loc, {rowCount, slots}, i64t), {id2},
        parallelIterators(2), [&](OpBuilder &nb2, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb2, nl, 2);
          Value row = ix[0];
          Value t = toI64(nb2, nl, ix[1]);
          Value k64 = countAtMost(
              nb2, nl, cidx(nb2, nl, bins), binSteps, t,
              [&](OpBuilder &kb, Value k) {
                return arith::AddIOp::create(
                           kb, nl,
                           tensor::ExtractOp::create(kb, nl, start,
                                                     ValueRange{row, k}),
                           tensor::ExtractOp::create(kb, nl, total,
                                                     ValueRange{row, k}))
                    .getResult();
              });
          // t < N, so k < bins.
          Value k = toIndex(nb2, nl, k64);
          Value s = tensor::ExtractOp::create(nb2, nl, start, ValueRange{row, k});
          Value blk = toIndex(
              nb2, nl,
              countAtMost(nb2, nl, numBlocks, blockSteps, t,
                          [&](OpBuilder &lb, Value blkAt) {
                            Value e = tensor::ExtractOp::create(
                                lb, nl, before, ValueRange{row, blkAt, k});
                            Value c = tensor::ExtractOp::create(
                                lb, nl, hist, ValueRange{row, blkAt, k});
                            return arith::AddIOp::create(
                                       lb, nl, arith::AddIOp::create(lb, nl, s, e),
                                       c)
                                .getResult();
                          }));
          Value e = tensor::ExtractOp::create(nb2, nl, before,
                                              ValueRange{row, blk, k});
          // The wanted field is the one whose prefix count is r + 1.
          Value want = arith::AddIOp::create(
              nb2, nl,
              arith::SubIOp::create(nb2, nl, t,
                                    arith::AddIOp::create(nb2, nl, s, e)),
              i64(nb2, nl, 1));
          Value first = toI64(
              nb2, nl,
              arith::MulIOp::create(nb2, nl, blk, cidx(nb2, nl, kSortBlock)));
          Value fieldMask = i64u(nb2, nl, f.pad());
          yieldOne(
              nb2, nl,
              loop(nb2, nl, cidx(nb2, nl, blockWords),
                   {i64(nb2, nl, 0), i64(nb2, nl, 0)},
                   [&](OpBuilder &jb, Value j, ValueRange acc) {
                     Value bits = matchFields(
                         jb, nl, f, blockWord(jb, nl, row, blk, j), k64);
                     Value prefix = prefixFields(jb, nl, f, bits);
                     // Field i: prefix count `want` - (earlier words) and a
                     // match.
                     Value local = arith::SubIOp::create(jb, nl, want, acc[0]);
                     Value found = acc[1];
                     Value base = arith::AddIOp::create(
                         jb, nl, first,
                         toI64(jb, nl,
                               arith::MulIOp::create(jb, nl, j,
                                                     cidx(jb, nl, f.perWord))));
                     for (int64_t i = 0; i < f.perWord; ++i) {
                       Value count = arith::AndIOp::create(
                           jb, nl,
                           arith::ShRUIOp::create(jb, nl, prefix,
                                                  i64(jb, nl, f.bits * i)),
                           fieldMask);
                       Value top = arith::AndIOp::create(
                           jb, nl, bits,
                           i64u(jb, nl, uint64_t(1) << (f.bits * i + f.bits - 1)));
                       Value hit = arith::AndIOp::create(
                           jb, nl, cmp(jb, nl, arith::CmpIPredicate::eq, count, local),
                           cmp(jb, nl, arith::CmpIPredicate::ne, top,
                               i64(jb, nl, 0)));
                       found = arith::SelectOp::create(
                           jb, nl, hit,
                           arith::AddIOp::create(jb, nl, base, i64(jb, nl, i)),
                           found);
                     }
                     return SmallVector<Value>{
                         arith::AddIOp::create(jb, nl, acc[0],
                                               countFields(jb, nl, f, bits)),
                         found};
                   })[1]);
        });
    return {slot, perm};
  }

  /// attn.sdpa of `q` [B, G, M, D] over `k`, `v` with the i64 positions
  /// `qpos`, `kpos`, causal on them when `causal`, its result in q's element
  /// type and an f32 lse.
  SdpaOp positionedSdpa(Value q, Value k, Value v, Value qpos, Value kpos,
                        bool causal, FloatAttr scale) {
    auto qType = cast<RankedTensorType>(q.getType());
    Value init =
        emptyTensor(b, loc, getSizes(b, loc, q), qType.getElementType());
    auto lseType =
        RankedTensorType::get(qType.getShape().take_front(3), b.getF32Type());
    PatternAttrInterface pattern;
    if (causal)
      pattern = cast<PatternAttrInterface>(
          CausalAttr::get(b.getContext(), 0, /*bottomRight=*/false));
    return SdpaOp::create(
        b, loc, init.getType(), lseType, q, k, v, init, /*mask=*/Value(),
        /*bias=*/Value(), /*memory_key=*/Value(), /*memory_value=*/Value(),
        qpos, kpos, /*span=*/Value(), /*query_segments=*/Value(),
        /*key_segments=*/Value(), /*kv_num_blocks=*/Value(),
        /*kv_indices=*/Value(), /*full_kv_num_blocks=*/Value(),
        /*full_kv_indices=*/Value(), pattern, scale,
        /*ramp=*/FloatAttr(), /*max_span=*/FloatAttr(),
        /*block_size=*/DenseI64ArrayAttr());
  }

  /// Gives `sdpa` at head dim 64 its own core tile (docs/GPU.md, "LSH and
  /// clustered attention on the Hopper core"): 64-row query tiles (one
  /// warpgroup) and, with `minBlocksPerSM`, that many CTAs per
  /// multiprocessor (ptxas then caps the registers). The small heads of
  /// these rewrites are bound by latency: several CTAs per multiprocessor
  /// overlap it. At head dim 128 the pass's own choice stands. `band`
  /// (block, lo, hi; empty: none) is the `kv_band` of the op: query row i
  /// has weight only on the key rows [b(i) + lo, b(i) + hi), b(i) =
  /// floor(i / block) block, so the core skips the key tiles outside.
  void setCoreOptions(SdpaOp sdpa, int64_t minBlocksPerSM,
                      ArrayRef<int64_t> band = {}) {
    if (cast<RankedTensorType>(sdpa.getQuery().getType()).getDimSize(3) != 64)
      return;
    SmallVector<NamedAttribute> options = {
        b.getNamedAttr("q_tile", b.getI64IntegerAttr(64)),
        b.getNamedAttr("min_blocks_per_sm",
                       b.getI64IntegerAttr(minBlocksPerSM))};
    if (!band.empty())
      options.push_back(
          b.getNamedAttr("kv_band", b.getDenseI64ArrayAttr(band)));
    sdpa->setAttr(gpu_core::kCoreOptionsAttr, b.getDictionaryAttr(options));
  }

  /// `x3` [S, N, D] as [S, D, N] (threads along n): the kernels that walk
  /// a row's D values with one thread per position then read along n,
  /// coalesced (a row-major row per thread misses L1 once many threads run).
  Value transposed(Value x3) { return transposedParts(x3, 1)[0]; }

  /// `x3` [S, N, D] as [S, D, N] in `parts` tensors [S, D / parts, N] (D a
  /// multiple of parts), written by one kernel (see spread).
  SmallVector<Value> transposedParts(Value x3, int64_t parts) {
    auto type = cast<RankedTensorType>(x3.getType());
    SmallVector<OpFoldResult> sizes = getSizes(b, loc, x3);
    OpFoldResult rows = idx(type.getDimSize(2) / parts);
    Value init = emptyTensor(b, loc, {sizes[0], rows, sizes[1]},
                             type.getElementType());
    return spread(
        init, parts, 1, [&](OpBuilder &nb, Location nl, int64_t, ValueRange ix,
                             ValueRange) {
          return SmallVector<Value>{tensor::ExtractOp::create(
              nb, nl, x3, ValueRange{ix[0], ix[2], ix[1]})};
        });
  }

  /// A loop over d < D (`parts` * the rows of each of `xT`, the parts of
  /// transposedParts) inside a generic's body, carrying `inits`: `step`
  /// gets x[s, d, n] in f32 for each n of `ns` (from part d / (D / parts))
  /// and d.
  SmallVector<Value>
  loopTransposed(OpBuilder &nb, Location nl, ArrayRef<Value> xT, Value s,
                 ValueRange ns, ValueRange inits,
                 function_ref<SmallVector<Value>(OpBuilder &, ValueRange, Value,
                                                 ValueRange)>
                     step) {
    int64_t rows = cast<RankedTensorType>(xT.front().getType()).getDimSize(1);
    SmallVector<Value> acc(inits);
    for (auto [i, part] : llvm::enumerate(xT))
      acc = loop(nb, nl, cidx(nb, nl, rows), acc,
                 [&, part = part, i = i](OpBuilder &db, Value dd, ValueRange a) {
                   SmallVector<Value> xs;
                   for (Value n : ns)
                     xs.push_back(convertFloat(
                         db, nl,
                         tensor::ExtractOp::create(db, nl, part,
                                                   ValueRange{s, dd, n}),
                         db.getF32Type()));
                   Value d = i == 0 ? dd
                                    : arith::AddIOp::create(
                                          db, nl, dd,
                                          cidx(db, nl, int64_t(i) * rows))
                                          .getResult();
                   return step(db, xs, d, a);
                 });
    return acc;
  }

  /// One parallel kernel writing `inits` (one shape) `parts` times over:
  /// result i * inits.size() + r is init r written for part i, whose
  /// element at indices ix is `body`'s r-th value at (i, ix with dim `dim`
  /// plus i times its size, ix) (the whole and the part's own indices). A
  /// thread writes one element of every result. The general path's simple
  /// kernels cost about the same per thread whatever the thread does (the
  /// measured kernels of docs/GPU.md, "LSH and clustered attention on the
  /// Hopper core": ~200 threads a ns), so a thread that writes several
  /// elements (separate tensors: slices of one tensor would be copied in by
  /// bufferization) takes less time in all. The inits are tensor.empty ops
  /// (part i > 0 gets a bufferization.alloc_tensor of the same type).
  SmallVector<Value>
  spread(ArrayRef<Value> inits, int64_t parts, unsigned dim,
         function_ref<SmallVector<Value>(OpBuilder &, Location, int64_t,
                                         ValueRange, ValueRange)>
             body) {
    auto type = cast<RankedTensorType>(inits.front().getType());
    unsigned rank = type.getRank();
    SmallVector<Value> outs;
    // Distinct empties (CSE would make equal tensor.empty ops one value).
    for (int64_t i = 0; i < parts; ++i)
      for (Value init : inits) {
        auto empty = init.getDefiningOp<tensor::EmptyOp>();
        outs.push_back(i == 0 || !empty
                           ? init
                           : bufferization::AllocTensorOp::create(
                                 b, loc, empty.getType(), empty.getDynamicSizes())
                                 .getResult());
      }
    SmallVector<Type> types;
    for (Value out : outs)
      types.push_back(out.getType());
    auto generic = linalg::GenericOp::create(
        b, loc, types, ValueRange{}, outs,
        SmallVector<AffineMap>(outs.size(), b.getMultiDimIdentityMap(rank)),
        parallelIterators(rank), [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, rank);
          SmallVector<Value> yields;
          for (int64_t i = 0; i < parts; ++i) {
            SmallVector<Value> at(ix);
            if (i > 0) {
              Value size = type.isDynamicDim(dim)
                               ? tensor::DimOp::create(nb, nl, inits.front(), dim)
                                     .getResult()
                               : cidx(nb, nl, type.getDimSize(dim));
              at[dim] = arith::AddIOp::create(
                  nb, nl, ix[dim],
                  arith::MulIOp::create(nb, nl, size, cidx(nb, nl, i)));
            }
            llvm::append_range(yields, body(nb, nl, i, at, ix));
          }
          linalg::YieldOp::create(nb, nl, yields);
        });
    return SmallVector<Value>(generic.getResults());
  }

  /// A source of gatherRows: rows `src3` [B S, N, D] (S = `srcHeads`),
  /// read at positions `pos` (an index into gatherRows' list), head g of
  /// batch b at row b S + (g / perHead) / `group`, times `norms` [B S, N]
  /// when given.
  struct GatherSource {
    Value src3;
    unsigned pos = 0;
    int64_t srcHeads = 1, group = 1;
    Value norms = {};
  };

  /// Per source: out[b, g, m, f] = src[row(b, g), pos[b, g, m] / tag, f]
  /// (see GatherSource) in `elt`; one kernel for all sources (they share
  /// the index arithmetic, and a thread's fixed cost is most of a gather's),
  /// built as [B, G, M D] (the long dim innermost) and expanded to
  /// [B, G, M, D]. With `parts` > 1 the heads come in that many parts
  /// (separate tensors, see spread): `positions` lists each part's
  /// positions (part-major, all of one shape [B, G / parts, M]) and result
  /// i * sources.size() + s is source s's part i. With `headMod` > 0 the
  /// head of g is (g / perHead) mod headMod (heads ordered round-major).
  SmallVector<Value> gatherRows(ArrayRef<GatherSource> sources,
                                ValueRange positions, Value perHead,
                                int64_t tag, Type elt, int64_t parts = 1,
                                int64_t headMod = 0) {
    size_t perPart = positions.size() / parts;
    int64_t d =
        cast<RankedTensorType>(sources.front().src3.getType()).getDimSize(2);
    SmallVector<OpFoldResult> ps = getSizes(b, loc, positions.front());
    OpFoldResult md = mul(ps[2], idx(d));
    Type f32 = b.getF32Type();
    SmallVector<Value> inits;
    for (size_t i = 0; i < sources.size(); ++i)
      inits.push_back(emptyTensor(b, loc, {ps[0], ps[1], md}, elt));
    SmallVector<Value> gathered = spread(
        inits, parts, 1,
        [&](OpBuilder &nb, Location nl, int64_t part, ValueRange ix,
            ValueRange local) {
          Value head = arith::DivUIOp::create(nb, nl, ix[1], perHead);
          if (headMod > 0)
            head = arith::RemUIOp::create(nb, nl, head, cidx(nb, nl, headMod));
          Value m = arith::DivUIOp::create(nb, nl, ix[2], cidx(nb, nl, d));
          Value f = arith::RemUIOp::create(nb, nl, ix[2], cidx(nb, nl, d));
          SmallVector<Value> pos;
          for (Value p : positions.slice(part * perPart, perPart))
            pos.push_back(tensor::ExtractOp::create(
                nb, nl, p, ValueRange{ix[0], local[1], m}));
          SmallVector<Value> outs;
          for (const GatherSource &src : sources) {
            Value h = head;
            if (src.group > 1)
              h = arith::DivUIOp::create(nb, nl, h, cidx(nb, nl, src.group));
            Value row = arith::AddIOp::create(
                nb, nl,
                arith::MulIOp::create(nb, nl, ix[0], cidx(nb, nl, src.srcHeads)),
                h);
            Value p = toIndex(nb, nl, pos[src.pos]);
            if (tag > 1)
              p = arith::DivUIOp::create(nb, nl, p, cidx(nb, nl, tag));
            Value x = tensor::ExtractOp::create(nb, nl, src.src3,
                                                ValueRange{row, p, f});
            if (src.norms) {
              Value s = tensor::ExtractOp::create(nb, nl, src.norms,
                                                  ValueRange{row, p});
              x = arith::MulFOp::create(nb, nl, convertFloat(nb, nl, x, f32), s);
            }
            outs.push_back(convertFloat(nb, nl, x, elt));
          }
          return outs;
        });
    SmallVector<Value> results;
    for (Value out : gathered)
      results.push_back(
          expand(out, {{0}, {1}, {2, 3}}, {ps[0], ps[1], ps[2], idx(d)}));
    return results;
  }

  OpBuilder &b;
  Location loc;
  GenericBuilder g;
};

class LshRewriter : KernelBuilder {
public:
  LshRewriter(OpBuilder &b, LshOp op, bool mergeRounds, bool mergeF32)
      : KernelBuilder(b, op.getLoc()), op(op), mergeRounds(mergeRounds),
        mergeF32(mergeF32) {
    auto qkType = cast<RankedTensorType>(op.getQk().getType());
    elt = cast<FloatType>(qkType.getElementType());
    heads = qkType.getDimSize(1);
    d = qkType.getDimSize(3);
    rounds = cast<RankedTensorType>(op.getRotations().getType()).getDimSize(1);
    numBuckets = op.getNumBucketsAttr().getInt();
    half = numBuckets / 2;
    chunk = op.getChunkSizeAttr().getInt();
  }

  void run() {
    Value qk = op.getQk();
    SmallVector<OpFoldResult> sizes = getSizes(b, loc, qk);
    batch = sizes[0];
    length = sizes[2];
    if (!getConstantIntValue(length)) {
      Value rem = arith::RemUIOp::create(b, loc, toIndexValue(b, loc, length),
                                         indexConst(b, loc, chunk));
      assertTrue(b, loc,
                 arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                       indexConst(b, loc, 0)),
                 "attn.lsh: N is not a multiple of chunk_size");
    }
    bh = mul(batch, idx(heads));
    rowCount = mul(bh, idx(rounds));
    numChunks = divSizes(b, loc, length, idx(chunk));
    // Chunks per sdpa head (see packChunks).
    packed = 1;
    if (std::optional<int64_t> n = getConstantIntValue(numChunks))
      while (2 * packed * chunk <= kQueryRows && *n % (2 * packed) == 0)
        packed *= 2;
    groups = mul(idx(heads * rounds), divSizes(b, loc, numChunks, idx(packed)));
    uint64_t lookBack = op.getLookBackAttr().getInt();
    uint64_t lookAhead = op.getLookAheadAttr().getInt();
    int64_t span = int64_t(std::min<uint64_t>(
        lookBack + lookAhead + 1, std::numeric_limits<int64_t>::max()));
    Value nc = toIndexValue(b, loc, numChunks);
    Value safeNc = safeDivisor(b, loc, numChunks);
    window = arith::MinUIOp::create(b, loc, indexConst(b, loc, span), nc)
                 .getResult();
    if (std::optional<int64_t> n = getConstantIntValue(numChunks)) {
      window = idx(std::min(span, *n));
      windowChunks = std::min(span, *n);
      lookBackChunks = *n == 0 ? 0 : int64_t(lookBack % *n);
      tagFactor = 1;
      while (tagFactor < packed + windowChunks - 1)
        tagFactor *= 2;
      if (packed == 1)
        tagFactor = 1;
    }
    if (std::optional<int64_t> n = getConstantIntValue(numChunks))
      lookBackMod = indexConst(b, loc, *n == 0 ? 0 : int64_t(lookBack % *n));
    else
      lookBackMod = arith::RemUIOp::create(
          b, loc, indexConst(b, loc, int64_t(lookBack)), safeNc);

    // Heads in `parts` separate tensors (spread): G static and even. With
    // the rounds merged in the core (static G, at most kParts rounds): one
    // part per round, heads ordered round-major.
    if (std::optional<int64_t> gs = getConstantIntValue(groups)) {
      if (mergeRounds && rounds <= kParts) {
        parts = rounds;
        roundMajor = true;
      } else {
        while (2 * parts <= kParts && *gs % (2 * parts) == 0)
          parts *= 2;
      }
    }
    Value qk3 = collapse(qk, {{0, 1}, {2}, {3}});
    SmallVector<Value> qkT = transposedParts(qk3, kParts);
    SmallVector<Value> bucket = buckets(qkT);  // [BHR, N / parts] each
    auto [slot, perm] = sort(bucket, numBuckets);          // [BHR, N] each

    SmallVector<Value> qpos = chunkPositions(perm, /*keys=*/false);
    SmallVector<Value> kpos = chunkPositions(perm, /*keys=*/true);
    Value norms = inverseNorms(qkT);
    SmallVector<Value> q = gather({{qk3, 0, heads}}, qpos);
    SmallVector<Value> kv =
        gather({{qk3, 0, heads, 1, norms},
                {collapse(op.getValue(), {{0, 1}, {2}, {3}}), 0, heads}},
               kpos);
    Value result;
    if (roundMajor) {
      result = mergedRounds(slot, q, kv, qpos, kpos);
    } else {
      SmallVector<Value> o, lse;
      for (int64_t i = 0; i < parts; ++i) {
        auto [oi, lsei] =
            attention(q[i], kv[2 * i], kv[2 * i + 1], qpos[i], kpos[i]);
        o.push_back(oi);
        lse.push_back(lsei);
      }
      result = combine(slot, o, lse);
    }
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }

private:
  /// bucket[bh R + r, n] (i64) from `qkT` [BH, D, N]: one thread per
  /// (bh, r, n) (n innermost: qkT is read along n, the rotations at one
  /// address across a warp), the hash
  /// projections x_k = sum_d qk[bh, n, d] R[h, r, d, k] summed in registers,
  /// and the first maximum of [x ; -x] (index k for x_k, K + k for -x_k).
  SmallVector<Value> buckets(ArrayRef<Value> qkT) {
    Type f32 = b.getF32Type();
    Value rot = op.getRotations();
    // With the projections in registers and a static even N, a thread
    // hashes positions n and n + N / 2 (two results [BH, R, N / 2]): each
    // rotation load serves two positions.
    int64_t parts = 1;
    std::optional<int64_t> n = getConstantIntValue(length);
    if (half <= kMaxRegisterHalf && n && *n % kHashParts == 0)
      parts = kHashParts;
    OpFoldResult partLength =
        parts == 1 ? length : OpFoldResult(idx(*n / parts));
    SmallVector<Value> inits;
    for (int64_t i = 0; i < parts; ++i)
      inits.push_back(
          i == 0 ? emptyTensor(b, loc, {bh, idx(rounds), partLength},
                               b.getI64Type())
                 : bufferization::AllocTensorOp::create(
                       b, loc, inits.front().getType(), ValueRange{})
                       .getResult());
    SmallVector<Type> types(parts, inits.front().getType());
    auto generic = linalg::GenericOp::create(
        b, loc, types, ValueRange{}, inits,
        SmallVector<AffineMap>(parts, g.dims(3, {0, 1, 2})), parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, 3);
          Value h = arith::RemUIOp::create(nb, nl, ix[0], cidx(nb, nl, heads));
          Value zero = g.f32Const(nb, nl, 0.0);
          if (half <= kMaxRegisterHalf) {
            // d outermost, the K projections of each position in registers:
            // one load of qk[bh, n, d] per d and position.
            SmallVector<Value> ns;
            for (int64_t i = 0; i < parts; ++i)
              ns.push_back(i == 0 ? ix[2]
                                  : arith::AddIOp::create(
                                        nb, nl, ix[2],
                                        cidx(nb, nl, i * (*n / parts)))
                                        .getResult());
            SmallVector<Value> xs = loopTransposed(
                nb, nl, qkT, ix[0], ns, SmallVector<Value>(parts * half, zero),
                [&](OpBuilder &db, ValueRange qs, Value dd, ValueRange acc) {
                  SmallVector<Value> next(acc);
                  for (int64_t k = 0; k < half; ++k) {
                    Value w = convertFloat(
                        db, nl,
                        tensor::ExtractOp::create(
                            db, nl, rot, ValueRange{h, ix[1], dd, cidx(db, nl, k)}),
                        f32);
                    for (int64_t i = 0; i < parts; ++i)
                      next[i * half + k] = arith::AddFOp::create(
                          db, nl, acc[i * half + k],
                          arith::MulFOp::create(db, nl, qs[i], w));
                  }
                  return next;
                });
            // The first maximum of [x ; -x], entries offered in index order.
            SmallVector<Value> yields;
            for (int64_t i = 0; i < parts; ++i) {
              ArrayRef<Value> x = ArrayRef<Value>(xs).slice(i * half, half);
              Value curVal = x[0], curIdx = i64(nb, nl, 0);
              for (int64_t m = 1; m < 2 * half; ++m) {
                Value val = m < half ? x[m]
                                     : arith::NegFOp::create(nb, nl, x[m - half])
                                           .getResult();
                Value greater = arith::CmpFOp::create(
                    nb, nl, arith::CmpFPredicate::OGT, val, curVal);
                curVal = arith::SelectOp::create(nb, nl, greater, val, curVal);
                curIdx = arith::SelectOp::create(nb, nl, greater,
                                                 i64(nb, nl, m), curIdx);
              }
              yields.push_back(curIdx);
            }
            linalg::YieldOp::create(nb, nl, yields);
            return;
          }
          Value init = g.f32Const(nb, nl, -std::numeric_limits<double>::infinity());
          SmallVector<Value> best = loop(
              nb, nl, cidx(nb, nl, half), {init, i64(nb, nl, 0)},
              [&](OpBuilder &kb, Value k, ValueRange a) {
                Value x = loopTransposed(
                               kb, nl, qkT, ix[0], ix[2], {zero},
                               [&](OpBuilder &db, ValueRange qs, Value dd,
                                   ValueRange acc) {
                                 Value q = qs[0];
                                 Value w = convertFloat(
                                     db, nl,
                                     tensor::ExtractOp::create(
                                         db, nl, rot, ValueRange{h, ix[1], dd, k}),
                                     f32);
                                 return SmallVector<Value>{arith::AddFOp::create(
                                     db, nl, acc[0],
                                     arith::MulFOp::create(db, nl, q, w))};
                               })[0];
                Value curVal = a[0], curIdx = a[1];
                Value k64 = toI64(kb, nl, k);
                // Offers in increasing index within this step; an equal
                // value never replaces (ties to the first maximum). The
                // -x_k entries of earlier k have smaller indices than K + k
                // but larger than k: compare indices on equal values.
                auto offer = [&](Value val, Value index) {
                  Value greater = arith::CmpFOp::create(
                      kb, nl, arith::CmpFPredicate::OGT, val, curVal);
                  Value equal = arith::CmpFOp::create(
                      kb, nl, arith::CmpFPredicate::OEQ, val, curVal);
                  Value smaller =
                      cmp(kb, nl, arith::CmpIPredicate::slt, index, curIdx);
                  Value take = arith::OrIOp::create(
                      kb, nl, greater,
                      arith::AndIOp::create(kb, nl, equal, smaller));
                  curVal = arith::SelectOp::create(kb, nl, take, val, curVal);
                  curIdx = arith::SelectOp::create(kb, nl, take, index, curIdx);
                };
                offer(x, k64);
                offer(arith::NegFOp::create(kb, nl, x),
                      arith::AddIOp::create(kb, nl, k64, i64(kb, nl, half)));
                return SmallVector<Value>{curVal, curIdx};
              });
          yieldOne(nb, nl, best[1]);
        });
    SmallVector<Value> out;
    for (Value r : generic.getResults())
      out.push_back(collapse(r, {{0, 1}, {2}}));
    return out;
  }

  /// The positions seen by each sdpa head, [B, G, P c] for the queries and
  /// [B, G, (P + W - 1) c] for the keys (P = `packed` chunks per head; with
  /// P = 1, [B, G, W c]). Head g = (h R + r) (nC / P) + e holds the chunks
  /// ch0 + p, ch0 = e P, p < P. Row m is slot t(m) of round r, a key tag
  /// tag(m) = m / c naming chunk (ch0 + tag - look_back mod nC) mod nC:
  ///   queries: t(m) = ch0 c + m,
  ///   keys:    t(m) = ((ch0 + m / c + nC - look_back mod nC) mod nC) c + m mod c,
  /// and pos[b, g, m] = perm[(b H + h) R + r, t(m)] T + tag, where T
  /// (`tagFactor`, a power of two above the largest tag; 1 when P = 1) and
  /// the query's tag p + look_back mod nC (the tag of its own chunk) let the
  /// score_mod tell the chunks apart (see attention). Order and equality of
  /// the encoded positions are those of (original position, tag).
  SmallVector<Value> chunkPositions(Value perm, bool keys) {
    OpFoldResult rows =
        keys ? mul(packed == 1 ? window : idx(packed + windowChunks - 1),
                   idx(chunk))
             : OpFoldResult(idx(packed * chunk));
    Value numChunksV = safeDivisor(b, loc, numChunks);
    Value headsPerRound =
        safeDivisor(b, loc, divSizes(b, loc, numChunks, idx(packed)));
    OpFoldResult partGroups = divSizes(b, loc, groups, idx(parts));
    return spread(
        emptyTensor(b, loc, {batch, partGroups, rows}, b.getI64Type()), parts,
        1, [&](OpBuilder &nb, Location nl, int64_t, ValueRange ix, ValueRange) {
          Value chunkC = cidx(nb, nl, chunk);
          Value headRound = arith::DivUIOp::create(nb, nl, ix[1], headsPerRound);
          Value first = arith::MulIOp::create(
              nb, nl, arith::RemUIOp::create(nb, nl, ix[1], headsPerRound),
              cidx(nb, nl, packed));
          // The perm row (b H + h) R + r of head round h R + r (r H + h
          // when round-major).
          if (roundMajor)
            headRound = arith::AddIOp::create(
                nb, nl,
                arith::MulIOp::create(
                    nb, nl,
                    arith::RemUIOp::create(nb, nl, headRound,
                                           cidx(nb, nl, heads)),
                    cidx(nb, nl, rounds)),
                arith::DivUIOp::create(nb, nl, headRound, cidx(nb, nl, heads)));
          Value row = arith::AddIOp::create(
              nb, nl,
              arith::MulIOp::create(nb, nl, ix[0],
                                    cidx(nb, nl, heads * rounds)),
              headRound);
          Value tag = arith::DivUIOp::create(nb, nl, ix[2], chunkC);
          Value inChunk = arith::RemUIOp::create(nb, nl, ix[2], chunkC);
          Value slotChunk = arith::AddIOp::create(nb, nl, first, tag);
          if (keys) {
            Value shifted = arith::AddIOp::create(
                nb, nl, slotChunk,
                arith::SubIOp::create(nb, nl, numChunksV, lookBackMod));
            slotChunk = arith::RemUIOp::create(nb, nl, shifted, numChunksV);
          } else {
            tag = arith::AddIOp::create(nb, nl, tag, lookBackMod);
          }
          Value t = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, slotChunk, chunkC), inChunk);
          Value pos = tensor::ExtractOp::create(nb, nl, perm, ValueRange{row, t});
          if (packed > 1)
            pos = arith::AddIOp::create(
                nb, nl, arith::MulIOp::create(nb, nl, pos, i64(nb, nl, tagFactor)),
                toI64(nb, nl, tag));
          return SmallVector<Value>{pos};
        });
  }

  /// 1 / |qk row| (0 for a zero row), [BH, N] f32, one thread per row (from
  /// `qkT` [BH, D, N]).
  Value inverseNorms(ArrayRef<Value> qkT) {
    Type f32 = b.getF32Type();
    return g.generic(
        ValueRange{}, emptyTensor(b, loc, {bh, length}, f32), {g.dims(2, {0, 1})},
        parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, 2);
          Value sum = loopTransposed(
              nb, nl, qkT, ix[0], ix[1], {g.f32Const(nb, nl, 0.0)},
              [&](OpBuilder &db, ValueRange xs, Value, ValueRange acc) {
                             Value x = xs[0];
                             return SmallVector<Value>{arith::AddFOp::create(
                                 db, nl, acc[0], arith::MulFOp::create(db, nl, x, x))};
                           })[0];
          Value norm = math::SqrtOp::create(nb, nl, sum);
          yieldOne(nb, nl, divideOrZero(nb, nl, g.f32Const(nb, nl, 1.0), norm));
        });
  }

  SmallVector<Value> gather(ArrayRef<GatherSource> sources, ValueRange pos) {
    if (roundMajor)
      return gatherRows(sources, pos,
                        safeDivisor(b, loc, divSizes(b, loc, numChunks,
                                                     idx(packed))),
                        tagFactor, elt, parts, heads);
    Value perHead = safeDivisor(
        b, loc, mul(idx(rounds), divSizes(b, loc, numChunks, idx(packed))));
    return gatherRows(sources, pos, perHead, tagFactor, elt, parts);
  }

  /// The chunk attention: causal on the original positions, the own key
  /// scoring -1e5, with the lse (f32).
  std::pair<Value, Value> attention(Value q, Value k, Value v, Value qpos,
                                    Value kpos) {
    SdpaOp sdpa = positionedSdpa(q, k, v, qpos, kpos, op.getCausal(),
                                 op.getScaleAttr());
    // With P > 1 chunks a head, query chunk p (rows [p c, p c + c)) sees
    // only the key chunks [p, p + W) of the head's list (the score_mod
    // below scores the others -1e30, and the row's own key, -1e5, lies in
    // its window): a band of block c, rows [0, W c) from the chunk's start.
    SmallVector<int64_t> band;
    if (packed > 1)
      band = {chunk, 0, windowChunks * chunk};
    setCoreOptions(sdpa, 0, band);
    {
      OpBuilder::InsertionGuard guard(b);
      Type index = b.getIndexType();
      Block *block = b.createBlock(&sdpa.getScoreMod(), sdpa.getScoreMod().end(),
                                   {b.getF32Type(), index, index, index, index},
                                   SmallVector<Location>(5, loc));
      Value i = block->getArgument(3), j = block->getArgument(4);
      Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, i, j);
      Value self = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(kSelfScore));
      Value score = block->getArgument(0);
      if (packed > 1) {
        // Query tag tq = p + look_back mod nC sees the key tags
        // tq - look_back mod nC .. tq - look_back mod nC + W - 1.
        auto c = [&](int64_t v) {
          return arith::ConstantIndexOp::create(b, loc, v).getResult();
        };
        Value tq = arith::RemUIOp::create(b, loc, i, c(tagFactor));
        Value tk = arith::RemUIOp::create(b, loc, j, c(tagFactor));
        Value lo = arith::SubIOp::create(b, loc, tq, c(lookBackChunks));
        Value live = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, tk, lo),
            arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::slt, tk,
                arith::AddIOp::create(b, loc, lo, c(windowChunks))));
        Value dead =
            arith::ConstantOp::create(b, loc, b.getF32FloatAttr(kDeadScore));
        score = arith::SelectOp::create(b, loc, live, score, dead);
      }
      YieldOp::create(
          b, loc, arith::SelectOp::create(b, loc, same, self, score).getResult());
    }
    return {sdpa.getResult(), sdpa.getLse()};
  }

  /// The rounds merged one at a time (`roundMajor`: part r is round r,
  /// H nC / P heads, each position of each head once): after round r's
  /// sdpa, two kernels merge its rows by log-sum-exp into the running
  /// accumulators, read at the positions' slots (round 0 just gathers):
  ///   lse[bh, n] = log(a + b) + s,
  ///   o[bh, n, f] = (a o_prev + b o_r) / (a + b) (0 when a + b = 0),
  /// a = exp(lse_prev - s), b = exp(lse_r - s), s the larger lse (0 when
  /// -inf; normalised by a + b, not by the new lse, whose rounding at
  /// large |lse| would not cancel), o in f32 until the
  /// last round (which writes the op's outs in its element type). Both carry
  /// gpu_core::kMergeAttr ("lse" / "o", the previous accumulators their
  /// inputs: lse; o and lse) and the sdpa `merge = [first, tag bits, nC / P]` in its
  /// gpu_core::kCoreOptionsAttr: attn-gpu-sdpa-core then does the merge
  /// in the core kernel's epilogue (the rows scattered to their positions)
  /// and drops the two kernels; elsewhere they run as built.
  Value mergedRounds(Value slot, ArrayRef<Value> q, ArrayRef<Value> kv,
                     ArrayRef<Value> qpos, ArrayRef<Value> kpos) {
    Type f32 = b.getF32Type();
    Value oInit = collapse(op.getInit(), {{0, 1}, {2}, {3}});
    Value lseInit = emptyTensor(b, loc, {bh, length}, f32);
    Value n = toIndexValue(b, loc, length);
    int64_t tagBits = llvm::Log2_64(tagFactor);
    int64_t headChunks = *getConstantIntValue(numChunks) / packed;
    // The f32 accumulator of the rounds before the last (made before the
    // first sdpa: the core takes the merge only where the merge's inits
    // are defined before the op).
    Type accElt = mergeF32 ? Type(f32) : Type(elt);
    Value accInit =
        rounds > 1 ? emptyTensor(b, loc, getSizes(b, loc, oInit), accElt)
                   : Value();
    Value accO, accLse;
    for (int64_t r = 0; r < rounds; ++r) {
      auto [o, lse] = attention(q[r], kv[2 * r], kv[2 * r + 1], qpos[r], kpos[r]);
      SdpaOp sdpa = o.getDefiningOp<SdpaOp>();
      SmallVector<NamedAttribute> options;
      if (auto own = sdpa->getAttrOfType<DictionaryAttr>(
              gpu_core::kCoreOptionsAttr))
        llvm::append_range(options, own.getValue());
      options.push_back(b.getNamedAttr(
          "merge", b.getDenseI64ArrayAttr({r == 0, tagBits, headChunks})));
      sdpa->setAttr(gpu_core::kCoreOptionsAttr, b.getDictionaryAttr(options));
      Value o3 = collapse(o, {{0}, {1, 2}, {3}});
      Value lse2 = collapse(lse, {{0}, {1, 2}});
      // Row h N + slot of the round's results, [B, H N, ...].
      auto rowAt = [&, r = r](OpBuilder &nb, Location nl, Value bhi, Value pos) {
        Value sr = arith::AddIOp::create(
            nb, nl, arith::MulIOp::create(nb, nl, bhi, cidx(nb, nl, rounds)),
            cidx(nb, nl, r));
        Value s = toIndex(
            nb, nl, tensor::ExtractOp::create(nb, nl, slot, ValueRange{sr, pos}));
        Value h = arith::RemUIOp::create(nb, nl, bhi, cidx(nb, nl, heads));
        return std::make_pair(
            arith::DivUIOp::create(nb, nl, bhi, cidx(nb, nl, heads)).getResult(),
            arith::AddIOp::create(nb, nl, arith::MulIOp::create(nb, nl, h, n), s)
                .getResult());
      };
      SmallVector<Value> lseIns, oIns;
      SmallVector<AffineMap> oMaps;
      if (r > 0) {
        lseIns.push_back(accLse);
        oIns = {accO, accLse};
        oMaps = {g.dims(3, {0, 1, 2}), g.dims(3, {0, 1})};
      }
      oMaps.push_back(g.dims(3, {0, 1, 2}));
      auto lseGen = linalg::GenericOp::create(
          b, loc, TypeRange{lseInit.getType()}, lseIns, ValueRange{lseInit},
          SmallVector<AffineMap>(lseIns.size() + 1, g.dims(2, {0, 1})),
          parallelIterators(2),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            SmallVector<Value> ix = loopIndices(nb, nl, 2);
            auto [bi, row] = rowAt(nb, nl, ix[0], ix[1]);
            Value l = tensor::ExtractOp::create(nb, nl, lse2, ValueRange{bi, row});
            if (r == 0)
              return yieldOne(nb, nl, l);
            Value shift = softmaxShift(
                nb, nl, arith::MaximumFOp::create(nb, nl, args[0], l));
            Value total = arith::AddFOp::create(
                nb, nl,
                math::ExpOp::create(nb, nl,
                                    arith::SubFOp::create(nb, nl, args[0], shift)),
                math::ExpOp::create(nb, nl,
                                    arith::SubFOp::create(nb, nl, l, shift)));
            yieldOne(nb, nl,
                     arith::AddFOp::create(nb, nl, shift,
                                           math::LogOp::create(nb, nl, total)));
          });
      lseGen->setAttr(gpu_core::kMergeAttr, b.getStringAttr("lse"));
      Value newLse = lseGen.getResult(0);
      // The accumulators that a later round reads in f32.
      bool last = r + 1 == rounds;
      Value oOut = last ? oInit : accInit;
      auto oGen = linalg::GenericOp::create(
          b, loc, TypeRange{oOut.getType()}, oIns, ValueRange{oOut}, oMaps,
          parallelIterators(3),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            SmallVector<Value> ix = loopIndices(nb, nl, 3);
            auto [bi, row] = rowAt(nb, nl, ix[0], ix[1]);
            Value x =
                tensor::ExtractOp::create(nb, nl, o3, ValueRange{bi, row, ix[2]});
            Type outElt = last ? Type(elt) : accElt;
            if (r == 0)
              return yieldOne(nb, nl, convertFloat(nb, nl, x, outElt));
            Value l = tensor::ExtractOp::create(nb, nl, lse2, ValueRange{bi, row});
            Value p = args[1];
            Value shift = softmaxShift(
                nb, nl, arith::MaximumFOp::create(nb, nl, p, l));
            Value wp = math::ExpOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, p, shift));
            Value wl = math::ExpOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, l, shift));
            Value sum = arith::AddFOp::create(
                nb, nl,
                arith::MulFOp::create(nb, nl, wp,
                                      convertFloat(nb, nl, args[0], f32)),
                arith::MulFOp::create(nb, nl, wl, convertFloat(nb, nl, x, f32)));
            yieldOne(nb, nl,
                     convertFloat(nb, nl,
                                  divideOrZero(nb, nl, sum,
                                               arith::AddFOp::create(nb, nl, wp, wl)),
                                  outElt));
          });
      oGen->setAttr(gpu_core::kMergeAttr, b.getStringAttr("o"));
      accLse = newLse;
      accO = oGen.getResult(0);
    }
    return expand(accO, {{0, 1}, {2}, {3}}, getSizes(b, loc, op.getInit()));
  }

  /// The rounds combined by log-sum-exp into the op's outs, in f32: loops
  /// (b H + h, n Dv + f); round r of position n is row (h R + r) N + slot of
  /// the chunk results viewed as [B, H R N, Dv] and [B, H R N] (`o` and
  /// `lse` in `parts` parts of H R N / parts rows each).
  Value combine(Value slot, ArrayRef<Value> o, ArrayRef<Value> lse) {
    Type f32 = b.getF32Type();
    SmallVector<Value> o3, lse2;
    for (auto [oi, lsei] : llvm::zip(o, lse)) {
      o3.push_back(collapse(oi, {{0}, {1, 2}, {3}}));
      lse2.push_back(collapse(lsei, {{0}, {1, 2}}));
    }
    OpFoldResult partRows = getSizes(b, loc, lse2.front())[1];
    Value init = collapse(op.getInit(), {{0, 1}, {2, 3}});
    Value n = toIndexValue(b, loc, length);
    Value result = g.generic(
        ValueRange{}, init, {g.dims(2, {0, 1})}, parallelIterators(2),
        [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, 2);
          Value bi = arith::DivUIOp::create(nb, nl, ix[0], cidx(nb, nl, heads));
          Value h = arith::RemUIOp::create(nb, nl, ix[0], cidx(nb, nl, heads));
          Value pos = arith::DivUIOp::create(nb, nl, ix[1], cidx(nb, nl, d));
          Value f = arith::RemUIOp::create(nb, nl, ix[1], cidx(nb, nl, d));
          Value rows = toIndexValue(nb, nl, partRows);
          SmallVector<Value> rowOf, partOf, lseOf;
          Value max;
          for (int64_t r = 0; r < rounds; ++r) {
            Value sr = arith::AddIOp::create(
                nb, nl,
                arith::MulIOp::create(nb, nl, ix[0], cidx(nb, nl, rounds)),
                cidx(nb, nl, r));
            Value s = toIndex(
                nb, nl, tensor::ExtractOp::create(nb, nl, slot, ValueRange{sr, pos}));
            Value base = arith::MulIOp::create(
                nb, nl,
                arith::AddIOp::create(
                    nb, nl, arith::MulIOp::create(nb, nl, h, cidx(nb, nl, rounds)),
                    cidx(nb, nl, r)),
                n);
            Value row = arith::AddIOp::create(nb, nl, base, s);
            Value part = cidx(nb, nl, 0);
            if (parts > 1) {
              part = arith::DivUIOp::create(nb, nl, row, rows);
              row = arith::RemUIOp::create(nb, nl, row, rows);
            }
            Value l = extractPart(nb, nl, lse2, part, ValueRange{bi, row});
            rowOf.push_back(row);
            partOf.push_back(part);
            lseOf.push_back(l);
            max = max ? arith::MaximumFOp::create(nb, nl, max, l).getResult() : l;
          }
          Value shift = softmaxShift(nb, nl, max);
          Value total = g.f32Const(nb, nl, 0.0), acc = g.f32Const(nb, nl, 0.0);
          for (int64_t r = 0; r < rounds; ++r) {
            Value w = math::ExpOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, lseOf[r], shift));
            Value x = convertFloat(
                nb, nl,
                extractPart(nb, nl, o3, partOf[r], ValueRange{bi, rowOf[r], f}),
                f32);
            total = arith::AddFOp::create(nb, nl, total, w);
            acc = arith::AddFOp::create(nb, nl, acc,
                                        arith::MulFOp::create(nb, nl, w, x));
          }
          yieldOne(nb, nl,
                   convertFloat(nb, nl, divideOrZero(nb, nl, acc, total), elt));
        });
    return expand(result, {{0, 1}, {2, 3}}, getSizes(b, loc, op.getInit()));
  }

  LshOp op;
  FloatType elt;
  int64_t heads, d, rounds, numBuckets, half, chunk;
  OpFoldResult batch, length, bh, rowCount, numChunks, groups, window;
  Value lookBackMod;
  /// Chunks per sdpa head, and (with packed > 1: static nC) W, look_back
  /// mod nC and the tag factor of the encoded positions.
  int64_t packed = 1, windowChunks = 0, lookBackChunks = 0, tagFactor = 1;
  /// Parts of the sdpa heads (separate tensors and sdpa ops, see spread):
  /// the largest power of two up to kParts that divides G (1 when G is
  /// dynamic).
  static constexpr int64_t kParts = 4;
  /// Positions hashed by one thread (see buckets).
  static constexpr int64_t kHashParts = 4;
  int64_t parts = 1;
  /// Whether to merge the rounds one at a time (see mergedRounds), and
  /// whether it does: parts are then rounds, heads g = (r H + h) nC / P + e.
  bool mergeRounds;
  /// Whether the accumulator between merged rounds is f32 (else `elt`).
  bool mergeF32;
  bool roundMajor = false;
};

/// Whether the rewrite takes `op` (attn.cluster; see the file comment).
bool isTaken(ClusterOp op) {
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  auto k = cast<RankedTensorType>(op.getKey().getType());
  auto mu = cast<RankedTensorType>(op.getCentroids().getType());
  if (!coreTensors({q, k, cast<RankedTensorType>(op.getValue().getType()),
                    cast<RankedTensorType>(op.getInit().getType())}) ||
      !isa<FloatType>(mu.getElementType()) || mu.getRank() != 3)
    return false;
  return !q.isDynamicDim(1) && !k.isDynamicDim(1) && !mu.isDynamicDim(1) &&
         op.getWindowAttr().getInt() >= 1;
}

/// Builds the kernels of one attn.cluster: per (b, h, centroid c) the top w
/// queries and keys by a radix select (4-bit digits of the scores'
/// order-preserving keys, counted per block of 128 positions), listed by a
/// 3-bucket counting sort (above the w-th key, equal to it, below: the first
/// w slots are the members), the members gathered into heads h C + c, one
/// attn.sdpa on the core, and each query's clusters combined by
/// log-sum-exp.
class ClusterRewriter : KernelBuilder {
public:
  ClusterRewriter(OpBuilder &b, ClusterOp op)
      : KernelBuilder(b, op.getLoc()), op(op) {
    auto q = cast<RankedTensorType>(op.getQuery().getType());
    elt = cast<FloatType>(q.getElementType());
    heads = q.getDimSize(1);
    kvHeads = cast<RankedTensorType>(op.getKey().getType()).getDimSize(1);
    d = q.getDimSize(3);
    centroids =
        cast<RankedTensorType>(op.getCentroids().getType()).getDimSize(1);
    window = op.getWindowAttr().getInt();
  }

  void run() {
    SmallVector<OpFoldResult> qs = getSizes(b, loc, op.getQuery());
    SmallVector<OpFoldResult> ks = getSizes(b, loc, op.getKey());
    batch = qs[0];
    for (OpFoldResult n : {qs[2], ks[2]})
      if (!getConstantIntValue(n))
        assertTrue(b, loc,
                   arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         indexConst(b, loc, window),
                                         toIndexValue(b, loc, n)),
                   "attn.cluster: window is larger than N");
    Value q3 = collapse(op.getQuery(), {{0, 1}, {2}, {3}});
    Value k3 = collapse(op.getKey(), {{0, 1}, {2}, {3}});
    Value v3 = collapse(op.getValue(), {{0, 1}, {2}, {3}});
    auto [qSlot, qPerm] = select(q3, qs[2], heads, 1);
    auto [kSlot, kPerm] = select(k3, ks[2], kvHeads, heads / kvHeads);
    (void)kSlot;
    Value qpos = members(qPerm), kpos = members(kPerm);
    Value perHead = indexConst(b, loc, centroids);
    int64_t group = heads / kvHeads;
    SmallVector<Value> qkv = gatherRows(
        {{q3, 0, heads}, {k3, 1, kvHeads, group}, {v3, 1, kvHeads, group}},
        {qpos, kpos}, perHead, 1, elt);
    Value q = qkv[0], k = qkv[1], v = qkv[2];
    auto [o, lse] = attention(q, k, v, qpos, kpos);
    Value result = combine(qSlot, o, lse, qs[2]);
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }

private:
  /// The members of every (b, h, c) among the rows of `x3` [B S, N, D]
  /// (query head h reads row b S + h / group): returns (slot, perm), both
  /// [B H C, N] i64; a position is a member iff its slot is below w, and
  /// perm[row, 0 .. w) lists the members.
  std::pair<Value, Value> select(Value x3, OpFoldResult n, int64_t srcHeads,
                                 int64_t group) {
    Type i64t = b.getI64Type(), f32 = b.getF32Type();
    Value mu = op.getCentroids();
    Value xT = transposed(x3);
    OpFoldResult rows = mul(mul(batch, idx(heads)), idx(centroids));
    // key[(b H + h) C + c, n]: the order-preserving 32-bit key of
    // <x^_n, mu[h, c]> (x^ = x / |x|, 0 for a zero row; -0 as +0).
    Value keys = g.generic(
        ValueRange{}, emptyTensor(b, loc, {rows, n}, i64t), {g.dims(2, {0, 1})},
        parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, 2);
          Value bh = arith::DivUIOp::create(nb, nl, ix[0], cidx(nb, nl, centroids));
          Value c = arith::RemUIOp::create(nb, nl, ix[0], cidx(nb, nl, centroids));
          Value bi = arith::DivUIOp::create(nb, nl, bh, cidx(nb, nl, heads));
          Value h = arith::RemUIOp::create(nb, nl, bh, cidx(nb, nl, heads));
          Value row = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, bi, cidx(nb, nl, srcHeads)),
              arith::DivUIOp::create(nb, nl, h, cidx(nb, nl, group)));
          Value zero = g.f32Const(nb, nl, 0.0);
          SmallVector<Value> sums = loop(
              nb, nl, cidx(nb, nl, d), {zero, zero},
              [&](OpBuilder &db, Value dd, ValueRange acc) {
                Value x = convertFloat(
                    db, nl,
                    tensor::ExtractOp::create(db, nl, xT, ValueRange{row, dd, ix[1]}),
                    f32);
                Value m = convertFloat(
                    db, nl, tensor::ExtractOp::create(db, nl, mu, ValueRange{h, c, dd}),
                    f32);
                return SmallVector<Value>{
                    arith::AddFOp::create(db, nl, acc[0],
                                          arith::MulFOp::create(db, nl, x, m)),
                    arith::AddFOp::create(db, nl, acc[1],
                                          arith::MulFOp::create(db, nl, x, x))};
              });
          Value score = divideOrZero(nb, nl, sums[0],
                                     math::SqrtOp::create(nb, nl, sums[1]));
          yieldOne(nb, nl, orderKey(nb, nl, score));
        });
    // Radix select of the w-th largest key, 4 bits a pass from the top:
    // prefix[row] holds the digits found, remaining[row] how many of the keys
    // with that prefix are still to be taken.
    Value prefix = g.filled({rows}, i64t, 0);
    Value remaining = g.filled({rows}, i64t, double(window));
    OpFoldResult blocks = ceilDiv(n, kSortBlock);
    Value nv = toIndexValue(b, loc, n);
    for (int64_t shift = 28; shift >= 0; shift -= 4) {
      int64_t mask = (0xFFFFFFFFll << (shift + 4)) & 0xFFFFFFFFll;
      // cnt_digit[row, t]: the keys at positions t, t + 128, ... with the
      // prefix and that digit, the 16 counts of a thread in registers (its
      // loads coalesced across a warp: consecutive t).
      OpFoldResult lanes = idx(kSortBlock);
      Value numBlocks = toIndexValue(b, loc, blocks);
      Type cntType = RankedTensorType::get(
          {getConstantIntValue(rows).value_or(ShapedType::kDynamic), kSortBlock},
          i64t);
      SmallVector<Value> cntInits(16, emptyTensor(b, loc, {rows, lanes}, i64t));
      SmallVector<AffineMap> cntMaps(16, g.dims(2, {0, 1}));
      auto cnt = linalg::GenericOp::create(
          b, loc, SmallVector<Type>(16, cntType), ValueRange{}, cntInits,
          cntMaps, parallelIterators(2),
          [&](OpBuilder &nb, Location nl, ValueRange) {
            SmallVector<Value> ix = loopIndices(nb, nl, 2);
            Value p = tensor::ExtractOp::create(nb, nl, prefix, ValueRange{ix[0]});
            // Per run of up to 255 blocks the counts as 8-bit fields of two
            // words (digits 0-7, 8-15), then added to the 16 counts.
            Value runs = arith::CeilDivUIOp::create(nb, nl, numBlocks,
                                                    cidx(nb, nl, kFieldRun));
            SmallVector<Value> counts = loop(
                nb, nl, runs, SmallVector<Value>(16, i64(nb, nl, 0)),
                [&](OpBuilder &ob, Value run, ValueRange acc) {
                  Value lo = arith::MulIOp::create(ob, nl, run,
                                                   cidx(ob, nl, kFieldRun));
                  Value hi = arith::MinUIOp::create(
                      ob, nl,
                      arith::AddIOp::create(ob, nl, lo, cidx(ob, nl, kFieldRun)),
                      numBlocks);
                  auto inner = scf::ForOp::create(
                      ob, nl, lo, hi, cidx(ob, nl, 1),
                      ValueRange{i64(ob, nl, 0), i64(ob, nl, 0)},
                      [&](OpBuilder &jb, Location, Value j, ValueRange fw) {
                        Value pos = arith::AddIOp::create(
                            jb, nl,
                            arith::MulIOp::create(jb, nl, j,
                                                  cidx(jb, nl, kSortBlock)),
                            ix[1]);
                        Value exists =
                            cmp(jb, nl, arith::CmpIPredicate::ult, pos, nv);
                        Value at = arith::MinUIOp::create(
                            jb, nl, pos,
                            arith::SubIOp::create(jb, nl, nv, cidx(jb, nl, 1)));
                        Value key = tensor::ExtractOp::create(
                            jb, nl, keys, ValueRange{ix[0], at});
                        Value top =
                            arith::AndIOp::create(jb, nl, key, i64(jb, nl, mask));
                        Value match = arith::AndIOp::create(
                            jb, nl, exists,
                            cmp(jb, nl, arith::CmpIPredicate::eq, top, p));
                        Value dig = arith::AndIOp::create(
                            jb, nl,
                            arith::ShRUIOp::create(jb, nl, key,
                                                   i64(jb, nl, shift)),
                            i64(jb, nl, 15));
                        Value one = arith::ShLIOp::create(
                            jb, nl, i64(jb, nl, 1),
                            arith::ShLIOp::create(
                                jb, nl,
                                arith::AndIOp::create(jb, nl, dig, i64(jb, nl, 7)),
                                i64(jb, nl, 3)));
                        Value zero = i64(jb, nl, 0);
                        Value inc = arith::SelectOp::create(jb, nl, match, one, zero);
                        Value upper =
                            cmp(jb, nl, arith::CmpIPredicate::uge, dig, i64(jb, nl, 8));
                        scf::YieldOp::create(
                            jb, nl,
                            ValueRange{
                                arith::AddIOp::create(
                                    jb, nl, fw[0],
                                    arith::SelectOp::create(jb, nl, upper, zero, inc)),
                                arith::AddIOp::create(
                                    jb, nl, fw[1],
                                    arith::SelectOp::create(jb, nl, upper, inc,
                                                            zero))});
                      });
                  SmallVector<Value> next;
                  for (int64_t v = 0; v < 16; ++v) {
                    Value word = inner.getResult(v / 8);
                    Value field = arith::AndIOp::create(
                        ob, nl,
                        arith::ShRUIOp::create(ob, nl, word, i64(ob, nl, 8 * (v % 8))),
                        i64(ob, nl, 255));
                    next.push_back(arith::AddIOp::create(ob, nl, acc[v], field));
                  }
                  return next;
                });
            linalg::YieldOp::create(nb, nl, counts);
          });
      // tot[row, digit] = sum_t cnt_digit[row, t]: loops (row, digit, t).
      SmallVector<AffineMap> totMaps(16, g.dims(3, {0, 2}));
      totMaps.push_back(g.dims(3, {0, 1}));
      Value tot = g.generic(
          ValueRange(cnt.getResults()), g.filled({rows, idx(16)}, i64t, 0),
          totMaps, g.iterators(3, {2}),
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value digit = toI64(nb, nl, linalg::IndexOp::create(nb, nl, 1));
            Value pick = a[0];
            for (int64_t v = 1; v < 16; ++v)
              pick = arith::SelectOp::create(
                  nb, nl, cmp(nb, nl, arith::CmpIPredicate::eq, digit, i64(nb, nl, v)),
                  a[v], pick);
            yieldOne(nb, nl, arith::AddIOp::create(nb, nl, a[16], pick));
          });
      // From digit 15 down: the digit whose keys reach `remaining`, and how
      // many keys lie above it; (new prefix, new remaining).
      AffineMap id1 = g.dims(1, {0});
      auto next = linalg::GenericOp::create(
          b, loc, TypeRange{prefix.getType(), remaining.getType()},
          ValueRange{prefix, remaining},
          ValueRange{emptyTensor(b, loc, {rows}, i64t),
                     emptyTensor(b, loc, {rows}, i64t)},
          {id1, id1, id1, id1}, parallelIterators(1),
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value row = linalg::IndexOp::create(nb, nl, 0);
            Value no = arith::ConstantIntOp::create(nb, nl, nb.getI1Type(), 0);
            SmallVector<Value> scan = loop(
                nb, nl, cidx(nb, nl, 16),
                {i64(nb, nl, 0), i64(nb, nl, 0), i64(nb, nl, 0), no},
                [&](OpBuilder &lb, Value i, ValueRange acc) {
                  Value dg = arith::SubIOp::create(lb, nl, cidx(lb, nl, 15), i);
                  Value cum = arith::AddIOp::create(
                      lb, nl, acc[0],
                      tensor::ExtractOp::create(lb, nl, tot, ValueRange{row, dg}));
                  Value hit = arith::AndIOp::create(
                      lb, nl,
                      arith::XOrIOp::create(
                          lb, nl, acc[3],
                          arith::ConstantIntOp::create(lb, nl, lb.getI1Type(), 1)),
                      cmp(lb, nl, arith::CmpIPredicate::sge, cum, a[1]));
                  return SmallVector<Value>{
                      cum,
                      arith::SelectOp::create(lb, nl, hit, toI64(lb, nl, dg), acc[1]),
                      arith::SelectOp::create(lb, nl, hit, acc[0], acc[2]),
                      arith::OrIOp::create(lb, nl, acc[3], hit)};
                });
            Value np = arith::OrIOp::create(
                nb, nl, a[0],
                arith::ShLIOp::create(nb, nl, scan[1], i64(nb, nl, shift)));
            Value nr = arith::SubIOp::create(nb, nl, a[1], scan[2]);
            linalg::YieldOp::create(nb, nl, ValueRange{np, nr});
          });
      prefix = next.getResult(0);
      remaining = next.getResult(1);
    }
    // Bucket 0: above the w-th key; 1: equal to it; 2: below.
    return sort(keys, 3, idx(window), prefix);
  }

  /// The order-preserving 32-bit key (as i64 in [0, 2^32)) of an f32 score,
  /// -0 read as +0.
  Value orderKey(OpBuilder &nb, Location nl, Value x) {
    Value zero = g.f32Const(nb, nl, 0.0);
    Value isZero =
        arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, x, zero);
    x = arith::SelectOp::create(nb, nl, isZero, zero, x);
    Value bits = arith::BitcastOp::create(nb, nl, nb.getI32Type(), x);
    Value wide = arith::ExtUIOp::create(nb, nl, nb.getI64Type(), bits);
    Value negative = arith::CmpIOp::create(
        nb, nl, arith::CmpIPredicate::slt, bits,
        arith::ConstantIntOp::create(nb, nl, nb.getI32Type(), 0));
    return arith::SelectOp::create(
        nb, nl, negative,
        arith::XOrIOp::create(nb, nl, wide, i64(nb, nl, 0xFFFFFFFFll)),
        arith::OrIOp::create(nb, nl, wide, i64(nb, nl, 0x80000000ll)));
  }

  /// perm [B H C, w] as positions [B, H C, w] (i64).
  Value members(Value perm) {
    return expand(perm, {{0, 1}, {2}}, {batch, idx(heads * centroids), idx(window)});
  }

  /// The cluster attention: causal on the original positions, with the lse.
  std::pair<Value, Value> attention(Value q, Value k, Value v, Value qpos,
                                    Value kpos) {
    SdpaOp sdpa = positionedSdpa(q, k, v, qpos, kpos, op.getCausal(),
                                 op.getScaleAttr());
    setCoreOptions(sdpa, 4);
    return {sdpa.getResult(), sdpa.getLse()};
  }

  /// Each query's clusters combined by log-sum-exp in f32 into outs.
  /// Cluster c holds query n iff its slot s < w, at row (h C + c) w + s of
  /// the results viewed as [B, H C w, Dv] and [B, H C w]; a cluster whose
  /// lse is -inf (no live key) weighs 0; no cluster gives 0. First, per
  /// (b H + h, n), the normalised weights of the C clusters (reading the C
  /// lse values once); then per (b H + h, n Dv + f) the weighted sum over c
  /// (unrolled: C is static).
  Value combine(Value slot, Value o, Value lse, OpFoldResult n) {
    Type f32 = b.getF32Type(), i64t = b.getI64Type();
    Value o3 = collapse(o, {{0}, {1, 2}, {3}});
    Value lse2 = collapse(lse, {{0}, {1, 2}});
    Value init = collapse(op.getInit(), {{0, 1}, {2, 3}});
    double negInf = -std::numeric_limits<double>::infinity();
    OpFoldResult bhSize = mul(batch, idx(heads));
    // (row of cluster c, its lse or -inf where the query is not in it or
    // the cluster has no live key) for query `pos` of head row `bhr`.
    auto part = [&](OpBuilder &cb, Location nl, Value bhr, Value c, Value pos) {
      Value bi = arith::DivUIOp::create(cb, nl, bhr, cidx(cb, nl, heads));
      Value h = arith::RemUIOp::create(cb, nl, bhr, cidx(cb, nl, heads));
      Value sr = arith::AddIOp::create(
          cb, nl, arith::MulIOp::create(cb, nl, bhr, cidx(cb, nl, centroids)), c);
      Value s = tensor::ExtractOp::create(cb, nl, slot, ValueRange{sr, pos});
      Value in = cmp(cb, nl, arith::CmpIPredicate::slt, s, i64(cb, nl, window));
      Value sIdx =
          toIndex(cb, nl, arith::SelectOp::create(cb, nl, in, s, i64(cb, nl, 0)));
      Value row = arith::AddIOp::create(
          cb, nl,
          arith::MulIOp::create(
              cb, nl,
              arith::AddIOp::create(
                  cb, nl, arith::MulIOp::create(cb, nl, h, cidx(cb, nl, centroids)),
                  c),
              cidx(cb, nl, window)),
          sIdx);
      Value l = tensor::ExtractOp::create(cb, nl, lse2, ValueRange{bi, row});
      Value ninf = g.f32Const(cb, nl, negInf);
      Value live = arith::AndIOp::create(
          cb, nl, in,
          arith::CmpFOp::create(cb, nl, arith::CmpFPredicate::OGT, l, ninf));
      return std::make_pair(row, arith::SelectOp::create(cb, nl, live, l, ninf)
                                     .getResult());
    };
    // weight[c] and rowOf[c] ([b H + h, n]: the normalised weight of cluster
    // c and the row of o it reads), kWeightOutputs clusters a generic per
    // (b H + h, n): each reads the C lse values once (a generic per
    // (b H + h, c, n) read them C times, 16x the work at C = 16).
    auto planeType = [&](Type elt) {
      return RankedTensorType::get(
          {getConstantIntValue(bhSize).value_or(ShapedType::kDynamic),
           getConstantIntValue(n).value_or(ShapedType::kDynamic)},
          elt);
    };
    SmallVector<Value> weight, rowOf;
    for (int64_t first = 0; first < centroids; first += kWeightOutputs) {
      int64_t count = std::min(kWeightOutputs, centroids - first);
      SmallVector<Type> types(count, planeType(f32));
      types.append(count, planeType(i64t));
      SmallVector<Value> inits(count, emptyTensor(b, loc, {bhSize, n}, f32));
      inits.append(count, emptyTensor(b, loc, {bhSize, n}, i64t));
      auto weights = linalg::GenericOp::create(
          b, loc, types, ValueRange{}, inits,
          SmallVector<AffineMap>(2 * count, g.dims(2, {0, 1})),
          parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange) {
            SmallVector<Value> ix = loopIndices(nb, nl, 2);
            SmallVector<std::pair<Value, Value>> parts;
            Value max = g.f32Const(nb, nl, negInf);
            for (int64_t c = 0; c < centroids; ++c) {
              parts.push_back(part(nb, nl, ix[0], cidx(nb, nl, c), ix[1]));
              max = arith::MaximumFOp::create(nb, nl, max, parts.back().second);
            }
            Value shift = softmaxShift(nb, nl, max);
            Value total = g.f32Const(nb, nl, 0.0);
            SmallVector<Value> e;
            for (int64_t c = 0; c < centroids; ++c) {
              e.push_back(math::ExpOp::create(
                  nb, nl, arith::SubFOp::create(nb, nl, parts[c].second, shift)));
              total = arith::AddFOp::create(nb, nl, total, e.back());
            }
            SmallVector<Value> results;
            for (int64_t c = first; c < first + count; ++c)
              results.push_back(divideOrZero(nb, nl, e[c], total));
            for (int64_t c = first; c < first + count; ++c)
              results.push_back(toI64(nb, nl, parts[c].first));
            linalg::YieldOp::create(nb, nl, results);
          });
      llvm::append_range(weight, weights.getResults().take_front(count));
      llvm::append_range(rowOf, weights.getResults().drop_front(count));
    }
    Value result = g.generic(
        ValueRange{}, init, {g.dims(2, {0, 1})}, parallelIterators(2),
        [&](OpBuilder &nb, Location nl, ValueRange) {
          SmallVector<Value> ix = loopIndices(nb, nl, 2);
          Value bi = arith::DivUIOp::create(nb, nl, ix[0], cidx(nb, nl, heads));
          Value pos = arith::DivUIOp::create(nb, nl, ix[1], cidx(nb, nl, d));
          Value f = arith::RemUIOp::create(nb, nl, ix[1], cidx(nb, nl, d));
          Value zero = g.f32Const(nb, nl, 0.0);
          Value sum = zero;
          for (int64_t c = 0; c < centroids; ++c) {
            Value w = tensor::ExtractOp::create(nb, nl, weight[c],
                                                ValueRange{ix[0], pos});
            Value row = toIndex(nb, nl,
                                tensor::ExtractOp::create(nb, nl, rowOf[c],
                                                          ValueRange{ix[0], pos}));
            Value x = convertFloat(
                nb, nl,
                tensor::ExtractOp::create(nb, nl, o3, ValueRange{bi, row, f}), f32);
            Value live =
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ONE, w, zero);
            Value term = arith::SelectOp::create(
                nb, nl, live, arith::MulFOp::create(nb, nl, w, x), zero);
            sum = arith::AddFOp::create(nb, nl, sum, term);
          }
          yieldOne(nb, nl, convertFloat(nb, nl, sum, elt));
        });
    return expand(result, {{0, 1}, {2, 3}}, getSizes(b, loc, op.getInit()));
  }

  ClusterOp op;
  FloatType elt;
  int64_t heads, kvHeads, d, centroids, window;
  OpFoldResult batch;
};

struct GpuLshClusterAsSdpaPass
    : PassWrapper<GpuLshClusterAsSdpaPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuLshClusterAsSdpaPass)

  GpuLshClusterAsSdpaPass() = default;
  GpuLshClusterAsSdpaPass(const GpuLshClusterAsSdpaPass &other)
      : PassWrapper(other) {}

  Option<bool> mergeF32{
      *this, "merge-f32",
      llvm::cl::desc("With merge-rounds: the accumulator between rounds in f32 "
                     "(else in the op's element type: half the bytes that the "
                     "next round reads, one more rounding)"),
      llvm::cl::init(false)};
  Option<bool> mergeRounds{
      *this, "merge-rounds",
      llvm::cl::desc("attn.lsh with a static number of sdpa heads: one sdpa "
                     "per round, each merged by log-sum-exp into the result "
                     "(in the core kernel's epilogue) instead of a combine "
                     "kernel after all rounds (on by default: with "
                     "merge-f32=0 measured 6% faster on the H200, docs/GPU.md "
                     "\"Rounds combined in the core\")"),
      llvm::cl::init(true)};

  StringRef getArgument() const final {
    return "attn-gpu-lsh-cluster-as-sdpa";
  }
  StringRef getDescription() const final {
    return "Rewrite attn.lsh and attn.cluster (bf16 / f16, D 64 or 128) as "
           "parallel hash / select and sort kernels, an attn.sdpa over the "
           "gathered chunks or clusters that the Hopper core takes, and a "
           "log-sum-exp combine";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    math::MathDialect, scf::SCFDialect, tensor::TensorDialect,
                    cf::ControlFlowDialect, bufferization::BufferizationDialect>();
  }

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if ((isa<LshOp>(op) && isTaken(cast<LshOp>(op))) ||
          (isa<ClusterOp>(op) && isTaken(cast<ClusterOp>(op))))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      if (auto lsh = dyn_cast<LshOp>(op))
        LshRewriter(b, lsh, mergeRounds, mergeF32).run();
      else
        ClusterRewriter(b, cast<ClusterOp>(op)).run();
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createGpuLshClusterAsSdpaPass() {
  return std::make_unique<GpuLshClusterAsSdpaPass>();
}
