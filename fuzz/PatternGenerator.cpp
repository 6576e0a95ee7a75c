//===- PatternGenerator.cpp - Random attn pattern attributes as text ------===//

#include "PatternGenerator.h"

#include "llvm/ADT/StringRef.h"

#include <vector>

using namespace attn_fuzz;
using llvm::StringRef;

static void appendInt(std::string &out, int64_t value) {
  out += std::to_string(value);
}

/// Appends `name = <parameter>`.
static void appendParam(Random &random, std::string &out, StringRef name) {
  out += name;
  out += " = ";
  appendInt(out, random.parameter());
}

/// Appends a type for a block_sparse layout: mostly a ranked i1 tensor, else
/// a vector (maybe scalable), a memref, another rank or element type.
static void appendLayoutType(Random &random, std::string &out,
                             StringRef &elementType) {
  static const char *const containers[] = {"tensor", "tensor", "tensor",
                                           "vector", "vector", "memref"};
  static const char *const elements[] = {"i1",  "i1",  "i1",  "i8",  "i32",
                                         "i64", "f32", "si1", "ui1", "index"};
  StringRef container = random.pick(containers);
  elementType = random.pick(elements);
  int64_t rank = random.oneIn(2) ? 2 : random.inRange(0, 3);
  out += container;
  out += "<";
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = random.oneIn(8) ? 0 : random.inRange(1, 3);
    if (container == "vector" && random.oneIn(4))
      out += "[" + std::to_string(dim) + "]"; // A scalable dim.
    else
      appendInt(out, dim);
    out += "x";
  }
  out += elementType;
  out += ">";
}

void attn_fuzz::appendLayout(Random &random, std::string &out) {
  switch (random.below(12)) {
  case 0:
    out += "dense<[[true, false], [true, true]]> : tensor<2x2xi1>";
    return;
  case 1:
    out += "sparse<[[0, 1]], [true]> : tensor<2x2xi1>";
    return;
  case 2:
    out += random.pick({"array<i1: true, false>", "[true, false]", "unit",
                        "#attn.dense", "dense<true> : tensor<?x2xi1>",
                        "dense_resource<blob> : tensor<2x2xi1>"});
    return;
  default:
    break;
  }
  std::string type;
  StringRef element;
  appendLayoutType(random, type, element);
  out += "dense<";
  if (element.ends_with("i1"))
    out += random.oneIn(2) ? "true" : "false";
  else if (element == "f32")
    out += "1.0";
  else
    out += random.oneIn(2) ? "1" : "0";
  out += "> : ";
  out += type;
}

void attn_fuzz::appendBlockSparse(Random &random, std::string &out) {
  out += "#attn.block_sparse<block = [";
  int64_t sizes = random.oneIn(6) ? random.inRange(0, 3) : 2;
  for (int64_t i = 0; i < sizes; ++i) {
    if (i)
      out += ", ";
    appendInt(out, random.oneIn(3) ? random.parameter() : random.inRange(1, 4));
  }
  out += "], layout = ";
  appendLayout(random, out);
  out += ">";
}

void attn_fuzz::appendGlobal(Random &random, std::string &out, int64_t count,
                             TokenStyle style) {
  out += "#attn.global<";
  bool withTokens = count > 0;
  if (withTokens) {
    out += "tokens = [";
    int64_t step = random.inRange(1, 3);
    for (int64_t i = 0; i < count; ++i) {
      if (i)
        out += ", ";
      switch (style) {
      case TokenStyle::Ascending:
        appendInt(out, i * step);
        break;
      case TokenStyle::Descending:
        appendInt(out, (count - i) * step);
        break;
      case TokenStyle::Small:
        appendInt(out, random.inRange(-4, 64));
        break;
      case TokenStyle::Edges:
        appendInt(out, random.parameter());
        break;
      }
    }
    out += "]";
  }
  if (!withTokens || random.oneIn(2)) {
    if (withTokens)
      out += ", ";
    appendParam(random, out, "first");
  }
  out += ">";
}

/// Appends `#attn.neighborhood<extent = [..], window = [..]>`: mostly 1 to 3
/// small axes with windows that fit, sometimes counts or sizes out of range.
static void appendNeighborhood(Random &random, std::string &out) {
  int64_t axes = random.oneIn(8) ? random.inRange(0, 4) : random.inRange(1, 3);
  std::vector<int64_t> extent, window;
  for (int64_t a = 0; a < axes; ++a) {
    extent.push_back(random.oneIn(8) ? random.parameter()
                                     : random.inRange(1, 8));
    window.push_back(random.oneIn(8) ? random.parameter()
                                     : random.inRange(1, extent.back()));
  }
  if (random.oneIn(8) && !window.empty())
    window.pop_back();
  auto appendList = [&](const std::vector<int64_t> &values) {
    out += "[";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i)
        out += ", ";
      appendInt(out, values[i]);
    }
    out += "]";
  };
  out += "#attn.neighborhood<extent = ";
  appendList(extent);
  out += ", window = ";
  appendList(window);
  out += ">";
}

void attn_fuzz::generatePattern(Random &random, std::string &out, int depth) {
  switch (random.below(depth > 0 ? 16 : 14)) {
  case 0:
    out += "#attn.dense";
    return;
  case 1:
    out += "#attn.causal";
    if (random.oneIn(2)) {
      out += "<";
      appendParam(random, out, "offset");
      if (random.oneIn(2))
        out += ", bottom_right";
      out += ">";
    } else if (random.oneIn(2)) {
      out += "<bottom_right>";
    }
    return;
  case 2:
    out += "#attn.window<";
    appendParam(random, out, "left");
    out += ", ";
    appendParam(random, out, "right");
    out += ">";
    return;
  case 3:
    out += "#attn.dilated<";
    appendParam(random, out, "left");
    out += ", ";
    appendParam(random, out, "right");
    out += ", ";
    appendParam(random, out, "dilation");
    out += ">";
    return;
  case 4:
    out += "#attn.block_local<";
    appendParam(random, out, "size");
    out += ">";
    return;
  case 5:
    out += "#attn.strided<";
    appendParam(random, out, "stride");
    out += ">";
    return;
  case 6:
    out += "#attn.fixed<";
    appendParam(random, out, "block");
    out += ", ";
    appendParam(random, out, "summary");
    out += ">";
    return;
  case 7:
    appendGlobal(random, out, random.inRange(0, 4),
                 TokenStyle(random.below(4)));
    return;
  case 8:
    out += "#attn.random<";
    appendParam(random, out, "block");
    out += ", ";
    appendParam(random, out, "per_row");
    out += ", ";
    appendParam(random, out, "seed");
    out += ">";
    return;
  case 9:
    out += "#attn.axial<";
    appendParam(random, out, "rows");
    out += ", ";
    appendParam(random, out, "cols");
    out += ">";
    return;
  case 10:
  case 11:
    appendBlockSparse(random, out);
    return;
  case 12: { // #attn.sink takes the parameters of #attn.global.
    std::string global;
    appendGlobal(random, global, random.inRange(0, 4),
                 TokenStyle(random.below(4)));
    out += "#attn.sink" + global.substr(StringRef("#attn.global").size());
    return;
  }
  case 13:
    appendNeighborhood(random, out);
    return;
  default: {
    out += random.oneIn(2) ? "#attn.union<[" : "#attn.intersect<[";
    int64_t parts = random.inRange(random.oneIn(8) ? 0 : 1, 4);
    for (int64_t i = 0; i < parts; ++i) {
      if (i)
        out += ", ";
      generatePattern(random, out, depth - 1);
    }
    out += "]>";
    return;
  }
  }
}

void attn_fuzz::appendDistinctPart(std::string &out, int family,
                                   int64_t index) {
  switch (family) {
  case 0: // Bands three diagonals apart: they never merge.
    out += "#attn.window<left = " + std::to_string(-3 * index) +
           ", right = " + std::to_string(3 * index) + ">";
    return;
  case 1: // Causal bands: they all merge into one.
    out += "#attn.causal<offset = " + std::to_string(index) + ">";
    return;
  case 2:
    out += "#attn.strided<stride = " + std::to_string(index + 2) + ">";
    return;
  case 3:
    out += "#attn.block_local<size = " + std::to_string(index + 2) + ">";
    return;
  case 4:
    out += "#attn.global<first = " + std::to_string(index) + ">";
    return;
  default:
    out +=
        "#attn.random<block = 2, per_row = 1, seed = " + std::to_string(index) +
        ">";
    return;
  }
}
