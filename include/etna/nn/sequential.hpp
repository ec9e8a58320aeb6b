// nn::Sequential<L...>: a flat, typed chain of layers. Children are named "0", "1"... as in
// PyTorch; sizes of typed layers are checked against each other at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/static_shape.hpp"

namespace etna::nn {

template <class... L>
class Sequential;

namespace detail {

struct SequentialInput {};  // "the network's input", as the producer of the first layer's input

// Instantiated for every adjacent pair of layers with known sizes; when they differ the
// compiler prints this type with both layers and both sizes in its template arguments.
template <class Layer, std::int64_t OutFeatures, class NextLayer, std::int64_t NextInFeatures>
struct sequential_layer_sizes_must_match {
  static_assert(OutFeatures == NextInFeatures,
                "et::nn::Sequential: a layer's output size differs from the next layer's input "
                "size (the template arguments of sequential_layer_sizes_must_match above name "
                "the layer, its output size, the next layer and its input size)");
  static constexpr bool value = true;
};

// Walks the chain carrying the last known feature size and the layer that produced it.
template <class Producer, std::int64_t Size, class... Rest>
struct sequential_sizes {
  static constexpr bool value = true;
};
template <class Producer, std::int64_t Size, class L, class... Rest>
struct sequential_sizes<Producer, Size, L, Rest...> {
  static constexpr std::int64_t in = static_in_features_v<L>;
  static constexpr std::int64_t out = static_out_features_v<L>;
  static constexpr bool checked = [] {
    if constexpr (Size > 0 && in > 0)
      return sequential_layer_sizes_must_match<Producer, Size, L, in>::value;
    else return true;
  }();
  using next = std::conditional_t<
      out == kSameFeatures,
      std::conditional_t<(Size == 0 && in > 0), sequential_sizes<L, in, Rest...>,
                         sequential_sizes<Producer, Size, Rest...>>,
      sequential_sizes<L, out, Rest...>>;
  static constexpr bool value = checked && next::value;
};

template <class... L>
struct first_layer_sizes {
  static constexpr std::int64_t in = 0;
};
template <class L0, class... L>
struct first_layer_sizes<L0, L...> {
  static constexpr std::int64_t in = static_in_features_v<L0>;
};

// The last known output size of a chain (0 if unknown), for nesting typed chains.
template <std::int64_t Size, class... L>
struct chain_out_features {
  static constexpr std::int64_t value = Size;
};
template <std::int64_t Size, class L0, class... L>
struct chain_out_features<Size, L0, L...> {
  static constexpr std::int64_t out = static_out_features_v<L0>;
  static constexpr std::int64_t value =
      chain_out_features<(out == kSameFeatures ? (Size == 0 ? static_in_features_v<L0> : Size)
                                               : out),
                         L...>::value;
};

// Sequential<L...> with the I-th layer type replaced by New (what replace<I> returns).
template <std::size_t I, class New, class Tuple, class Indices>
struct replaced_sequential;
template <std::size_t I, class New, class... L, std::size_t... J>
struct replaced_sequential<I, New, std::tuple<L...>, std::index_sequence<J...>> {
  using type = Sequential<std::conditional_t<J == I, New, L>...>;
};

}  // namespace detail

template <class... L>
class Sequential : public Module<Sequential<L...>> {
  static_assert(sizeof...(L) > 0, "et::nn::Sequential needs at least one layer");
  static_assert((Layer<L> && ...),
                "et::nn::Sequential<...>: every element must be an etna layer (a type derived "
                "from et::nn::Module<itself> that registers its members with ETNA_MODULE)");
  static_assert(detail::sequential_sizes<detail::SequentialInput, 0, L...>::value);
  // A chain that starts with nn::Input<...> has known sample shapes: this checks every layer.
  static_assert(chain_output_shape<kUnknownShape, L...>::value.rank >= -1);

 public:
  static constexpr std::int64_t static_in_features = detail::first_layer_sizes<L...>::in;
  static constexpr std::int64_t static_out_features = detail::chain_out_features<0, L...>::value;

  // The sample shape after the whole chain, for a chain nested in a checked network.
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    return chain_output_shape<S, L...>::value;
  }
  // The sample shape this network produces when it starts with nn::Input (else rank -1).
  static constexpr SampleShape static_sample_shape = chain_output_shape<kUnknownShape, L...>::value;

  // Every layer default-constructed (typed layers: PyTorch's default initialisation).
  Sequential()
    requires(std::default_initializable<L> && ...)
  = default;
  // From layer objects: Sequential net(Linear<>(784, 256), ReLU{}, Linear<>(256, 10));
  explicit Sequential(L... layers) : layers_(std::move(layers)...) {}
  // The copy of `other` on another device (net.to<D2>(); Sequential<L...>'s type is rebound
  // layer by layer).
  template <class... L2, class D2>
  Sequential(const Sequential<L2...>& other, detail::DeviceCopy<D2>& copy)
      : layers_([&]<std::size_t... I>(std::index_sequence<I...>) {
          return std::tuple<L...>(copy.module(other.template get<I>())...);
        }(std::index_sequence_for<L...>{})) {}

  static constexpr std::size_t size() { return sizeof...(L); }
  // The I-th layer, as PyTorch's net[I].
  template <std::size_t I>
  auto& get() {
    static_assert(I < sizeof...(L), "Sequential::get<I>: index out of range");
    return std::get<I>(layers_);
  }
  template <std::size_t I>
  const auto& get() const {
    static_assert(I < sizeof...(L), "Sequential::get<I>: index out of range");
    return std::get<I>(layers_);
  }

  // Freezes (unfreezes) the parameters of layers [begin, end), Python slice indices:
  // freeze_layers(0, -1) freezes all but the last layer, freeze_layers(-2) the last two.
  Sequential& freeze_layers(std::ptrdiff_t begin, std::ptrdiff_t end) {
    detail::set_trainable_layers(this->module_ref(), size(), begin, end, false);
    return *this;
  }
  Sequential& freeze_layers(std::ptrdiff_t begin) {
    return freeze_layers(begin, static_cast<std::ptrdiff_t>(size()));
  }
  Sequential& unfreeze_layers(std::ptrdiff_t begin, std::ptrdiff_t end) {
    detail::set_trainable_layers(this->module_ref(), size(), begin, end, true);
    return *this;
  }
  Sequential& unfreeze_layers(std::ptrdiff_t begin) {
    return unfreeze_layers(begin, static_cast<std::ptrdiff_t>(size()));
  }

  // A new Sequential with layer I replaced by `layer` (a new head: replace<12>(Linear<64, 5>{})).
  // The other layers are copies of this network's handles, so they SHARE its parameters and
  // buffers, as in PyTorch where `net[12] = nn.Linear(64, 5)` keeps the other module objects:
  // training the new network changes this one's shared layers (clone() first to keep them apart).
  template <std::size_t I, class New>
  auto replace(New layer) const {
    static_assert(I < sizeof...(L), "Sequential::replace<I>: index out of range");
    using Out = typename detail::replaced_sequential<I, New, std::tuple<L...>,
                                                     std::index_sequence_for<L...>>::type;
    Out out = [&]<std::size_t... J>(std::index_sequence<J...>) {
      return Out([&]() -> decltype(auto) {
        if constexpr (J == I) return std::move(layer);
        else return std::tuple_element_t<J, std::tuple<L...>>(std::get<J>(layers_));
      }()...);
    }(std::index_sequence_for<L...>{});
    detail::ModuleAccess::training(out) = this->is_training();
    return out;
  }

  // Feeds x through every layer; a lazy element-wise result at the end is evaluated.
  template <class X>
  auto forward(X&& x) {
    return detail::materialize(forward_from<0>(std::forward<X>(x)));
  }

  auto etna_children() {
    return std::apply([](auto&... layer) { return std::tie(layer...); }, layers_);
  }
  static std::string etna_child_name(std::size_t index) { return std::to_string(index); }

 private:
  // Returns by value: each layer's result is a temporary of the caller's full expression.
  template <std::size_t I, class X>
  auto forward_from(X&& x) {
    if constexpr (I == sizeof...(L)) return std::remove_cvref_t<X>(std::forward<X>(x));
    else return forward_from<I + 1>(std::get<I>(layers_)(std::forward<X>(x)));
  }

  std::tuple<L...> layers_;
};

}  // namespace etna::nn
