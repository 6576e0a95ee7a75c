//===- LoadedArtifact.cpp - Running ahead-of-time artifacts ---------------===//
#include "attn/Artifact/LoadedArtifact.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <dlfcn.h>
#include <mutex>
#include <utility>

using namespace mlir;
using namespace mlir::attn;

static llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads one {"name"?, "dtype", "shape"} of the manifest.
static llvm::Expected<ArtifactTensor> readTensor(const llvm::json::Value &value,
                                                 const Twine &where) {
  const llvm::json::Object *object = value.getAsObject();
  std::optional<StringRef> dtype =
      object ? object->getString("dtype") : std::nullopt;
  const llvm::json::Array *shape = object ? object->getArray("shape") : nullptr;
  if (!dtype || !shape)
    return makeError(where + " has no \"dtype\" string and \"shape\" array");
  ArtifactTensor tensor;
  tensor.dtype = dtype->str();
  tensor.name = object->getString("name").value_or("").str();
  for (const llvm::json::Value &size : *shape) {
    if (size.getAsNull()) {
      tensor.shape.push_back(-1);
      continue;
    }
    std::optional<int64_t> static_ = size.getAsInteger();
    if (!static_ || *static_ < 0)
      return makeError(where +
                       ": a size must be a non-negative integer or null");
    tensor.shape.push_back(*static_);
  }
  return tensor;
}

/// Reads the tensors of `key` ("args" or "results") of an entry.
static llvm::Error readTensors(const llvm::json::Object &entry, StringRef key,
                               const Twine &where,
                               SmallVectorImpl<ArtifactTensor> &tensors) {
  const llvm::json::Array *array = entry.getArray(key);
  if (!array)
    return makeError(where + " has no \"" + key + "\" array");
  for (auto [i, value] : llvm::enumerate(*array)) {
    auto tensor = readTensor(value, where + ", " + key + "[" + Twine(i) + "]");
    if (!tensor)
      return tensor.takeError();
    tensors.push_back(std::move(*tensor));
  }
  return llvm::Error::success();
}

/// Loads a symbol of the library, or fails naming it.
template <typename Fn>
static llvm::Error loadSymbol(void *library, StringRef name, StringRef path,
                              Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, name.str().c_str()));
  if (!fn)
    return makeError("'" + path + "' does not define " + name +
                     ", which its manifest names");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<LoadedArtifact>>
LoadedArtifact::open(StringRef directory) {
  if (!llvm::sys::fs::is_directory(directory))
    return makeError("'" + directory +
                     "' is not a directory (an artifact is the directory "
                     "that attn-compile -o or attnCompileArtifact wrote)");
  SmallString<256> manifestPath(directory);
  llvm::sys::path::append(manifestPath, "manifest.json");
  auto buffer = llvm::MemoryBuffer::getFile(manifestPath);
  if (!buffer)
    return makeError("cannot read '" + manifestPath +
                     "': " + buffer.getError().message());
  auto json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError("'" + manifestPath +
                     "' is not valid JSON: " + toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root || root->getString("format") != "attn-artifact")
    return makeError("'" + manifestPath +
                     "' is not an attn artifact manifest (no \"format\": "
                     "\"attn-artifact\")");
  if (root->getInteger("version") != 1)
    return makeError("'" + manifestPath +
                     "' has a manifest version other than 1, which this "
                     "library reads");

  std::unique_ptr<LoadedArtifact> artifact(new LoadedArtifact());
  artifact->directory = directory.str();
  std::optional<StringRef> target = root->getString("target");
  std::optional<StringRef> libraryName = root->getString("library");
  std::optional<StringRef> freeName = root->getString("free");
  const llvm::json::Array *entries = root->getArray("entries");
  if (!target || (*target != "cpu" && *target != "cuda") || !libraryName ||
      !freeName || !entries)
    return makeError("'" + manifestPath +
                     "' lacks \"target\" (cpu or cuda), \"library\", \"free\" "
                     "or \"entries\"");
  artifact->target = target->str();
  for (auto [i, value] : llvm::enumerate(*entries)) {
    std::string where =
        ("'" + manifestPath + "': entries[" + Twine(i) + "]").str();
    const llvm::json::Object *object = value.getAsObject();
    std::optional<StringRef> name =
        object ? object->getString("name") : std::nullopt;
    std::optional<StringRef> symbol =
        object ? object->getString("symbol") : std::nullopt;
    if (!name || !symbol)
      return makeError(where + " has no \"name\" and \"symbol\" strings");
    ArtifactEntry entry;
    entry.name = name->str();
    entry.symbol = symbol->str();
    if (llvm::Error err = readTensors(*object, "args", where, entry.args))
      return std::move(err);
    if (llvm::Error err = readTensors(*object, "results", where, entry.results))
      return std::move(err);
    if (entry.args.size() + !entry.results.empty() > kMaxCallArgs)
      return makeError(where + ": @" + entry.name + " takes more than " +
                       Twine(kMaxCallArgs) + " pointers");
    artifact->entries.push_back(std::move(entry));
  }

  SmallString<256> libraryPath(directory);
  llvm::sys::path::append(libraryPath, *libraryName);
  if (llvm::Error err = artifact->registerLibrary(libraryPath))
    return std::move(err);
  artifact->library = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!artifact->library)
    return makeError("cannot load '" + libraryPath + "': " + dlerror());
  void *lib = artifact->library;
  if (llvm::Error err =
          loadSymbol(lib, *freeName, libraryPath, artifact->freeFunction))
    return std::move(err);
  for (ArtifactEntry &entry : artifact->entries)
    if (llvm::Error err =
            loadSymbol(lib, entry.symbol, libraryPath, entry.function))
      return std::move(err);
  if (artifact->target == "cuda") {
    int (*init)() = nullptr;
    void (*setPrintErrors)(int) = nullptr;
    if (llvm::Error err = loadSymbol(lib, "attnCudaInit", libraryPath, init))
      return std::move(err);
    if (llvm::Error err = loadSymbol(lib, "attnCudaSetPrintErrors",
                                     libraryPath, setPrintErrors))
      return std::move(err);
    if (llvm::Error err = loadSymbol(lib, "attnCudaGetStatus", libraryPath,
                                     artifact->cudaGetStatus))
      return std::move(err);
    if (llvm::Error err = loadSymbol(lib, "attnCudaGetMessage", libraryPath,
                                     artifact->cudaGetMessage))
      return std::move(err);
    if (llvm::Error err = loadSymbol(lib, "attnCudaClearError", libraryPath,
                                     artifact->cudaClearError))
      return std::move(err);
    setPrintErrors(0);
    if (init() != 0)
      return makeError("cuda artifact '" + directory +
                       "': " + artifact->cudaGetMessage());
  }
  return artifact;
}

namespace {
/// The libraries of the open artifacts by real path, with the identity of
/// the file when it was loaded and the number of handles on it.
struct LoadedLibraries {
  std::mutex mutex;
  llvm::StringMap<std::pair<llvm::sys::fs::UniqueID, unsigned>> byPath;
};
} // namespace

static LoadedLibraries &getLoadedLibraries() {
  static LoadedLibraries libraries;
  return libraries;
}

llvm::Error LoadedArtifact::registerLibrary(StringRef path) {
  SmallString<256> real;
  llvm::sys::fs::UniqueID id;
  // A missing file is dlopen's to report.
  if (llvm::sys::fs::real_path(path, real) ||
      llvm::sys::fs::getUniqueID(real, id))
    return llvm::Error::success();
  LoadedLibraries &loaded = getLoadedLibraries();
  std::lock_guard<std::mutex> lock(loaded.mutex);
  auto [it, inserted] = loaded.byPath.try_emplace(real, id, 0);
  if (!inserted && it->second.first != id)
    return makeError("'" + path +
                     "' was replaced after another handle of this process "
                     "loaded it, and that handle is still open: the dynamic "
                     "loader would return the old library; close it first");
  ++it->second.second;
  registeredPath = real.str().str();
  return llvm::Error::success();
}

LoadedArtifact::~LoadedArtifact() {
  if (library)
    dlclose(library);
  if (registeredPath.empty())
    return;
  LoadedLibraries &loaded = getLoadedLibraries();
  std::lock_guard<std::mutex> lock(loaded.mutex);
  auto it = loaded.byPath.find(registeredPath);
  if (it != loaded.byPath.end() && --it->second.second == 0)
    loaded.byPath.erase(it);
}

llvm::Expected<const ArtifactEntry &>
LoadedArtifact::lookup(StringRef name) const {
  for (const ArtifactEntry &entry : entries)
    if (entry.name == name)
      return entry;
  SmallVector<std::string> names;
  for (const ArtifactEntry &entry : entries)
    names.push_back("@" + entry.name);
  return makeError("the artifact '" + directory + "' has no entry @" + name +
                   " (entries: " + llvm::join(names, ", ") + ")");
}

/// Checks the descriptor of `tensor` (argument `index` of `entry`) against
/// the manifest: present, and its static sizes as compiled.
static llvm::Error checkDescriptor(const ArtifactEntry &entry, unsigned index,
                                   const ArtifactTensor &tensor,
                                   const void *descriptor) {
  auto where = [&] {
    return ("@" + entry.name + ", argument #" + Twine(index) + " ('" +
            tensor.name + "')")
        .str();
  };
  if (!descriptor)
    return makeError(where() + ": the descriptor pointer is null");
  // A ranked descriptor is {T *allocated, T *aligned, int64_t offset,
  // int64_t sizes[rank], int64_t strides[rank]}: the sizes start at the
  // fourth 8-byte word.
  const int64_t *sizes = static_cast<const int64_t *>(descriptor) + 3;
  for (auto [dim, size] : llvm::enumerate(tensor.shape)) {
    int64_t got = sizes[dim];
    if (size >= 0 ? got != size : got < 0)
      return makeError(where() + ": dimension " + Twine(dim) + " is " +
                       Twine(got) + ", but the entry takes " +
                       (size >= 0 ? Twine(size) : Twine("a size >= 0")));
  }
  return llvm::Error::success();
}

template <size_t>
using Pointer = void *;

/// Calls `function` as a function of `sizeof...(I)` pointers.
template <size_t... I>
static void callWith(void *function, void *const *args,
                     std::index_sequence<I...>) {
  using Fn = void (*)(Pointer<I>...);
  reinterpret_cast<Fn>(function)(args[I]...);
}

/// Calls `function` with the first `count` pointers of `args` (one
/// instantiation per count up to LoadedArtifact::kMaxCallArgs).
template <size_t... N>
static void callWithCount(void *function, void *const *args, size_t count,
                          std::index_sequence<N...>) {
  (void)((count == N
              ? (callWith(function, args, std::make_index_sequence<N>()), true)
              : false) ||
         ...);
}

llvm::Error LoadedArtifact::call(const ArtifactEntry &entry,
                                 void *const *args) const {
  if (!args)
    return makeError("@" + entry.name + ": the argument array is null");
  unsigned first = entry.results.empty() ? 0 : 1;
  if (first && !args[0])
    return makeError("@" + entry.name +
                     ": the result descriptor pointer (args[0]) is null");
  for (auto [i, tensor] : llvm::enumerate(entry.args))
    if (llvm::Error err = checkDescriptor(entry, i, tensor, args[first + i]))
      return err;
  callWithCount(
      entry.function, args, first + entry.args.size(),
      std::make_index_sequence<LoadedArtifact::kMaxCallArgs + 1>());
  if (target == "cuda" && cudaGetStatus() != 0) {
    std::string message = cudaGetMessage();
    cudaClearError();
    return makeError("@" + entry.name + " failed on the GPU: " + message);
  }
  return llvm::Error::success();
}

void LoadedArtifact::freeBuffer(void *allocated) const {
  if (allocated)
    freeFunction(allocated);
}
