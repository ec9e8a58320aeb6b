// Gradient clipping in place, as torch.nn.utils: clip_grad_norm_ (all gradients scaled so their
// joint norm is at most max_norm, returns that norm) and clip_grad_value_ (elements clamped).
// On cuda the norm and the clipping run on the device (get_total_norm / clip_grads_with_norm_
// never wait for the GPU; clip_grad_norm_ waits once, to return the norm as a double).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/backend/cuda/fwd_optim.hpp"
#include "etna/core/factory.hpp"
#include "etna/expr/operators.hpp"

namespace etna::optim {

namespace detail {
inline void check_norm_type(double norm_type) {
  if (!(norm_type > 0))
    throw value_error(
        etna::detail::str("clip_grad_norm_: norm_type must be positive or inf, got ", norm_type));
}
inline void check_finite_norm(double total, double norm_type) {
  if (!std::isfinite(total))
    throw value_error(
        etna::detail::str("clip_grad_norm_: the total norm of order ", norm_type,
                          " for gradients from `parameters` is non-finite, so it cannot "
                          "be clipped. To disable this error and scale the gradients by "
                          "the non-finite norm anyway, set error_if_nonfinite = false"));
}
// The defined gradients of a cuda parameter list as contiguous buffers (copies of strided
// gradients are written back by the caller).
template <class T, class D>
struct DeviceGrads {
  std::vector<Tensor<T, D>> grads, buffers;
  std::vector<std::int64_t> sizes;
  explicit DeviceGrads(const std::vector<Var<T, D>>& params) {
    for (const auto& p : params)
      if (p.grad().defined()) {
        grads.push_back(p.grad());
        buffers.push_back(p.grad().contiguous());
        sizes.push_back(p.grad().numel());
      }
  }
};
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
// On cuda the total norm is computed and applied on the device, then read back (one wait).
template <FloatingScalar T, Device D = cpu>
double clip_grad_norm_(const std::vector<Var<T, D>>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);

// The total norm of all defined gradients as a 0-d double tensor on the parameters' device
// (0 without gradients), computed without waiting for the GPU (as torch.nn.utils.get_total_norm).
template <FloatingScalar T, Device D = cpu>
Tensor<double, D> get_total_norm(const std::vector<Var<T, D>>& params, double norm_type = 2) {
  detail::check_norm_type(norm_type);
  Tensor<double, D> total = zeros<double, D>(Shape());
  if constexpr (std::is_same_v<D, cpu>) {
    double acc = 0;
    for (const auto& p : params) {
      if (!p.grad().defined()) continue;
      const double norm = detail::grad_norm(p.grad(), norm_type);
      if (std::isinf(norm_type))
        acc = std::max(acc, norm);
      else
        acc += norm_type == 2 ? norm * norm : std::pow(norm, norm_type);
    }
    if (!std::isinf(norm_type))
      acc = norm_type == 2 ? std::sqrt(acc) : std::pow(acc, 1 / norm_type);
    total.data()[0] = acc;
  } else {
    const detail::DeviceGrads<T, D> g(params);
    std::vector<const T*> xs;
    for (const auto& b : g.buffers) xs.push_back(b.data());
    cuda_backend::total_norm<T>(xs, g.sizes, norm_type, total.data());
  }
  return total;
}

// Scales every defined gradient by max_norm / (total_norm + 1e-6) when that is below 1, with
// total_norm read where it lives (on cuda: on the device, no wait; as
// torch.nn.utils.clip_grads_with_norm_).
template <FloatingScalar T, Device D = cpu>
void clip_grads_with_norm_(const std::vector<Var<T, D>>& params, double max_norm,
                           const Tensor<double, D>& total_norm) {
  if constexpr (std::is_same_v<D, cpu>) {
    const double coef = max_norm / (total_norm.item() + 1e-6);
    if (coef < 1)
      for (const auto& p : params)
        if (p.grad().defined()) p.grad().assign(p.grad() * static_cast<T>(coef));
  } else {
    const detail::DeviceGrads<T, D> g(params);
    std::vector<T*> xs;
    for (const auto& b : g.buffers) xs.push_back(b.data());
    cuda_backend::scale_by_norm<T>(xs, g.sizes, max_norm, total_norm.data());
    for (std::size_t i = 0; i < g.grads.size(); ++i)
      if (g.grads[i].data() != g.buffers[i].data()) g.grads[i].assign(g.buffers[i]);
  }
}

template <FloatingScalar T, Device D>
double clip_grad_norm_(const std::vector<Var<T, D>>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  if constexpr (!std::is_same_v<D, cpu>) {
    const Tensor<double, D> total = get_total_norm(params, norm_type);
    if (error_if_nonfinite) detail::check_finite_norm(total.item(), norm_type);  // must wait
    clip_grads_with_norm_(params, max_norm, total);
    return total.item();
  } else {
    detail::check_norm_type(norm_type);
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
    if (error_if_nonfinite) detail::check_finite_norm(total, norm_type);
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1)
      for (const auto& p : params)
        if (p.grad().defined()) p.grad().assign(p.grad() * static_cast<T>(coef));
    return total;
  }
}

// Clamps every defined gradient element into [-clip_value, clip_value].
// One element-wise pass per gradient (a kernel on cuda).
template <FloatingScalar T, Device D = cpu>
void clip_grad_value_(const std::vector<Var<T, D>>& params, double clip_value) {
  if (!(clip_value >= 0))
    throw value_error(
        etna::detail::str("clip_grad_value_: clip_value must be >= 0, got ", clip_value));
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().assign(clamp(p.grad(), -clip_value, clip_value));
}

}  // namespace etna::optim
