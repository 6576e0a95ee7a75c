//===- ReturnArgumentsInPlace.cpp - entries return their outs in place ----===//
//
// The ownership-based buffer deallocation gives a function no ownership of
// its arguments, so a returned argument (the outs operand that the function
// wrote in place) is cloned: a whole copy of the result on every call, into
// fresh memory. A function that nothing in the module calls is an entry of
// the caller's (attn-run, the C interface), which takes a result whose
// buffer is one of its arguments (it frees what the code allocated, not its
// own arrays); there the clone goes.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNRETURNARGUMENTSINPLACE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;

namespace {

/// Whether `op` leaves every buffer's contents as they are: an op without
/// memory effects, a memref.dealloc, or an scf.if (the deallocation's guard)
/// of such ops.
bool keepsContents(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  WalkResult walk = op->walk([](Operation *nested) {
    return isa<memref::DeallocOp, scf::IfOp, scf::YieldOp>(nested) ||
                   isMemoryEffectFree(nested)
               ? WalkResult::advance()
               : WalkResult::interrupt();
  });
  return !walk.wasInterrupted();
}

/// The clone that `ret` returns at `index` when it is a clone of an argument
/// of `func` used only there, followed up to `ret` only by ops that keep
/// every buffer's contents and other clones; null otherwise.
bufferization::CloneOp
returnedArgumentClone(func::FuncOp func, func::ReturnOp ret, unsigned index) {
  auto clone = ret.getOperand(index).getDefiningOp<bufferization::CloneOp>();
  if (!clone || clone->getBlock() != ret->getBlock() || !clone->hasOneUse())
    return nullptr;
  auto arg = dyn_cast<BlockArgument>(clone.getInput());
  if (!arg || arg.getOwner() != &func.getBody().front() ||
      arg.getType() != clone.getType())
    return nullptr;
  for (Operation *op = clone->getNextNode(); op != ret; op = op->getNextNode())
    if (!isa<bufferization::CloneOp>(op) && !keepsContents(op))
      return nullptr;
  return clone;
}

struct ReturnArgumentsInPlacePass
    : public attn::impl::AttnReturnArgumentsInPlaceBase<
          ReturnArgumentsInPlacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic() ||
          !SymbolTable::symbolKnownUseEmpty(func, module))
        continue;
      func.walk([&](func::ReturnOp ret) {
        for (unsigned i = 0, e = ret.getNumOperands(); i < e; ++i)
          if (bufferization::CloneOp clone =
                  returnedArgumentClone(func, ret, i)) {
            ret.setOperand(i, clone.getInput());
            clone->erase();
          }
      });
    }
  }
};

} // namespace
