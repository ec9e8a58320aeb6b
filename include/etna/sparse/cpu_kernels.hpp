// CPU kernels of y = x W^T + b with W in CSR: a row-wise sparse dot for a few samples, and for
// larger batches an axpy per nonzero over the transposed input, vectorised along the batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::sparse::cpu_kernels {

// The arrays of one CSR weight [out, in] on the host.
template <class T>
struct CsrView {
  std::int64_t rows, cols;
  const std::int64_t* row_ptr;
  const std::int32_t* col_idx;
  const T* values;
};

// Batches up to this size use the row-wise kernel. bench/sparse_bench.cpp's kernel_b* cases
// (784x256 weight at 90%, medians of 3 runs): one sample 5.6 us row-wise vs 9.2 us transposed;
// two samples 10.7 vs 9.5 us; four 21.1 vs 10.0 us.
inline constexpr std::int64_t kRowKernelMaxBatch = 1;
// Output rows per thread, at least: below this a split costs more than it saves.
inline constexpr std::int64_t kRowGrain = 16;

// W[o] . x for one CSR row (nonzeros [k0, k1)) and one dense vector x. With AVX-512: hardware
// gathers of 16 floats / 8 doubles per step, two independent sums (twice the speed of scalar
// loads on Zen 4; xsimd 8's batch::gather is not used: it compiled to a much slower sequence).
// Otherwise and for the tail: scalar loads, four independent sums to hide the add latency (a
// masked gather for the tail was slower on Zen 4: 7.3 vs 5.9 us for a 784x256 row set at 90%).
template <class T>
inline T sparse_dot(const std::int32_t* c, const T* v, std::int64_t k0, std::int64_t k1,
                    const T* x) {
  std::int64_t k = k0;
  T acc = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    for (; k + 32 <= k1; k += 32) {
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + k),
                           _mm512_i32gather_ps(_mm512_loadu_si512(c + k), x, 4), s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + k + 16),
                           _mm512_i32gather_ps(_mm512_loadu_si512(c + k + 16), x, 4), s1);
    }
    for (; k + 16 <= k1; k += 16)
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + k),
                           _mm512_i32gather_ps(_mm512_loadu_si512(c + k), x, 4), s0);
    acc = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  } else {
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    const auto idx = [&](std::int64_t at) {
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + at));
    };
    for (; k + 16 <= k1; k += 16) {
      s0 = _mm512_fmadd_pd(_mm512_loadu_pd(v + k), _mm512_i32gather_pd(idx(k), x, 8), s0);
      s1 = _mm512_fmadd_pd(_mm512_loadu_pd(v + k + 8), _mm512_i32gather_pd(idx(k + 8), x, 8), s1);
    }
    for (; k + 8 <= k1; k += 8)
      s0 = _mm512_fmadd_pd(_mm512_loadu_pd(v + k), _mm512_i32gather_pd(idx(k), x, 8), s0);
    acc = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
  }
#endif
  T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (; k + 4 <= k1; k += 4) {
    a0 += v[k] * x[c[k]];
    a1 += v[k + 1] * x[c[k + 1]];
    a2 += v[k + 2] * x[c[k + 2]];
    a3 += v[k + 3] * x[c[k + 3]];
  }
  for (; k < k1; ++k) a0 += v[k] * x[c[k]];
  return acc + ((a0 + a1) + (a2 + a3));
}

// Samples [0, n) of x [n, in] (row pitch in), output rows [o0, o1): y[s, o] = b[o] + W[o] . x[s].
template <class T>
void rowwise(const CsrView<T>& w, const T* x, const T* bias, T* y, std::int64_t n, std::int64_t o0,
             std::int64_t o1) {
  for (std::int64_t o = o0; o < o1; ++o) {
    const std::int64_t k0 = w.row_ptr[o], k1 = w.row_ptr[o + 1];
    for (std::int64_t s = 0; s < n; ++s)
      y[s * w.rows + o] =
          (bias ? bias[o] : T(0)) + sparse_dot(w.col_idx, w.values, k0, k1, x + s * w.cols);
  }
}

// xt = x^T padded: xt[i * np + s] = x[s * in + i] for s < n, 0 for n <= s < np. Blocks of 16
// input columns keep the 16 destination rows in cache while the source is read row by row.
template <class T>
void transpose_padded(const T* x, std::int64_t n, std::int64_t in, std::int64_t np, T* xt) {
  constexpr std::int64_t kB = 16;
  for (std::int64_t i0 = 0; i0 < in; i0 += kB) {
    const std::int64_t i1 = std::min(in, i0 + kB);
    for (std::int64_t s = 0; s < n; ++s) {
      const T* xs = x + s * in;
      for (std::int64_t i = i0; i < i1; ++i) xt[i * np + s] = xs[i];
    }
    for (std::int64_t i = i0; i < i1; ++i) std::fill(xt + i * np + n, xt + (i + 1) * np, T(0));
  }
}

// One output row o over batch columns [s0, s0 + V * W) of xt (pitch np): one broadcast and V
// fused multiply-adds per nonzero into accumulators held in registers for the whole row, two
// nonzeros at a time into separate sets (one chain alone would wait on the FMA latency).
// Stored to yt_row[s0 ...] (aligned): row o of y^T.
template <int V, class T>
inline void axpy_tile(const CsrView<T>& w, const T* xt, std::int64_t np, const T* bias, T* yt_row,
                      std::int64_t o, std::int64_t s0) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  B acc[V], acc2[V];
  const B b0(bias ? bias[o] : T(0));
  for (int j = 0; j < V; ++j) {
    acc[j] = b0;
    acc2[j] = B(T(0));
  }
  const std::int64_t k1 = w.row_ptr[o + 1];
  const T* base = xt + s0;
  std::int64_t k = w.row_ptr[o];
  for (; k + 2 <= k1; k += 2) {
    const B v0(w.values[k]), v1(w.values[k + 1]);
    const T* r0 = base + static_cast<std::int64_t>(w.col_idx[k]) * np;
    const T* r1 = base + static_cast<std::int64_t>(w.col_idx[k + 1]) * np;
    for (int j = 0; j < V; ++j) {
      acc[j] = xsimd::fma(v0, B::load_aligned(r0 + j * W), acc[j]);
      acc2[j] = xsimd::fma(v1, B::load_aligned(r1 + j * W), acc2[j]);
    }
  }
  if (k < k1) {
    const B v0(w.values[k]);
    const T* r0 = base + static_cast<std::int64_t>(w.col_idx[k]) * np;
    for (int j = 0; j < V; ++j) acc[j] = xsimd::fma(v0, B::load_aligned(r0 + j * W), acc[j]);
  }
  for (int j = 0; j < V; ++j) (acc[j] + acc2[j]).store_aligned(yt_row + s0 + j * W);
}

// Aligned scratch reused across calls of one thread (a forward must not allocate per layer per
// call on the latency path). Slot 0: the transposed input; slot 1: a block of y^T rows.
template <class T, int Slot>
T* scratch(std::int64_t count) {
  using A = xsimd::aligned_allocator<T, 64>;
  thread_local std::vector<T, A> buffer;
  if (static_cast<std::int64_t>(buffer.size()) < count)
    buffer.resize(static_cast<std::size_t>(count));
  return buffer.data();
}
template <class T>
T* transpose_scratch(std::int64_t count) {
  return scratch<T, 0>(count);
}

// Output rows [o0, o1) of the batched product from the padded transpose xt [in, np]. Rows go
// in blocks of kBlockRows through a y^T block, written back to y [n, rows] one sample (a
// contiguous run of the block's outputs) at a time: storing y's column o directly would touch n
// cache lines 4 * rows bytes apart per row, which alias in L1 and cost more than the products.
template <class T>
void transposed_axpy(const CsrView<T>& w, const T* xt, std::int64_t np, const T* bias, T* y,
                     std::int64_t n, std::int64_t o0, std::int64_t o1) {
  constexpr std::int64_t W = xsimd::batch<T>::size;
  constexpr std::int64_t kBlockRows = 16;
  T* yt = scratch<T, 1>(kBlockRows * np);
  for (std::int64_t ob = o0; ob < o1; ob += kBlockRows) {
    const std::int64_t oe = std::min(o1, ob + kBlockRows);
    for (std::int64_t o = ob; o < oe; ++o) {
      T* row = yt + (o - ob) * np;
      std::int64_t s = 0;
      for (; s + 4 * W <= np; s += 4 * W) axpy_tile<4>(w, xt, np, bias, row, o, s);
      if (s + 2 * W <= np) {
        axpy_tile<2>(w, xt, np, bias, row, o, s);
        s += 2 * W;
      }
      if (s < np) axpy_tile<1>(w, xt, np, bias, row, o, s);
    }
    for (std::int64_t s = 0; s < n; ++s)
      for (std::int64_t o = ob; o < oe; ++o) y[s * w.rows + o] = yt[(o - ob) * np + s];
  }
}

// y [n, rows] = x [n, cols] W^T + bias (bias may be null). x and y contiguous, not aliased.
// Threads (etna::set_num_threads) split the output rows.
template <class T>
void csr_linear(const CsrView<T>& w, const T* x, const T* bias, T* y, std::int64_t n) {
  if (n == 0 || w.rows == 0) return;
  constexpr std::int64_t W = xsimd::batch<T>::size;
  if (n <= kRowKernelMaxBatch) {
    cpu_backend::parallel_for(0, w.rows, kRowGrain, [&](std::int64_t o0, std::int64_t o1) {
      rowwise(w, x, bias, y, n, o0, o1);
    });
    return;
  }
  const std::int64_t np = (n + W - 1) / W * W;
  T* xt = transpose_scratch<T>(std::max<std::int64_t>(w.cols * np, 1));
  transpose_padded(x, n, w.cols, np, xt);
  cpu_backend::parallel_for(0, w.rows, kRowGrain, [&](std::int64_t o0, std::int64_t o1) {
    transposed_axpy(w, xt, np, bias, y, n, o0, o1);
  });
}

}  // namespace etna::sparse::cpu_kernels
