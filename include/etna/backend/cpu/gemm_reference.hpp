// Naive triple-loop GEMM for any arithmetic T: the test oracle for etna::cpu_backend::gemm and its
// fallback for integer element types, which have no packed kernel.
#pragma once

#include <cstdint>

namespace etna::cpu_backend {

// C(i,j) = alpha * sum_k A(i,k) * B(k,j) + beta * C(i,j) with A(i,k) = A[i*rsA + k*csA],
// B(k,j) = B[k*rsB + j*csB], C(i,j) = C[i*rsC + j*csC]. beta == 0 means C is not read.
template <class T>
void gemm_reference(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
                    std::int64_t rsA, std::int64_t csA, const T* B, std::int64_t rsB,
                    std::int64_t csB, T beta, T* C, std::int64_t rsC, std::int64_t csC) {
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < N; ++j) {
      T sum = T(0);
      for (std::int64_t k = 0; k < K; ++k) sum += A[i * rsA + k * csA] * B[k * rsB + j * csB];
      T& c = C[i * rsC + j * csC];
      c = beta == T(0) ? alpha * sum : alpha * sum + beta * c;
    }
  }
}

}  // namespace etna::cpu_backend
