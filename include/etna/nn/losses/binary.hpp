// Binary losses: binary_cross_entropy on probabilities (logs clamped at -100 as PyTorch) and
// binary_cross_entropy_with_logits (stable softplus form, pos_weight), as fused expressions.
#pragma once

#include <cmath>
#include <type_traits>

#include "etna/backend/cuda/fwd_nn.hpp"
#include "etna/expr/math.hpp"
#include "etna/nn/losses/regression.hpp"

namespace etna::nn {
namespace detail {

// softplus(-x) = -log(sigmoid(x)) = log1p(exp(-|x|)) + max(-x, 0): no exp overflows and no
// log(0) for any x. Its derivative -1 / (1 + exp(x)) is exact at x = 0, where the pieces'
// subgradients (abs, max) would not be.
struct SoftplusNeg {
  static constexpr const char* name = "softplus_neg";
  template <class V>
  ETNA_HD V operator()(V x) const {
    return math::log1p(math::exp(-math::abs(x))) + math::max(-x, math::splat(0, x));
  }
  template <int I, class V>
  ETNA_HD V partial(V, V x) const {
    return math::splat(-1, x) / (math::splat(1, x) + math::exp(x));
  }
};

}  // namespace detail

// Options of binary_cross_entropy; also its callable loss object.
struct BCELoss {
  LossWeight weight{};  // broadcast against the input (e.g. one weight per element or column)
  Reduction reduction = Reduction::mean;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const;
};
using BceOptions = BCELoss;

// Options of binary_cross_entropy_with_logits; also its callable loss object.
struct BCEWithLogitsLoss {
  LossWeight weight{};
  Reduction reduction = Reduction::mean;
  LossWeight pos_weight{};  // weight of positive examples, broadcast along the last dimension
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const;
};
using BceWithLogitsOptions = BCEWithLogitsLoss;

namespace functional {

// -w (y log(p) + (1 - y) log(1 - p)) on probabilities p in [0, 1]; each log is clamped at -100
// so p = 0 or 1 gives a finite loss, as PyTorch. Prefer the logits form: it is stabler.
template <class X, class Y>
auto binary_cross_entropy(const X& input, const Y& target, const BceOptions& options = {}) {
  auto [x, y] = detail::operands("binary_cross_entropy", input, target, options.reduction);
  using T = value_type_of<decltype(x)>;
  using D = typename decltype(x)::device_type;
  auto outside = [](T v) {
    return value_error(etna::detail::str(
        "binary_cross_entropy: input values must lie in [0, 1] (probabilities), got ", v));
  };
  if constexpr (!std::is_same_v<D, cpu>) {
    const Tensor<T, D> xc = x.value().contiguous();
    T bad{};
    if (cuda_backend::find_outside_unit<T>(xc.data(), xc.numel(), bad)) throw outside(bad);
  } else {
    for (T v : x.value())
      if (!(v >= T(0) && v <= T(1))) throw outside(v);
  }
  auto e = -(y * etna::clamp_min(etna::log(x), -100.0) +
             (1.0 - y) * etna::clamp_min(etna::log(1.0 - x), -100.0));
  if (options.weight.defined())
    return nn::detail::reduce(e * options.weight.as<T, D>(), options.reduction);
  return nn::detail::reduce(e, options.reduction);
}

// binary_cross_entropy(sigmoid(x), y) without forming sigmoid: (1 - y) x + l softplus(-x) with
// l = 1 + (pos_weight - 1) y; without pos_weight that is max(x, 0) - x y + log1p(exp(-|x|)).
template <class X, class Y>
auto binary_cross_entropy_with_logits(const X& input, const Y& target,
                                      const BceWithLogitsOptions& options = {}) {
  auto [x, y] =
      detail::operands("binary_cross_entropy_with_logits", input, target, options.reduction);
  using T = value_type_of<decltype(x)>;
  using D = typename decltype(x)::device_type;
  const auto sp = expr::make_unary(nn::detail::SoftplusNeg{}, x);
  auto weighted = [&](const auto& e) {
    if (options.weight.defined())
      return nn::detail::reduce(e * options.weight.template as<T, D>(), options.reduction);
    return nn::detail::reduce(e, options.reduction);
  };
  if (options.pos_weight.defined())
    return weighted((1.0 - y) * x + ((options.pos_weight.as<T, D>() - T(1)) * y + 1.0) * sp);
  return weighted((1.0 - y) * x + sp);
}

}  // namespace functional

template <class X, class Y>
auto BCELoss::operator()(const X& input, const Y& target) const {
  return functional::binary_cross_entropy(input, target, *this);
}
template <class X, class Y>
auto BCEWithLogitsLoss::operator()(const X& input, const Y& target) const {
  return functional::binary_cross_entropy_with_logits(input, target, *this);
}

using functional::binary_cross_entropy;
using functional::binary_cross_entropy_with_logits;

}  // namespace etna::nn
