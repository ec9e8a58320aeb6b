// utils::make_grid: torchvision.utils.make_grid for etna tensors: a batch of images laid out
// nrow per row with padding, optionally min-max normalised, 1-channel images repeated to RGB.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"
#include "etna/ops/join.hpp"
#include "etna/ops/reduce.hpp"

namespace etna::utils {

struct GridOptions {
  std::int64_t nrow = 8;     // images per row of the grid (the last row may be shorter)
  std::int64_t padding = 2;  // pixels around and between the images
  bool normalize = false;    // shift each value to [0, 1] by the min and max (or value_range)
  std::optional<std::pair<double, double>> value_range = std::nullopt;  // (low, high)
  bool scale_each = false;  // normalize each image by its own min and max
  double pad_value = 0;     // value of the padding pixels
};

namespace detail {

// torchvision's norm_ip: clamp to [low, high], then (x - low) / max(high - low, 1e-5).
template <class T, class D>
void normalize_into(const Tensor<T, D>& img,
                    const std::optional<std::pair<double, double>>& range) {
  double low = 0, high = 0;
  if (range) {
    low = range->first;
    high = range->second;
  } else {
    low = static_cast<double>(etna::min(img).item());
    high = static_cast<double>(etna::max(img).item());
  }
  const double scale = 1.0 / std::max(high - low, 1e-5);
  img.assign((etna::clamp(img, low, high) - low) * scale);
}

}  // namespace detail

// batch: [B, C, H, W], or one image [C, H, W] or [H, W] (as torchvision: a 3-d tensor is one
// image, not a batch of greyscale ones; give a greyscale batch as [B, 1, H, W]). One-channel
// images become three channels. Returns [C, H', W'] with H' = rows * (H + padding) + padding,
// W' = min(nrow, B) * (W + padding) + padding; a batch of one image is returned unpadded,
// as torchvision does. Runs on the tensor's device (views, fills and fused assignments only;
// the per-image min and max of `normalize` are read back with item()).
template <Scalar T, Device D>
Tensor<T, D> make_grid(const Tensor<T, D>& batch, const GridOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>,
                "etna::utils::make_grid: images must be a floating-point tensor");
  if (options.nrow < 1)
    throw value_error(etna::detail::str("make_grid: nrow must be >= 1, got ", options.nrow));
  if (options.padding < 0)
    throw value_error(etna::detail::str("make_grid: padding must be >= 0, got ", options.padding));
  if (options.value_range && options.value_range->first > options.value_range->second)
    throw value_error(etna::detail::str("make_grid: value_range low ", options.value_range->first,
                                        " is greater than high ", options.value_range->second));
  Tensor<T, D> t = batch;
  if (t.dim() == 2) t = t.unsqueeze(0);
  if (t.dim() == 3) {
    if (t.size(0) == 1) t = etna::cat({t, t, t}, 0);
    t = t.unsqueeze(0);
  }
  if (t.dim() != 4)
    throw shape_error(etna::detail::str(
        "make_grid: expected images [B, C, H, W], [C, H, W] or [H, W], got shape ", batch.shape()));
  if (t.size(0) == 0) throw shape_error("make_grid: the batch holds no images");
  if (t.size(1) == 1)
    t = etna::cat({t, t, t}, 1);
  else if (options.normalize)
    t = t.clone();  // normalize works in place; never on the caller's
  if (options.normalize) {
    if (options.scale_each) {
      for (std::int64_t b = 0; b < t.size(0); ++b)
        detail::normalize_into(t.narrow(0, b, 1), options.value_range);
    } else {
      detail::normalize_into(t, options.value_range);
    }
  }
  if (t.size(0) == 1) return t.squeeze(0);

  const std::int64_t n = t.size(0), channels = t.size(1), pad = options.padding;
  const std::int64_t xmaps = std::min(options.nrow, n);
  const std::int64_t ymaps = (n + xmaps - 1) / xmaps;
  const std::int64_t height = t.size(2) + pad, width = t.size(3) + pad;
  auto grid = full<T, D>(Shape{channels, height * ymaps + pad, width * xmaps + pad},
                         static_cast<T>(options.pad_value));
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t y = k / xmaps, x = k % xmaps;
    grid.narrow(1, y * height + pad, height - pad)
        .narrow(2, x * width + pad, width - pad)
        .assign(t.select(0, k));
  }
  return grid;
}

}  // namespace etna::utils
