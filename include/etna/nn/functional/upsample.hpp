// nn::functional::interpolate on Vars: PyTorch's "nearest" and "bilinear" resampling of
// [N, C, H, W] / [C, H, W] by output size or scale factor. The per-axis source indices and
// weights are computed on the host exactly as PyTorch's CPU kernels do (in T's precision), then
// one kernel reads them (backend/upsample_kernels.hpp).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <utility>

#include "etna/backend/upsample_kernels.hpp"
#include "etna/nn/functional/pooling.hpp"

namespace etna::nn::functional {

enum class InterpolationMode { nearest, bilinear };

namespace detail {

// One axis's tables (see pooling_kernels::ResampleAxis) on device D.
template <class T, class D>
struct ResampleTable {
  Tensor<i64, D> index;  // [i0 (out) | i1 (out) | lo (in) | hi (in)]
  Tensor<T, D> weight;   // [w0 (out) | w1 (out)]
  pooling_kernels::ResampleAxis<T> axis(i64 in, i64 out) const {
    const i64* p = index.data();
    const T* w = weight.data();
    return {p, p + out, p + 2 * out, p + 2 * out + in, w, w + out};
  }
};

// PyTorch's source positions: nearest floor(o * scale) (scale = 1 / scale_factor when given,
// else in / out), bilinear the pixel-centre (or corner-aligned) position with its two neighbours.
template <class T, class D>
ResampleTable<T, D> resample_table(i64 in, i64 out, std::optional<double> scale_factor, bool linear,
                                   bool align_corners) {
  auto index = empty<i64>({2 * out + 2 * in});
  auto weight = empty<T>({2 * out});
  i64* i0 = index.data();
  i64* i1 = i0 + out;
  i64* lo = i1 + out;
  i64* hi = lo + in;
  T* w0 = weight.data();
  T* w1 = w0 + out;
  const T scale = align_corners
                      ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                  : scale_factor ? static_cast<T>(1.0 / *scale_factor)
                                 : static_cast<T>(in) / static_cast<T>(out);
  for (i64 o = 0; o < out; ++o) {
    if (!linear) {  // PyTorch's nearest_idx, with its exact cases for equal and doubled sizes
      i0[o] = i1[o] =
          out == in ? o
          : out == 2 * in
              ? o / 2
              : std::min(static_cast<i64>(std::floor(static_cast<T>(o) * scale)), in - 1);
      w0[o] = T(1);
      w1[o] = T(0);
      continue;
    }
    T real =
        align_corners ? scale * static_cast<T>(o) : scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
    if (real < T(0)) real = T(0);
    i0[o] = std::min(static_cast<i64>(std::floor(real)), in - 1);
    const T lambda = std::min(std::max(real - static_cast<T>(i0[o]), T(0)), T(1));
    i1[o] = i0[o] + (i0[o] < in - 1 ? 1 : 0);
    w1[o] = lambda;
    w0[o] = T(1) - lambda;
  }
  // Both source columns are non-decreasing in o, so the readers of y form one range.
  for (i64 y = 0, a = 0, b = 0; y < in; ++y) {
    while (a < out && i1[a] < y) ++a;
    while (b < out && i0[b] <= y) ++b;
    lo[y] = a;
    hi[y] = std::max(a, b);
  }
  return {index.template to<D>(), weight.template to<D>()};
}

template <class T, class D>
Var<T, D> interpolate_impl(const Var<T, D>& x, std::optional<Size2> size,
                           std::optional<std::pair<double, double>> scale, InterpolationMode mode,
                           bool align_corners) {
  using namespace pooling_kernels;
  const char* op = "interpolate";
  const bool linear = mode == InterpolationMode::bilinear;
  if (!linear && align_corners)
    throw value_error(
        "interpolate: align_corners option can only be set with the interpolating modes: "
        "bilinear (got mode nearest)");
  const PoolInput q = pool_input(x.shape(), op, 2);
  Size2 out;
  if (size) {
    out = *size;
    if (out.h <= 0 || out.w <= 0)
      throw value_error(
          etna::detail::str("interpolate: size must be positive, got (", out.h, ", ", out.w, ")"));
  } else {
    const auto [sh, sw] = *scale;
    if (!(sh > 0 && sw > 0 && std::isfinite(sh) && std::isfinite(sw)))
      throw value_error(etna::detail::str(
          "interpolate: scale_factor must be positive and finite, got (", sh, ", ", sw, ")"));
    out = Size2(static_cast<i64>(std::floor(static_cast<double>(q.h) * sh)),
                static_cast<i64>(std::floor(static_cast<double>(q.w) * sw)));
    if (out.h <= 0 || out.w <= 0)
      throw value_error(etna::detail::str("interpolate: output size would be ", out.h, "x", out.w,
                                          " for input of shape ", x.shape(), " and scale_factor (",
                                          sh, ", ", sw, ")"));
  }
  std::optional<double> fh, fw;
  if (scale) fh = scale->first, fw = scale->second;
  const auto th = resample_table<T, D>(q.h, out.h, fh, linear, align_corners);
  const auto tw = resample_table<T, D>(q.w, out.w, fw, linear, align_corners);
  const Planes g{q.planes(), q.h, q.w, out.h, out.w};
  const Tensor<T, D> xc = x.value().contiguous();
  auto y = Tensor<T, D>::allocate(pool_output_shape(x.shape(), 2, out.h, out.w));
  run_pooling<D>(
      ResampleForward<T>{xc.data(), y.data(), g, th.axis(g.ih, g.oh), tw.axis(g.iw, g.ow), linear},
      g.planes * g.oh, g.ow);
  auto backward = [th, tw, g, linear](const T* gy, T* dx) {
    run_pooling_backward<D>(
        ResampleBackward<T>{gy, dx, g, th.axis(g.ih, g.oh), tw.axis(g.iw, g.ow), linear}, g.planes,
        g.ih, g.iw);
  };
  return pool_result(linear ? "UpsampleBilinear2DBackward0" : "UpsampleNearest2DBackward0", x,
                     std::move(y), autograd::should_record(x), std::move(backward));
}

}  // namespace detail

// torch.nn.functional.interpolate to an output size (height, width).
template <PoolOperand X>
auto interpolate(const X& x, Size2 size, InterpolationMode mode = InterpolationMode::nearest,
                 bool align_corners = false) {
  return detail::interpolate_impl(as_var(x), size, std::nullopt, mode, align_corners);
}

// By scale factors (height, width): the output is floor(in * scale) and, as PyTorch without
// recompute_scale_factor, the source positions use 1 / scale. Floating-point factors only, so
// that interpolate(x, 2) and interpolate(x, {4, 6}) stay sizes: pass 2.0 or std::pair{1.5, 2.0}.
template <PoolOperand X, std::floating_point A, std::floating_point B>
auto interpolate(const X& x, std::pair<A, B> scale_factor,
                 InterpolationMode mode = InterpolationMode::nearest, bool align_corners = false) {
  return detail::interpolate_impl(
      as_var(x), std::nullopt,
      std::pair<double, double>(static_cast<double>(scale_factor.first),
                                static_cast<double>(scale_factor.second)),
      mode, align_corners);
}
template <PoolOperand X, std::floating_point S>
auto interpolate(const X& x, S scale_factor, InterpolationMode mode = InterpolationMode::nearest,
                 bool align_corners = false) {
  const double s = static_cast<double>(scale_factor);
  return detail::interpolate_impl(as_var(x), std::nullopt, std::pair(s, s), mode, align_corners);
}

}  // namespace etna::nn::functional
