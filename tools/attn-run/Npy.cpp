//===- Npy.cpp - Host arrays and the .npy file format ---------------------===//
#include "Npy.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace llvm;
using namespace attn_run;

//===----------------------------------------------------------------------===//
// Element types and scalar conversions
//===----------------------------------------------------------------------===//

size_t attn_run::getElementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
  case ElementKind::I64:
    return 8;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::F16:
  case ElementKind::BF16:
    return 2;
  case ElementKind::I1:
  case ElementKind::I8:
    return 1;
  }
  llvm_unreachable("unknown element kind");
}

StringRef attn_run::getElementName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "f32";
  case ElementKind::F64:
    return "f64";
  case ElementKind::F16:
    return "f16";
  case ElementKind::BF16:
    return "bf16";
  case ElementKind::I1:
    return "i1";
  case ElementKind::I8:
    return "i8";
  case ElementKind::I32:
    return "i32";
  case ElementKind::I64:
    return "i64";
  }
  llvm_unreachable("unknown element kind");
}

uint16_t attn_run::floatToBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  uint32_t roundingBias = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

float attn_run::bf16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

uint16_t attn_run::floatToHalf(float value) {
  APFloat f(value);
  bool losesInfo;
  f.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &losesInfo);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

float attn_run::halfToFloat(uint16_t bits) {
  APFloat f(APFloat::IEEEhalf(), APInt(16, bits));
  bool losesInfo;
  f.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return f.convertToFloat();
}

//===----------------------------------------------------------------------===//
// HostArray
//===----------------------------------------------------------------------===//

void HostArray::FreeDeleter::operator()(char *ptr) const { std::free(ptr); }

HostArray::HostArray(ElementKind kind, ArrayRef<int64_t> shape)
    : HostArray(kind, shape, /*zeroed=*/true) {}

HostArray HostArray::uninitialized(ElementKind kind, ArrayRef<int64_t> shape) {
  return HostArray(kind, shape, /*zeroed=*/false);
}

HostArray::HostArray(ElementKind kind, ArrayRef<int64_t> shape, bool zeroed)
    : kind(kind), shape(shape) {
  // An array that cannot be held is a user error (a huge --dim or header),
  // reported and exited on, never a crash.
  auto fail = [&](StringRef why) {
    WithColor::error(errs(), "attn-run")
        << "cannot allocate an array of shape [";
    llvm::interleaveComma(shape, errs());
    errs() << "]: " << why << "\n";
    std::exit(1);
  };
  // An array with a dim 0 is empty, however large its other dims.
  std::optional<int64_t> count = llvm::is_contained(shape, 0) ? 0 : 1;
  for (int64_t dim : shape)
    if (count)
      count = llvm::checkedMul(*count, dim);
  std::optional<int64_t> numBytes =
      count ? llvm::checkedMul(*count, int64_t(getElementSize(kind)))
            : std::nullopt;
  if (!numBytes || *numBytes > (int64_t(1) << 48))
    fail("its size overflows");
  numElements = *count;
  size_t bytes = alignTo(std::max<size_t>(*numBytes, 1), 64);
  data.reset(static_cast<char *>(std::aligned_alloc(64, bytes)));
  if (!data)
    fail("out of memory (" + std::to_string(bytes) + " bytes)");
  if (zeroed)
    std::memset(data.get(), 0, bytes);
}

void HostArray::setKind(ElementKind newKind) {
  assert(getElementSize(newKind) == getElementSize(kind) &&
         "setKind keeps the element size");
  kind = newKind;
}

template <typename T> static T loadAt(const char *data, int64_t index) {
  T value;
  std::memcpy(&value, data + index * sizeof(T), sizeof(T));
  return value;
}

template <typename T> static void storeAt(char *data, int64_t index, T value) {
  std::memcpy(data + index * sizeof(T), &value, sizeof(T));
}

double HostArray::getAsDouble(int64_t index) const {
  const char *ptr = data.get();
  switch (kind) {
  case ElementKind::F32:
    return loadAt<float>(ptr, index);
  case ElementKind::F64:
    return loadAt<double>(ptr, index);
  case ElementKind::F16:
    return halfToFloat(loadAt<uint16_t>(ptr, index));
  case ElementKind::BF16:
    return bf16ToFloat(loadAt<uint16_t>(ptr, index));
  case ElementKind::I1:
    return loadAt<uint8_t>(ptr, index) ? 1.0 : 0.0;
  case ElementKind::I8:
    return loadAt<int8_t>(ptr, index);
  case ElementKind::I32:
    return loadAt<int32_t>(ptr, index);
  case ElementKind::I64:
    return static_cast<double>(loadAt<int64_t>(ptr, index));
  }
  llvm_unreachable("unknown element kind");
}

void HostArray::setFromDouble(int64_t index, double value) {
  char *ptr = data.get();
  switch (kind) {
  case ElementKind::F32:
    return storeAt<float>(ptr, index, static_cast<float>(value));
  case ElementKind::F64:
    return storeAt<double>(ptr, index, value);
  case ElementKind::F16:
    return storeAt<uint16_t>(ptr, index,
                             floatToHalf(static_cast<float>(value)));
  case ElementKind::BF16:
    return storeAt<uint16_t>(ptr, index,
                             floatToBF16(static_cast<float>(value)));
  case ElementKind::I1:
    return storeAt<uint8_t>(ptr, index, value != 0.0 ? 1 : 0);
  case ElementKind::I8:
    return storeAt<int8_t>(ptr, index, static_cast<int8_t>(value));
  case ElementKind::I32:
    return storeAt<int32_t>(ptr, index, static_cast<int32_t>(value));
  case ElementKind::I64:
    return storeAt<int64_t>(ptr, index, static_cast<int64_t>(value));
  }
}

HostArray HostArray::clone() const {
  HostArray copy = uninitialized(kind, shape);
  std::memcpy(copy.getData(), getData(), getNumBytes());
  return copy;
}

//===----------------------------------------------------------------------===//
// Conversion to a typed array
//===----------------------------------------------------------------------===//

StringRef attn_run::getNativeDtype(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "<f4";
  case ElementKind::F64:
    return "<f8";
  case ElementKind::F16:
    return "<f2";
  case ElementKind::BF16:
    return "<u2";
  case ElementKind::I1:
    return "|b1";
  case ElementKind::I8:
    return "|i1";
  case ElementKind::I32:
    return "<i4";
  case ElementKind::I64:
    return "<i8";
  }
  llvm_unreachable("unknown element kind");
}

Expected<HostArray> attn_run::convertNpy(NpyArray npy, ElementKind kind) {
  if (kind == ElementKind::BF16 && npy.dtype == "<f4") {
    HostArray array = HostArray::uninitialized(kind, npy.shape);
    const char *floats = npy.data.getData();
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i)
      storeAt<uint16_t>(array.getData(), i,
                        floatToBF16(loadAt<float>(floats, i)));
    return std::move(array);
  }
  if (npy.dtype != getNativeDtype(kind)) {
    std::string expected = getNativeDtype(kind).str();
    if (kind == ElementKind::BF16)
      expected = "<f4 or <u2 (raw bf16 bits)";
    return createStringError(inconvertibleErrorCode(),
                             "has dtype " + npy.dtype +
                                 ", but the argument's "
                                 "element type " +
                                 getElementName(kind) + " needs " + expected);
  }
  // The dtype holds `kind` exactly: the bytes are the elements.
  HostArray array = std::move(npy.data);
  array.setKind(kind);
  if (kind == ElementKind::I1)
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i)
      array.getData()[i] = array.getData()[i] != 0;
  return std::move(array);
}
