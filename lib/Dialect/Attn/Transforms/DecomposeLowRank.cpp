//===- DecomposeLowRank.cpp - decomposition of attn.lowrank ---------------===//
//
// attn.lowrank (Linformer, docs/Semantics.md §6) becomes two projections and a
// dense attn.sdpa. Per batch b and KV head g, with p = g when the projections
// have Hkv heads and p = 0 when they have one, in the compute type ct:
//
//   ek[b,g,r,d]  = sum_n e[p,r,n] k[b,g,n,d]        (ct)
//   fv[b,g,r,dv] = sum_n f[p,r,n] v[b,g,n,dv]       (ct; f = e when absent)
//   o            = attn.sdpa(q, ek, fv) {scale}      (ct result)
//   out          = o converted to V's element type, written into the outs.
//
// The sdpa verifier accepts mixed float element types, so q keeps its own
// type; the sdpa lowering widens it to the compute type. With ct = f64 the
// attention is built directly as linalg in f64 (attn.sdpa has no f64 form).
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// out[b,g,r,c] = sum_n p[g or 0, r, n] x[b,g,n,c] in `ct`, for x
/// [B,Hkv,Nk,C].
static Value project(OpBuilder &b, Location loc, HeadOperand p, Value x,
                     FloatType ct) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> xSizes = getSizes(b, loc, x);
  SmallVector<OpFoldResult> pSizes = getSizes(b, loc, p.tensor);
  Value init = filledTensor(
      b, loc, {xSizes[0], xSizes[1], pSizes[1], xSizes[3]}, ct, 0.0);
  // Dims (b, g, r, c, n); n is the reduction.
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineExpr head = p.shared ? getAffineConstantExpr(0, ctx) : d(1);
  SmallVector<AffineMap> maps = {
      AffineMap::get(5, 0, {head, d(2), d(4)}, ctx),
      AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
      AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  SmallVector<utils::IteratorType> iterators = parallelIterators(5);
  iterators[4] = utils::IteratorType::reduction;
  return GenericBuilder{b, loc}.generic(
      ValueRange{p.tensor, x}, init, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value pv = convertFloat(nb, nl, args[0], ct);
        Value xv = convertFloat(nb, nl, args[1], ct);
        Value prod = arith::MulFOp::create(nb, nl, pv, xv);
        Value sum = arith::AddFOp::create(nb, nl, args[2], prod);
        yieldOne(nb, nl, sum);
      });
}

/// Copies `src` into `init`, converting to init's element type.
static Value convertInto(OpBuilder &b, Location loc, Value src, Value init) {
  auto type = cast<RankedTensorType>(init.getType());
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  return GenericBuilder{b, loc}.generic(
      ValueRange{src}, init, maps, parallelIterators(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl, convertFloat(nb, nl, args[0], type.getElementType()));
      });
}

FailureOr<SmallVector<Value>>
mlir::attn::decomposeLowRank(OpBuilder &b, LowRankOp op, FloatType ct,
                              LowRankProjectFn projectFn) {
  auto projectWith = [&](HeadOperand p, Value x) {
    Value fused = projectFn ? projectFn(b, op.getLoc(), p, x, ct) : Value();
    return fused ? fused : project(b, op.getLoc(), p, x, ct);
  };
  Location loc = op.getLoc();
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  Value e = op.getKeyProjection();
  Value f = op.getValueProjection() ? op.getValueProjection() : e;
  Value init = op.getInit();
  auto qType = cast<RankedTensorType>(q.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  if (ShapedType::isDynamic(qType.getDimSize(3)))
    return op.emitOpError("decomposition expects a static head dim D");

  // Run-time checks of the dims that must match and are dynamic (the
  // verifier checked the static ones).
  SmallVector<OpFoldResult> kSizes = getSizes(b, loc, k);
  SmallVector<OpFoldResult> vSizes = getSizes(b, loc, v);
  SmallVector<OpFoldResult> eSizes = getSizes(b, loc, e);
  SmallVector<OpFoldResult> fSizes = getSizes(b, loc, f);
  assertEqualSizes(b, loc, kSizes[2], vSizes[2],
                   "attn.lowrank: key and value Nk differ");
  assertEqualSizes(b, loc, eSizes[2], kSizes[2],
                   "attn.lowrank: key projection Nk differs from the keys'");
  if (f != e) {
    assertEqualSizes(b, loc, fSizes[2], vSizes[2],
                     "attn.lowrank: value projection Nk differs from the "
                     "values'");
    assertEqualSizes(b, loc, fSizes[1], eSizes[1],
                     "attn.lowrank: key and value projections differ in r");
    assertEqualSizes(b, loc, fSizes[0], eSizes[0],
                     "attn.lowrank: key and value projections differ in dim 0");
  }

  // ek = e k and fv = f v, read by KV head, in the compute type.
  HeadOperand eHeads =
      selectHeads(b, loc, e, kSizes[1],
                  "attn.lowrank: key projection dim 0 must be Hkv or 1");
  Value ek = projectWith(eHeads, k);
  HeadOperand fHeads =
      f == e ? eHeads
             : selectHeads(
                   b, loc, f, vSizes[1],
                   "attn.lowrank: value projection dim 0 must be Hkv or 1");
  Value fv = projectWith(fHeads, v);

  // Dense attention of q over the r projected keys, in the compute type.
  bool ctResult = initType.getElementType() == ct;
  Value attnInit =
      ctResult ? init : emptyTensor(b, loc, getSizes(b, loc, init), ct);
  Value result =
      denseAttention(b, loc, q, ek, fv, attnInit, op.getScaleAttr(), ct);
  if (!ctResult)
    result = convertInto(b, loc, result, init);
  return SmallVector<Value>{result};
}
