//===- StridedCopyTest.cpp - runtime/StridedCopy.h ------------------------===//
//
// The strided copy behind `memrefCopy` (artifacts and attn-run) against an
// element-by-element copy: contiguous runs merged across dims, strided
// sources and destinations, transposes, dims of size 1 and 0.
//
//===----------------------------------------------------------------------===//
#include "StridedCopy.h"

#include "gtest/gtest.h"

#include <numeric>
#include <vector>

namespace {

/// Copies element by element (the odometer over every dim).
void naiveCopy(const std::vector<int64_t> &sizes,
               const std::vector<int64_t> &src,
               const std::vector<int64_t> &dst, const float *from, float *to) {
  int64_t total = 1;
  for (int64_t s : sizes)
    total *= s;
  std::vector<int64_t> index(sizes.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t a = 0, b = 0;
    for (size_t d = 0; d < sizes.size(); ++d) {
      a += index[d] * src[d];
      b += index[d] * dst[d];
    }
    to[b] = from[a];
    for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}

void expectSameAsNaive(const std::vector<int64_t> &sizes,
                       const std::vector<int64_t> &src,
                       const std::vector<int64_t> &dst, size_t bufferSize) {
  std::vector<float> from(bufferSize);
  std::iota(from.begin(), from.end(), 1.0f);
  std::vector<float> expected(bufferSize, -1.0f), got(bufferSize, -1.0f);
  naiveCopy(sizes, src, dst, from.data(), expected.data());
  attnStridedCopy(sizeof(float), int64_t(sizes.size()), sizes.data(),
                  src.data(), dst.data(),
                  reinterpret_cast<const char *>(from.data()),
                  reinterpret_cast<char *>(got.data()));
  EXPECT_EQ(got, expected);
}

TEST(StridedCopy, ContiguousIsOneRun) {
  expectSameAsNaive({2, 3, 4}, {12, 4, 1}, {12, 4, 1}, 24);
}

TEST(StridedCopy, RowsOfASubBlock) {
  // A [3, 5] tile of a [4, 8] source into a packed [3, 5] destination.
  expectSameAsNaive({3, 5}, {8, 1}, {5, 1}, 32);
  // And back into a [4, 8] destination.
  expectSameAsNaive({3, 5}, {5, 1}, {8, 1}, 32);
}

TEST(StridedCopy, TransposeAndInnerStride) {
  expectSameAsNaive({4, 6}, {1, 4}, {6, 1}, 24);
  expectSameAsNaive({5, 3}, {6, 2}, {3, 1}, 30);
}

TEST(StridedCopy, UnitDimsAreSkippedAndEmptyCopiesNothing) {
  expectSameAsNaive({1, 3, 1, 4}, {99, 8, 77, 1}, {12, 4, 5, 1}, 32);
  expectSameAsNaive({2, 0, 3}, {3, 3, 1}, {3, 3, 1}, 8);
  expectSameAsNaive({}, {}, {}, 1);
}

} // namespace
