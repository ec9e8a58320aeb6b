// Column sums of a tall [m, n] matrix on the device (bias gradients, layer-norm affine
// gradients): out[j] = sum_i src(i, j). One thread per column summing all m rows serially is
// latency-bound (a [65536, 64] bias gradient took ~4 ms), so tall inputs are cut into fixed
// blocks of kColumnBlockRows rows: one thread per (block, column), adjacent threads on adjacent
// columns (coalesced), each writing one partial; the partials are reduced the same way until at
// most kColumnSerialRows remain, which one thread per column adds in block order. The blocks
// depend only on m, never on the device or on timing, so every run gives the same bits.
#pragma once

#include <cstdint>

#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {

inline constexpr std::int64_t kColumnSerialRows = 256;  // up to this many rows: one pass
inline constexpr std::int64_t kColumnBlockRows = 64;    // rows per partial sum

namespace column_detail {

// src(i, j) of a contiguous [m, n] matrix.
template <class T>
struct Dense {
  const T* p;
  std::int64_t n;
  ETNA_HD T operator()(std::int64_t i, std::int64_t j) const { return p[i * n + j]; }
};

// part[b][j] = sum of src(i, j) over the rows i of block b (the last block may be short).
template <class Acc, class Src>
struct BlockSums {
  Src src;
  Acc* part;
  std::int64_t m, n;
  ETNA_HD void operator()(std::int64_t e) const {
    const std::int64_t b = e / n, j = e % n;
    const std::int64_t end = (b + 1) * kColumnBlockRows < m ? (b + 1) * kColumnBlockRows : m;
    Acc s = Acc(0);
    for (std::int64_t i = b * kColumnBlockRows; i < end; ++i) s += static_cast<Acc>(src(i, j));
    part[e] = s;
  }
};

// out[j] = sum of src(i, j) over all m rows, in row order.
template <class Acc, class Out, class Src>
struct SerialSums {
  Src src;
  Out* out;
  std::int64_t m;
  ETNA_HD void operator()(std::int64_t j) const {
    Acc s = Acc(0);
    for (std::int64_t i = 0; i < m; ++i) s += static_cast<Acc>(src(i, j));
    out[j] = static_cast<Out>(s);
  }
};

template <class Acc, class Out>
void finish(const Acc* part, std::int64_t m, std::int64_t n, Out* out) {
  if (m > kColumnSerialRows) {
    const std::int64_t blocks = (m + kColumnBlockRows - 1) / kColumnBlockRows;
    const auto next = allocate<Acc>(blocks * n);
    for_each_index(blocks * n, BlockSums<Acc, Dense<Acc>>{{part, n}, next.get(), m, n});
    finish<Acc, Out>(next.get(), blocks, n, out);  // the buffer lives until the queued work ran
    return;
  }
  for_each_index(n, SerialSums<Acc, Out, Dense<Acc>>{{part, n}, out, m});
}

}  // namespace column_detail

// out[j] = sum over i in [0, m) of src(i, j), accumulated in Acc; src is a trivially copyable
// ETNA_HD functor (i, j) -> value. Up to kColumnSerialRows rows the sum runs in row order (as
// the CPU's loops); taller inputs are summed block-wise as described above.
template <class Acc, class Out, class Src>
void column_reduce(const Src& src, std::int64_t m, std::int64_t n, Out* out) {
  if (n <= 0) return;
  if (m <= kColumnSerialRows) {
    for_each_index(n, column_detail::SerialSums<Acc, Out, Src>{src, out, m});
    return;
  }
  const std::int64_t blocks = (m + kColumnBlockRows - 1) / kColumnBlockRows;
  const auto part = allocate<Acc>(blocks * n);
  for_each_index(blocks * n, column_detail::BlockSums<Acc, Src>{src, part.get(), m, n});
  column_detail::finish<Acc, Out>(part.get(), blocks, n, out);
}

}  // namespace etna::cuda_backend
