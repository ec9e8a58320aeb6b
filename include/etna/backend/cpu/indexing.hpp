// CPU kernels behind gather, scatter_add, index_select and index_add: contiguous index data,
// tight loops along the last dimension, split over the pool only where tasks never collide.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/shape.hpp"

namespace etna::cpu_backend {
namespace detail {

// Walks the rows (all dimensions but the last) of a row-major shape, keeping the row's
// coordinates so strided operands can compute their row offsets.
struct RowWalker {
  Shape shape;  // the leading dimensions
  Shape coord;

  RowWalker(const Shape& full, std::int64_t first_row) : shape(full) {
    shape.erase(full.size() - 1);
    coord = Shape(shape.size(), 0);
    for (int d = shape.size() - 1; d >= 0; --d) {
      coord[d] = first_row % shape[d];
      first_row /= shape[d];
    }
  }
  // Offset of the row in a tensor with `strides`, leaving out dimension `skip` (or none: -1).
  std::int64_t offset(const Shape& strides, int skip = -1) const {
    std::int64_t off = 0;
    for (int d = 0; d < shape.size(); ++d)
      if (d != skip) off += coord[d] * strides[d];
    return off;
  }
  void next() {
    for (int d = shape.size() - 1; d >= 0; --d) {
      if (++coord[d] < shape[d]) return;
      coord[d] = 0;
    }
  }
};

inline std::int64_t leading_product(const Shape& s, int end) {
  std::int64_t n = 1;
  for (int d = 0; d < end; ++d) n *= s[d];
  return n;
}

}  // namespace detail

// out[i...] = in[i... with coordinate `dim` replaced by idx[i...]]. idx and out are contiguous
// with shape idx_shape (rank >= 1); in is strided. Indices must already be validated.
template <class T>
void gather(const T* in, const Shape& in_strides, int dim, const std::int64_t* idx,
            const Shape& idx_shape, T* out) {
  const std::int64_t total = idx_shape.numel();
  if (total == 0) return;
  const int last = idx_shape.size() - 1;
  const std::int64_t L = idx_shape[last], rows = total / L;
  const std::int64_t sd = in_strides[dim], sl = in_strides[last];
  parallel_for(0, rows, std::max<std::int64_t>(1, kParallelGrain / L),
               [&](std::int64_t r0, std::int64_t r1) {
                 detail::RowWalker w(idx_shape, r0);
                 for (std::int64_t r = r0; r < r1; ++r, w.next()) {
                   const T* base = in + w.offset(in_strides, dim);
                   const std::int64_t* ir = idx + r * L;
                   T* o = out + r * L;
                   if (dim == last) {
                     for (std::int64_t j = 0; j < L; ++j) o[j] = base[ir[j] * sd];
                   } else {
                     for (std::int64_t j = 0; j < L; ++j) o[j] = base[ir[j] * sd + j * sl];
                   }
                 }
               });
}

// out[i... with coordinate `dim` replaced by idx[i...]] += src[i...]. out is contiguous of
// out_shape, idx contiguous of idx_shape, src strided. Tasks own disjoint outputs: whole
// blocks of the dimensions before `dim`, or (when there are none) column ranges of the last
// dimension, which scattering along an earlier dimension never changes.
template <class T>
void scatter_add(T* out, const Shape& out_shape, int dim, const std::int64_t* idx,
                 const Shape& idx_shape, const T* src, const Shape& src_strides) {
  const std::int64_t total = idx_shape.numel();
  if (total == 0) return;
  const int last = idx_shape.size() - 1;
  const Shape out_strides = contiguous_strides(out_shape);
  const std::int64_t L = idx_shape[last], rows = total / L;
  const std::int64_t od = out_strides[dim], sl = src_strides[last];
  auto run = [&](std::int64_t r0, std::int64_t r1, std::int64_t j0, std::int64_t j1) {
    detail::RowWalker w(idx_shape, r0);
    for (std::int64_t r = r0; r < r1; ++r, w.next()) {
      T* o = out + w.offset(out_strides, dim);
      const T* s = src + w.offset(src_strides);
      const std::int64_t* ir = idx + r * L;
      if (dim == last) {
        for (std::int64_t j = j0; j < j1; ++j) o[ir[j]] = static_cast<T>(o[ir[j]] + s[j * sl]);
      } else {
        for (std::int64_t j = j0; j < j1; ++j) {
          T& dst = o[ir[j] * od + j];
          dst = static_cast<T>(dst + s[j * sl]);
        }
      }
    }
  };
  const std::int64_t outer = detail::leading_product(idx_shape, dim);
  const std::int64_t rows_per_outer = rows / outer;
  if (outer > 1 || dim == last) {
    const std::int64_t grain = std::max<std::int64_t>(1, kParallelGrain / (rows_per_outer * L));
    parallel_for(0, outer, grain, [&](std::int64_t o0, std::int64_t o1) {
      run(o0 * rows_per_outer, o1 * rows_per_outer, 0, L);
    });
  } else {
    parallel_for(0, L, std::max<std::int64_t>(16, kParallelGrain / rows),
                 [&](std::int64_t j0, std::int64_t j1) { run(0, rows, j0, j1); });
  }
}

// index_select on a contiguous input viewed as [outer, n, inner]: out is [outer, K, inner].
template <class T>
void index_select(const T* in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  const std::int64_t* idx, std::int64_t K, T* out) {
  const std::int64_t blocks = outer * K;
  if (blocks == 0 || inner == 0) return;
  parallel_for(0, blocks, std::max<std::int64_t>(1, kParallelGrain / inner),
               [&](std::int64_t b0, std::int64_t b1) {
                 for (std::int64_t b = b0; b < b1; ++b) {
                   const std::int64_t o = b / K, k = b % K;
                   const T* s = in + (o * n + idx[k]) * inner;
                   T* d = out + b * inner;
                   if (inner == 1)
                     *d = *s;
                   else
                     std::memcpy(d, s, static_cast<std::size_t>(inner) * sizeof(T));
                 }
               });
}

// index_add on a contiguous output viewed as [outer, n, inner] from a contiguous src
// [outer, K, inner]: tasks split the outer blocks, or the inner columns when there are too
// few blocks; either way duplicate indices of one task accumulate in order.
template <class T>
void index_add(T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
               const std::int64_t* idx, std::int64_t K, const T* src, T alpha) {
  if (outer == 0 || K == 0 || inner == 0) return;
  auto run = [&](std::int64_t o0, std::int64_t o1, std::int64_t j0, std::int64_t j1) {
    for (std::int64_t o = o0; o < o1; ++o)
      for (std::int64_t k = 0; k < K; ++k) {
        T* d = out + (o * n + idx[k]) * inner;
        const T* s = src + (o * K + k) * inner;
        if (alpha == T(1)) {
          for (std::int64_t j = j0; j < j1; ++j) d[j] = static_cast<T>(d[j] + s[j]);
        } else {
          for (std::int64_t j = j0; j < j1; ++j) d[j] = static_cast<T>(d[j] + alpha * s[j]);
        }
      }
  };
  const std::int64_t work = outer * K * inner;
  if (outer >= get_num_threads() || inner < 64) {
    parallel_for(0, outer, std::max<std::int64_t>(1, kParallelGrain / (work / outer)),
                 [&](std::int64_t o0, std::int64_t o1) { run(o0, o1, 0, inner); });
  } else {
    parallel_for(0, inner, std::max<std::int64_t>(64, kParallelGrain / (outer * K)),
                 [&](std::int64_t j0, std::int64_t j1) { run(0, outer, j0, j1); });
  }
}

}  // namespace etna::cpu_backend
