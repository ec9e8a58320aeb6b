// nn::Repeat<N, Block>: N independent copies of one block applied in a chain, named "0".."N-1"
// like the PyTorch nn.Sequential of N copies, without N distinct types in the network's type.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {
namespace detail {

// Instantiated when a block's typed sizes differ (Linear<784, 256>) and it is repeated more than
// once: the compiler prints this type with the block and both sizes in its template arguments.
template <class Block, std::int64_t InFeatures, std::int64_t OutFeatures, std::size_t N>
struct repeat_block_in_and_out_sizes_must_match {
  static_assert(N <= 1 || InFeatures == OutFeatures,
                "et::nn::Repeat<N, Block>: the block's output size differs from its input size, "
                "so one copy cannot feed the next (the template arguments of "
                "repeat_block_in_and_out_sizes_must_match above name the block and both sizes)");
  static constexpr bool value = true;
};

template <class Block, std::size_t N>
constexpr bool repeat_sizes_ok() {
  constexpr std::int64_t in = static_in_features_v<Block>, out = static_out_features_v<Block>;
  if constexpr (in > 0 && out > 0)
    return repeat_block_in_and_out_sizes_must_match<Block, in, out, N>::value;
  else return true;
}

}  // namespace detail

template <std::size_t N, class Block>
class Repeat : public Module<Repeat<N, Block>> {
  static_assert(N > 0, "et::nn::Repeat<N, Block>: N must be at least 1");
  static_assert(Layer<Block>,
                "et::nn::Repeat<N, Block>: Block must be an etna layer (derived from "
                "et::nn::Module<Block> and registering its members with ETNA_MODULE)");
  static_assert(detail::repeat_sizes_ok<Block, N>());

 public:
  // The chain takes what the block takes and gives what the block gives (the sizes are equal
  // when both are known and N > 1).
  static constexpr std::int64_t static_in_features = static_in_features_v<Block>;
  static constexpr std::int64_t static_out_features = static_out_features_v<Block>;

  // Every copy default-constructed, so each gets its own fresh initialisation.
  Repeat()
    requires std::default_initializable<Block>
  = default;
  // N deep copies of `prototype` (prototype.clone()): same initial weights, independent storage.
  explicit Repeat(const Block& prototype)
      : blocks_(clones(prototype, std::make_index_sequence<N>{})) {}

  // The copy of `other` on device D2 (net.to<D2>()).
  template <class D2>
  using on_device = Repeat<N, on_device_t<Block, D2>>;
  template <class Block2, class D2>
  Repeat(const Repeat<N, Block2>& other, detail::DeviceCopy<D2>& copy)
      : blocks_([&]<std::size_t... I>(std::index_sequence<I...>) {
          return std::array<Block, N>{copy.module(other.template get<I>())...};
        }(std::make_index_sequence<N>{})) {}

  static constexpr std::size_t size() { return N; }
  template <std::size_t I>
  Block& get() {
    static_assert(I < N, "Repeat::get<I>: index out of range");
    return blocks_[I];
  }
  template <std::size_t I>
  const Block& get() const {
    static_assert(I < N, "Repeat::get<I>: index out of range");
    return blocks_[I];
  }
  // Runtime index, for loops over the copies.
  Block& operator[](std::size_t i) { return blocks_.at(i); }
  const Block& operator[](std::size_t i) const { return blocks_.at(i); }

  // A loop, not a recursion over N: each copy's result is evaluated before the next copy, so the
  // instantiation depth stays constant however large N is.
  template <class X>
  auto forward(X&& x) {
    auto y = detail::materialize(blocks_[0](std::forward<X>(x)));
    for (std::size_t i = 1; i < N; ++i) y = detail::materialize(blocks_[i](y));
    return y;
  }

  auto etna_children() {
    return [this]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tie(blocks_[I]...);
    }(std::make_index_sequence<N>{});
  }
  static std::string etna_child_name(std::size_t index) { return std::to_string(index); }

 private:
  template <std::size_t... I>
  static std::array<Block, N> clones(const Block& prototype, std::index_sequence<I...>) {
    return {((void)I, prototype.clone())...};
  }

  std::array<Block, N> blocks_;
};

}  // namespace etna::nn
