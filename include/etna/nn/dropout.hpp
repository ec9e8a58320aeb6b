// nn::Dropout, AlphaDropout and Dropout1d/2d/3d: the layers over functional::dropout,
// alpha_dropout and dropout1d/2d/3d (whole channels) that follow the module's training flag
// (train: random mask from etna's generator; eval: identity).
#pragma once

#include <cstdint>
#include <string>

#include "etna/autograd/function.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/functional/dropout2d.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"

namespace etna::nn {
namespace detail {

enum class DropoutKind { elementwise, alpha, channels1d, channels2d, channels3d };

// The layers differ only in the functional op they call and the name they print.
template <class Self, DropoutKind Kind>
struct DropoutLayer : Module<Self> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  double p = 0.5;  // probability of an element being dropped

  DropoutLayer() = default;
  explicit DropoutLayer(double probability) : p(probability) {
    // At construction, as PyTorch: a bad p fails where it is written, not at the first batch.
    functional::detail::check_probability(type_name_of<Self>().c_str(), probability);
  }

  // Always a Var (a tensor input becomes a constant Var); eval mode returns the input's values.
  template <class X>
  auto forward(const X& x) const {
    if constexpr (Kind == DropoutKind::alpha)
      return functional::alpha_dropout(as_var(x), p, this->is_training());
    else if constexpr (Kind == DropoutKind::channels1d)
      return functional::dropout1d(as_var(x), p, this->is_training());
    else if constexpr (Kind == DropoutKind::channels2d)
      return functional::dropout2d(as_var(x), p, this->is_training());
    else if constexpr (Kind == DropoutKind::channels3d)
      return functional::dropout3d(as_var(x), p, this->is_training());
    else
      return functional::dropout(as_var(x), p, this->is_training());
  }
  // etna has no in-place dropout; PyTorch prints the flag, so it is printed as False.
  std::string extra_repr() const { return "p=" + python_float(p) + ", inplace=False"; }
};

}  // namespace detail

// Inverted dropout: in training, zeroes each element with probability p and scales the rest by
// 1 / (1 - p); in eval mode, the identity. Dropout{} has PyTorch's default p = 0.5.
struct Dropout : detail::DropoutLayer<Dropout, detail::DropoutKind::elementwise> {
  using DropoutLayer::DropoutLayer;
  ETNA_MODULE()
};

// Alpha dropout for SELU networks: keeps zero mean and unit variance (see alpha_dropout).
struct AlphaDropout : detail::DropoutLayer<AlphaDropout, detail::DropoutKind::alpha> {
  using DropoutLayer::DropoutLayer;
  ETNA_MODULE()
};

// Channel dropout (PyTorch's Dropout1d/2d/3d): zeroes whole channels of [N, C, L] / [N, C, H, W]
// / [N, C, D, H, W] inputs (or unbatched ones without N) with probability p and scales the rest
// by 1 / (1 - p): for convolutional features, whose neighbouring values are correlated.
struct Dropout1d : detail::DropoutLayer<Dropout1d, detail::DropoutKind::channels1d> {
  using DropoutLayer::DropoutLayer;
  ETNA_MODULE()
};
struct Dropout2d : detail::DropoutLayer<Dropout2d, detail::DropoutKind::channels2d> {
  using DropoutLayer::DropoutLayer;
  ETNA_MODULE()
};
struct Dropout3d : detail::DropoutLayer<Dropout3d, detail::DropoutKind::channels3d> {
  using DropoutLayer::DropoutLayer;
  ETNA_MODULE()
};

}  // namespace etna::nn
