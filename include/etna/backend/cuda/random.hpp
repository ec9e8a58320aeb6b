// The CUDA backend's random fills: one thread per element computes the element's Philox value,
// exactly as the CPU's parallel fill does (core/random.hpp's draw functors are host-device).
#pragma once

#include <cstdint>

#include "etna/backend/cuda/fwd_random.hpp"
#include "etna/backend/cuda/launch.hpp"

namespace etna::cuda_backend {

template <class T, class F>
struct RandomFillKernel {
  T* out;
  RandomStream stream;
  F value_at;
  ETNA_HD void operator()(std::int64_t i) const {
    out[i] = value_at(stream, static_cast<std::uint64_t>(i));
  }
};

template <class T, class F>
void random_fill(T* out, std::int64_t n, RandomStream stream, const F& value_at) {
  if (n <= 0) return;
  require_device();
  for_each_index(n, RandomFillKernel<T, F>{out, stream, value_at});
}

}  // namespace etna::cuda_backend
