// CUDA kernels of softmax and log_softmax (and their backward) over contiguous [outer, n, inner]
// data. Along the last dim (inner == 1) on the GPU: one block per row, warp shuffles and a
// shared-memory step for the row's max and sum (one thread per row for rows of up to 32);
// otherwise one thread per column, coalesced across the contiguous inner dimension, or a
// 32 x 32 block per 32 columns when there are few long ones. The emulated build runs the
// per-column functor.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "etna/backend/cpu/reduce_policies.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/expr/math.hpp"

namespace etna::cuda_backend {
namespace detail {

// A thread's long running sum of floats is kept in double: its rounding error would otherwise
// grow with n (the CPU sums in SIMD lanes, which is far shorter per accumulator).
template <class T>
using softmax_acc_t = std::conditional_t<std::is_same_v<T, float>, double, T>;

// One column (o, c) of the [outer, n, inner] data per call: max, sum of exp(x - max), write.
// A NaN makes the column NaN and a column of -inf gives NaN, as on the CPU.
template <class T>
struct SoftmaxColumn {
  const T* in;
  T* out;
  std::int64_t n, inner;
  bool log;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t base = i / inner * n * inner + i % inner;
    using Max = cpu_backend::MaxReduce<T>;
    T m = Max::identity();
    for (std::int64_t j = 0; j < n; ++j) m = Max::step(m, in[base + j * inner]);
    softmax_acc_t<T> s = 0;
    for (std::int64_t j = 0; j < n; ++j) s += math::exp(in[base + j * inner] - m);
    const T sum = static_cast<T>(s);
    if (log) {
      const T shift = m + math::log(sum);
      for (std::int64_t j = 0; j < n; ++j) out[base + j * inner] = in[base + j * inner] - shift;
    } else {
      const T inv = T(1) / sum;
      for (std::int64_t j = 0; j < n; ++j)
        out[base + j * inner] = math::exp(in[base + j * inner] - m) * inv;
    }
  }
};

template <class T>
struct SoftmaxBackwardColumn {
  const T *y, *g;
  T* out;
  std::int64_t n, inner;
  bool log;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t base = i / inner * n * inner + i % inner;
    softmax_acc_t<T> acc = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t at = base + j * inner;
      acc += log ? g[at] : g[at] * y[at];
    }
    const T s = static_cast<T>(acc);
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t at = base + j * inner;
      out[at] = log ? g[at] - math::exp(y[at]) * s : y[at] * (g[at] - s);
    }
  }
};

#if ETNA_CUDA_REAL
template <class T>
struct MaxOp {
  __device__ T operator()(T a, T b) const { return cpu_backend::MaxReduce<T>::combine(a, b); }
};
template <class T>
struct SumOp {
  __device__ T operator()(T a, T b) const { return a + b; }
};

// The block-wide reduction of v, returned to every thread (blockDim.x a multiple of 32).
template <class T, class Op>
__device__ T block_all_reduce(T v, Op op, T* sh) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // the previous call's readers are done with sh
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  v = sh[0];
  for (int w = 1; w < warps; ++w) v = op(v, sh[w]);
  return v;
}

template <class T>
__global__ void softmax_rows_kernel(const T* in, T* out, std::int64_t rows, std::int64_t n,
                                    bool log) {
  __shared__ T sh[32];
  using Max = cpu_backend::MaxReduce<T>;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* x = in + r * n;
    T* y = out + r * n;
    T m = Max::identity();
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) m = Max::step(m, x[j]);
    m = block_all_reduce(m, MaxOp<T>{}, sh);
    T s = 0;
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) s += math::exp(x[j] - m);
    s = block_all_reduce(s, SumOp<T>{}, sh);
    if (log) {
      const T shift = m + math::log(s);
      for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) y[j] = x[j] - shift;
    } else {
      const T inv = T(1) / s;
      for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) y[j] = math::exp(x[j] - m) * inv;
    }
  }
}

template <class T>
__global__ void softmax_backward_rows_kernel(const T* yv, const T* g, T* out, std::int64_t rows,
                                             std::int64_t n, bool log) {
  __shared__ T sh[32];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *y = yv + r * n, *gr = g + r * n;
    T* o = out + r * n;
    T s = 0;
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) s += log ? gr[j] : gr[j] * y[j];
    s = block_all_reduce(s, SumOp<T>{}, sh);
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x)
      o[j] = log ? gr[j] - math::exp(y[j]) * s : y[j] * (gr[j] - s);
  }
}

// Few long columns (softmax along a leading dim of a narrow tensor): a 32 x 32 block takes 32
// adjacent columns of one slab, reading coalesced; its 32 thread rows split n and meet in
// shared memory. Each element is read and written by one thread, so in may equal out.
template <class T>
__global__ void softmax_columns_kernel(const T* in, T* out, std::int64_t n, std::int64_t inner,
                                       std::int64_t col_blocks, bool log) {
  __shared__ T sh[32][33];
  using Max = cpu_backend::MaxReduce<T>;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t o = blockIdx.x / col_blocks, c = blockIdx.x % col_blocks * 32 + tx;
  const bool active = c < inner;
  const std::int64_t base = o * n * inner + c;
  T m = Max::identity();
  if (active)
    for (std::int64_t j = ty; j < n; j += 32) m = Max::step(m, in[base + j * inner]);
  sh[ty][tx] = m;
  __syncthreads();
  m = sh[0][tx];
  for (int r = 1; r < 32; ++r) m = Max::combine(m, sh[r][tx]);
  __syncthreads();
  T s = 0;
  if (active)
    for (std::int64_t j = ty; j < n; j += 32) s += math::exp(in[base + j * inner] - m);
  sh[ty][tx] = s;
  __syncthreads();
  s = 0;
  for (int r = 0; r < 32; ++r) s += sh[r][tx];
  if (!active) return;
  if (log) {
    const T shift = m + math::log(s);
    for (std::int64_t j = ty; j < n; j += 32) out[base + j * inner] = in[base + j * inner] - shift;
  } else {
    const T inv = T(1) / s;
    for (std::int64_t j = ty; j < n; j += 32)
      out[base + j * inner] = math::exp(in[base + j * inner] - m) * inv;
  }
}

template <class T>
__global__ void softmax_backward_columns_kernel(const T* y, const T* g, T* out, std::int64_t n,
                                                std::int64_t inner, std::int64_t col_blocks,
                                                bool log) {
  __shared__ T sh[32][33];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t o = blockIdx.x / col_blocks, c = blockIdx.x % col_blocks * 32 + tx;
  const bool active = c < inner;
  const std::int64_t base = o * n * inner + c;
  T s = 0;
  if (active)
    for (std::int64_t j = ty; j < n; j += 32) {
      const std::int64_t at = base + j * inner;
      s += log ? g[at] : g[at] * y[at];
    }
  sh[ty][tx] = s;
  __syncthreads();
  s = 0;
  for (int r = 0; r < 32; ++r) s += sh[r][tx];
  if (!active) return;
  for (std::int64_t j = ty; j < n; j += 32) {
    const std::int64_t at = base + j * inner;
    out[at] = log ? g[at] - math::exp(y[at]) * s : y[at] * (g[at] - s);
  }
}

// The column kernel pays off when the columns alone cannot fill the device.
inline bool few_long_columns(std::int64_t outer, std::int64_t n, std::int64_t inner) {
  return inner > 1 && n >= 256 && outer * inner < 32768;
}

// Threads per row: a warp for short rows (many rows fill the device anyway), up to 256.
inline int row_threads(std::int64_t n) { return n <= 128 ? 32 : n <= 1024 ? 128 : 256; }
inline unsigned row_blocks(std::int64_t rows) {
  return static_cast<unsigned>(std::min<std::int64_t>(rows, 1 << 20));
}
#endif

}  // namespace detail

template <class T>
void softmax(const T* in, T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
             bool log) {
  if (outer * n * inner == 0) return;
  require_device();
#if ETNA_CUDA_REAL
  if (detail::few_long_columns(outer, n, inner)) {
    const std::int64_t col_blocks = (inner + 31) / 32;
    detail::softmax_columns_kernel<T><<<static_cast<unsigned>(outer * col_blocks), dim3(32, 32), 0,
                                        stream()>>>(in, out, n, inner, col_blocks, log);
    check_launch("softmax_columns_kernel");
    return;
  }
  if (inner == 1 && n > 32) {  // (rows of up to 32 take one thread each, below)
    detail::softmax_rows_kernel<T><<<detail::row_blocks(outer), detail::row_threads(n), 0, stream()>>>(
        in, out, outer, n, log);
    check_launch("softmax_rows_kernel");
    return;
  }
#endif
  for_each_index(outer * inner, detail::SoftmaxColumn<T>{in, out, n, inner, log});
}

template <class T>
void softmax_backward(const T* y, const T* g, T* out, std::int64_t outer, std::int64_t n,
                      std::int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  require_device();
#if ETNA_CUDA_REAL
  if (detail::few_long_columns(outer, n, inner)) {
    const std::int64_t col_blocks = (inner + 31) / 32;
    detail::softmax_backward_columns_kernel<T>
        <<<static_cast<unsigned>(outer * col_blocks), dim3(32, 32), 0, stream()>>>(
            y, g, out, n, inner, col_blocks, log);
    check_launch("softmax_backward_columns_kernel");
    return;
  }
  if (inner == 1 && n > 32) {
    detail::softmax_backward_rows_kernel<T>
        <<<detail::row_blocks(outer), detail::row_threads(n), 0, stream()>>>(y, g, out, outer, n, log);
    check_launch("softmax_backward_rows_kernel");
    return;
  }
#endif
  for_each_index(outer * inner, detail::SoftmaxBackwardColumn<T>{y, g, out, n, inner, log});
}

}  // namespace etna::cuda_backend
