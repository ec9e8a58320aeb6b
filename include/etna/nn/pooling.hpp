// nn::MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and AdaptiveMaxPool2d: the stateless pooling
// layers over functional::max_pool2d & co., with PyTorch's defaults (stride = kernel size) and
// repr. MaxPool2d<2> is typed (its output shape is known at compile time in a network that
// starts with nn::Input); MaxPool2d<>(3, {.stride = 2, .padding = 1}) is the runtime form.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/nn/conv_layer_base.hpp"
#include "etna/nn/functional/pooling.hpp"

namespace etna::nn {
namespace detail {

// 2 or (2, 3): PyTorch prints the int or tuple it was given; etna prints a square size as an int.
inline std::string size_repr(Size2 s) {
  return s.h == s.w ? std::to_string(s.h) : pair_repr(s);
}

constexpr Size2 effective_stride(Size2 kernel, Size2 stride) {
  return {stride.h > 0 ? stride.h : kernel.h, stride.w > 0 ? stride.w : kernel.w};
}

// A pooling layer's output shape for a known [C, H, W] sample: channels unchanged.
template <class Layer, SampleShape S, Size2 K, Size2 Stride, Size2 Pad, Size2 Dil, bool Ceil>
constexpr SampleShape pooled_shape() {
  if constexpr (!S.known()) {
    return kUnknownShape;
  } else {
    static_assert(check_channels_first<Layer, S, 3, 0>());
    if constexpr (K.h == 0) {
      return sample_shape(S[0], 0, 0);
    } else {
      constexpr Size2 st = effective_stride(K, Stride);
      constexpr std::int64_t h =
          S[1] > 0 ? pool_output_size(S[1], K.h, st.h, Pad.h, Dil.h, Ceil) : 0;
      constexpr std::int64_t w =
          S[2] > 0 ? pool_output_size(S[2], K.w, st.w, Pad.w, Dil.w, Ceil) : 0;
      if constexpr (S[1] > 0 && S[2] > 0)
        static_assert(input_too_small_for_layer<Layer, h, w>::value);
      return sample_shape(S[0], h, w);
    }
  }
}

inline void check_pool_arguments(const char* layer, Size2 kernel, Size2 stride, Size2 padding) {
  if (kernel.h <= 0 || kernel.w <= 0)
    throw value_error(etna::detail::str(layer, ": kernel_size must be positive, got ",
                                        pair_repr(kernel)));
  if (stride.h < 0 || stride.w < 0)
    throw value_error(etna::detail::str(layer, ": stride must be positive, got ",
                                        pair_repr(stride)));
  if (padding.h * 2 > kernel.h || padding.w * 2 > kernel.w)
    throw value_error(etna::detail::str(layer, ": padding ", pair_repr(padding),
                                        " should be at most half of kernel size ",
                                        pair_repr(kernel)));
}

}  // namespace detail

// Max over kH x kW windows of [N, C, H, W] (or [C, H, W]); stride defaults to the kernel size.
template <Size2 K = Size2{}, MaxPool2dOptions Opt = MaxPool2dOptions{}>
struct MaxPool2d : Module<MaxPool2d<K, Opt>> {
  static_assert(K.h >= 0 && K.w >= 0, "et::nn::MaxPool2d: the kernel size must be positive");
  static_assert(Opt.padding.h * 2 <= K.h && Opt.padding.w * 2 <= K.w,
                "et::nn::MaxPool2d: padding should be at most half of the kernel size");
  static constexpr std::int64_t static_out_features = kSameFeatures;  // channels unchanged

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return detail::pooled_shape<MaxPool2d, S, K, Opt.stride, Opt.padding, Opt.dilation,
                                Opt.ceil_mode>();
  }

  Size2 kernel_size = K;
  MaxPool2dOptions options = Opt;

  MaxPool2d()
    requires(K.h > 0)
  = default;
  explicit MaxPool2d(Size2 kernel, MaxPool2dOptions opts = {}) : kernel_size(kernel), options(opts) {
    detail::check_pool_arguments("MaxPool2d", kernel, opts.stride, opts.padding);
    if (K.h > 0 && !(kernel == K && opts == Opt))
      throw value_error("MaxPool2d<K, Options>: constructed with another kernel size or options");
  }

  template <class X>
  auto forward(const X& x) const {
    return functional::max_pool2d(x, kernel_size, options.stride, options.padding,
                                  options.dilation, options.ceil_mode);
  }
  // PyTorch's return_indices=True: the output and the flat index of each maximum in its
  // H * W input plane (for MaxUnpool-style uses and inspection).
  template <class X>
  auto forward_with_indices(const X& x) const {
    return functional::max_pool2d_with_indices(x, kernel_size, options.stride, options.padding,
                                               options.dilation, options.ceil_mode);
  }

  std::string extra_repr() const {
    const Size2 st = detail::effective_stride(kernel_size, options.stride);
    return etna::detail::str("kernel_size=", detail::size_repr(kernel_size),
                             ", stride=", detail::size_repr(st),
                             ", padding=", detail::size_repr(options.padding),
                             ", dilation=", detail::size_repr(options.dilation),
                             ", ceil_mode=", detail::python_bool(options.ceil_mode));
  }
  ETNA_MODULE()
};

// Mean over kH x kW windows; count_include_pad and divisor_override as PyTorch.
template <Size2 K = Size2{}, AvgPool2dOptions Opt = AvgPool2dOptions{}>
struct AvgPool2d : Module<AvgPool2d<K, Opt>> {
  static_assert(K.h >= 0 && K.w >= 0, "et::nn::AvgPool2d: the kernel size must be positive");
  static_assert(Opt.padding.h * 2 <= K.h && Opt.padding.w * 2 <= K.w,
                "et::nn::AvgPool2d: padding should be at most half of the kernel size");
  static constexpr std::int64_t static_out_features = kSameFeatures;

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return detail::pooled_shape<AvgPool2d, S, K, Opt.stride, Opt.padding, Size2(1),
                                Opt.ceil_mode>();
  }

  Size2 kernel_size = K;
  AvgPool2dOptions options = Opt;

  AvgPool2d()
    requires(K.h > 0)
  = default;
  explicit AvgPool2d(Size2 kernel, AvgPool2dOptions opts = {}) : kernel_size(kernel), options(opts) {
    detail::check_pool_arguments("AvgPool2d", kernel, opts.stride, opts.padding);
    if (opts.divisor_override < 0)
      throw value_error("AvgPool2d: divisor_override must be positive (0 for none)");
    if (K.h > 0 && !(kernel == K && opts == Opt))
      throw value_error("AvgPool2d<K, Options>: constructed with another kernel size or options");
  }

  template <class X>
  auto forward(const X& x) const {
    return functional::avg_pool2d(x, kernel_size, options.stride, options.padding,
                                  options.ceil_mode, options.count_include_pad,
                                  options.divisor_override);
  }

  std::string extra_repr() const {
    const Size2 st = detail::effective_stride(kernel_size, options.stride);
    // PyTorch's AvgPool2d prints these three only.
    return etna::detail::str("kernel_size=", detail::size_repr(kernel_size),
                             ", stride=", detail::size_repr(st),
                             ", padding=", detail::size_repr(options.padding));
  }
  ETNA_MODULE()
};

namespace detail {

// The adaptive pools share everything but the functional op and the name.
template <class Self, Size2 Out, bool Max>
struct AdaptivePool2d : Module<Self> {
  static_assert(Out.h >= 0 && Out.w >= 0, "et::nn::Adaptive*Pool2d: output sizes must be positive");
  static constexpr std::int64_t static_out_features = kSameFeatures;

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) {
      return kUnknownShape;
    } else {
      static_assert(check_channels_first<Self, S, 3, 0>());
      return sample_shape(S[0], Out.h, Out.w);
    }
  }

  Size2 output_size = Out;

  AdaptivePool2d()
    requires(Out.h > 0)
  = default;
  explicit AdaptivePool2d(Size2 size) : output_size(size) {
    if (size.h <= 0 || size.w <= 0)
      throw value_error(etna::detail::str(type_name_of<Self>(),
                                          ": output_size must be positive, got ", pair_repr(size)));
    if (Out.h > 0 && !(size == Out))
      throw value_error(etna::detail::str(type_name_of<Self>(),
                                          ": constructed with another output_size"));
  }

  template <class X>
  auto forward(const X& x) const {
    if constexpr (Max) return functional::adaptive_max_pool2d(x, output_size);
    else return functional::adaptive_avg_pool2d(x, output_size);
  }
  std::string extra_repr() const { return "output_size=" + size_repr(output_size); }
};

}  // namespace detail

// Averages each [H, W] plane down to output_size, with PyTorch's window boundaries
// (floor(i * H / out) to ceil((i + 1) * H / out)); AdaptiveAvgPool2d<1> is global pooling.
template <Size2 Out = Size2{}>
struct AdaptiveAvgPool2d : detail::AdaptivePool2d<AdaptiveAvgPool2d<Out>, Out, false> {
  using detail::AdaptivePool2d<AdaptiveAvgPool2d<Out>, Out, false>::AdaptivePool2d;
  ETNA_MODULE()
};

// The same with the maximum of each window.
template <Size2 Out = Size2{}>
struct AdaptiveMaxPool2d : detail::AdaptivePool2d<AdaptiveMaxPool2d<Out>, Out, true> {
  using detail::AdaptivePool2d<AdaptiveMaxPool2d<Out>, Out, true>::AdaptivePool2d;
  ETNA_MODULE()
};

}  // namespace etna::nn
