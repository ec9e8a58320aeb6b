// The element types of a safetensors file that etna reads and writes, spelled as the file
// spells them ("F32", "BF16", ...), and the mapping from etna's scalar types to them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <type_traits>

#include "etna/core/dtype.hpp"

namespace etna::io {

// The subset of the safetensors dtypes etna supports (F8, I8, I16, U16... are rejected by name).
enum class DType { F16, BF16, F32, F64, I64, I32, U8, BOOL };

inline constexpr std::array<DType, 8> all_dtypes = {DType::F16, DType::BF16, DType::F32,
                                                    DType::F64, DType::I64,  DType::I32,
                                                    DType::U8,  DType::BOOL};

constexpr std::string_view dtype_name(DType d) {
  switch (d) {
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I64:
      return "I64";
    case DType::I32:
      return "I32";
    case DType::U8:
      return "U8";
    case DType::BOOL:
      return "BOOL";
  }
  return "?";
}

// Bytes per element.
constexpr std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::F16:
    case DType::BF16:
      return 2;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F64:
    case DType::I64:
      return 8;
    case DType::U8:
    case DType::BOOL:
      return 1;
  }
  return 0;
}

constexpr bool is_floating(DType d) {
  return d == DType::F16 || d == DType::BF16 || d == DType::F32 || d == DType::F64;
}
constexpr bool is_integral(DType d) { return d == DType::I64 || d == DType::I32 || d == DType::U8; }

// The dtype spelled `name` in a file, or nullopt when etna does not support it.
constexpr std::optional<DType> parse_dtype(std::string_view name) {
  for (DType d : all_dtypes)
    if (dtype_name(d) == name) return d;
  return std::nullopt;
}

// How a Tensor<T> is stored by default: float->F32, double->F64, int32->I32, int64->I64,
// bool->BOOL.
template <Scalar T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::F64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::I32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::I64;
  else
    return DType::BOOL;
}

// Whether a Tensor<T> can be stored as / loaded from `d` (floats <-> F16/BF16/F32/F64; ints <->
// I32/I64/U8; bool <-> BOOL). Integer ranges are checked separately, value by value.
template <Scalar T>
constexpr bool converts(DType d) {
  if constexpr (FloatingScalar<T>)
    return is_floating(d);
  else if constexpr (IntegralScalar<T>)
    return is_integral(d);
  else
    return d == DType::BOOL;
}

inline std::ostream& operator<<(std::ostream& out, DType d) { return out << dtype_name(d); }

}  // namespace etna::io
