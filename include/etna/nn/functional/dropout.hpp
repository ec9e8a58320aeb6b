// nn::functional::dropout and alpha_dropout on Vars: masks drawn from etna's Philox generator
// (same seed, same mask on every thread count), applied as one fused element-wise Var expression.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "etna/autograd/function.hpp"
#include "etna/backend/cuda/fwd_nn.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/random.hpp"

namespace etna::nn::functional {
namespace detail {

inline void check_probability(const char* op, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw value_error(etna::detail::str(op,
                                        ": dropout probability has to be between 0 and 1, "
                                        "but got ",
                                        p));
}

// A tensor that is `keep` where a uniform draw is >= p and `drop` elsewhere: element i depends
// only on the generator's state and i, so a GPU (which draws on the device from the same
// Philox stream) gets the CPU's mask for the same seed.
template <class T, class D = cpu>
Tensor<T, D> keep_mask(const Shape& shape, double p, T keep, T drop, Generator& gen) {
  const T threshold = static_cast<T>(p);
  if constexpr (!std::is_same_v<D, cpu>) {
    auto out = Tensor<T, D>::allocate(shape);
    const RandomStream stream =
        gen.reserve(random_detail::blocks_for<T>(static_cast<std::uint64_t>(shape.numel())));
    cuda_backend::keep_mask<T>(out.data(), shape.numel(), stream, threshold, keep, drop);
    return out;
  } else {
    return etna::detail::uniform_map_fill<T>(
        shape, gen, [=](T u) { return u < threshold ? drop : keep; });
  }
}

}  // namespace detail

// Inverted dropout: zeroes each element with probability p and scales the rest by 1 / (1 - p),
// so eval mode is the identity. The gradient is the same mask times the same scale.
template <VarLike X>
auto dropout(const X& input, double p = 0.5, bool training = true,
             Generator& gen = default_generator()) {
  detail::check_probability("dropout", p);
  auto x = as_var(input);
  using T = typename decltype(x)::value_type;
  using D = typename decltype(x)::device_type;
  if (!training || p == 0.0) return x;
  if (p == 1.0) return decltype(x)(x * T(0));  // PyTorch: zeros, still connected to the graph
  const Tensor<T, D> mask =
      detail::keep_mask<T, D>(x.shape(), p, static_cast<T>(1.0 / (1.0 - p)), T(0), gen);
  return decltype(x)(x * mask);
}

// Alpha dropout (for SELU networks): dropped elements are set to SELU's negative saturation
// -alpha' and an affine map a x + b restores zero mean and unit variance (PyTorch's formula:
// alpha' = 1.7580993408473766, a = ((alpha'^2 p + 1)(1 - p))^-1/2, b = alpha' a p on kept
// elements and alpha' a (p - 1) on dropped ones). The gradient is a on kept elements, else 0.
template <VarLike X>
auto alpha_dropout(const X& input, double p = 0.5, bool training = true,
                   Generator& gen = default_generator()) {
  detail::check_probability("alpha_dropout", p);
  auto x = as_var(input);
  using T = typename decltype(x)::value_type;
  using D = typename decltype(x)::device_type;
  if (!training || p == 0.0) return x;
  if (p == 1.0) return decltype(x)(x * T(0));
  constexpr double alpha = 1.7580993408473766;
  const double a = 1.0 / std::sqrt((alpha * alpha * p + 1) * (1 - p));
  const Tensor<T, D> scale = detail::keep_mask<T, D>(x.shape(), p, T(1), T(0), gen);
  // shift = (mask - 1) alpha a + alpha a p, from the same 0/1 mask before it becomes a's scale.
  const Tensor<T, D> shift =
      eval((scale - T(1)) * static_cast<T>(alpha * a) + static_cast<T>(alpha * a * p));
  const Tensor<T, D> mul = eval(scale * static_cast<T>(a));
  return decltype(x)(x * mul + shift);
}

}  // namespace etna::nn::functional
