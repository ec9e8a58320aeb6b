// The CUDA backend's convolutions: im2col kernel + cuBLAS strided-batched GEMM (one batch entry
// per group) forward; backward recomputes the columns, accumulates dW with the same batched GEMM
// (beta = 1 after the first chunk of images) and turns W^T dY into dX with col2im written as a
// gather (each input element sums the column entries that read it: no atomics, so the result
// is deterministic). Depthwise convolutions take direct kernels. Images run in chunks that keep
// the column buffer near 64 MB. No host synchronisation and only stream-ordered allocations:
// the whole op can be graph-captured.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>

#include "etna/backend/cpu/conv_geometry.hpp"
#include "etna/backend/cuda/blas.hpp"
#include "etna/backend/cuda/column_reduce.hpp"
#include "etna/backend/cuda/fwd_conv.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {
namespace conv_kernels {

using etna::detail::ConvGeometry;

// Column elements per chunk of images (64 MB of floats).
inline constexpr std::int64_t kColBudget = std::int64_t{1} << 24;

// col[gi][r][j] for images [i0, i0 + imgs): r = (ci * kh + ky) * kw + kx, j = img * P + p.
template <class T>
struct Im2col {
  ConvGeometry g;
  const T* x;
  T* col;
  std::int64_t i0, cols;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t K = g.kg(), P = g.out_plane();
    const std::int64_t j = i % cols, r = (i / cols) % K, gi = i / (cols * K);
    const std::int64_t img = j / P, p = j % P, oy = p / g.wo, ox = p % g.wo;
    const std::int64_t kx = r % g.kw, ky = (r / g.kw) % g.kh, ci = r / (g.kw * g.kh);
    const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
    const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
    col[i] = inside ? x[(((i0 + img) * g.c + gi * g.cg() + ci) * g.h + iy) * g.w + ix] : T(0);
  }
};

// buf[oc][j] = dy[i0 + img][oc][p] (the output gradient as [o, imgs * P], group-major).
template <class T>
struct OutToCols {
  const T* dy;
  T* buf;
  std::int64_t i0, o, P, cols;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t oc = i / cols, j = i % cols;
    buf[i] = dy[((i0 + j / P) * o + oc) * P + j % P];
  }
};

// y[i0 + img][oc][p] = tmp[oc][j] + bias[oc].
template <class T>
struct ColsToOut {
  const T* tmp;
  const T* bias;
  T* y;
  std::int64_t i0, o, P, cols;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t oc = i / cols, j = i % cols;
    y[((i0 + j / P) * o + oc) * P + j % P] = tmp[i] + (bias ? bias[oc] : T(0));
  }
};

// dx[i0 + img][ch][iy][ix] = the sum of the column entries that read it (a gather).
template <class T>
struct Col2im {
  ConvGeometry g;
  const T* dcol;
  T* dx;
  std::int64_t i0, cols;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t ix = i % g.w, iy = (i / g.w) % g.h, ch = (i / g.in_plane()) % g.c;
    const std::int64_t img = i / (g.in_plane() * g.c);
    const std::int64_t gi = ch / g.cg(), ci = ch % g.cg(), K = g.kg(), P = g.out_plane();
    T s = T(0);
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
      const std::int64_t ty = iy + g.ph - ky * g.dh;
      if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.ho) continue;
      for (std::int64_t kx = 0; kx < g.kw; ++kx) {
        const std::int64_t tx = ix + g.pw - kx * g.dw;
        if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.wo) continue;
        const std::int64_t r = (ci * g.kh + ky) * g.kw + kx;
        s += dcol[(gi * K + r) * cols + img * P + (ty / g.sh) * g.wo + tx / g.sw];
      }
    }
    dx[(i0 * g.c) * g.in_plane() + i] = s;
  }
};

// part[img][oc] = sum_p dy[img][oc][p]; then db[oc] = the column sums of part (column_reduce:
// block-wise over the images, so a batch of 64k images does not leave one thread per channel
// adding 64k values).
template <class T>
struct PlaneSum {
  const T* dy;
  T* part;
  std::int64_t P;
  ETNA_HD void operator()(std::int64_t i) const {
    const T* src = dy + i * P;
    T s = T(0);
    for (std::int64_t p = 0; p < P; ++p) s += src[p];
    part[i] = s;
  }
};

template <class T>
struct Fill {
  T* y;
  T value;
  ETNA_HD void operator()(std::int64_t i) const { y[i] = value; }
};

template <class T>
struct AddChannelBias {
  T* y;
  const T* bias;
  std::int64_t c, plane;
  ETNA_HD void operator()(std::int64_t i) const { y[i] += bias[(i / plane) % c]; }
};

// ---- depthwise (groups == channels): direct kernels, no columns -----------------------------
// Each group's GEMM would be [multiplier x kh kw] x [kh kw x cols]: cuBLAS runs such thin
// products far below its speed, and im2col writes kh kw copies of the input.

// y[img][co][oy][ox] = bias[co] + sum over the taps of x[img][co / mult] * w[co].
template <class T>
struct DepthwiseForward {
  ConvGeometry g;
  const T* x;
  const T* w;
  const T* bias;
  T* y;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t ox = i % g.wo, oy = (i / g.wo) % g.ho, co = (i / g.out_plane()) % g.o;
    const std::int64_t img = i / (g.out_plane() * g.o);
    const T* xp = x + (img * g.c + co / g.og()) * g.in_plane();
    const T* wp = w + co * g.kh * g.kw;
    T s = bias ? bias[co] : T(0);
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
      const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (std::int64_t kx = 0; kx < g.kw; ++kx) {
        const std::int64_t ix = ox * g.sw - g.pw + kx * g.dw;
        if (ix >= 0 && ix < g.w) s += wp[ky * g.kw + kx] * xp[iy * g.w + ix];
      }
    }
    y[i] = s;
  }
};

// dx[img][ci][iy][ix]: a gather over the channel's outputs and the taps that read it.
template <class T>
struct DepthwiseInputGrad {
  ConvGeometry g;
  const T* dy;
  const T* w;
  T* dx;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t ix = i % g.w, iy = (i / g.w) % g.h, ci = (i / g.in_plane()) % g.c;
    const std::int64_t img = i / (g.in_plane() * g.c), mult = g.og();
    T s = T(0);
    for (std::int64_t m = 0; m < mult; ++m) {
      const std::int64_t co = ci * mult + m;
      const T* dyp = dy + (img * g.o + co) * g.out_plane();
      for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t ty = iy + g.ph - ky * g.dh;
        if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.ho) continue;
        for (std::int64_t kx = 0; kx < g.kw; ++kx) {
          const std::int64_t tx = ix + g.pw - kx * g.dw;
          if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.wo) continue;
          s += w[(co * g.kh + ky) * g.kw + kx] * dyp[(ty / g.sh) * g.wo + tx / g.sw];
        }
      }
    }
    dx[i] = s;
  }
};

// part[img * o kh kw + co * kh kw + t] = sum over one image's outputs of dy * what tap t reads.
template <class T>
struct DepthwiseWeightGradPart {
  ConvGeometry g;
  const T* x;
  const T* dy;
  T* part;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t taps = g.o * g.kh * g.kw, img = i / taps, tap = i % taps;
    const std::int64_t t = tap % (g.kh * g.kw), co = tap / (g.kh * g.kw);
    const std::int64_t ky = t / g.kw, kx = t % g.kw;
    const T* xp = x + (img * g.c + co / g.og()) * g.in_plane();
    const T* dyp = dy + (img * g.o + co) * g.out_plane();
    T s = T(0);
    for (std::int64_t oy = 0; oy < g.ho; ++oy) {
      const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (std::int64_t ox = 0; ox < g.wo; ++ox) {
        const std::int64_t ix = ox * g.sw - g.pw + kx * g.dw;
        if (ix >= 0 && ix < g.w) s += dyp[oy * g.wo + ox] * xp[iy * g.w + ix];
      }
    }
    part[i] = s;
  }
};

inline std::int64_t chunk_images(const ConvGeometry& g) {
  const std::int64_t per_image = std::max<std::int64_t>(1, g.c * g.kh * g.kw * g.out_plane());
  return std::clamp(kColBudget / per_image, std::int64_t{1}, std::max<std::int64_t>(g.n, 1));
}

}  // namespace conv_kernels

template <class T>
void conv2d_forward(const etna::detail::ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y) {
  using namespace conv_kernels;
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og();
  if (g.n == 0 || g.o == 0 || P == 0) return;
  if (g.depthwise()) {
    for_each_index(g.n * g.o * P, DepthwiseForward<T>{g, x, w, bias, y});
    return;
  }
  const std::int64_t chunk = chunk_images(g);
  auto col = allocate<T>(g.groups * K * chunk * P);
  auto tmp = allocate<T>(g.o * chunk * P);
  for (std::int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const std::int64_t cols = std::min(chunk, g.n - i0) * P;
    for_each_index(g.groups * K * cols, Im2col<T>{g, x, col.get(), i0, cols});
    gemm_batched<T>(g.groups, og, cols, K, T(1), w, K, 1, og * K, col.get(), cols, 1, K * cols,
                    T(0), tmp.get(), cols, 1, og * cols);
    for_each_index(g.o * cols, ColsToOut<T>{tmp.get(), bias, y, i0, g.o, P, cols});
  }
}

template <class T>
void conv2d_backward(const etna::detail::ConvGeometry& g, const T* x, const T* dy, const T* w,
                     T* dx, T* dw, T* db) {
  using namespace conv_kernels;
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og();
  if (db) {
    auto part = allocate<T>(std::max<std::int64_t>(1, g.o * g.n));
    for_each_index(g.o * g.n, PlaneSum<T>{dy, part.get(), P});
    column_reduce<T, T>(column_detail::Dense<T>{part.get(), g.o}, g.n, g.o, db);
  }
  if (!dx && !dw) return;
  if (g.depthwise()) {  // per-image partial sums of dW, then summed over the images
    if (dx) for_each_index(g.n * g.c * g.in_plane(), DepthwiseInputGrad<T>{g, dy, w, dx});
    if (dw) {
      const std::int64_t taps = g.o * g.kh * g.kw;
      auto part = allocate<T>(std::max<std::int64_t>(1, taps * g.n));
      for_each_index(taps * g.n, DepthwiseWeightGradPart<T>{g, x, dy, part.get()});
      column_reduce<T, T>(column_detail::Dense<T>{part.get(), taps}, g.n, taps, dw);
    }
    return;
  }
  if (g.n == 0 || P == 0) {  // nothing flows back: zero gradients
    if (dw) for_each_index(g.o * K, Fill<T>{dw, T(0)});
    if (dx) for_each_index(g.n * g.c * g.in_plane(), Fill<T>{dx, T(0)});
    return;
  }
  const std::int64_t chunk = chunk_images(g);
  auto col = allocate<T>(g.groups * K * chunk * P);
  auto dyc = allocate<T>(g.o * chunk * P);
  for (std::int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const std::int64_t cols = std::min(chunk, g.n - i0) * P;
    for_each_index(g.o * cols, OutToCols<T>{dy, dyc.get(), i0, g.o, P, cols});
    if (dw) {  // dW_g (+)= dY_g [og, cols] * col_g^T [cols, K]
      for_each_index(g.groups * K * cols, Im2col<T>{g, x, col.get(), i0, cols});
      gemm_batched<T>(g.groups, og, K, cols, T(1), dyc.get(), cols, 1, og * cols, col.get(), 1,
                      cols, K * cols, i0 == 0 ? T(0) : T(1), dw, K, 1, og * K);
    }
    if (dx) {  // dcol_g = W_g^T [K, og] * dY_g [og, cols], gathered into dX
      gemm_batched<T>(g.groups, K, cols, og, T(1), w, 1, K, og * K, dyc.get(), cols, 1, og * cols,
                      T(0), col.get(), cols, 1, K * cols);
      for_each_index((cols / P) * g.c * g.in_plane(), Col2im<T>{g, col.get(), dx, i0, cols});
    }
  }
}

template <class T>
void add_channel_bias(T* y, const T* bias, std::int64_t n, std::int64_t c, std::int64_t plane) {
  conv_kernels::AddChannelBias<T> f{y, bias, c, plane};
  for_each_index(n * c * plane, f);
}

}  // namespace etna::cuda_backend
