//===- GpuRandomLists.cpp - #attn.random on the Hopper core ---------------===//
//
// Query block qb picks the min(per_row, C) candidate key blocks (C =
// ceil(Nk / block)) with the smallest splitmix64(seed ^ (qb << 32) ^ kb)
// (docs/Semantics.md, #attn.random). Round r of the draw takes the smallest
// hash above round r-1's: each lane hashes the candidates lane, lane + 32,
// ..., and five xor shuffles give every lane the warp's minimum and its
// block. Hashes of distinct blocks differ (splitmix64 is a bijection), so
// the rounds list exactly the picked blocks, in hash order; rounds past C
// find none (-1).
//
//===----------------------------------------------------------------------===//
#include "GpuRandomLists.h"

#include "attn/Dialect/Attn/IR/PredicateBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <numeric>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_core;

/// Limits of what the kernel unrolls: query blocks per query tile, picks
/// per query block times those blocks, key blocks per key tile, and facts.
static constexpr int64_t kMaxSlots = 8;
static constexpr int64_t kMaxPicks = 32;
static constexpr int64_t kMaxKeyBlocks = 8;
static constexpr int64_t kMaxFacts = 64;

/// Blocks of size `block` that a range of `size` positions starting at a
/// multiple of `size` can meet: its start lies `gcd`-aligned inside a block.
static int64_t blocksMet(int64_t size, int64_t block) {
  int64_t worst = block - std::gcd(size, block);
  return (size - 1 + worst) / block + 1;
}

namespace {

/// The i64 arithmetic of the lists.
class ListBuilder : public PredicateBuilder {
public:
  ListBuilder(OpBuilder &builder, Location loc) : PredicateBuilder(builder, loc) {}

  Value ult(Value a, Value b) { return cmp(arith::CmpIPredicate::ult, a, b); }
  Value ugt(Value a, Value b) { return cmp(arith::CmpIPredicate::ugt, a, b); }
  Value shl(Value a, int64_t s) {
    return arith::ShLIOp::create(getBuilder(), getLoc(), a, constant(s));
  }
  Value shr(Value a, int64_t s) {
    return arith::ShRUIOp::create(getBuilder(), getLoc(), a, constant(s));
  }
  Value xorOf(Value a, Value b) {
    return arith::XOrIOp::create(getBuilder(), getLoc(), a, b);
  }

  /// splitmix64(seed ^ (qb << 32) ^ kb), wrapping arithmetic.
  Value hash(RandomAttr attr, Value qb, Value kb) {
    Value z = xorOf(xorOf(constant(attr.getSeed()), shl(qb, 32)), kb);
    z = add(z, constant(int64_t(0x9E3779B97F4A7C15ULL)));
    z = mul(xorOf(z, shr(z, 30)), constant(int64_t(0xBF58476D1CE4E5B9ULL)));
    z = mul(xorOf(z, shr(z, 27)), constant(int64_t(0x94D049BB133111EBULL)));
    return xorOf(z, shr(z, 31));
  }

  /// Every lane's `value` (i64) from the lane `offset` away (xor).
  Value shuffle(Value value, int32_t offset) {
    OpBuilder &b = getBuilder();
    Location loc = getLoc();
    Type i32 = b.getI32Type(), i64 = b.getI64Type();
    auto lane = [&](Value v32) -> Value {
      return gpu::ShuffleOp::create(b, loc, v32, offset, 32,
                                    gpu::ShuffleMode::XOR)
          .getShuffleResult();
    };
    Value lo = lane(arith::TruncIOp::create(b, loc, i32, value));
    Value hi = lane(arith::TruncIOp::create(b, loc, i32, shr(value, 32)));
    return arith::OrIOp::create(
        b, loc, arith::ExtUIOp::create(b, loc, i64, lo),
        shl(arith::ExtUIOp::create(b, loc, i64, hi), 32));
  }
};

} // namespace

std::optional<RandomLists> RandomLists::get(PatternAttrInterface pattern,
                                            int64_t qTile, int64_t kvTile) {
  RandomLists lists(pattern, qTile, kvTile);
  if (auto unionAttr = dyn_cast<UnionAttr>(pattern))
    llvm::append_range(lists.parts, unionAttr.getParts());
  else
    lists.parts.push_back(pattern);
  bool any = false;
  for (PatternAttrInterface part : lists.parts) {
    auto random = dyn_cast<RandomAttr>(part);
    if (!random)
      continue;
    any = true;
    int64_t s = lists.slots(random);
    if (s > kMaxSlots || s * random.getPerRow() > kMaxPicks ||
        lists.keyBlocks(random) > kMaxKeyBlocks)
      return std::nullopt;
  }
  if (!any || lists.getNumFacts() > kMaxFacts)
    return std::nullopt;
  return lists;
}

int64_t RandomLists::slots(RandomAttr random) const {
  return blocksMet(qTile, random.getBlock());
}

int64_t RandomLists::keyBlocks(RandomAttr random) const {
  return blocksMet(kvTile, random.getBlock());
}

int64_t RandomLists::getNumFacts() const {
  int64_t n = 0;
  for (PatternAttrInterface part : parts)
    if (auto random = dyn_cast<RandomAttr>(part))
      n += factsOf(random);
  return n;
}

SmallVector<Value> RandomLists::buildFacts(OpBuilder &builder, Location loc,
                                           Value qFirst, Value qLast,
                                           Value numKeys) const {
  SmallVector<Value> facts;
  ListBuilder lb(builder, loc);
  Value lane = gpu::LaneIdOp::create(builder, loc, /*upper_bound=*/nullptr);
  Value c32 = arith::ConstantIndexOp::create(builder, loc, 32);
  Value none = lb.constant(-1);
  for (PatternAttrInterface part : parts) {
    auto random = dyn_cast<RandomAttr>(part);
    if (!random)
      continue;
    Value block = lb.constant(random.getBlock());
    Value firstBlock = lb.floorDiv(qFirst, block);
    Value lastBlock = lb.floorDiv(qLast, block);
    Value candidates = arith::IndexCastOp::create(
        builder, loc, builder.getIndexType(),
        lb.floorDiv(lb.add(numKeys, lb.constant(random.getBlock() - 1)),
                    block));
    facts.push_back(firstBlock);
    for (int64_t s = 0, e = slots(random); s < e; ++s) {
      Value qb = lb.add(firstBlock, lb.constant(s));
      Value inTile = lb.le(qb, lastBlock);
      Value prevHash = lb.constant(0), prevBlock = none;
      for (int64_t round = 0; round < random.getPerRow(); ++round) {
        // This lane's smallest hash above the previous round's.
        auto loop = scf::ForOp::create(
            builder, loc, lane, candidates, c32,
            ValueRange{lb.constant(-1), none},
            [&](OpBuilder &fb, Location fl, Value kbIndex, ValueRange best) {
              ListBuilder f(fb, fl);
              Value kb = arith::IndexCastOp::create(fb, fl, fb.getI64Type(),
                                                    kbIndex);
              Value h = f.hash(random, qb, kb);
              Value above =
                  round == 0 ? f.boolean(true)
                             : f.logicalAnd(f.ge(prevBlock, f.constant(0)),
                                            f.ugt(h, prevHash));
              Value better = f.logicalAnd(
                  above, f.logicalOr(f.lt(best[1], f.constant(0)),
                                     f.ult(h, best[0])));
              scf::YieldOp::create(fb, fl,
                                   ValueRange{f.select(better, h, best[0]),
                                              f.select(better, kb, best[1])});
            });
        Value bestHash = loop.getResult(0), bestBlock = loop.getResult(1);
        // The warp's minimum (lanes without a candidate hold block -1).
        for (int32_t offset : {1, 2, 4, 8, 16}) {
          Value otherHash = lb.shuffle(bestHash, offset);
          Value otherBlock = lb.shuffle(bestBlock, offset);
          Value take = lb.logicalAnd(
              lb.ge(otherBlock, lb.constant(0)),
              lb.logicalOr(lb.lt(bestBlock, lb.constant(0)),
                           lb.ult(otherHash, bestHash)));
          bestHash = lb.select(take, otherHash, bestHash);
          bestBlock = lb.select(take, otherBlock, bestBlock);
        }
        facts.push_back(lb.select(inTile, bestBlock, none));
        prevHash = bestHash;
        prevBlock = bestBlock;
      }
    }
  }
  return facts;
}

SmallVector<std::pair<Value, Value>> RandomLists::buildKeyIntervals(
    OpBuilder &builder, Location loc, ValueRange facts, Value qFirst,
    Value qLast, Value numQueries, Value numKeys) const {
  SmallVector<std::pair<Value, Value>> intervals;
  ListBuilder lb(builder, loc);
  size_t next = 0;
  for (PatternAttrInterface part : parts) {
    auto random = dyn_cast<RandomAttr>(part);
    if (!random) {
      llvm::append_range(intervals,
                         part.buildKeyIntervals(builder, loc, qFirst, qLast,
                                                numQueries, numKeys));
      continue;
    }
    Value block = lb.constant(random.getBlock());
    ValueRange picks = facts.slice(next + 1, factsOf(random) - 1);
    next += factsOf(random);
    for (Value pick : picks) {
      Value none = lb.lt(pick, lb.constant(0));
      Value first = lb.mul(pick, block);
      Value last = lb.add(first, lb.constant(random.getBlock() - 1));
      intervals.push_back({lb.select(none, lb.constant(0), first),
                           lb.select(none, lb.constant(-1), last)});
    }
  }
  return intervals;
}

Value RandomLists::buildClassify(OpBuilder &builder, Location loc,
                                 ValueRange facts, Value qFirst, Value qLast,
                                 Value kFirst, Value kLast, Value numQueries,
                                 Value numKeys) const {
  ListBuilder lb(builder, loc);
  Value anyFull = lb.boolean(false), allEmpty = lb.boolean(true);
  size_t next = 0;
  for (PatternAttrInterface part : parts) {
    auto random = dyn_cast<RandomAttr>(part);
    Value kind;
    if (!random) {
      kind = part.buildClassify(builder, loc, qFirst, qLast, kFirst, kLast,
                                numQueries, numKeys);
    } else {
      // Count the picked (query block, key block) cells of the box.
      int64_t perRow = random.getPerRow();
      Value block = lb.constant(random.getBlock());
      Value firstBlock = facts[next];
      Value qb0 = lb.floorDiv(qFirst, block), qb1 = lb.floorDiv(qLast, block);
      Value kb0 = lb.floorDiv(kFirst, block), kb1 = lb.floorDiv(kLast, block);
      Value picked = lb.constant(0), cells = lb.constant(0);
      for (int64_t s = 0, e = slots(random); s < e; ++s) {
        Value qb = lb.add(firstBlock, lb.constant(s));
        Value rowIn = lb.logicalAnd(lb.ge(qb, qb0), lb.le(qb, qb1));
        for (int64_t k = 0, ke = keyBlocks(random); k < ke; ++k) {
          Value kb = lb.add(kb0, lb.constant(k));
          Value cell = lb.logicalAnd(rowIn, lb.le(kb, kb1));
          Value hit = lb.boolean(false);
          for (int64_t r = 0; r < perRow; ++r)
            hit = lb.logicalOr(hit,
                               lb.eq(facts[next + 1 + s * perRow + r], kb));
          auto count = [&](Value bit) {
            return arith::ExtUIOp::create(builder, loc, builder.getI64Type(),
                                          bit)
                .getResult();
          };
          picked = lb.add(picked, count(lb.logicalAnd(cell, hit)));
          cells = lb.add(cells, count(cell));
        }
      }
      next += factsOf(random);
      Value zero = lb.constant(0);
      kind = lb.select(lb.eq(picked, zero), lb.kind(0),
                       lb.select(lb.eq(picked, cells), lb.kind(1),
                                 lb.kind(2)));
    }
    anyFull = lb.logicalOr(anyFull, lb.eq(kind, lb.kind(1)));
    allEmpty = lb.logicalAnd(allEmpty, lb.eq(kind, lb.kind(0)));
  }
  return lb.select(anyFull, lb.kind(1),
                   lb.select(allEmpty, lb.kind(0), lb.kind(2)));
}

Value RandomLists::buildIsLive(OpBuilder &builder, Location loc,
                               ValueRange facts, Value tileFirst, Value i,
                               Value j, Value numQueries,
                               Value numKeys) const {
  ListBuilder lb(builder, loc);
  Value live = lb.boolean(false);
  size_t next = 0;
  for (PatternAttrInterface part : parts) {
    auto random = dyn_cast<RandomAttr>(part);
    if (!random) {
      live = lb.logicalOr(
          live, part.buildIsLive(builder, loc, i, j, numQueries, numKeys));
      continue;
    }
    int64_t perRow = random.getPerRow();
    Value block = lb.constant(random.getBlock());
    Value slot = lb.sub(lb.floorDiv(i, block), facts[next]);
    bool wholeTiles = random.getBlock() % kvTile == 0;
    Value kb = lb.floorDiv(wholeTiles ? tileFirst : j, block);
    for (int64_t s = 0, e = slots(random); s < e; ++s) {
      Value hit = lb.boolean(false);
      for (int64_t r = 0; r < perRow; ++r)
        hit = lb.logicalOr(hit, lb.eq(facts[next + 1 + s * perRow + r], kb));
      live = lb.logicalOr(live,
                          lb.logicalAnd(lb.eq(slot, lb.constant(s)), hit));
    }
    next += factsOf(random);
  }
  return live;
}
