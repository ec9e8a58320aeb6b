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
class ConvTranspose2d : public detail::ConvLayerBase<ConvTranspose2d<In, Out, K, Opt, T, D>, Size2,
                                                      ConvTranspose2dOptions, T, D> {
  using Base = detail::ConvLayerBase<ConvTranspose2d, Size2, ConvTranspose2dOptions, T, D>;
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

  static constexpr Size2 static_output_hw(Size2 in) { return output_hw(in, K, Opt); }
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return detail::conv_layer_output_shape<ConvTranspose2d, S, 2, In, Out,
                                           &ConvTranspose2d::static_output_hw>();
  }

  // weight: [in_channels, out_channels / groups, kH, kW] (PyTorch's layout, so its fans make
  // ConvNd.reset_parameters' fan_in out_channels / groups * kH * kW); bias: [out_channels].
  ConvTranspose2d()
    requires(In > 0)
      : ConvTranspose2d(In, Out, K, Opt) {}
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                  ConvTranspose2dOptions options = {})
      : Base(in_channels, out_channels, kernel_size, options,
             checked_weight_shape(in_channels, out_channels, kernel_size, options)) {}

  template <class D2>
  using on_device = ConvTranspose2d<In, Out, K, Opt, T, D2>;
  template <Device D1>
  ConvTranspose2d(const ConvTranspose2d<In, Out, K, Opt, T, D1>& other,
                  detail::DeviceCopy<D>& copy)
      : Base(other, copy) {}

  // x: [N, C_in, H, W] or [C_in, H, W]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& x) {
    const ConvTranspose2dOptions& o = this->options();
    return functional::conv_transpose2d(as_var(x), this->weight, this->bias, o.stride, o.padding,
                                        o.output_padding, o.groups, o.dilation);
  }
  // PyTorch's forward(input, output_size): a stride > 1 maps several input sizes to the same
  // output, so the wanted (height, width) picks the output_padding.
  template <class X>
  Var<T, D> forward(const X& x, Size2 output_size) {
    const Var<T, D> v = as_var(x);
    const ConvTranspose2dOptions& o = this->options();
    if (v.dim() < 3)
      throw shape_error(etna::detail::str("ConvTranspose2d: expected a 3-d or 4-d input, got ",
                                          v.shape()));
    const Size2 zero_pad =
        output_hw({v.size(-2), v.size(-1)}, this->kernel_size(), with_output_padding(o, 0));
    const Size2 extra{output_size.h - zero_pad.h, output_size.w - zero_pad.w};
    if (extra.h < 0 || extra.w < 0 || (extra.h >= o.stride.h && extra.h >= o.dilation.h) ||
        (extra.w >= o.stride.w && extra.w >= o.dilation.w))
      throw value_error(etna::detail::str(
          "ConvTranspose2d: requested an output size of (", output_size.h, ", ", output_size.w,
          "), but valid sizes for input ", v.shape(), " range from (", zero_pad.h, ", ",
          zero_pad.w, ") to (", zero_pad.h + std::max(o.stride.h, o.dilation.h) - 1, ", ",
          zero_pad.w + std::max(o.stride.w, o.dilation.w) - 1, ")"));
    return functional::conv_transpose2d(v, this->weight, this->bias, o.stride, o.padding, extra,
                                        o.groups, o.dilation);
  }

  std::string extra_repr() const {
    const ConvTranspose2dOptions& o = this->options();
    std::string s = etna::detail::str(this->in_channels(), ", ", this->out_channels(),
                                      ", kernel_size=", detail::pair_repr(this->kernel_size()),
                                      ", stride=", detail::pair_repr(o.stride));
    if (!(o.padding == Size2(0))) s += ", padding=" + detail::pair_repr(o.padding);
    if (!(o.dilation == Size2(1))) s += ", dilation=" + detail::pair_repr(o.dilation);
    if (!(o.output_padding == Size2(0)))
      s += ", output_padding=" + detail::pair_repr(o.output_padding);
    return s + detail::conv_repr_tail(o.groups, this->bias.defined(), PaddingMode::zeros);
  }

 private:
  static constexpr Size2 output_hw(Size2 in, Size2 k, const ConvTranspose2dOptions& o) {
    return {in.h > 0 ? conv_transpose_output_size(in.h, k.h, o.stride.h, o.padding.h,
                                                  o.output_padding.h, o.dilation.h)
                     : 0,
            in.w > 0 ? conv_transpose_output_size(in.w, k.w, o.stride.w, o.padding.w,
                                                  o.output_padding.w, o.dilation.w)
                     : 0};
  }
  static ConvTranspose2dOptions with_output_padding(ConvTranspose2dOptions o, Size2 p) {
    o.output_padding = p;
    return o;
  }
  static Shape checked_weight_shape(std::int64_t in_channels, std::int64_t out_channels,
                                    Size2 kernel_size, const ConvTranspose2dOptions& options) {
    detail::check_conv_arguments("ConvTranspose2d", in_channels, out_channels, options.groups,
                                 {kernel_size.h, kernel_size.w},
                                 {options.stride.h, options.stride.w},
                                 {options.dilation.h, options.dilation.w});
    if (options.padding.h < 0 || options.padding.w < 0 || options.output_padding.h < 0 ||
        options.output_padding.w < 0)
      throw value_error("ConvTranspose2d: padding and output_padding must be non-negative");
    check_output_padding(options, options.output_padding);
    if (In > 0 && (in_channels != In || out_channels != Out || !(kernel_size == K) ||
                   !(options == Opt)))
      throw value_error(etna::detail::str("ConvTranspose2d<", In, ", ", Out,
                                          ", ...>: constructed with other sizes or options (",
                                          in_channels, ", ", out_channels, ")"));
    return {in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w};
  }
  static void check_output_padding(const ConvTranspose2dOptions& o, Size2 p) {
    if ((p.h >= o.stride.h && p.h >= o.dilation.h) || (p.w >= o.stride.w && p.w >= o.dilation.w))
      throw value_error(etna::detail::str(
          "ConvTranspose2d: output_padding ", detail::pair_repr(p),
          " must be smaller than either stride ", detail::pair_repr(o.stride), " or dilation ",
          detail::pair_repr(o.dilation)));
  }
};

}  // namespace etna::nn
