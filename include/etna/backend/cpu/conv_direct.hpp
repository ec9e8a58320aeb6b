// A direct CPU kernel for unit-stride convolutions with few channels (LeNet's 1 -> 6 and 6 -> 16
// 5x5 layers), where im2col + GEMM spends its time moving data: the column matrix is kh*kw
// times the input and the GEMM's M (output channels) is too small to amortise its packing.
// Input planes are zero-padded once per image (rows rounded up to the SIMD width, as in
// conv_depthwise.hpp); every output vector then sums C * kh * kw unaligned loads, each shared by
// a block of output channels held in registers. dX is the same kernel on dY padded by the kernel
// span with the transposed, flipped weights; dW is, per output channel, row dot products of dY
// with the padded inputs of the whole batch in order (vector partial sums, reduced once), so
// every result is identical for any thread count. conv.hpp's use_direct picks it per shape.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/conv_depthwise.hpp"
#include "etna/backend/cpu/conv_geometry.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {
namespace conv_detail {

// Which path conv2d takes where the direct kernel applies: 0 the measured rule, 1 always the
// direct kernel, 2 always im2col + GEMM (tests force each path through this).
inline int& direct_conv_mode() {
  static int mode = 0;
  return mode;
}

// Whether the direct kernel can run g: one group, unit stride, and padding no wider than the
// kernel span (so dX's padded dY needs no cropping).
inline bool direct_supported(const etna::detail::ConvGeometry& g) {
  return g.groups == 1 && g.sh == 1 && g.sw == 1 && g.ph <= g.dh * (g.kh - 1) &&
         g.pw <= g.dw * (g.kw - 1) && g.ho > 0 && g.wo > 0;
}

template <class T>
struct DirectBuffers {
  std::vector<T> in, out, dy;
  static DirectBuffers& local() {
    static thread_local DirectBuffers buffers;
    return buffers;
  }
};

// out[j] (planes [ho, wq], j < NB) = init[j] + sum over ci < C, taps t of
// w[j * wstride + ci * K + t] * in[ci][oy + ky dh][ox + kx dw], for output rows [oy0, oy1) R
// at a time (NB * R independent FMA chains: one chain of C * K dependent FMAs made the
// single-output-channel dX of LeNet's conv1 latency-bound); in holds C padded planes [hp, wp],
// plane_stride apart, their rows outside [r_lo, r_hi) all zero (padding: the kernel rows that
// read only those are skipped, a third of the work of LeNet's conv2 dX); wq is a multiple of the
// SIMD width.
template <int NB, int R, class T>
void direct_block(const T* in, std::int64_t C, std::int64_t plane_stride, std::int64_t wp,
                  std::int64_t oy0, std::int64_t oy1, std::int64_t wq, const T* w,
                  std::int64_t wstride, std::int64_t kh, std::int64_t kw, std::int64_t dh,
                  std::int64_t dw, std::int64_t r_lo, std::int64_t r_hi, const T* init, T* out,
                  std::int64_t out_stride) {
  const std::int64_t K = kh * kw;
  // The kernel rows that reach a nonzero row from some output row of [oy, oy + R).
  auto ky_range = [&](std::int64_t oy, std::int64_t& lo, std::int64_t& hi) {
    lo = std::clamp<std::int64_t>((r_lo - oy - R + 1 + dh - 1) / dh, 0, kh);
    if (r_lo - oy - R + 1 <= 0) lo = 0;
    hi = std::clamp<std::int64_t>(r_hi - oy <= 0 ? 0 : (r_hi - oy + dh - 1) / dh, lo, kh);
  };
  if constexpr (kSimdType<T>) {
    using B = xsimd::batch<T>;
    constexpr std::int64_t S = B::size;
    for (std::int64_t oy = oy0; oy + R <= oy1; oy += R)
      for (std::int64_t ox = 0; ox < wq; ox += S) {
        std::int64_t ky0, ky1;
        ky_range(oy, ky0, ky1);
        B acc[NB][R];
        for (int j = 0; j < NB; ++j)
          for (int r = 0; r < R; ++r) acc[j][r] = B(init[j]);
        for (std::int64_t ci = 0; ci < C; ++ci) {
          const T* wc = w + ci * K;
          for (std::int64_t ky = ky0; ky < ky1; ++ky) {
            const T* row = in + ci * plane_stride + (oy + ky * dh) * wp + ox;
            const T* wt = wc + ky * kw;
            for (std::int64_t kx = 0; kx < kw; ++kx) {
              B v[R];
              for (int r = 0; r < R; ++r) v[r] = B::load_unaligned(row + r * wp + kx * dw);
              for (int j = 0; j < NB; ++j) {
                const B wv(wt[j * wstride + kx]);
                for (int r = 0; r < R; ++r) acc[j][r] = xsimd::fma(wv, v[r], acc[j][r]);
              }
            }
          }
        }
        for (int j = 0; j < NB; ++j)
          for (int r = 0; r < R; ++r)
            acc[j][r].store_unaligned(out + j * out_stride + (oy + r) * wq + ox);
      }
  } else {
    for (int j = 0; j < NB; ++j)
      for (std::int64_t oy = oy0; oy < oy1; ++oy)
        for (std::int64_t ox = 0; ox < wq; ++ox) {
          T acc = init[j];
          for (std::int64_t ci = 0; ci < C; ++ci)
            for (std::int64_t ky = 0; ky < kh; ++ky)
              for (std::int64_t kx = 0; kx < kw; ++kx)
                acc += w[j * wstride + ci * K + ky * kw + kx] *
                       in[ci * plane_stride + (oy + ky * dh) * wp + ox + kx * dw];
          out[j * out_stride + oy * wq + ox] = acc;
        }
  }
}

// NB output channels over all ho rows: R rows at a time (about 8 accumulators), then the rest
// of the rows one by one.
template <int NB, class T>
void direct_rows(const T* in, std::int64_t C, std::int64_t plane_stride, std::int64_t wp,
                 std::int64_t ho, std::int64_t wq, const T* w, std::int64_t wstride,
                 std::int64_t kh, std::int64_t kw, std::int64_t dh, std::int64_t dw,
                 std::int64_t r_lo, std::int64_t r_hi, const T* init, T* out,
                 std::int64_t out_stride) {
  constexpr int R = NB >= 3 ? 2 : (NB == 2 ? 3 : 4);
  const std::int64_t main = kSimdType<T> ? ho - ho % R : 0;
  if (main > 0)
    direct_block<NB, R>(in, C, plane_stride, wp, 0, main, wq, w, wstride, kh, kw, dh, dw, r_lo,
                        r_hi, init, out, out_stride);
  if (main < ho)
    direct_block<NB, 1>(in, C, plane_stride, wp, main, ho, wq, w, wstride, kh, kw, dh, dw, r_lo,
                        r_hi, init, out, out_stride);
}

// All O output planes of one image (see direct_block), output channels four at a time.
template <class T>
void direct_planes(const T* in, std::int64_t C, std::int64_t plane_stride, std::int64_t wp,
                   std::int64_t ho, std::int64_t wq, const T* w, std::int64_t O, std::int64_t kh,
                   std::int64_t kw, std::int64_t dh, std::int64_t dw, std::int64_t r_lo,
                   std::int64_t r_hi, const T* bias, T* out) {
  const std::int64_t CK = C * kh * kw, P = ho * wq;
  T zeros[4] = {};
  std::int64_t co = 0;
  for (; co + 4 <= O; co += 4)
    direct_rows<4>(in, C, plane_stride, wp, ho, wq, w + co * CK, CK, kh, kw, dh, dw, r_lo, r_hi,
                   bias ? bias + co : zeros, out + co * P, P);
  const T* b = bias ? bias + co : zeros;
  switch (O - co) {
    case 3:
      direct_rows<3>(in, C, plane_stride, wp, ho, wq, w + co * CK, CK, kh, kw, dh, dw, r_lo, r_hi,
                     b, out + co * P, P);
      break;
    case 2:
      direct_rows<2>(in, C, plane_stride, wp, ho, wq, w + co * CK, CK, kh, kw, dh, dw, r_lo, r_hi,
                     b, out + co * P, P);
      break;
    case 1:
      direct_rows<1>(in, C, plane_stride, wp, ho, wq, w + co * CK, CK, kh, kw, dh, dw, r_lo, r_hi,
                     b, out + co * P, P);
      break;
    default:
      break;
  }
}

// sums[kx] += sum over images i < n, rows oy < ho, columns ox < wq of
// dy[i][oy][ox] * x[i][oy + ky][ox + kx * dw] for kx < KW (x: padded planes, row ky given;
// rows two at a time: 2 * KW FMA chains, hadd once at the end rather than per plane).
template <int KW, class T>
void direct_dw_taps(const T* x, std::int64_t x_img, std::int64_t wp, const T* dy,
                    std::int64_t dy_img, std::int64_t n, std::int64_t ho, std::int64_t wq,
                    std::int64_t dw, T* sums) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t S = B::size;
  B a0[KW], a1[KW];
  for (int k = 0; k < KW; ++k) a0[k] = a1[k] = B(T(0));
  for (std::int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * x_img;
    const T* di = dy + i * dy_img;
    std::int64_t oy = 0;
    for (; oy + 2 <= ho; oy += 2)
      for (std::int64_t ox = 0; ox < wq; ox += S) {
        const B d0 = B::load_unaligned(di + oy * wq + ox);
        const B d1 = B::load_unaligned(di + (oy + 1) * wq + ox);
        const T* r0 = xi + oy * wp + ox;
        for (int k = 0; k < KW; ++k) {
          a0[k] = xsimd::fma(d0, B::load_unaligned(r0 + k * dw), a0[k]);
          a1[k] = xsimd::fma(d1, B::load_unaligned(r0 + wp + k * dw), a1[k]);
        }
      }
    for (; oy < ho; ++oy)
      for (std::int64_t ox = 0; ox < wq; ox += S) {
        const B d0 = B::load_unaligned(di + oy * wq + ox);
        for (int k = 0; k < KW; ++k)
          a0[k] = xsimd::fma(d0, B::load_unaligned(xi + oy * wp + ox + k * dw), a0[k]);
      }
  }
  for (int k = 0; k < KW; ++k) sums[k] += xsimd::hadd(a0[k] + a1[k]);
}

}  // namespace conv_detail

// y = conv(x, w) + bias through direct_planes, one image per task.
template <class T>
void direct_forward(const etna::detail::ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y) {
  const std::int64_t wq = conv_detail::vector_width<T>(g.wo), P = g.out_plane();
  const std::int64_t hp = conv_detail::padded_rows(g), wp = conv_detail::padded_cols(g, wq);
  const std::int64_t HW = g.in_plane();
  parallel_for(0, g.n, 1, [&](std::int64_t b, std::int64_t e) {
    auto& buf = conv_detail::DirectBuffers<T>::local();
    buf.in.resize(static_cast<std::size_t>(g.c * hp * wp));
    buf.out.resize(static_cast<std::size_t>(g.o * g.ho * wq));
    for (std::int64_t i = b; i < e; ++i) {
      for (std::int64_t ci = 0; ci < g.c; ++ci)
        conv_detail::pad_plane(x + (i * g.c + ci) * HW, g.h, g.w, g.ph, g.pw, hp, wp,
                               buf.in.data() + ci * hp * wp);
      T* out = wq == g.wo ? y + i * g.o * P : buf.out.data();
      conv_detail::direct_planes(buf.in.data(), g.c, hp * wp, wp, g.ho, wq, w, g.o, g.kh, g.kw,
                                 g.dh, g.dw, g.ph, g.ph + g.h, bias, out);
      if (wq != g.wo)
        for (std::int64_t co = 0; co < g.o; ++co)
          conv_detail::copy_rows(out + co * g.ho * wq, wq, g.ho, g.wo, y + (i * g.o + co) * P);
    }
  });
}

// dx [n, c, h, w] and dw [o, c, kh, kw] (either may be nullptr; both overwritten) of
// direct_forward.
template <class T>
void direct_backward(const etna::detail::ConvGeometry& g, const T* x, const T* dy, const T* w,
                     T* dx, T* dw) {
  const std::int64_t P = g.out_plane(), HW = g.in_plane(), K = g.kh * g.kw;
  if (dx) {
    // dX[ci] = sum over co of dY[co] padded by (span - padding), correlated with the flipped
    // w[co, ci]: the forward kernel with the weights transposed to [c, o, kh, kw] and flipped.
    const std::int64_t top = g.dh * (g.kh - 1) - g.ph, left = g.dw * (g.kw - 1) - g.pw;
    const std::int64_t wq = conv_detail::vector_width<T>(g.w);
    const std::int64_t hp = g.h + g.dh * (g.kh - 1), wp = wq + g.dw * (g.kw - 1);
    std::vector<T> wt(static_cast<std::size_t>(g.c * g.o * K));
    for (std::int64_t co = 0; co < g.o; ++co)
      for (std::int64_t ci = 0; ci < g.c; ++ci)
        for (std::int64_t t = 0; t < K; ++t)
          wt[static_cast<std::size_t>((ci * g.o + co) * K + t)] =
              w[(co * g.c + ci) * K + K - 1 - t];
    parallel_for(0, g.n, 1, [&](std::int64_t b, std::int64_t e) {
      auto& buf = conv_detail::DirectBuffers<T>::local();
      buf.in.resize(static_cast<std::size_t>(g.o * hp * wp));
      buf.out.resize(static_cast<std::size_t>(g.c * g.h * wq));
      for (std::int64_t i = b; i < e; ++i) {
        for (std::int64_t co = 0; co < g.o; ++co)
          conv_detail::pad_plane(dy + (i * g.o + co) * P, g.ho, g.wo, top, left, hp, wp,
                                 buf.in.data() + co * hp * wp);
        T* out = wq == g.w ? dx + i * g.c * HW : buf.out.data();
        conv_detail::direct_planes(buf.in.data(), g.o, hp * wp, wp, g.h, wq, wt.data(), g.c, g.kh,
                                   g.kw, g.dh, g.dw, top, top + g.ho,
                                   static_cast<const T*>(nullptr), out);
        if (wq != g.w)
          for (std::int64_t ci = 0; ci < g.c; ++ci)
            conv_detail::copy_rows(out + ci * g.h * wq, wq, g.h, g.w, dx + (i * g.c + ci) * HW);
      }
    });
  }
  if (!dw) return;
  // The batch's padded inputs and wq-wide output gradients (their extra columns 0), made once;
  // then each output channel sums its taps over the images in order.
  const std::int64_t wq = conv_detail::vector_width<T>(g.wo);
  const std::int64_t hp = conv_detail::padded_rows(g), wp = conv_detail::padded_cols(g, wq);
  const std::int64_t in_sz = g.c * hp * wp, dy_sz = g.o * g.ho * wq;
  auto& buf = conv_detail::DirectBuffers<T>::local();
  std::vector<T>& xin = buf.in;
  std::vector<T>& dyq = buf.dy;
  xin.resize(static_cast<std::size_t>(g.n * in_sz));
  dyq.resize(static_cast<std::size_t>(wq == g.wo ? 0 : g.n * dy_sz));
  T* xp = xin.data();
  T* dq = dyq.data();
  parallel_for(0, g.n, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      for (std::int64_t ci = 0; ci < g.c; ++ci)
        conv_detail::pad_plane(x + (i * g.c + ci) * HW, g.h, g.w, g.ph, g.pw, hp, wp,
                               xp + i * in_sz + ci * hp * wp);
      if (wq != g.wo)
        for (std::int64_t co = 0; co < g.o; ++co)
          conv_detail::pad_plane(dy + (i * g.o + co) * P, g.ho, g.wo, 0, 0, g.ho, wq,
                                 dq + i * dy_sz + co * g.ho * wq);
    }
  });
  parallel_for(0, g.o, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t co = b; co < e; ++co) {
      T* dwc = dw + co * g.c * K;
      std::fill_n(dwc, g.c * K, T(0));
      const T* d0 = wq == g.wo ? dy + co * P : dq + co * g.ho * wq;
      const std::int64_t d_img = wq == g.wo ? g.o * P : dy_sz;
      if constexpr (conv_detail::kSimdType<T>) {
        if (g.kw == 3 || g.kw == 5) {
          for (std::int64_t ci = 0; ci < g.c; ++ci)
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
              const T* xr = xp + ci * hp * wp + ky * g.dh * wp;
              T* sums = dwc + ci * K + ky * g.kw;
              if (g.kw == 3)
                conv_detail::direct_dw_taps<3>(xr, in_sz, wp, d0, d_img, g.n, g.ho, wq, g.dw, sums);
              else
                conv_detail::direct_dw_taps<5>(xr, in_sz, wp, d0, d_img, g.n, g.ho, wq, g.dw, sums);
            }
          continue;
        }
      }
      for (std::int64_t i = 0; i < g.n; ++i)
        for (std::int64_t ci = 0; ci < g.c; ++ci)
          conv_detail::dw_plane_taps(xp + i * in_sz + ci * hp * wp, wp, d0 + i * d_img, g.ho, wq, 1,
                                     g.kh, g.kw, g.dh, g.dw, dwc + ci * K);
    }
  });
}

}  // namespace etna::cpu_backend
