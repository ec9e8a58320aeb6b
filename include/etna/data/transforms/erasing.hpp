// RandomErasing (Zhong et al. 2017, torchvision's algorithm): with probability p, overwrite a
// random rectangle of every channel with a constant value.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>

#include "etna/data/transforms/transform.hpp"

namespace etna::data {

// A rectangle of an image: rows [top, top + height), columns [left, left + width).
struct ErasingBox {
  std::int64_t top, left, height, width;
};

// torchvision's RandomErasing(p, scale, ratio, value): with probability p, up to 10 attempts
// draw an area fraction uniform on `scale` and an aspect ratio (height / width) log-uniform on
// `ratio`; the first rectangle that fits strictly inside the image is placed uniformly and
// erased. If no attempt fits, the image is returned unchanged. Every call reserves 41 blocks
// (one for p, four per attempt) whatever happens, so later draws do not depend on the outcome.
class RandomErasing {
 public:
  static constexpr int kAttempts = 10;

  explicit RandomErasing(double p = 0.5, std::array<double, 2> scale = {0.02, 0.33},
                         std::array<double, 2> ratio = {0.3, 3.3}, float value = 0.f)
      : p_(p), scale_(scale), ratio_(ratio), value_(value) {
    transform_detail::check_probability(p, "RandomErasing");
    if (!(scale[0] >= 0 && scale[0] <= scale[1] && scale[1] <= 1))
      throw value_error(
          etna::detail::str("RandomErasing: scale must be a range within [0, 1], got [", scale[0],
                            ", ", scale[1], "]"));
    if (!(ratio[0] > 0 && ratio[0] <= ratio[1]))
      throw value_error(etna::detail::str("RandomErasing: ratio must be a positive range, got [",
                                          ratio[0], ", ", ratio[1], "]"));
  }

  // The rectangle this call erases in a height x width image, or nothing.
  std::optional<ErasingBox> sample(std::int64_t height, std::int64_t width, Generator& gen) const {
    transform_detail::Draws draws(gen, 1 + 4 * kAttempts);
    if (!(draws.uniform() < p_)) return std::nullopt;
    const double area = static_cast<double>(height * width);
    const double log_lo = std::log(ratio_[0]), log_hi = std::log(ratio_[1]);
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      const double erase_area = area * draws.uniform(scale_[0], scale_[1]);
      const double aspect = std::exp(draws.uniform(log_lo, log_hi));
      // Python's round (half to even), as torchvision.
      const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(erase_area * aspect)));
      const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(erase_area / aspect)));
      const std::int64_t top = draws.integer(0, std::max<std::int64_t>(height - h + 1, 1));
      const std::int64_t left = draws.integer(0, std::max<std::int64_t>(width - w + 1, 1));
      if (h < height && w < width) return ErasingBox{top, left, h, w};
    }
    return std::nullopt;
  }

  // x with `box` set to `value` in every channel.
  static Tensor<float> apply(const Tensor<float>& x, ErasingBox box, float value) {
    const auto d = transform_detail::image_dims(x, "RandomErasing");
    if (box.top < 0 || box.left < 0 || box.height < 0 || box.width < 0 ||
        box.top + box.height > d.height || box.left + box.width > d.width)
      throw value_error(etna::detail::str("RandomErasing: box (top ", box.top, ", left ", box.left,
                                          ", ", box.height, " x ", box.width,
                                          ") does not fit an image of shape ", x.shape()));
    Tensor<float> out = x.clone();
    for (std::int64_t c = 0; c < d.channels; ++c)
      for (std::int64_t i = box.top; i < box.top + box.height; ++i) {
        float* row = out.data() + (c * d.height + i) * d.width + box.left;
        std::fill(row, row + box.width, value);
      }
    return out;
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    const auto d = transform_detail::image_dims(x, "RandomErasing");
    const auto box = sample(d.height, d.width, gen);
    return box ? apply(x, *box, value_) : x;
  }

 private:
  double p_;
  std::array<double, 2> scale_, ratio_;
  float value_;
};

}  // namespace etna::data
