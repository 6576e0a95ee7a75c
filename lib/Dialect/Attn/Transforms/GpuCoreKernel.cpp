//===- GpuCoreKernel.cpp - The Hopper sdpa core kernel as IR text ---------===//
//
// The kernel is unrolled over the register fragments of the two wgmma
// accumulators, so it is written as text by a small emitter and parsed by
// the pass. Fragment layout of an m64nNk16 f32 accumulator (PTX ISA, wgmma
// register fragments): element i of thread (warp w, lane l) holds
//   row = 16 w + l / 4 + 8 ((i / 2) % 2),  col = 8 (i / 4) + 2 (l % 4) + i % 2.
// The A fragment of a register-A wgmma for key columns [16 kk, 16 kk + 16)
// is then elements 8 kk .. 8 kk + 7 of the score accumulator, packed in
// pairs: P needs no data movement between the two products.
//
//===----------------------------------------------------------------------===//
#include "GpuCoreKernel.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <tuple>

using namespace mlir::attn::gpu_core;

namespace {

/// Shared-memory offsets (bytes from the 1024-aligned base).
struct Layout {
  int64_t stages, qBytes, kvBytes, offQ, offK, offV, offBar, offEmpty, offFacts,
      total;
  explicit Layout(const KernelConfig &c) {
    stages = c.warpSpecialize ? c.stages : 2;
    qBytes = c.qTile * c.headDim * 2;
    kvBytes = c.kvTile * c.headDim * 2;
    offQ = 0;
    offK = qBytes;
    offV = qBytes + stages * kvBytes;
    offBar = qBytes + 2 * stages * kvBytes;
    // Warp-specialised: the empty mbarriers after Q's and the full ones.
    offEmpty = offBar + 8 + 8 * stages;
    // The random facts (i32) after the three mbarriers (five with
    // overlap: the V stages get their own; 1 + 2 stages warp-specialised,
    // with or without overlap: a stage's full mbarrier covers K and V).
    int64_t bars = c.warpSpecialize ? 8 + 16 * stages : c.overlap ? 40 : 32;
    offFacts = offBar + bars;
    total = offBar + std::max<int64_t>(64, bars + 4 * c.numFacts) + 1024;
  }
};

/// A tiny SSA text emitter.
class Writer {
public:
  explicit Writer(std::string &out) : os(out) {}

  /// Emits `%vN = rhs` and returns `%vN`.
  std::string let(const std::string &rhs) {
    std::string name = "%v" + std::to_string(next++);
    os << "    " << name << " = " << rhs << "\n";
    return name;
  }
  /// Emits `rhs` as a statement.
  void line(const std::string &text) { os << "    " << text << "\n"; }
  /// Emits a raw line (no indentation).
  void raw(const std::string &text) { os << text << "\n"; }

  std::string i32(int64_t v) {
    return let("arith.constant " + std::to_string(v) + " : i32");
  }
  std::string i64(int64_t v) {
    return let("arith.constant " + std::to_string(v) + " : i64");
  }
  std::string idx(int64_t v) {
    return let("arith.constant " + std::to_string(v) + " : index");
  }
  std::string f32(double v) {
    std::string text;
    llvm::raw_string_ostream s(text);
    if (std::isinf(v))
      s << (v < 0 ? "0xFF800000" : "0x7F800000");
    else
      s << llvm::format("%.9e", v);
    return let("arith.constant " + text + " : f32");
  }
  std::string bin(const std::string &op, const std::string &a,
                  const std::string &b, const std::string &type) {
    return let(op + " " + a + ", " + b + " : " + type);
  }
  std::string fresh() { return "%v" + std::to_string(next++); }

private:
  llvm::raw_string_ostream os;
  int64_t next = 0;
};

std::string structType(int64_t n) {
  std::string s = "!llvm.struct<(";
  for (int64_t i = 0; i < n; ++i)
    s += (i ? ", f32" : "f32");
  return s + ")>";
}

std::string joinTypes(const std::string &t, int64_t n) {
  std::string s;
  for (int64_t i = 0; i < n; ++i)
    s += (i ? ", " : "") + t;
  return s;
}

std::string join(const llvm::SmallVector<std::string> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + v[i];
  return s;
}

/// The wgmma matrix descriptor of a 128-byte-swizzled operand at shared
/// address `addr` (i64): bits 0-13 address >> 4, 16-29 leading byte offset
/// >> 4, 32-45 stride byte offset >> 4, 62-63 layout (1: 128-byte swizzle).
std::string descriptor(Writer &w, const std::string &addr, int64_t lbo,
                       int64_t sbo) {
  std::string a4 = w.bin("arith.shrui", addr, w.i64(4), "i64");
  std::string lo = w.bin("arith.andi", a4, w.i64(0x3FFF), "i64");
  int64_t high = ((lbo >> 4) << 16) | ((sbo >> 4) << 32) | (int64_t(1) << 62);
  return w.bin("arith.ori", lo, w.i64(high), "i64");
}

/// `arith.select` of two index values.
std::string selIdxRaw(Writer &w, const std::string &cond, const std::string &a,
                      const std::string &b) {
  return w.let("arith.select " + cond + ", " + a + ", " + b + " : index");
}

/// The header of a persistent grid's work loop: `scf.for %pit` over rounds
/// of gx gy work tiles (of ceil(Nq / qTile) x (B H)), carrying %pkv (the
/// key/value tiles loaded before: the ring's phase; %pit is the Q barrier's),
/// and `scf.if` the round's work tile exists (`%pvalid`, yielding %pkv).
/// CTA l = bx + gx by takes work tile r P + l in even rounds and
/// r P + P - 1 - l in odd ones (P = gx gy, a snake over the CTAs); work tile
/// w < B H is query tile 0 of (batch, head) w (the rows of leading global
/// tokens), then the other tiles tile-major from the last tile down (causal:
/// heaviest first, so the snake gives each CTA a heavy and a light tile in
/// turn, the longest-processing-time order). Returns (query tile, head,
/// batch).
std::tuple<std::string, std::string, std::string>
persistentHeader(Writer &w, int64_t qTile, const std::string &memO,
                 const std::string &gy, const std::string &c0,
                 const std::string &c1) {
  std::string bx = w.let("gpu.block_id x"), by = w.let("gpu.block_id y");
  std::string gx = w.let("gpu.grid_dim x");
  std::string l =
      w.bin("arith.addi", bx, w.bin("arith.muli", gx, by, "index"), "index");
  std::string ctas = w.bin("arith.muli", gx, gy, "index");
  std::string nqt = w.bin("arith.ceildivui", "%nq", w.idx(qTile), "index");
  std::string heads = w.let("memref.dim %out, " + c0 + " : " + memO);
  std::string total = w.bin("arith.muli", nqt, heads, "index");
  std::string rounds = w.bin("arith.ceildivui", total, ctas, "index");
  w.line("%pwork = scf.for %pit = " + c0 + " to " + rounds + " step " + c1 +
         " iter_args(%pkv = " + c0 + ") -> (index) {");
  std::string odd = w.let(
      "arith.cmpi eq, " + w.bin("arith.andi", "%pit", c1, "index") + ", " +
      c1 + " : index");
  std::string back = w.bin("arith.subi", w.bin("arith.subi", ctas, c1, "index"),
                           l, "index");
  std::string pw = w.bin("arith.addi",
                         w.bin("arith.muli", "%pit", ctas, "index"),
                         selIdxRaw(w, odd, back, l), "index");
  std::string valid = w.let("arith.cmpi ult, " + pw + ", " + total + " : index");
  w.line("%pvalid = scf.if " + valid + " -> (index) {");
  std::string lead = w.let("arith.cmpi ult, " + pw + ", " + heads + " : index");
  // In the lead, `later` wraps; its selects are unused there.
  std::string later = w.bin("arith.subi", pw, heads, "index");
  std::string bhIdx =
      selIdxRaw(w, lead, pw, w.bin("arith.remui", later, heads, "index"));
  std::string tileIdx = selIdxRaw(
      w, lead, c0,
      w.bin("arith.subi", w.bin("arith.subi", nqt, c1, "index"),
            w.bin("arith.divui", later, heads, "index"), "index"));
  return {tileIdx, w.bin("arith.remui", bhIdx, gy, "index"),
          w.bin("arith.divui", bhIdx, gy, "index")};
}

/// The strided metadata of the rank-4 memref `mem` of type `memType` (its
/// SSA name; results #0 to #7), its aligned base address and the address of
/// its first element (the base plus the offset times `bytes`), both i64.
std::tuple<std::string, std::string, std::string>
firstElementAddress(Writer &w, const std::string &mem,
                    const std::string &memType, const std::string &T,
                    int64_t bytes) {
  std::string md = w.fresh();
  w.line(md + ":8 = memref.extract_strided_metadata " + mem + " : " +
         memType + " -> memref<" + T +
         ">, index, index, index, index, index, index, index");
  std::string base = w.let(
      "arith.index_cast " +
      w.let("memref.extract_aligned_pointer_as_index " + md + "#0 : memref<" +
            T + "> -> index") +
      " : index to i64");
  std::string start = w.bin(
      "arith.addi", base,
      w.bin("arith.muli",
            w.let("arith.index_cast " + md + "#1 : index to i64"),
            w.i64(bytes), "i64"),
      "i64");
  return {md, base, start};
}

/// Pair stores of the epilogue: (whether the output [B H, Nq, D] has unit
/// column stride, even row strides and a 4-byte aligned start; its aligned
/// base address (i64); the element offset of head `bh`'s row 0).
std::tuple<std::string, std::string, std::string>
pairStoreSetup(Writer &w, const std::string &memO, const std::string &T,
               const std::string &bh, const std::string &c0,
               const std::string &c1) {
  auto [md, base, start] = firstElementAddress(w, "%out", memO, T, 2);
  std::string off = md + "#1", s0 = md + "#5", s1 = md + "#6", s2 = md + "#7";
  std::string aligned = w.let(
      "arith.cmpi eq, " + w.bin("arith.andi", start, w.i64(3), "i64") + ", " +
      w.i64(0) + " : i64");
  std::string even = w.let(
      "arith.cmpi eq, " +
      w.bin("arith.andi", w.bin("arith.ori", s0, s1, "index"), c1, "index") +
      ", " + c0 + " : index");
  std::string unit = w.let("arith.cmpi eq, " + s2 + ", " + c1 + " : index");
  std::string ok = w.bin("arith.andi", w.bin("arith.andi", aligned, even, "i1"),
                         unit, "i1");
  std::string elem =
      w.bin("arith.addi", off, w.bin("arith.muli", bh, s0, "index"), "index");
  return {ok, base, w.let("arith.index_cast " + elem + " : index to i64"),
          };
}

/// The stores of row `row` (fragment row r) as 4-byte pairs: elements i and
/// i + 1 (i even) are columns 2t + 8 (i / 4) and the next. The row stride
/// is read again from the metadata (`%out` dim 1 stride).
void writePairStores(Writer &w, const std::string &T, const std::string &base,
                     const std::string &elem, const std::string &row,
                     const std::string &twoT, int64_t nO, int r,
                     const std::function<std::string(int64_t)> &value) {
  std::string md = w.fresh();
  std::string memO = "memref<?x?x?x" + T + ">";
  w.line(md + ":8 = memref.extract_strided_metadata %out : " + memO +
         " -> memref<" + T + ">, index, index, index, index, index, index, "
         "index");
  std::string rowElem = w.bin(
      "arith.addi", elem,
      w.let("arith.index_cast " +
            w.bin("arith.addi", w.bin("arith.muli", row, md + "#6", "index"),
                  twoT, "index") +
            " : index to i64"),
      "i64");
  std::string rowAddr =
      w.bin("arith.addi", base, w.bin("arith.muli", rowElem, w.i64(2), "i64"),
            "i64");
  std::string vt = "vector<2x" + T + ">";
  std::string e0 = w.i32(0), e1 = w.i32(1);
  for (int64_t i = 0; i < nO; i += 2) {
    if ((i / 2) % 2 != r)
      continue;
    std::string u = w.let("llvm.mlir.undef : " + vt);
    u = w.let("llvm.insertelement " +
              w.let("arith.truncf " + value(i) + " : f32 to " + T) + ", " + u +
              "[" + e0 + " : i32] : " + vt);
    u = w.let("llvm.insertelement " +
              w.let("arith.truncf " + value(i + 1) + " : f32 to " + T) + ", " +
              u + "[" + e1 + " : i32] : " + vt);
    std::string addr =
        w.bin("arith.addi", rowAddr, w.i64(2 * 8 * (i / 4)), "i64");
    std::string ptr = w.let("llvm.inttoptr " + addr + " : i64 to !llvm.ptr<1>");
    w.line("llvm.store " + u + ", " + ptr + " : " + vt + ", !llvm.ptr<1>");
  }
}

} // namespace

std::string mlir::attn::gpu_core::writeSortedKernel(const KernelConfig &c) {
  std::string text;
  Writer w(text);
  const std::string memKS = "memref<?x?x" + c.keySegments + ">";
  w.raw("gpu.func @" + c.name + "_sorted(%kseg: " + memKS +
        ", %flags: memref<?xi32>, %nk: index) kernel attributes "
        "{known_block_size = array<i32: " +
        std::to_string(kSortedThreads) + ", 1, 1>} {");
  std::string c1 = w.idx(1);
  std::string tid = w.let("gpu.thread_id x");
  std::string bx = w.let("gpu.block_id x"), b = w.let("gpu.block_id y");
  std::string nkm1 = w.bin("arith.subi", "%nk", c1, "index");
  std::string bad;
  for (int64_t k = 0; k < kSortedPairsPerThread; ++k) {
    // Pair (j, j + 1), j = (bx * pairs + k) * threads + tid: coalesced.
    std::string j = w.bin(
        "arith.addi",
        w.bin("arith.muli",
              w.bin("arith.addi",
                    w.bin("arith.muli", bx, w.idx(kSortedPairsPerThread),
                          "index"),
                    w.idx(k), "index"),
              w.idx(kSortedThreads), "index"),
        tid, "index");
    std::string j1 = w.bin("arith.addi", j, c1, "index");
    std::string in = w.let("arith.cmpi ult, " + j1 + ", %nk : index");
    auto at = [&](const std::string &i) {
      return w.let("memref.load %kseg[" + b + ", " +
                   w.bin("arith.minui", i, nkm1, "index") + "] : " + memKS);
    };
    std::string down = w.let("arith.cmpi sgt, " + at(j) + ", " + at(j1) +
                             " : " + c.keySegments);
    std::string here = w.bin("arith.andi", in, down, "i1");
    bad = bad.empty() ? here : w.bin("arith.ori", bad, here, "i1");
  }
  w.line("scf.if " + bad + " {");
  w.line("memref.store " + w.i32(0) + ", %flags[" + b + "] : memref<?xi32>");
  w.line("}");
  w.line("gpu.return");
  w.raw("}");
  return text;
}

int64_t mlir::attn::gpu_core::sharedMemoryBytes(const KernelConfig &config) {
  return Layout(config).total;
}


namespace {
/// Pair accesses of the merge epilogue to the accumulator `mem` (memref
/// <?x?x?xT>): `ok` whether its columns are contiguous, its row strides even
/// and its start aligned to a pair (checked at run time), and `at` the
/// global pointer of the pair at [row, pos, col] (col even).
struct MergePairs {
  MergePairs() = default;
  MergePairs(Writer &w, const std::string &mem, const std::string &T)
      : w(&w) {
    int64_t bytes = T == "f32" ? 4 : 2;
    std::string md;
    std::tie(md, std::ignore, start) =
        firstElementAddress(w, mem, "memref<?x?x?x" + T + ">", T, bytes);
    s0 = md + "#5";
    s1 = md + "#6";
    size = w.i64(bytes);
    std::string aligned = w.let(
        "arith.cmpi eq, " +
        w.bin("arith.andi", start, w.i64(2 * bytes - 1), "i64") + ", " +
        w.i64(0) + " : i64");
    std::string even = w.let(
        "arith.cmpi eq, " +
        w.bin("arith.andi", w.bin("arith.ori", s0, s1, "index"), w.idx(1),
              "index") +
        ", " + w.idx(0) + " : index");
    std::string unit =
        w.let("arith.cmpi eq, " + md + "#7, " + w.idx(1) + " : index");
    ok = w.bin("arith.andi", w.bin("arith.andi", aligned, even, "i1"), unit,
               "i1");
  }
  std::string at(const std::string &row, const std::string &pos,
                 const std::string &col) const {
    std::string elem = w->bin(
        "arith.addi",
        w->bin("arith.addi", w->bin("arith.muli", row, s0, "index"),
               w->bin("arith.muli", pos, s1, "index"), "index"),
        col, "index");
    std::string addr = w->bin(
        "arith.addi", start,
        w->bin("arith.muli",
               w->let("arith.index_cast " + elem + " : index to i64"), size,
               "i64"),
        "i64");
    return w->let("llvm.inttoptr " + addr + " : i64 to !llvm.ptr<1>");
  }
  Writer *w = nullptr;
  std::string ok, start, s0, s1, size;
};
} // namespace

/// The epilogue of row `row` (one of a thread's two) with `merge`
/// (KernelConfig::mergeHeadChunks > 0): the row's output O / l (`outValue`,
/// f32, this thread's columns; not rounded to the element type before the
/// merge) and lse merged by log-sum-exp into `%out`
/// and `%lse` at the accumulator row (b H' + g / mergeHeadChunks) and
/// position qpos >> mergeTagBits, with `%prevo` / `%prevlse` there (not
/// for the first round). Each accumulator row has one query row in a
/// launch, and the previous accumulators are separate buffers: no thread
/// reads what another writes.
static void
mergeEpilogue(Writer &w, const KernelConfig &c, int r, const std::string &row,
              const std::string &qpos, const std::string &g,
              const std::string &batch, const std::string &heads,
              const std::string &t, const std::string &twoT,
              const std::string &mFin, const std::string &lFin,
              llvm::function_ref<std::string(int64_t)> outValue) {
  const std::string T = c.mergeF32 ? "f32" : c.element;
  const std::string memO = "memref<?x?x?x" + T + ">";
  const std::string P = c.mergePrevF32 ? "f32" : c.element;
  const std::string memPrev = "memref<?x?x?x" + P + ">";
  auto widen = [&](const std::string &v) {
    return c.mergePrevF32 ? v : w.let("arith.extf " + v + " : " + P + " to f32");
  };
  const int64_t nO = c.headDim / 2;
  std::string inRange = w.let("arith.cmpi ult, " + row + ", %nq : index");
  w.line("scf.if " + inRange + " {");
  std::string chunks = w.idx(c.mergeHeadChunks);
  std::string accRow = w.bin(
      "arith.addi",
      w.bin("arith.muli", batch, w.bin("arith.divui", heads, chunks, "index"),
            "index"),
      w.bin("arith.divui", g, chunks, "index"), "index");
  std::string pos = w.let(
      "arith.index_cast " +
      w.bin("arith.shrui", qpos, w.i64(c.mergeTagBits), "i64") +
      " : i64 to index");
  std::string zero = w.f32(0.0), negInf = w.f32(-INFINITY);
  std::string empty = w.let("arith.cmpf oeq, " + lFin + ", " + zero + " : f32");
  std::string lg = w.let("math.log2 " + lFin + " : f32");
  std::string nat = w.bin("arith.mulf", w.bin("arith.addf", mFin, lg, "f32"),
                          w.f32(M_LN2), "f32");
  std::string lse =
      w.let("arith.select " + empty + ", " + negInf + ", " + nat + " : f32");
  // Weights of the previous accumulator and of this row (1 and 0 first).
  std::string newLse = lse, wPrev, wRow;
  if (!c.mergeFirst) {
    std::string prev = w.let("memref.load %prevlse[" + accRow + ", " + pos +
                             "] : memref<?x?xf32>");
    std::string mx = w.bin("arith.maximumf", prev, lse, "f32");
    std::string isNegInf =
        w.let("arith.cmpf oeq, " + mx + ", " + negInf + " : f32");
    std::string shift =
        w.let("arith.select " + isNegInf + ", " + zero + ", " + mx + " : f32");
    std::string log2e = w.f32(M_LOG2E);
    auto weight = [&](const std::string &l) {
      return w.let("math.exp2 " +
                   w.bin("arith.mulf", w.bin("arith.subf", l, shift, "f32"),
                         log2e, "f32") +
                   " : f32");
    };
    std::string a = weight(prev), b = weight(lse);
    std::string total = w.bin("arith.addf", a, b, "f32");
    std::string none =
        w.let("arith.cmpf oeq, " + total + ", " + zero + " : f32");
    std::string inv = w.let(
        "arith.select " + none + ", " + zero + ", " +
        w.bin("arith.divf", w.f32(1.0), total, "f32") + " : f32");
    wPrev = w.bin("arith.mulf", a, inv, "f32");
    wRow = w.bin("arith.mulf", b, inv, "f32");
    newLse = w.bin(
        "arith.addf", shift,
        w.bin("arith.mulf", w.let("math.log2 " + total + " : f32"),
              w.f32(M_LN2), "f32"),
        "f32");
  }
  // Column i's merged value (`old` the previous accumulator's).
  auto merged = [&](int64_t i, const std::string &old) {
    std::string v = outValue(i);
    if (!c.mergeFirst)
      v = w.bin("arith.addf", w.bin("arith.mulf", wPrev, old, "f32"),
                w.bin("arith.mulf", wRow, v, "f32"), "f32");
    return c.mergeF32 ? v : w.let("arith.truncf " + v + " : f32 to " + T);
  };
  auto oneByOne = [&] {
    for (int64_t i = 0; i < nO; ++i) {
      if ((i / 2) % 2 != r)
        continue;
      std::string col =
          w.bin("arith.addi", twoT, w.idx(8 * (i / 4) + i % 2), "index");
      std::string at = "[" + accRow + ", " + pos + ", " + col + "] : ";
      std::string old =
          c.mergeFirst ? "" : widen(w.let("memref.load %prevo" + at + memPrev));
      w.line("memref.store " + merged(i, old) + ", %out" + at + memO);
    }
  };
  if (!c.mergePairs) {
    oneByOne();
  } else {
    // Columns i and i + 1 (i even: 2t + 8 (i / 4) and the next) as one
    // access of each accumulator.
    MergePairs out(w, "%out", T), prev;
    std::string ok = out.ok;
    if (!c.mergeFirst) {
      prev = MergePairs(w, "%prevo", P);
      ok = w.bin("arith.andi", ok, prev.ok, "i1");
    }
    w.line("scf.if " + ok + " {");
    std::string e0 = w.i32(0), e1 = w.i32(1);
    for (int64_t i = 0; i < nO; i += 2) {
      if ((i / 2) % 2 != r)
        continue;
      std::string col = w.bin("arith.addi", twoT, w.idx(8 * (i / 4)), "index");
      std::string old[2];
      if (!c.mergeFirst) {
        std::string pt = "vector<2x" + P + ">";
        std::string pv = w.let("llvm.load " + prev.at(accRow, pos, col) +
                               " : !llvm.ptr<1> -> " + pt);
        for (int k = 0; k < 2; ++k)
          old[k] = widen(w.let("llvm.extractelement " + pv + "[" +
                               (k ? e1 : e0) + " : i32] : " + pt));
      }
      std::string vt = "vector<2x" + T + ">";
      std::string u = w.let("llvm.mlir.undef : " + vt);
      for (int k = 0; k < 2; ++k)
        u = w.let("llvm.insertelement " + merged(i + k, old[k]) + ", " + u +
                  "[" + (k ? e1 : e0) + " : i32] : " + vt);
      w.line("llvm.store " + u + ", " + out.at(accRow, pos, col) + " : " + vt +
             ", !llvm.ptr<1>");
    }
    w.line("} else {");
    oneByOne();
    w.line("}");
  }
  std::string first = w.let("arith.cmpi eq, " + t + ", " + w.idx(0) + " : index");
  w.line("scf.if " + first + " {");
  w.line("memref.store " + newLse + ", %lse[" + accRow + ", " + pos +
         "] : memref<?x?xf32>");
  w.line("}");
  w.line("}");
}

std::string mlir::attn::gpu_core::writeKernel(const KernelConfig &c) {
  const Layout L(c);
  const int64_t D = c.headDim, BK = c.kvTile;
  const int64_t nS = BK / 2, nO = D / 2; // accumulator elements per thread
  const std::string T = c.element;
  const std::string sTy = structType(nS), oTy = structType(nO);
  const std::string memO = "memref<?x?x?x" + T + ">";
  std::string text;
  Writer w(text);

  const bool hasPos = !c.positions.empty(), hasBias = !c.bias.empty();
  const std::string memP = "memref<?x?x?x" + c.positions + ">";
  const std::string memB = "memref<?x?x?x?x" + c.bias + ">";
  const std::string memM = "memref<?x?x?x?xi1>";
  std::string extraArgs;
  if (hasPos)
    extraArgs += ", %qpos: " + memP + ", %kpos: " + memP;
  const bool hasSeg = !c.querySegments.empty();
  const std::string memQS = "memref<?x?x" + c.querySegments + ">";
  const std::string memKS = "memref<?x?x" + c.keySegments + ">";
  if (hasSeg)
    extraArgs += ", %qseg: " + memQS + ", %kseg: " + memKS +
                 ", %ksorted: memref<?xi32>";
  if (c.hasMask)
    extraArgs += ", %mask: " + memM;
  if (hasBias)
    extraArgs += ", %bias: " + memB;
  if (c.hasSpan)
    extraArgs += ", %span: memref<?xf32>";
  const bool hasMem = c.hasMemory;
  if (hasMem)
    extraArgs += ", %mkmap: !llvm.ptr, %mvmap: !llvm.ptr, %nm: index";
  w.raw("gpu.func @" + c.name +
        "(%qmap: !llvm.ptr, %kmap: !llvm.ptr, %vmap: !llvm.ptr, %out: " +
        (c.mergeHeadChunks > 0 && c.mergeF32 ? "memref<?x?x?xf32>" : memO) +
        (c.hasLse ? ", %lse: memref<?x?xf32>" : "") +
        (c.mergeHeadChunks > 0 && !c.mergeFirst
             ? ", %prevo: memref<?x?x?x" +
                   (c.mergePrevF32 ? std::string("f32") : T) +
                   ">, %prevlse: memref<?x?xf32>"
             : std::string()) +
        extraArgs +
        ", %nq: index, %nk: index, %hkv: index) kernel attributes "
        "{known_block_size = "
        "array<i32: " +
        std::to_string(threadsPerBlock(c)) + ", 1, 1>" +
        (c.minBlocksPerSM > 1 || c.warpSpecialize
             ? ", nvvm.minctasm = " + std::to_string(c.minBlocksPerSM) +
                   " : i32"
             : std::string()) +
        "} {");

  // Indices.
  std::string c0 = w.idx(0), c1 = w.idx(1), c2 = w.idx(2);
  std::string tid = w.let("gpu.thread_id x");
  // Warp-specialised: warpgroup 0 is the producer; `tid` counts the
  // consumers' threads (wrapped in the producer, which does not use it).
  const std::string tidRaw = tid;
  if (c.warpSpecialize)
    tid = w.bin("arith.subi", tidRaw, w.idx(kWarpgroupThreads), "index");
  std::string bx = w.let("gpu.block_id x"), by = w.let("gpu.block_id y");
  std::string bz = w.let("gpu.block_id z"), gy = w.let("gpu.grid_dim y");
  // Persistent grid: key/value tiles before this work tile, work tiles done.
  std::string kvBefore = c0, tilesDone = c0;
  if (c.persistent) {
    std::tie(bx, by, bz) = persistentHeader(w, c.qTile, memO, gy, c0, c1);
    kvBefore = "%pkv";
    tilesDone = "%pit";
  } else if (c.heavyFirst) {
    // CTA l (in launch order) takes query tile 0 of (batch, head) l for
    // l < B H, then the other tiles (batch, head)-major, the last first.
    std::string gx = w.let("gpu.grid_dim x"), gz = w.let("gpu.grid_dim z");
    std::string l = w.bin(
        "arith.addi", bx,
        w.bin("arith.muli", gx,
              w.bin("arith.addi", by, w.bin("arith.muli", gy, bz, "index"),
                    "index"),
              "index"),
        "index");
    std::string heads = w.bin("arith.muli", gy, gz, "index");
    std::string lead = w.let("arith.cmpi ult, " + l + ", " + heads + " : index");
    std::string rest = w.bin(
        "arith.maxui", w.bin("arith.subi", gx, c1, "index"), c1, "index");
    std::string later = w.bin("arith.subi", l, heads, "index");
    // In the lead, `later` wraps; its selects are unused there.
    std::string bhIdx = selIdxRaw(w, lead, l,
                                  w.bin("arith.divui", later, rest, "index"));
    std::string tileIdx = selIdxRaw(
        w, lead, c0,
        w.bin("arith.subi", w.bin("arith.subi", gx, c1, "index"),
              w.bin("arith.remui", later, rest, "index"), "index"));
    bx = tileIdx;
    by = w.bin("arith.remui", bhIdx, gy, "index");
    bz = w.bin("arith.divui", bhIdx, gy, "index");
  }
  std::string bh =
      w.bin("arith.addi", w.bin("arith.muli", bz, gy, "index"), by, "index");
  std::string bh32 = w.let("arith.index_cast " + bh + " : index to i32");
  // Grouped-query attention: query head h reads key/value head
  // h / (H / Hkv) of the same batch.
  std::string kvh = w.bin("arith.divui", by,
                          w.bin("arith.divui", gy, "%hkv", "index"), "index");
  std::string kvbh = w.bin(
      "arith.addi", w.bin("arith.muli", bz, "%hkv", "index"), kvh, "index");
  std::string kvbh32 = w.let("arith.index_cast " + kvbh + " : index to i32");
  std::string kvh32 = w.let("arith.index_cast " + kvh + " : index to i32");
  std::string q0 = w.bin("arith.muli", bx, w.idx(c.qTile), "index");
  std::string q0i32 = w.let("arith.index_cast " + q0 + " : index to i32");
  std::string q0i64 = w.let("arith.index_cast " + q0 + " : index to i64");
  std::string nq64 = w.let("arith.index_cast %nq : index to i64");
  std::string nk64 = w.let("arith.index_cast %nk : index to i64");
  std::string qLast = w.bin(
      "arith.minsi", w.bin("arith.addi", q0i64, w.i64(c.qTile - 1), "i64"),
      w.bin("arith.subi", nq64, w.i64(1), "i64"), "i64");
  std::string warp = w.bin("arith.divui", tid, w.idx(32), "index");
  std::string lane = w.bin("arith.remui", tid, w.idx(32), "index");
  std::string g = w.bin("arith.divui", lane, w.idx(4), "index");
  std::string t = w.bin("arith.remui", lane, w.idx(4), "index");
  std::string isT0 = w.let("arith.cmpi eq, " + tid + ", " + c0 + " : index");
  // Rows of this thread: row0 = q0 + 16 warp + g, row1 = row0 + 8 (warp
  // counts across warpgroups: warpgroup w owns rows [64 w, 64 w + 64)).
  std::string row0 =
      w.bin("arith.addi", q0,
            w.bin("arith.addi", w.bin("arith.muli", warp, w.idx(16), "index"),
                  g, "index"),
            "index");
  std::string row1 = w.bin("arith.addi", row0, w.idx(8), "index");
  std::string rows[2] = {row0, row1};
  std::string rows64[2] = {
      w.let("arith.index_cast " + row0 + " : index to i64"),
      w.let("arith.index_cast " + row1 + " : index to i64")};
  std::string twoT = w.bin("arith.muli", t, c2, "index");
  // Byte offset of this warpgroup's 64 rows inside a Q sub-tile.
  std::string wgRowBytes =
      w.let("arith.index_cast " +
            w.bin("arith.muli", w.bin("arith.divui", warp, w.idx(4), "index"),
                  w.idx(kWarpgroupRows * 128), "index") +
            " : index to i64");
  std::string twoT64 = w.let("arith.index_cast " + twoT + " : index to i64");

  // Rows clamped below Nq: operands are read there (rows >= Nq are never
  // stored).
  std::string nqm1 = w.bin("arith.subi", "%nq", c1, "index");
  std::string rowsC[2] = {w.bin("arith.minui", row0, nqm1, "index"),
                          w.bin("arith.minui", row1, nqm1, "index")};
  auto selIdx = [&](const std::string &cond, const std::string &a,
                    const std::string &b) {
    return w.let("arith.select " + cond + ", " + a + ", " + b + " : index");
  };
  auto toI64 = [&](const std::string &v, const std::string &type) {
    if (type == "i64")
      return v;
    return w.let("arith.extsi " + v + " : " + type + " to i64");
  };
  // Positions: head 0, h or h / (H / Hkv) by the positions' head count.
  std::string posHead, qposRow[2];
  std::string qMin, qMax;
  auto shuffleI64 = [&](const std::string &v, const std::string &off) {
    std::string lo = w.let("arith.trunci " + v + " : i64 to i32");
    std::string hi =
        w.let("arith.trunci " + w.bin("arith.shrui", v, w.i64(32), "i64") +
              " : i64 to i32");
    std::string a = w.fresh(), b = w.fresh();
    w.line(a + ":2 = gpu.shuffle xor " + lo + ", " + off + ", " + w.i32(32) +
           " : i32");
    w.line(b + ":2 = gpu.shuffle xor " + hi + ", " + off + ", " + w.i32(32) +
           " : i32");
    std::string lo64 = w.let("arith.extui " + a + "#0 : i32 to i64");
    std::string hi64 = w.let("arith.extui " + b + "#0 : i32 to i64");
    return w.bin("arith.ori", lo64, w.bin("arith.shli", hi64, w.i64(32), "i64"),
                 "i64");
  };
  // xor-shuffles of an i32 or i64 value.
  auto shuffle = [&](const std::string &v, const std::string &off,
                     const std::string &type) {
    if (type == "i64")
      return shuffleI64(v, off);
    std::string r = w.fresh();
    w.line(r + ":2 = gpu.shuffle xor " + v + ", " + off + ", " + w.i32(32) +
           " : i32");
    return r + "#0";
  };
  // The extremes of an i32 or i64 type.
  auto extremes = [&](const std::string &type) {
    if (type == "i64")
      return std::make_pair(w.i64(INT64_MAX), w.i64(INT64_MIN));
    return std::make_pair(w.i32(INT32_MAX), w.i32(INT32_MIN));
  };
  // The range (min, max) over a warp of the values (of `type`, i32 or i64)
  // of `item(k)` = (valid, value) for k < count, each lane its own items;
  // invalid items are left out.
  using Item = std::pair<std::string, std::string>;
  auto warpRange = [&](int64_t count,
                       const std::function<Item(int64_t)> &item,
                       const std::string &type) {
    auto [big, small] = extremes(type);
    std::string lo, hi;
    for (int64_t k = 0; k < count; ++k) {
      auto [ok, p] = item(k);
      std::string l = w.let("arith.select " + ok + ", " + p + ", " + big +
                            " : " + type);
      std::string h = w.let("arith.select " + ok + ", " + p + ", " + small +
                            " : " + type);
      lo = lo.empty() ? l : w.bin("arith.minsi", lo, l, type);
      hi = hi.empty() ? h : w.bin("arith.maxsi", hi, h, type);
    }
    for (int off : {1, 2, 4, 8, 16}) {
      std::string o = w.i32(off);
      lo = w.bin("arith.minsi", lo, shuffle(lo, o, type), type);
      hi = w.bin("arith.maxsi", hi, shuffle(hi, o, type), type);
    }
    return std::make_pair(lo, hi);
  };
  // The range of `valueAt(row)` over the query tile's rows below Nq, the
  // same in every warp: lanes read rows q0 + lane + 32 r.
  auto queryTileRange =
      [&](const std::function<std::string(const std::string &)> &valueAt,
          const std::string &type) {
        return warpRange(
            c.qTile / 32,
            [&](int64_t r) {
              std::string qi = w.bin(
                  "arith.addi", q0,
                  w.bin("arith.addi", lane, w.idx(32 * r), "index"), "index");
              std::string ok =
                  w.let("arith.cmpi ult, " + qi + ", %nq : index");
              return Item(ok,
                          valueAt(w.bin("arith.minui", qi, nqm1, "index")));
            },
            type);
      };
  if (hasPos) {
    std::string hp = w.let("memref.dim %qpos, " + c1 + " : " + memP);
    std::string isOne = w.let("arith.cmpi eq, " + hp + ", " + c1 + " : index");
    std::string isH = w.let("arith.cmpi eq, " + hp + ", " + gy + " : index");
    posHead = selIdx(isOne, c0, selIdx(isH, by, kvh));
    for (int r = 0; r < 2; ++r)
      qposRow[r] = toI64(w.let("memref.load %qpos[" + bz + ", " + posHead +
                               ", " + rowsC[r] + "] : " + memP),
                         c.positions);
    std::tie(qMin, qMax) = queryTileRange([&](const std::string &row) {
      return toI64(w.let("memref.load %qpos[" + bz + ", " + posHead + ", " +
                         row + "] : " + memP),
                   c.positions);
    }, "i64");
  }
  // Document ids: those of this thread's rows, the query tile's id range,
  // and whether the key ids of this batch are sorted.
  std::string qsegRow[2], qsMin, qsMax;
  // Ids are compared in i32 when both are i32 (fewer registers), else in
  // i64.
  const std::string segType =
      c.querySegments == "i32" && c.keySegments == "i32" ? "i32" : "i64";
  auto loadId = [&](const std::string &memref, const std::string &type,
                    const std::string &elt, const std::string &at) {
    std::string v = w.let("memref.load " + memref + "[" + bz + ", " + at +
                          "] : " + type);
    return segType == "i64" ? toI64(v, elt) : v;
  };
  auto kseg = [&](const std::string &col) {
    return loadId("%kseg", memKS, c.keySegments, col);
  };
  // Whether the key ids of this batch are sorted, read where it is needed
  // (not held in a register across the key loop).
  auto keysSorted = [&]() {
    return w.let("arith.cmpi ne, " +
                 w.let("memref.load %ksorted[" + bz + "] : memref<?xi32>") +
                 ", " + w.i32(0) + " : i32");
  };
  if (hasSeg) {
    auto qseg = [&](const std::string &row) {
      return loadId("%qseg", memQS, c.querySegments, row);
    };
    for (int r = 0; r < 2; ++r)
      qsegRow[r] = qseg(rowsC[r]);
    std::tie(qsMin, qsMax) = queryTileRange(qseg, segType);
  }
  // Mask and bias: a dim of size 1 broadcasts.
  struct Operand {
    std::string name, type, b, h, row[2], dimCol;
  };
  auto operandIndices = [&](const std::string &name, const std::string &type) {
    Operand o;
    o.name = name;
    o.type = type;
    std::string d[4];
    for (int i = 0; i < 4; ++i)
      d[i] =
          w.let("arith.cmpi eq, " +
                w.let("memref.dim " + name + ", " + w.idx(i) + " : " + type) +
                ", " + c1 + " : index");
    o.b = selIdx(d[0], c0, bz);
    o.h = selIdx(d[1], c0, by);
    for (int r = 0; r < 2; ++r)
      o.row[r] = selIdx(d[2], c0, rowsC[r]);
    o.dimCol = d[3];
    return o;
  };
  // The span of this head, clamped to [0, max_span], and the weight of a
  // pair at distance `d` (f32): clamp((ramp + z' - d) / ramp, 0, 1).
  std::string spanZ, rampF, zeroW, oneW;
  if (c.hasSpan) {
    zeroW = w.f32(0.0);
    oneW = w.f32(1.0);
    rampF = w.f32(c.ramp);
    std::string z = w.let("memref.load %span[" + by + "] : memref<?xf32>");
    spanZ = w.bin("arith.minimumf", w.bin("arith.maximumf", z, zeroW, "f32"),
                  w.f32(c.maxSpan), "f32");
  }
  auto spanWeight = [&](const std::string &d) {
    std::string m = w.bin(
        "arith.divf",
        w.bin("arith.subf", w.bin("arith.addf", rampF, spanZ, "f32"), d, "f32"),
        rampF, "f32");
    return w.bin("arith.minimumf", w.bin("arith.maximumf", m, zeroW, "f32"),
                 oneW, "f32");
  };
  Operand maskOp, biasOp;
  if (c.hasMask)
    maskOp = operandIndices("%mask", memM);
  if (hasBias)
    biasOp = operandIndices("%bias", memB);

  // Shared memory base, rounded up to 1024 bytes (the swizzle atom).
  std::string dyn = w.let("gpu.dynamic_shared_memory : memref<?xi8, "
                          "#gpu.address_space<workgroup>>");
  std::string rawIdx = w.let("memref.extract_aligned_pointer_as_index " + dyn +
                             " : memref<?xi8, #gpu.address_space<workgroup>> "
                             "-> index");
  std::string raw = w.let("arith.index_cast " + rawIdx + " : index to i64");
  std::string base =
      w.bin("arith.andi", w.bin("arith.addi", raw, w.i64(1023), "i64"),
            w.i64(-1024), "i64");
  auto addr = [&](const std::string &offset) {
    return w.bin("arith.addi", base, offset, "i64");
  };
  auto ptr3 = [&](const std::string &a) {
    return w.let("llvm.inttoptr " + a + " : i64 to !llvm.ptr<3>");
  };
  auto ptr7 = [&](const std::string &a) {
    return w.let("llvm.addrspacecast " + ptr3(a) +
                 " : !llvm.ptr<3> to !llvm.ptr<7>");
  };
  std::string barQ = ptr3(addr(w.i64(L.offBar)));
  // full[s]: the K and V tiles of stage s (only K with overlap).
  auto fullBar = [&](const std::string &stage64) {
    return ptr3(
        addr(w.bin("arith.addi", w.i64(L.offBar + 8),
                   w.bin("arith.muli", stage64, w.i64(8), "i64"), "i64")));
  };
  // With overlap, the V tile of stage s has its own mbarrier.
  auto vFullBar = [&](const std::string &stage64) {
    return ptr3(
        addr(w.bin("arith.addi", w.i64(L.offBar + 24),
                   w.bin("arith.muli", stage64, w.i64(8), "i64"), "i64")));
  };

  auto emptyBar = [&](const std::string &stage64) {
    return ptr3(
        addr(w.bin("arith.addi", w.i64(L.offEmpty),
                   w.bin("arith.muli", stage64, w.i64(8), "i64"), "i64")));
  };

  // The random lists of the query tile, in every thread (warp shuffles);
  // thread 0 keeps them in shared memory, from where each key step reads
  // them again: values derived from them are then not held in registers
  // across the key loop.
  std::string tilesArgs = q0i64 + ", " + qLast + ", " + nq64 + ", " + nk64;
  std::string factArgs, factTypes;
  llvm::SmallVector<std::string> factPtrs;
  if (c.numFacts > 0) {
    std::string f = w.fresh();
    factTypes = ", " + joinTypes("i64", c.numFacts);
    w.line(f + ":" + std::to_string(c.numFacts) + " = func.call @" + c.name +
           "_facts(" + tilesArgs + ") : (i64, i64, i64, i64) -> (" +
           factTypes.substr(2) + ")");
    for (int64_t i = 0; i < c.numFacts; ++i) {
      factArgs += ", " + f + "#" + std::to_string(i);
      factPtrs.push_back(ptr3(addr(w.i64(L.offFacts + 4 * i))));
    }
    w.line("scf.if " + isT0 + " {");
    for (int64_t i = 0; i < c.numFacts; ++i)
      w.line("llvm.store " +
             w.let("arith.trunci " + f + "#" + std::to_string(i) +
                   " : i64 to i32") +
             ", " + factPtrs[i] + " : i32, !llvm.ptr<3>");
    w.line("}");
  }
  auto reloadFacts = [&]() {
    factArgs.clear();
    for (const std::string &p : factPtrs)
      factArgs += ", " + w.let("arith.extsi " +
                               w.let("llvm.load volatile " + p +
                                     " : !llvm.ptr<3> -> i32") +
                               " : i32 to i64");
  };

  // Barrier initialisation by thread 0 (the barrier also publishes the
  // facts).
  std::string one32 = w.i32(1);
  w.line("scf.if " +
         (c.persistent
              ? w.bin("arith.andi", isT0,
                      w.let("arith.cmpi eq, " + tilesDone + ", " + c0 +
                            " : index"),
                      "i1")
              : isT0) +
         " {");
  w.line("  nvvm.mbarrier.init " + barQ + ", " + one32 +
         " : !llvm.ptr<3>, i32");
  for (int s = 0; s < L.stages; ++s)
    w.line("  nvvm.mbarrier.init " + fullBar(w.i64(s)) + ", " + one32 +
           " : !llvm.ptr<3>, i32");
  // Warp-specialised: empty[s], one arrive per consumer warpgroup.
  for (int s = 0; s < (c.warpSpecialize ? L.stages : 0); ++s)
    w.line("  nvvm.mbarrier.init " + emptyBar(w.i64(s)) + ", " + w.i32(2) +
           " : !llvm.ptr<3>, i32");
  for (int s = 0; s < (c.overlap && !c.warpSpecialize ? 2 : 0); ++s)
    w.line("  nvvm.mbarrier.init " + vFullBar(w.i64(s)) + ", " + one32 +
           " : !llvm.ptr<3>, i32");
  w.line("  nvvm.fence.mbarrier.init");
  w.line("}");
  w.line("gpu.barrier");

  // TMA loads: one box per 64-column sub-tile.
  auto load = [&](const std::string &map, const std::string &dstOff,
                  int64_t rowsPerBox, const std::string &row32,
                  const std::string &bar, const std::string &head32) {
    for (int64_t sub = 0; sub < D / 64; ++sub) {
      std::string dst = ptr7(addr(
          w.bin("arith.addi", dstOff, w.i64(sub * rowsPerBox * 128), "i64")));
      w.line("nvvm.cp.async.bulk.tensor.shared.cluster.global " + dst + ", " +
             map + ", " + bar + ", box[" + w.i32(64 * sub) + ", " + row32 +
             ", " + head32 + "] : !llvm.ptr<7>, !llvm.ptr");
    }
  };
  // The key rows [first, end) whose ids lie in [qsMin, qsMax] when the key
  // ids are sorted (else [0, Nk)): two lower bounds (first id >= qsMin,
  // first id > qsMax), searched 32-ary by each warp (a step probes 32 rows
  // at once and keeps the interval between the last probe below and the
  // first probe not below; about log32(Nk) dependent loads).
  auto documentKeyRows = [&]() {
    std::string res = w.fresh();
    w.line(res + ":2 = scf.if " + keysSorted() + " -> (index, index) {");
    std::string lane1 = w.bin("arith.addi", lane, c1, "index");
    std::string nkm1 = w.bin("arith.subi", "%nk", c1, "index");
    std::string full = w.i32(-1);
    std::string loop = w.fresh();
    w.line(loop + ":4 = scf.while (%sl0 = " + c0 + ", %sh0 = %nk, %sl1 = " +
           c0 + ", %sh1 = %nk) : (index, index, index, index) -> (index, "
                "index, index, index) {");
    std::string more = w.bin(
        "arith.ori", w.let("arith.cmpi ult, %sl0, %sh0 : index"),
        w.let("arith.cmpi ult, %sl1, %sh1 : index"), "i1");
    w.line("scf.condition(" + more +
           ") %sl0, %sh0, %sl1, %sh1 : index, index, index, index");
    w.line("} do {");
    w.raw("  ^bb0(%bl0: index, %bh0: index, %bl1: index, %bh1: index):");
    auto step = [&](const std::string &lo, const std::string &hi,
                    const std::string &id, const std::string &below) {
      std::string stride = w.bin(
          "arith.maxui",
          w.bin("arith.ceildivui", w.bin("arith.subi", hi, lo, "index"),
                w.idx(32), "index"),
          c1, "index");
      std::string probe = w.bin(
          "arith.subi",
          w.bin("arith.addi", lo, w.bin("arith.muli", lane1, stride, "index"),
                "index"),
          c1, "index");
      std::string valid =
          w.let("arith.cmpi ult, " + probe + ", " + hi + " : index");
      std::string v = kseg(w.bin("arith.minui", probe, nkm1, "index"));
      std::string bit = w.bin(
          "arith.andi", valid,
          w.let("arith.cmpi " + below + ", " + v + ", " + id + " : " +
                segType),
          "i1");
      std::string ballot =
          w.let("nvvm.vote.sync ballot " + full + ", " + bit + " -> i32");
      std::string count = w.let(
          "arith.index_cast " + w.let("math.ctpop " + ballot + " : i32") +
          " : i32 to index");
      std::string newLo = w.bin("arith.addi", lo,
                                w.bin("arith.muli", count, stride, "index"),
                                "index");
      std::string newHi = w.bin(
          "arith.minui", hi,
          w.bin("arith.subi",
                w.bin("arith.addi", newLo, stride, "index"), c1, "index"),
          "index");
      return std::make_pair(newLo, newHi);
    };
    auto [l0, h0] = step("%bl0", "%bh0", qsMin, "slt");
    auto [l1, h1] = step("%bl1", "%bh1", qsMax, "sle");
    w.line("scf.yield " + l0 + ", " + h0 + ", " + l1 + ", " + h1 +
           " : index, index, index, index");
    w.line("}");
    w.line("scf.yield " + loop + "#0, " + loop + "#2 : index, index");
    w.line("} else {");
    w.line("scf.yield " + c0 + ", %nk : index, index");
    w.line("}");
    return std::make_pair(res + "#0", res + "#1");
  };
  // With the key loop clipped to the query tile's documents, the j-th
  // visited tile is the pattern's tile j + skip.
  std::string skip;
  auto callTile = [&](const std::string &j0) {
    std::string j = skip.empty() ? j0 : w.bin("arith.addi", j0, skip, "index");
    std::string r = w.fresh();
    w.line(r + ":2 = func.call @" + c.name + "_tile(" + j + ", " + tilesArgs +
           factArgs +
           ") : (index, i64, i64, i64, i64" + factTypes +
           ") -> (index, i8)");
    return std::make_pair(r + "#0", r + "#1");
  };
  // Visit j: with memory, tiles [0, nMem) are memory tiles, then the key
  // tiles of the pattern. Returns (is memory, tile, kind).
  std::string nMem;
  auto visit = [&](const std::string &j) {
    if (!hasMem) {
      auto [t, k] = callTile(j);
      return std::make_tuple(std::string(), t, k);
    }
    std::string isMem =
        w.let("arith.cmpi ult, " + j + ", " + nMem + " : index");
    std::string jr = w.let("arith.select " + isMem + ", " + w.idx(0) + ", " +
                           w.bin("arith.subi", j, nMem, "index") + " : index");
    auto [t, k] = callTile(jr);
    std::string tile =
        w.let("arith.select " + isMem + ", " + j + ", " + t + " : index");
    std::string kind =
        w.let("arith.select " + isMem + ", " + w.let("arith.constant 1 : i8") +
              ", " + k + " : i8");
    return std::make_tuple(isMem, tile, kind);
  };
  auto issueKV = [&](const std::string &stage, const std::string &tile,
                     const std::string &isMem) {
    std::string stage64 =
        w.let("arith.index_cast " + stage + " : index to i64");
    std::string bar = fullBar(stage64);
    w.line("nvvm.mbarrier.arrive.expect_tx " + bar + ", " +
           w.i32(2 * L.kvBytes) + " : !llvm.ptr<3>, i32");
    std::string row = w.let("arith.index_cast " +
                            w.bin("arith.muli", tile, w.idx(BK), "index") +
                            " : index to i32");
    std::string sOff = w.bin("arith.muli", stage64, w.i64(L.kvBytes), "i64");
    std::string kmap = "%kmap", vmap = "%vmap", head = kvbh32;
    if (hasMem) {
      kmap = w.let("llvm.select " + isMem + ", %mkmap, %kmap : i1, !llvm.ptr");
      vmap = w.let("llvm.select " + isMem + ", %mvmap, %vmap : i1, !llvm.ptr");
      head = w.let("arith.select " + isMem + ", " + kvh32 + ", " + kvbh32 +
                   " : i32");
    }
    load(kmap, w.bin("arith.addi", w.i64(L.offK), sOff, "i64"), BK, row, bar,
         head);
    load(vmap, w.bin("arith.addi", w.i64(L.offV), sOff, "i64"), BK, row, bar,
         head);
  };
  // With overlap: the K (or V) tile alone into its stage, on its mbarrier.
  auto issueOne = [&](bool isV, const std::string &stage,
                      const std::string &tile, const std::string &isMem) {
    std::string stage64 =
        w.let("arith.index_cast " + stage + " : index to i64");
    std::string bar = isV ? vFullBar(stage64) : fullBar(stage64);
    w.line("nvvm.mbarrier.arrive.expect_tx " + bar + ", " + w.i32(L.kvBytes) +
           " : !llvm.ptr<3>, i32");
    std::string row = w.let("arith.index_cast " +
                            w.bin("arith.muli", tile, w.idx(BK), "index") +
                            " : index to i32");
    std::string sOff = w.bin("arith.muli", stage64, w.i64(L.kvBytes), "i64");
    std::string map = isV ? "%vmap" : "%kmap", head = kvbh32;
    if (hasMem) {
      map = w.let("llvm.select " + isMem +
                  (isV ? ", %mvmap, %vmap" : ", %mkmap, %kmap") +
                  " : i1, !llvm.ptr");
      head = w.let("arith.select " + isMem + ", " + kvh32 + ", " + kvbh32 +
                   " : i32");
    }
    load(map, w.bin("arith.addi", w.i64(isV ? L.offV : L.offK), sOff, "i64"),
         BK, row, bar, head);
  };

  std::string nTiles =
      w.let("func.call @" + c.name + "_tiles(" + tilesArgs + factArgs +
            ") : (i64, i64, i64, i64" + factTypes + ") -> index");
  if (hasSeg && c.clipToDocuments) {
    // The key rows [first, end) of the query tile's documents, from two
    // binary searches in the sorted key ids (every row when they are not
    // sorted), and the pattern's tiles [t0, t0 + nTiles) clipped to them.
    auto [first, end] = documentKeyRows();
    std::string t0 = callTile(c0).first;
    std::string bk = w.idx(BK);
    std::string ft = w.bin("arith.divui", first, bk, "index");
    std::string et = w.bin("arith.ceildivui", end, bk, "index");
    std::string lo = w.bin("arith.maxui", t0, ft, "index");
    std::string hi = w.bin("arith.minui",
                           w.bin("arith.addi", t0, nTiles, "index"), et,
                           "index");
    std::string any = w.bin(
        "arith.andi", w.let("arith.cmpi ult, " + lo + ", " + hi + " : index"),
        w.let("arith.cmpi ult, " + first + ", " + end + " : index"), "i1");
    nTiles = selIdx(any, w.bin("arith.subi", hi, lo, "index"), c0);
    skip = w.bin("arith.subi", lo, t0, "index");
  }
  if (c.bandBlock > 0) {
    // The op's kv_band: the key rows [b(q0) + lo, b(qLast) + hi) (b(i) =
    // floor(i / block) block, the end at most Nk) hold every live key of
    // the query tile; the visited tiles [cur, cur + nTiles) are clipped to
    // the tiles that meet them (the first visited tile moves by `skip`).
    std::string cur = callTile(c0).first;
    std::string blk = w.idx(c.bandBlock), bk = w.idx(BK);
    auto blockStart = [&](const std::string &row) {
      return w.bin("arith.muli", w.bin("arith.divui", row, blk, "index"), blk,
                   "index");
    };
    std::string qLastIdx =
        w.let("arith.index_cast " + qLast + " : i64 to index");
    std::string first =
        w.bin("arith.addi", blockStart(q0), w.idx(c.bandLo), "index");
    std::string end = w.bin(
        "arith.minui",
        w.bin("arith.addi", blockStart(qLastIdx), w.idx(c.bandHi), "index"),
        "%nk", "index");
    std::string lo = w.bin("arith.maxui", cur,
                           w.bin("arith.divui", first, bk, "index"), "index");
    std::string hi = w.bin("arith.minui",
                           w.bin("arith.addi", cur, nTiles, "index"),
                           w.bin("arith.ceildivui", end, bk, "index"), "index");
    nTiles = selIdx(w.let("arith.cmpi ult, " + lo + ", " + hi + " : index"),
                    w.bin("arith.subi", hi, lo, "index"), c0);
    std::string moved = w.bin("arith.subi", lo, cur, "index");
    skip = skip.empty() ? moved : w.bin("arith.addi", skip, moved, "index");
  }
  if (hasMem) {
    nMem = w.bin("arith.ceildivui", "%nm", w.idx(BK), "index");
    nTiles = w.bin("arith.addi", nTiles, nMem, "index");
  }
  std::string ticks = w.i32(0x989680);
  std::string zero32 = w.i32(0);
  // Warp-specialised: the producer's branch, then the consumers' (closed
  // after the epilogue).
  auto writeProducer = [&]() {
    std::string isProducer = w.let("arith.cmpi ult, " + tidRaw + ", " +
                                   w.idx(kWarpgroupThreads) + " : index");
    w.line("scf.if " + isProducer + " {");
    w.line("nvvm.setmaxregister decrease " +
           std::to_string(kProducerRegisters));
    w.line("scf.if " +
           w.let("arith.cmpi eq, " + tidRaw + ", " + c0 + " : index") + " {");
    w.line("nvvm.mbarrier.arrive.expect_tx " + barQ + ", " + w.i32(L.qBytes) +
           " : !llvm.ptr<3>, i32");
    load("%qmap", w.i64(L.offQ), c.qTile, q0i32, barQ, bh32);
    // Tile j goes into stage j % stages once both consumer warpgroups have
    // released its previous tile (round j / stages - 1 of empty[stage]).
    std::string nSt = w.idx(L.stages);
    w.line("scf.for %pj = " + c0 + " to " + nTiles + " step " + c1 + " {");
    std::string stage = w.bin("arith.remui", "%pj", nSt, "index");
    std::string round = w.bin("arith.divui", "%pj", nSt, "index");
    w.line("scf.if " + w.let("arith.cmpi uge, %pj, " + nSt + " : index") +
           " {");
    std::string parity =
        w.let("arith.index_cast " +
              w.bin("arith.remui", w.bin("arith.addi", round, c1, "index"), c2,
                    "index") +
              " : index to i32");
    w.line("nvvm.mbarrier.try_wait.parity " +
           emptyBar(w.let("arith.index_cast " + stage + " : index to i64")) +
           ", " + parity + ", " + ticks + " : !llvm.ptr<3>, i32, i32");
    w.line("}");
    reloadFacts();
    auto [isMemN, tN, kN] = visit("%pj");
    issueKV(stage, tN, isMemN);
    w.line("}");
    w.line("}");
    w.line("} else {");
    w.line("nvvm.setmaxregister increase " +
           std::to_string(kConsumerRegisters));
  };
  if (c.warpSpecialize) {
    writeProducer();
  } else {
    // Prologue: Q, and the first two key/value tiles.
    w.line("scf.if " + isT0 + " {");
    w.line("nvvm.mbarrier.arrive.expect_tx " + barQ + ", " + w.i32(L.qBytes) +
           " : !llvm.ptr<3>, i32");
    load("%qmap", w.i64(L.offQ), c.qTile, q0i32, barQ, bh32);
    for (int s = 0; s < 2; ++s) {
      std::string sIdx = w.idx(s);
      std::string has =
          w.let("arith.cmpi ult, " + sIdx + ", " + nTiles + " : index");
      w.line("scf.if " + has + " {");
      {
        auto [isMem, t, k] = visit(sIdx);
        if (c.overlap) {
          issueOne(false, sIdx, t, isMem);
          issueOne(true, sIdx, t, isMem);
        } else {
          issueKV(c.persistent
                      ? w.bin("arith.remui",
                              w.bin("arith.addi", kvBefore, sIdx, "index"), c2,
                              "index")
                      : sIdx,
                  t, isMem);
        }
      }
      w.line("}");
    }
    w.line("}");
  }

  std::string qParity =
      c.persistent
          ? w.let("arith.index_cast " +
                  w.bin("arith.remui", tilesDone, c2, "index") +
                  " : index to i32")
          : zero32;
  w.line("nvvm.mbarrier.try_wait.parity " + barQ + ", " + qParity + ", " +
         ticks + " : !llvm.ptr<3>, i32, i32");

  std::string negInf = w.f32(-INFINITY), zeroF = w.f32(0.0);
  std::string oZero = w.let("llvm.mlir.zero : " + oTy);
  std::string sZero = w.let("llvm.mlir.zero : " + sTy);
  std::string scaleLog2 = w.f32(c.scaleLog2);
  std::string one32b = w.i32(1), two32 = w.i32(2), width32 = w.i32(32);
  std::string bk64 = w.i64(BK);

  // Per key tile (tileInfo(j) sets them): whether it is a memory tile, the
  // tile, its kind, its first key, and this thread's key columns (element i
  // is column slot 2 (i / 4) + i % 2, key key0 + 2 t + 8 (i / 4) + i % 2).
  const int64_t nSlots = nS / 2;
  auto slotOf = [](int64_t i) { return 2 * (i / 4) + i % 2; };
  std::string isMem, tile, kind, notMem, key0, kMin, kMax;
  llvm::SmallVector<std::string> col64(nSlots), colC(nSlots), kposCol(nSlots);
  // Key column `sl` of this thread clamped below Nk, built where it is used
  // (document ids read it before and after the products: one shared value
  // would stay live across them).
  auto clampedCol = [&](int64_t sl) {
    return w.bin("arith.minui",
                 w.let("arith.index_cast " + col64[sl] + " : i64 to index"),
                 w.bin("arith.subi", "%nk", c1, "index"), "index");
  };
  auto tileInfo = [&](const std::string &j) {
    reloadFacts();
    std::string tileKind;
    std::tie(isMem, tile, tileKind) = visit(j);
    kind = tileKind;
    notMem =
        hasMem ? w.bin("arith.xori", isMem, w.let("arith.constant true"), "i1")
               : "";
    std::string tile64 = w.let("arith.index_cast " + tile + " : index to i64");
    key0 = w.bin("arith.muli", tile64, bk64, "i64");
    {
      std::string colBase = w.bin("arith.addi", key0, twoT64, "i64");
      std::string nkm1 = w.bin("arith.subi", "%nk", c1, "index");
      for (int64_t sl = 0; sl < nSlots; ++sl) {
        col64[sl] =
            w.bin("arith.addi", colBase, w.i64(8 * (sl / 2) + sl % 2), "i64");
        if (hasPos || c.hasMask || hasBias)
          colC[sl] =
              w.bin("arith.minui",
                    w.let("arith.index_cast " + col64[sl] + " : i64 to index"),
                    nkm1, "index");
      }
    }
    kMin.clear();
    kMax.clear();
    if (hasPos) {
      // Classify the tile from the position ranges (keys below Nk); not in
      // memory tiles (Nk may be 0 there).
      std::string pres;
      if (hasMem) {
        pres = w.fresh();
        w.line(pres + ":" + std::to_string(nSlots + 3) + " = scf.if " + notMem +
               " -> (" + joinTypes("i64", nSlots + 2) + ", i8) {");
      }
      std::string big = w.i64(INT64_MAX), small = w.i64(INT64_MIN);
      for (int64_t sl = 0; sl < nSlots; ++sl) {
        kposCol[sl] = toI64(w.let("memref.load %kpos[" + bz + ", " + posHead +
                                  ", " + colC[sl] + "] : " + memP),
                            c.positions);
        std::string ok =
            w.let("arith.cmpi slt, " + col64[sl] + ", " + nk64 + " : i64");
        std::string lo = w.let("arith.select " + ok + ", " + kposCol[sl] +
                               ", " + big + " : i64");
        std::string hi = w.let("arith.select " + ok + ", " + kposCol[sl] +
                               ", " + small + " : i64");
        kMin = kMin.empty() ? lo : w.bin("arith.minsi", kMin, lo, "i64");
        kMax = kMax.empty() ? hi : w.bin("arith.maxsi", kMax, hi, "i64");
      }
      for (int off : {1, 2}) {
        std::string o = w.i32(off);
        kMin = w.bin("arith.minsi", kMin, shuffleI64(kMin, o), "i64");
        kMax = w.bin("arith.maxsi", kMax, shuffleI64(kMax, o), "i64");
      }
      kind = w.let("func.call @" + c.name + "_classify(" + qMin + ", " + qMax +
                   ", " + kMin + ", " + kMax + ", " + nq64 + ", " + nk64 +
                   ") : (i64, i64, i64, i64, i64, i64) -> i8");
      if (hasMem) {
        llvm::SmallVector<std::string> ys(kposCol.begin(), kposCol.end());
        ys.push_back(kMin);
        ys.push_back(kMax);
        w.line("scf.yield " + join(ys) + ", " + kind + " : " +
               joinTypes("i64", nSlots + 2) + ", i8");
        w.line("} else {");
        std::string z = w.i64(0);
        llvm::SmallVector<std::string> zs(nSlots + 2, z);
        w.line("scf.yield " + join(zs) + ", " + w.let("arith.constant 1 : i8") +
               " : " + joinTypes("i64", nSlots + 2) + ", i8");
        w.line("}");
        for (int64_t sl = 0; sl < nSlots; ++sl)
          kposCol[sl] = pres + "#" + std::to_string(sl);
        kMin = pres + "#" + std::to_string(nSlots);
        kMax = pres + "#" + std::to_string(nSlots + 1);
        kind = pres + "#" + std::to_string(nSlots + 2);
      }
    }
    if (c.hasSpan) {
      // Meet the pattern's kind with the span's: qpos - kpos lies in
      // [qFirst - kLast, qLast - kFirst].
      std::string qF = hasPos ? qMin : q0i64, qL = hasPos ? qMax : qLast;
      std::string kF = hasPos ? kMin : key0;
      std::string kL =
          hasPos ? kMax
                 : w.bin("arith.minsi",
                         w.bin("arith.addi", key0, w.i64(BK - 1), "i64"),
                         w.bin("arith.subi", nk64, w.i64(1), "i64"), "i64");
      std::string z64 = w.i64(0);
      std::string dMin = w.bin("arith.subi", qF, kL, "i64");
      std::string dMax = w.bin("arith.subi", qL, kF, "i64");
      auto absI = [&](const std::string &v) {
        return w.bin("arith.maxsi", v, w.bin("arith.subi", z64, v, "i64"),
                     "i64");
      };
      std::string crosses =
          w.bin("arith.andi",
                w.let("arith.cmpi sle, " + dMin + ", " + z64 + " : i64"),
                w.let("arith.cmpi sge, " + dMax + ", " + z64 + " : i64"), "i1");
      std::string nearest =
          w.let("arith.select " + crosses + ", " + z64 + ", " +
                w.bin("arith.minsi", absI(dMin), absI(dMax), "i64") + " : i64");
      std::string farthest =
          w.bin("arith.maxsi", absI(dMin), absI(dMax), "i64");
      auto weightAt = [&](const std::string &d) {
        return spanWeight(w.let("arith.sitofp " + d + " : i64 to f32"));
      };
      std::string anyLive = w.let("arith.cmpf ogt, " + weightAt(nearest) +
                                  ", " + zeroW + " : f32");
      std::string allOne = w.let("arith.cmpf oeq, " + weightAt(farthest) +
                                 ", " + oneW + " : f32");
      std::string k0 = w.let("arith.constant 0 : i8");
      std::string k1 = w.let("arith.constant 1 : i8");
      std::string k2 = w.let("arith.constant 2 : i8");
      std::string empty = w.bin(
          "arith.ori", w.let("arith.cmpi eq, " + kind + ", " + k0 + " : i8"),
          w.bin("arith.xori", anyLive, w.let("arith.constant true"), "i1"),
          "i1");
      std::string full = w.bin(
          "arith.andi", w.let("arith.cmpi eq, " + kind + ", " + k1 + " : i8"),
          allOne, "i1");
      kind = w.let(
          "arith.select " + empty + ", " + k0 + ", " +
          w.let("arith.select " + full + ", " + k1 + ", " + k2 + " : i8") +
          " : i8");
    }
    if (hasSeg) {
      // Meet the kind with the document ids: Empty when the id ranges of the
      // two tiles do not meet, Full (if the kind is) when both hold one and the
      // same id. The key tile's range: its first and last ids when sorted,
      // else the minimum and maximum over its keys below Nk.
      auto keyRange = [&]() {
        std::string res = w.fresh();
        w.line(res + ":2 = scf.if " + keysSorted() + " -> (" + segType + ", " +
               segType + ") {");
        std::string last = w.bin(
            "arith.minsi", w.bin("arith.addi", key0, w.i64(BK - 1), "i64"),
            w.bin("arith.subi", nk64, w.i64(1), "i64"), "i64");
        std::string lo =
            kseg(w.let("arith.index_cast " + key0 + " : i64 to index"));
        std::string hi =
            kseg(w.let("arith.index_cast " + last + " : i64 to index"));
        const std::string pair = segType + ", " + segType;
        w.line("scf.yield " + lo + ", " + hi + " : " + pair);
        w.line("} else {");
        // Unsorted: lanes read keys key0 + lane + 32 k (below Nk), reduced
        // over the warp.
        std::string lane64 =
            w.let("arith.index_cast " + lane + " : index to i64");
        std::tie(lo, hi) = warpRange(
            BK / 32,
            [&](int64_t k) {
              std::string key = w.bin(
                  "arith.addi", key0,
                  w.bin("arith.addi", lane64, w.i64(32 * k), "i64"), "i64");
              std::string ok =
                  w.let("arith.cmpi slt, " + key + ", " + nk64 + " : i64");
              return Item(
                  ok, kseg(w.bin(
                          "arith.minui",
                          w.let("arith.index_cast " + key + " : i64 to index"),
                          w.bin("arith.subi", "%nk", c1, "index"), "index")));
            },
            segType);
        w.line("scf.yield " + lo + ", " + hi + " : " + pair);
        w.line("}");
        return std::make_pair(res + "#0", res + "#1");
      };
      std::string ksMin, ksMax;
      if (hasMem) {
        // Memory tiles hold no key rows (Nk may be 0 there).
        std::string res = w.fresh();
        const std::string pair = segType + ", " + segType;
        w.line(res + ":2 = scf.if " + notMem + " -> (" + pair + ") {");
        auto [lo, hi] = keyRange();
        w.line("scf.yield " + lo + ", " + hi + " : " + pair);
        w.line("} else {");
        std::string z = w.let("arith.constant 0 : " + segType);
        w.line("scf.yield " + z + ", " + z + " : " + pair);
        w.line("}");
        ksMin = res + "#0";
        ksMax = res + "#1";
      } else {
        std::tie(ksMin, ksMax) = keyRange();
      }
      auto cmp = [&](const std::string &pred, const std::string &a,
                     const std::string &b, const std::string &type) {
        return w.let("arith.cmpi " + pred + ", " + a + ", " + b + " : " + type);
      };
      std::string apart = w.bin("arith.ori", cmp("slt", qsMax, ksMin, segType),
                                cmp("slt", ksMax, qsMin, segType), "i1");
      std::string oneId =
          w.bin("arith.andi",
                w.bin("arith.andi", cmp("eq", qsMin, qsMax, segType),
                      cmp("eq", ksMin, ksMax, segType), "i1"),
                cmp("eq", qsMin, ksMin, segType), "i1");
      std::string k0 = w.let("arith.constant 0 : i8");
      std::string k1 = w.let("arith.constant 1 : i8");
      std::string k2 = w.let("arith.constant 2 : i8");
      std::string empty =
          w.bin("arith.ori", cmp("eq", kind, k0, "i8"), apart, "i1");
      std::string full =
          w.bin("arith.andi", cmp("eq", kind, k1, "i8"), oneId, "i1");
      kind = w.let(
          "arith.select " + empty + ", " + k0 + ", " +
          w.let("arith.select " + full + ", " + k1 + ", " + k2 + " : i8") +
          " : i8");
    }
    if (hasMem) // memory tiles are live
      kind = w.let("arith.select " + isMem + ", " +
                   w.let("arith.constant 1 : i8") + ", " + kind + " : i8");
  };
  // Whether tile j's scores need the predicate (Partial, the tail, a mask).
  auto maskedTile = [&]() {
    std::string tileEnd = w.bin("arith.addi", key0, bk64, "i64");
    std::string tail =
        w.let("arith.cmpi sgt, " + tileEnd + ", " + nk64 + " : i64");
    std::string isPartial = w.let("arith.cmpi eq, " + kind + ", " +
                                  w.let("arith.constant 2 : i8") + " : i8");
    // With a mask every visited tile is Partial.
    return c.hasMask ? w.let("arith.constant true")
                     : w.bin("arith.ori", isPartial, tail, "i1");
  };
  // S = Q K^T of the key stage at byte offset kvOff, issued (not committed).
  auto scoreProduct = [&](const std::string &kvOff) {
    // S = Q K^T: both operands K-major; a k16 step is 32 bytes inside a
    // 128-byte swizzled row, a 64-column sub-tile is rows * 128 bytes on.
    w.line("nvvm.wgmma.fence.aligned");
    std::string s = sZero;
    for (int64_t kk = 0; kk < D / 16; ++kk) {
      int64_t within = (kk % 4) * 32;
      std::string qa =
          addr(w.bin("arith.addi", wgRowBytes,
                     w.i64(L.offQ + (kk / 4) * c.qTile * 128 + within), "i64"));
      std::string ka =
          addr(w.bin("arith.addi", kvOff,
                     w.i64(L.offK + (kk / 4) * BK * 128 + within), "i64"));
      std::string da = descriptor(w, qa, 16, 1024);
      std::string db = descriptor(w, ka, 16, 1024);
      s = w.let("nvvm.wgmma.mma_async " + da + ", " + db + ", " + s +
                ", #nvvm.shape<m = 64, n = " + std::to_string(BK) +
                ", k = 16>, D [<f32>, #nvvm.wgmma_scale_out<" +
                (kk == 0 ? "zero" : "one") + ">], A [<" + T +
                ">, #nvvm.wgmma_scale_in<one>, <row>], B [<" + T +
                ">, #nvvm.wgmma_scale_in<one>, <col>] : " + sTy + " -> " + sTy);
    }
    return s;
  };
  // Tile j's online softmax step from its scores `s` and the row maxima and
  // sums before it: P packed as the value product's A fragments, the factor
  // of the accumulator and the new maxima and sums.
  llvm::SmallVector<std::string> aRegs;
  std::string alpha[2], mNew[2], lNew[2];
  auto softmax = [&](const std::string &s, const std::string &masked,
                     const std::string(&mOld)[2], const std::string(&lOld)[2]) {
    // Scores in the log2 domain; -inf where not live in a masked tile.
    const int64_t nSel = c.hasSpan ? 2 * nS : nS;
    std::string memRes;
    if (hasMem) {
      // Memory tiles: scale * qk, live below M.
      std::string nm64 = w.let("arith.index_cast %nm : index to i64");
      memRes = w.fresh();
      w.line(memRes + ":" + std::to_string(nSel) + " = scf.if " + isMem +
             " -> (" + joinTypes("f32", nSel) + ") {");
      llvm::SmallVector<std::string> ym;
      for (int64_t i = 0; i < nS; ++i) {
        std::string raw = w.let("llvm.extractvalue " + s + "[" +
                                std::to_string(i) + "] : " + sTy);
        std::string in = w.let("arith.cmpi slt, " + col64[slotOf(i)] + ", " +
                               nm64 + " : i64");
        ym.push_back(w.let("arith.select " + in + ", " +
                           w.bin("arith.mulf", raw, scaleLog2, "f32") + ", " +
                           negInf + " : f32"));
      }
      if (c.hasSpan)
        ym.append(nS, oneW);
      w.line("scf.yield " + join(ym) + " : " + joinTypes("f32", nSel));
      w.line("} else {");
    }
    // With a bias or score_mod: the natural score scale * qk (+ bias, then
    // score_mod) times log2(e), in every tile.
    llvm::SmallVector<std::string> x;
    const bool natural = hasBias || c.hasScoreMod;
    std::string scaleF = natural ? w.f32(c.scale) : "";
    std::string log2e = natural ? w.f32(M_LOG2E) : "";
    llvm::SmallVector<std::string> biasCol(nSlots);
    if (hasBias)
      for (int64_t sl = 0; sl < nSlots; ++sl)
        biasCol[sl] = selIdx(biasOp.dimCol, c0, colC[sl]);
    for (int64_t i = 0; i < nS; ++i) {
      std::string raw = w.let("llvm.extractvalue " + s + "[" +
                              std::to_string(i) + "] : " + sTy);
      if (!natural) {
        x.push_back(w.bin("arith.mulf", raw, scaleLog2, "f32"));
        continue;
      }
      int r = (i / 2) % 2;
      int64_t sl = slotOf(i);
      std::string v = w.bin("arith.mulf", raw, scaleF, "f32");
      if (hasBias) {
        std::string bv =
            w.let("memref.load %bias[" + biasOp.b + ", " + biasOp.h + ", " +
                  biasOp.row[r] + ", " + biasCol[sl] + "] : " + memB);
        if (c.bias == "f64")
          bv = w.let("arith.truncf " + bv + " : f64 to f32");
        else if (c.bias != "f32")
          bv = w.let("arith.extf " + bv + " : " + c.bias + " to f32");
        v = w.bin("arith.addf", v, bv, "f32");
      }
      if (c.hasScoreMod) {
        std::string qi = hasPos ? qposRow[r] : rows64[r];
        std::string kj = hasPos ? kposCol[sl] : col64[sl];
        v = w.let("func.call @" + c.name + "_mod(" + v + ", " + bz + ", " + by +
                  ", " + w.let("arith.index_cast " + qi + " : i64 to index") +
                  ", " + w.let("arith.index_cast " + kj + " : i64 to index") +
                  ") : (f32, index, index, index, index) -> f32");
      }
      x.push_back(w.bin("arith.mulf", v, log2e, "f32"));
    }
    // With a span the masked branch also yields the weights (1 elsewhere).
    std::string sel = w.fresh();
    w.line(sel + ":" + std::to_string(nSel) + " = scf.if " + masked + " -> (" +
           joinTypes("f32", nSel) + ") {");
    {
      llvm::SmallVector<std::string> y, spanW;
      llvm::SmallVector<std::string> maskCol(nSlots);
      if (c.hasMask)
        for (int64_t sl = 0; sl < nSlots; ++sl)
          maskCol[sl] = selIdx(maskOp.dimCol, c0, colC[sl]);
      llvm::SmallVector<std::string> ksegCol(nSlots);
      if (hasSeg)
        for (int64_t sl = 0; sl < nSlots; ++sl)
          ksegCol[sl] = kseg(clampedCol(sl));
      // With random lists `_live` also takes the tile's first key (and the
      // facts, read again here so that they are not live across the
      // products).
      std::string liveArgs, liveTypes;
      if (c.numFacts > 0) {
        reloadFacts();
        liveArgs = ", " + key0 + factArgs;
        liveTypes = ", i64" + factTypes;
      }
      for (int64_t i = 0; i < nS; ++i) {
        int r = (i / 2) % 2;
        int64_t sl = slotOf(i);
        std::string col = col64[sl];
        std::string row = hasPos ? qposRow[r] : rows64[r];
        std::string key = hasPos ? kposCol[sl] : col;
        std::string ok =
            w.let("func.call @" + c.name + "_live(" + row + ", " + key + ", " +
                  nq64 + ", " + nk64 + liveArgs + ") : (i64, i64, i64, i64" +
                  liveTypes + ") -> i1");
        std::string inside =
            w.let("arith.cmpi slt, " + col + ", " + nk64 + " : i64");
        std::string both = w.bin("arith.andi", ok, inside, "i1");
        if (hasSeg)
          both = w.bin("arith.andi", both,
                       w.let("arith.cmpi eq, " + qsegRow[r] + ", " +
                             ksegCol[sl] + " : " + segType),
                       "i1");
        if (c.hasMask)
          both = w.bin("arith.andi", both,
                       w.let("memref.load %mask[" + maskOp.b + ", " + maskOp.h +
                             ", " + maskOp.row[r] + ", " + maskCol[sl] +
                             "] : " + memM),
                       "i1");
        if (c.hasSpan) {
          std::string d = w.let("math.absf " +
                                w.let("arith.sitofp " +
                                      w.bin("arith.subi", row, key, "i64") +
                                      " : i64 to f32") +
                                " : f32");
          std::string wt = spanWeight(d);
          spanW.push_back(wt);
          both = w.bin("arith.andi", both,
                       w.let("arith.cmpf ogt, " + wt + ", " + zeroW + " : f32"),
                       "i1");
        }
        y.push_back(w.let("arith.select " + both + ", " + x[i] + ", " + negInf +
                          " : f32"));
      }
      y.append(spanW.begin(), spanW.end());
      w.line("scf.yield " + join(y) + " : " + joinTypes("f32", nSel));
    }
    w.line("} else {");
    llvm::SmallVector<std::string> xs = x;
    if (c.hasSpan)
      xs.append(nS, oneW);
    w.line("scf.yield " + join(xs) + " : " + joinTypes("f32", nSel));
    w.line("}");
    for (int64_t i = 0; i < nS; ++i)
      x[i] = sel + "#" + std::to_string(i);
    llvm::SmallVector<std::string> weights;
    if (c.hasSpan)
      for (int64_t i = 0; i < nS; ++i)
        weights.push_back(sel + "#" + std::to_string(nS + i));
    if (hasMem) {
      llvm::SmallVector<std::string> yr = x;
      yr.append(weights.begin(), weights.end());
      w.line("scf.yield " + join(yr) + " : " + joinTypes("f32", nSel));
      w.line("}");
      for (int64_t i = 0; i < nS; ++i)
        x[i] = memRes + "#" + std::to_string(i);
      if (c.hasSpan)
        for (int64_t i = 0; i < nS; ++i)
          weights[i] = memRes + "#" + std::to_string(nS + i);
    }

    // Online softmax per row (each row lives on 4 lanes).
    std::string shift[2];
    for (int r = 0; r < 2; ++r) {
      std::string mx;
      for (int64_t i = 0; i < nS; ++i)
        if ((i / 2) % 2 == r)
          mx = mx.empty() ? x[i] : w.bin("arith.maximumf", mx, x[i], "f32");
      for (const std::string &off : {one32b, two32}) {
        std::string sh = w.fresh();
        w.line(sh + ":2 = gpu.shuffle xor " + mx + ", " + off + ", " + width32 +
               " : f32");
        mx = w.bin("arith.maximumf", mx, sh + "#0", "f32");
      }
      mNew[r] = w.bin("arith.maximumf", mOld[r], mx, "f32");
      std::string isNegInf =
          w.let("arith.cmpf oeq, " + mNew[r] + ", " + negInf + " : f32");
      shift[r] = w.let("arith.select " + isNegInf + ", " + zeroF + ", " +
                       mNew[r] + " : f32");
      alpha[r] =
          w.let("math.exp2 " + w.bin("arith.subf", mOld[r], shift[r], "f32") +
                " fastmath<afn> : f32");
    }
    llvm::SmallVector<std::string> p(nS);
    std::string sum[2];
    for (int64_t i = 0; i < nS; ++i) {
      int r = (i / 2) % 2;
      p[i] = w.let("math.exp2 " + w.bin("arith.subf", x[i], shift[r], "f32") +
                   " fastmath<afn> : f32");
      if (c.hasSpan)
        p[i] = w.bin("arith.mulf", p[i], weights[i], "f32");
      sum[r] = sum[r].empty() ? p[i] : w.bin("arith.addf", sum[r], p[i], "f32");
    }
    for (int r = 0; r < 2; ++r)
      lNew[r] =
          w.bin("arith.addf", w.bin("arith.mulf", lOld[r], alpha[r], "f32"),
                sum[r], "f32");
    // P as the A fragments (registers) of the value product, packed before
    // the fence so that ptxas need not insert a warpgroup.arrive.
    std::string e0 = w.i32(0), e1 = w.i32(1);
    auto pack = [&](const std::string &a, const std::string &b) {
      std::string vt = "vector<2x" + T + ">";
      std::string u = w.let("llvm.mlir.undef : " + vt);
      std::string ta = w.let("arith.truncf " + a + " : f32 to " + T);
      std::string tb = w.let("arith.truncf " + b + " : f32 to " + T);
      u = w.let("llvm.insertelement " + ta + ", " + u + "[" + e0 +
                " : i32] : " + vt);
      u = w.let("llvm.insertelement " + tb + ", " + u + "[" + e1 +
                " : i32] : " + vt);
      return w.let("llvm.bitcast " + u + " : " + vt + " to i32");
    };
    aRegs.clear();
    for (int64_t i = 0; i < nS; i += 2)
      aRegs.push_back(pack(p[i], p[i + 1]));
  };
  // O += P V of the value stage at byte offset kvOff (P: the A fragments
  // `a`), issued (not committed); returns the accumulator.
  auto valueProduct = [&](const std::string &kvOff,
                          llvm::ArrayRef<std::string> a,
                          llvm::SmallVector<std::string> o) {
    // O += P V: V is MN-major (D contiguous); a k16 step is 16 rows of 128
    // bytes; the two 64-column sub-tiles (D = 128) are kvTile * 128 bytes
    // apart (the leading byte offset).
    std::string scaleD = w.i32(1);
    std::string asmText = "{ .reg .pred p; setp.ne.b32 p, $" +
                          std::to_string(nO + 5) +
                          ", 0; wgmma.mma_async.sync.aligned.m64n" +
                          std::to_string(D) + "k16.f32." + T + "." + T + " {";
    for (int64_t i = 0; i < nO; ++i)
      asmText += (i ? ", $" : "$") + std::to_string(i);
    asmText += "}, {$" + std::to_string(nO) + ", $" + std::to_string(nO + 1) +
               ", $" + std::to_string(nO + 2) + ", $" + std::to_string(nO + 3) +
               "}, $" + std::to_string(nO + 4) + ", p, 1, 1, 1; }";
    std::string constraints;
    for (int64_t i = 0; i < nO; ++i)
      constraints += "=f,";
    constraints += "r,r,r,r,l,r";
    for (int64_t i = 0; i < nO; ++i)
      constraints += "," + std::to_string(i);
    std::string argTypes = "i32, i32, i32, i32, i64, i32";
    for (int64_t i = 0; i < nO; ++i)
      argTypes += ", f32";
    w.line("nvvm.wgmma.fence.aligned");
    std::string acc;
    for (int64_t kk = 0; kk < BK / 16; ++kk) {
      std::string va = addr(
          w.bin("arith.addi", kvOff, w.i64(L.offV + kk * 16 * 128), "i64"));
      std::string dv = descriptor(w, va, BK * 128, 1024);
      llvm::SmallVector<std::string> operands = {
          a[4 * kk], a[4 * kk + 1], a[4 * kk + 2], a[4 * kk + 3], dv, scaleD};
      operands.append(o.begin(), o.end());
      acc = w.let("llvm.inline_asm has_side_effects asm_dialect = att \"" +
                  asmText + "\", \"" + constraints + "\" " + join(operands) +
                  " : (" + argTypes + ") -> " + oTy);
      for (int64_t i = 0; i < nO; ++i)
        o[i] = w.let("llvm.extractvalue " + acc + "[" + std::to_string(i) +
                     "] : " + oTy);
    }
    return acc;
  };

  // The accumulator `accIn` times the factors of its rows.
  auto rescale = [&](const std::string &accIn, const std::string(&factor)[2]) {
    llvm::SmallVector<std::string> o;
    for (int64_t i = 0; i < nO; ++i)
      o.push_back(w.bin("arith.mulf",
                        w.let("llvm.extractvalue " + accIn + "[" +
                              std::to_string(i) + "] : " + oTy),
                        factor[(i / 2) % 2], "f32"));
    return o;
  };
  // The loop's results: O, m0, m1, l0, l1.
  std::string fin[5];
  // Warp-specialised consumers: warpgroup leaders release the stages; with
  // ping-pong, warpgroup w's products run between bar.sync on named
  // barrier 1 + w (its turn) and bar.arrive on the other's: a turn is tile
  // j's value product and tile j + 1's scores (the first turn tile 0's
  // scores, the last the last value product). Warpgroup 1 grants the first
  // turn and does not pass on its last one, so both barriers see as many
  // arrivals as waits.
  std::string isWgLeader, ppMine, ppOther, ppThreads, isWg0;
  if (c.warpSpecialize) {
    std::string lt =
        w.bin("arith.remui", tid, w.idx(kWarpgroupThreads), "index");
    isWgLeader = w.let("arith.cmpi eq, " + lt + ", " + c0 + " : index");
  }
  if (c.pingPong) {
    std::string wg =
        w.let("arith.index_cast " +
              w.bin("arith.divui", tid, w.idx(kWarpgroupThreads), "index") +
              " : index to i32");
    ppMine = w.bin("arith.addi", wg, w.i32(1), "i32");
    ppOther = w.bin("arith.subi", w.i32(2), wg, "i32");
    ppThreads = w.i32(2 * kWarpgroupThreads);
    isWg0 = w.let("arith.cmpi eq, " + wg + ", " + w.i32(0) + " : i32");
    w.line("scf.if " +
           w.let("arith.cmpi ne, " + wg + ", " + w.i32(0) + " : i32") + " {");
    w.line("nvvm.barrier.arrive id = " + w.i32(1) +
           " number_of_threads = " + ppThreads);
    w.line("}");
  }
  auto pingPongSync = [&]() {
    if (c.pingPong)
      w.line("nvvm.barrier id = " + ppMine +
             " number_of_threads = " + ppThreads);
  };
  auto pingPongArrive = [&]() {
    if (c.pingPong)
      w.line("nvvm.barrier.arrive id = " + ppOther +
             " number_of_threads = " + ppThreads);
  };
  // Warp-specialised: the warpgroup's first thread releases the stage to the
  // producer.
  auto releaseStage = [&](const std::string &stage64) {
    w.line("scf.if " + isWgLeader + " {");
    w.line("nvvm.mbarrier.arrive " + emptyBar(stage64) + " : !llvm.ptr<3>");
    w.line("}");
  };
  // With `overlap`: the scores of tile j + 1 are issued before tile j's
  // value product, and their softmax step runs while that product does:
  //   S_{j+1} = Q K_{j+1}^T; O = O alpha_j + P_j V_j (both async);
  //   wait_group 1 (S_{j+1} done); softmax of tile j + 1 -> P_{j+1},
  //   alpha_{j+1}; wait_group 0.
  // P and alpha of the next tile are loop-carried; no accumulator is in
  // flight across a region boundary. K and V have their own mbarriers: at
  // the end of step j, K_{j+3} goes into the stage of K_{j+1} and V_{j+2}
  // into that of V_j.
  auto overlapLoop = [&]() {
    const int64_t nA = nS / 2;
    std::string zeroI = w.i32(0), oneF = w.f32(1.0);
    const std::string resTypes =
        joinTypes("i32", nA) + ", " + joinTypes("f32", 6);
    // Tile jn's softmax step from its scores s when jn < nTiles and the
    // tile is live; else P = 0, alpha = 1 and the maxima and sums as they
    // were. Returns P (nA values), alpha0, alpha1, m0, m1, l0, l1.
    auto next = [&](const std::string &jn, const std::string &s,
                    const std::string(&mOld)[2], const std::string(&lOld)[2]) {
      llvm::SmallVector<std::string> keep(nA, zeroI);
      keep.append({oneF, oneF, mOld[0], mOld[1], lOld[0], lOld[1]});
      std::string has =
          w.let("arith.cmpi ult, " + jn + ", " + nTiles + " : index");
      std::string res = w.fresh();
      w.line(res + ":" + std::to_string(nA + 6) + " = scf.if " + has + " -> (" +
             resTypes + ") {");
      tileInfo(jn);
      std::string live = w.let("arith.cmpi ne, " + kind + ", " +
                               w.let("arith.constant 0 : i8") + " : i8");
      std::string inner = w.fresh();
      w.line(inner + ":" + std::to_string(nA + 6) + " = scf.if " + live +
             " -> (" + resTypes + ") {");
      std::string masked = maskedTile();
      softmax(s, masked, mOld, lOld);
      llvm::SmallVector<std::string> y(aRegs.begin(), aRegs.end());
      y.append({alpha[0], alpha[1], mNew[0], mNew[1], lNew[0], lNew[1]});
      w.line("scf.yield " + join(y) + " : " + resTypes);
      w.line("} else {");
      w.line("scf.yield " + join(keep) + " : " + resTypes);
      w.line("}");
      llvm::SmallVector<std::string> r, out;
      for (int64_t i = 0; i < nA + 6; ++i) {
        r.push_back(inner + "#" + std::to_string(i));
        out.push_back(res + "#" + std::to_string(i));
      }
      w.line("scf.yield " + join(r) + " : " + resTypes);
      w.line("} else {");
      w.line("scf.yield " + join(keep) + " : " + resTypes);
      w.line("}");
      return out;
    };
    // Warp-specialised: the producer's ring of `stages` K/V stages.
    auto stageOf = [&](const std::string &j) {
      std::string nSt = c.warpSpecialize ? w.idx(L.stages) : c2;
      std::string stage = w.bin("arith.remui", j, nSt, "index");
      std::string parity =
          w.let("arith.index_cast " +
                w.bin("arith.remui", w.bin("arith.divui", j, nSt, "index"), c2,
                      "index") +
                " : index to i32");
      return std::make_tuple(
          stage, w.let("arith.index_cast " + stage + " : index to i64"),
          parity);
    };
    auto waitBar = [&](const std::string &bar, const std::string &parity) {
      w.line("nvvm.mbarrier.try_wait.parity " + bar + ", " + parity + ", " +
             ticks + " : !llvm.ptr<3>, i32, i32");
    };
    // Thread 0: K or V of tile `j` into stage `stage` when j < nTiles.
    auto refill = [&](bool isV, const std::string &j,
                      const std::string &stage) {
      w.line("scf.if " +
             w.let("arith.cmpi ult, " + j + ", " + nTiles + " : index") + " {");
      reloadFacts();
      auto [isMemN, tN, kN] = visit(j);
      issueOne(isV, stage, tN, isMemN);
      w.line("}");
    };

    // Ping-pong: turn t (0 the prologue's scores, j + 1 step j's two
    // products) is passed on unless it is warpgroup 1's last (t = nTiles).
    auto passTurn = [&](const std::string &turn) {
      if (!c.pingPong)
        return;
      w.line(
          "scf.if " +
          w.bin("arith.ori", isWg0,
                w.let("arith.cmpi ult, " + turn + ", " + nTiles + " : index"),
                "i1") +
          " {");
      pingPongArrive();
      w.line("}");
    };

    // Prologue: S_0 and tile 0's softmax step; then K_2 into K_0's stage
    // (warp-specialised: the producer fills the ring).
    w.line("scf.if " +
           w.let("arith.cmpi ult, " + c0 + ", " + nTiles + " : index") + " {");
    waitBar(fullBar(w.i64(0)), zero32);
    w.line("}");
    pingPongSync();
    std::string s0 = scoreProduct(w.i64(0));
    w.line("nvvm.wgmma.commit.group.sync.aligned");
    passTurn(c0);
    w.line("nvvm.wgmma.wait.group.sync.aligned 0");
    llvm::SmallVector<std::string> first =
        next(c0, s0, {negInf, negInf}, {zeroF, zeroF});
    if (!c.warpSpecialize) {
      w.line("gpu.barrier");
      w.line("scf.if " + isT0 + " {");
      refill(false, c2, c0);
      w.line("}");
    }

    // The key loop: iter_args O, m0, m1, l0, l1, P (nA), alpha0, alpha1.
    std::string loop = w.fresh();
    std::string init = "%acc = " + oZero + ", %m0 = " + first[nA + 2] +
                       ", %m1 = " + first[nA + 3] + ", %l0 = " + first[nA + 4] +
                       ", %l1 = " + first[nA + 5];
    llvm::SmallVector<std::string> pIn;
    for (int64_t i = 0; i < nA; ++i) {
      pIn.push_back("%p" + std::to_string(i));
      init += ", " + pIn.back() + " = " + first[i];
    }
    init += ", %al0 = " + first[nA] + ", %al1 = " + first[nA + 1];
    w.line(loop + ":" + std::to_string(nA + 7) + " = scf.for %j = " + c0 +
           " to " + nTiles + " step " + c1 + " iter_args(" + init + ") -> (" +
           oTy + ", f32, f32, f32, f32, " + joinTypes("i32", nA) +
           ", f32, f32) {");
    // S_{j+1}, issued (scores of a tile past the last are not used).
    std::string jn = w.bin("arith.addi", "%j", c1, "index");
    auto [stageN, stageN64, parityN] = stageOf(jn);
    w.line("scf.if " +
           w.let("arith.cmpi ult, " + jn + ", " + nTiles + " : index") + " {");
    waitBar(fullBar(stageN64), parityN);
    w.line("}");
    pingPongSync();
    std::string s =
        scoreProduct(w.bin("arith.muli", stageN64, w.i64(L.kvBytes), "i64"));
    w.line("nvvm.wgmma.commit.group.sync.aligned");
    // O alpha_j + P_j V_j, issued (warp-specialised: V_j came with K_j, on
    // the full mbarrier waited for before S_j).
    std::string al[2] = {"%al0", "%al1"};
    llvm::SmallVector<std::string> o = rescale("%acc", al);
    auto [stage, stage64, parity] = stageOf("%j");
    if (!c.warpSpecialize)
      waitBar(vFullBar(stage64), parity);
    std::string acc = valueProduct(
        w.bin("arith.muli", stage64, w.i64(L.kvBytes), "i64"), pIn, o);
    w.line("nvvm.wgmma.commit.group.sync.aligned");
    passTurn(jn);
    // S_{j+1} is done (PV_j may not be): tile j + 1's softmax step.
    w.line("nvvm.wgmma.wait.group.sync.aligned 1");
    llvm::SmallVector<std::string> r =
        next(jn, s, {"%m0", "%m1"}, {"%l0", "%l1"});
    w.line("nvvm.wgmma.wait.group.sync.aligned 0");
    // P_{j+1} is copied into the loop's registers only now, by an opaque
    // move: else the copies of the region results into the loop-carried
    // registers (those the value product of tile j reads) come before the
    // wait, and ptxas serializes the products (C7513).
    {
      std::string text, cons, types;
      for (int64_t i = 0; i < nA; ++i) {
        text += "mov.b32 $" + std::to_string(i) + ", $" +
                std::to_string(nA + i) + "; ";
        cons += (i ? ",=r" : "=r");
        types += (i ? ", i32" : "i32");
      }
      for (int64_t i = 0; i < nA; ++i)
        cons += ",r";
      std::string pTy = "!llvm.struct<(" + types + ")>";
      llvm::SmallVector<std::string> pNew(r.begin(), r.begin() + nA);
      std::string moved = w.let(
          "llvm.inline_asm has_side_effects asm_dialect = att \"" + text +
          "\", \"" + cons + "\" " + join(pNew) + " : (" + types + ") -> " +
          pTy);
      for (int64_t i = 0; i < nA; ++i)
        r[i] = w.let("llvm.extractvalue " + moved + "[" + std::to_string(i) +
                     "] : " + pTy);
    }
    if (c.warpSpecialize) {
      // The warpgroup is done with K_j and V_j.
      releaseStage(stage64);
    } else {
      // Every thread is done with K_{j+1} and V_j.
      w.line("gpu.barrier");
      w.line("scf.if " + isT0 + " {");
      refill(true, w.bin("arith.addi", "%j", c2, "index"), stage);
      refill(false, w.bin("arith.addi", "%j", w.idx(3), "index"), stageN);
      w.line("}");
    }
    llvm::SmallVector<std::string> y = {acc, r[nA + 2], r[nA + 3], r[nA + 4],
                                        r[nA + 5]};
    y.append(r.begin(), r.begin() + nA);
    y.append({r[nA], r[nA + 1]});
    w.line("scf.yield " + join(y) + " : " + oTy + ", f32, f32, f32, f32, " +
           joinTypes("i32", nA) + ", f32, f32");
    w.line("}");
    for (int i = 0; i < 5; ++i)
      fin[i] = loop + "#" + std::to_string(i);
  };
  if (!c.overlap) {
    // The key loop.
    pingPongSync();
    std::string loop = w.fresh();
    w.line(loop + ":5 = scf.for %j = " + c0 + " to " + nTiles + " step " + c1 +
           " iter_args(%acc = " + oZero + ", %m0 = " + negInf +
           ", %m1 = " + negInf + ", %l0 = " + zeroF + ", %l1 = " + zeroF +
           ") -> (" + oTy + ", f32, f32, f32, f32) {");
    tileInfo("%j");
    // The ring's count of this tile (across work tiles when persistent).
    std::string jRing =
        c.persistent ? w.bin("arith.addi", "%j", kvBefore, "index") : "%j";
    std::string nSt = c.warpSpecialize ? w.idx(L.stages) : c2;
    std::string stage = w.bin("arith.remui", jRing, nSt, "index");
    std::string use = w.bin("arith.divui", jRing, nSt, "index");
    std::string parity =
        w.let("arith.index_cast " + w.bin("arith.remui", use, c2, "index") +
              " : index to i32");
    std::string stage64 =
        w.let("arith.index_cast " + stage + " : index to i64");
    w.line("nvvm.mbarrier.try_wait.parity " + fullBar(stage64) + ", " + parity +
           ", " + ticks + " : !llvm.ptr<3>, i32, i32");
    std::string live = w.let("arith.cmpi ne, " + kind + ", " +
                             w.let("arith.constant 0 : i8") + " : i8");
    std::string step = w.fresh();
    w.line(step + ":5 = scf.if " + live + " -> (" + oTy +
           ", f32, f32, f32, f32) {");
    {
      std::string masked = maskedTile();
      std::string kvOff = w.bin("arith.muli", stage64, w.i64(L.kvBytes), "i64");
      std::string s = scoreProduct(kvOff);
      w.line("nvvm.wgmma.commit.group.sync.aligned");
      pingPongArrive();
      w.line("nvvm.wgmma.wait.group.sync.aligned 0");
      softmax(s, masked, {"%m0", "%m1"}, {"%l0", "%l1"});
      llvm::SmallVector<std::string> o = rescale("%acc", alpha);
      pingPongSync();
      std::string acc = valueProduct(kvOff, aRegs, o);
      w.line("nvvm.wgmma.commit.group.sync.aligned");
      w.line("nvvm.wgmma.wait.group.sync.aligned 0");
      w.line("scf.yield " + acc + ", " + mNew[0] + ", " + mNew[1] + ", " +
             lNew[0] + ", " + lNew[1] + " : " + oTy + ", f32, f32, f32, f32");
    }
    w.line("} else {");
    pingPongArrive();
    pingPongSync();
    w.line("scf.yield %acc, %m0, %m1, %l0, %l1 : " + oTy +
           ", f32, f32, f32, f32");
    w.line("}");
    if (c.warpSpecialize) {
      // The warpgroup is done with the stage (its products have completed).
      releaseStage(stage64);
    } else {
      // Every thread is done with the stage: refill it with tile j + 2.
      w.line("gpu.barrier");
      std::string jn = w.bin("arith.addi", "%j", c2, "index");
      std::string more =
          w.let("arith.cmpi ult, " + jn + ", " + nTiles + " : index");
      std::string refill = w.bin("arith.andi", isT0, more, "i1");
      w.line("scf.if " + refill + " {");
      {
        reloadFacts();
        auto [isMemN, tN, kN] = visit(jn);
        issueKV(stage, tN, isMemN);
      }
      w.line("}");
    }
    w.line("scf.yield " + step + "#0, " + step + "#1, " + step + "#2, " + step +
           "#3, " + step + "#4 : " + oTy + ", f32, f32, f32, f32");
    w.line("}");
    for (int i = 0; i < 5; ++i)
      fin[i] = loop + "#" + std::to_string(i);
    if (c.pingPong) {
      w.line("scf.if " + isWg0 + " {");
      pingPongArrive();
      w.line("}");
    }
  } else {
    overlapLoop();
  }

  // Epilogue: full row sums, O / l, stores of the rows below Nq.
  std::string mFin[2] = {fin[1], fin[2]};
  std::string lFin[2] = {fin[3], fin[4]};
  std::string inv[2];
  for (int r = 0; r < 2; ++r) {
    for (const std::string &off : {one32b, two32}) {
      std::string sh = w.fresh();
      w.line(sh + ":2 = gpu.shuffle xor " + lFin[r] + ", " + off + ", " +
             width32 + " : f32");
      lFin[r] = w.bin("arith.addf", lFin[r], sh + "#0", "f32");
    }
    std::string empty =
        w.let("arith.cmpf oeq, " + lFin[r] + ", " + zeroF + " : f32");
    std::string recip = w.bin("arith.divf", w.f32(1.0), lFin[r], "f32");
    inv[r] =
        w.let("arith.select " + empty + ", " + zeroF + ", " + recip + " : f32");
  }
  std::string accFin = fin[0];
  auto outValue = [&](int64_t i, int r) {
    return w.bin("arith.mulf",
                 w.let("llvm.extractvalue " + accFin + "[" + std::to_string(i) +
                       "] : " + oTy),
                 inv[r], "f32");
  };
  // Pair stores: where the output's rows are contiguous and 4-byte aligned,
  // the two adjacent columns of a thread go out as one 4-byte store.
  std::string pairOk, outBase, outElem;
  if (c.pairStores)
    std::tie(pairOk, outBase, outElem) = pairStoreSetup(w, memO, T, bh, c0, c1);
  for (int r = 0; r < 2 && c.mergeHeadChunks > 0; ++r)
    mergeEpilogue(w, c, r, rows[r], qposRow[r], by, bz, gy, t, twoT, mFin[r],
                  lFin[r], [&](int64_t i) { return outValue(i, r); });
  for (int r = 0; r < 2 && c.mergeHeadChunks == 0; ++r) {
    std::string inRange = w.let("arith.cmpi ult, " + rows[r] + ", %nq : index");
    w.line("scf.if " + inRange + " {");
    if (c.pairStores) {
      w.line("scf.if " + pairOk + " {");
      writePairStores(w, T, outBase, outElem, rows[r], twoT, nO, r,
                      [&](int64_t i) { return outValue(i, r); });
      w.line("} else {");
    }
    for (int64_t i = 0; i < nO; ++i) {
      if ((i / 2) % 2 != r)
        continue;
      std::string v = outValue(i, r);
      std::string vt = w.let("arith.truncf " + v + " : f32 to " + T);
      std::string col =
          w.bin("arith.addi", twoT, w.idx(8 * (i / 4) + i % 2), "index");
      w.line("memref.store " + vt + ", %out[" + bh + ", " + rows[r] + ", " +
             col + "] : " + memO);
    }
    if (c.pairStores)
      w.line("}");
    if (c.hasLse) {
      std::string first = w.let("arith.cmpi eq, " + t + ", " + c0 + " : index");
      w.line("scf.if " + first + " {");
      std::string empty =
          w.let("arith.cmpf oeq, " + lFin[r] + ", " + zeroF + " : f32");
      std::string lg = w.let("math.log2 " + lFin[r] + " : f32");
      std::string nat =
          w.bin("arith.mulf", w.bin("arith.addf", mFin[r], lg, "f32"),
                w.f32(M_LN2), "f32");
      std::string val = w.let("arith.select " + empty + ", " + negInf + ", " +
                              nat + " : f32");
      w.line("memref.store " + val + ", %lse[" + bh + ", " + rows[r] +
             "] : memref<?x?xf32>");
      w.line("}");
    }
    w.line("}");
  }
  if (c.warpSpecialize)
    w.line("}"); // the consumers' branch
  if (c.persistent) {
    // The work tile's key/value tiles go on the ring's count.
    w.line("scf.yield " + w.bin("arith.addi", kvBefore, nTiles, "index") +
           " : index");
    w.line("} else {");
    w.line("scf.yield %pkv : index");
    w.line("}");
    w.line("scf.yield %pvalid : index");
    w.line("}");
  }
  w.line("gpu.return");
  w.raw("}");
  return text;
}
