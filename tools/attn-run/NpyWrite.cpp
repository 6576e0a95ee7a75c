//===- NpyWrite.cpp - Writing .npy files ----------------------------------===//
#include "Npy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace attn_run;

void attn_run::writeNpy(raw_ostream &os, const HostArray &array) {
  bool asFloat = array.getKind() == ElementKind::BF16;
  StringRef dtype = asFloat ? "<f4" : getNativeDtype(array.getKind());
  std::string header;
  raw_string_ostream headerOs(header);
  headerOs << "{'descr': '" << dtype << "', 'fortran_order': False, 'shape': (";
  for (int64_t dim : array.getShape())
    headerOs << dim << ", ";
  if (!array.getShape().empty())
    header.resize(header.size() - (array.getShape().size() == 1 ? 1 : 2));
  headerOs << "), }";
  // Magic (6) + version (2) + length (2 in 1.0, 4 in 2.0) + header + '\n' is
  // a multiple of 64. Version 1.0 stores the length in 16 bits.
  size_t total = alignTo(10 + header.size() + 1, 64);
  bool version2 = total - 10 > 0xffff;
  size_t preamble = version2 ? 12 : 10;
  if (version2)
    total = alignTo(preamble + header.size() + 1, 64);
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');

  os << "\x93NUMPY" << char(version2 ? 2 : 1) << char(0);
  size_t length = header.size();
  for (size_t i = 0, e = version2 ? 4 : 2; i < e; ++i)
    os << char((length >> (8 * i)) & 0xff);
  os << header;
  if (!asFloat) {
    os.write(array.getData(), array.getNumBytes());
    return;
  }
  for (int64_t i = 0, e = array.getNumElements(); i < e; ++i) {
    float value = static_cast<float>(array.getAsDouble(i));
    os.write(reinterpret_cast<const char *>(&value), 4);
  }
}

/// Writes `array` to a new temporary file beside `path`; returns its name.
static Expected<std::string> writeTemporary(StringRef path,
                                            const HostArray &array) {
  auto fail = [&](std::error_code ec) {
    return createStringError(ec,
                             "cannot write '" + path + "': " + ec.message());
  };
  int fd;
  SmallString<128> temporary;
  if (std::error_code ec =
          sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temporary))
    return fail(ec);
  raw_fd_ostream os(fd, /*shouldClose=*/true);
  writeNpy(os, array);
  os.close();
  if (std::error_code ec = os.error()) {
    os.clear_error();
    sys::fs::remove(temporary);
    return fail(ec);
  }
  return std::string(temporary);
}

Error attn_run::writeNpyFiles(ArrayRef<NpyFile> files) {
  SmallVector<std::string> temporaries;
  auto removeTemporaries = [&]() {
    for (const std::string &temporary : temporaries)
      sys::fs::remove(temporary);
  };
  for (const NpyFile &file : files) {
    Expected<std::string> temporary = writeTemporary(file.path, *file.array);
    if (!temporary) {
      removeTemporaries();
      return temporary.takeError();
    }
    temporaries.push_back(std::move(*temporary));
  }
  for (auto [index, file] : llvm::enumerate(files)) {
    if (std::error_code ec = sys::fs::rename(temporaries[index], file.path)) {
      // The files before this one are already in place.
      temporaries.erase(temporaries.begin(), temporaries.begin() + index);
      removeTemporaries();
      return createStringError(ec, "cannot write '" + file.path +
                                       "': " + ec.message());
    }
  }
  return Error::success();
}
