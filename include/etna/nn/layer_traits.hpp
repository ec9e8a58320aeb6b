// What a layer states about its feature sizes at compile time, so that Sequential can check a
// typed network (Linear<784, 256> followed by Linear<128, 10> is a static_assert).
#pragma once

#include <cstdint>
#include <type_traits>

#include "etna/core/tensor.hpp"
#include "etna/expr/node.hpp"

namespace etna::nn {

// A layer may declare `static constexpr std::int64_t static_in_features` (the size of its
// input's last dimension, 0 = any) and `static_out_features` (0 = not known at compile time,
// kSameFeatures = whatever came in). Layers that declare nothing are "any in, unknown out".
inline constexpr std::int64_t kSameFeatures = -1;

template <class L>
constexpr std::int64_t static_in_features_v = [] {
  if constexpr (requires { L::static_in_features; }) return L::static_in_features;
  else return std::int64_t{0};
}();

template <class L>
constexpr std::int64_t static_out_features_v = [] {
  if constexpr (requires { L::static_out_features; }) return L::static_out_features;
  else return std::int64_t{0};
}();

namespace detail {

// The device of an expression (cpu for a device-less one, a scalar).
template <class R>
using device_or_cpu_t =
    std::conditional_t<std::is_void_v<typename R::device_type>, cpu, typename R::device_type>;

// A lazy expression left at the end of a network becomes a value: a Var when it involves
// Vars, else a Tensor, on the expression's device.
template <class X>
auto materialize(X&& x) {
  using R = std::remove_cvref_t<X>;
  if constexpr (ExpressionNode<R> && contains_var<R>::value) {
    return Var<typename R::value_type, device_or_cpu_t<R>>(x);
  } else if constexpr (ExpressionNode<R> && !TensorType<R>) {
    return Tensor<typename R::value_type, device_or_cpu_t<R>>(x);
  } else {
    return R(std::forward<X>(x));
  }
}

}  // namespace detail
}  // namespace etna::nn
