// Declarations of the CUDA sparse kernels that device-generic code (sparse/linear.hpp) calls;
// defined in backend/cuda/sparse.hpp, which etna/cuda.hpp includes.
#pragma once

#include <cstdint>

namespace etna::cuda_backend {

// y [n, rows] = x [n, cols] W^T + bias for W in CSR (row_ptr [rows + 1], col_idx / values
// [nnz]); all device pointers, x and y contiguous, bias may be null.
template <class T>
void csr_linear(const std::int64_t* row_ptr, const std::int32_t* col_idx, const T* values,
                std::int64_t rows, std::int64_t cols, const T* x, const T* bias, T* y,
                std::int64_t n);

}  // namespace etna::cuda_backend
