// nn::functional::group_norm on Vars: layer_norm without affine over the view [N, G, C/G * rest]
// normalises each (sample, group); the per-channel affine is one fused Var expression after it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "etna/autograd/function.hpp"
#include "etna/nn/functional/normalization.hpp"

namespace etna::nn::functional {
namespace detail {

// An optional affine parameter as a Var: an undefined Var or Tensor means "none".
template <class T, class D, class P>
Var<T, D> optional_param(const P& p) {
  using Plain = std::remove_cvref_t<P>;
  if constexpr (is_var<Plain>::value || std::is_same_v<Plain, Tensor<T, D>>) {
    if (!p.defined()) return Var<T, D>();
  }
  return as_var(p);
}

template <class T, class D>
Var<T, D> group_norm_impl(const Var<T, D>& x, std::int64_t num_groups, const Var<T, D>& weight,
                          const Var<T, D>& bias, double eps) {
  if (x.dim() < 2)
    throw shape_error(
        etna::detail::str("group_norm: expected an input of shape [N, C, ...] "
                          "(2 or more dimensions), got shape ",
                          x.shape()));
  const std::int64_t N = x.size(0), C = x.size(1);
  if (num_groups <= 0)
    throw value_error(
        etna::detail::str("group_norm: num_groups must be positive, got ", num_groups));
  if (C % num_groups != 0)
    throw value_error(etna::detail::str("group_norm: num_channels ", C,
                                        " must be divisible by num_groups ", num_groups));
  const Shape cshape{C};
  if (weight.defined()) check_param("group_norm", "weight", weight.shape(), cshape);
  if (bias.defined()) check_param("group_norm", "bias", bias.shape(), cshape);
  const std::int64_t rest = x.numel() / std::max<std::int64_t>(1, N * C);
  const std::int64_t K = C / num_groups * rest;  // elements of one (sample, group)
  // The reshape is a view of a contiguous x (a copy otherwise); either way its gradient flows
  // back to x, and layer_norm's closed-form node differentiates the normalisation.
  const Var<T, D> xn =
      layer_norm(x.reshape(Shape{N, num_groups, K}), Shape{K}, {}, {}, eps).reshape(x.shape());
  if (!weight.defined() && !bias.defined()) return xn;
  // Parameters viewed [1, C, 1, ...] broadcast over the batch and the trailing dimensions.
  Shape pshape = x.shape();
  for (int d = 0; d < pshape.size(); ++d) pshape[d] = d == 1 ? C : 1;
  if (!bias.defined()) return Var<T, D>(xn * weight.reshape(pshape));
  if (!weight.defined()) return Var<T, D>(xn + bias.reshape(pshape));
  return Var<T, D>(xn * weight.reshape(pshape) + bias.reshape(pshape));
}

}  // namespace detail

// Group normalisation (torch.nn.functional.group_norm): x [N, C, *] with any number of trailing
// dimensions (none included); the C channels split into num_groups groups and each (sample,
// group) is normalised by its own mean and biased variance, then weight and bias ([C], optional:
// pass {} for none) scale and shift each channel. x, weight and bias may be Vars, Var
// expressions or tensors (constants).
template <class X, class W = Var<value_type_of<X>, typename expr_t<X>::device_type>, class B = W>
auto group_norm(const X& x, std::int64_t num_groups, const W& weight = {}, const B& bias = {},
                double eps = 1e-5) {
  using T = value_type_of<X>;
  using D = typename expr_t<X>::device_type;
  return detail::group_norm_impl<T, D>(as_var(x), num_groups, detail::optional_param<T, D>(weight),
                                       detail::optional_param<T, D>(bias), eps);
}

}  // namespace etna::nn::functional
