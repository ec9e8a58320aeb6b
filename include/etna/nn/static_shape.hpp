// Compile-time sample shapes: a typed network that starts with nn::Input<1, 28, 28> knows the
// shape of every layer's output, so Sequential<Input<1, 28, 28>, Conv2d<1, 6, 5>, ...,
// Flatten, Linear<400, 120>> is checked when it is compiled (a wrong 400 is a compile error
// naming the layer and both sizes), as Keras checks a model built on an Input.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "etna/core/error.hpp"
#include "etna/core/shape.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {

// The shape of one sample (without the batch dimension) as far as it is known at compile time:
// rank -1 = nothing known; a dimension of 0 = that size is not known.
struct SampleShape {
  int rank = -1;
  std::array<std::int64_t, 4> dims{};
  constexpr bool known() const { return rank >= 0; }
  // Whether every size is known (and the rank).
  constexpr bool complete() const {
    if (rank < 0) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[static_cast<std::size_t>(i)] <= 0) return false;
    return true;
  }
  constexpr std::int64_t operator[](int i) const { return dims[static_cast<std::size_t>(i)]; }
  constexpr std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[static_cast<std::size_t>(i)];
    return n;
  }
  friend constexpr bool operator==(const SampleShape&, const SampleShape&) = default;
};

inline constexpr SampleShape kUnknownShape{};

constexpr SampleShape sample_shape(std::int64_t a) { return {1, {a, 0, 0, 0}}; }
constexpr SampleShape sample_shape(std::int64_t a, std::int64_t b) { return {2, {a, b, 0, 0}}; }
constexpr SampleShape sample_shape(std::int64_t a, std::int64_t b, std::int64_t c) {
  return {3, {a, b, c, 0}};
}
constexpr SampleShape sample_shape(std::int64_t a, std::int64_t b, std::int64_t c,
                                   std::int64_t d) {
  return {4, {a, b, c, d}};
}

// Each rule below is a class template whose static_assert fires with the layer and the sizes in
// its template arguments, which the compiler prints: "input_channels_must_match<Conv2d<6, 16,
// ...>, 6, 16>" reads as "Conv2d<6, 16> expects 6 channels and got 16".
template <class Layer, std::int64_t Expected, std::int64_t Got>
struct input_channels_must_match {
  static_assert(Expected == Got,
                "et::nn: a layer's input channel count differs from the channels it is given "
                "(template arguments of input_channels_must_match: the layer, the channels it "
                "expects, the channels the previous layer produces)");
  static constexpr bool value = true;
};
template <class Layer, std::int64_t Expected, std::int64_t Got>
struct input_features_must_match {
  static_assert(Expected == Got,
                "et::nn: a layer's input size differs from the size of the last dimension it is "
                "given (template arguments of input_features_must_match: the layer, the size it "
                "expects, the size the previous layer produces)");
  static constexpr bool value = true;
};
template <class Layer, int ExpectedRank, int GotRank>
struct input_rank_must_match {
  static_assert(ExpectedRank == GotRank,
                "et::nn: a layer is given samples of the wrong rank (template arguments of "
                "input_rank_must_match: the layer, the rank of one sample it expects, e.g. 3 for "
                "[C, H, W], and the rank it is given)");
  static constexpr bool value = true;
};
template <class Layer, std::int64_t OutHeight, std::int64_t OutWidth>
struct input_too_small_for_layer {
  static_assert(OutHeight > 0 && OutWidth > 0,
                "et::nn: a layer's input is smaller than its (dilated) kernel, so its output would "
                "be empty (template arguments of input_too_small_for_layer: the layer and the "
                "output height and width it would have)");
  static constexpr bool value = true;
};

// The output sample shape of layer L for input sample shape In. A layer may define
//   template <SampleShape In> static constexpr SampleShape static_output_shape();
// (with an explicit return type, so that asking whether it exists does not instantiate it);
// otherwise element-wise layers (static_out_features == kSameFeatures) keep the shape and any
// other layer's output is unknown.
template <class L, SampleShape In>
constexpr SampleShape static_output_shape_v = [] {
  if constexpr (requires { { L::template static_output_shape<In>() } -> std::same_as<SampleShape>; })
    return L::template static_output_shape<In>();
  else if constexpr (static_out_features_v<L> == kSameFeatures)
    return In;
  else
    return kUnknownShape;
}();

// The shape after a chain of layers.
template <SampleShape In, class... L>
struct chain_output_shape {
  static constexpr SampleShape value = In;
};
template <SampleShape In, class L0, class... L>
struct chain_output_shape<In, L0, L...> {
  static constexpr SampleShape value =
      chain_output_shape<static_output_shape_v<L0, In>, L...>::value;
};

namespace detail {

// Checks an image-like layer's input: rank (when known) and channel count (when both known).
template <class Layer, SampleShape In, int Rank, std::int64_t Channels>
constexpr bool check_channels_first() {
  if constexpr (In.known()) {
    static_assert(input_rank_must_match<Layer, Rank, In.rank>::value);
    if constexpr (Channels > 0 && In[0] > 0)
      static_assert(input_channels_must_match<Layer, Channels, In[0]>::value);
  }
  return true;
}

}  // namespace detail

// The first layer of a typed network with a fixed sample shape: Input<1, 28, 28> takes
// [N, 1, 28, 28] batches. At run time it checks its input's shape and passes it on unchanged.
template <std::int64_t... Dims>
struct Input : Module<Input<Dims...>> {
  static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 4,
                "et::nn::Input<Dims...>: give the shape of one sample, 1 to 4 sizes (e.g. "
                "Input<1, 28, 28> for [N, 1, 28, 28] batches)");
  static_assert(((Dims > 0) && ...), "et::nn::Input<Dims...>: sizes must be positive");
  static constexpr std::int64_t static_out_features = kSameFeatures;
  static constexpr SampleShape shape = sample_shape(Dims...);

  template <SampleShape In>
  static constexpr SampleShape static_output_shape() {
    return shape;
  }

  template <class X>
  X forward(const X& x) const {
    const Shape expected{Dims...};
    const Shape s = x.shape();
    bool ok = s.size() == static_cast<int>(sizeof...(Dims)) + 1;
    for (int i = 0; ok && i < expected.size(); ++i) ok = s[i + 1] == expected[i];
    if (!ok)
      throw shape_error(etna::detail::str("Input", expected, ": expected a batch of shape [N, ",
                                          shape_tail(expected), "], got shape ", s));
    return x;
  }
  std::string extra_repr() const { return etna::detail::str("shape=", Shape{Dims...}); }
  ETNA_MODULE()

 private:
  static std::string shape_tail(const Shape& s) {
    std::string out;
    for (int i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out;
  }
};

}  // namespace etna::nn
