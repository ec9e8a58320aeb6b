// CUDA kernels of scaled dot-product attention (declared in fwd_attention.hpp): the causal mask
// written into the score block in place, one thread per element.
#pragma once

#include <cstdint>

#include "etna/backend/cuda/fwd_attention.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {
namespace attention_kernels {

template <class T>
struct CausalFill {
  T* s;
  std::int64_t lq, lk;
  T value;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t j = i % lk, row = (i / lk) % lq;
    if (j > row) s[i] = value;
  }
};

}  // namespace attention_kernels

template <class T>
void causal_fill(T* s, std::int64_t batch, std::int64_t lq, std::int64_t lk, T value) {
  for_each_index(batch * lq * lk, attention_kernels::CausalFill<T>{s, lq, lk, value});
}

}  // namespace etna::cuda_backend
