// nn::Conv2d, Conv1d and ConvTranspose2d: the convolution layers over functional::conv2d /
// conv1d / conv_transpose2d, with PyTorch's parameter names, layouts, default initialisation,
// padding modes and repr. Conv2d<1, 6, 5> is typed (its output shape is known at compile time
// in a network that starts with nn::Input); Conv2d<>(1, 6, 5, {.padding = 2}) takes the same
// arguments at run time.
#pragma once

#include <cstdint>
#include <string>

#include "etna/autograd/ops/pad.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/conv_layer_base.hpp"
#include "etna/nn/functional/conv.hpp"

namespace etna::nn {

// 2-d convolution over [N, C_in, H, W] (or unbatched [C_in, H, W]) with weight
// [C_out, C_in / groups, kH, kW] and bias [C_out].
template <std::int64_t In = 0, std::int64_t Out = 0, Size2 K = Size2{},
          Conv2dOptions Opt = Conv2dOptions{}, FloatingScalar T = float, Device D = cpu>
class Conv2d
    : public detail::ConvLayerBase<Conv2d<In, Out, K, Opt, T, D>, Size2, Conv2dOptions, T, D> {
  using Base = detail::ConvLayerBase<Conv2d, Size2, Conv2dOptions, T, D>;
  static_assert((In == 0) == (Out == 0) && (In == 0) == (K.h == 0 && K.w == 0),
                "et::nn::Conv2d<In, Out, Kernel>: give the channels and the kernel size (typed "
                "layer) or none of them (Conv2d<> with sizes given to the constructor)");
  static_assert(In >= 0 && Out >= 0 && K.h >= 0 && K.w >= 0,
                "et::nn::Conv2d: sizes must be positive");
  static_assert(In == 0 || (Opt.groups > 0 && In % Opt.groups == 0 && Out % Opt.groups == 0),
                "et::nn::Conv2d: groups must divide both channel counts");
  static_assert(Opt.padding.kind != PaddingKind::same || (Opt.stride.h == 1 && Opt.stride.w == 1),
                "et::nn::Conv2d: padding=same is not supported for strided convolutions (as in "
                "PyTorch)");

 public:
  static constexpr std::int64_t static_in_features = In;  // channels (dimension 1)
  static constexpr std::int64_t static_out_features = Out;

  // Output (height, width) for an input (height, width); 0 where unknown.
  static constexpr Size2 static_output_hw(Size2 in) {
    return detail::conv2d_output_hw(in, K, Opt);
  }
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return detail::conv_layer_output_shape<Conv2d, S, 2, In, Out, &Conv2d::static_output_hw>();
  }

  // weight: [out_channels, in_channels / groups, kH, kW]; bias: [out_channels].
  Conv2d()
    requires(In > 0)
      : Conv2d(In, Out, K, Opt) {}
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
         Conv2dOptions options = {})
      : Base(in_channels, out_channels, kernel_size, options,
             checked_weight_shape(in_channels, out_channels, kernel_size, options)) {}

  template <class D2>
  using on_device = Conv2d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  Conv2d(const Conv2d<In, Out, K, Opt, T, D1>& other, detail::DeviceCopy<D>& copy)
      : Base(other, copy) {}

  // x: [N, C_in, H, W] or [C_in, H, W]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    const Conv2dOptions& o = this->options();
    const Size2 k = this->kernel_size();
    if (o.padding_mode == PaddingMode::zeros)
      return functional::conv2d(as_var(x), this->weight, this->bias, o.stride, o.padding,
                                o.dilation, o.groups);
    // Other modes pad explicitly (left, right, top, bottom), then convolve without padding.
    const auto [top, bottom] = detail::padding_begin_end(o.padding.kind, o.padding.size.h,
                                                         k.h, o.dilation.h);
    const auto [left, right] = detail::padding_begin_end(o.padding.kind, o.padding.size.w,
                                                         k.w, o.dilation.w);
    const Var<T, D> padded = etna::pad(as_var(x), {left, right, top, bottom},
                                       detail::padding_mode_name(o.padding_mode));
    return functional::conv2d(padded, this->weight, this->bias, o.stride, Padding2(0),
                              o.dilation, o.groups);
  }

  // As PyTorch: "1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)".
  std::string extra_repr() const {
    const Conv2dOptions& o = this->options();
    std::string s = etna::detail::str(this->in_channels(), ", ", this->out_channels(),
                                      ", kernel_size=", detail::pair_repr(this->kernel_size()),
                                      ", stride=", detail::pair_repr(o.stride));
    if (o.padding.kind != PaddingKind::explicit_sizes)
      s += o.padding.kind == PaddingKind::same ? ", padding=same" : ", padding=valid";
    else if (!(o.padding.size == Size2(0)))
      s += ", padding=" + detail::pair_repr(o.padding.size);
    if (!(o.dilation == Size2(1))) s += ", dilation=" + detail::pair_repr(o.dilation);
    return s + detail::conv_repr_tail(o.groups, this->bias.defined(), o.padding_mode);
  }

 private:
  // PyTorch's argument checks, before anything is allocated.
  static Shape checked_weight_shape(std::int64_t in_channels, std::int64_t out_channels,
                                    Size2 kernel_size, const Conv2dOptions& options) {
    detail::check_conv_arguments("Conv2d", in_channels, out_channels, options.groups,
                                 {kernel_size.h, kernel_size.w},
                                 {options.stride.h, options.stride.w},
                                 {options.dilation.h, options.dilation.w});
    if (options.padding.kind == PaddingKind::explicit_sizes &&
        (options.padding.size.h < 0 || options.padding.size.w < 0))
      throw value_error(etna::detail::str("Conv2d: padding must be non-negative, got (",
                                          options.padding.size.h, ", ", options.padding.size.w,
                                          ")"));
    if (options.padding.kind == PaddingKind::same &&
        (options.stride.h != 1 || options.stride.w != 1))
      throw value_error(
          "Conv2d: padding='same' is not supported for strided convolutions (as in PyTorch)");
    if (In > 0 && (in_channels != In || out_channels != Out || !(kernel_size == K) ||
                   !(options == Opt)))
      throw value_error(etna::detail::str("Conv2d<", In, ", ", Out,
                                          ", ...>: constructed with other sizes or options (",
                                          in_channels, ", ", out_channels, ")"));
    return {out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w};
  }
};

// 1-d convolution over [N, C_in, L] (or [C_in, L]) with weight [C_out, C_in / groups, k].
template <std::int64_t In = 0, std::int64_t Out = 0, std::int64_t K = 0,
          Conv1dOptions Opt = Conv1dOptions{}, FloatingScalar T = float, Device D = cpu>
class Conv1d : public detail::ConvLayerBase<Conv1d<In, Out, K, Opt, T, D>, std::int64_t,
                                             Conv1dOptions, T, D> {
  using Base = detail::ConvLayerBase<Conv1d, std::int64_t, Conv1dOptions, T, D>;
  static_assert((In == 0) == (Out == 0) && (In == 0) == (K == 0),
                "et::nn::Conv1d<In, Out, Kernel>: give the channels and the kernel size (typed "
                "layer) or none of them (Conv1d<> with sizes given to the constructor)");
  static_assert(In >= 0 && Out >= 0 && K >= 0, "et::nn::Conv1d: sizes must be positive");
  static_assert(In == 0 || (Opt.groups > 0 && In % Opt.groups == 0 && Out % Opt.groups == 0),
                "et::nn::Conv1d: groups must divide both channel counts");
  static_assert(Opt.padding.kind != PaddingKind::same || Opt.stride == 1,
                "et::nn::Conv1d: padding=same is not supported for strided convolutions");

 public:
  static constexpr std::int64_t static_in_features = In;
  static constexpr std::int64_t static_out_features = Out;

  // The Conv2d rule with height 1.
  static constexpr Size2 static_output_hw(Size2 in) {
    return detail::conv2d_output_hw(in, {1, K},
                                    {.stride = {1, Opt.stride},
                                     .padding = detail::as_padding2(Opt.padding),
                                     .dilation = {1, Opt.dilation}});
  }
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return detail::conv_layer_output_shape<Conv1d, S, 1, In, Out, &Conv1d::static_output_hw>();
  }

  // weight: [out_channels, in_channels / groups, k]; bias: [out_channels].
  Conv1d()
    requires(In > 0)
      : Conv1d(In, Out, K, Opt) {}
  Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
         Conv1dOptions options = {})
      : Base(in_channels, out_channels, kernel_size, options,
             checked_weight_shape(in_channels, out_channels, kernel_size, options)) {}

  template <class D2>
  using on_device = Conv1d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  Conv1d(const Conv1d<In, Out, K, Opt, T, D1>& other, detail::DeviceCopy<D>& copy)
      : Base(other, copy) {}

  // x: [N, C_in, L] or [C_in, L]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    const Conv1dOptions& o = this->options();
    if (o.padding_mode == PaddingMode::zeros)
      return functional::conv1d(as_var(x), this->weight, this->bias, o.stride, o.padding,
                                o.dilation, o.groups);
    const auto [left, right] =
        detail::padding_begin_end(o.padding.kind, o.padding.size, this->kernel_size(), o.dilation);
    const Var<T, D> padded =
        etna::pad(as_var(x), {left, right}, detail::padding_mode_name(o.padding_mode));
    return functional::conv1d(padded, this->weight, this->bias, o.stride, Padding1(0), o.dilation,
                              o.groups);
  }

  // As PyTorch: "16, 33, kernel_size=(3,), stride=(2,)".
  std::string extra_repr() const {
    const Conv1dOptions& o = this->options();
    std::string s = etna::detail::str(this->in_channels(), ", ", this->out_channels(),
                                      ", kernel_size=(", this->kernel_size(), ",), stride=(",
                                      o.stride, ",)");
    if (o.padding.kind != PaddingKind::explicit_sizes)
      s += o.padding.kind == PaddingKind::same ? ", padding=same" : ", padding=valid";
    else if (o.padding.size != 0)
      s += etna::detail::str(", padding=(", o.padding.size, ",)");
    if (o.dilation != 1) s += etna::detail::str(", dilation=(", o.dilation, ",)");
    return s + detail::conv_repr_tail(o.groups, this->bias.defined(), o.padding_mode);
  }

 private:
  static Shape checked_weight_shape(std::int64_t in_channels, std::int64_t out_channels,
                                    std::int64_t kernel_size, const Conv1dOptions& options) {
    detail::check_conv_arguments("Conv1d", in_channels, out_channels, options.groups,
                                 {kernel_size}, {options.stride}, {options.dilation});
    if (options.padding.kind == PaddingKind::explicit_sizes && options.padding.size < 0)
      throw value_error(etna::detail::str("Conv1d: padding must be non-negative, got ",
                                          options.padding.size));
    if (options.padding.kind == PaddingKind::same && options.stride != 1)
      throw value_error(
          "Conv1d: padding='same' is not supported for strided convolutions (as in PyTorch)");
    if (In > 0 && (in_channels != In || out_channels != Out || kernel_size != K ||
                   !(options == Opt)))
      throw value_error(etna::detail::str("Conv1d<", In, ", ", Out,
                                          ", ...>: constructed with other sizes or options (",
                                          in_channels, ", ", out_channels, ")"));
    return {out_channels, in_channels / options.groups, kernel_size};
  }
};

}  // namespace etna::nn
