// Device memory: a stream-ordered caching allocator, host<->device copies through pinned
// staging buffers, and the memory statistics of etna::cuda.
//
// Allocation uses CUDA's stream-ordered allocator (cudaMallocAsync on etna's stream) with the
// device pool's release threshold raised to "never": freed blocks stay in the pool and are
// handed out again without a cudaMalloc, so a training loop allocates from the driver only in
// its first step. The same calls are legal inside graph capture (they become memory nodes).
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "etna/backend/cuda/fwd.hpp"
#include "etna/backend/cuda/runtime.hpp"

namespace etna::cuda_backend {

inline std::atomic<std::size_t>& allocated_bytes() {
  static std::atomic<std::size_t> bytes{0};
  return bytes;
}

#if ETNA_CUDA_REAL
inline cudaMemPool_t memory_pool() {
  static const cudaMemPool_t pool = [] {
    require_device();
    int device = 0;
    ETNA_CUDA_CHECK(cudaGetDevice(&device));
    cudaMemPool_t p;
    ETNA_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&p, device));
    std::uint64_t keep_everything = ~std::uint64_t{0};
    ETNA_CUDA_CHECK(cudaMemPoolSetAttribute(p, cudaMemPoolAttrReleaseThreshold, &keep_everything));
    return p;
  }();
  return pool;
}
#endif

// Returns a block to the pool (stream-ordered: work already queued that reads it finishes first).
struct DeviceFree {
  std::size_t bytes;
  void operator()(void* p) const noexcept {
    allocated_bytes() -= bytes;
#if ETNA_CUDA_REAL
    // Errors are ignored: at program exit the runtime may already be gone.
    if (cudaFreeAsync(p, stream()) != cudaSuccess) (void)cudaGetLastError();
#else
    std::free(p);
#endif
  }
};

inline void* device_malloc(std::size_t bytes) {
#if ETNA_CUDA_REAL
  (void)memory_pool();
  void* p = nullptr;
  cudaError_t status = cudaMallocAsync(&p, bytes, stream());
  if (status == cudaErrorMemoryAllocation) {  // give cached blocks back and try once more
    (void)cudaGetLastError();
    if (!capturing()) {
      ETNA_CUDA_CHECK(cudaStreamSynchronize(stream()));
      ETNA_CUDA_CHECK(cudaMemPoolTrimTo(memory_pool(), 0));
      status = cudaMallocAsync(&p, bytes, stream());
    }
  }
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    throw device_error(etna::detail::str(
        "cuda: out of memory allocating ", bytes >> 20, " MiB (", allocated_bytes().load() >> 20,
        " MiB held by tensors, ", free_bytes >> 20, " of ", total_bytes >> 20,
        " MiB free on the device); free tensors, reduce the batch size or call "
        "etna::cuda::empty_cache()"));
  }
  check(status, "cudaMallocAsync");
  return p;
#else
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!p) throw device_error(etna::detail::str("cuda (emulated): out of memory allocating ", bytes, " bytes"));
  return p;
#endif
}

template <class T>
std::shared_ptr<T> allocate(std::int64_t n) {
  if (n < 0) throw value_error(etna::detail::str("allocate: negative element count ", n));
  const std::size_t bytes = std::max<std::size_t>(static_cast<std::size_t>(n) * sizeof(T), 256);
  void* p = device_malloc(bytes);
  allocated_bytes() += bytes;
  return std::shared_ptr<T>(static_cast<T*>(p), DeviceFree{bytes});
}

#if ETNA_CUDA_REAL
// A pinned host buffer for staging copies: pageable memory would make the driver copy through
// its own small staging buffer, at a fraction of the PCIe/NVLink bandwidth.
class PinnedStaging {
 public:
  static PinnedStaging& instance() {
    static PinnedStaging* s = new PinnedStaging;  // never destroyed: used by late destructors
    return *s;
  }
  std::mutex mutex;
  void* buffer(std::size_t bytes) {
    if (bytes > capacity_) {
      if (buffer_) ETNA_CUDA_CHECK(cudaFreeHost(buffer_));
      buffer_ = nullptr;
      capacity_ = 0;
      ETNA_CUDA_CHECK(cudaMallocHost(&buffer_, bytes));
      capacity_ = bytes;
    }
    return buffer_;
  }
  static constexpr std::size_t kChunk = std::size_t{32} << 20;

 private:
  void* buffer_ = nullptr;
  std::size_t capacity_ = 0;
};
#endif

inline void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  require_not_capturing("copying to the device");  // also in emulation: see capturing()
#if ETNA_CUDA_REAL
  auto& staging = PinnedStaging::instance();
  std::lock_guard<std::mutex> lock(staging.mutex);
  char* pinned = static_cast<char*>(staging.buffer(std::min(bytes, PinnedStaging::kChunk)));
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t n = std::min(PinnedStaging::kChunk, bytes - done);
    std::memcpy(pinned, static_cast<const char*>(src) + done, n);
    ETNA_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + done, pinned, n,
                                    cudaMemcpyHostToDevice, stream()));
    ETNA_CUDA_CHECK(cudaStreamSynchronize(stream()));  // the buffer is reused by the next chunk
    done += n;
  }
#else
  std::memcpy(dst, src, bytes);
#endif
}

inline void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  require_not_capturing("copying to the host");  // also in emulation: see capturing()
#if ETNA_CUDA_REAL
  auto& staging = PinnedStaging::instance();
  std::lock_guard<std::mutex> lock(staging.mutex);
  char* pinned = static_cast<char*>(staging.buffer(std::min(bytes, PinnedStaging::kChunk)));
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t n = std::min(PinnedStaging::kChunk, bytes - done);
    ETNA_CUDA_CHECK(cudaMemcpyAsync(pinned, static_cast<const char*>(src) + done, n,
                                    cudaMemcpyDeviceToHost, stream()));
    ETNA_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::memcpy(static_cast<char*>(dst) + done, pinned, n);
    done += n;
  }
#else
  std::memcpy(dst, src, bytes);
#endif
}

inline void copy_on_device(void* dst, const void* src, std::size_t bytes) {
#if ETNA_CUDA_REAL
  ETNA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
#else
  std::memmove(dst, src, bytes);
#endif
}

}  // namespace etna::cuda_backend

namespace etna {

inline std::size_t cuda::memory_allocated() { return cuda_backend::allocated_bytes(); }
inline std::size_t cuda::memory_reserved() {
#if ETNA_CUDA_REAL
  std::uint64_t reserved = 0;
  ETNA_CUDA_CHECK(cudaMemPoolGetAttribute(cuda_backend::memory_pool(),
                                          cudaMemPoolAttrReservedMemCurrent, &reserved));
  return static_cast<std::size_t>(reserved);
#else
  return cuda_backend::allocated_bytes();
#endif
}
inline void cuda::empty_cache() {
#if ETNA_CUDA_REAL
  cuda_backend::synchronize();
  ETNA_CUDA_CHECK(cudaMemPoolTrimTo(cuda_backend::memory_pool(), 0));
#endif
}

}  // namespace etna
