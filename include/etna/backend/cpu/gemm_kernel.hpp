// Register-blocked xsimd micro-kernel of etna's CPU GEMM and the blocking constants around it.
// Tile and cache-block sizes derive from xsimd::batch<T>::size and the target's register count.
#pragma once

#include <cstdint>
#include <xsimd/xsimd.hpp>

namespace etna::cpu_backend::gemm_detail {

// Shapes of one GEMM level for element type T (float or double) on the compiled-for target.
template <class T>
struct GemmConfig {
  using batch = xsimd::batch<T>;
  static constexpr int W = static_cast<int>(batch::size);
  // x86 AVX-512 has 32 vector registers; SSE/AVX2 have 16. The MR x NV accumulators, NV
  // loaded B vectors and one broadcast A value must all stay in registers.
  static constexpr bool kMany = sizeof(T) * W >= 64;
  static constexpr int NV = 2;
  static constexpr int MR = kMany ? 14 : 6;
  static constexpr int NR = NV * W;
  // KC: the MR x KC A micro-panel sits in L1 while the KC x NR B micro-panel streams from L2;
  // a long KC amortises the C tile update (512 floats beat 256 by ~10% at 2048^3 on Zen 5).
  // MC: the packed MC x KC A block stays in L2 (1 MiB per core on Zen 4/5).
  // NC: the packed KC x NC B panel (2 MiB) lives in L3 and is shared by all ic blocks.
  static constexpr int KC = static_cast<int>(2048 / sizeof(T));
  static constexpr int MC = MR * (kMany ? 24 : 48);
  static constexpr int NC = static_cast<int>(4096 / sizeof(T));
};

// C(i,j) = alpha * acc(i,j) + beta * C(i,j) for the valid m x n corner of an MR x NV-vector
// accumulator tile (beta == 0: C is not read). Full tiles with unit column stride store
// vectors; edge tiles and strided C go through a stack tile so only the corner is written.
// Always inlined so the accumulators stay in registers.
template <class T, int MR, int NV>
inline __attribute__((always_inline)) void store_tile(const xsimd::batch<T> (&acc)[MR][NV],
                                                      T alpha, T beta, T* c, std::int64_t rsC,
                                                      std::int64_t csC, int m, int n) {
  using batch = xsimd::batch<T>;
  constexpr int W = static_cast<int>(batch::size);
  constexpr int NR = NV * W;
  const batch va(alpha);
  if (m == MR && n == NR && csC == 1) {
    if (beta == T(0)) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) (acc[i][v] * va).store_unaligned(c + i * rsC + v * W);
      }
    } else {
      const batch vb(beta);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          T* p = c + i * rsC + v * W;
          xsimd::fma(acc[i][v], va, vb * batch::load_unaligned(p)).store_unaligned(p);
        }
      }
    }
    return;
  }
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v].store_aligned(tile + i * NR + v * W);
  }
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      T& d = c[i * rsC + j * csC];
      const T r = alpha * tile[i * NR + j];
      d = beta == T(0) ? r : r + beta * d;
    }
  }
}

// acc[i][v] += A(i,k) * B(k, v*W..) over kc steps of packed panels, then
// C(i,j) = alpha * acc(i,j) + beta * C(i,j) for the valid m x n corner (beta == 0: C not read).
// `a` is an MR x kc micro-panel stored k-major (a[k*MR + i]); `b` is kc x NR, 64-byte aligned.
template <class T, int MR, int NV>
inline void micro_kernel(std::int64_t kc, const T* __restrict a, const T* __restrict b, T alpha,
                         T beta, T* c, std::int64_t rsC, std::int64_t csC, int m, int n) {
  using batch = xsimd::batch<T>;
  constexpr int W = static_cast<int>(batch::size);
  constexpr int NR = NV * W;
  batch acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = batch(T(0));
  }
  for (std::int64_t k = 0; k < kc; ++k) {
    batch bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = batch::load_aligned(b + v * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const batch ai(a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += NR;
  }

  store_tile<T, MR, NV>(acc, alpha, beta, c, rsC, csC, m, n);
}

}  // namespace etna::cpu_backend::gemm_detail
