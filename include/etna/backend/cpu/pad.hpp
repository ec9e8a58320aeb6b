// CPU kernel behind pad(): every output coordinate reads the input coordinate a per-dimension
// map gives (or the fill value for -1), with the unpadded middle of each row copied as a run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/shape.hpp"

namespace etna::cpu_backend {

// maps[d][j] is the input coordinate read by output coordinate j of dimension d, or -1 for
// `fill`. In the last dimension, outputs [run_lo, run_hi) read inputs run_src, run_src + 1...
// out is contiguous with out_shape (rank >= 1); in is strided.
template <class T>
void pad(const T* in, const Shape& in_strides, const std::vector<std::vector<std::int64_t>>& maps,
         std::int64_t run_lo, std::int64_t run_hi, std::int64_t run_src, const Shape& out_shape,
         T* out, T fill) {
  const std::int64_t total = out_shape.numel();
  if (total == 0) return;
  const int last = out_shape.size() - 1;
  const std::int64_t L = out_shape[last], rows = total / L, sl = in_strides[last];
  const std::vector<std::int64_t>& last_map = maps[last];
  parallel_for(0, rows, std::max<std::int64_t>(1, kParallelGrain / L),
               [&](std::int64_t r0, std::int64_t r1) {
                 Shape coord(last, 0);
                 std::int64_t rest = r0;
                 for (int d = last - 1; d >= 0; --d) {
                   coord[d] = rest % out_shape[d];
                   rest /= out_shape[d];
                 }
                 for (std::int64_t r = r0; r < r1; ++r) {
                   T* o = out + r * L;
                   const T* base = in;
                   bool filled = false;
                   for (int d = 0; d < last; ++d) {
                     const std::int64_t src = maps[d][coord[d]];
                     if (src < 0) {
                       filled = true;
                       break;
                     }
                     base += src * in_strides[d];
                   }
                   if (filled) {
                     std::fill(o, o + L, fill);
                   } else {
                     for (std::int64_t j = 0; j < run_lo; ++j)
                       o[j] = last_map[j] < 0 ? fill : base[last_map[j] * sl];
                     if (sl == 1) {
                       std::copy(base + run_src, base + run_src + (run_hi - run_lo), o + run_lo);
                     } else {
                       for (std::int64_t j = run_lo; j < run_hi; ++j)
                         o[j] = base[(run_src + j - run_lo) * sl];
                     }
                     for (std::int64_t j = run_hi; j < L; ++j)
                       o[j] = last_map[j] < 0 ? fill : base[last_map[j] * sl];
                   }
                   for (int d = last - 1; d >= 0; --d) {
                     if (++coord[d] < out_shape[d]) break;
                     coord[d] = 0;
                   }
                 }
               });
}

}  // namespace etna::cpu_backend
