// Reference-counted, 64-byte-aligned element storage for the CPU. Tensors share it by handle;
// large blocks are cached for reuse; from_blob storage wraps user memory without owning it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "etna/core/error.hpp"

namespace etna {
namespace detail {

inline constexpr std::size_t kStorageAlignment = 64;
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;
inline constexpr std::size_t kHugePageThreshold = std::size_t{4} << 20;
// Blocks of at least this size are kept for reuse when freed. 128 KiB is glibc's default mmap
// threshold: above it glibc maps fresh pages or trims the heap on free, so an MLP step at batch
// 256 (256 KiB activations, 800 KiB weight gradients) refaulted ~130 pages a step with a 1 MiB
// threshold: 3% of the step on a quiet machine, 22% (2.1 -> 1.64 ms) while other processes ran.
inline constexpr std::size_t kCachedBlockThreshold = std::size_t{128} << 10;

// Freed large blocks, by exact size. A training loop allocates the same sizes every step;
// handing a freed block back avoids the kernel zeroing fresh pages (about 60% of the time of a
// 16M-element forward+backward without it). Bounded; empty_cache() returns everything.
class BlockCache {
 public:
  static BlockCache& instance() {
    static BlockCache* cache = new BlockCache;  // never destroyed: tensors may outlive statics
    return *cache;
  }
  void* take(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= bytes;
    return p;
  }
  // Keeps the block if the cache has room; otherwise the caller frees it.
  bool give(void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + bytes > limit_) return false;
    free_[bytes].push_back(p);
    cached_bytes_ += bytes;
    return true;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_bytes_ = 0;
  }
  void set_limit(std::size_t bytes) {
    bool over;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
      over = cached_bytes_ > limit_;
    }
    if (over) clear();
  }
  std::size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
  std::size_t limit_ = std::size_t{2} << 30;
};

struct AlignedFree {
  std::size_t bytes = 0;  // nonzero for cacheable blocks
  void operator()(void* p) const noexcept {
    if (bytes >= kCachedBlockThreshold && BlockCache::instance().give(p, bytes)) return;
    std::free(p);
  }
};

// Allocates n elements of T (uninitialised), aligned to 64 bytes for SIMD loads.
template <class T>
std::shared_ptr<T> allocate_storage(std::int64_t n) {
  if (n < 0) throw value_error(str("allocate: negative element count ", n));
  std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
  bytes = (bytes + kStorageAlignment - 1) / kStorageAlignment * kStorageAlignment;
  if (bytes == 0) bytes = kStorageAlignment;
  // Large buffers are aligned to 2 MiB and offered transparent huge pages: a fresh 64 MB
  // tensor then costs 32 page faults instead of 16K (3.7x faster `Tensor y = expr`).
  const std::size_t alignment = bytes >= kHugePageThreshold ? kHugePageSize : kStorageAlignment;
  bytes = (bytes + alignment - 1) / alignment * alignment;
  void* p = bytes >= kCachedBlockThreshold ? BlockCache::instance().take(bytes) : nullptr;
  if (!p) {
    p = std::aligned_alloc(alignment, bytes);
    if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == kHugePageSize) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  }
  return std::shared_ptr<T>(static_cast<T*>(p), AlignedFree{bytes});
}

}  // namespace detail

// Frees the large blocks etna keeps for reuse (as torch.cuda.empty_cache does on the GPU).
inline void empty_cache() { detail::BlockCache::instance().clear(); }
// Bytes currently held for reuse, and the most that may be held (default 2 GiB).
inline std::size_t cached_bytes() { return detail::BlockCache::instance().cached_bytes(); }
inline void set_cache_limit(std::size_t bytes) { detail::BlockCache::instance().set_limit(bytes); }

}  // namespace etna
