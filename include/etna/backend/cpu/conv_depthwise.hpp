// A direct CPU kernel for depthwise convolutions (groups == input channels), where im2col + GEMM
// wastes its work: each group's GEMM is [multiplier x kh*kw] x [kh*kw x Ho*Wo], far too thin to
// reach the micro-kernel's speed, and the column matrix is kh*kw times the input. At unit column
// stride, each output vector sums kh*kw xsimd loads of a zero-padded copy of the input plane
// (dX: of dY, with the flipped kernel; dW: row dot products); other strides take plain loops.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/conv_geometry.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {

// The rule: the direct kernel for depthwise convolutions with a channel multiplier (outputs per
// input channel) of 1 or 2; with more outputs per group the per-group GEMM has enough rows to
// win. Measured fwd+bwd at batch 16, 3x3: multiplier 1, 64 channels, 32x32: 1.2 ms direct vs
// 3.4 ms GEMM (14x14: 0.40 vs 0.89); multiplier 2: 0.40 vs 0.50 (14x14), 1.2 vs 1.8 (32x32);
// multiplier 3 a tie; multiplier 4 and 8: GEMM 1.3x-2x faster at 14x14.
inline bool depthwise_applies(const etna::detail::ConvGeometry& g) {
  return g.depthwise() && g.og() <= 2;
}

namespace conv_detail {

template <class T>
inline constexpr bool kSimdType = std::is_same_v<T, float> || std::is_same_v<T, double>;

// dst[i] += a * src[i * stride] for i in [0, n).
template <class T>
void axpy_strided(std::int64_t n, T a, const T* src, std::int64_t stride, T* dst) {
  std::int64_t i = 0;
  if constexpr (kSimdType<T>) {
    if (stride == 1) {
      using B = xsimd::batch<T>;
      constexpr std::int64_t S = B::size;
      const B va(a);
      for (; i + S <= n; i += S)
        xsimd::fma(va, B::load_unaligned(src + i), B::load_unaligned(dst + i))
            .store_unaligned(dst + i);
    }
  }
  for (; i < n; ++i) dst[i] += a * src[i * stride];
}

// dst[i * stride] += a * src[i] for i in [0, n).
template <class T>
void axpy_scatter(std::int64_t n, T a, const T* src, T* dst, std::int64_t stride) {
  if (stride == 1) {
    axpy_strided(n, a, src, 1, dst);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) dst[i * stride] += a * src[i];
}

// sum_i a[i] * b[i * stride].
template <class T>
T dot_strided(std::int64_t n, const T* a, const T* b, std::int64_t stride) {
  std::int64_t i = 0;
  T s = T(0);
  if constexpr (kSimdType<T>) {
    if (stride == 1) {
      using B = xsimd::batch<T>;
      constexpr std::int64_t S = B::size;
      B acc(T(0));
      for (; i + S <= n; i += S)
        acc = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), acc);
      s = xsimd::hadd(acc);
    }
  }
  for (; i < n; ++i) s += a[i] * b[i * stride];
  return s;
}

// ---- the unit-column-stride path: zero-padded planes, register accumulation -----------------
// With sw == 1 each output vector is a sum of kh * kw unaligned loads of a zero-padded copy of
// the input plane (no bounds logic per tap); the copy is a few KB and stays in L1.

// dst [hp, wp] = src [h, w] placed at (top, left), zeros elsewhere (src rows or columns that
// fall outside are dropped).
template <class T>
void pad_plane(const T* src, std::int64_t h, std::int64_t w, std::int64_t top, std::int64_t left,
               std::int64_t hp, std::int64_t wp, T* dst) {
  std::fill_n(dst, hp * wp, T(0));
  const std::int64_t c0 = std::max<std::int64_t>(0, -left), c1 = std::min(w, wp - left);
  for (std::int64_t r = std::max<std::int64_t>(0, -top); r < std::min(h, hp - top); ++r)
    if (c1 > c0) std::copy(src + r * w + c0, src + r * w + c1, dst + (r + top) * wp + left + c0);
}

// out[oy][ox] = (accumulate ? out : init) + sum_t taps[t] in[oy sh + ky dh][ox + kx dw] over the
// taps t = ky * kw + kx; in is a padded plane with wp columns.
template <class T>
void dw_plane(const T* in, std::int64_t wp, std::int64_t ho, std::int64_t wo, std::int64_t sh,
              const T* taps, std::int64_t kh, std::int64_t kw, std::int64_t dh, std::int64_t dw,
              T init, bool accumulate, T* out) {
  std::int64_t ox0 = 0;
  if constexpr (kSimdType<T>) {
    using B = xsimd::batch<T>;
    constexpr std::int64_t S = B::size;
    for (std::int64_t oy = 0; oy < ho; ++oy) {
      T* o = out + oy * wo;
      for (std::int64_t ox = 0; ox + S <= wo; ox += S) {
        B acc = accumulate ? B::load_unaligned(o + ox) : B(init);
        for (std::int64_t ky = 0; ky < kh; ++ky) {
          const T* r = in + (oy * sh + ky * dh) * wp + ox;
          for (std::int64_t kx = 0; kx < kw; ++kx)
            acc = xsimd::fma(B(taps[ky * kw + kx]), B::load_unaligned(r + kx * dw), acc);
        }
        acc.store_unaligned(o + ox);
      }
    }
    ox0 = wo - wo % S;
  }
  for (std::int64_t oy = 0; oy < ho; ++oy)
    for (std::int64_t ox = ox0; ox < wo; ++ox) {
      T acc = accumulate ? out[oy * wo + ox] : init;
      for (std::int64_t ky = 0; ky < kh; ++ky)
        for (std::int64_t kx = 0; kx < kw; ++kx)
          acc += taps[ky * kw + kx] * in[(oy * sh + ky * dh) * wp + ox + kx * dw];
      out[oy * wo + ox] = acc;
    }
}

// sums[kx0 + j] += sum_{oy, ox} dy[oy][ox] in[oy sh][ox + (kx0 + j) dw] for j < NB: NB taps of
// one kernel row share each dy load and run NB independent FMA chains.
template <int NB, class T>
void dw_row_taps(const T* in, std::int64_t wp, const T* dy, std::int64_t ho, std::int64_t wo,
                 std::int64_t sh, std::int64_t kx0, std::int64_t dw, T* sums) {
  T s[NB] = {};
  std::int64_t ox0 = 0;
  if constexpr (kSimdType<T>) {
    using B = xsimd::batch<T>;
    constexpr std::int64_t S = B::size;
    B acc[NB];
    for (int j = 0; j < NB; ++j) acc[j] = B(T(0));
    for (std::int64_t oy = 0; oy < ho; ++oy) {
      const T* r = in + oy * sh * wp + kx0 * dw;
      for (std::int64_t ox = 0; ox + S <= wo; ox += S) {
        const B d = B::load_unaligned(dy + oy * wo + ox);
        for (int j = 0; j < NB; ++j)
          acc[j] = xsimd::fma(d, B::load_unaligned(r + j * dw + ox), acc[j]);
      }
    }
    for (int j = 0; j < NB; ++j) s[j] = xsimd::hadd(acc[j]);
    ox0 = wo - wo % S;
  }
  for (std::int64_t oy = 0; oy < ho; ++oy)
    for (std::int64_t ox = ox0; ox < wo; ++ox)
      for (int j = 0; j < NB; ++j)
        s[j] += dy[oy * wo + ox] * in[oy * sh * wp + ox + (kx0 + j) * dw];
  for (int j = 0; j < NB; ++j) sums[kx0 + j] += s[j];
}

// sums[t] += sum_{oy, ox} dy[oy][ox] in[oy sh + ky dh][ox + kx dw] over the taps t = ky kw + kx
// (a weight gradient).
template <class T>
void dw_plane_taps(const T* in, std::int64_t wp, const T* dy, std::int64_t ho, std::int64_t wo,
                   std::int64_t sh, std::int64_t kh, std::int64_t kw, std::int64_t dh,
                   std::int64_t dw, T* sums) {
  for (std::int64_t ky = 0; ky < kh; ++ky) {
    const T* row = in + ky * dh * wp;
    T* srow = sums + ky * kw;
    std::int64_t kx = 0;
    // Up to 7 taps in one pass (5x5 kernels: one pass of 5 chains, not 4 then 1).
    switch (kw) {
      case 5:
        dw_row_taps<5>(row, wp, dy, ho, wo, sh, 0, dw, srow);
        continue;
      case 6:
        dw_row_taps<6>(row, wp, dy, ho, wo, sh, 0, dw, srow);
        continue;
      case 7:
        dw_row_taps<7>(row, wp, dy, ho, wo, sh, 0, dw, srow);
        continue;
      default:
        break;
    }
    for (; kx + 4 <= kw; kx += 4) dw_row_taps<4>(row, wp, dy, ho, wo, sh, kx, dw, srow);
    switch (kw - kx) {
      case 3:
        dw_row_taps<3>(row, wp, dy, ho, wo, sh, kx, dw, srow);
        break;
      case 2:
        dw_row_taps<2>(row, wp, dy, ho, wo, sh, kx, dw, srow);
        break;
      case 1:
        dw_row_taps<1>(row, wp, dy, ho, wo, sh, kx, dw, srow);
        break;
      default:
        break;
    }
  }
}

// sum_i v[i], vectorised (a bias gradient's plane sums).
template <class T>
T plane_sum(const T* v, std::int64_t n) {
  std::int64_t i = 0;
  T s = T(0);
  if constexpr (kSimdType<T>) {
    using B = xsimd::batch<T>;
    constexpr std::int64_t S = B::size;
    B a0(T(0)), a1(T(0));
    for (; i + 2 * S <= n; i += 2 * S) {
      a0 += B::load_unaligned(v + i);
      a1 += B::load_unaligned(v + i + S);
    }
    s = xsimd::hadd(a0 + a1);
  }
  for (; i < n; ++i) s += v[i];
  return s;
}

template <class T>
struct DwBuffers {
  std::vector<T> plane, taps, out;
  static DwBuffers& local() {
    static thread_local DwBuffers buffers;
    return buffers;
  }
};

// Output rows are computed wq = round_up(width, SIMD width) wide (into a scratch plane when
// that differs from the width, then copied out): no scalar tails, which made 14- or 7-wide
// planes 3x slower than im2col + GEMM.
template <class T>
std::int64_t vector_width(std::int64_t width) {
  std::int64_t s = 1;
  if constexpr (kSimdType<T>) s = static_cast<std::int64_t>(xsimd::batch<T>::size);
  return (width + s - 1) / s * s;
}

// The padded input plane that output rows [0, ho) of width wq read (sw == 1).
inline std::int64_t padded_rows(const etna::detail::ConvGeometry& g) {
  return (g.ho - 1) * g.sh + g.dh * (g.kh - 1) + 1;
}
inline std::int64_t padded_cols(const etna::detail::ConvGeometry& g, std::int64_t wq) {
  return wq + g.dw * (g.kw - 1);
}

// dst[r][0 .. w) = src[r][0 .. w) for r < h, from rows ld apart.
template <class T>
void copy_rows(const T* src, std::int64_t ld, std::int64_t h, std::int64_t w, T* dst) {
  for (std::int64_t r = 0; r < h; ++r) std::copy_n(src + r * ld, w, dst + r * w);
}

}  // namespace conv_detail

// Depthwise forward: output channel co reads input channel co / multiplier. One (image,
// channel) plane per task; each output row accumulates its kernel taps in L1.
template <class T>
void depthwise_forward(const etna::detail::ConvGeometry& g, const T* x, const T* w, const T* bias,
                       T* y) {
  const std::int64_t mult = g.og(), P = g.out_plane(), HW = g.in_plane(), K = g.kh * g.kw;
  if (g.sw == 1) {
    const std::int64_t wq = conv_detail::vector_width<T>(g.wo);
    const std::int64_t hp = conv_detail::padded_rows(g), wp = conv_detail::padded_cols(g, wq);
    parallel_for(0, g.n * g.o, 4, [&](std::int64_t b, std::int64_t e) {
      auto& buf = conv_detail::DwBuffers<T>::local();
      buf.plane.resize(static_cast<std::size_t>(hp * wp));
      buf.out.resize(static_cast<std::size_t>(g.ho * wq));
      for (std::int64_t plane = b; plane < e; ++plane) {
        const std::int64_t i = plane / g.o, co = plane % g.o;
        conv_detail::pad_plane(x + (i * g.c + co / mult) * HW, g.h, g.w, g.ph, g.pw, hp, wp,
                               buf.plane.data());
        T* out = wq == g.wo ? y + plane * P : buf.out.data();
        conv_detail::dw_plane(buf.plane.data(), wp, g.ho, wq, g.sh, w + co * K, g.kh, g.kw, g.dh,
                              g.dw, bias ? bias[co] : T(0), false, out);
        if (wq != g.wo) conv_detail::copy_rows(out, wq, g.ho, g.wo, y + plane * P);
      }
    });
    return;
  }
  parallel_for(0, g.n * g.o, 4, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t plane = b; plane < e; ++plane) {
      const std::int64_t i = plane / g.o, co = plane % g.o;
      const T* xp = x + (i * g.c + co / mult) * HW;
      const T* wp = w + co * K;
      T* yp = y + plane * P;
      std::fill_n(yp, P, bias ? bias[co] : T(0));
      for (std::int64_t oy = 0; oy < g.ho; ++oy)
        for (std::int64_t ky = 0; ky < g.kh; ++ky) {
          const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t off = kx * g.dw - g.pw;
            const auto [lo, hi] = etna::detail::valid_range(off, g.sw, g.w, g.wo);
            conv_detail::axpy_strided(hi - lo, wp[ky * g.kw + kx], xp + iy * g.w + off + lo * g.sw,
                                      g.sw, yp + oy * g.wo + lo);
          }
        }
    }
  });
}

// Depthwise gradients: dx (overwritten) per (image, input channel) plane, dw (overwritten) per
// output channel as row dot products summed over the batch in order, so both are deterministic
// for any thread count.
template <class T>
void depthwise_backward(const etna::detail::ConvGeometry& g, const T* x, const T* dy, const T* w,
                        T* dx, T* dw) {
  const std::int64_t mult = g.og(), P = g.out_plane(), HW = g.in_plane(), K = g.kh * g.kw;
  // dx at unit stride: dY (padded by the kernel span minus the padding) correlated with the
  // flipped kernel, summed over the channel's outputs.
  const std::int64_t top = g.dh * (g.kh - 1) - g.ph, left = g.dw * (g.kw - 1) - g.pw;
  if (dx && g.sh == 1 && g.sw == 1 && top >= 0 && left >= 0) {
    const std::int64_t wq = conv_detail::vector_width<T>(g.w);
    const std::int64_t hp = g.h + g.dh * (g.kh - 1), wp = wq + g.dw * (g.kw - 1);
    parallel_for(0, g.n * g.c, 4, [&](std::int64_t b, std::int64_t e) {
      auto& buf = conv_detail::DwBuffers<T>::local();
      buf.plane.resize(static_cast<std::size_t>(hp * wp));
      buf.taps.resize(static_cast<std::size_t>(K));
      buf.out.resize(static_cast<std::size_t>(g.h * wq));
      for (std::int64_t plane = b; plane < e; ++plane) {
        const std::int64_t i = plane / g.c, ci = plane % g.c;
        T* out = wq == g.w ? dx + plane * HW : buf.out.data();
        for (std::int64_t m = 0; m < mult; ++m) {
          const std::int64_t co = ci * mult + m;
          for (std::int64_t t = 0; t < K; ++t)
            buf.taps[static_cast<std::size_t>(t)] = w[co * K + K - 1 - t];
          conv_detail::pad_plane(dy + (i * g.o + co) * P, g.ho, g.wo, top, left, hp, wp,
                                 buf.plane.data());
          conv_detail::dw_plane(buf.plane.data(), wp, g.h, wq, 1, buf.taps.data(), g.kh, g.kw, g.dh,
                                g.dw, T(0), m > 0, out);
        }
        if (wq != g.w) conv_detail::copy_rows(out, wq, g.h, g.w, dx + plane * HW);
      }
    });
    dx = nullptr;  // done
  }
  if (dw && g.sw == 1) {
    // Rows wq wide: dY is copied into a zero-padded plane when wq != wo (its extra columns
    // multiply whatever the padded input holds there by 0).
    const std::int64_t wq = conv_detail::vector_width<T>(g.wo);
    const std::int64_t hp = conv_detail::padded_rows(g), wp = conv_detail::padded_cols(g, wq);
    parallel_for(0, g.o, 1, [&](std::int64_t b, std::int64_t e) {
      auto& buf = conv_detail::DwBuffers<T>::local();
      buf.plane.resize(static_cast<std::size_t>(hp * wp));
      buf.out.assign(static_cast<std::size_t>(g.ho * wq), T(0));
      for (std::int64_t co = b; co < e; ++co) {
        std::fill_n(dw + co * K, K, T(0));
        for (std::int64_t i = 0; i < g.n; ++i) {
          conv_detail::pad_plane(x + (i * g.c + co / mult) * HW, g.h, g.w, g.ph, g.pw, hp, wp,
                                 buf.plane.data());
          const T* dyp = dy + (i * g.o + co) * P;
          if (wq != g.wo) {
            for (std::int64_t r = 0; r < g.ho; ++r)
              std::copy_n(dyp + r * g.wo, g.wo, buf.out.data() + r * wq);
            dyp = buf.out.data();
          }
          conv_detail::dw_plane_taps(buf.plane.data(), wp, dyp, g.ho, wq, g.sh, g.kh, g.kw, g.dh,
                                     g.dw, dw + co * K);
        }
      }
    });
    dw = nullptr;  // done
  }
  if (dx)
    parallel_for(0, g.n * g.c, 4, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t plane = b; plane < e; ++plane) {
        const std::int64_t i = plane / g.c, ci = plane % g.c;
        T* xp = dx + plane * HW;
        std::fill_n(xp, HW, T(0));
        for (std::int64_t m = 0; m < mult; ++m) {
          const std::int64_t co = ci * mult + m;
          const T* dyp = dy + (i * g.o + co) * P;
          const T* wp = w + co * K;
          for (std::int64_t oy = 0; oy < g.ho; ++oy)
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
              const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (std::int64_t kx = 0; kx < g.kw; ++kx) {
                const std::int64_t off = kx * g.dw - g.pw;
                const auto [lo, hi] = etna::detail::valid_range(off, g.sw, g.w, g.wo);
                conv_detail::axpy_scatter(hi - lo, wp[ky * g.kw + kx], dyp + oy * g.wo + lo,
                                          xp + iy * g.w + off + lo * g.sw, g.sw);
              }
            }
        }
      }
    });
  if (dw)
    parallel_for(0, g.o, 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t co = b; co < e; ++co) {
        const std::int64_t ci = co / mult;
        T* wp = dw + co * K;
        for (std::int64_t ky = 0; ky < g.kh; ++ky)
          for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t off = kx * g.dw - g.pw;
            const auto [lo, hi] = etna::detail::valid_range(off, g.sw, g.w, g.wo);
            T s = T(0);
            for (std::int64_t i = 0; i < g.n; ++i) {
              const T* xp = x + (i * g.c + ci) * HW;
              const T* dyp = dy + (i * g.o + co) * P;
              for (std::int64_t oy = 0; oy < g.ho; ++oy) {
                const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
                if (iy < 0 || iy >= g.h) continue;
                s += conv_detail::dot_strided(hi - lo, dyp + oy * g.wo + lo,
                                              xp + iy * g.w + off + lo * g.sw, g.sw);
              }
            }
            wp[ky * g.kw + kx] = s;
          }
      }
    });
}

}  // namespace etna::cpu_backend
