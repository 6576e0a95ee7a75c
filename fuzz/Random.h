//===- Random.h - Random choices for the attn-fuzz mutator ------*- C++ -*-===//
//
// A seeded random source with the few draws the mutations need. Every choice
// of a mutation comes from the seed libFuzzer passes to the custom mutator,
// so a mutation is reproducible from (input, seed).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_RANDOM_H
#define ATTN_FUZZ_RANDOM_H

#include "llvm/ADT/ArrayRef.h"

#include <cmath>
#include <cstdint>
#include <random>

namespace attn_fuzz {

/// A 64-bit Mersenne twister with convenience draws.
class Random {
public:
  explicit Random(uint64_t seed) : engine(seed) {}

  /// A uniform integer in [0, n); 0 when n is 0.
  uint64_t below(uint64_t n) {
    if (n == 0)
      return 0;
    return std::uniform_int_distribution<uint64_t>(0, n - 1)(engine);
  }

  /// A uniform integer in [lo, hi].
  int64_t inRange(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine);
  }

  /// True with probability 1/n.
  bool oneIn(uint64_t n) { return below(n) == 0; }

  /// An integer in [lo, hi] whose logarithm is uniform: small sizes are as
  /// likely as each decade of large ones (1..10 as likely as 1000..10000).
  int64_t logUniform(int64_t lo, int64_t hi) {
    if (hi <= lo)
      return lo;
    double l = std::log(double(lo)), h = std::log(double(hi) + 1.0);
    double x = std::uniform_real_distribution<double>(l, h)(engine);
    int64_t v = int64_t(std::exp(x));
    return v < lo ? lo : (v > hi ? hi : v);
  }

  /// A uniformly chosen element of a non-empty array.
  template <typename T> const T &pick(llvm::ArrayRef<T> items) {
    return items[below(items.size())];
  }
  template <typename T, size_t N> const T &pick(const T (&items)[N]) {
    return items[below(N)];
  }

  /// An integer parameter: mostly small and valid, sometimes at the edges of
  /// the 32-bit parameter range and of int64 (where the verifiers and the
  /// band arithmetic must hold).
  int64_t parameter() {
    static const int64_t edges[] = {0,
                                    1,
                                    -1,
                                    2,
                                    -2,
                                    3,
                                    7,
                                    64,
                                    (int64_t(1) << 31) - 1,
                                    int64_t(1) << 31,
                                    -(int64_t(1) << 31),
                                    -(int64_t(1) << 31) + 1,
                                    INT64_MAX,
                                    INT64_MIN,
                                    INT64_MAX - 1,
                                    INT64_MIN + 1,
                                    int64_t(1) << 32};
    switch (below(4)) {
    case 0:
      return pick(edges);
    case 1:
      return inRange(-16, 16);
    default:
      return inRange(0, 16);
    }
  }

  std::mt19937_64 &getEngine() { return engine; }

private:
  std::mt19937_64 engine;
};

} // namespace attn_fuzz

#endif // ATTN_FUZZ_RANDOM_H
