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
class Conv2d : public Module<Conv2d<In, Out, K, Opt, T, D>> {
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

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) {
      return In > 0 ? sample_shape(Out, 0, 0) : kUnknownShape;
    } else {
      static_assert(detail::check_channels_first<Conv2d, S, 3, In>());
      if constexpr (In == 0) {
        return sample_shape(0, 0, 0);
      } else {
        constexpr Size2 o = detail::conv2d_output_hw({S[1], S[2]}, K, Opt);
        if constexpr (S[1] > 0 && S[2] > 0)
          static_assert(input_too_small_for_layer<Conv2d, o.h, o.w>::value);
        return sample_shape(Out, o.h, o.w);
      }
    }
  }

  Var<T, D> weight;  // [out_channels, in_channels / groups, kH, kW]
  Var<T, D> bias;    // [out_channels]; undefined with .bias = false

  Conv2d()
    requires(In > 0)
      : Conv2d(In, Out, K, Opt) {}
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
         Conv2dOptions options = {})
      : in_(in_channels), out_(out_channels), kernel_(kernel_size), opt_(options) {
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
    weight = Var<T, D>(
        empty<T, D>({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}),
        true);
    if (options.bias) {
      bias = Var<T, D>(empty<T, D>({out_channels}), true);
      init::reset_linear_(weight, bias);  // PyTorch's ConvNd.reset_parameters
    } else {
      init::reset_linear_(weight);
    }
  }

  template <class D2>
  using on_device = Conv2d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  Conv2d(const Conv2d<In, Out, K, Opt, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        in_(other.in_channels()),
        out_(other.out_channels()),
        kernel_(other.kernel_size()),
        opt_(other.options()) {}

  std::int64_t in_channels() const { return in_; }
  std::int64_t out_channels() const { return out_; }
  Size2 kernel_size() const { return kernel_; }
  const Conv2dOptions& options() const { return opt_; }

  // x: [N, C_in, H, W] or [C_in, H, W]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    if (opt_.padding_mode == PaddingMode::zeros)
      return functional::conv2d(as_var(x), weight, bias, opt_.stride, opt_.padding, opt_.dilation,
                                opt_.groups);
    // Other modes pad explicitly (left, right, top, bottom), then convolve without padding.
    const auto [top, bottom] = detail::padding_begin_end(opt_.padding.kind, opt_.padding.size.h,
                                                         kernel_.h, opt_.dilation.h);
    const auto [left, right] = detail::padding_begin_end(opt_.padding.kind, opt_.padding.size.w,
                                                         kernel_.w, opt_.dilation.w);
    const Var<T, D> padded = etna::pad(as_var(x), {left, right, top, bottom},
                                       detail::padding_mode_name(opt_.padding_mode));
    return functional::conv2d(padded, weight, bias, opt_.stride, Padding2(0), opt_.dilation,
                              opt_.groups);
  }

  // As PyTorch: "1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)".
  std::string extra_repr() const {
    std::string s = etna::detail::str(in_, ", ", out_, ", kernel_size=", detail::pair_repr(kernel_),
                                      ", stride=", detail::pair_repr(opt_.stride));
    if (opt_.padding.kind != PaddingKind::explicit_sizes)
      s += opt_.padding.kind == PaddingKind::same ? ", padding=same" : ", padding=valid";
    else if (!(opt_.padding.size == Size2(0)))
      s += ", padding=" + detail::pair_repr(opt_.padding.size);
    if (!(opt_.dilation == Size2(1))) s += ", dilation=" + detail::pair_repr(opt_.dilation);
    return s + detail::conv_repr_tail(opt_.groups, bias.defined(), opt_.padding_mode);
  }

  ETNA_MODULE(weight, bias)

 private:
  std::int64_t in_ = 0, out_ = 0;
  Size2 kernel_;
  Conv2dOptions opt_;
};

// 1-d convolution over [N, C_in, L] (or [C_in, L]) with weight [C_out, C_in / groups, k].
template <std::int64_t In = 0, std::int64_t Out = 0, std::int64_t K = 0,
          Conv1dOptions Opt = Conv1dOptions{}, FloatingScalar T = float, Device D = cpu>
class Conv1d : public Module<Conv1d<In, Out, K, Opt, T, D>> {
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

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) {
      return In > 0 ? sample_shape(Out, 0) : kUnknownShape;
    } else {
      static_assert(detail::check_channels_first<Conv1d, S, 2, In>());
      if constexpr (In == 0) {
        return sample_shape(0, 0);
      } else {
        constexpr std::int64_t o =
            detail::conv2d_output_hw({1, S[1]}, {1, K},
                                     {.stride = {1, Opt.stride},
                                      .padding = detail::as_padding2(Opt.padding),
                                      .dilation = {1, Opt.dilation}})
                .w;
        if constexpr (S[1] > 0) static_assert(input_too_small_for_layer<Conv1d, 1, o>::value);
        return sample_shape(Out, o);
      }
    }
  }

  Var<T, D> weight;  // [out_channels, in_channels / groups, k]
  Var<T, D> bias;    // [out_channels]

  Conv1d()
    requires(In > 0)
      : Conv1d(In, Out, K, Opt) {}
  Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
         Conv1dOptions options = {})
      : in_(in_channels), out_(out_channels), kernel_(kernel_size), opt_(options) {
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
    weight = Var<T, D>(empty<T, D>({out_channels, in_channels / options.groups, kernel_size}),
                       true);
    if (options.bias) {
      bias = Var<T, D>(empty<T, D>({out_channels}), true);
      init::reset_linear_(weight, bias);
    } else {
      init::reset_linear_(weight);
    }
  }

  template <class D2>
  using on_device = Conv1d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  Conv1d(const Conv1d<In, Out, K, Opt, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        in_(other.in_channels()),
        out_(other.out_channels()),
        kernel_(other.kernel_size()),
        opt_(other.options()) {}

  std::int64_t in_channels() const { return in_; }
  std::int64_t out_channels() const { return out_; }
  std::int64_t kernel_size() const { return kernel_; }
  const Conv1dOptions& options() const { return opt_; }

  // x: [N, C_in, L] or [C_in, L]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    if (opt_.padding_mode == PaddingMode::zeros)
      return functional::conv1d(as_var(x), weight, bias, opt_.stride, opt_.padding, opt_.dilation,
                                opt_.groups);
    const auto [left, right] = detail::padding_begin_end(opt_.padding.kind, opt_.padding.size,
                                                         kernel_, opt_.dilation);
    const Var<T, D> padded =
        etna::pad(as_var(x), {left, right}, detail::padding_mode_name(opt_.padding_mode));
    return functional::conv1d(padded, weight, bias, opt_.stride, Padding1(0), opt_.dilation,
                              opt_.groups);
  }

  // As PyTorch: "16, 33, kernel_size=(3,), stride=(2,)".
  std::string extra_repr() const {
    std::string s = etna::detail::str(in_, ", ", out_, ", kernel_size=(", kernel_,
                                      ",), stride=(", opt_.stride, ",)");
    if (opt_.padding.kind != PaddingKind::explicit_sizes)
      s += opt_.padding.kind == PaddingKind::same ? ", padding=same" : ", padding=valid";
    else if (opt_.padding.size != 0)
      s += etna::detail::str(", padding=(", opt_.padding.size, ",)");
    if (opt_.dilation != 1) s += etna::detail::str(", dilation=(", opt_.dilation, ",)");
    return s + detail::conv_repr_tail(opt_.groups, bias.defined(), opt_.padding_mode);
  }

  ETNA_MODULE(weight, bias)

 private:
  std::int64_t in_ = 0, out_ = 0, kernel_ = 0;
  Conv1dOptions opt_;
};

}  // namespace etna::nn
