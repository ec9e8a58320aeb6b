// What the convolution and pooling layers share: output sizes from their options (constexpr, for
// compile-time shapes), explicit padding from "same"/"valid", argument checks, the pieces of
// PyTorch's repr, and ConvLayerBase (the parameters, sizes and device copy of Conv1d, Conv2d and
// ConvTranspose2d).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/nn/functional/conv_options.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"
#include "etna/nn/static_shape.hpp"

namespace etna::nn::detail {

// The padding before and after one dimension: "same" puts the odd element at the end, as
// PyTorch's _reversed_padding_repeated_twice.
constexpr std::pair<std::int64_t, std::int64_t> padding_begin_end(PaddingKind kind,
                                                                   std::int64_t size,
                                                                   std::int64_t kernel,
                                                                   std::int64_t dilation) {
  if (kind == PaddingKind::same)
    return {same_padding_begin(kernel, dilation), same_padding_end(kernel, dilation)};
  if (kind == PaddingKind::valid) return {0, 0};
  return {size, size};
}

constexpr Padding2 as_padding2(Padding1 p) {
  return p.kind == PaddingKind::explicit_sizes ? Padding2(0, p.size) : Padding2(p.kind);
}

// A convolution's output (height, width) for an input of (height, width); 0 where the input
// size is unknown (0) or too small.
constexpr Size2 conv2d_output_hw(Size2 in, Size2 kernel, const Conv2dOptions& o) {
  const auto [t, b] = padding_begin_end(o.padding.kind, o.padding.size.h, kernel.h, o.dilation.h);
  const auto [l, r] = padding_begin_end(o.padding.kind, o.padding.size.w, kernel.w, o.dilation.w);
  return {in.h > 0 ? conv_output_size(in.h, kernel.h, o.stride.h, t, b, o.dilation.h) : 0,
          in.w > 0 ? conv_output_size(in.w, kernel.w, o.stride.w, l, r, o.dilation.w) : 0};
}

// The sample shape after a convolution layer with In -> Out channels (0: runtime-sized) over Rank
// spatial dimensions (1: [C, L], 2: [C, H, W]); OutputHw maps an input (height, width) to the
// output's (1-d layers use height 1), 0 where a size is unknown. Checks rank, channels and that
// the kernel fits, each as a compile error naming the layer.
template <class Layer, SampleShape S, int Rank, std::int64_t In, std::int64_t Out,
          Size2 (*OutputHw)(Size2)>
constexpr SampleShape conv_layer_output_shape() {
  const auto shape = [](std::int64_t c, Size2 hw) {
    return Rank == 2 ? sample_shape(c, hw.h, hw.w) : sample_shape(c, hw.w);
  };
  if constexpr (!S.known()) {
    return In > 0 ? shape(Out, Size2(0)) : kUnknownShape;
  } else {
    static_assert(check_channels_first<Layer, S, Rank + 1, In>());
    if constexpr (In == 0) {
      return shape(0, Size2(0));
    } else {
      constexpr Size2 in = Rank == 2 ? Size2{S[1], S[2]} : Size2{1, S[1]};
      constexpr Size2 o = OutputHw(in);
      if constexpr (in.h > 0 && in.w > 0)
        static_assert(input_too_small_for_layer<Layer, o.h, o.w>::value);
      return shape(Out, o);
    }
  }
}

inline const char* padding_mode_name(PaddingMode m) {
  switch (m) {
    case PaddingMode::reflect: return "reflect";
    case PaddingMode::replicate: return "replicate";
    case PaddingMode::circular: return "circular";
    default: return "zeros";
  }
}

// (3, 3) as PyTorch prints a size it stored as a tuple.
inline std::string pair_repr(Size2 s) { return etna::detail::str("(", s.h, ", ", s.w, ")"); }

// ", groups=2, bias=False, padding_mode=reflect": the parts PyTorch prints when not default.
inline std::string conv_repr_tail(std::int64_t groups, bool bias, PaddingMode mode) {
  std::string s;
  if (groups != 1) s += etna::detail::str(", groups=", groups);
  if (!bias) s += ", bias=False";
  if (mode != PaddingMode::zeros) s += std::string(", padding_mode=") + padding_mode_name(mode);
  return s;
}

// The constructor checks PyTorch's _ConvNd makes, with the layer's name in the message.
inline void check_conv_arguments(const char* layer, std::int64_t in, std::int64_t out,
                                 std::int64_t groups, std::initializer_list<std::int64_t> kernel,
                                 std::initializer_list<std::int64_t> stride,
                                 std::initializer_list<std::int64_t> dilation) {
  if (in <= 0 || out <= 0)
    throw value_error(etna::detail::str(layer, ": in_channels and out_channels must be positive, "
                                               "got ", in, " and ", out));
  if (groups <= 0) throw value_error(etna::detail::str(layer, ": groups must be positive"));
  if (in % groups != 0)
    throw value_error(etna::detail::str(layer, ": in_channels (", in,
                                        ") must be divisible by groups (", groups, ")"));
  if (out % groups != 0)
    throw value_error(etna::detail::str(layer, ": out_channels (", out,
                                        ") must be divisible by groups (", groups, ")"));
  for (auto k : kernel)
    if (k <= 0)
      throw value_error(etna::detail::str(layer, ": kernel_size must be positive, got ", k));
  for (auto s : stride)
    if (s <= 0) throw value_error(etna::detail::str(layer, ": stride must be positive, got ", s));
  for (auto d : dilation)
    if (d <= 0)
      throw value_error(etna::detail::str(layer, ": dilation must be positive, got ", d));
}

// The state the convolution layers share: PyTorch's weight (layout chosen by the layer) and bias
// [out_channels] with PyTorch's ConvNd.reset_parameters (kaiming_uniform_(a = sqrt(5)) on the
// weight, bias uniform within 1 / sqrt(fan_in)), the sizes and options, the copy to another
// device and the registration. Self is the layer, so it prints and registers under its name.
template <class Self, class Kernel, class Options, FloatingScalar T, Device D>
class ConvLayerBase : public Module<Self> {
 public:
  Var<T, D> weight;
  Var<T, D> bias;  // [out_channels]; undefined with .bias = false

  std::int64_t in_channels() const { return in_; }
  std::int64_t out_channels() const { return out_; }
  Kernel kernel_size() const { return kernel_; }
  const Options& options() const { return opt_; }

  ETNA_MODULE(weight, bias)

 protected:
  // weight_shape comes from the layer's argument check, so nothing is allocated for bad sizes.
  ConvLayerBase(std::int64_t in, std::int64_t out, Kernel kernel, const Options& options,
                const Shape& weight_shape)
      : in_(in), out_(out), kernel_(kernel), opt_(options) {
    weight = Var<T, D>(empty<T, D>(weight_shape), true);
    if (options.bias) {
      bias = Var<T, D>(empty<T, D>({out}), true);
      init::reset_linear_(weight, bias);
    } else {
      init::reset_linear_(weight);
    }
  }
  template <class S1, Device D1>
  ConvLayerBase(const ConvLayerBase<S1, Kernel, Options, T, D1>& other, DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        in_(other.in_channels()),
        out_(other.out_channels()),
        kernel_(other.kernel_size()),
        opt_(other.options()) {}

 private:
  std::int64_t in_ = 0, out_ = 0;
  Kernel kernel_{};
  Options opt_{};
};

}  // namespace etna::nn::detail
