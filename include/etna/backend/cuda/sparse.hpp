// CUDA kernel of the CSR linear layer (declared in fwd_sparse.hpp), written here rather than
// taken from cuSPARSE, which etna does not link: one thread per output element.
#pragma once

#include <cstdint>

#include "etna/backend/cuda/fwd_sparse.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {
namespace sparse_kernels {

// Thread i computes y[s, o] with s = i / rows, o = i % rows: neighbouring threads take
// neighbouring rows of the same sample, so they read the same x row (cached) and write y
// coalesced; each walks its row's nonzeros.
template <class T>
struct CsrLinear {
  const std::int64_t* row_ptr;
  const std::int32_t* col_idx;
  const T* values;
  std::int64_t rows, cols;
  const T* x;
  const T* bias;
  T* y;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t s = i / rows, o = i - s * rows;
    const T* xs = x + s * cols;
    T acc = bias ? bias[o] : T(0);
    for (std::int64_t k = row_ptr[o]; k < row_ptr[o + 1]; ++k) acc += values[k] * xs[col_idx[k]];
    y[i] = acc;
  }
};

}  // namespace sparse_kernels

template <class T>
void csr_linear(const std::int64_t* row_ptr, const std::int32_t* col_idx, const T* values,
                std::int64_t rows, std::int64_t cols, const T* x, const T* bias, T* y,
                std::int64_t n) {
  for_each_index(n * rows,
                 sparse_kernels::CsrLinear<T>{row_ptr, col_idx, values, rows, cols, x, bias, y});
}

}  // namespace etna::cuda_backend
