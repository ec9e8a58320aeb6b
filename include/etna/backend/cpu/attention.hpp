// CPU kernels of scaled dot-product attention's score block: scale + masks + softmax in one
// pass per row (in place, while the row is in L1), and the matching backward row
// dS = scale * P * (dP - sum(dP * P)) with the dropout mask folded in.
#pragma once

#include <cstdint>
#include <limits>
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/softmax.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {

// The masks of one score block, each optional (null). Row r of the block (r over
// batch * lq) reads the float mask at fmask + fm_off[r / lq] + (r % lq) * fm_si + j * fm_sj,
// the bool mask likewise; broadcast dimensions have stride 0.
template <class T>
struct AttentionMasks {
  const T* fmask = nullptr;
  const std::int64_t* fm_off = nullptr;
  std::int64_t fm_si = 0, fm_sj = 0;
  const bool* bmask = nullptr;  // true = may attend
  const std::int64_t* bm_off = nullptr;
  std::int64_t bm_si = 0, bm_sj = 0;
  bool causal = false;  // key j > query i is masked (top-left aligned)
};

// s: contiguous [batch, lq, lk] raw scores q k^T, rewritten in place as softmax weights.
// A row whose keys are all masked becomes NaN (PyTorch's result for an all -inf row).
template <class T>
void attention_softmax_forward(T* s, std::int64_t batch, std::int64_t lq, std::int64_t lk, T scale,
                               const AttentionMasks<T>& m) {
  const std::int64_t rows = batch * lq;
  if (rows * lk == 0) return;
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / lk);
  parallel_for(0, rows, grain, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      T* row = s + r * lk;
      const std::int64_t b = r / lq, i = r % lq;
      for (std::int64_t j = 0; j < lk; ++j) row[j] *= scale;
      if (m.fmask) {
        const T* f = m.fmask + m.fm_off[b] + i * m.fm_si;
        if (m.fm_sj == 1)
          for (std::int64_t j = 0; j < lk; ++j) row[j] += f[j];
        else
          for (std::int64_t j = 0; j < lk; ++j) row[j] += f[j * m.fm_sj];
      }
      if (m.bmask) {
        const bool* bm = m.bmask + m.bm_off[b] + i * m.bm_si;
        for (std::int64_t j = 0; j < lk; ++j)
          if (!bm[j * m.bm_sj]) row[j] = ninf;
      }
      if (m.causal)
        for (std::int64_t j = i + 1; j < lk; ++j) row[j] = ninf;
      detail::softmax_row(row, row, lk, false);
    }
  });
}

// dp: contiguous [rows, lk] gradient of the (dropped-out) weights, rewritten in place as the
// gradient of the raw scores: dP *= keep (dropout mask, optional), then
// dS = scale * P * (dP - sum_j dP P).
template <class T>
void attention_softmax_backward(const T* p, const T* keep, T* dp, std::int64_t rows,
                                std::int64_t lk, T scale) {
  if (rows * lk == 0) return;
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / lk);
  parallel_for(0, rows, grain, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* pr = p + r * lk;
      T* g = dp + r * lk;
      if (keep) {
        const T* kr = keep + r * lk;
        for (std::int64_t j = 0; j < lk; ++j) g[j] *= kr[j];
      }
      B acc(T(0));
      std::int64_t j = 0;
      for (; j + W <= lk; j += W) acc += B::load_unaligned(g + j) * B::load_unaligned(pr + j);
      T sum = xsimd::hadd(acc);
      for (; j < lk; ++j) sum += g[j] * pr[j];
      const B sb(sum), sc(scale);
      j = 0;
      for (; j + W <= lk; j += W)
        (sc * B::load_unaligned(pr + j) * (B::load_unaligned(g + j) - sb)).store_unaligned(g + j);
      for (; j < lk; ++j) g[j] = scale * pr[j] * (g[j] - sum);
    }
  });
}

}  // namespace etna::cpu_backend
