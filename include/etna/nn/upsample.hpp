// nn::Upsample: the stateless resampling layer over functional::interpolate (nearest or
// bilinear, by output size or scale factor), with PyTorch's arguments and repr.
#pragma once

#include <optional>
#include <string>

#include "etna/core/error.hpp"
#include "etna/nn/conv_layer_base.hpp"
#include "etna/nn/functional/upsample.hpp"

namespace etna::nn {

using functional::InterpolationMode;

// Exactly one of size and scale_factor, as torch.nn.Upsample(size=..., scale_factor=...).
struct UpsampleOptions {
  std::optional<Size2> size = std::nullopt;
  std::optional<double> scale_factor = std::nullopt;
  InterpolationMode mode = InterpolationMode::nearest;
  bool align_corners = false;  // bilinear only
};

struct Upsample : Module<Upsample> {
  UpsampleOptions options;

  // Upsample up({.scale_factor = 2.0}); Upsample up({.size = Size2{5, 7}, .mode = bilinear});
  explicit Upsample(UpsampleOptions opts) : options(opts) {
    if (opts.size.has_value() == opts.scale_factor.has_value())
      throw value_error("Upsample: give either size or scale_factor (exactly one of them)");
    if (opts.size && (opts.size->h <= 0 || opts.size->w <= 0))
      throw value_error(etna::detail::str("Upsample: size must be positive, got ",
                                          detail::pair_repr(*opts.size)));
    if (opts.scale_factor && !(*opts.scale_factor > 0))
      throw value_error(etna::detail::str("Upsample: scale_factor must be positive, got ",
                                          *opts.scale_factor));
    if (opts.align_corners && opts.mode == InterpolationMode::nearest)
      throw value_error("Upsample: align_corners only applies to the bilinear mode");
  }

  // Channels are kept; the new spatial sizes are not tracked at compile time.
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) return kUnknownShape;
    else return sample_shape(S[0], 0, 0);
  }

  template <class X>
  auto forward(const X& x) const {
    if (options.size)
      return functional::interpolate(x, *options.size, options.mode, options.align_corners);
    return functional::interpolate(x, *options.scale_factor, options.mode,
                                   options.align_corners);
  }

  // As PyTorch 1.13: "scale_factor=2.0, mode=nearest" or "size=(5, 7), mode=bilinear".
  std::string extra_repr() const {
    const std::string mode = options.mode == InterpolationMode::nearest ? "nearest" : "bilinear";
    if (options.scale_factor)
      return "scale_factor=" + detail::python_float(*options.scale_factor) + ", mode=" + mode;
    return "size=" + detail::pair_repr(*options.size) + ", mode=" + mode;
  }
  ETNA_MODULE()
};

}  // namespace etna::nn
