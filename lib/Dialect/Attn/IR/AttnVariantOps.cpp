//===- AttnVariantOps.cpp - lsh, cluster, lowrank, kernelized, pkm, lightconv
//===//
#include "AttnOpVerifiers.h"
#include "ShapeChecker.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// attn.lsh
//===----------------------------------------------------------------------===//

bool LshOp::isCausal() { return getCausal(); }

LogicalResult LshOp::verify() {
  ShapeChecker check(*this);
  auto qk = getQk().getType(), v = getValue().getType();
  auto rot = getRotations().getType(), out = getInit().getType();
  if (failed(check.rank("qk", qk, 4, "[B, H, N, D]")) ||
      failed(check.rank("value", v, 4, "[B, H, N, Dv]")) ||
      failed(check.rank("rotations", rot, 4, "[H, R, D, num_buckets / 2]")) ||
      failed(check.rank("outs", out, 4, "[B, H, N, Dv]")) ||
      failed(check.floatElements("qk", qk)) ||
      failed(check.floatElements("value", v)) ||
      failed(check.floatElements("rotations", rot)) ||
      failed(check.elementType("outs", out, v.getElementType())) ||
      failed(check.staticDim("qk", qk, 3, "D")) ||
      failed(check.staticDim("value", v, 3, "Dv")) ||
      failed(check.sameDim("B", "value", v, 0, "qk", qk, 0)) ||
      failed(check.sameDim("H", "value", v, 1, "qk", qk, 1)) ||
      failed(check.sameDim("N", "value", v, 2, "qk", qk, 2)) ||
      failed(check.sameDim("H", "rotations", rot, 0, "qk", qk, 1)) ||
      failed(check.sameDim("D", "rotations", rot, 2, "qk", qk, 3)) ||
      failed(check.sameDim("B", "outs", out, 0, "qk", qk, 0)) ||
      failed(check.sameDim("H", "outs", out, 1, "qk", qk, 1)) ||
      failed(check.sameDim("N", "outs", out, 2, "qk", qk, 2)) ||
      failed(check.sameDim("Dv", "outs", out, 3, "value", v, 3)) ||
      failed(verifyOptionalScale(*this, getScaleAttr())))
    return failure();
  int64_t buckets = getNumBucketsAttr().getInt();
  if (buckets < 2 || buckets % 2 != 0)
    return emitOpError() << "expects num_buckets to be even and >= 2 (buckets "
                            "come from argmax over [x ; -x]), but got "
                         << buckets;
  if (failed(check.dimIs("rotations", rot, 3, "num_buckets / 2", buckets / 2,
                         "num_buckets == 2 * rotations.shape[3]")))
    return failure();
  if (rot.getDimSize(1) == 0)
    return emitOpError(
        "expects at least one hash round (rotations dim R >= 1)");
  // I64Attr getters are unsigned: read the signed values the user wrote.
  int64_t chunk = getChunkSizeAttr().getInt();
  int64_t lookBack = getLookBackAttr().getInt();
  int64_t lookAhead = getLookAheadAttr().getInt();
  if (chunk < 1)
    return emitOpError() << "expects chunk_size >= 1, but got " << chunk;
  int64_t n = qk.getDimSize(2);
  if (!ShapedType::isDynamic(n) && n % chunk != 0)
    return emitOpError() << "expects the sequence length N (" << n
                         << ") to be a multiple of chunk_size (" << chunk
                         << ")";
  if (lookBack < 0 || lookAhead < 0)
    return emitOpError() << "expects look_back >= 0 and look_ahead >= 0, but "
                            "got look_back = "
                         << lookBack << ", look_ahead = " << lookAhead;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.cluster
//===----------------------------------------------------------------------===//

bool ClusterOp::isCausal() { return getCausal(); }

LogicalResult ClusterOp::verify() {
  ShapeChecker check(*this);
  auto q = getQuery().getType(), k = getKey().getType();
  auto centroids = getCentroids().getType();
  if (failed(verifyQueryKeyValue(*this, q, k, getValue().getType(),
                                 getInit().getType())) ||
      failed(verifyOptionalScale(*this, getScaleAttr())) ||
      failed(check.rank("centroids", centroids, 3, "[H, C, D]")) ||
      failed(check.floatElements("centroids", centroids)) ||
      failed(check.sameDim("H", "centroids", centroids, 0, "query", q, 1)) ||
      failed(check.sameDim("D", "centroids", centroids, 2, "query", q, 3)))
    return failure();
  int64_t window = getWindowAttr().getInt(); // Signed, unlike getWindow().
  if (window < 1)
    return emitOpError() << "expects window >= 1, but got " << window;
  for (auto [name, type] : {std::pair{"Nq", q}, std::pair{"Nk", k}}) {
    int64_t n = type.getDimSize(2);
    if (!ShapedType::isDynamic(n) && window > n)
      return emitOpError() << "expects window <= min(Nq, Nk) (each cluster "
                              "takes window queries and window keys), but got "
                              "window = "
                           << window << " > " << name << " = " << n;
  }
  if (getCausal() &&
      failed(verifyCausalLengths(*this, q, k,
                                 "causal clusters compare query and key "
                                 "positions of one sequence")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// attn.lowrank
//===----------------------------------------------------------------------===//

/// Checks a projection [Hkv or 1, r, Nk] of the keys or values.
static LogicalResult verifyProjection(Operation *op, StringRef name,
                                      ShapedType e, ShapedType k) {
  ShapeChecker check(op);
  if (failed(check.rank(name, e, 3, "[Hkv or 1, r, Nk]")) ||
      failed(check.floatElements(name, e)) ||
      failed(check.sameDim("Nk", name, e, 2, "key", k, 2)))
    return failure();
  int64_t heads = e.getDimSize(0), hkv = k.getDimSize(1);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(hkv) ||
      heads == 1 || heads == hkv)
    return success();
  return op->emitOpError() << "expects " << name << " dim 0 (" << heads
                           << ") to be Hkv (" << hkv << ") or 1";
}

LogicalResult LowRankOp::verify() {
  for (StringRef name : {"causal", "pattern"})
    if (failed(verifyNoAttribute(*this, name,
                                 "each projected key mixes every key position, "
                                 "so there is no position to mask")))
      return failure();
  auto q = getQuery().getType(), k = getKey().getType();
  auto e = getKeyProjection().getType();
  if (failed(verifyQueryKeyValue(*this, q, k, getValue().getType(),
                                 getInit().getType())) ||
      failed(verifyOptionalScale(*this, getScaleAttr())) ||
      failed(verifyProjection(*this, "key projection", e, k)))
    return failure();
  if (Value f = getValueProjection()) {
    auto type = cast<ShapedType>(f.getType());
    if (failed(verifyProjection(*this, "value projection", type, k)))
      return failure();
    if (failed(ShapeChecker(*this).compatibleShapes(
            "the value projection", type, "the key projection", e)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// attn.kernelized
//===----------------------------------------------------------------------===//

bool KernelizedOp::isCausal() { return getCausal(); }

LogicalResult KernelizedOp::verify() {
  if (failed(verifyNoAttribute(
          *this, "scale", "the feature map's inner product is the score")) ||
      failed(verifyNoAttribute(*this, "pattern",
                               "kernelized attention never forms the score "
                               "matrix; only causal is supported")))
    return failure();
  ShapeChecker check(*this);
  auto q = getQuery().getType(), k = getKey().getType();
  if (failed(verifyQueryKeyValue(*this, q, k, getValue().getType(),
                                 getInit().getType())))
    return failure();
  bool favor = getFeatureMap() == FeatureMap::FavorPlus;
  if (favor && !getProjection())
    return emitOpError("with favor_plus expects a projection operand "
                       "(the random features W [H or 1, m, D])");
  if (!favor && getProjection())
    return emitOpError() << "with " << stringifyFeatureMap(getFeatureMap())
                         << " takes no projection operand (only favor_plus "
                            "uses random features)";
  if (Value w = getProjection()) {
    auto type = cast<ShapedType>(w.getType());
    if (failed(check.rank("projection", type, 3, "[H or 1, m, D]")) ||
        failed(check.floatElements("projection", type)) ||
        failed(check.sameDim("D", "projection", type, 2, "query", q, 3)))
      return failure();
    int64_t heads = type.getDimSize(0), h = q.getDimSize(1);
    if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(h) &&
        heads != 1 && heads != h)
      return emitOpError() << "expects projection dim 0 (" << heads
                           << ") to be H (" << h << ") or 1";
  }
  if (getCausal() &&
      failed(verifyCausalLengths(*this, q, k,
                                 "the causal prefix sum runs over one "
                                 "sequence")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// attn.pkm
//===----------------------------------------------------------------------===//

LogicalResult PkmOp::verify() {
  if (failed(verifyNoAttribute(*this, "scale",
                               "sub-key scores are used as they are")))
    return failure();
  ShapeChecker check(*this);
  auto q = getQuery().getType(), s1 = getSubkeys1().getType();
  auto s2 = getSubkeys2().getType(), values = getValues().getType();
  auto out = getInit().getType();
  if (failed(check.rank("query", q, 4, "[B, H, N, Dk]")) ||
      failed(check.rank("subkeys1", s1, 3, "[H, n, Dk / 2]")) ||
      failed(check.rank("subkeys2", s2, 3, "[H, n, Dk / 2]")) ||
      failed(check.rank("values", values, 2, "[n * n, Dv]")) ||
      failed(check.rank("outs", out, 4, "[B, H, N, Dv]")) ||
      failed(check.floatElements("query", q)) ||
      failed(check.floatElements("subkeys1", s1)) ||
      failed(check.floatElements("subkeys2", s2)) ||
      failed(check.floatElements("values", values)) ||
      failed(check.elementType("outs", out, values.getElementType())) ||
      failed(check.staticDim("query", q, 3, "Dk")) ||
      failed(check.staticDim("values", values, 1, "Dv")))
    return failure();
  int64_t dk = q.getDimSize(3);
  if (dk % 2 != 0)
    return emitOpError() << "expects an even query dim Dk (split into two "
                            "halves), but got "
                         << dk;
  if (failed(check.compatibleShapes("subkeys2", s2, "subkeys1", s1)))
    return failure();
  if (failed(check.sameDim("H", "subkeys1", s1, 0, "query", q, 1)) ||
      failed(check.dimIs("subkeys1", s1, 2, "Dk / 2", dk / 2,
                         "half the query dim")) ||
      failed(check.staticDim("subkeys1", s1, 1, "n")) ||
      failed(check.sameDim("B", "outs", out, 0, "query", q, 0)) ||
      failed(check.sameDim("H", "outs", out, 1, "query", q, 1)) ||
      failed(check.sameDim("N", "outs", out, 2, "query", q, 2)) ||
      failed(check.sameDim("Dv", "outs", out, 3, "values", values, 1)))
    return failure();
  int64_t n = s1.getDimSize(1);
  std::optional<int64_t> slots = llvm::checkedMul(n, n);
  if (!slots)
    return emitOpError() << "expects n * n memory slots to fit in 64 bits, but "
                            "got n = "
                         << n;
  if (failed(check.dimIs("values", values, 0, "n * n", *slots,
                         "one row per sub-key pair")))
    return failure();
  int64_t topK = getTopKAttr().getInt(); // Signed, unlike getTopK().
  if (topK < 1 || topK > n)
    return emitOpError() << "expects 1 <= top_k <= n (" << n << "), but got "
                         << topK;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.lightconv
//===----------------------------------------------------------------------===//

bool LightConvOp::isCausal() { return getCausal(); }

LogicalResult LightConvOp::verify() {
  ShapeChecker check(*this);
  auto x = getInput().getType(), w = getWeight().getType();
  auto out = getInit().getType();
  if (failed(check.rank("input", x, 3, "[B, N, C]")) ||
      failed(check.rank("weight", w, 2, "[Hc, K]")) ||
      failed(check.floatElements("input", x)) ||
      failed(check.floatElements("weight", w)) ||
      failed(check.staticDim("input", x, 2, "C")) ||
      failed(check.staticDim("weight", w, 0, "Hc")) ||
      failed(check.staticDim("weight", w, 1, "K")))
    return failure();
  if (failed(check.compatibleShapes("outs", out, "the input", x)) ||
      failed(check.elementType("outs", out, x.getElementType())))
    return failure();
  int64_t c = x.getDimSize(2), heads = w.getDimSize(0), width = w.getDimSize(1);
  if (heads < 1 || c % heads != 0)
    return emitOpError() << "expects the channels C (" << c
                         << ") to be a multiple of the weight heads Hc ("
                         << heads << ")";
  if (width < 1)
    return emitOpError("expects a kernel width K >= 1");
  if (width % 2 == 0 && !getCausal())
    return emitOpError() << "expects an odd kernel width K for a non-causal "
                            "convolution (centred padding (K - 1) / 2), but "
                            "got K = "
                         << width;
  return success();
}
