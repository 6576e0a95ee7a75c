//===- QueryTileFacts.cpp - per-query-tile values of pattern predicates ---===//
#include "attn/Dialect/Attn/IR/QueryTileFacts.h"

using namespace mlir;
using namespace mlir::attn;

QueryTileFacts::QueryTileFacts(PatternAttrInterface pattern, OpBuilder &builder,
                               Location loc, Value queryFirst, Value queryLast,
                               Value numQueries, Value numKeys,
                               std::optional<int64_t> maxQueries) {
  cast<Attribute>(pattern).walk([&](PatternAttrInterface part) {
    if (!entries.count(part))
      part.buildQueryTileFacts(builder, loc, queryFirst, queryLast, numQueries,
                               numKeys, maxQueries, *this);
  });
}

const QueryTileFacts::Entry *QueryTileFacts::lookup(const QueryTileFacts *facts,
                                                    Attribute pattern) {
  if (!facts)
    return nullptr;
  auto it = facts->entries.find(pattern);
  return it == facts->entries.end() ? nullptr : &it->second;
}
