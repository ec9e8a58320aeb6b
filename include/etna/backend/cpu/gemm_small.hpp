// Small-problem paths of etna's CPU GEMM (a few hundred thousand multiply-adds, e.g. the
// 256 -> 10 classifier layer of an MLP). At this size packing both operands and padding to
// 14 x 32 tiles cost as much as the arithmetic, so these paths pack at most the small A
// operand and read the rest in place:
//  - gemm_small_direct: B rows contiguous (csB == 1). A is packed per row tile of exactly
//    m <= MR rows (tiles evened out, so M = 10 runs as one 10-row tile, not 14), B and C are
//    read and written straight from/to the caller's memory.
//  - gemm_small_dot: A rows and B columns both contiguous along k (X * W^T). Each C element is a
//    dot product vectorised along k over a register tile of A rows x B columns, reduced at the
//    end; no packing at all and no lanes wasted on N = 10.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/gemm_kernel.hpp"
#include "etna/backend/cpu/gemm_pack.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace etna::cpu_backend::gemm_detail {

// Problems with at most this many multiply-adds take the small paths when their layout fits.
inline constexpr std::int64_t kSmallMaxMacs = std::int64_t{1} << 20;

// C tile (m x n, m == MR compile-time, n <= NV*W) = alpha * Apanel * B + beta * C.
// `a` is a packed k-major panel with row stride P (a[k*P + i]); `b` points at B(0, j0) with
// row stride ldb and unit column stride, holding at least NV*W readable columns per row.
template <class T, int MR, int NV, int P>
inline void direct_kernel(std::int64_t K, const T* __restrict a, const T* __restrict b,
                          std::int64_t ldb, T alpha, T beta, T* c, std::int64_t rsC,
                          std::int64_t csC, int n) {
  using batch = xsimd::batch<T>;
  constexpr int W = static_cast<int>(batch::size);
  batch acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = batch(T(0));
  }
  for (std::int64_t k = 0; k < K; ++k) {
    batch bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = batch::load_unaligned(b + v * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const batch ai(a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
    }
    a += P;
    b += ldb;
  }
  store_tile<T, MR, NV>(acc, alpha, beta, c, rsC, csC, MR, n);
}

template <class T, int NV, int P, int MR = P>
inline void direct_dispatch(int m, std::int64_t K, const T* a, const T* b, std::int64_t ldb,
                            T alpha, T beta, T* c, std::int64_t rsC, std::int64_t csC, int n) {
  if constexpr (MR >= 1) {
    if (m == MR) {
      direct_kernel<T, MR, NV, P>(K, a, b, ldb, alpha, beta, c, rsC, csC, n);
      return;
    }
    direct_dispatch<T, NV, P, MR - 1>(m, K, a, b, ldb, alpha, beta, c, rsC, csC, n);
  }
}

// C = alpha * A B + beta * C with csB == 1 (M, N, K > 0). With b_panels, B is instead already
// packed as ceil(N / NR) zero-padded K x NR panels (pack_block<NR>; rsB unused).
template <class T>
void gemm_small_direct(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
                       std::int64_t rsA, std::int64_t csA, const T* B, std::int64_t rsB, T beta,
                       T* C, std::int64_t rsC, std::int64_t csC, T* apack, T* bpack,
                       bool b_panels = false) {
  using Cfg = GemmConfig<T>;
  constexpr int MR = Cfg::MR, NV = Cfg::NV, NR = Cfg::NR;
  // Even row tiles: M = 64 runs as 13+13+13+13+12 rows, M = 10 as one tile of 10.
  const std::int64_t tiles = (M + MR - 1) / MR;
  const std::int64_t base = M / tiles, extra = M % tiles;
  // Pack all of A once (M x K, the small operand), tile by tile, each with row stride MR.
  {
    std::int64_t i0 = 0;
    for (std::int64_t t = 0; t < tiles; ++t) {
      const int m = static_cast<int>(base + (t < extra ? 1 : 0));
      pack_panel<MR>(m, K, A + i0 * rsA, rsA, csA, apack + t * MR * K);
      i0 += m;
    }
  }
  // Tail columns: a zero-padded K x NR copy keeps the kernel's loads in bounds.
  const std::int64_t n_full = b_panels ? N : N / NR * NR;
  if (n_full < N) pack_panel<NR>(static_cast<int>(N - n_full), K, B + n_full, 1, rsB, bpack);
  // Row tiles outer: each tile's rows of C are written in one sweep.
  std::int64_t i0 = 0;
  for (std::int64_t t = 0; t < tiles; ++t) {
    const int m = static_cast<int>(base + (t < extra ? 1 : 0));
    for (std::int64_t j0 = 0; j0 < N; j0 += NR) {
      const bool tail = j0 == n_full;
      const T* b = b_panels ? B + j0 * K : tail ? bpack : B + j0;
      direct_dispatch<T, NV, MR>(m, K, apack + t * MR * K, b, b_panels || tail ? NR : rsB,
                                 alpha, beta, C + i0 * rsC + j0 * csC, rsC, csC,
                                 static_cast<int>(std::min<std::int64_t>(NR, N - j0)));
    }
    i0 += m;
  }
}

// Dot-product tile: C(i, j) for MI rows of A (a + i*lda, contiguous in k) and NJ columns of B
// (b + j*ldb, contiguous in k).
template <class T, int MI, int NJ>
inline void dot_kernel(std::int64_t K, const T* __restrict a, std::int64_t lda,
                       const T* __restrict b, std::int64_t ldb, T alpha, T beta, T* c,
                       std::int64_t rsC, std::int64_t csC) {
  using batch = xsimd::batch<T>;
  constexpr int W = static_cast<int>(batch::size);
  batch acc[MI][NJ];
#pragma GCC unroll 32
  for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 32
    for (int j = 0; j < NJ; ++j) acc[i][j] = batch(T(0));
  }
  const std::int64_t kv = K - K % W;
  for (std::int64_t k = 0; k < kv; k += W) {
    batch av[MI];
#pragma GCC unroll 32
    for (int i = 0; i < MI; ++i) av[i] = batch::load_unaligned(a + i * lda + k);
#pragma GCC unroll 32
    for (int j = 0; j < NJ; ++j) {
      const batch bj = batch::load_unaligned(b + j * ldb + k);
#pragma GCC unroll 32
      for (int i = 0; i < MI; ++i) acc[i][j] = xsimd::fma(av[i], bj, acc[i][j]);
    }
  }
  alignas(64) T sums[(MI * NJ + W - 1) / W * W];
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && W == 16) {
    // 16 accumulators at a time: a transposing add tree (15 adds, 30 shuffles) leaves row r's
    // total in lane 4 * (r % 4) + r / 4.
    constexpr int NA = MI * NJ;
    for (int g = 0; g < NA; g += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int q = 0; q < 16; ++q) {
        const int idx = g + q;
        r[q] = idx < NA ? static_cast<__m512>(acc[idx / NJ][idx % NJ]) : _mm512_setzero_ps();
      }
      __m512 h[8], s4[4], u[2];
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q)
        h[q] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * q], r[2 * q + 1], 0x44),
                             _mm512_shuffle_f32x4(r[2 * q], r[2 * q + 1], 0xEE));
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q)
        s4[q] = _mm512_add_ps(_mm512_shuffle_f32x4(h[2 * q], h[2 * q + 1], 0x88),
                              _mm512_shuffle_f32x4(h[2 * q], h[2 * q + 1], 0xDD));
#pragma GCC unroll 2
      for (int q = 0; q < 2; ++q)
        u[q] = _mm512_add_ps(_mm512_shuffle_ps(s4[2 * q], s4[2 * q + 1], 0x44),
                             _mm512_shuffle_ps(s4[2 * q], s4[2 * q + 1], 0xEE));
      const __m512 tot = _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], 0x88),
                                       _mm512_shuffle_ps(u[0], u[1], 0xDD));
      // Back to accumulator order (lane q: accumulator g + q) with alpha applied.
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      _mm512_store_ps(sums + g, _mm512_mul_ps(_mm512_permutexvar_ps(order, tot),
                                               _mm512_set1_ps(alpha)));
    }
  } else
#endif
  {
#pragma GCC unroll 32
    for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 32
      for (int j = 0; j < NJ; ++j) sums[i * NJ + j] = alpha * xsimd::hadd(acc[i][j]);
    }
  }
  if (kv < K) {
    for (int i = 0; i < MI; ++i) {
      for (int j = 0; j < NJ; ++j) {
        T t = T(0);
        for (std::int64_t k = kv; k < K; ++k) t += a[i * lda + k] * b[j * ldb + k];
        sums[i * NJ + j] += alpha * t;
      }
    }
  }
  if (beta == T(0)) {
#pragma GCC unroll 32
    for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 32
      for (int j = 0; j < NJ; ++j) c[i * rsC + j * csC] = sums[i * NJ + j];
    }
  } else {
    for (int i = 0; i < MI; ++i) {
      for (int j = 0; j < NJ; ++j) {
        T& d = c[i * rsC + j * csC];
        d = sums[i * NJ + j] + beta * d;
      }
    }
  }
}

// 5 x 5 tiles (25 accumulators, 10 loads per 25 FMAs) where 32 vector registers allow,
// 3 x 3 on 16-register targets (AVX2).
template <class T>
inline constexpr int kDotMI = GemmConfig<T>::kMany ? 5 : 3;
template <class T>
inline constexpr int kDotNJ = GemmConfig<T>::kMany ? 5 : 3;

template <class T, int MI = kDotMI<T>, int NJ = kDotNJ<T>>
inline void dot_dispatch(int mi, int nj, std::int64_t K, const T* a, std::int64_t lda, const T* b,
                         std::int64_t ldb, T alpha, T beta, T* c, std::int64_t rsC,
                         std::int64_t csC) {
  if constexpr (MI >= 1 && NJ >= 1) {
    if (mi == MI) {
      if (nj == NJ) {
        dot_kernel<T, MI, NJ>(K, a, lda, b, ldb, alpha, beta, c, rsC, csC);
      } else {
        dot_dispatch<T, MI, NJ - 1>(mi, nj, K, a, lda, b, ldb, alpha, beta, c, rsC, csC);
      }
    } else if constexpr (NJ == kDotNJ<T>) {
      dot_dispatch<T, MI - 1, NJ>(mi, nj, K, a, lda, b, ldb, alpha, beta, c, rsC, csC);
    }
  }
}

// C = alpha * A B + beta * C with csA == 1 and rsB == 1 (M, N, K > 0).
template <class T>
void gemm_small_dot(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
                    std::int64_t rsA, const T* B, std::int64_t csB, T beta, T* C,
                    std::int64_t rsC, std::int64_t csC) {
  constexpr int MI = kDotMI<T>, NJ = kDotNJ<T>;
  const std::int64_t ti = (M + MI - 1) / MI, tj = (N + NJ - 1) / NJ;
  const std::int64_t bi = M / ti, ei = M % ti, bj = N / tj, ej = N % tj;
  std::int64_t i0 = 0;
  for (std::int64_t s = 0; s < ti; ++s) {
    const int mi = static_cast<int>(bi + (s < ei ? 1 : 0));
    std::int64_t j0 = 0;
    for (std::int64_t t = 0; t < tj; ++t) {
      const int nj = static_cast<int>(bj + (t < ej ? 1 : 0));
      dot_dispatch<T>(mi, nj, K, A + i0 * rsA, rsA, B + j0 * csB, csB, alpha, beta,
                      C + i0 * rsC + j0 * csC, rsC, csC);
      j0 += nj;
    }
    i0 += mi;
  }
}

}  // namespace etna::cpu_backend::gemm_detail
