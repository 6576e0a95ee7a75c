//===- GpuTileLoops.cpp - attn-gpu-tile-loops -----------------------------===//
//
// Gives each outermost scf.parallel of the general path a thread dimension:
// its innermost dimension is split into (tile, thread) with `block-size`
// threads, so that gpu-map-parallel-loops maps the outer loop to the grid and
// the new inner loop to the threads of a block (without it, every block has
// one thread).
//
//   scf.parallel (%i, %j) = (lb0, lb1) to (ub0, ub1) step (s0, s1) { body }
// ->
//   scf.parallel (%i, %jj) = (lb0, lb1) to (ub0, ub1) step (s0, s1 * B) {
//     scf.parallel (%t) = (0) to (B) step (1) {
//       %j = %jj + %t * s1
//       scf.if %j < ub1 { body }
//     }
//   }
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace {

struct GpuTileLoopsPass
    : PassWrapper<GpuTileLoopsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuTileLoopsPass)

  GpuTileLoopsPass() = default;
  GpuTileLoopsPass(const GpuTileLoopsPass &other) : PassWrapper(other) {}
  explicit GpuTileLoopsPass(int64_t size) { blockSize = size; }

  StringRef getArgument() const final { return "attn-gpu-tile-loops"; }
  StringRef getDescription() const final {
    return "Split the innermost dimension of each outermost scf.parallel "
           "into tiles of block-size threads";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, scf::SCFDialect>();
  }

  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads of a block"),
                            llvm::cl::init(128)};

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError("attn-gpu-tile-loops: block-size must be in "
                               "1..1024, but got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          loop.getNumResults() == 0 && loop.getNumLoops() > 0)
        loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      tile(loop);
  }

  void tile(scf::ParallelOp loop) {
    OpBuilder builder(loop);
    Location loc = loop.getLoc();
    unsigned inner = loop.getNumLoops() - 1;
    Value step = loop.getStep()[inner];
    Value upper = loop.getUpperBound()[inner];
    Value threads = arith::ConstantIndexOp::create(builder, loc, blockSize);
    SmallVector<Value> steps(loop.getStep());
    steps[inner] = arith::MulIOp::create(builder, loc, step, threads);
    Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    Block *body = loop.getBody();
    scf::ParallelOp::create(
        builder, loc, loop.getLowerBound(), loop.getUpperBound(), steps,
        [&](OpBuilder &b, Location loc, ValueRange outerIvs) {
          scf::ParallelOp::create(
              b, loc, ValueRange{zero}, ValueRange{threads}, ValueRange{one},
              [&](OpBuilder &b, Location loc, ValueRange thread) {
                Value offset = arith::MulIOp::create(b, loc, thread[0], step);
                Value index =
                    arith::AddIOp::create(b, loc, outerIvs[inner], offset);
                Value inBounds = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::slt, index, upper);
                scf::IfOp::create(
                    b, loc, inBounds, [&](OpBuilder &b, Location loc) {
                      IRMapping mapping;
                      for (unsigned d = 0; d < inner; ++d)
                        mapping.map(body->getArgument(d), outerIvs[d]);
                      mapping.map(body->getArgument(inner), index);
                      for (Operation &op : body->without_terminator())
                        b.clone(op, mapping);
                      scf::YieldOp::create(b, loc);
                    });
              });
        });
    loop.erase();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createGpuTileLoopsPass(int64_t blockSize) {
  return std::make_unique<GpuTileLoopsPass>(blockSize);
}
