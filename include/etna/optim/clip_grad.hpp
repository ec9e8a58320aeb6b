// Gradient clipping in place, as torch.nn.utils: clip_grad_norm_ (all gradients scaled so their
// joint norm is at most max_norm, returns that norm) and clip_grad_value_ (elements clamped).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/expr/operators.hpp"

namespace etna::optim {

namespace detail {
// |x|_p of one gradient, accumulated in double; p = inf gives max |x|.
template <class T>
double grad_norm(const Tensor<T>& grad, double p) {
  const Tensor<T> g = grad.contiguous();
  const T* x = g.data();
  const std::int64_t n = g.numel();
  double acc = 0;
  if (std::isinf(p)) {
    for (std::int64_t i = 0; i < n; ++i) acc = std::max(acc, std::fabs(static_cast<double>(x[i])));
    return acc;
  }
  if (p == 2) {
    for (std::int64_t i = 0; i < n; ++i)
      acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return std::sqrt(acc);
  }
  for (std::int64_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(x[i])), p);
  return std::pow(acc, 1 / p);
}
}  // namespace detail

// Returns the total norm of all defined gradients, computed as the norm of the per-parameter
// norms (PyTorch's definition), and, when it exceeds max_norm, scales every gradient by
// max_norm / (total + 1e-6). norm_type is any p > 0 or infinity
// (std::numeric_limits<double>::infinity()). With error_if_nonfinite a NaN or infinite total
// norm throws instead of scaling every gradient by NaN.
template <FloatingScalar T>
double clip_grad_norm_(const std::vector<Var<T>>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false) {
  if (!(norm_type > 0))
    throw value_error(
        etna::detail::str("clip_grad_norm_: norm_type must be positive or inf, got ", norm_type));
  double total = 0;
  bool any = false;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    any = true;
    const double norm = detail::grad_norm(p.grad(), norm_type);
    if (std::isinf(norm_type))
      total = std::max(total, norm);
    else if (norm_type == 2)
      total += norm * norm;
    else
      total += std::pow(norm, norm_type);
  }
  if (!any) return 0;
  if (!std::isinf(norm_type))
    total = norm_type == 2 ? std::sqrt(total) : std::pow(total, 1 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total))
    throw value_error(
        etna::detail::str("clip_grad_norm_: the total norm of order ", norm_type,
                          " for gradients from `parameters` is non-finite, so it cannot "
                          "be clipped. To disable this error and scale the gradients by "
                          "the non-finite norm anyway, set error_if_nonfinite = false"));
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().assign(p.grad() * static_cast<T>(coef));
  return total;
}

// Clamps every defined gradient element into [-clip_value, clip_value].
template <FloatingScalar T>
void clip_grad_value_(const std::vector<Var<T>>& params, double clip_value) {
  if (!(clip_value >= 0))
    throw value_error(
        etna::detail::str("clip_grad_value_: clip_value must be >= 0, got ", clip_value));
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().assign(clamp(p.grad(), -clip_value, clip_value));
}

}  // namespace etna::optim
