// Per-pixel image transforms: ToFloat (0..255 to 0..1), Normalize (per-channel mean and std)
// and GaussianNoise. Each is one pass over contiguous data into a fresh tensor.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/data/transforms/transform.hpp"
#include "etna/expr/operators.hpp"

namespace etna::data {

// Divides by 255, mapping 8-bit pixel values to [0, 1] (the scaling of torchvision's ToTensor).
// Deterministic; any shape.
struct ToFloat {
  Tensor<float> operator()(const Tensor<float>& x, Generator& /*gen*/) const {
    return Tensor<float>(x / 255.f);  // one fused SIMD pass
  }
};

// (x - mean[c]) / std[c] for each channel c, as torchvision's Normalize. mean and std have one
// value per channel ([H, W] images have one channel); a mismatch is a shape_error. Deterministic.
class Normalize {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std_dev)
      : mean_(std::move(mean)), std_(std::move(std_dev)) {
    if (mean_.empty() || mean_.size() != std_.size())
      throw value_error(
          etna::detail::str("Normalize: mean and std need one value per channel, got ",
                            mean_.size(), " means and ", std_.size(), " stds"));
    for (float s : std_)
      if (s == 0.f)
        throw value_error("Normalize: std evaluated to zero, leading to division by zero");
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& /*gen*/) const {
    const auto dims = transform_detail::image_dims(x, "Normalize");
    if (dims.channels != static_cast<std::int64_t>(mean_.size()))
      throw shape_error(etna::detail::str("Normalize: the image has ", dims.channels,
                                          " channels (shape ", x.shape(),
                                          ") but mean and std have ", mean_.size()));
    const Shape chw{dims.channels, dims.height, dims.width};
    const Tensor<float> src = x.dim() == 3 ? x : x.reshape(chw);
    auto out = empty<float>(chw);
    // One fused SIMD pass per channel. Divide rather than multiply by 1/std: the result then
    // matches torchvision bit for bit.
    for (std::int64_t c = 0; c < dims.channels; ++c)
      out.select(0, c).assign((src.select(0, c) - mean_[c]) / std_[c]);
    return x.dim() == 3 ? out : out.reshape(x.shape());
  }

 private:
  std::vector<float> mean_, std_;
};

// Adds independent normal noise, x + mean + std * N(0, 1), to every pixel (any shape). No
// clipping (unlike torchvision.v2's GaussianNoise), so it may follow Normalize.
class GaussianNoise {
 public:
  explicit GaussianNoise(float std_dev, float mean = 0.f) : std_(std_dev), mean_(mean) {
    if (!(std_dev >= 0.f))
      throw value_error(
          etna::detail::str("GaussianNoise: std must be non-negative, got ", std_dev));
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    const auto n = static_cast<std::uint64_t>(x.numel());
    const std::uint64_t blocks = random_detail::blocks_for<float>(n);
    const RandomStream stream = gen.reserve(blocks);
    // Box-Muller as etna::randn (random_detail::normal_at): block b's words (0, 1) and (2, 3)
    // give the pairs of elements 4b, 4b + 1 and 4b + 2, 4b + 3. The uniforms are gathered
    // first so the logs and sines run as SIMD batches (xsimd), about 5x the scalar speed.
    using B = xsimd::batch<float>;  // the scratch is padded to whole batches
    const std::size_t pairs = static_cast<std::size_t>(2 * blocks);
    const std::size_t padded = (pairs + B::size - 1) / B::size * B::size;
    thread_local std::vector<float> scratch;  // u1 | u2, then radius*cos | radius*sin
    scratch.assign(2 * padded, 0.5f);
    float* u1 = scratch.data();
    float* u2 = scratch.data() + padded;
    for (std::uint64_t b = 0; b < blocks; ++b) {
      const auto r = Philox4x32::generate(stream.seed, stream.offset + b);
      u1[2 * b] = uniform_float(r.v[0]);
      u2[2 * b] = uniform_float(r.v[1]);
      u1[2 * b + 1] = uniform_float(r.v[2]);
      u2[2 * b + 1] = uniform_float(r.v[3]);
    }
#if defined(__OPTIMIZE__)
    const B one(1.f), minus_two(-2.f), two_pi(6.283185307179586f);
    for (std::size_t k = 0; k < padded; k += B::size) {
      const B radius = xsimd::sqrt(minus_two * xsimd::log(one - B::load_unaligned(u1 + k)));
      const auto [sin, cos] = xsimd::sincos(two_pi * B::load_unaligned(u2 + k));
      (radius * cos).store_unaligned(u1 + k);
      (radius * sin).store_unaligned(u2 + k);
    }
#else
    // Unoptimised builds: xsimd 8.1's AVX-512BW log does not compile without __OPTIMIZE__
    // (GCC's blend intrinsics become casting macros), so use the scalar functions.
    for (std::size_t k = 0; k < padded; ++k) {
      const float radius = std::sqrt(-2.f * std::log(1.f - u1[k]));
      const float angle = 6.283185307179586f * u2[k];
      u1[k] = radius * std::cos(angle);
      u2[k] = radius * std::sin(angle);
    }
#endif
    const float* in = src.data();
    float* o = out.data();
    for (std::uint64_t i = 0; i < n; ++i)
      o[i] = in[i] + mean_ + std_ * (i % 2 == 0 ? u1[i / 2] : u2[i / 2]);
    return out;
  }

 private:
  float std_, mean_;
};

}  // namespace etna::data
