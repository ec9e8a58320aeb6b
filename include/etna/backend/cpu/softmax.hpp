// CPU kernels of softmax and log_softmax over contiguous [outer, n, inner] data: three SIMD
// passes (max, sum of exp(x - max), write), rows along the last dim or column tiles otherwise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/reduce_policies.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {

namespace detail {

inline constexpr std::int64_t kSoftmaxGrain = 1 << 14;  // elements per thread, at least
inline constexpr std::int64_t kSoftmaxTile = 1024;      // columns of the strided kernel

// One row of n contiguous elements; `in` may equal `out`. A NaN makes the whole row NaN and
// a row of -inf gives NaN, as in PyTorch.
template <class T>
void softmax_row(const T* in, T* out, std::int64_t n, bool log) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  using Max = MaxReduce<T>;
  std::int64_t j = 0;
  // Four independent running maxima: one would serialise on the compare-select latency.
  B m0(Max::identity()), m1 = m0, m2 = m0, m3 = m0;
  for (; j + 4 * W <= n; j += 4 * W) {
    m0 = Max::batch_step(m0, B::load_unaligned(in + j));
    m1 = Max::batch_step(m1, B::load_unaligned(in + j + W));
    m2 = Max::batch_step(m2, B::load_unaligned(in + j + 2 * W));
    m3 = Max::batch_step(m3, B::load_unaligned(in + j + 3 * W));
  }
  for (; j + W <= n; j += W) m0 = Max::batch_step(m0, B::load_unaligned(in + j));
  T m = horizontal<Max>(Max::batch_step(Max::batch_step(m0, m1), Max::batch_step(m2, m3)));
  for (; j < n; ++j) m = Max::step(m, in[j]);

  const B mv(m);
  B s0(T(0)), s1(T(0));
  j = 0;
  for (; j + 2 * W <= n; j += 2 * W) {
    const B e0 = xsimd::exp(B::load_unaligned(in + j) - mv);
    const B e1 = xsimd::exp(B::load_unaligned(in + j + W) - mv);
    if (!log) {
      e0.store_unaligned(out + j);
      e1.store_unaligned(out + j + W);
    }
    s0 += e0;
    s1 += e1;
  }
  for (; j + W <= n; j += W) {
    const B e = xsimd::exp(B::load_unaligned(in + j) - mv);
    if (!log) e.store_unaligned(out + j);
    s0 += e;
  }
  T s = horizontal<SumReduce<T>>(s0 + s1);
  for (; j < n; ++j) {
    const T e = std::exp(in[j] - m);
    if (!log) out[j] = e;
    s += e;
  }

  j = 0;
  if (log) {
    const B shift(m + std::log(s));
    for (; j + W <= n; j += W) (B::load_unaligned(in + j) - shift).store_unaligned(out + j);
    for (; j < n; ++j) out[j] = in[j] - (m + std::log(s));
  } else {
    const T inv = T(1) / s;
    const B iv(inv);
    for (; j + W <= n; j += W) (B::load_unaligned(out + j) * iv).store_unaligned(out + j);
    for (; j < n; ++j) out[j] *= inv;
  }
}

// Columns [c0, c1) of one [n, inner] slab, softmax down each column. The running max and sum
// rows stay in L1 while the n rows stream past, all SIMD across the contiguous columns.
template <class T>
void softmax_columns(const T* in, T* out, std::int64_t n, std::int64_t inner, std::int64_t c0,
                     std::int64_t c1, T* mx, T* sum, bool log) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  using Max = MaxReduce<T>;
  const std::int64_t w = c1 - c0;
  std::fill_n(mx, w, Max::identity());
  std::fill_n(sum, w, T(0));
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = in + i * inner + c0;
    std::int64_t c = 0;
    for (; c + W <= w; c += W)
      Max::batch_step(B::load_unaligned(mx + c), B::load_unaligned(row + c)).store_unaligned(mx + c);
    for (; c < w; ++c) mx[c] = Max::step(mx[c], row[c]);
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = in + i * inner + c0;
    T* orow = out + i * inner + c0;
    std::int64_t c = 0;
    for (; c + W <= w; c += W) {
      const B e = xsimd::exp(B::load_unaligned(row + c) - B::load_unaligned(mx + c));
      if (!log) e.store_unaligned(orow + c);
      (B::load_unaligned(sum + c) + e).store_unaligned(sum + c);
    }
    for (; c < w; ++c) {
      const T e = std::exp(row[c] - mx[c]);
      if (!log) orow[c] = e;
      sum[c] += e;
    }
  }
  // Reuse the rows: log_softmax subtracts max + log(sum); softmax multiplies by 1 / sum.
  for (std::int64_t c = 0; c < w; ++c) sum[c] = log ? mx[c] + std::log(sum[c]) : T(1) / sum[c];
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = in + i * inner + c0;
    T* orow = out + i * inner + c0;
    std::int64_t c = 0;
    if (log) {
      for (; c + W <= w; c += W)
        (B::load_unaligned(row + c) - B::load_unaligned(sum + c)).store_unaligned(orow + c);
      for (; c < w; ++c) orow[c] = row[c] - sum[c];
    } else {
      for (; c + W <= w; c += W)
        (B::load_unaligned(orow + c) * B::load_unaligned(sum + c)).store_unaligned(orow + c);
      for (; c < w; ++c) orow[c] *= sum[c];
    }
  }
}

}  // namespace detail

// softmax (or log_softmax) of contiguous data viewed as [outer, n, inner], along n.
// `in` may equal `out`: every element is read before it is written.
template <class T>
void softmax(const T* in, T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
             bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kSoftmaxGrain / n);
    parallel_for(0, outer, grain, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) detail::softmax_row(in + r * n, out + r * n, n, log);
    });
    return;
  }
  const std::int64_t tiles = (inner + detail::kSoftmaxTile - 1) / detail::kSoftmaxTile;
  const std::int64_t width = std::min(inner, detail::kSoftmaxTile);
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kSoftmaxGrain / (n * width));
  parallel_for(0, outer * tiles, grain, [&](std::int64_t i0, std::int64_t i1) {
    auto scratch = std::make_unique<T[]>(static_cast<std::size_t>(2 * width));
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t o = i / tiles, c0 = i % tiles * detail::kSoftmaxTile;
      detail::softmax_columns(in + o * n * inner, out + o * n * inner, n, inner, c0,
                              std::min(inner, c0 + detail::kSoftmaxTile), scratch.get(),
                              scratch.get() + width, log);
    }
  });
}

}  // namespace etna::cpu_backend
