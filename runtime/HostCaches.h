//===- HostCaches.h - What the CUDA runtime keeps between calls -*- C++ -*-===//
//
// Driver-independent bookkeeping of runtime/CudaRuntime.cpp, kept apart so
// that it is unit-tested without a GPU (unittests/Runtime):
//
// * TensorMapCache: the device copies of tensor maps (128-byte CUtensorMap),
//   keyed by their encoded content, in a fixed number of device slots. The
//   content names the global address, the shape, the strides, the box and the
//   modes, so two equal maps are interchangeable and a hit is always right.
// * ReusePool: handles (streams) given back by their user and handed out
//   again instead of creating new ones.
// * TensorMapGeometry: the driver's view (innermost dimension first) of a
//   memref descriptor's sizes and strides for cuTensorMapEncodeTiled, with a
//   stand-in for empty tensors, which the driver rejects.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_HOSTCACHES_H
#define ATTN_RUNTIME_HOSTCACHES_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace attn::runtime {

/// The 128 bytes of a CUtensorMap (64-byte aligned, as the driver wants).
struct alignas(64) TensorMapBytes {
  uint64_t words[16];

  bool operator==(const TensorMapBytes &other) const {
    return std::memcmp(words, other.words, sizeof(words)) == 0;
  }
};

struct TensorMapBytesHash {
  size_t operator()(const TensorMapBytes &map) const {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t word : map.words)
      h = (h ^ word) * 0x100000001b3ull + (h >> 29);
    return static_cast<size_t>(h);
  }
};

/// Assigns device slots to tensor maps by content. A map seen before gets
/// its slot again (nothing to copy); a new one gets the next free slot, which
/// the caller fills. When every slot is taken, the cache starts over: all
/// slots are forgotten and the caller must first wait until no launched
/// kernel can still read one (`flush`), then fill slot 0.
class TensorMapCache {
public:
  struct Slot {
    size_t index;
    /// The slot is new: the caller copies the map into it.
    bool upload;
    /// The cache started over: wait for the device before the copy.
    bool flush;
  };

  explicit TensorMapCache(size_t capacity) : capacity(capacity) {
    slots.reserve(capacity);
  }

  Slot lookup(const TensorMapBytes &map) {
    auto it = slots.find(map);
    if (it != slots.end()) {
      ++hits;
      return {it->second, false, false};
    }
    bool flush = false;
    if (slots.size() == capacity) {
      slots.clear();
      ++flushes;
      flush = true;
    }
    size_t index = slots.size();
    slots.emplace(map, index);
    ++misses;
    return {index, true, flush};
  }

  /// Forgets every slot (after a failed copy into one).
  void clear() { slots.clear(); }

  size_t size() const { return slots.size(); }
  size_t getCapacity() const { return capacity; }

  uint64_t hits = 0, misses = 0, flushes = 0;

private:
  size_t capacity;
  std::unordered_map<TensorMapBytes, size_t, TensorMapBytesHash> slots;
};

/// Keeps up to `limit` handles that their users gave back, to hand out again.
template <typename Handle> class ReusePool {
public:
  explicit ReusePool(size_t limit) : limit(limit) {}

  /// A kept handle, or a null one when none is kept.
  Handle take() {
    if (kept.empty())
      return Handle();
    Handle handle = kept.back();
    kept.pop_back();
    return handle;
  }

  /// Keeps `handle`; returns false when the pool is full (the caller
  /// destroys it).
  bool give(Handle handle) {
    if (kept.size() >= limit)
      return false;
    kept.push_back(handle);
    return true;
  }

  size_t size() const { return kept.size(); }

private:
  size_t limit;
  std::vector<Handle> kept;
};

/// The arguments of cuTensorMapEncodeTiled for a ranked memref (sizes and
/// element strides outermost first, as in its descriptor) and a box:
/// dimensions innermost first, byte strides of every dimension but the
/// innermost. A tensor with a dimension of size 0 (an empty batch of keys or
/// queries) has no valid map (the driver wants sizes >= 1 and non-zero
/// strides): `empty` is set and the geometry is that of a stand-in, every
/// size 1 and every stride 16 bytes, to be encoded over any 16-byte aligned
/// device buffer. Kernels never read such a map's data (they have no rows
/// to visit), but a map they are passed must be valid.
struct TensorMapGeometry {
  bool empty = false;
  uint64_t globalDim[5] = {};
  uint64_t globalStrides[4] = {};
  unsigned boxDim[5] = {};
  unsigned elementStrides[5] = {};

  /// `rank` in 1..5.
  TensorMapGeometry(int64_t rank, const int64_t *sizes,
                    const int64_t *strides, size_t elementSize,
                    const int64_t *boxDims) {
    for (int64_t i = 0; i < rank; ++i)
      empty |= sizes[i] == 0;
    for (int64_t i = 0; i < rank; ++i) {
      globalDim[i] = empty ? 1 : static_cast<uint64_t>(sizes[rank - 1 - i]);
      boxDim[i] = static_cast<unsigned>(boxDims[rank - 1 - i]);
      elementStrides[i] = 1;
    }
    for (int64_t i = 0; i + 1 < rank; ++i)
      globalStrides[i] =
          empty ? 16
                : static_cast<uint64_t>(strides[rank - 2 - i]) * elementSize;
  }
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_HOSTCACHES_H
