//===- PatternRandom.cpp - #attn.random as IR, with per-query-block facts -===//
//
// Query block qb picks the min(r, C) candidate key blocks (C = ceil(Nk/b))
// with the smallest splitmix64(s ^ (qb << 32) ^ kb). For one qb the hashes
// of distinct kb differ (splitmix64 is a bijection and the inputs differ),
// so the picked blocks are exactly those whose hash is at most the
// threshold T(qb), the r-th smallest hash (all blocks when r >= C). T(qb)
// costs r * C hashes; buildQueryTileFacts computes it once per query block
// of a query tile, after which a pair costs one hash and one compare, and a
// (query tile, key tile) box is classified exactly by counting its picked
// (qb, kb) cells. Without facts (the reference lowering, the GPU core's
// separate classify function, queries outside a positions tile's table) a
// cell is decided by rank: fewer than r candidates hash lower (C hashes).
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/PredicateBuilder.h"
#include "attn/Dialect/Attn/IR/QueryTileFacts.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

/// Query blocks in a tile's threshold table.
static constexpr int64_t kMaxTableBlocks = 64;

namespace {

/// The i64 arithmetic of the random pattern's IR.
class RandomBuilder : public PredicateBuilder {
public:
  RandomBuilder(OpBuilder &builder, Location loc, RandomAttr attr)
      : PredicateBuilder(builder, loc), attr(attr) {}

  Value min(Value a, Value b) {
    return arith::MinSIOp::create(getBuilder(), getLoc(), a, b);
  }
  Value max(Value a, Value b) {
    return arith::MaxSIOp::create(getBuilder(), getLoc(), a, b);
  }
  Value ule(Value a, Value b) { return cmp(arith::CmpIPredicate::ule, a, b); }
  Value index(Value v) {
    return arith::IndexCastOp::create(getBuilder(), getLoc(),
                                      getBuilder().getIndexType(), v);
  }
  Value i64(Value v) {
    return arith::IndexCastOp::create(getBuilder(), getLoc(),
                                      getBuilder().getI64Type(), v);
  }
  Value blockOf(Value position) {
    return floorDiv(position, constant(attr.getBlock()));
  }
  /// ceil(numKeys / block) for numKeys >= 0.
  Value numBlocks(Value numKeys) {
    return floorDiv(add(numKeys, constant(attr.getBlock() - 1)),
                    constant(attr.getBlock()));
  }

  /// splitmix64 on an i64 value (wrapping arithmetic).
  Value splitmix64(Value x) {
    OpBuilder &b = getBuilder();
    auto shr = [&](Value v, int64_t s) -> Value {
      return arith::ShRUIOp::create(b, getLoc(), v, constant(s));
    };
    auto xorOf = [&](Value a, Value c) -> Value {
      return arith::XOrIOp::create(b, getLoc(), a, c);
    };
    Value z = add(x, constant(int64_t(0x9E3779B97F4A7C15ULL)));
    z = mul(xorOf(z, shr(z, 30)), constant(int64_t(0xBF58476D1CE4E5B9ULL)));
    z = mul(xorOf(z, shr(z, 27)), constant(int64_t(0x94D049BB133111EBULL)));
    return xorOf(z, shr(z, 31));
  }

  /// The hash that ranks key block `kb` for query block `qb`.
  Value hash(Value qb, Value kb) {
    OpBuilder &b = getBuilder();
    Value shifted = arith::ShLIOp::create(b, getLoc(), qb, constant(32));
    Value x = arith::XOrIOp::create(
        b, getLoc(),
        arith::XOrIOp::create(b, getLoc(), constant(attr.getSeed()), shifted),
        kb);
    return splitmix64(x);
  }

  /// T(qb): the per_row-th smallest hash among the candidate blocks, or all
  /// ones (every block) when per_row >= numBlocks. Repeated minimum: round
  /// r takes the smallest hash above round r-1's.
  Value threshold(Value qb, Value numBlocks) {
    OpBuilder &b = getBuilder();
    Location loc = getLoc();
    Value perRow = constant(attr.getPerRow());
    Value rounds = select(ge(perRow, numBlocks), constant(0), perRow);
    Value allOnes = constant(-1);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    auto outer = scf::ForOp::create(
        b, loc, c0, index(rounds), c1, ValueRange{allOnes},
        [&](OpBuilder &ob, Location ol, Value r, ValueRange prev) {
          RandomBuilder o(ob, ol, attr);
          Value first = arith::CmpIOp::create(
              ob, ol, arith::CmpIPredicate::eq, r,
              arith::ConstantIndexOp::create(ob, ol, 0));
          auto inner = scf::ForOp::create(
              ob, ol, arith::ConstantIndexOp::create(ob, ol, 0),
              o.index(numBlocks), arith::ConstantIndexOp::create(ob, ol, 1),
              ValueRange{o.constant(-1)},
              [&](OpBuilder &ib, Location il, Value kb, ValueRange best) {
                RandomBuilder in(ib, il, attr);
                Value h = in.hash(qb, in.i64(kb));
                Value above = in.logicalOr(
                    first, in.cmp(arith::CmpIPredicate::ugt, h, prev[0]));
                Value better = in.logicalAnd(
                    above, in.cmp(arith::CmpIPredicate::ult, h, best[0]));
                scf::YieldOp::create(ib, il,
                                     in.select(better, h, best[0]));
              });
          scf::YieldOp::create(ob, ol, inner.getResult(0));
        });
    return outer.getResult(0);
  }

  /// Whether qb picks candidate block kb, by rank: fewer than per_row
  /// candidates hash lower (C hashes; no per-tile facts needed).
  Value pickedByRank(Value qb, Value kb, Value numBlocks) {
    OpBuilder &b = getBuilder();
    Location loc = getLoc();
    Value mine = hash(qb, kb);
    auto loop = scf::ForOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, 0), index(numBlocks),
        arith::ConstantIndexOp::create(b, loc, 1), ValueRange{constant(0)},
        [&](OpBuilder &lb, Location ll, Value other, ValueRange lower) {
          RandomBuilder in(lb, ll, attr);
          Value below = in.cmp(arith::CmpIPredicate::ult,
                               in.hash(qb, in.i64(other)), mine);
          Value one = arith::ExtUIOp::create(lb, ll, lb.getI64Type(), below);
          scf::YieldOp::create(lb, ll, in.add(lower[0], one));
        });
    return lt(loop.getResult(0), constant(attr.getPerRow()));
  }

  /// Whether qb picks candidate block kb: one hash against T(qb) from the
  /// query tile's facts when they hold qb, else by rank.
  Value picked(Value qb, Value kb, Value numBlocks,
               const QueryTileFacts::Entry *facts) {
    if (!facts)
      return pickedByRank(qb, kb, numBlocks);
    OpBuilder &b = getBuilder();
    Location loc = getLoc();
    Value firstBlock = facts->values[0], table = facts->values[1];
    Value slot = sub(qb, firstBlock);
    auto read = [&](OpBuilder &rb, Location rl) -> Value {
      RandomBuilder r(rb, rl, attr);
      Value t = tensor::ExtractOp::create(rb, rl, table, ValueRange{r.index(slot)});
      return r.ule(r.hash(qb, kb), t);
    };
    if (facts->complete)
      return read(b, loc);
    Value size = i64(tensor::DimOp::create(b, loc, table, 0));
    Value inTable = cmp(arith::CmpIPredicate::ult, slot, size);
    auto ifOp = scf::IfOp::create(
        b, loc, inTable,
        [&](OpBuilder &tb, Location tl) {
          scf::YieldOp::create(tb, tl, read(tb, tl));
        },
        [&](OpBuilder &eb, Location el) {
          RandomBuilder e(eb, el, attr);
          scf::YieldOp::create(eb, el, e.pickedByRank(qb, kb, numBlocks));
        });
    return ifOp.getResult(0);
  }

private:
  RandomAttr attr;
};

} // namespace

void RandomAttr::buildQueryTileFacts(OpBuilder &builder, Location loc,
                                     Value queryFirst, Value queryLast, Value,
                                     Value numKeys,
                                     std::optional<int64_t> maxQueries,
                                     QueryTileFacts &facts) const {
  if (getPerRow() == 0)
    return;
  RandomAttr attr = *this;
  RandomBuilder rb(builder, loc, attr);
  QueryTileFacts::Entry entry;
  // A tile of at most m rows meets at most ceil((m - 1) / b) + 1 blocks
  // (written without m + b, which would overflow for a block near INT64_MAX).
  int64_t block = attr.getBlock();
  std::optional<int64_t> tileBlocks;
  if (maxQueries)
    tileBlocks = *maxQueries <= 1 ? 1 : (*maxQueries - 2) / block + 2;
  entry.complete = tileBlocks && *tileBlocks <= kMaxTableBlocks;
  int64_t cap = entry.complete ? *tileBlocks : kMaxTableBlocks;
  Value firstBlock = rb.blockOf(queryFirst);
  Value count = rb.add(rb.sub(rb.blockOf(queryLast), firstBlock),
                       rb.constant(1));
  count = rb.max(rb.min(count, rb.constant(cap)), rb.constant(0));
  Value numBlocks = rb.numBlocks(numKeys);
  // A loop of inserts rather than tensor.generate: canonicalization would
  // fold each read of a generate back into its body, per pair.
  Value empty = tensor::EmptyOp::create(builder, loc,
                                        ArrayRef<OpFoldResult>{rb.index(count)},
                                        builder.getI64Type());
  auto fill = scf::ForOp::create(
      builder, loc, arith::ConstantIndexOp::create(builder, loc, 0),
      rb.index(count), arith::ConstantIndexOp::create(builder, loc, 1),
      ValueRange{empty},
      [&](OpBuilder &fb, Location fl, Value slot, ValueRange tables) {
        RandomBuilder f(fb, fl, attr);
        Value qb = f.add(firstBlock, f.i64(slot));
        Value t = f.threshold(qb, numBlocks);
        scf::YieldOp::create(
            fb, fl,
            tensor::InsertOp::create(fb, fl, t, tables[0], ValueRange{slot})
                .getResult());
      });
  Value table = fill.getResult(0);
  entry.values = {firstBlock, table};
  facts.add(attr, std::move(entry));
}

Value RandomAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                              Value j, Value, Value numKeys,
                              const QueryTileFacts *facts) const {
  RandomBuilder rb(builder, loc, *this);
  if (getPerRow() == 0)
    return rb.boolean(false);
  Value numBlocks = rb.numBlocks(numKeys);
  Value qb = rb.blockOf(i), kb = rb.blockOf(j);
  Value onCandidates = rb.inRange(kb, rb.constant(0), numBlocks);
  // Off the candidates the rank or threshold is meaningless but harmless.
  return rb.logicalAnd(
      onCandidates,
      rb.picked(qb, kb, numBlocks, QueryTileFacts::lookup(facts, *this)));
}

Value RandomAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                Value qLast, Value kFirst, Value kLast, Value,
                                Value numKeys,
                                const QueryTileFacts *queryFacts) const {
  RandomBuilder rb(builder, loc, *this);
  auto kind = [&](BlockKind k) -> Value {
    return arith::ConstantIntOp::create(builder, loc, builder.getI8Type(),
                                        static_cast<int64_t>(k));
  };
  if (getPerRow() == 0)
    return kind(BlockKind::Empty);
  const QueryTileFacts::Entry *facts =
      QueryTileFacts::lookup(queryFacts, *this);
  Value numBlocks = rb.numBlocks(numKeys);
  Value zero = rb.constant(0), one = rb.constant(1);
  Value qb0 = rb.blockOf(qFirst), qb1 = rb.blockOf(qLast);
  Value kb0 = rb.blockOf(kFirst), kb1 = rb.blockOf(kLast);
  Value offCandidates = rb.logicalOr(rb.lt(kb1, zero), rb.ge(kb0, numBlocks));
  Value onCandidates = rb.logicalAnd(rb.ge(kb0, zero), rb.lt(kb1, numBlocks));
  // The cells (qb, kb) of the box on the candidates; each holds a pair.
  Value lo = rb.max(kb0, zero), hi = rb.min(kb1, rb.sub(numBlocks, one));
  Value numQb = rb.add(rb.sub(qb1, qb0), one);
  Value numKb = rb.max(rb.add(rb.sub(hi, lo), one), zero);
  Value cells = rb.mul(numQb, numKb);
  // Bound each side first: products of extreme positions would wrap.
  Value limit = rb.constant(kRandomMaxExactCells);
  Value exact = rb.logicalAnd(
      rb.logicalAnd(rb.inRange(numQb, one, rb.add(limit, one)),
                    rb.le(numKb, limit)),
      rb.le(cells, limit));
  // Count the picked cells (none counted when the box is too large).
  Value qEnd = rb.select(exact, rb.add(qb1, one), qb0);
  auto outer = scf::ForOp::create(
      builder, loc, rb.index(qb0), rb.index(qEnd),
      arith::ConstantIndexOp::create(builder, loc, 1), ValueRange{zero},
      [&](OpBuilder &ob, Location ol, Value qbIndex, ValueRange outerSum) {
        RandomBuilder o(ob, ol, *this);
        Value qb = o.i64(qbIndex);
        auto inner = scf::ForOp::create(
            ob, ol, o.index(lo), o.index(o.add(lo, numKb)),
            arith::ConstantIndexOp::create(ob, ol, 1), outerSum,
            [&](OpBuilder &ib, Location il, Value kbIndex, ValueRange sum) {
              RandomBuilder in(ib, il, *this);
              Value picked = in.picked(qb, in.i64(kbIndex), numBlocks, facts);
              Value add = arith::ExtUIOp::create(ib, il, ib.getI64Type(),
                                                 picked);
              scf::YieldOp::create(ib, il, in.add(sum[0], add));
            });
        scf::YieldOp::create(ob, ol, inner.getResult(0));
      });
  Value picked = outer.getResult(0);
  Value empty =
      rb.logicalOr(offCandidates, rb.logicalAnd(exact, rb.eq(picked, zero)));
  Value full = rb.logicalAnd(rb.logicalAnd(onCandidates, exact),
                             rb.eq(picked, cells));
  return rb.select(empty, kind(BlockKind::Empty),
                   rb.select(full, kind(BlockKind::Full),
                             kind(BlockKind::Partial)));
}
