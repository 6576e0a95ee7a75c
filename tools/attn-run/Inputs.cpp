//===- Inputs.cpp - Entry signature, inputs and shape checks --------------===//
#include "Inputs.h"

#include "attn/Dialect/Attn/IR/AttnCanonicalization.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/WithColor.h"

#include <cmath>

using namespace mlir;
using namespace attn_run;

static llvm::raw_ostream &error() {
  return llvm::WithColor::error(llvm::errs(), "attn-run");
}

std::optional<ElementKind> attn_run::getElementKind(Type type) {
  if (type.isF32())
    return ElementKind::F32;
  if (type.isF64())
    return ElementKind::F64;
  if (type.isF16())
    return ElementKind::F16;
  if (type.isBF16())
    return ElementKind::BF16;
  if (type.isSignlessInteger(1))
    return ElementKind::I1;
  if (type.isSignlessInteger(8))
    return ElementKind::I8;
  if (type.isSignlessInteger(32))
    return ElementKind::I32;
  if (type.isSignlessInteger(64))
    return ElementKind::I64;
  return std::nullopt;
}

/// Makes a slot of `type`, or prints why `what` is not supported.
static FailureOr<TensorSlot> makeSlot(StringRef what, StringRef name, Type type,
                                      StringRef entry) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  std::optional<ElementKind> kind;
  if (tensorType)
    kind = getElementKind(tensorType.getElementType());
  if (!kind) {
    error() << what << " '" << name << "' of @" << entry << " has type " << type
            << "; attn-run supports ranked tensors of f32, f64, f16, bf16, "
               "i1, i8, i32 and i64\n";
    return failure();
  }
  return TensorSlot{name.str(), tensorType, *kind};
}

FailureOr<EntrySignature>
attn_run::getEntrySignature(func::FuncOp func, ArrayRef<std::string> argNames) {
  EntrySignature signature;
  signature.func = func;
  signature.entry = func.getSymName().str();
  StringRef entry = func.getSymName();
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes())) {
    FailureOr<TensorSlot> slot =
        makeSlot("argument", argNames[index], type, entry);
    if (failed(slot))
      return failure();
    signature.args.push_back(*slot);
  }
  for (auto [index, type] : llvm::enumerate(func.getResultTypes())) {
    FailureOr<TensorSlot> slot =
        makeSlot("result", ("result" + Twine(index)).str(), type, entry);
    if (failed(slot))
      return failure();
    signature.results.push_back(*slot);
  }
  return signature;
}

//===----------------------------------------------------------------------===//
// Inputs from .npy files
//===----------------------------------------------------------------------===//

/// Returns the index of the argument that `key` names: an SSA name without
/// '%' ("q", "0" for %0), or a position written "#N". Prints an error and
/// returns nullopt when there is no such argument.
static std::optional<size_t> findArgument(const EntrySignature &signature,
                                          StringRef key) {
  auto listArguments = [&]() {
    std::string names;
    for (auto [index, slot] : llvm::enumerate(signature.args))
      names += (index ? ", " : "") + slot.name;
    return names.empty() ? std::string("none") : names;
  };
  size_t numArgs = signature.args.size();
  if (key.consume_front("#")) {
    size_t position;
    if (!key.getAsInteger(10, position) && position < numArgs)
      return position;
    llvm::raw_ostream &os = error() << "--input names position #" << key
                                    << ", but @" << signature.entry;
    if (numArgs == 0)
      os << " has no arguments\n";
    else
      os << " has " << numArgs << " argument" << (numArgs == 1 ? "" : "s")
         << " (#0 to #" << numArgs - 1 << ")\n";
    return std::nullopt;
  }
  for (auto [index, slot] : llvm::enumerate(signature.args))
    if (slot.name == key)
      return index;
  error() << "--input names '" << key << "', but @" << signature.entry
          << " has no argument %" << key << " (arguments: " << listArguments()
          << "; a position is written #N, e.g. --input=#0=FILE.npy)\n";
  return std::nullopt;
}

/// Checks the rank and static dims of `npy` against `slot`.
static LogicalResult checkShape(const NpyArray &npy, const TensorSlot &slot,
                                StringRef path) {
  auto describe = [&]() -> llvm::raw_ostream & {
    return error() << "input '" << slot.name << "' ('" << path << "'): ";
  };
  RankedTensorType type = slot.type;
  if (static_cast<int64_t>(npy.shape.size()) != type.getRank()) {
    describe() << "the array has rank " << npy.shape.size()
               << ", but argument %" << slot.name << " has type " << type
               << " (rank " << type.getRank() << ")\n";
    return failure();
  }
  for (auto [dim, size] : llvm::enumerate(npy.shape)) {
    int64_t expected = type.getDimSize(dim);
    if (ShapedType::isDynamic(expected) || expected == size)
      continue;
    describe() << "dimension " << dim << " of the array is " << size
               << ", but argument %" << slot.name << " has type " << type
               << " (expects " << expected << ")\n";
    return failure();
  }
  return success();
}

/// Reads `path` and converts it to the argument `slot`.
static FailureOr<HostArray> loadInput(const TensorSlot &slot, StringRef path) {
  llvm::Expected<NpyArray> npy = readNpy(path);
  if (!npy) {
    error() << "input '" << slot.name << "': " << toString(npy.takeError())
            << "\n";
    return failure();
  }
  if (failed(checkShape(*npy, slot, path)))
    return failure();
  llvm::Expected<HostArray> array = convertNpy(std::move(*npy), slot.kind);
  if (!array) {
    error() << "input '" << slot.name << "' ('" << path
            << "'): " << toString(array.takeError()) << " (argument %"
            << slot.name << " has type " << slot.type << ")\n";
    return failure();
  }
  return std::move(*array);
}

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

namespace {
/// splitmix64: a small, well-mixed 64-bit generator.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1]: 53 random bits.
  double nextUnit() { return ((next() >> 11) + 1) * 0x1.0p-53; }

private:
  uint64_t state;
};
} // namespace

/// Fills `array` from `rng`: floats standard normal (Box-Muller, both values
/// of each pair used), i1 Bernoulli(1/2), integers uniform in [0, 64).
static void fillRandom(HostArray &array, SplitMix64 &rng) {
  int64_t n = array.getNumElements();
  switch (array.getKind()) {
  case ElementKind::F32:
  case ElementKind::F64:
  case ElementKind::F16:
  case ElementKind::BF16:
    for (int64_t i = 0; i < n; i += 2) {
      double radius = std::sqrt(-2.0 * std::log(rng.nextUnit()));
      double angle = 2.0 * M_PI * rng.nextUnit();
      array.setFromDouble(i, radius * std::cos(angle));
      if (i + 1 < n)
        array.setFromDouble(i + 1, radius * std::sin(angle));
    }
    return;
  case ElementKind::I1:
    for (int64_t i = 0; i < n; ++i)
      array.setFromDouble(i, rng.next() >> 63);
    return;
  case ElementKind::I8:
  case ElementKind::I32:
  case ElementKind::I64:
    for (int64_t i = 0; i < n; ++i)
      array.setFromDouble(i, rng.next() >> 58);
    return;
  }
}

/// Returns the shape of a random input for `type`.
static SmallVector<int64_t> getRandomShape(RankedTensorType type,
                                           int64_t dynamicDimSize) {
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t &dim : shape)
    if (ShapedType::isDynamic(dim))
      dim = dynamicDimSize;
  return shape;
}

FailureOr<SmallVector<HostArray>>
attn_run::loadInputs(const EntrySignature &signature,
                     ArrayRef<std::string> specs,
                     const std::optional<RandomOptions> &random) {
  size_t numArgs = signature.args.size();
  SmallVector<std::string> paths(numArgs);
  for (StringRef spec : specs) {
    auto [key, path] = spec.split('=');
    if (path.empty() || key.empty()) {
      error() << "--input expects NAME=FILE.npy, but got '" << spec << "'\n";
      return failure();
    }
    std::optional<size_t> index = findArgument(signature, key);
    if (!index)
      return failure();
    if (!paths[*index].empty()) {
      error() << "argument '" << signature.args[*index].name << "' (#" << *index
              << ") has two --input files\n";
      return failure();
    }
    paths[*index] = path.str();
  }

  SmallVector<HostArray> inputs;
  std::optional<SplitMix64> rng;
  if (random)
    rng.emplace(random->seed);
  for (auto [slot, path] : llvm::zip_equal(signature.args, paths)) {
    if (!path.empty()) {
      FailureOr<HostArray> array = loadInput(slot, path);
      if (failed(array))
        return failure();
      inputs.push_back(std::move(*array));
      continue;
    }
    if (!random) {
      error() << "no input for argument '" << slot.name << "' (" << slot.type
              << ") of @" << signature.entry << ": pass --input=" << slot.name
              << "=FILE.npy or --random-inputs\n";
      return failure();
    }
    HostArray array(slot.kind,
                    getRandomShape(slot.type, random->dynamicDimSize));
    fillRandom(array, *rng);
    inputs.push_back(std::move(array));
  }
  return inputs;
}

//===----------------------------------------------------------------------===//
// Shape specialisation
//===----------------------------------------------------------------------===//

/// Gives the arguments of `func` the static shapes of `inputs`, with a
/// `tensor.cast` back to the original type for the old uses.
static void castArgumentsToShapes(func::FuncOp func,
                                  ArrayRef<HostArray> inputs) {
  Block &body = func.getBody().front();
  OpBuilder builder = OpBuilder::atBlockBegin(&body);
  SmallVector<Type> argTypes;
  for (auto [arg, input] : llvm::zip_equal(body.getArguments(), inputs)) {
    auto oldType = cast<RankedTensorType>(arg.getType());
    auto newType = RankedTensorType::get(
        input.getShape(), oldType.getElementType(), oldType.getEncoding());
    argTypes.push_back(newType);
    if (newType == oldType)
      continue;
    arg.setType(newType);
    auto cast = tensor::CastOp::create(builder, arg.getLoc(), oldType, arg);
    arg.replaceAllUsesExcept(cast.getResult(), cast);
  }
  func.setFunctionType(
      builder.getFunctionType(argTypes, func.getFunctionType().getResults()));
}

/// The discardable attributes that carry the declared types of an sdpa's
/// mask and bias through the specialisation.
static constexpr llvm::StringLiteral kDeclaredMaskType =
    "attn_run.declared_mask_type";
static constexpr llvm::StringLiteral kDeclaredBiasType =
    "attn_run.declared_bias_type";

/// Records the types of the mask and bias of every attn.sdpa in `func`, as
/// the op sees them before the specialisation.
static void recordDeclaredBroadcastTypes(func::FuncOp func) {
  func.walk([](attn::SdpaOp op) {
    if (Value mask = op.getMask())
      op->setAttr(kDeclaredMaskType, TypeAttr::get(mask.getType()));
    if (Value bias = op.getBias())
      op->setAttr(kDeclaredBiasType, TypeAttr::get(bias.getType()));
  });
}

/// Only a mask or bias dim that is statically 1 broadcasts; the compiled code
/// requires a dynamic dim to equal its target even when it is 1 at run time.
/// The specialisation turns such a dim into a static 1, which the verifier
/// accepts as a broadcast, so this checks it against the declared types that
/// `recordDeclaredBroadcastTypes` kept (and removes them).
static LogicalResult checkDynamicBroadcasts(func::FuncOp func) {
  static const char *labels[] = {"B", "H", "Nq", "Nk"};
  LogicalResult result = success();
  func.walk([&](attn::SdpaOp op) {
    auto q = op.getQuery().getType(), k = op.getKey().getType();
    SmallVector<int64_t> target = {q.getDimSize(0), q.getDimSize(1),
                                   q.getDimSize(2), k.getDimSize(2)};
    for (auto [name, attrName, operand] :
         {std::make_tuple("mask", kDeclaredMaskType, op.getMask()),
          std::make_tuple("bias", kDeclaredBiasType, op.getBias())}) {
      auto declaredAttr = op->getAttrOfType<TypeAttr>(attrName);
      op->removeAttr(attrName);
      if (!declaredAttr || !operand || failed(result))
        continue;
      auto declared = cast<ShapedType>(declaredAttr.getValue());
      auto actual = cast<ShapedType>(operand.getType());
      int64_t offset = 4 - actual.getRank();
      for (int64_t d = 0; d < actual.getRank() && offset >= 0; ++d) {
        int64_t want = target[offset + d];
        if (!declared.isDynamicDim(d) || actual.getDimSize(d) != 1 ||
            ShapedType::isDynamic(want) || want == 1)
          continue;
        op.emitOpError() << "expects " << name << " dim " << d
                         << " (1 at run time) to match " << labels[offset + d]
                         << " (" << want << "): the " << name << " has type "
                         << declared
                         << " here, and only a dim that is 1 in the type "
                            "broadcasts (declare it as 1 to broadcast)";
        result = failure();
        break;
      }
    }
  });
  return result;
}

OwningOpRef<ModuleOp> attn_run::specializeToInputs(ModuleOp module,
                                                   StringRef entry,
                                                   ArrayRef<HostArray> inputs) {
  MLIRContext *context = module.getContext();
  OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone()));
  auto func = clone->lookupSymbol<func::FuncOp>(entry);
  recordDeclaredBroadcastTypes(func);
  castArgumentsToShapes(func, inputs);

  RewritePatternSet patterns(context);
  attn::populateFoldTensorCastIntoAttnOpsPatterns(patterns);
  tensor::CastOp::getCanonicalizationPatterns(patterns, context);
  // Folds casts into destination-style ops (linalg) likewise.
  context->getOrLoadDialect<tensor::TensorDialect>()
      ->getCanonicalizationPatterns(patterns);
  context->getOrLoadDialect<linalg::LinalgDialect>()
      ->getCanonicalizationPatterns(patterns);
  (void)applyPatternsGreedily(func, std::move(patterns));

  if (failed(verify(*clone)) || failed(checkDynamicBroadcasts(func))) {
    error() << "the input shapes do not fit @" << entry
            << " (the diagnostic above is from @" << entry
            << " specialised to the shapes of the inputs)\n";
    return nullptr;
  }
  return clone;
}
