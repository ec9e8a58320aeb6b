// The CUDA backend's pooling and resampling: the functors of backend/pooling_kernels.hpp and
// upsample_kernels.hpp, one thread per output element (forward) or input element (backward, a
// gather: deterministic, no atomics).
#pragma once

#include <cstdint>

#include "etna/backend/cuda/fwd_pooling.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/pooling_kernels.hpp"
#include "etna/backend/upsample_kernels.hpp"

namespace etna::cuda_backend {

template <class Kernel>
void run_pooling_kernel(std::int64_t n, const Kernel& kernel) {
  for_each_index(n, kernel);
}

}  // namespace etna::cuda_backend
