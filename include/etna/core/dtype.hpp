// Element types a tensor may hold and their printable names, as PyTorch spells them.
// float and double carry gradients; int32/int64 hold labels and indices; bool holds masks.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace etna {

template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double> ||
                 std::same_as<T, std::int32_t> || std::same_as<T, std::int64_t> ||
                 std::same_as<T, bool>;

template <class T>
concept FloatingScalar = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
concept IntegralScalar = std::same_as<T, std::int32_t> || std::same_as<T, std::int64_t>;

template <Scalar T>
constexpr std::string_view dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  else if constexpr (std::is_same_v<T, double>) return "float64";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  else return "bool";
}

// Type of sums and products of T (PyTorch promotes integral sums to int64).
template <Scalar T>
using accumulate_t = std::conditional_t<FloatingScalar<T>, T, std::int64_t>;

}  // namespace etna
