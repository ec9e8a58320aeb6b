// CPU convolution kernels: im2col + etna's GEMM forward, recomputed columns + GEMMs + col2im
// backward, and a direct kernel for depthwise convolutions (conv_depthwise.hpp). All operands
// are contiguous NCHW / OIHW buffers described by a ConvGeometry; conv_transpose2d runs on the
// same kernels (its forward is conv2d_backward's input gradient, its input gradient conv2d's
// forward).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "etna/backend/cpu/conv_depthwise.hpp"
#include "etna/backend/cpu/conv_direct.hpp"
#include "etna/backend/cpu/conv_geometry.hpp"
#include "etna/backend/cpu/gemm.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {
namespace conv_detail {

using etna::detail::ConvGeometry;

// Column buffer budgets. im2col's output is read back by the GEMM's packing right away, so it
// should stay in the cache: a large image is cut into blocks of output rows of at most
// kColBytes of columns (64 -> 64 channels, 3x3, 32x32 images: whole-image columns, 2.3 MB, made
// the forward ~1.5x slower than its GEMM alone; 256 KB .. 1 MB blocks were within 5%, 1 MB
// best). Small images share one GEMM, up to kChunkBytes of columns: LeNet's 5x5 layers ran
// fastest with 2-3 images per GEMM (1.75 ms fwd+bwd of 6 -> 16 channels at batch 64 against
// 2.2 ms with 35 images), where the GEMM still takes its unpacked small-matrix path.
inline constexpr std::int64_t kColBytes = std::int64_t{1} << 20;
inline constexpr std::int64_t kChunkBytes = std::int64_t{1} << 18;

// Per-thread scratch that only grows: pool workers are persistent, so steady-state calls do not
// allocate (a fresh multi-MB buffer per call costs its page faults every time).
template <class T>
struct ConvBuffers {
  gemm_detail::PackBuffer<T> col, tmp;
  static ConvBuffers& local() {
    static thread_local ConvBuffers buffers;
    return buffers;
  }
};

// Output rows per column block of one image.
template <class T>
std::int64_t block_rows(const ConvGeometry& g) {
  const std::int64_t budget = kColBytes / static_cast<std::int64_t>(sizeof(T));
  return std::clamp(budget / std::max<std::int64_t>(1, g.kg() * g.wo), std::int64_t{1},
                    std::max<std::int64_t>(g.ho, 1));
}

// A zero the compiler cannot see: loops storing it stay loops instead of becoming memset calls,
// which for the one or two elements of a padding border cost several times the stores (LeNet's
// 5x5 layers spent 10% of im2col in memset).
template <class T>
T opaque_zero() {
  static volatile T zero = T(0);
  return zero;
}

// The column matrix of one group of one image, output rows [oy0, oy1): row r = (ci * kh + ky)
// * kw + kx holds, for each of those output positions, the input element that kernel tap reads
// (0 in the padding). x points at the group's first channel of the image; rows are ld apart.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col, std::int64_t ld, std::int64_t oy0,
            std::int64_t oy1) {
  const std::int64_t cg = g.cg();
  const T z = opaque_zero<T>();
  // Unit stride with as many output as input columns ("same" padding): a tap's rows are one
  // contiguous copy of the input shifted by a constant, then its border columns are zeroed.
  const bool shifted_copy = g.sh == 1 && g.sw == 1 && g.wo == g.w;
  for (std::int64_t ci = 0; ci < cg; ++ci)
    for (std::int64_t ky = 0; ky < g.kh; ++ky)
      for (std::int64_t kx = 0; kx < g.kw; ++kx) {
        T* row = col + ((ci * g.kh + ky) * g.kw + kx) * ld - oy0 * g.wo;
        const std::int64_t off = kx * g.dw - g.pw;
        const auto [lo, hi] = etna::detail::valid_range(off, g.sw, g.w, g.wo);
        if (shifted_copy) {
          const std::int64_t dy = ky * g.dh - g.ph;  // iy = oy + dy
          const std::int64_t ya = std::clamp(-dy, oy0, oy1), yb = std::clamp(g.h - dy, ya, oy1);
          std::fill(row + oy0 * g.wo, row + ya * g.wo, T(0));
          std::fill(row + yb * g.wo, row + oy1 * g.wo, T(0));
          if (ya == yb) continue;
          // dst index d reads x[ci plane + d + dy * w + off], in bounds on [s0, s1).
          const std::int64_t s0 = ya * g.wo + lo, s1 = (yb - 1) * g.wo + hi;
          if (s1 > s0)
            std::copy(x + ci * g.h * g.w + s0 + dy * g.w + off,
                      x + ci * g.h * g.w + s1 + dy * g.w + off, row + s0);
          for (std::int64_t oy = ya; oy < yb; ++oy) {
            T* dst = row + oy * g.wo;
            for (std::int64_t ox = 0; ox < lo; ++ox) dst[ox] = z;
            for (std::int64_t ox = hi; ox < g.wo; ++ox) dst[ox] = z;
          }
          continue;
        }
        for (std::int64_t oy = oy0; oy < oy1; ++oy) {
          T* dst = row + oy * g.wo;
          const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
          if (iy < 0 || iy >= g.h) {
            for (std::int64_t ox = 0; ox < g.wo; ++ox) dst[ox] = z;
            continue;
          }
          const T* src = x + (ci * g.h + iy) * g.w + off;
          for (std::int64_t ox = 0; ox < lo; ++ox) dst[ox] = z;
          if (g.sw == 1) {
            for (std::int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox];
          } else {
            for (std::int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.sw];
          }
          for (std::int64_t ox = hi; ox < g.wo; ++ox) dst[ox] = z;
        }
      }
}

// The adjoint of im2col over output rows [oy0, oy1): every column entry is added to the input
// element it was read from (dx holds the group's channels of one image, already initialised;
// col is scratch: entries that read padding may be zeroed).
template <class T>
void col2im(const ConvGeometry& g, T* col, std::int64_t ld, T* dx, std::int64_t oy0,
            std::int64_t oy1) {
  const std::int64_t cg = g.cg();
  const T z = opaque_zero<T>();
  const bool shifted_copy = g.sh == 1 && g.sw == 1 && g.wo == g.w;  // as in im2col
  for (std::int64_t ci = 0; ci < cg; ++ci)
    for (std::int64_t ky = 0; ky < g.kh; ++ky)
      for (std::int64_t kx = 0; kx < g.kw; ++kx) {
        T* row = col + ((ci * g.kh + ky) * g.kw + kx) * ld - oy0 * g.wo;
        const std::int64_t off = kx * g.dw - g.pw;
        const auto [lo, hi] = etna::detail::valid_range(off, g.sw, g.w, g.wo);
        if (shifted_copy) {  // zero the entries that read padding, then one contiguous add
          const std::int64_t dy = ky * g.dh - g.ph;
          const std::int64_t ya = std::clamp(-dy, oy0, oy1), yb = std::clamp(g.h - dy, ya, oy1);
          if (ya == yb) continue;
          for (std::int64_t oy = ya; oy < yb; ++oy) {
            T* src = row + oy * g.wo;
            for (std::int64_t ox = 0; ox < lo; ++ox) src[ox] = z;
            for (std::int64_t ox = hi; ox < g.wo; ++ox) src[ox] = z;
          }
          const std::int64_t s0 = ya * g.wo + lo, s1 = (yb - 1) * g.wo + hi;
          T* dst = dx + ci * g.h * g.w + dy * g.w + off;
          for (std::int64_t d = s0; d < s1; ++d) dst[d] += row[d];
          continue;
        }
        for (std::int64_t oy = oy0; oy < oy1; ++oy) {
          const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const T* src = row + oy * g.wo;
          T* dst = dx + (ci * g.h + iy) * g.w + off;
          if (g.sw == 1) {
            for (std::int64_t ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
          } else {
            for (std::int64_t ox = lo; ox < hi; ++ox) dst[ox * g.sw] += src[ox];
          }
        }
      }
}

// Forward of one image, block by block of output rows; the GEMM writes straight into y (rows
// preloaded with the bias, beta = 1). A pointwise convolution's input is the column matrix.
template <class T>
void forward_image(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og(), rb = block_rows<T>(g);
  T* col = g.pointwise() ? nullptr : ConvBuffers<T>::local().col.get(K * rb * g.wo);
  for (std::int64_t gi = 0; gi < g.groups; ++gi) {
    const T* xg = x + gi * g.cg() * g.in_plane();
    T* yg = y + gi * og * P;
    if (bias)
      for (std::int64_t oc = 0; oc < og; ++oc) std::fill_n(yg + oc * P, P, bias[gi * og + oc]);
    if (g.pointwise()) {
      gemm<T>(og, P, K, T(1), w + gi * og * K, K, 1, xg, P, 1, bias ? T(1) : T(0), yg, P, 1);
      continue;
    }
    for (std::int64_t oy0 = 0; oy0 < g.ho; oy0 += rb) {
      const std::int64_t oy1 = std::min(g.ho, oy0 + rb), cols = (oy1 - oy0) * g.wo;
      im2col(g, xg, col, cols, oy0, oy1);
      gemm<T>(og, cols, K, T(1), w + gi * og * K, K, 1, col, cols, 1, bias ? T(1) : T(0),
              yg + oy0 * g.wo, P, 1);
    }
  }
}

// Forward of the images [i0, i1) (all groups), several small images per GEMM: the result goes
// to a [og, images * P] buffer that is then scattered into y adding the bias in the same pass.
template <class T>
void forward_images(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                    std::int64_t i0, std::int64_t i1) {
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og(), imgs = i1 - i0;
  const std::int64_t cols = imgs * P, in_img = g.c * g.in_plane(), out_img = g.o * P;
  if (imgs == 1) {
    forward_image(g, x + i0 * in_img, w, bias, y + i0 * out_img);
    return;
  }
  auto& buf = ConvBuffers<T>::local();
  T* col = buf.col.get(K * cols);
  T* tmp = buf.tmp.get(og * cols);
  for (std::int64_t gi = 0; gi < g.groups; ++gi) {
    for (std::int64_t i = 0; i < imgs; ++i)
      im2col(g, x + (i0 + i) * in_img + gi * g.cg() * g.in_plane(), col + i * P, cols,
             std::int64_t{0}, g.ho);
    gemm<T>(og, cols, K, T(1), w + gi * og * K, K, 1, col, cols, 1, T(0), tmp, cols, 1);
    for (std::int64_t i = 0; i < imgs; ++i)
      for (std::int64_t oc = 0; oc < og; ++oc) {
        const T bv = bias ? bias[gi * og + oc] : T(0);
        const T* src = tmp + oc * cols + i * P;
        T* dst = y + (i0 + i) * out_img + (gi * og + oc) * P;
        for (std::int64_t p = 0; p < P; ++p) dst[p] = src[p] + bv;
      }
  }
}

// dW (accumulated into dwp) from the images [i0, i1): dW_g += dY_g [og, cols] * col_g^T, over
// chunks of small images (their output gradients gathered into one [o, imgs * P] buffer) or
// blocks of output rows of one image (dY used in place).
template <class T>
void weight_grad_images(const ConvGeometry& g, const T* x, const T* dy, T* dwp, std::int64_t i0,
                        std::int64_t i1, std::int64_t chunk) {
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og(), rb = block_rows<T>(g);
  const std::int64_t in_img = g.c * g.in_plane(), out_img = g.o * P;
  auto& buf = ConvBuffers<T>::local();
  for (std::int64_t a = i0; a < i1; a += chunk) {
    const std::int64_t imgs = std::min(chunk, i1 - a);
    if (imgs == 1) {
      const T* xi = x + a * in_img;
      const T* dyi = dy + a * out_img;
      T* col = g.pointwise() ? nullptr : buf.col.get(K * rb * g.wo);
      for (std::int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = xi + gi * g.cg() * g.in_plane();
        if (g.pointwise()) {
          gemm<T>(og, K, P, T(1), dyi + gi * og * P, P, 1, xg, 1, P, T(1), dwp + gi * og * K, K, 1);
          continue;
        }
        for (std::int64_t oy0 = 0; oy0 < g.ho; oy0 += rb) {
          const std::int64_t oy1 = std::min(g.ho, oy0 + rb), cols = (oy1 - oy0) * g.wo;
          im2col(g, xg, col, cols, oy0, oy1);
          gemm<T>(og, K, cols, T(1), dyi + gi * og * P + oy0 * g.wo, P, 1, col, 1, cols, T(1),
                  dwp + gi * og * K, K, 1);
        }
      }
      continue;
    }
    const std::int64_t cols = imgs * P;
    T* dyc = buf.tmp.get(g.o * cols);
    for (std::int64_t i = 0; i < imgs; ++i)
      for (std::int64_t oc = 0; oc < g.o; ++oc)
        std::copy_n(dy + (a + i) * out_img + oc * P, P, dyc + oc * cols + i * P);
    T* col = buf.col.get(K * cols);
    for (std::int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + a * in_img + gi * g.cg() * g.in_plane();
      for (std::int64_t i = 0; i < imgs; ++i)
        im2col(g, xg + i * in_img, col + i * P, cols, std::int64_t{0}, g.ho);
      gemm<T>(og, K, cols, T(1), dyc + gi * og * cols, cols, 1, col, 1, cols, T(1),
              dwp + gi * og * K, K, 1);
    }
  }
}

// dX of one image through col2im, block by block of output rows: dcol = W_g^T [K, og] *
// dY_g [og, cols], then scattered into dx.
template <class T>
void input_grad_col2im(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
  const std::int64_t K = g.kg(), P = g.out_plane(), og = g.og(), cgp = g.cg() * g.in_plane();
  const std::int64_t rb = block_rows<T>(g);
  std::fill_n(dx, g.c * g.in_plane(), T(0));
  T* dcol = ConvBuffers<T>::local().tmp.get(K * rb * g.wo);
  for (std::int64_t gi = 0; gi < g.groups; ++gi)
    for (std::int64_t oy0 = 0; oy0 < g.ho; oy0 += rb) {
      const std::int64_t oy1 = std::min(g.ho, oy0 + rb), cols = (oy1 - oy0) * g.wo;
      gemm<T>(K, cols, og, T(1), w + gi * og * K, 1, K, dy + gi * og * P + oy0 * g.wo, P, 1, T(0),
              dcol, cols, 1);
      col2im(g, dcol, cols, dx + gi * cgp, oy0, oy1);
    }
}

// Images per GEMM (kChunkBytes of columns), at most a 1/threads share of the batch so every
// thread gets work.
template <class T>
std::int64_t chunk_images(const ConvGeometry& g, bool pointwise) {
  if (pointwise) return 1;
  const std::int64_t per_image = std::max<std::int64_t>(1, g.kg() * g.out_plane());
  const std::int64_t budget = kChunkBytes / static_cast<std::int64_t>(sizeof(T));
  std::int64_t chunk =
      std::clamp(budget / per_image, std::int64_t{1}, std::max<std::int64_t>(g.n, 1));
  const std::int64_t threads = get_num_threads();
  if (threads > 1)
    chunk = std::min(chunk, std::max<std::int64_t>(1, (g.n + threads - 1) / threads));
  return chunk;
}

// The im2col + GEMM forward over the whole batch, chunks of images in parallel (one chunk: the
// GEMM itself may use the threads, as it is then not inside a parallel region).
template <class T>
void forward_gemm(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const std::int64_t chunk = chunk_images<T>(g, g.pointwise());
  const std::int64_t chunks = (g.n + chunk - 1) / chunk;
  parallel_for(0, chunks, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t ci = b; ci < e; ++ci)
      forward_images(g, x, w, bias, y, ci * chunk, std::min(g.n, (ci + 1) * chunk));
  });
}

// Which of conv2d's computations take the direct kernel (conv_direct.hpp) rather than
// im2col + GEMM (direct_conv_mode() forces either). Measured on one thread (AMD EPYC, AVX-512:
// 16 float lanes), us for fwd / dX / dW, GEMM vs direct:
//   LeNet conv1 1->6 5x5 pad 2, 28x28, batch 64:    199/189/259 vs 196/197/232
//   LeNet conv2 6->16 5x5, 14x14 -> 10x10, b 64:    519/638/601 vs 480/529/790
//   conv2 with pad 2 (14x14 out; conv_bench's):     502/550/655 vs 629/636/1051
//   3x3 16->16 pad 1, 32x32, batch 32:              1863/1148/2134 vs 1598/1615/1969
//   3x3 64->64 pad 1, 32x32, batch 8:               3412/2936/3641 vs 6116/6140/12383
// The direct kernel only pays with few channels (C kh kw <= 150 taps, <= 16 outputs); then the
// forward where the output planes are small (<= 100 positions: each image's GEMM is narrow) or
// the kernel 3x3; dX (a correlation of dY padded by the kernel span, its all-zero rows skipped)
// for small planes of at most 8 input channels; dW for one input channel or 3x3 kernels, where
// output rows fill their vectors (wo at least 85% of its SIMD-rounded width).
enum class DirectOp { forward, input_grad, weight_grad };
template <class T>
bool use_direct(const ConvGeometry& g, DirectOp op) {
  if (!direct_supported(g)) return false;
  if (direct_conv_mode() != 0) return direct_conv_mode() == 1;
  if (g.c * g.kh * g.kw > 150 || g.o > 16) return false;
  const bool small_plane = g.out_plane() <= 100, k3 = g.kh * g.kw <= 9;
  switch (op) {
    case DirectOp::forward:
      return small_plane || k3;
    case DirectOp::input_grad:
      return small_plane && g.c <= 8 && 100 * g.w >= 85 * vector_width<T>(g.w);
    case DirectOp::weight_grad:
      return (g.c == 1 || k3) && 100 * g.wo >= 85 * vector_width<T>(g.wo);
  }
  return false;
}

}  // namespace conv_detail

// y [n, o, ho, wo] = conv(x [n, c, h, w], w [o, c / groups, kh, kw]) + bias [o] (bias may be
// nullptr). Depthwise convolutions take the direct kernel (conv_depthwise.hpp), the rest
// im2col + GEMM.
template <class T>
void conv2d_forward(const etna::detail::ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y) {
  if (g.n == 0 || g.o == 0 || g.out_plane() == 0) return;
  if (depthwise_applies(g)) {
    depthwise_forward(g, x, w, bias, y);
    return;
  }
  if (conv_detail::use_direct<T>(g, conv_detail::DirectOp::forward)) {
    direct_forward(g, x, w, bias, y);
    return;
  }
  conv_detail::forward_gemm(g, x, w, bias, y);
}

// Gradients of conv2d_forward from dy [n, o, ho, wo]: dx [n, c, h, w] and dw [o, c / groups,
// kh, kw] are overwritten, db [o] too; any of them may be nullptr (not needed), and x (w) is
// only read for dw (dx). Columns are recomputed from x (forward keeps none). For dW the batch is
// split into contiguous parts, one per thread, each accumulating its own partial dW; the partial
// sums are added in order, so the result is deterministic for a given thread count.
template <class T>
void conv2d_backward(const etna::detail::ConvGeometry& g, const T* x, const T* dy, const T* w,
                     T* dx, T* dw, T* db) {
  using namespace conv_detail;
  const std::int64_t P = g.out_plane(), wsize = g.o * g.kg();
  if (db) {
    std::fill_n(db, g.o, T(0));
    for (std::int64_t i = 0; i < g.n; ++i)
      for (std::int64_t oc = 0; oc < g.o; ++oc) {
        db[oc] += conv_detail::plane_sum(dy + (i * g.o + oc) * P, P);
      }
  }
  if (dw) std::fill_n(dw, wsize, T(0));
  if ((!dx && !dw) || g.n == 0) return;
  if (depthwise_applies(g)) {
    depthwise_backward(g, x, dy, w, dx, dw);
    return;
  }
  if (dx && use_direct<T>(g, DirectOp::input_grad)) {
    direct_backward(g, x, dy, w, dx, static_cast<T*>(nullptr));
    dx = nullptr;
  }
  if (dw && use_direct<T>(g, DirectOp::weight_grad)) {
    direct_backward(g, x, dy, w, static_cast<T*>(nullptr), dw);
    dw = nullptr;
  }
  if (dx) {
    // (At stride 1, dX is also the convolution of dY with the flipped kernel, one GEMM of the
    // forward's shape [c_g, o_g kh kw] x [o_g kh kw, H W]; measured, it was no faster than
    // W^T dY + col2im for 64 -> 64 channels and 5x slower for LeNet's 6 -> 16, whose M = 6.)
    const std::int64_t in_img = g.c * g.in_plane(), out_img = g.o * P;
    parallel_for(0, g.n, 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i)
        input_grad_col2im(g, dy + i * out_img, w, dx + i * in_img);
    });
  }
  if (!dw) return;
  const std::int64_t parts = std::min<std::int64_t>(get_num_threads(), g.n);
  const std::int64_t chunk = chunk_images<T>(g, g.pointwise());
  std::vector<std::vector<T>> partial(parts > 1 ? parts - 1 : 0,
                                      std::vector<T>(static_cast<std::size_t>(wsize), T(0)));
  parallel_for(0, parts, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t p = b; p < e; ++p)
      weight_grad_images(g, x, dy, p == 0 ? dw : partial[static_cast<std::size_t>(p - 1)].data(),
                         p * g.n / parts, (p + 1) * g.n / parts, chunk);
  });
  for (const auto& part : partial)
    for (std::int64_t k = 0; k < wsize; ++k) dw[k] += part[static_cast<std::size_t>(k)];
}

// y [n, c, plane] += bias [c] (conv_transpose2d's bias).
template <class T>
void add_channel_bias(T* y, const T* bias, std::int64_t n, std::int64_t c, std::int64_t plane) {
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      T* dst = y + (i * c + ch) * plane;
      for (std::int64_t p = 0; p < plane; ++p) dst[p] += bias[ch];
    }
}

}  // namespace etna::cpu_backend
