//===- GpuHostBuffers.cpp - attn-gpu-host-buffers -------------------------===//
//
// Moves the buffers of bufferized functions to the device; the functions'
// arguments and results stay host memrefs (abi=host) or are the caller's
// device buffers (abi=device; see GpuPipeline.h).
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace {

/// Returns the dynamic sizes of `buffer`, read with memref.dim.
SmallVector<Value> getDynamicSizes(OpBuilder &builder, Location loc,
                                   Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> sizes;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(memref::DimOp::create(builder, loc, buffer, i));
  return sizes;
}

/// Returns the buffer that `value` is a view of (itself when it is none).
Value getViewRoot(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// A contiguous buffer (identity layout), which gpu.memcpy can copy.
bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity();
}

struct GpuHostBuffersPass
    : PassWrapper<GpuHostBuffersPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuHostBuffersPass)

  GpuHostBuffersPass() = default;
  GpuHostBuffersPass(const GpuHostBuffersPass &other)
      : PassWrapper(other) {}
  explicit GpuHostBuffersPass(StringRef abiName) { abi = abiName.str(); }

  Option<std::string> abi{
      *this, "abi",
      llvm::cl::desc("host: arguments and results of public functions are "
                     "host buffers, copied to and from the device; device: "
                     "they are device buffers, used in place (no copy)"),
      llvm::cl::init("host")};

  StringRef getArgument() const final { return "attn-gpu-host-buffers"; }
  StringRef getDescription() const final {
    return "Move the buffers of bufferized functions to the device; "
           "arguments and results stay host memrefs, copied on entry and "
           "before the return";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, linalg::LinalgDialect,
                    memref::MemRefDialect>();
  }

  void runOnOperation() override {
    if (abi != "host" && abi != "device") {
      getOperation().emitError("attn-gpu-host-buffers: abi must be host or "
                               "device, but got '")
          << abi << "'";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(runOnFunction(func)))
        return signalPassFailure();
  }

  LogicalResult runOnFunction(func::FuncOp func) {
    OpBuilder builder(func.getContext());
    if (abi == "device" && func.isPublic())
      elideCopiesOfArguments(func);
    // Internal buffers. Only memref.alloc moves: memref.alloca stays on the
    // host stack (none is touched by a kernel on the general path).
    SmallVector<Operation *> worklist;
    func.walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::DeallocOp, memref::CopyOp,
              memref::GetGlobalOp>(op))
        worklist.push_back(op);
    });
    Block &entry = func.getBody().front();
    // Device copies of constant buffers, freed before each return.
    SmallVector<Value> constantCopies;
    for (Operation *op : worklist) {
      builder.setInsertionPoint(op);
      if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
        if (global->getBlock() != &entry || !isContiguous(global.getType()))
          return global.emitError("attn-gpu-host-buffers: a constant buffer "
                                  "of @")
                 << func.getSymName()
                 << " must be contiguous and at the function's top level to "
                    "be copied to the device";
        builder.setInsertionPointAfter(global);
        auto device = gpu::AllocOp::create(
            builder, global.getLoc(), global.getType(), Type(), ValueRange(),
            ValueRange(), ValueRange(), /*hostShared=*/false);
        auto copy = gpu::MemcpyOp::create(builder, global.getLoc(), Type(),
                                          ValueRange(), device.getMemref(),
                                          global.getResult());
        global.getResult().replaceAllUsesExcept(device.getMemref(), copy);
        constantCopies.push_back(device.getMemref());
        continue;
      }
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto device = gpu::AllocOp::create(
            builder, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        alloc.replaceAllUsesWith(device.getMemref());
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(builder, dealloc.getLoc(),
                               /*asyncToken=*/Type(), ValueRange(),
                               dealloc.getMemref());
      } else {
        auto copy = cast<memref::CopyOp>(op);
        linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      }
      op->erase();
    }

    // Only public functions are entry points with host buffers; a private
    // function is called with the device buffers of its caller.
    if (func.isPrivate()) {
      func.walk([&](func::ReturnOp ret) {
        builder.setInsertionPoint(ret);
        for (Value device : constantCopies)
          gpu::DeallocOp::create(builder, ret.getLoc(), Type(), ValueRange(),
                                 device);
      });
      return success();
    }
    if (abi == "device")
      return runOnDeviceEntry(func, constantCopies);

    // Arguments: a device copy of each, used everywhere in their place.
    builder.setInsertionPointToStart(&entry);
    // (device copy, argument), in argument order.
    SmallVector<std::pair<Value, BlockArgument>> argumentCopies;
    for (BlockArgument arg : entry.getArguments()) {
      if (!isa<MemRefType>(arg.getType()))
        continue;
      if (!isContiguous(arg.getType()))
        return func.emitError("attn-gpu-host-buffers: argument #")
               << arg.getArgNumber() << " of @" << func.getSymName()
               << " has a non-identity layout (" << arg.getType()
               << "); only contiguous buffers can be copied to the device";
      Location loc = arg.getLoc();
      SmallVector<Value> sizes = getDynamicSizes(builder, loc, arg);
      auto device = gpu::AllocOp::create(
          builder, loc, cast<MemRefType>(arg.getType()), Type(), ValueRange(),
          sizes, ValueRange(), /*hostShared=*/false);
      auto copy = gpu::MemcpyOp::create(builder, loc, Type(), ValueRange(),
                                        device.getMemref(), arg);
      // The copy and the memref.dim ops of the sizes keep the argument.
      SmallPtrSet<Operation *, 4> keep{copy};
      for (Value size : sizes)
        keep.insert(size.getDefiningOp());
      arg.replaceAllUsesExcept(device.getMemref(), keep);
      argumentCopies.push_back({device.getMemref(), arg});
    }

    // Results: copied back to the host before each return, then every device
    // copy of an argument or a constant and every returned device buffer (or
    // the allocation it is a view of) is freed, each once.
    WalkResult walk = func.walk([&](func::ReturnOp ret) {
      builder.setInsertionPoint(ret);
      Location loc = ret.getLoc();
      SmallVector<Value> operands(ret.getOperands());
      llvm::SetVector<Value> toFree;
      for (Value &operand : operands) {
        if (!isa<MemRefType>(operand.getType()))
          continue;
        auto *it = llvm::find_if(
            argumentCopies, [&](auto &pair) { return pair.first == operand; });
        if (it != argumentCopies.end()) {
          gpu::MemcpyOp::create(builder, loc, Type(), ValueRange(), it->second,
                                operand);
          operand = it->second;
          continue;
        }
        if (!isContiguous(operand.getType())) {
          ret.emitError("attn-gpu-host-buffers: a result of @")
              << func.getSymName() << " has a non-identity layout ("
              << operand.getType() << "); only contiguous buffers can be "
              << "copied back from the device";
          return WalkResult::interrupt();
        }
        auto host = memref::AllocOp::create(
            builder, loc, cast<MemRefType>(operand.getType()),
            getDynamicSizes(builder, loc, operand));
        gpu::MemcpyOp::create(builder, loc, Type(), ValueRange(), host,
                              operand);
        if (getViewRoot(operand).getDefiningOp<gpu::AllocOp>())
          toFree.insert(getViewRoot(operand));
        operand = host;
      }
      for (auto &[device, arg] : argumentCopies)
        toFree.insert(device);
      toFree.insert(constantCopies.begin(), constantCopies.end());
      for (Value device : toFree)
        gpu::DeallocOp::create(builder, loc, Type(), ValueRange(), device);
      ret->setOperands(operands);
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }

  /// Returns the argument of `func` that `value` is, or null.
  static BlockArgument getArgumentOf(func::FuncOp func, Value value) {
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner()->getParentOp() != func)
      return nullptr;
    return arg;
  }

  /// Whether only deallocations and memref.dim follow `op` up to its
  /// block's return (nothing that could write the copied argument).
  static bool onlyFreesUntilReturn(Operation *op) {
    for (Operation *next = op->getNextNode(); next; next = next->getNextNode())
      if (isa<func::ReturnOp>(next))
        return true;
      else if (!isa<memref::DeallocOp, gpu::DeallocOp, memref::DimOp>(next))
        return false;
    return false;
  }

  /// abi=device: the caller's buffers are used in place, so two copies that
  /// bufferization makes for host buffers go away:
  ///  * a returned copy of an argument (`%c = alloc; copy %arg, %c; return
  ///    %c`, the ownership-based deallocation's clone of a returned
  ///    argument) returns the argument itself;
  ///  * a buffer that is copied into an argument of the same type at the
  ///    end (`%t = alloc; ...; copy %t, %arg`, the Hopper core's output
  ///    materialized in the outs operand) is the argument itself, when the
  ///    argument is used only by that copy, memref.dim and the return.
  void elideCopiesOfArguments(func::FuncOp func) {
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    // The copies the first rewrite erases (their memory is freed: the second
    // must not look at them).
    llvm::SmallPtrSet<Operation *, 8> erased;
    for (memref::CopyOp copy : copies) {
      Value source = copy.getSource(), target = copy.getTarget();
      Operation *targetAlloc = target.getDefiningOp();
      if (getArgumentOf(func, source) && targetAlloc &&
          isa<memref::AllocOp, gpu::AllocOp>(targetAlloc) &&
          llvm::all_of(target.getUsers(),
                       [&](Operation *user) {
                         return user == copy || isa<func::ReturnOp>(user);
                       }) &&
          onlyFreesUntilReturn(copy)) {
        target.replaceAllUsesWith(source);
        erased.insert(copy);
        copy->erase();
        targetAlloc->erase();
      }
    }
    for (memref::CopyOp copy : copies) {
      if (erased.contains(copy))
        continue;
      Value source = copy.getSource(), target = copy.getTarget();
      BlockArgument arg = getArgumentOf(func, target);
      Operation *sourceAlloc = source.getDefiningOp();
      if (!arg || !sourceAlloc ||
          !isa<memref::AllocOp, gpu::AllocOp>(sourceAlloc) ||
          source.getType() != target.getType() ||
          !isContiguous(target.getType()) ||
          !llvm::all_of(arg.getUsers(), [&](Operation *user) {
            return user == copy.getOperation() ||
                   isa<memref::DimOp, func::ReturnOp>(user);
          }))
        continue;
      for (Operation *user : llvm::make_early_inc_range(source.getUsers()))
        if (isa<memref::DeallocOp, gpu::DeallocOp>(user))
          user->erase();
      copy->erase();
      source.replaceAllUsesWith(arg);
      sourceAlloc->erase();
    }
  }

  /// abi=device: the arguments are the caller's device buffers, used in
  /// place. Every memref result must be an argument (the outs operand
  /// written in place); only the device copies of constants are freed.
  LogicalResult runOnDeviceEntry(func::FuncOp func,
                                 ArrayRef<Value> constantCopies) {
    OpBuilder builder(func.getContext());
    WalkResult walk = func.walk([&](func::ReturnOp ret) {
      for (auto [index, operand] : llvm::enumerate(ret.getOperands())) {
        if (!isa<MemRefType>(operand.getType()))
          continue;
        auto arg = dyn_cast<BlockArgument>(operand);
        if (!arg || arg.getOwner()->getParentOp() != func) {
          ret.emitError("attn-gpu-host-buffers: result #")
              << index << " of @" << func.getSymName()
              << " is not an argument; with abi=device every result must be "
                 "an argument written in place (an outs operand), or use "
                 "abi=host";
          return WalkResult::interrupt();
        }
      }
      builder.setInsertionPoint(ret);
      for (Value device : constantCopies)
        gpu::DeallocOp::create(builder, ret.getLoc(), Type(), ValueRange(),
                               device);
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createGpuHostBuffersPass(StringRef abi) {
  return std::make_unique<GpuHostBuffersPass>(abi);
}
