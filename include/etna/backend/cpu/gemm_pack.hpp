// Packing of GEMM operands into the contiguous, zero-padded micro-panels the micro-kernel reads.
// Packing absorbs every operand layout (row-major, transposed, strided) so the kernel sees one.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace etna::cpu_backend::gemm_detail {

#if defined(__AVX512F__)
// GCC 12 flags _mm512_undefined_ps() (self-initialised) inside the shuffle intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// In-register transposes used when an operand is contiguous along k (row-major A, transposed
// B): the panel wants k-major order, so every W x W block of the source is turned over.
inline void transpose_block(__m512* r) {  // 16 x 16 floats
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];  // u[4g+q], 128-bit lane L: column 4L+q of rows 4g..4g+3
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int q = 0; q < 4; ++q) {  // 4 x 4 transpose of 128-bit lanes
    const __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], _MM_SHUFFLE(3, 2, 3, 2));
    r[q] = _mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(2, 0, 2, 0));
    r[4 + q] = _mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(3, 1, 3, 1));
    r[8 + q] = _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(2, 0, 2, 0));
    r[12 + q] = _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

inline void transpose_block(__m512d* r) {  // 8 x 8 doubles
  __m512d t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
  }
  for (int q = 0; q < 2; ++q) {  // t[2g+q], lane L: column 2L+q of rows 2g, 2g+1
    const __m512d v0 = _mm512_shuffle_f64x2(t[q], t[2 + q], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512d v1 = _mm512_shuffle_f64x2(t[q], t[2 + q], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512d v2 = _mm512_shuffle_f64x2(t[4 + q], t[6 + q], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512d v3 = _mm512_shuffle_f64x2(t[4 + q], t[6 + q], _MM_SHUFFLE(3, 2, 3, 2));
    r[q] = _mm512_shuffle_f64x2(v0, v2, _MM_SHUFFLE(2, 0, 2, 0));
    r[2 + q] = _mm512_shuffle_f64x2(v0, v2, _MM_SHUFFLE(3, 1, 3, 1));
    r[4 + q] = _mm512_shuffle_f64x2(v1, v3, _MM_SHUFFLE(2, 0, 2, 0));
    r[6 + q] = _mm512_shuffle_f64x2(v1, v3, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

template <class T>
struct Avx512Ops;
template <>
struct Avx512Ops<float> {
  using reg = __m512;
  static constexpr int W = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, reg v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }
};
template <>
struct Avx512Ops<double> {
  using reg = __m512d;
  static constexpr int W = 8;
  static reg zero() { return _mm512_setzero_pd(); }
  static reg load(const double* p, __mmask16 m) {
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p);
  }
  static void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
  static void store(double* p, reg v, __mmask16 m) {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>(m), v);
  }
};

// dst[k*P + i] = src[k*ks + i] for i < lanes, zero for lanes <= i < P (lanes contiguous in
// the source): masked vector loads and stores, so a partial panel (the direct path's 13-row
// tiles) is not copied element by element.
template <int P, class T>
inline void pack_panel_masked(int lanes, std::int64_t kc, const T* src, std::int64_t ks, T* dst) {
  using Ops = Avx512Ops<T>;
  constexpr int W = Ops::W;
  constexpr int G = (P + W - 1) / W;
  __mmask16 load_mask[G], store_mask[G];
  for (int g = 0; g < G; ++g) {
    const int l = std::clamp(lanes - g * W, 0, W), p = std::min(P - g * W, W);
    load_mask[g] = static_cast<__mmask16>((1u << l) - 1u);
    store_mask[g] = static_cast<__mmask16>((1u << p) - 1u);
  }
  for (std::int64_t k = 0; k < kc; ++k) {
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g)
      Ops::store(dst + k * P + g * W, Ops::load(src + k * ks + g * W, load_mask[g]), store_mask[g]);
  }
}

// dst[k*P + i] = src[i*ls + k] for i < lanes (zero above) and k < kc. Stores are whole vectors:
// when P is not a multiple of W a store spills into the next k row, which the next store (or
// the next panel, or the buffer's slack) overwrites, so stores go in increasing k order.
template <int P, class T>
inline void pack_panel_transpose(int lanes, std::int64_t kc, const T* src, std::int64_t ls,
                                 T* dst) {
  using Ops = Avx512Ops<T>;
  constexpr int W = Ops::W;
  constexpr int G = (P + W - 1) / W;
  typename Ops::reg r[G][W];
  for (std::int64_t k0 = 0; k0 < kc; k0 += W) {
    const int nk = static_cast<int>(std::min<std::int64_t>(W, kc - k0));
    const __mmask16 mask = static_cast<__mmask16>((1u << nk) - 1u);
    for (int g = 0; g < G; ++g) {
      for (int i = 0; i < W; ++i) {
        const int lane = g * W + i;
        r[g][i] = lane < lanes ? Ops::load(src + lane * ls + k0, mask) : Ops::zero();
      }
      transpose_block(r[g]);
    }
    for (int t = 0; t < nk; ++t) {
      for (int g = 0; g < G; ++g) Ops::store(dst + (k0 + t) * P + g * W, r[g][t]);
    }
  }
}
#pragma GCC diagnostic pop
#endif

// Packs `lanes` (<= P) lanes of kc elements into dst[k*P + i], zero-padding lanes..P-1.
// Lane i, step k reads src[i*ls + k*ks]: for A the lanes are rows, for B they are columns.
template <int P, class T>
inline void pack_panel(int lanes, std::int64_t kc, const T* src, std::int64_t ls, std::int64_t ks,
                       T* dst) {
  if (ls == 1) {  // lanes contiguous: a plain copy per k
    if (lanes == P) {
      for (std::int64_t k = 0; k < kc; ++k) {
        const T* s = src + k * ks;
        T* d = dst + k * P;
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) d[i] = s[i];
      }
    } else {
#if defined(__AVX512F__)
      pack_panel_masked<P>(lanes, kc, src, ks, dst);
#else
      for (std::int64_t k = 0; k < kc; ++k) {
        const T* s = src + k * ks;
        T* d = dst + k * P;
        for (int i = 0; i < lanes; ++i) d[i] = s[i];
        for (int i = lanes; i < P; ++i) d[i] = T(0);
      }
#endif
    }
    return;
  }
#if defined(__AVX512F__)
  if (ks == 1) {
    pack_panel_transpose<P>(lanes, kc, src, ls, dst);
    return;
  }
#endif
  // Generic strides: walk k in short runs so each lane's source stays in cache.
  constexpr std::int64_t kRun = 8;
  for (std::int64_t k0 = 0; k0 < kc; k0 += kRun) {
    const std::int64_t k1 = std::min(kc, k0 + kRun);
    for (int i = 0; i < lanes; ++i) {
      const T* s = src + i * ls;
      for (std::int64_t k = k0; k < k1; ++k) dst[k * P + i] = s[k * ks];
    }
    for (std::int64_t k = k0; k < k1; ++k) {
      for (int i = lanes; i < P; ++i) dst[k * P + i] = T(0);
    }
  }
}

// Packs an `rows` x kc block (element (i, k) at src[i*ls + k*ks]) into ceil(rows/P)
// consecutive P x kc micro-panels.
template <int P, class T>
inline void pack_block(std::int64_t rows, std::int64_t kc, const T* src, std::int64_t ls,
                       std::int64_t ks, T* dst) {
  for (std::int64_t r = 0; r < rows; r += P) {
    const int lanes = static_cast<int>(std::min<std::int64_t>(P, rows - r));
    pack_panel<P>(lanes, kc, src + r * ls, ls, ks, dst + r * kc);
  }
}

}  // namespace etna::cpu_backend::gemm_detail
