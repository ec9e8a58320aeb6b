// Launching element-wise work on the device: `for_each_index(n, f)` calls f(i) for i in [0, n),
// as a grid-stride CUDA kernel on etna's stream, or through Thrust's CPP device system in the
// emulated build. f is a ETNA_HD functor or lambda (nvcc needs --extended-lambda for lambdas).
#pragma once

#include <algorithm>
#include <cstdint>

#include "etna/backend/cuda/runtime.hpp"
#include "etna/core/macros.hpp"

#if !ETNA_CUDA_REAL
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#endif

namespace etna::cuda_backend {

inline constexpr int kBlock = 256;

#if ETNA_CUDA_REAL
template <class F>
__global__ void for_each_kernel(std::int64_t n, F f) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    f(i);
}

// Enough blocks to fill the device several times over; the grid-stride loop covers the rest.
inline int grid_size(std::int64_t n) {
  static const int max_blocks = [] {
    int device = 0, sms = 0;
    ETNA_CUDA_CHECK(cudaGetDevice(&device));
    ETNA_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms * 16;
  }();
  return static_cast<int>(std::min<std::int64_t>((n + kBlock - 1) / kBlock, max_blocks));
}
#endif

template <class F>
void for_each_index(std::int64_t n, const F& f) {
  if (n <= 0) return;
#if ETNA_CUDA_REAL
  for_each_kernel<<<grid_size(n), kBlock, 0, stream()>>>(n, f);
  check_launch("for_each_kernel");
#else
  thrust::for_each_n(thrust::cpp::par, thrust::counting_iterator<std::int64_t>(0), n, f);
#endif
}

}  // namespace etna::cuda_backend
