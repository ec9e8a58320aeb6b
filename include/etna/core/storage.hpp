// Reference-counted, 64-byte-aligned element storage for the CPU. Tensors share it by handle;
// from_blob storage wraps user memory without owning it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "etna/core/error.hpp"

namespace etna::detail {

inline constexpr std::size_t kStorageAlignment = 64;

struct AlignedFree {
  void operator()(void* p) const noexcept { std::free(p); }
};

// Allocates n elements of T (uninitialised), aligned to 64 bytes for SIMD loads.
template <class T>
std::shared_ptr<T> allocate_storage(std::int64_t n) {
  if (n < 0) throw value_error(str("allocate: negative element count ", n));
  std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
  bytes = (bytes + kStorageAlignment - 1) / kStorageAlignment * kStorageAlignment;
  if (bytes == 0) bytes = kStorageAlignment;
  void* p = std::aligned_alloc(kStorageAlignment, bytes);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<T>(static_cast<T*>(p), AlignedFree{});
}

}  // namespace etna::detail
