//===- Npy.h - Host arrays and the .npy file format -------------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_NPY_H
#define ATTN_TOOLS_ATTN_RUN_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace attn_run {

/// Element types that attn-run moves between .npy files and memrefs.
enum class ElementKind { F32, F64, F16, BF16, I1, I8, I32, I64 };

/// Returns the size in bytes of one element in memory (i1 takes one byte).
size_t getElementSize(ElementKind kind);

/// Returns the MLIR spelling of `kind` ("f32", "bf16", "i1", ...).
llvm::StringRef getElementName(ElementKind kind);

/// Returns the .npy dtype that holds `kind` exactly ("<f4", "<u2" for bf16,
/// "|b1" for i1, ...).
llvm::StringRef getNativeDtype(ElementKind kind);

/// A dense, C-ordered array in host memory, 64-byte aligned.
class HostArray {
public:
  HostArray() = default;
  /// Allocates a zero-filled array; an array that cannot be held (a size
  /// that overflows, or no memory) prints an `attn-run: error:` and exits
  /// with 1.
  HostArray(ElementKind kind, llvm::ArrayRef<int64_t> shape);
  /// Allocates an array like the constructor above, without filling it.
  static HostArray uninitialized(ElementKind kind,
                                 llvm::ArrayRef<int64_t> shape);

  ElementKind getKind() const { return kind; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getNumElements() const { return numElements; }
  size_t getNumBytes() const { return numElements * getElementSize(kind); }
  char *getData() { return data.get(); }
  const char *getData() const { return data.get(); }

  /// Returns element `index` converted to double (bf16 and f16 widened).
  double getAsDouble(int64_t index) const;
  /// Stores `value` at `index`, rounding to the element type.
  void setFromDouble(int64_t index, double value);

  /// Returns a deep copy.
  HostArray clone() const;

  /// Gives the elements the kind `newKind`, of the same size, keeping their
  /// bytes.
  void setKind(ElementKind newKind);

private:
  HostArray(ElementKind kind, llvm::ArrayRef<int64_t> shape, bool zeroed);

  struct FreeDeleter {
    void operator()(char *ptr) const;
  };
  ElementKind kind = ElementKind::F32;
  llvm::SmallVector<int64_t> shape;
  int64_t numElements = 0;
  std::unique_ptr<char, FreeDeleter> data;
};

/// A .npy array as read from a file, before it is matched to an argument.
struct NpyArray {
  /// The dtype as numpy writes it: "<f4", "<f2", "|b1", "<u2", ...
  std::string dtype;
  llvm::SmallVector<int64_t> shape;
  /// The raw little-endian elements in C order, held as an array of `shape`
  /// whose kind has the dtype's item size (the bytes are not converted).
  HostArray data;
};

/// Reads and validates a .npy file (versions 1.0, 2.0 and 3.0, little-endian
/// or byte-order-free dtypes, C order). Every malformed file is an error that
/// names `path`. Nothing past the data that the header describes is read: a
/// regular file's size is checked before its data is read, and a pipe or
/// character device that delivers more (or does not end) is an error.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Converts `npy` to an array of `kind`, taking its storage when no
/// conversion is needed. The dtype must be the one of `kind` (<f4 f32, <f8
/// f64, <f2 f16, |b1 i1, |i1 i8, <i4 i32, <i8 i64); bf16 takes <f4 (rounded
/// to nearest even) or <u2 (raw bits).
llvm::Expected<HostArray> convertNpy(NpyArray npy, ElementKind kind);

/// Writes `array` in the .npy format to `os` (version 1.0, or 2.0 when the
/// header does not fit in 65,535 bytes); bf16 is written as <f4. Errors of
/// the stream are left to the caller.
void writeNpy(llvm::raw_ostream &os, const HostArray &array);

/// A result or input to write to `path`.
struct NpyFile {
  std::string path;
  const HostArray *array;
};

/// Writes every array to a temporary file beside its path and, once all
/// were written, renames them into place. On failure (a full disk, a file
/// size limit, no permission) the temporary files are removed, every
/// existing file at the paths is left as it was, and the error names the
/// path.
llvm::Error writeNpyFiles(llvm::ArrayRef<NpyFile> files);

/// Rounds `value` to bf16 (nearest even; NaN stays a quiet NaN).
uint16_t floatToBF16(float value);
/// Widens bf16 bits to float.
float bf16ToFloat(uint16_t bits);
/// Rounds `value` to IEEE half (nearest even).
uint16_t floatToHalf(float value);
/// Widens IEEE half bits to float.
float halfToFloat(uint16_t bits);

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_NPY_H
