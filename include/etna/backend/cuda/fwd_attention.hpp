// Declarations of the CUDA attention kernels that device-generic code
// (nn/functional/attention.hpp) calls; defined in backend/cuda/attention.hpp.
#pragma once

#include <cstdint>

namespace etna::cuda_backend {

// Scores s: contiguous device [batch, lq, lk]; sets s[b, i, j] = value wherever j > i (the
// causal mask, top-left aligned), without building a mask tensor on the host.
template <class T>
void causal_fill(T* s, std::int64_t batch, std::int64_t lq, std::int64_t lk, T value);

}  // namespace etna::cuda_backend
