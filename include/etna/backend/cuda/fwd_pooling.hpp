// Declaration of the CUDA backend's pooling and resampling launcher, called by the
// device-generic nn/functional/pooling.hpp and upsample.hpp and defined in
// backend/cuda/pooling.hpp.
#pragma once

#include <cstdint>

namespace etna::cuda_backend {

// Runs one of backend/pooling_kernels.hpp's or upsample_kernels.hpp's functors, kernel(i) for
// i in [0, n), on the device (its pointers are device memory).
template <class Kernel>
void run_pooling_kernel(std::int64_t n, const Kernel& kernel);

}  // namespace etna::cuda_backend
