// nn::Flatten and nn::Identity: the stateless shape layers. Flatten(start_dim=1, end_dim=-1)
// joins dimensions as torch.nn.Flatten (a view, no copy); Identity returns its input.
#pragma once

#include <cstdint>
#include <string>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/static_shape.hpp"

namespace etna::nn {

// Flattens dimensions start_dim..end_dim into one; the default keeps the batch dimension, so
// [N, C, H, W] becomes [N, C*H*W]. The output size is not known at compile time.
struct Flatten : Module<Flatten> {
  std::int64_t start_dim = 1, end_dim = -1;
  Flatten() = default;
  // A known sample shape [C, H, W] becomes [C*H*W]. This assumes the default dimensions (a
  // Flatten built with others is checked at run time by the layers after it).
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) return kUnknownShape;
    else return sample_shape(S.complete() ? S.numel() : 0);
  }
  explicit Flatten(std::int64_t start, std::int64_t end = -1) : start_dim(start), end_dim(end) {}

  // A Var (or Var expression) gives a Var whose gradient is reshaped back; a tensor, a tensor.
  template <class X>
  auto forward(const X& x) const {
    if constexpr (VarLike<X>)
      return as_var(x).flatten(start_dim, end_dim);
    else
      return etna::eval(x).flatten(start_dim, end_dim);
  }
  std::string extra_repr() const {
    return etna::detail::str("start_dim=", start_dim, ", end_dim=", end_dim);
  }
  ETNA_MODULE()
};

// A placeholder layer (PyTorch's nn.Identity): forward returns its input unchanged, lazy
// expressions included.
struct Identity : Module<Identity> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  template <class X>
  X forward(const X& x) const {
    return x;
  }
  ETNA_MODULE()
};

}  // namespace etna::nn
