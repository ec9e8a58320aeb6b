// Matrix products on the device: row-major strided (batched) GEMM through cuBLAS for float and
// double, a plain kernel for integers, and the column sum of a bias gradient.
//
// cuBLAS is column-major. A row-major C[M, N] is the column-major C^T[N, M], so C = A B is
// computed as C^T = B^T A^T with the operands' roles swapped; a transposed operand (unit row
// stride) becomes a transpose flag, not a copy. Only a matrix with no unit stride at all (say an
// expanded or every-other-column view) is copied to a contiguous buffer first. The handle is
// created once, bound to etna's stream and given its own workspace, so every call is
// stream-ordered and capturable into a CUDA graph. The emulated build runs the same layout logic
// and hands the resulting column-major call to cpu_backend::gemm on the host pointers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "etna/backend/cpu/gemm.hpp"
#include "etna/backend/cuda/column_reduce.hpp"
#include "etna/backend/cuda/fwd_blas.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/backend/cuda/runtime.hpp"
#include "etna/core/error.hpp"
#include "etna/core/macros.hpp"

#if ETNA_CUDA_REAL
#include <cublas_v2.h>
#endif

namespace etna::cuda_backend {

#if ETNA_CUDA_REAL
// Throws device_error naming the cuBLAS call and cuBLAS's status (name and description).
inline void check_cublas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw device_error(etna::detail::str("cuBLAS: ", call, " failed: ", cublasGetStatusName(status),
                                       " (", cublasGetStatusString(status), ")"));
}

// Hopper's recommended size; with a workspace of its own cuBLAS never allocates inside a call,
// which graph capture requires.
inline constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

// Created on first use and kept for the life of the program (destroying it at exit would race
// the CUDA runtime's own teardown). Creation allocates, which a capturing thread may not do in
// CUDA's default capture mode, so it runs in relaxed mode should the first matmul be captured.
inline cublasHandle_t cublas_handle() {
  static const cublasHandle_t handle = [] {
    require_device();
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    ETNA_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    cublasHandle_t h = nullptr;
    check_cublas(cublasCreate(&h), "cublasCreate");
    // cublasSetStream resets the workspace, so the stream is set first.
    check_cublas(cublasSetStream(h, stream()), "cublasSetStream");
    void* workspace = nullptr;
    ETNA_CUDA_CHECK(cudaMalloc(&workspace, kCublasWorkspaceBytes));
    check_cublas(cublasSetWorkspace(h, workspace, kCublasWorkspaceBytes), "cublasSetWorkspace");
    // TF32 is chosen per call through the compute type (below), so the handle holds no state
    // that changes between calls and may be shared by threads.
    check_cublas(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    ETNA_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    return h;
  }();
  return handle;
}
#endif

namespace blas_detail {

// How a strided r x c matrix can be handed to BLAS: row-major (element (i,j) at i*ld + j) or
// column-major (at i + j*ld), with a legal leading dimension; ok == false means neither (no unit
// stride, or overlapping rows such as a stride-0 broadcast) and the matrix must be copied. The
// stride of a dimension of size 1 never matters, so such a dimension fits either layout.
struct Layout {
  bool ok;
  bool row_major;
  std::int64_t ld;
};

inline Layout classify(std::int64_t r, std::int64_t c, std::int64_t rs, std::int64_t cs) {
  const std::int64_t row_ld = r <= 1 ? std::max<std::int64_t>(1, c) : rs;
  if ((cs == 1 || c <= 1) && row_ld >= std::max<std::int64_t>(1, c)) return {true, true, row_ld};
  const std::int64_t col_ld = c <= 1 ? std::max<std::int64_t>(1, r) : cs;
  if ((rs == 1 || r <= 1) && col_ld >= std::max<std::int64_t>(1, r)) return {true, false, col_ld};
  return {false, true, 0};
}

// Between a strided batch of r x c matrices and a contiguous [batches, r, c] buffer, either way.
template <class T>
struct StridedCopy {
  T* dst;
  const T* src;
  std::int64_t r, c, rs, cs, bs;
  bool to_contiguous;
  ETNA_HD void operator()(std::int64_t t) const {
    const std::int64_t per = r * c, b = t / per, rem = t - b * per, i = rem / c, j = rem - i * c;
    const std::int64_t s = b * bs + i * rs + j * cs;
    if (to_contiguous) dst[t] = src[s];
    else dst[s] = src[t];
  }
};

// C = beta * C (the K == 0 product); beta == 0 writes zeros without reading C.
template <class T>
struct ScaleMatrices {
  T* C;
  std::int64_t M, N, rsC, csC, bsC;
  T beta;
  ETNA_HD void operator()(std::int64_t t) const {
    const std::int64_t per = M * N, b = t / per, rem = t - b * per, i = rem / N, j = rem - i * N;
    T& c = C[b * bsC + i * rsC + j * csC];
    c = beta == T(0) ? T(0) : beta * c;
  }
};

// One thread per output element, summing in T in the order of cpu_backend::gemm_reference
// (so integer results, overflow included, equal the CPU's).
template <class T>
struct NaiveGemm {
  const T* A;
  const T* B;
  T* C;
  std::int64_t M, N, K, rsA, csA, bsA, rsB, csB, bsB, rsC, csC, bsC;
  T alpha, beta;
  ETNA_HD void operator()(std::int64_t t) const {
    const std::int64_t per = M * N, b = t / per, rem = t - b * per, i = rem / N, j = rem - i * N;
    const T* a = A + b * bsA + i * rsA;
    const T* bb = B + b * bsB + j * csB;
    T sum = T(0);
    for (std::int64_t k = 0; k < K; ++k) sum += a[k * csA] * bb[k * rsB];
    T& c = C[b * bsC + i * rsC + j * csC];
    c = beta == T(0) ? alpha * sum : alpha * sum + beta * c;
  }
};

// A contiguous copy of a strided batch (one matrix when the batch stride is 0).
template <class T>
std::shared_ptr<T> contiguous_copy(const T* src, std::int64_t batches, std::int64_t r,
                                   std::int64_t c, std::int64_t rs, std::int64_t cs,
                                   std::int64_t bs) {
  auto buffer = allocate<T>(batches * r * c);
  for_each_index(batches * r * c, StridedCopy<T>{buffer.get(), src, r, c, rs, cs, bs, true});
  return buffer;
}

// cuBLAS's strided-batched GEMM in its own column-major terms: C = alpha op(A) op(B) + beta C,
// op(X) = X^T where the flag is set, matrix b of each operand at ptr + b * stride.
template <class T>
void column_major_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       T alpha, const T* A, std::int64_t lda, std::int64_t stride_a, const T* B,
                       std::int64_t ldb, std::int64_t stride_b, T beta, T* C, std::int64_t ldc,
                       std::int64_t stride_c, std::int64_t batches) {
#if ETNA_CUDA_REAL
  constexpr bool is_float = std::is_same_v<T, float>;
  const cudaDataType_t type = is_float ? CUDA_R_32F : CUDA_R_64F;
  const cublasComputeType_t compute = !is_float              ? CUBLAS_COMPUTE_64F
                                      : allow_tf32_flag()    ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                             : CUBLAS_COMPUTE_32F;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
#if CUBLAS_VER_MAJOR >= 12
  const cublasStatus_t status = cublasGemmStridedBatchedEx_64(
      cublas_handle(), op_a, op_b, m, n, k, &alpha, A, type, lda, stride_a, B, type, ldb,
      stride_b, &beta, C, type, ldc, stride_c, batches, compute, CUBLAS_GEMM_DEFAULT);
  constexpr const char* call = "cublasGemmStridedBatchedEx_64";
#else
  constexpr std::int64_t int_max = 2147483647;
  if (std::max({m, n, k, lda, ldb, ldc, batches}) > int_max)
    throw device_error(etna::detail::str("matmul: sizes above 2^31 need cuBLAS 12 or newer (m ", m,
                                         ", n ", n, ", k ", k, ", batches ", batches, ")"));
  const cublasStatus_t status = cublasGemmStridedBatchedEx(
      cublas_handle(), op_a, op_b, int(m), int(n), int(k), &alpha, A, type, int(lda), stride_a, B,
      type, int(ldb), stride_b, &beta, C, type, int(ldc), stride_c, int(batches), compute,
      CUBLAS_GEMM_DEFAULT);
  constexpr const char* call = "cublasGemmStridedBatchedEx";
#endif
  if (status != CUBLAS_STATUS_SUCCESS)
    check_cublas(status, etna::detail::str(call, " (", trans_a ? 'T' : 'N', trans_b ? 'T' : 'N',
                                           ", m ", m, ", n ", n, ", k ", k, ", lda ", lda,
                                           ", ldb ", ldb, ", ldc ", ldc, ", batches ", batches,
                                           ")")
                             .c_str());
#else
  for (std::int64_t b = 0; b < batches; ++b)
    cpu_backend::gemm<T>(m, n, k, alpha, A + b * stride_a, trans_a ? lda : 1, trans_a ? 1 : lda,
                         B + b * stride_b, trans_b ? ldb : 1, trans_b ? 1 : ldb, beta,
                         C + b * stride_c, 1, ldc);
#endif
}

}  // namespace blas_detail

template <class T>
void gemm_batched(std::int64_t batches, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                  const T* A, std::int64_t rsA, std::int64_t csA, std::int64_t bsA, const T* B,
                  std::int64_t rsB, std::int64_t csB, std::int64_t bsB, T beta, T* C,
                  std::int64_t rsC, std::int64_t csC, std::int64_t bsC) {
  using namespace blas_detail;
  if (batches <= 0 || M <= 0 || N <= 0) return;
  require_device();
  if (K <= 0) {
    for_each_index(batches * M * N, ScaleMatrices<T>{C, M, N, rsC, csC, bsC, beta});
    return;
  }
  if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, double>) {
    for_each_index(batches * M * N, NaiveGemm<T>{A, B, C, M, N, K, rsA, csA, bsA, rsB, csB, bsB,
                                                 rsC, csC, bsC, alpha, beta});
  } else {
    Layout la = classify(M, K, rsA, csA), lb = classify(K, N, rsB, csB);
    Layout lc = classify(M, N, rsC, csC);
    std::shared_ptr<T> a_copy, b_copy, c_copy;  // freed stream-ordered, after the GEMM
    if (!la.ok) {
      a_copy = contiguous_copy(A, bsA == 0 ? 1 : batches, M, K, rsA, csA, bsA);
      A = a_copy.get();
      bsA = bsA == 0 ? 0 : M * K;
      la = {true, true, K};
    }
    if (!lb.ok) {
      b_copy = contiguous_copy(B, bsB == 0 ? 1 : batches, K, N, rsB, csB, bsB);
      B = b_copy.get();
      bsB = bsB == 0 ? 0 : K * N;
      lb = {true, true, N};
    }
    T* out = C;
    std::int64_t bs_out = bsC;
    if (!lc.ok) {  // compute into a contiguous buffer, then scatter into C's layout
      c_copy = beta == T(0) ? allocate<T>(batches * M * N)
                            : contiguous_copy<T>(C, batches, M, N, rsC, csC, bsC);
      out = c_copy.get();
      bs_out = M * N;
      lc = {true, true, N};
    }
    if (lc.row_major)  // C^T = B^T A^T: cuBLAS sees the row-major buffers as their transposes
      column_major_gemm<T>(!lb.row_major, !la.row_major, N, M, K, alpha, B, lb.ld, bsB, A, la.ld,
                           bsA, beta, out, lc.ld, bs_out, batches);
    else
      column_major_gemm<T>(la.row_major, lb.row_major, M, N, K, alpha, A, la.ld, bsA, B, lb.ld,
                           bsB, beta, out, lc.ld, bs_out, batches);
    if (c_copy)
      for_each_index(batches * M * N, StridedCopy<T>{C, out, M, N, rsC, csC, bsC, false});
  }
}

template <class T>
void column_sum(const T* g, std::int64_t m, std::int64_t n, T* out) {
  column_reduce<T, T>(column_detail::Dense<T>{g, n}, m, n, out);
}

}  // namespace etna::cuda_backend
