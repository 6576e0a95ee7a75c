//===- Npy.cpp - Host arrays and the .npy file format ---------------------===//
#include "Npy.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/CheckedArithmetic.h"
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
  std::optional<int64_t> count = 1;
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
  std::memset(data.get(), 0, bytes);
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
  HostArray copy(kind, shape);
  std::memcpy(copy.getData(), getData(), getNumBytes());
  return copy;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {
/// A parser of the Python dict literal in a .npy header:
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : text(text) {}

  /// Parses the dict into `npy` and `fortranOrder`; returns an error message
  /// on failure.
  std::optional<std::string> parse(NpyArray &npy, bool &fortranOrder);

private:
  void skipSpaces() { text = text.ltrim(" \t\n"); }
  bool consume(StringRef token) {
    skipSpaces();
    return text.consume_front(token);
  }
  bool parseString(std::string &out);
  bool parseShape(SmallVectorImpl<int64_t> &shape);

  StringRef text;
};
} // namespace

bool HeaderParser::parseString(std::string &out) {
  skipSpaces();
  if (text.empty() || (text.front() != '\'' && text.front() != '"'))
    return false;
  char quote = text.front();
  size_t end = text.find(quote, 1);
  if (end == StringRef::npos)
    return false;
  out = text.substr(1, end - 1).str();
  text = text.drop_front(end + 1);
  return true;
}

bool HeaderParser::parseShape(SmallVectorImpl<int64_t> &shape) {
  if (!consume("("))
    return false;
  while (!consume(")")) {
    skipSpaces();
    size_t digits = text.find_first_not_of("0123456789");
    if (digits == 0 || digits == StringRef::npos || digits > 18)
      return false;
    int64_t dim;
    if (text.substr(0, digits).getAsInteger(10, dim))
      return false;
    shape.push_back(dim);
    text = text.drop_front(digits);
    if (!consume(",")) {
      if (!consume(")"))
        return false;
      break;
    }
  }
  return true;
}

std::optional<std::string> HeaderParser::parse(NpyArray &npy,
                                               bool &fortranOrder) {
  bool hasDescr = false, hasOrder = false, hasShape = false;
  if (!consume("{"))
    return "the header is not a dict";
  while (!consume("}")) {
    std::string key;
    if (!parseString(key) || !consume(":"))
      return "malformed header dict";
    if (key == "descr") {
      if (!parseString(npy.dtype))
        return "unsupported dtype (structured or not a string)";
      hasDescr = true;
    } else if (key == "fortran_order") {
      if (consume("True"))
        fortranOrder = true;
      else if (consume("False"))
        fortranOrder = false;
      else
        return "malformed 'fortran_order'";
      hasOrder = true;
    } else if (key == "shape") {
      if (!parseShape(npy.shape))
        return "malformed 'shape'";
      hasShape = true;
    } else {
      return "unknown header key '" + key + "'";
    }
    if (!consume(",")) {
      if (!consume("}"))
        return "malformed header dict";
      break;
    }
  }
  if (!hasDescr || !hasOrder || !hasShape)
    return "the header lacks 'descr', 'fortran_order' or 'shape'";
  return std::nullopt;
}

/// Returns the item size of a supported dtype, or 0.
static size_t getDtypeSize(StringRef dtype) {
  return StringSwitch<size_t>(dtype)
      .Cases({"<f8", "<i8", "<u8"}, 8)
      .Cases({"<f4", "<i4", "<u4"}, 4)
      .Cases({"<f2", "<i2", "<u2"}, 2)
      .Cases({"|b1", "|i1", "|u1"}, 1)
      .Default(0);
}

/// Rewrites the native byte order '=' (little-endian here) and the single
/// byte forms '<b1' / '<i1' to numpy's canonical spelling.
static std::string canonicalDtype(StringRef dtype) {
  std::string result = dtype.str();
  if (result.size() == 3 && result[0] == '=')
    result[0] = '<';
  if (result.size() == 3 && result[2] == '1' && result[0] == '<')
    result[0] = '|';
  return result;
}

Expected<NpyArray> attn_run::readNpy(StringRef path) {
  auto fail = [&](const Twine &message) {
    return createStringError(inconvertibleErrorCode(),
                             "'" + path + "': " + message);
  };
  if (sys::fs::is_directory(path))
    return fail("is a directory, not an .npy file");
  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!file)
    return fail("cannot read: " + file.getError().message());
  StringRef contents = (*file)->getBuffer();

  if (!contents.starts_with("\x93NUMPY"))
    return fail("not an .npy file (bad magic string)");
  if (contents.size() < 10)
    return fail("truncated .npy header");
  unsigned major = static_cast<uint8_t>(contents[6]);
  size_t headerStart, headerLength;
  if (major == 1) {
    headerStart = 10;
    headerLength =
        static_cast<uint8_t>(contents[8]) |
        (static_cast<size_t>(static_cast<uint8_t>(contents[9])) << 8);
  } else if (major == 2 || major == 3) {
    if (contents.size() < 12)
      return fail("truncated .npy header");
    headerStart = 12;
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength =
          (headerLength << 8) | static_cast<uint8_t>(contents[8 + i]);
  } else {
    return fail("unsupported .npy format version " + Twine(major));
  }
  if (headerLength > contents.size() - headerStart)
    return fail("truncated .npy header");

  NpyArray npy;
  bool fortranOrder = false;
  HeaderParser parser(contents.substr(headerStart, headerLength));
  if (std::optional<std::string> error = parser.parse(npy, fortranOrder))
    return fail("bad .npy header: " + *error);
  if (fortranOrder)
    return fail("Fortran-ordered arrays are not supported (save a C-ordered "
                "array, e.g. np.ascontiguousarray)");
  npy.dtype = canonicalDtype(npy.dtype);
  size_t itemSize = getDtypeSize(npy.dtype);
  if (itemSize == 0)
    return fail("unsupported dtype '" + npy.dtype +
                "' (supported: <f4 <f8 <f2 <u2 <i4 <i8 |i1 |b1)");

  uint64_t numBytes = itemSize;
  const uint64_t limit = uint64_t(1) << 40;
  for (int64_t dim : npy.shape) {
    if (dim != 0 && numBytes > limit / static_cast<uint64_t>(dim))
      return fail("the shape is too large");
    numBytes *= static_cast<uint64_t>(dim);
  }
  StringRef data = contents.drop_front(headerStart + headerLength);
  if (data.size() < numBytes)
    return fail("truncated data: expected " + Twine(numBytes) +
                " bytes, found " + Twine(data.size()));
  if (data.size() > numBytes)
    return fail("unexpected " + Twine(data.size() - numBytes) +
                " bytes after the data");
  npy.bytes = data.str();
  return npy;
}

//===----------------------------------------------------------------------===//
// Conversion to a typed array
//===----------------------------------------------------------------------===//

/// Returns the dtype that holds `kind` exactly.
static StringRef getNativeDtype(ElementKind kind) {
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

Expected<HostArray> attn_run::convertNpy(const NpyArray &npy,
                                         ElementKind kind) {
  HostArray array(kind, npy.shape);
  if (kind == ElementKind::BF16 && npy.dtype == "<f4") {
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i)
      storeAt<uint16_t>(array.getData(), i,
                        floatToBF16(loadAt<float>(npy.bytes.data(), i)));
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
  std::memcpy(array.getData(), npy.bytes.data(), array.getNumBytes());
  if (kind == ElementKind::I1)
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i)
      array.getData()[i] = array.getData()[i] != 0;
  return std::move(array);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Error attn_run::writeNpy(StringRef path, const HostArray &array) {
  bool asFloat = array.getKind() == ElementKind::BF16;
  StringRef dtype = asFloat ? "<f4" : getNativeDtype(array.getKind());
  std::string header;
  raw_string_ostream os(header);
  os << "{'descr': '" << dtype << "', 'fortran_order': False, 'shape': (";
  for (int64_t dim : array.getShape())
    os << dim << ", ";
  if (!array.getShape().empty())
    header.resize(header.size() - (array.getShape().size() == 1 ? 1 : 2));
  os << "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  size_t total = alignTo(10 + header.size() + 1, 64);
  header.append(total - 10 - header.size() - 1, ' ');
  header.push_back('\n');

  std::error_code ec;
  raw_fd_ostream out(path, ec, sys::fs::OF_None);
  if (ec)
    return createStringError(ec,
                             "cannot write '" + path + "': " + ec.message());
  out << "\x93NUMPY";
  out << char(1) << char(0);
  out << char(header.size() & 0xff) << char(header.size() >> 8);
  out << header;
  if (!asFloat) {
    out.write(array.getData(), array.getNumBytes());
  } else {
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i) {
      float value = static_cast<float>(array.getAsDouble(i));
      out.write(reinterpret_cast<const char *>(&value), 4);
    }
  }
  out.close();
  if (out.has_error())
    return createStringError(out.error(), "cannot write '" + path + "'");
  return Error::success();
}
