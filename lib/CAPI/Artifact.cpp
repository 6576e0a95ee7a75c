//===- Artifact.cpp - Ahead-of-time artifacts from C ----------------------===//
//
// include/attn-c/Artifact.h over attn/Artifact (writeArtifact,
// LoadedArtifact).
//
//===----------------------------------------------------------------------===//
#include "attn-c/Artifact.h"

#include "attn/Artifact/Artifact.h"
#include "attn/Artifact/LoadedArtifact.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::attn;

MlirLogicalResult attnCompileArtifact(MlirModule module, MlirStringRef target,
                                      MlirStringRef options,
                                      MlirStringRef outputDir) {
  // No context to report to.
  if (mlirModuleIsNull(module))
    return mlirLogicalResultFailure();
  ModuleOp moduleOp = unwrap(module);
  auto error = [&](const Twine &message) {
    emitError(moduleOp.getLoc()) << "attnCompileArtifact: " << message;
  };
  ArtifactOptions artifactOptions;
  artifactOptions.target = unwrap(target).str();
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  if (failed(artifactOptions.parseFromString(unwrap(options), errorStream))) {
    error("cannot parse the options '" + unwrap(options) +
          "' (allowed: entry, name, cpu, linker, chip, features, toolkit, "
          "format, gpu-abi)" +
          (parseErrors.empty() ? "" : ": " + StringRef(parseErrors).trim()));
    return mlirLogicalResultFailure();
  }
  if (unwrap(outputDir).empty()) {
    error("the output directory is empty");
    return mlirLogicalResultFailure();
  }
  ArtifactReporter reporter{error};
  return wrap(
      writeArtifact(moduleOp, artifactOptions, unwrap(outputDir), reporter));
}

namespace {
/// What an AttnArtifact points at.
struct ArtifactHandle {
  std::unique_ptr<LoadedArtifact> artifact;
  /// The message of the last failed call; "" after a successful one.
  std::string error;

  /// Keeps `err`'s message (or clears it on success); returns whether it
  /// was an error.
  bool setError(llvm::Error err) {
    error.clear();
    if (!err)
      return false;
    error = llvm::toString(std::move(err));
    return true;
  }
  /// The open artifact's `entry`, or null with an error.
  const ArtifactEntry *lookup(MlirStringRef entry) {
    if (!artifact) {
      error = "the artifact is not open: " + openError;
      return nullptr;
    }
    auto found = artifact->lookup(unwrap(entry));
    if (setError(found.takeError()))
      return nullptr;
    return &*found;
  }
  /// Why open failed.
  std::string openError;
};
} // namespace

static ArtifactHandle *unwrapHandle(AttnArtifact artifact) {
  return static_cast<ArtifactHandle *>(artifact.ptr);
}

AttnArtifact attnArtifactOpen(MlirStringRef directory) {
  auto *handle = new ArtifactHandle();
  auto opened = LoadedArtifact::open(unwrap(directory));
  if (!opened) {
    handle->setError(opened.takeError());
    handle->openError = handle->error;
  } else {
    handle->artifact = std::move(*opened);
  }
  return AttnArtifact{handle};
}

bool attnArtifactIsOpen(AttnArtifact artifact) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  return handle && handle->artifact;
}

const char *attnArtifactGetError(AttnArtifact artifact) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  return handle ? handle->error.c_str() : "null artifact handle";
}

MlirStringRef attnArtifactGetTarget(AttnArtifact artifact) {
  if (!attnArtifactIsOpen(artifact))
    return mlirStringRefCreate(nullptr, 0);
  return wrap(unwrapHandle(artifact)->artifact->getTarget());
}

intptr_t attnArtifactGetNumEntries(AttnArtifact artifact) {
  if (!attnArtifactIsOpen(artifact))
    return 0;
  return unwrapHandle(artifact)->artifact->getEntries().size();
}

MlirStringRef attnArtifactGetEntryName(AttnArtifact artifact, intptr_t index) {
  if (index < 0 || index >= attnArtifactGetNumEntries(artifact))
    return mlirStringRefCreate(nullptr, 0);
  return wrap(
      StringRef(unwrapHandle(artifact)->artifact->getEntries()[index].name));
}

intptr_t attnArtifactGetNumArguments(AttnArtifact artifact,
                                     MlirStringRef entry) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  const ArtifactEntry *found = handle ? handle->lookup(entry) : nullptr;
  return found ? static_cast<intptr_t>(found->args.size()) : -1;
}

intptr_t attnArtifactGetNumResults(AttnArtifact artifact,
                                   MlirStringRef entry) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  const ArtifactEntry *found = handle ? handle->lookup(entry) : nullptr;
  return found ? static_cast<intptr_t>(found->results.size()) : -1;
}

/// Argument `index` of `entry`, or null with an error.
static const ArtifactTensor *lookupArgument(AttnArtifact artifact,
                                            MlirStringRef entry,
                                            intptr_t index) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  const ArtifactEntry *found = handle ? handle->lookup(entry) : nullptr;
  if (!found)
    return nullptr;
  if (index < 0 || index >= static_cast<intptr_t>(found->args.size())) {
    handle->error = ("@" + found->name + " has " + Twine(found->args.size()) +
                     " arguments, not one at index " + Twine(index))
                        .str();
    return nullptr;
  }
  return &found->args[index];
}

intptr_t attnArtifactGetArgumentRank(AttnArtifact artifact, MlirStringRef entry,
                                     intptr_t index) {
  const ArtifactTensor *arg = lookupArgument(artifact, entry, index);
  return arg ? static_cast<intptr_t>(arg->shape.size()) : -2;
}

int64_t attnArtifactGetArgumentDim(AttnArtifact artifact, MlirStringRef entry,
                                   intptr_t index, intptr_t dim) {
  const ArtifactTensor *arg = lookupArgument(artifact, entry, index);
  if (!arg)
    return -2;
  if (dim < 0 || dim >= static_cast<intptr_t>(arg->shape.size())) {
    unwrapHandle(artifact)->error =
        ("argument '" + arg->name + "' has rank " + Twine(arg->shape.size()) +
         ", not a dimension " + Twine(dim))
            .str();
    return -2;
  }
  return arg->shape[dim];
}

void *attnArtifactLookup(AttnArtifact artifact, MlirStringRef entry) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  const ArtifactEntry *found = handle ? handle->lookup(entry) : nullptr;
  return found ? found->function : nullptr;
}

MlirLogicalResult attnArtifactCall(AttnArtifact artifact, MlirStringRef entry,
                                   void **args) {
  ArtifactHandle *handle = unwrapHandle(artifact);
  const ArtifactEntry *found = handle ? handle->lookup(entry) : nullptr;
  if (!found)
    return mlirLogicalResultFailure();
  if (handle->setError(handle->artifact->call(*found, args)))
    return mlirLogicalResultFailure();
  return mlirLogicalResultSuccess();
}

void attnArtifactFree(AttnArtifact artifact, void *allocated) {
  if (attnArtifactIsOpen(artifact))
    unwrapHandle(artifact)->artifact->freeBuffer(allocated);
}

void attnArtifactClose(AttnArtifact artifact) {
  delete unwrapHandle(artifact);
}
