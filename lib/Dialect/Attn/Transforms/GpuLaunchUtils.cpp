//===- GpuLaunchUtils.cpp - Kernels launched from tensor-level IR ---------===//
#include "GpuLaunchUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

gpu::GPUModuleOp mlir::attn::getOrCreateAttnGpuModule(ModuleOp module) {
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>("attn_gpu"))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  return gpu::GPUModuleOp::create(b, module.getLoc(), "attn_gpu");
}

void mlir::attn::outlineGpuLaunch(ModuleOp module, ArrayRef<Operation *> moved,
                                  StringRef kernelName) {
  Operation *last = moved.back();
  llvm::SmallPtrSet<Operation *, 8> inside(moved.begin(), moved.end());
  llvm::SetVector<Value> operands, used, captured;
  for (Operation *op : moved) {
    operands.insert(op->operand_begin(), op->operand_end());
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, operands);
  }
  for (Value v : operands)
    if (!inside.contains(v.getDefiningOp()))
      used.insert(v);
  // Constants are cloned into the helper, so that the launch still reads
  // its block size and shared memory as constants.
  SmallVector<Operation *> constants;
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(def);
    else
      captured.insert(v);
  }
  SmallVector<Type> types;
  for (Value v : captured)
    types.push_back(v.getType());
  auto launcher = func::FuncOp::create(
      last->getLoc(), (kernelName + "_launch").str(),
      FunctionType::get(module.getContext(), types, {}));
  launcher.setPrivate();
  launcher.setNoInline(true);
  // Next to the host function of the op, so that it reads in order.
  Operation *host = last->getParentOfType<func::FuncOp>();
  if (host && host->getParentOp() == module.getOperation())
    SymbolTable(module).insert(launcher, std::next(host->getIterator()));
  else
    SymbolTable(module).insert(launcher);
  Block *body = launcher.addEntryBlock();
  IRMapping mapping;
  for (auto [v, arg] : llvm::zip(captured, body->getArguments()))
    mapping.map(v, arg);
  OpBuilder fb = OpBuilder::atBlockEnd(body);
  for (Operation *constant : constants)
    fb.clone(*constant, mapping);
  for (Operation *op : moved)
    fb.clone(*op, mapping);
  func::ReturnOp::create(fb, last->getLoc());
  OpBuilder cb(last);
  func::CallOp::create(cb, last->getLoc(), launcher, captured.getArrayRef());
  for (Operation *op : llvm::reverse(moved))
    op->erase();
}
