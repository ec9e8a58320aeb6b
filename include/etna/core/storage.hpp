// Reference-counted, 64-byte-aligned element storage for the CPU. Tensors share it by handle;
// large blocks are cached for reuse; from_blob storage wraps user memory without owning it.
#pragma once

#include <bit>
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

// Small blocks (up to kSmallBlockMax bytes: the tensors of small layers, biases, losses,
// gradients of a tiny MLP) come from per-thread free lists by size class, and each holds its
// shared_ptr control block in a 64-byte trailer, so a small tensor costs one pool pop instead
// of two heap allocations (glibc's aligned_alloc takes its slow memalign path, and a 2-64-64-1
// MLP step allocates ~40 tensors: malloc/free were 12% of the step).
inline constexpr std::size_t kSmallBlockMax = std::size_t{64} << 10;
inline constexpr std::size_t kControlTrailer = 64;

// Size class of a block of `bytes` (a multiple of 64, at most kSmallBlockMax): multiples of 64
// up to 256 bytes, then four classes per power of two (at most 25% rounding waste).
struct SmallClass {
  std::size_t index, bytes;
};
inline SmallClass small_class(std::size_t bytes) {
  if (bytes <= 256) return {bytes / 64 - 1, bytes};
  const int log = static_cast<int>(std::bit_width(bytes - 1)) - 1;  // 2^log < bytes <= 2^(log+1)
  const std::size_t step = std::size_t{1} << (log - 2);
  const std::size_t q = (bytes + step - 1) / step;  // 5..8 quarters of 2^log
  return {4 + static_cast<std::size_t>(log - 8) * 4 + (q - 5), q * step};
}
inline constexpr std::size_t kSmallClasses = 4 + (16 - 8) * 4;  // 64 B .. 64 KiB

// Per-thread free lists of small blocks (each block: data, then the control-block trailer).
// A block freed on another thread joins that thread's lists; every block comes from
// std::aligned_alloc, so any list may hand it to std::free. Bounded per class and in total;
// a list that is full frees the block.
class SmallPool {
 public:
  static constexpr std::size_t kMaxPerClass = 64;
  static constexpr std::size_t kMaxBytes = std::size_t{4} << 20;

  // The calling thread's pool, or null once its thread-local storage is being destroyed.
  static SmallPool* local();

  void* take(std::size_t index) {
    Class& c = classes_[index];
    if (c.count == 0) return nullptr;
    void* p = c.blocks[--c.count];
    bytes_ -= class_bytes(index);
    return p;
  }
  bool give(void* p, std::size_t index) {
    Class& c = classes_[index];
    const std::size_t b = class_bytes(index);
    if (c.count == kMaxPerClass || bytes_ + b > kMaxBytes) return false;
    c.blocks[c.count++] = p;
    bytes_ += b;
    return true;
  }
  void clear() {
    for (Class& c : classes_) {
      while (c.count) std::free(c.blocks[--c.count]);
    }
    bytes_ = 0;
  }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Class {
    void* blocks[kMaxPerClass];
    std::size_t count = 0;
  };
  static std::size_t class_bytes(std::size_t index) {
    return index < 4 ? (index + 1) * 64
                     : (std::size_t{1} << ((index - 4) / 4 + 8)) / 4 * ((index - 4) % 4 + 5);
  }
  Class classes_[kSmallClasses];
  std::size_t bytes_ = 0;
};

struct SmallPoolHolder {
  bool* dead;
  SmallPool pool;
  ~SmallPoolHolder() {
    pool.clear();
    *dead = true;  // blocks released later in this thread's exit go to the heap
  }
};
inline SmallPool* SmallPool::local() {
  thread_local bool dead = false;  // trivially destructible: still readable during thread exit
  if (dead) return nullptr;
  thread_local SmallPoolHolder holder{&dead, SmallPool{}};
  return &holder.pool;
}

// Hands a small block back to the calling thread's pool, or to the heap.
inline void release_small_block(void* block, std::size_t index) noexcept {
  SmallPool* pool = SmallPool::local();
  if (!pool || !pool->give(block, index)) std::free(block);
}

// The shared_ptr control block of a small block lives in the block's trailer: this allocator
// returns the trailer for it, and returning the control block returns the whole block (the
// deleter does nothing, so the data stays valid as long as the control block does).
template <class U>
struct TrailerAllocator {
  using value_type = U;
  void* block;        // start of the block (the data)
  void* trailer;      // where the control block goes
  std::size_t index;  // size class of the block
  TrailerAllocator(void* b, void* t, std::size_t i) noexcept : block(b), trailer(t), index(i) {}
  template <class V>
  TrailerAllocator(const TrailerAllocator<V>& o) noexcept  // NOLINT: rebinding
      : block(o.block), trailer(o.trailer), index(o.index) {}
  U* allocate(std::size_t n) {
    static_assert(sizeof(U) <= kControlTrailer && alignof(U) <= kControlTrailer,
                  "etna: the shared_ptr control block does not fit a small block's trailer");
    if (n != 1) throw std::bad_alloc();
    return static_cast<U*>(trailer);
  }
  void deallocate(U*, std::size_t) noexcept { release_small_block(block, index); }
  template <class V>
  bool operator==(const TrailerAllocator<V>& o) const noexcept {
    return block == o.block;
  }
};
struct NoopDelete {
  void operator()(void*) const noexcept {}
};

// Allocates n elements of T (uninitialised), aligned to 64 bytes for SIMD loads.
template <class T>
std::shared_ptr<T> allocate_storage(std::int64_t n) {
  if (n < 0) throw value_error(str("allocate: negative element count ", n));
  std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
  bytes = (bytes + kStorageAlignment - 1) / kStorageAlignment * kStorageAlignment;
  if (bytes == 0) bytes = kStorageAlignment;
  if (bytes + kControlTrailer <= kSmallBlockMax) {
    const SmallClass cls = small_class(bytes + kControlTrailer);
    SmallPool* pool = SmallPool::local();
    void* p = pool ? pool->take(cls.index) : nullptr;
    if (!p) {
      p = std::aligned_alloc(kStorageAlignment, cls.bytes);
      if (!p) throw std::bad_alloc();
    }
    void* trailer = static_cast<char*>(p) + cls.bytes - kControlTrailer;
    return std::shared_ptr<T>(static_cast<T*>(p), NoopDelete{},
                              TrailerAllocator<T>(p, trailer, cls.index));
  }
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

// Frees the large blocks etna keeps for reuse (as torch.cuda.empty_cache does on the GPU) and
// the calling thread's free small blocks (each thread's pool is bounded to 4 MiB and freed when
// the thread ends).
inline void empty_cache() {
  detail::BlockCache::instance().clear();
  if (detail::SmallPool* pool = detail::SmallPool::local()) pool->clear();
}
// Bytes of large blocks currently held for reuse (not counting the per-thread small-block
// pools), and the most that may be held (default 2 GiB).
inline std::size_t cached_bytes() { return detail::BlockCache::instance().cached_bytes(); }
inline void set_cache_limit(std::size_t bytes) { detail::BlockCache::instance().set_limit(bytes); }

}  // namespace etna
