// Per-pixel image transforms: ToFloat (0..255 to 0..1), Normalize (per-channel mean and std)
// and GaussianNoise. Each is one pass over contiguous data into a fresh tensor.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "etna/data/transforms/transform.hpp"

namespace etna::data {

// Divides by 255, mapping 8-bit pixel values to [0, 1] (the scaling of torchvision's ToTensor).
// Deterministic.
struct ToFloat {
  Tensor<float> operator()(const Tensor<float>& x, Generator& /*gen*/) const {
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    const float* in = src.data();
    float* o = out.data();
    for (std::int64_t i = 0, n = x.numel(); i < n; ++i) o[i] = in[i] / 255.f;
    return out;
  }
};

// (x - mean[c]) / std[c] for each channel c, as torchvision's Normalize. mean and std have one
// value per channel ([H, W] images have one channel); a mismatch is a shape_error. Deterministic.
class Normalize {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std_dev)
      : mean_(std::move(mean)), std_(std::move(std_dev)) {
    if (mean_.empty() || mean_.size() != std_.size())
      throw value_error(detail::str("Normalize: mean and std need one value per channel, got ",
                                    mean_.size(), " means and ", std_.size(), " stds"));
    for (float s : std_)
      if (s == 0.f) throw value_error("Normalize: std evaluated to zero, leading to division by zero");
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& /*gen*/) const {
    const auto dims = detail::image_dims(x, "Normalize");
    if (dims.channels != static_cast<std::int64_t>(mean_.size()))
      throw shape_error(detail::str("Normalize: the image has ", dims.channels,
                                    " channels (shape ", x.shape(), ") but mean and std have ",
                                    mean_.size()));
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    const std::int64_t plane = dims.height * dims.width;
    for (std::int64_t c = 0; c < dims.channels; ++c) {
      const float m = mean_[c], s = std_[c];
      const float* in = src.data() + c * plane;
      float* o = out.data() + c * plane;
      // Divide rather than multiply by 1/std: the result then matches torchvision bit for bit.
      for (std::int64_t i = 0; i < plane; ++i) o[i] = (in[i] - m) / s;
    }
    return out;
  }

 private:
  std::vector<float> mean_, std_;
};

// Adds independent normal noise, x + mean + std * N(0, 1), to every pixel. No clipping (unlike
// torchvision.v2's GaussianNoise), so it may follow Normalize.
class GaussianNoise {
 public:
  explicit GaussianNoise(float std_dev, float mean = 0.f) : std_(std_dev), mean_(mean) {
    if (!(std_dev >= 0.f))
      throw value_error(detail::str("GaussianNoise: std must be non-negative, got ", std_dev));
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    const std::int64_t n = x.numel();
    const RandomStream stream = gen.reserve(random_detail::blocks_for<float>(static_cast<std::uint64_t>(n)));
    const float* in = src.data();
    float* o = out.data();
    for (std::int64_t i = 0; i < n; ++i)
      o[i] = in[i] + mean_ + std_ * random_detail::normal_at<float>(stream, static_cast<std::uint64_t>(i));
    return out;
  }

 private:
  float std_, mean_;
};

}  // namespace etna::data
