// Declarations of the CUDA backend's matrix products (defined in backend/cuda/blas.hpp), so that
// ops/matmul.hpp and nn/functional/linear.hpp can dispatch to them without including CUDA.
#pragma once

#include <cstdint>

namespace etna::cuda_backend {

// For b in [0, batches): C_b(i,j) = alpha * sum_k A_b(i,k) B_b(k,j) + beta * C_b(i,j), where
// A_b(i,k) = A[b*bsA + i*rsA + k*csA] and likewise for B and C (strides in elements, device
// pointers). A batch stride of 0 uses the same matrix for every b (broadcasting). The contract
// is cpu_backend::gemm's: beta == 0 means C is not read, M, N or K may be 0. float and double go
// to cuBLAS (TF32 only when etna::cuda::set_allow_tf32(true)); other element types (integers)
// run a plain kernel, one thread per output element.
template <class T>
void gemm_batched(std::int64_t batches, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                  const T* A, std::int64_t rsA, std::int64_t csA, std::int64_t bsA, const T* B,
                  std::int64_t rsB, std::int64_t csB, std::int64_t bsB, T beta, T* C,
                  std::int64_t rsC, std::int64_t csC, std::int64_t bsC);

// out[j] = sum_i g[i*n + j] for a contiguous [m, n] device matrix g (a bias gradient).
template <class T>
void column_sum(const T* g, std::int64_t m, std::int64_t n, T* out);

}  // namespace etna::cuda_backend
