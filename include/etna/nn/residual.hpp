// nn::Residual<Block>: a skip connection, y = x + block(x), with the block registered as the
// child "block" (so its parameters are "block.weight"...). Output has the input's shape.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {
namespace detail {

// Instantiated when the block's typed sizes differ: x + block(x) needs equal shapes.
template <class Block, std::int64_t InFeatures, std::int64_t OutFeatures>
struct residual_block_in_and_out_sizes_must_match {
  static_assert(InFeatures == OutFeatures,
                "et::nn::Residual<Block>: the block's output size differs from its input size, "
                "so x + block(x) is undefined (the template arguments of "
                "residual_block_in_and_out_sizes_must_match above name the block and both sizes)");
  static constexpr bool value = true;
};

template <class Block>
constexpr bool residual_sizes_ok() {
  constexpr std::int64_t in = static_in_features_v<Block>, out = static_out_features_v<Block>;
  if constexpr (in > 0 && out > 0)
    return residual_block_in_and_out_sizes_must_match<Block, in, out>::value;
  else return true;
}

}  // namespace detail

template <class Block>
class Residual : public Module<Residual<Block>> {
  static_assert(Layer<Block>,
                "et::nn::Residual<Block>: Block must be an etna layer (derived from "
                "et::nn::Module<Block> and registering its members with ETNA_MODULE)");
  static_assert(detail::residual_sizes_ok<Block>());
  static constexpr std::int64_t block_in = static_in_features_v<Block>;
  static constexpr std::int64_t block_out = static_out_features_v<Block>;

 public:
  // The input's size is the block's input size, or its output size when only that is known.
  static constexpr std::int64_t static_in_features =
      block_in > 0 ? block_in : (block_out > 0 ? block_out : 0);
  static constexpr std::int64_t static_out_features =
      static_in_features > 0 ? static_in_features : kSameFeatures;

  Block block;

  Residual() = default;
  explicit Residual(Block b) : block(std::move(b)) {}
  // The copy of `other` on device D2 (net.to<D2>()).
  template <class Block2, class D2>
  Residual(const Residual<Block2>& other, detail::DeviceCopy<D2>& copy)
      : block(copy.module(other.block)) {}

  // x is evaluated once (a lazy input would otherwise be computed twice); the sum stays lazy so
  // that a following element-wise activation fuses with it.
  template <class X>
  auto forward(const X& x) {
    auto in = detail::materialize(x);
    auto out = detail::materialize(block(in));
    if (!(out.shape() == in.shape()))
      throw shape_error(detail::str("Residual: the block's output shape ", out.shape(),
                                    " differs from its input shape ", in.shape(),
                                    " (x + block(x) needs equal shapes)"));
    return in + out;
  }

  ETNA_MODULE(block)
};

}  // namespace etna::nn
