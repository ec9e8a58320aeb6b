// Declarations of the CUDA backend's random fills that device-generic factories (core/factory.hpp)
// call; defined in backend/cuda/random.hpp, which <etna/cuda.hpp> includes.
#pragma once

#include <cstdint>

#include "etna/core/random.hpp"

namespace etna::cuda_backend {

// out[i] = value_at(stream, i) for i in [0, n), on the device: the same Philox values as the
// CPU's fill, since each element depends only on the stream and i.
template <class T, class F>
void random_fill(T* out, std::int64_t n, RandomStream stream, const F& value_at);

}  // namespace etna::cuda_backend
