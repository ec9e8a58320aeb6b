// nn::ConvTranspose2d: the transposed ("fractionally strided") convolution layer over
// functional::conv_transpose2d, with PyTorch's weight layout [C_in, C_out / groups, kH, kW],
// initialisation, output_size argument and repr. Used to upsample (DCGAN generators, decoders).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "etna/core/error.hpp"
#include "etna/nn/conv_layer_base.hpp"
#include "etna/nn/functional/conv_transpose.hpp"

namespace etna::nn {

template <std::int64_t In = 0, std::int64_t Out = 0, Size2 K = Size2{},
          ConvTranspose2dOptions Opt = ConvTranspose2dOptions{}, FloatingScalar T = float,
          Device D = cpu>
class ConvTranspose2d : public Module<ConvTranspose2d<In, Out, K, Opt, T, D>> {
  static_assert((In == 0) == (Out == 0) && (In == 0) == (K.h == 0 && K.w == 0),
                "et::nn::ConvTranspose2d<In, Out, Kernel>: give the channels and the kernel "
                "size (typed layer) or none of them (sizes given to the constructor)");
  static_assert(In == 0 || (Opt.groups > 0 && In % Opt.groups == 0 && Out % Opt.groups == 0),
                "et::nn::ConvTranspose2d: groups must divide both channel counts");
  static_assert((Opt.output_padding.h < Opt.stride.h || Opt.output_padding.h < Opt.dilation.h) &&
                    (Opt.output_padding.w < Opt.stride.w || Opt.output_padding.w < Opt.dilation.w),
                "et::nn::ConvTranspose2d: output_padding must be smaller than either stride or "
                "dilation");

 public:
  static constexpr std::int64_t static_in_features = In;
  static constexpr std::int64_t static_out_features = Out;

  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) {
      return In > 0 ? sample_shape(Out, 0, 0) : kUnknownShape;
    } else {
      static_assert(detail::check_channels_first<ConvTranspose2d, S, 3, In>());
      if constexpr (In == 0) {
        return sample_shape(0, 0, 0);
      } else {
        constexpr Size2 o = output_hw({S[1], S[2]}, K, Opt);
        if constexpr (S[1] > 0 && S[2] > 0)
          static_assert(input_too_small_for_layer<ConvTranspose2d, o.h, o.w>::value);
        return sample_shape(Out, o.h, o.w);
      }
    }
  }

  Var<T, D> weight;  // [in_channels, out_channels / groups, kH, kW]
  Var<T, D> bias;    // [out_channels]

  ConvTranspose2d()
    requires(In > 0)
      : ConvTranspose2d(In, Out, K, Opt) {}
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                  ConvTranspose2dOptions options = {})
      : in_(in_channels), out_(out_channels), kernel_(kernel_size), opt_(options) {
    detail::check_conv_arguments("ConvTranspose2d", in_channels, out_channels, options.groups,
                                 {kernel_size.h, kernel_size.w},
                                 {options.stride.h, options.stride.w},
                                 {options.dilation.h, options.dilation.w});
    if (options.padding.h < 0 || options.padding.w < 0 || options.output_padding.h < 0 ||
        options.output_padding.w < 0)
      throw value_error("ConvTranspose2d: padding and output_padding must be non-negative");
    check_output_padding(options.output_padding);
    if (In > 0 && (in_channels != In || out_channels != Out || !(kernel_size == K) ||
                   !(options == Opt)))
      throw value_error(etna::detail::str("ConvTranspose2d<", In, ", ", Out,
                                          ", ...>: constructed with other sizes or options (",
                                          in_channels, ", ", out_channels, ")"));
    weight = Var<T, D>(
        empty<T, D>({in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w}),
        true);
    // PyTorch's _ConvNd.reset_parameters: fans from the weight as stored, so fan_in is
    // out_channels / groups * kH * kW here.
    if (options.bias) {
      bias = Var<T, D>(empty<T, D>({out_channels}), true);
      init::reset_linear_(weight, bias);
    } else {
      init::reset_linear_(weight);
    }
  }

  template <class D2>
  using on_device = ConvTranspose2d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  ConvTranspose2d(const ConvTranspose2d<In, Out, K, Opt, T, D1>& other,
                  detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        in_(other.in_channels()),
        out_(other.out_channels()),
        kernel_(other.kernel_size()),
        opt_(other.options()) {}

  std::int64_t in_channels() const { return in_; }
  std::int64_t out_channels() const { return out_; }
  Size2 kernel_size() const { return kernel_; }
  const ConvTranspose2dOptions& options() const { return opt_; }

  // x: [N, C_in, H, W] or [C_in, H, W]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    return functional::conv_transpose2d(as_var(x), weight, bias, opt_.stride, opt_.padding,
                                        opt_.output_padding, opt_.groups, opt_.dilation);
  }
  // PyTorch's forward(input, output_size): a stride > 1 maps several input sizes to the same
  // output, so the wanted (height, width) picks the output_padding.
  template <class X>
  Var<T, D> forward(const X& x, Size2 output_size) {
    const Var<T, D> v = as_var(x);
    if (v.dim() < 3)
      throw shape_error(etna::detail::str("ConvTranspose2d: expected a 3-d or 4-d input, got ",
                                          v.shape()));
    const Size2 zero_pad = output_hw({v.size(-2), v.size(-1)}, kernel_, opt_with_output_padding(0));
    const Size2 extra{output_size.h - zero_pad.h, output_size.w - zero_pad.w};
    if (extra.h < 0 || extra.w < 0 || (extra.h >= opt_.stride.h && extra.h >= opt_.dilation.h) ||
        (extra.w >= opt_.stride.w && extra.w >= opt_.dilation.w))
      throw value_error(etna::detail::str(
          "ConvTranspose2d: requested an output size of (", output_size.h, ", ", output_size.w,
          "), but valid sizes for input ", v.shape(), " range from (", zero_pad.h, ", ",
          zero_pad.w, ") to (", zero_pad.h + std::max(opt_.stride.h, opt_.dilation.h) - 1, ", ",
          zero_pad.w + std::max(opt_.stride.w, opt_.dilation.w) - 1, ")"));
    return functional::conv_transpose2d(v, weight, bias, opt_.stride, opt_.padding, extra,
                                        opt_.groups, opt_.dilation);
  }

  std::string extra_repr() const {
    std::string s = etna::detail::str(in_, ", ", out_, ", kernel_size=", detail::pair_repr(kernel_),
                                      ", stride=", detail::pair_repr(opt_.stride));
    if (!(opt_.padding == Size2(0))) s += ", padding=" + detail::pair_repr(opt_.padding);
    if (!(opt_.dilation == Size2(1))) s += ", dilation=" + detail::pair_repr(opt_.dilation);
    if (!(opt_.output_padding == Size2(0)))
      s += ", output_padding=" + detail::pair_repr(opt_.output_padding);
    return s + detail::conv_repr_tail(opt_.groups, bias.defined(), PaddingMode::zeros);
  }

  ETNA_MODULE(weight, bias)

 private:
  static constexpr Size2 output_hw(Size2 in, Size2 k, const ConvTranspose2dOptions& o) {
    return {in.h > 0 ? conv_transpose_output_size(in.h, k.h, o.stride.h, o.padding.h,
                                                  o.output_padding.h, o.dilation.h)
                     : 0,
            in.w > 0 ? conv_transpose_output_size(in.w, k.w, o.stride.w, o.padding.w,
                                                  o.output_padding.w, o.dilation.w)
                     : 0};
  }
  ConvTranspose2dOptions opt_with_output_padding(Size2 p) const {
    ConvTranspose2dOptions o = opt_;
    o.output_padding = p;
    return o;
  }
  void check_output_padding(Size2 p) const {
    const auto& o = opt_;
    if ((p.h >= o.stride.h && p.h >= o.dilation.h) || (p.w >= o.stride.w && p.w >= o.dilation.w))
      throw value_error(etna::detail::str(
          "ConvTranspose2d: output_padding ", detail::pair_repr(p),
          " must be smaller than either stride ", detail::pair_repr(o.stride), " or dilation ",
          detail::pair_repr(o.dilation)));
  }

  std::int64_t in_ = 0, out_ = 0;
  Size2 kernel_;
  ConvTranspose2dOptions opt_;
};

}  // namespace etna::nn
