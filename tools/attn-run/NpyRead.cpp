//===- NpyRead.cpp - Reading .npy files -----------------------------------===//
#include "Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"

#include <cstring>

using namespace llvm;
using namespace attn_run;

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
    if ((key == "descr" && hasDescr) || (key == "fortran_order" && hasOrder) ||
        (key == "shape" && hasShape))
      return "the key '" + key + "' appears twice";
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
  if (!text.trim(" \t\n").empty())
    return "unexpected text after the header dict";
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

/// The longest header attn-run reads (numpy itself refuses more than 10,000
/// bytes by default): a header of a rank-1,000,000 shape fits.
static constexpr size_t kMaxHeaderLength = size_t(1) << 24;

/// The largest array a .npy file may hold here (1 TiB).
static constexpr uint64_t kMaxDataBytes = uint64_t(1) << 40;

/// Returns the kind that holds the raw items of a dtype of `itemSize` bytes.
static ElementKind getRawKind(size_t itemSize) {
  switch (itemSize) {
  case 1:
    return ElementKind::I8;
  case 2:
    return ElementKind::F16;
  case 4:
    return ElementKind::I32;
  default:
    return ElementKind::I64;
  }
}

namespace {
/// An open file read from the front, never past what the caller asks for.
class InputFile {
public:
  ~InputFile() {
    if (handle != sys::fs::kInvalidFile)
      sys::fs::closeFile(handle);
  }
  std::error_code open(StringRef path) {
    Expected<sys::fs::file_t> file = sys::fs::openNativeFileForRead(path);
    if (!file)
      return errorToErrorCode(file.takeError());
    handle = *file;
    sys::fs::file_status status;
    if (std::error_code ec = sys::fs::status(handle, status))
      return ec;
    if (status.type() == sys::fs::file_type::regular_file)
      size = status.getSize();
    return {};
  }
  /// The size of a regular file; nullopt for a pipe or device.
  std::optional<uint64_t> getSize() const { return size; }
  /// Reads up to `buffer.size()` bytes, fewer only at the end of the file;
  /// returns the count.
  Expected<size_t> read(MutableArrayRef<char> buffer) {
    size_t done = 0;
    while (done < buffer.size()) {
      // At most 1 GiB per call: Linux reads at most about 2 GiB at once.
      size_t chunk = std::min<size_t>(buffer.size() - done, size_t(1) << 30);
      Expected<size_t> got =
          sys::fs::readNativeFile(handle, buffer.slice(done, chunk));
      if (!got)
        return got.takeError();
      if (*got == 0)
        break;
      done += *got;
    }
    return done;
  }

private:
  sys::fs::file_t handle = sys::fs::kInvalidFile;
  std::optional<uint64_t> size;
};
} // namespace

Expected<NpyArray> attn_run::readNpy(StringRef path) {
  auto fail = [&](const Twine &message) {
    return createStringError(inconvertibleErrorCode(),
                             "'" + path + "': " + message);
  };
  if (sys::fs::is_directory(path))
    return fail("is a directory, not an .npy file");
  InputFile file;
  if (std::error_code ec = file.open(path))
    return fail("cannot read: " + ec.message());
  auto readExactly = [&](MutableArrayRef<char> buffer,
                         StringRef what) -> Error {
    Expected<size_t> got = file.read(buffer);
    if (!got)
      return fail("cannot read: " + toString(got.takeError()));
    if (*got < buffer.size())
      return fail(what);
    return Error::success();
  };

  // Magic (6 bytes), version (2), header length (2 in 1.0, 4 in 2.0 / 3.0).
  char preamble[12];
  Expected<size_t> got = file.read(MutableArrayRef<char>(preamble, 6));
  if (!got)
    return fail("cannot read: " + toString(got.takeError()));
  if (StringRef(preamble, *got) != "\x93NUMPY")
    return fail("not an .npy file (bad magic string)");
  if (Error err = readExactly(MutableArrayRef<char>(preamble + 6, 4),
                              "truncated .npy header"))
    return std::move(err);
  unsigned major = static_cast<uint8_t>(preamble[6]);
  uint64_t headerStart, headerLength;
  if (major == 1) {
    headerStart = 10;
    headerLength = static_cast<uint8_t>(preamble[8]) |
                   (uint64_t(static_cast<uint8_t>(preamble[9])) << 8);
  } else if (major == 2 || major == 3) {
    if (Error err = readExactly(MutableArrayRef<char>(preamble + 10, 2),
                                "truncated .npy header"))
      return std::move(err);
    headerStart = 12;
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength =
          (headerLength << 8) | static_cast<uint8_t>(preamble[8 + i]);
  } else {
    return fail("unsupported .npy format version " + Twine(major));
  }
  std::optional<uint64_t> fileSize = file.getSize();
  if (fileSize && headerLength > *fileSize - headerStart)
    return fail("truncated .npy header");
  if (headerLength > kMaxHeaderLength)
    return fail("the header is " + Twine(headerLength) +
                " bytes long, more than the " + Twine(kMaxHeaderLength) +
                " that attn-run reads");
  std::string header(headerLength, '\0');
  if (Error err = readExactly(header, "truncated .npy header"))
    return std::move(err);

  NpyArray npy;
  bool fortranOrder = false;
  HeaderParser parser(header);
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

  // Dims are non-negative (the parser reads digits only); with a dim 0 the
  // array is empty, however large its other dims.
  uint64_t numBytes = llvm::is_contained(npy.shape, 0) ? 0 : itemSize;
  for (int64_t dim : npy.shape) {
    if (dim != 0 && numBytes > kMaxDataBytes / static_cast<uint64_t>(dim))
      return fail("the shape is too large");
    numBytes *= static_cast<uint64_t>(dim);
  }
  if (fileSize) {
    uint64_t found = *fileSize - headerStart - headerLength;
    if (found < numBytes)
      return fail("truncated data: expected " + Twine(numBytes) +
                  " bytes, found " + Twine(found));
    if (found > numBytes)
      return fail("unexpected " + Twine(found - numBytes) +
                  " bytes after the data");
  }

  npy.data = HostArray::uninitialized(getRawKind(itemSize), npy.shape);
  got = file.read(MutableArrayRef<char>(npy.data.getData(), numBytes));
  if (!got)
    return fail("cannot read: " + toString(got.takeError()));
  if (*got < numBytes)
    return fail("truncated data: expected " + Twine(numBytes) +
                " bytes, found " + Twine(*got));
  // A pipe or device must end here; its size was not known before.
  char extra;
  got = file.read(MutableArrayRef<char>(&extra, 1));
  if (!got)
    return fail("cannot read: " + toString(got.takeError()));
  if (*got != 0)
    return fail("unexpected bytes after the " + Twine(numBytes) +
                " bytes of data (the file is longer than its header says, "
                "or does not end)");
  return npy;
}
