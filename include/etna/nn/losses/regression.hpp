// Regression losses: mse_loss, l1_loss, smooth_l1_loss and huber_loss, each a fused element-wise
// Var expression plus a reduction, so forward and backward are one pass each.
#pragma once

#include "etna/nn/losses/reduction.hpp"

namespace etna::nn {

struct MSELoss;
struct L1Loss;
struct SmoothL1Loss;
struct HuberLoss;

namespace functional {

namespace detail {
// The operands of an element-wise loss as Vars (a tensor becomes a constant Var), checked to
// have one shape: PyTorch broadcasts here with a warning, which hides real bugs.
template <class X, class Y>
auto operands(const char* op, const X& input, const Y& target, Reduction r) {
  nn::detail::check_reduction(op, r);
  auto x = as_var(input);
  auto y = as_var(target);
  static_assert(std::is_same_v<decltype(x), decltype(y)>,
                "etna: a loss's input and target need the same element type and device");
  nn::detail::check_same_shape(op, x.shape(), y.shape());
  return std::pair(x, y);
}

// Huber's piecewise form without a branch: with m = min(|d|, delta), m * (|d| - m / 2) is
// d^2 / 2 inside [-delta, delta] and delta * (|d| - delta / 2) outside, and its gradient is
// d inside and delta * sign(d) outside, from the fused min/abs partials.
template <class D>
auto huber_expr(const D& d, double delta) {
  auto ad = etna::abs(d);
  auto m = etna::minimum(ad, delta);
  return m * (ad - m * 0.5);
}
}  // namespace detail

// mean((input - target)^2); gradients reach both sides when both are Vars.
template <class X, class Y>
auto mse_loss(const X& input, const Y& target, Reduction reduction = Reduction::mean) {
  auto [x, y] = detail::operands("mse_loss", input, target, reduction);
  return nn::detail::reduce(etna::square(x - y), reduction);
}

// mean(|input - target|); the gradient at input == target is 0, as PyTorch's.
template <class X, class Y>
auto l1_loss(const X& input, const Y& target, Reduction reduction = Reduction::mean) {
  auto [x, y] = detail::operands("l1_loss", input, target, reduction);
  return nn::detail::reduce(etna::abs(x - y), reduction);
}

// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is l1_loss (PyTorch's rule).
template <class X, class Y>
auto smooth_l1_loss(const X& input, const Y& target, Reduction reduction = Reduction::mean,
                    double beta = 1.0) {
  if (beta < 0)
    throw value_error(etna::detail::str("smooth_l1_loss: beta must be non-negative, got ", beta));
  auto [x, y] = detail::operands("smooth_l1_loss", input, target, reduction);
  if (beta == 0) return nn::detail::reduce(etna::abs(x - y), reduction);
  return nn::detail::reduce(detail::huber_expr(x - y, beta) * (1.0 / beta), reduction);
}

// 0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta); delta must be positive.
template <class X, class Y>
auto huber_loss(const X& input, const Y& target, Reduction reduction = Reduction::mean,
                double delta = 1.0) {
  if (!(delta > 0))
    throw value_error(etna::detail::str("huber_loss: delta must be positive, got ", delta));
  auto [x, y] = detail::operands("huber_loss", input, target, reduction);
  return nn::detail::reduce(detail::huber_expr(x - y, delta), reduction);
}

template <class X, class Y>
auto mse_loss(const X& input, const Y& target, const MSELoss& options);
template <class X, class Y>
auto l1_loss(const X& input, const Y& target, const L1Loss& options);
template <class X, class Y>
auto smooth_l1_loss(const X& input, const Y& target, const SmoothL1Loss& options);
template <class X, class Y>
auto huber_loss(const X& input, const Y& target, const HuberLoss& options);

}  // namespace functional

// Loss objects: plain option structs, callable as loss(input, target).
struct MSELoss {
  Reduction reduction = Reduction::mean;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const {
    return functional::mse_loss(input, target, reduction);
  }
};
struct L1Loss {
  Reduction reduction = Reduction::mean;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const {
    return functional::l1_loss(input, target, reduction);
  }
};
struct SmoothL1Loss {
  Reduction reduction = Reduction::mean;
  double beta = 1.0;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const {
    return functional::smooth_l1_loss(input, target, reduction, beta);
  }
};
struct HuberLoss {
  Reduction reduction = Reduction::mean;
  double delta = 1.0;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const {
    return functional::huber_loss(input, target, reduction, delta);
  }
};

namespace functional {
// The same losses with an options struct: mse_loss(x, y, {.reduction = Reduction::sum}).
template <class X, class Y>
auto mse_loss(const X& input, const Y& target, const MSELoss& options) {
  return options(input, target);
}
template <class X, class Y>
auto l1_loss(const X& input, const Y& target, const L1Loss& options) {
  return options(input, target);
}
template <class X, class Y>
auto smooth_l1_loss(const X& input, const Y& target, const SmoothL1Loss& options) {
  return options(input, target);
}
template <class X, class Y>
auto huber_loss(const X& input, const Y& target, const HuberLoss& options) {
  return options(input, target);
}
}  // namespace functional

using functional::huber_loss;
using functional::l1_loss;
using functional::mse_loss;
using functional::smooth_l1_loss;

}  // namespace etna::nn
