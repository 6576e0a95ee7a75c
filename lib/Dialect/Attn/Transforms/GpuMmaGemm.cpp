//===- GpuMmaGemm.cpp - Chunked products on mma.sync tensor cores ---------===//
//
// Fragment layouts of mma.sync.m16n8k16 (PTX ISA, "Matrix fragments for
// mma.m16n8k16"), lane l, g = l / 4, t = l % 4, each register a pair of
// 16-bit elements along the reduction dim:
//   A (16 x 16, row): a0 (row g, k 2t), a1 (row g + 8, k 2t),
//                     a2 (row g, k 2t + 8), a3 (row g + 8, k 2t + 8)
//   B (16 x 8, col):  b0 (col g, k 2t), b1 (col g, k 2t + 8)
//   C (16 x 8, f32):  c0, c1 (row g, cols 2t, 2t + 1), c2, c3 (row g + 8)
// Both operands keep the reduction dim contiguous, so every register is one
// 32-bit load.
//
//===----------------------------------------------------------------------===//
#include "GpuMmaGemm.h"

#include "GpuLaunchUtils.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "DecomposeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include <tuple>

using namespace mlir;
using namespace mlir::attn;

int64_t mlir::attn::mmaGemmColumnTiles(const MmaGemm &g) {
  int64_t tiles = g.cols / 8;
  for (int64_t nt = 8; nt > 1; --nt)
    if (tiles % nt == 0)
      return nt;
  return 1;
}

namespace {

/// SSA text lines `%mN = ...` of one kernel.
struct Text {
  std::string s;
  int64_t n = 0;
  std::string def(const std::string &rhs) {
    std::string v = "%m" + std::to_string(n++);
    s += "    " + v + " = " + rhs + "\n";
    return v;
  }
  void put(const std::string &line) { s += "    " + line + "\n"; }
  std::string ci(int64_t v) {
    return def("arith.constant " + std::to_string(v) + " : index");
  }
  std::string cl(int64_t v) {
    return def("arith.constant " + std::to_string(v) + " : i64");
  }
  std::string op(const char *name, const std::string &x, const std::string &y,
                 const char *type = "index") {
    return def(std::string(name) + " " + x + ", " + y + " : " + type);
  }
  std::string toI64(const std::string &x) {
    return def("arith.index_cast " + x + " : index to i64");
  }
};

} // namespace

std::string mlir::attn::writeMmaGemmKernel(const MmaGemm &g, StringRef name,
                                           StringRef element) {
  const std::string T = element.str();
  const std::string mem = "memref<?x?x?x" + T + ">";
  const std::string outT = g.lowerMask ? T : "f32";
  const std::string memO = "memref<?x?x?x" + outT + ">";
  const int64_t nt = mmaGemmColumnTiles(g);
  Text w;
  w.s = "gpu.func @" + name.str() + "(%a: " + mem + ", %b: " + mem +
        ", %o: " + memO +
        (g.rowMax ? ", %mx: memref<?x?x?xf32>" : "") +
        ", %nc: index) kernel attributes "
        "{known_block_size = array<i32: 128, 1, 1>} {\n";
  std::string tid = w.def("gpu.thread_id x");
  std::string p = w.def("gpu.block_id x"), by = w.def("gpu.block_id y"),
              bz = w.def("gpu.block_id z");
  std::string bh = w.op("arith.divui", p, "%nc"),
              c = w.op("arith.remui", p, "%nc");
  std::string bb = w.op("arith.divui", bh, w.ci(g.heads)),
              h = w.op("arith.remui", bh, w.ci(g.heads));
  std::string warp = w.op("arith.divui", tid, w.ci(32)),
              lane = w.op("arith.remui", tid, w.ci(32));
  std::string gq = w.op("arith.divui", lane, w.ci(4)),
              t = w.op("arith.remui", lane, w.ci(4));
  std::string rowBase = w.op("arith.addi", w.op("arith.muli", by, w.ci(64)),
                             w.op("arith.muli", warp, w.ci(16)));
  std::string live =
      w.def("arith.cmpi ult, " + rowBase + ", " + w.ci(g.rows) + " : index");
  w.put("scf.if " + live + " {");
  std::string colBase = w.op("arith.muli", bz, w.ci(8 * nt));
  std::string t4 = w.op("arith.muli", w.toI64(t), w.cl(4), "i64");
  // Byte address of row `row` of operand X (clamped to its rows) at the
  // chunk's reduction offset plus 4 t, and whether the row exists.
  struct Rows {
    std::string base, s0, s1, rows, batch, kOff, kBytes;
    int64_t rowStep;
    bool transposed;
  };
  auto setup = [&](const std::string &x, const MmaOperand &op) {
    std::string md = "%m" + std::to_string(w.n++);
    w.put(md + ":8 = memref.extract_strided_metadata " + x + " : " + mem +
          " -> memref<" + T +
          ">, index, index, index, index, index, index, index");
    std::string ptr = w.toI64(w.def("memref.extract_aligned_pointer_as_index " +
                                    md + "#0 : memref<" + T + "> -> index"));
    Rows r;
    r.base = w.op("arith.addi", ptr,
                  w.op("arith.muli", w.toI64(md + "#1"), w.cl(2), "i64"),
                  "i64");
    r.transposed = op.transposed;
    r.rows = md + (op.transposed ? "#4" : "#3");
    r.s0 = md + "#5";
    r.s1 = md + "#6";
    // Bytes from one reduction index to the next (transposed operands).
    r.kBytes = w.op("arith.muli", w.toI64(r.s1), w.cl(2), "i64");
    r.batch = w.op(
        "arith.addi", w.op("arith.muli", bb, w.ci(op.batchMul)),
        w.op("arith.remui", w.op("arith.divui", h, w.ci(op.group)),
             w.ci(op.headMod)));
    r.kOff = w.op("arith.muli", c, w.ci(op.kStep));
    r.rowStep = op.rowStep;
    return r;
  };
  auto rowAddr = [&](const Rows &r, const std::string &i) {
    std::string row =
        w.op("arith.addi", w.op("arith.muli", c, w.ci(r.rowStep)), i);
    std::string valid =
        w.def("arith.cmpi ult, " + row + ", " + r.rows + " : index");
    std::string last = w.op("arith.subi", w.op("arith.maxui", r.rows, w.ci(1)),
                            w.ci(1));
    std::string clamped = w.op("arith.minui", row, last);
    std::string elem =
        r.transposed
            ? w.op("arith.addi",
                   w.op("arith.addi", w.op("arith.muli", r.batch, r.s0),
                        w.op("arith.muli", r.kOff, r.s1)),
                   clamped)
            : w.op("arith.addi",
                   w.op("arith.addi", w.op("arith.muli", r.batch, r.s0),
                        w.op("arith.muli", clamped, r.s1)),
                   r.kOff);
    // Plus the lane's reduction index 2 t.
    std::string lane =
        r.transposed ? w.op("arith.muli", w.op("arith.muli", w.toI64(t),
                                                w.cl(2), "i64"),
                            r.kBytes, "i64")
                     : t4;
    std::string addr = w.op(
        "arith.addi", r.base,
        w.op("arith.addi", w.op("arith.muli", w.toI64(elem), w.cl(2), "i64"),
             lane, "i64"),
        "i64");
    return std::make_pair(addr, valid);
  };
  Rows ra = setup("%a", g.a), rb = setup("%b", g.b);
  auto [a0, a0ok] = rowAddr(ra, w.op("arith.addi", rowBase, gq));
  auto [a1, a1ok] =
      rowAddr(ra, w.op("arith.addi", w.op("arith.addi", rowBase, gq), w.ci(8)));
  std::vector<std::pair<std::string, std::string>> bRows;
  for (int64_t j = 0; j < nt; ++j)
    bRows.push_back(rowAddr(
        rb, w.op("arith.addi", w.op("arith.addi", colBase, w.ci(8 * j)), gq)));
  std::string zero = w.def("arith.constant 0.0 : f32");
  std::string zeroI = w.def("arith.constant 0 : i32");
  const int64_t nAcc = 4 * nt;
  std::string inits, types, accArgs;
  for (int64_t i = 0; i < nAcc; ++i) {
    inits += (i ? ", " : "") + std::string("%acc") + std::to_string(i) +
             " = " + zero;
    types += (i ? ", " : "") + std::string("f32");
  }
  std::string loop = "%m" + std::to_string(w.n++);
  w.put(loop + ":" + std::to_string(nAcc) + " = scf.for %kk = " + w.ci(0) +
        " to " + w.ci(g.k) + " step " + w.ci(16) + " iter_args(" + inits +
        ") -> (" + types + ") {");
  std::string kk64 = w.toI64("%kk");
  std::string kb = w.op("arith.muli", kk64, w.cl(2), "i64");
  std::string k8 = w.cl(16);
  // Reduction index kk (+ 8 for `high`) of a transposed operand: the pair
  // (k, k + 1) are two rows of X, one 16-bit load each.
  auto pairT = [&](const Rows &r, const std::string &addr, bool high) {
    std::string x = w.op("arith.addi", addr,
                         w.op("arith.muli", kk64, r.kBytes, "i64"), "i64");
    if (high)
      x = w.op("arith.addi", x, w.op("arith.muli", w.cl(8), r.kBytes, "i64"),
               "i64");
    std::string half[2];
    for (int e = 0; e < 2; ++e) {
      std::string y = e ? w.op("arith.addi", x, r.kBytes, "i64") : x;
      std::string ptr = w.def("llvm.inttoptr " + y + " : i64 to !llvm.ptr<1>");
      half[e] = w.def("arith.extui " +
                      w.def("llvm.load " + ptr + " : !llvm.ptr<1> -> i16") +
                      " : i16 to i32");
    }
    return w.op("arith.ori", half[0],
                w.op("arith.shli", half[1], w.def("arith.constant 16 : i32"),
                     "i32"),
                "i32");
  };
  auto load = [&](const Rows &r, const std::string &addr,
                  const std::string &ok, bool high) {
    std::string v;
    if (r.transposed) {
      v = pairT(r, addr, high);
    } else {
      std::string x = w.op("arith.addi", addr, kb, "i64");
      if (high)
        x = w.op("arith.addi", x, k8, "i64");
      std::string ptr =
          w.def("llvm.inttoptr " + x + " : i64 to !llvm.ptr<1>");
      v = w.def("llvm.load " + ptr + " : !llvm.ptr<1> -> i32");
    }
    v = w.def("arith.select " + ok + ", " + v + ", " + zeroI + " : i32");
    if (T == "f16")
      v = w.def("llvm.bitcast " + v + " : i32 to vector<2xf16>");
    return v;
  };
  std::string fragTy = T == "f16" ? "vector<2xf16>" : "i32";
  std::string mmaAttrs =
      "{layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, " +
      std::string(T == "bf16" ? "multiplicandAPtxType = #nvvm.mma_type<bf16>, "
                                "multiplicandBPtxType = #nvvm.mma_type<bf16>, "
                              : "") +
      "shape = #nvvm.shape<m = 16, n = 8, k = 16>}";
  std::string A[4] = {load(ra, a0, a0ok, false), load(ra, a1, a1ok, false),
                      load(ra, a0, a0ok, true), load(ra, a1, a1ok, true)};
  std::string yields;
  const std::string sTy = "!llvm.struct<(f32, f32, f32, f32)>";
  for (int64_t j = 0; j < nt; ++j) {
    std::string b0 = load(rb, bRows[j].first, bRows[j].second, false);
    std::string b1 = load(rb, bRows[j].first, bRows[j].second, true);
    std::string acc;
    for (int64_t e = 0; e < 4; ++e)
      acc += (e ? ", " : "") + std::string("%acc") + std::to_string(4 * j + e);
    std::string d = w.def("nvvm.mma.sync A[" + A[0] + ", " + A[1] + ", " +
                          A[2] + ", " + A[3] + "] B[" + b0 + ", " + b1 +
                          "] C[" + acc + "] " + mmaAttrs + " : (" + fragTy +
                          ", " + fragTy + ", f32) -> " + sTy);
    for (int64_t e = 0; e < 4; ++e)
      yields += (4 * j + e ? ", " : "") +
                w.def("llvm.extractvalue " + d + "[" + std::to_string(e) +
                      "] : " + sTy);
  }
  w.put("scf.yield " + yields + " : " + types);
  w.put("}");
  std::string inRow = w.op("arith.addi", rowBase, gq);
  std::string inRow8 = w.op("arith.addi", inRow, w.ci(8));
  std::string chunkRow = w.op("arith.muli", c, w.ci(g.rows));
  std::string outRow = w.op("arith.addi", chunkRow, inRow);
  std::string outRow8 = w.op("arith.addi", chunkRow, inRow8);
  std::string t2 = w.op("arith.muli", t, w.ci(2));
  for (int64_t j = 0; j < nt; ++j) {
    std::string col =
        w.op("arith.addi", w.op("arith.addi", colBase, w.ci(8 * j)), t2);
    std::string col1 = w.op("arith.addi", col, w.ci(1));
    const std::string rowsOf[4] = {outRow, outRow, outRow8, outRow8};
    const std::string inRowsOf[4] = {inRow, inRow, inRow8, inRow8};
    const std::string colsOf[4] = {col, col1, col, col1};
    for (int64_t e = 0; e < 4; ++e) {
      std::string v = loop + "#" + std::to_string(4 * j + e);
      if (g.lowerMask) {
        std::string live = w.def("arith.cmpi ule, " + colsOf[e] + ", " +
                                 inRowsOf[e] + " : index");
        v = w.def("arith.select " + live + ", " + v + ", " + zero + " : f32");
        v = w.def("arith.truncf " + v + " : f32 to " + T);
      }
      w.put("memref.store " + v + ", %o[" + bh + ", " + rowsOf[e] + ", " +
            colsOf[e] + "] : " + memO);
    }
  }
  if (g.rowMax) {
    // Rows g and g + 8 of the warp's tile: the lane's 2 nt values, then the
    // quad's (lanes 4 g .. 4 g + 3) by two xor shuffles; the four lanes
    // store the same value.
    for (int64_t half = 0; half < 2; ++half) {
      std::string mx = loop + "#" + std::to_string(2 * half);
      for (int64_t j = 0; j < nt; ++j)
        for (int64_t e = 0; e < 2; ++e)
          if (j || e)
            mx = w.op("arith.maximumf", mx,
                      loop + "#" + std::to_string(4 * j + 2 * half + e), "f32");
      for (int64_t off : {1, 2}) {
        std::string sh = "%m" + std::to_string(w.n++);
        w.put(sh + ":2 = gpu.shuffle xor " + mx + ", " +
              w.def("arith.constant " + std::to_string(off) + " : i32") +
              ", " + w.def("arith.constant 32 : i32") + " : f32");
        mx = w.op("arith.maximumf", mx, sh + "#0", "f32");
      }
      w.put("memref.store " + mx + ", %mx[" + bh + ", " +
            (half ? outRow8 : outRow) + ", " + bz +
            "] : memref<?x?x?xf32>");
    }
  }
  w.put("}");
  w.put("gpu.return");
  w.s += "}\n";
  return w.s;
}

namespace {

/// Parses `text` (a gpu.module holding one gpu.func) and moves its kernel
/// into gpu.module @attn_gpu of `module`.
gpu::GPUFuncOp insertKernel(ModuleOp module, const std::string &text) {
  ParserConfig config(module.getContext());
  OwningOpRef<ModuleOp> parsed =
      parseSourceString<ModuleOp>(text, config, "attn-gpu-mma-gemm");
  assert(parsed && "the kernel text parses");
  auto tmp = cast<gpu::GPUModuleOp>(parsed->getBody()->front());
  auto kernel = *tmp.getBody()->getOps<gpu::GPUFuncOp>().begin();
  gpu::GPUModuleOp gpuModule = getOrCreateAttnGpuModule(module);
  kernel->moveBefore(gpuModule.getBody(), gpuModule.getBody()->end());
  return kernel;
}

/// Tensor `t` read by a kernel: its buffer as a memref of dynamic sizes.
Value dynamicBuffer(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  Value mem = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), t,
      /*readOnly=*/true);
  return memref::CastOp::create(
      b, loc,
      MemRefType::get(SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic),
                      type.getElementType()),
      mem);
}

/// A kernel's [BH, rows, cols] result of `elt` in device memory: the
/// buffer and its cast to dynamic sizes (the kernel's parameter).
std::pair<Value, Value> deviceResult(OpBuilder &b, Location loc,
                                     OpFoldResult bh, Value rows, int64_t cols,
                                     Type elt) {
  std::optional<int64_t> bhStatic = getConstantIntValue(bh);
  SmallVector<Value> dyn;
  if (!bhStatic)
    dyn.push_back(getValueOrCreateConstantIndexOp(b, loc, bh));
  dyn.push_back(rows);
  auto type = MemRefType::get(
      {bhStatic ? *bhStatic : ShapedType::kDynamic, ShapedType::kDynamic, cols},
      elt);
  Value out = gpu::AllocOp::create(b, loc, type, Type(), ValueRange{}, dyn,
                                   ValueRange{})
                  .getMemref();
  Value outDyn = memref::CastOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic,
                       ShapedType::kDynamic},
                      elt),
      out);
  return {out, outDyn};
}

/// The tensor of a kernel's result `out` (written by the launch before).
Value resultTensor(OpBuilder &b, Location loc, Value out) {
  auto type = cast<MemRefType>(out.getType());
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(type.getShape(), type.getElementType()),
      out, /*restrict=*/true, /*writable=*/true);
}

/// A linalg.generic writing the 3-d `init` elementwise: `body` of the loop
/// indices (every dim parallel).
Value generic3(OpBuilder &b, Location loc, Value init,
               function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  GenericBuilder gb{b, loc};
  return gb.generic({}, init, {gb.dims(3, {0, 1, 2})}, gb.iterators(3, {}),
                    [&](OpBuilder &nb, Location nl, ValueRange) {
                      SmallVector<Value> ix =
                          attn::detail::loopIndices(nb, nl, 3);
                      linalg::YieldOp::create(nb, nl, body(nb, nl, ix));
                    });
}

/// The generic form: the product's loops read the operands inside the body.
Value buildGeneric(OpBuilder &b, Location loc, const MmaGemm &g,
                   OpFoldResult bh, Value nC) {
  Value rowsOut = arith::MulIOp::create(
      b, loc, nC, attn::detail::indexConst(b, loc, g.rows));
  Type elt = cast<RankedTensorType>(g.a.tensor.getType()).getElementType();
  Value init = emptyTensor(
      b, loc, {bh, getAsOpFoldResult(rowsOut), b.getIndexAttr(g.cols)},
      g.lowerMask ? elt : b.getF32Type());
  return generic3(
      b, loc, init,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
        auto cst = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        auto mul = [&](Value x, int64_t y) -> Value {
          return arith::MulIOp::create(nb, nl, x, cst(y));
        };
        auto add = [&](Value x, Value y) -> Value {
          return arith::AddIOp::create(nb, nl, x, y);
        };
        Value c = arith::DivUIOp::create(nb, nl, ix[1], cst(g.rows));
        Value i = arith::RemUIOp::create(nb, nl, ix[1], cst(g.rows));
        Value bbI = arith::DivUIOp::create(nb, nl, ix[0], cst(g.heads));
        Value hI = arith::RemUIOp::create(nb, nl, ix[0], cst(g.heads));
        // (batch, clamped row, k offset, row exists) of an operand.
        auto place = [&](const MmaOperand &op, Value r) {
          Value batch = add(
              mul(bbI, op.batchMul),
              arith::RemUIOp::create(
                  nb, nl, arith::DivUIOp::create(nb, nl, hI, cst(op.group)),
                  cst(op.headMod)));
          Value row = add(mul(c, op.rowStep), r);
          Value rows =
              tensor::DimOp::create(nb, nl, op.tensor, op.transposed ? 2 : 1);
          Value ok = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult,
                                           row, rows);
          Value last = arith::SubIOp::create(
              nb, nl, arith::MaxUIOp::create(nb, nl, rows, cst(1)), cst(1));
          return std::make_tuple(batch,
                                 arith::MinUIOp::create(nb, nl, row, last)
                                     .getResult(),
                                 mul(c, op.kStep), ok);
        };
        Value batA, rowA, kA, okA, batB, rowB, kB, okB;
        std::tie(batA, rowA, kA, okA) = place(g.a, i);
        std::tie(batB, rowB, kB, okB) = place(g.b, ix[2]);
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
        auto read = [&](OpBuilder &lb, const MmaOperand &op, Value batch,
                        Value row, Value k) -> Value {
          Value x = tensor::ExtractOp::create(
              lb, nl, op.tensor,
              op.transposed ? ValueRange{batch, k, row}
                            : ValueRange{batch, row, k});
          return arith::ExtFOp::create(lb, nl, lb.getF32Type(), x);
        };
        auto loop = scf::ForOp::create(
            nb, nl, cst(0), cst(g.k), cst(1), ValueRange{zero},
            [&](OpBuilder &lb, Location ll, Value kk, ValueRange acc) {
              Value x = read(lb, g.a, batA, rowA,
                             arith::AddIOp::create(lb, ll, kA, kk));
              Value y = read(lb, g.b, batB, rowB,
                             arith::AddIOp::create(lb, ll, kB, kk));
              Value s = arith::AddFOp::create(
                  lb, ll, acc[0], arith::MulFOp::create(lb, ll, x, y));
              scf::YieldOp::create(lb, ll, s);
            });
        Value ok = arith::AndIOp::create(nb, nl, okA, okB);
        if (g.lowerMask)
          ok = arith::AndIOp::create(
              nb, nl, ok,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule, ix[2],
                                    i));
        Value out =
            arith::SelectOp::create(nb, nl, ok, loop.getResult(0), zero);
        if (g.lowerMask)
          out = arith::TruncFOp::create(nb, nl, elt, out);
        return out;
      });
}

} // namespace

/// The generic form of the row maxima: [BH, rows, tiles], the maximum of
/// each row of `product` over the tile's 8 nt columns.
static Value buildRowMaxGeneric(OpBuilder &b, Location loc, const MmaGemm &g,
                                OpFoldResult bh, Value product) {
  const int64_t width = 8 * mmaGemmColumnTiles(g);
  Value init = emptyTensor(
      b, loc,
      {bh, tensor::getMixedSize(b, loc, product, 1),
       b.getIndexAttr(g.cols / width)},
      b.getF32Type());
  return generic3(
      b, loc, init,
      [&](OpBuilder &nb, Location nl, ArrayRef<Value> ix) -> Value {
        auto cst = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        Value lo = arith::MulIOp::create(nb, nl, ix[2], cst(width));
        Value first = tensor::ExtractOp::create(nb, nl, product,
                                                ValueRange{ix[0], ix[1], lo});
        auto loop = scf::ForOp::create(
            nb, nl, cst(1), cst(width), cst(1), ValueRange{first},
            [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
              Value x = tensor::ExtractOp::create(
                  lb, ll, product,
                  ValueRange{ix[0], ix[1],
                             arith::AddIOp::create(lb, ll, lo, j)});
              scf::YieldOp::create(
                  lb, ll,
                  ValueRange{arith::MaximumFOp::create(lb, ll, acc[0], x)});
            });
        return loop.getResult(0);
      });
}

Value mlir::attn::buildMmaGemm(OpBuilder &b, Location loc, ModuleOp module,
                               const MmaGemm &g, OpFoldResult bh, Value nC,
                               bool launch, StringRef name, Value *rowMax) {
  assert(g.rowMax == (rowMax != nullptr) && !(g.rowMax && g.lowerMask));
  if (!launch) {
    Value product = buildGeneric(b, loc, g, bh, nC);
    if (rowMax)
      *rowMax = buildRowMaxGeneric(b, loc, g, bh, product);
    return product;
  }
  auto aType = cast<RankedTensorType>(g.a.tensor.getType());
  Type elt = aType.getElementType();
  std::string text = "gpu.module @tmp {\n" +
                     writeMmaGemmKernel(g, name, elt.isBF16() ? "bf16" : "f16") +
                     "}\n";
  // Test hook (test/GPU/mma_gemm_emulate.py): the kernel text with its
  // product's parameters, on stderr.
  if (getenv("ATTN_MMA_KERNEL_DUMP"))
    llvm::errs() << "//KERNEL " << name << " " << g.a.batchMul << " "
                 << g.a.group << " " << g.a.headMod << " " << g.a.rowStep
                 << " " << g.a.kStep << " " << g.a.transposed << " | "
                 << g.b.batchMul << " "
                 << g.b.group << " " << g.b.headMod << " " << g.b.rowStep
                 << " " << g.b.kStep << " " << g.b.transposed << " | "
                 << g.heads << " " << g.k << " "
                 << g.rows << " " << g.cols << " " << g.rowMax << "\n"
                 << text << "//END\n";
  gpu::GPUFuncOp kernel = insertKernel(module, text);
  auto cidx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto operand = [&](Value t) { return dynamicBuffer(b, loc, t); };
  Value aMem = operand(g.a.tensor), bMem = operand(g.b.tensor);
  Value bhV = getValueOrCreateConstantIndexOp(b, loc, bh);
  auto [out, outDyn] =
      deviceResult(b, loc, bh, arith::MulIOp::create(b, loc, nC, cidx(g.rows)),
                   g.cols, g.lowerMask ? elt : b.getF32Type());
  Value rows = arith::MulIOp::create(b, loc, nC, cidx(g.rows));
  const int64_t tiles = g.cols / (8 * mmaGemmColumnTiles(g));
  Value mx, mxDyn;
  if (rowMax)
    std::tie(mx, mxDyn) =
        deviceResult(b, loc, bh, rows, tiles, b.getF32Type());
  Value blocks = arith::MulIOp::create(b, loc, bhV, nC);
  Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, blocks,
                                    cidx(0));
  SmallVector<Value> kernelArgs{aMem, bMem, outDyn};
  if (rowMax)
    kernelArgs.push_back(mxDyn);
  kernelArgs.push_back(nC);
  auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifAny.thenBlock());
    gpu::LaunchFuncOp::create(
        b, loc, kernel,
        gpu::KernelDim3{blocks, cidx((g.rows + 63) / 64), cidx(tiles)},
        gpu::KernelDim3{cidx(128), cidx(1), cidx(1)},
        /*dynamicSharedMemorySize=*/Value(), kernelArgs);
  }
  outlineGpuLaunch(module, {ifAny}, name);
  if (rowMax)
    *rowMax = resultTensor(b, loc, mx);
  return resultTensor(b, loc, out);
}

std::string mlir::attn::writeChunkScanKernel(const ChunkScan &s,
                                             StringRef name,
                                             StringRef element) {
  const std::string T = element.str();
  const std::string memT = "memref<?x?x?xf32>", memR = "memref<?x?xf32>",
                    memO = "memref<?x?x?x" + T + ">";
  Text w;
  w.s = "gpu.func @" + name.str() + "(%t: " + memT + ", %r: " + memR +
        ", %o: " + memO + ", %nc: index) kernel attributes "
        "{known_block_size = array<i32: 128, 1, 1>} {\n";
  std::string tid = w.def("gpu.thread_id x"), p = w.def("gpu.block_id x");
  std::string xb = w.ci(s.width * s.cols / 128);
  std::string bh = w.op("arith.divui", p, xb);
  std::string x = w.op("arith.addi",
                       w.op("arith.muli", w.op("arith.remui", p, xb), w.ci(128)),
                       tid);
  std::string e = w.op("arith.divui", x, w.ci(s.cols)),
              j = w.op("arith.remui", x, w.ci(s.cols));
  std::string one = w.ci(1);
  std::string last = w.op("arith.subi", w.op("arith.maxui", "%nc", one), one);
  std::string zero = w.def("arith.constant 0.0 : f32");
  std::string oneF = w.def("arith.constant 1.0 : f32");
  // 1 / 1024, exactly.
  std::string perKey = w.def("arith.constant 9.765625e-04 : f32");
  std::string loop = "%m" + std::to_string(w.n++);
  w.put(loop + " = scf.for %c = " + w.ci(0) + " to %nc step " +
        w.ci(kChunkScanUnroll) + " iter_args(%acc = " + zero +
        ") -> (f32) {");
  // The loads of the unrolled chunks first (independent of the sum).
  std::string cu[kChunkScanUnroll], tv[kChunkScanUnroll], rv[kChunkScanUnroll],
      rn[kChunkScanUnroll];
  for (int64_t u = 0; u < kChunkScanUnroll; ++u) {
    cu[u] = u ? w.op("arith.addi", "%c", w.ci(u)) : "%c";
    std::string cl = w.op("arith.minui", cu[u], last);
    std::string cn = w.op("arith.minui", w.op("arith.addi", cl, one), last);
    std::string row =
        w.op("arith.addi", w.op("arith.muli", cl, w.ci(s.width)), e);
    tv[u] = w.def("memref.load %t[" + bh + ", " + row + ", " + j + "] : " + memT);
    rv[u] = w.def("memref.load %r[" + bh + ", " + cl + "] : " + memR);
    rn[u] = w.def("memref.load %r[" + bh + ", " + cn + "] : " + memR);
  }
  std::string acc = "%acc";
  for (int64_t u = 0; u < kChunkScanUnroll; ++u) {
    std::string valid =
        w.def("arith.cmpi ult, " + cu[u] + ", %nc : index");
    w.put("scf.if " + valid + " {");
    std::string keys = w.def(
        "arith.uitofp " +
        w.toI64(w.op("arith.muli", cu[u], w.ci(s.chunk))) + " : i64 to f32");
    std::string scale = w.op("arith.maximumf", oneF,
                             w.op("arith.mulf", keys, perKey, "f32"), "f32");
    std::string v = w.def("arith.truncf " +
                          w.op("arith.divf", acc, scale, "f32") +
                          " : f32 to " + T);
    std::string row =
        w.op("arith.addi", w.op("arith.muli", cu[u], w.ci(s.width)), e);
    w.put("memref.store " + v + ", %o[" + bh + ", " + row + ", " + j +
          "] : " + memO);
    w.put("}");
    std::string f = w.def("math.exp " +
                          w.op("arith.subf", rv[u], rn[u], "f32") + " : f32");
    std::string next = w.op("arith.mulf", w.op("arith.addf", acc, tv[u], "f32"),
                            f, "f32");
    acc = w.def("arith.select " + valid + ", " + next + ", " + acc + " : f32");
  }
  w.put("scf.yield " + acc + " : f32");
  w.put("}");
  w.put("gpu.return");
  w.s += "}\n";
  return w.s;
}

Value mlir::attn::buildChunkScan(OpBuilder &b, Location loc, ModuleOp module,
                                 const ChunkScan &s, Value t, Value run,
                                 OpFoldResult bh, Value nC, Type elt,
                                 StringRef name) {
  std::string text = "gpu.module @tmp {\n" +
                     writeChunkScanKernel(s, name, elt.isBF16() ? "bf16" : "f16") +
                     "}\n";
  if (getenv("ATTN_MMA_KERNEL_DUMP"))
    llvm::errs() << "//SCAN " << name << " " << s.width << " " << s.cols
                 << " " << s.chunk << "\n"
                 << text << "//END\n";
  gpu::GPUFuncOp kernel = insertKernel(module, text);
  auto cidx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value tMem = dynamicBuffer(b, loc, t), rMem = dynamicBuffer(b, loc, run);
  Value bhV = getValueOrCreateConstantIndexOp(b, loc, bh);
  auto [out, outDyn] = deviceResult(
      b, loc, bh, arith::MulIOp::create(b, loc, nC, cidx(s.width)), s.cols, elt);
  Value blocks =
      arith::MulIOp::create(b, loc, bhV, cidx(s.width * s.cols / 128));
  Value any = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, blocks,
                            cidx(0)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, nC, cidx(0)));
  auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifAny.thenBlock());
    gpu::LaunchFuncOp::create(
        b, loc, kernel, gpu::KernelDim3{blocks, cidx(1), cidx(1)},
        gpu::KernelDim3{cidx(128), cidx(1), cidx(1)},
        /*dynamicSharedMemorySize=*/Value(), ValueRange{tMem, rMem, outDyn, nC});
  }
  outlineGpuLaunch(module, {ifAny}, name);
  return resultTensor(b, loc, out);
}
