// Losses between distributions and embeddings: kl_div (probability or log-probability
// targets, batchmean) and cosine_embedding_loss (margin), built from fused Var expressions.
#pragma once

#include <cstdint>

#include "etna/nn/losses/regression.hpp"

namespace etna::nn {

// Options of kl_div; also its callable loss object. PyTorch's default reduction is mean (over
// elements); batchmean (sum / batch size) is the one that equals the KL divergence.
struct KLDivLoss {
  Reduction reduction = Reduction::mean;
  bool log_target = false;  // the target holds log-probabilities
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const;
};
using KlDivOptions = KLDivLoss;

// Options of cosine_embedding_loss; also its callable loss object.
struct CosineEmbeddingLoss {
  double margin = 0.0;
  Reduction reduction = Reduction::mean;
  template <class X1, class X2, class Y>
  auto operator()(const X1& input1, const X2& input2, const Y& target) const;
};
using CosineEmbeddingOptions = CosineEmbeddingLoss;

namespace functional {

// kl_div(input = log q, target = p): p (log p - log q), with 0 log 0 = 0 (and no gradient to p
// there); log_target: exp(t) (t - input). Both sides are differentiated.
template <class X, class Y>
auto kl_div(const X& input, const Y& target, const KlDivOptions& options = {}) {
  const Reduction r = options.reduction;
  if (r != Reduction::batchmean) nn::detail::check_reduction("kl_div", r);
  auto [x, y] = detail::operands("kl_div", input, target, Reduction::none);
  using T = value_type_of<decltype(x)>;
  using V = decltype(x);
  // Computed outside the lambda: clang before 16 cannot capture structured bindings.
  const double batch = x.dim() == 0 ? 1.0 : static_cast<double>(x.shape()[0]);
  auto reduce = [&](const auto& e) {
    if (r != Reduction::batchmean) return nn::detail::reduce(e, r);
    return V(etna::sum(e) * (1.0 / batch));
  };
  if (options.log_target) return reduce(etna::exp(y) * (y - x));
  // xlogy without NaN: log reads 1 where p = 0, and the outer where drops that branch.
  const Tensor<bool, typename V::device_type> positive = eval(y.value() > T(0));
  return reduce(etna::where(positive, y * etna::log(etna::where(positive, y, T(1))), T(0)) - y * x);
}

// 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 for other labels),
// per row of [N, D] inputs (or one [D] pair); cos uses PyTorch's eps of 1e-12 on the squared
// norms so zero vectors give 0, not NaN.
template <class X1, class X2, class Y>
auto cosine_embedding_loss(const X1& input1, const X2& input2, const Y& target,
                           const CosineEmbeddingOptions& options = {}) {
  constexpr const char* op = "cosine_embedding_loss";
  auto [a, b] = detail::operands(op, input1, input2, options.reduction);
  using T = value_type_of<decltype(a)>;
  using V = decltype(a);
  using D = typename V::device_type;
  if (a.dim() != 1 && a.dim() != 2)
    throw shape_error(
        etna::detail::str(op, ": inputs must be [N, D] or [D], got shape ", a.shape()));
  const Tensor<T, D> y = eval(cast<T>(target));
  const Shape batch = a.dim() == 2 ? Shape{a.shape()[0]} : Shape{};
  if (!(y.shape() == batch))
    throw shape_error(etna::detail::str(op, ": target shape ", y.shape(),
                                        " does not match the inputs' batch shape ", batch));
  const std::int64_t dim = a.dim() - 1;
  constexpr double eps = 1e-12;
  const V cos = etna::sum(a * b, dim) / etna::sqrt((etna::sum(etna::square(a), dim) + eps) *
                                                   (etna::sum(etna::square(b), dim) + eps));
  const Tensor<T, D> pos = eval(cast<T>(y == T(1))), neg = eval(cast<T>(y == T(-1)));
  return nn::detail::reduce(pos * (1.0 - cos) + neg * etna::relu(cos - options.margin),
                            options.reduction);
}

}  // namespace functional

template <class X, class Y>
auto KLDivLoss::operator()(const X& input, const Y& target) const {
  return functional::kl_div(input, target, *this);
}
template <class X1, class X2, class Y>
auto CosineEmbeddingLoss::operator()(const X1& input1, const X2& input2, const Y& target) const {
  return functional::cosine_embedding_loss(input1, input2, target, *this);
}

using functional::cosine_embedding_loss;
using functional::kl_div;

}  // namespace etna::nn
