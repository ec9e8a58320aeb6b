// Element conversion between etna's scalar types and a safetensors file's little-endian bytes,
// shared by the reader and the writer. One switch per tensor, then a tight loop per dtype.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "etna/io/dtype.hpp"
#include "etna/io/half.hpp"

namespace etna::io::detail {

template <class U>
inline U load_le(const std::byte* p) {
  static_assert(std::is_unsigned_v<U>);
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
  return v;
}
template <class U>
inline void store_le(std::byte* p, U v) {
  static_assert(std::is_unsigned_v<U>);
  for (std::size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}

template <class Int, class From>
constexpr bool fits(From v) {
  return std::in_range<Int>(v);
}

// Decodes `n` elements of dtype `d` into `out`. Returns the index of the first element whose
// value does not fit T (an integer out of range, a BOOL byte other than 0/1), or -1. The caller
// guarantees converts<T>(d).
// Whether dtype `d` holds T's exact bytes on this machine (then a tensor is one memcpy).
template <Scalar T>
constexpr bool same_representation(DType d) {
  return std::endian::native == std::endian::little && !std::is_same_v<T, bool> &&
         d == dtype_of<T>();
}

template <Scalar T>
std::int64_t decode(DType d, const std::byte* in, std::int64_t n, T* out) {
  if (same_representation<T>(d)) {
    if (n > 0) std::memcpy(out, in, static_cast<std::size_t>(n) * sizeof(T));
    return -1;
  }
  auto each = [&](auto read) {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto v = read(in + static_cast<std::size_t>(i) * dtype_size(d));
      if constexpr (IntegralScalar<T>) {
        if (!fits<T>(v)) return i;
      }
      out[i] = static_cast<T>(v);
    }
    return std::int64_t{-1};
  };
  if constexpr (FloatingScalar<T>) {
    switch (d) {
      case DType::F16:
        return each(
            [](const std::byte* p) { return f16_bits_to_float(load_le<std::uint16_t>(p)); });
      case DType::BF16:
        return each(
            [](const std::byte* p) { return bf16_bits_to_float(load_le<std::uint16_t>(p)); });
      case DType::F32:
        return each(
            [](const std::byte* p) { return std::bit_cast<float>(load_le<std::uint32_t>(p)); });
      case DType::F64:
        return each(
            [](const std::byte* p) { return std::bit_cast<double>(load_le<std::uint64_t>(p)); });
      default:
        return 0;
    }
  } else if constexpr (IntegralScalar<T>) {
    switch (d) {
      case DType::I32:
        return each([](const std::byte* p) {
          return static_cast<std::int32_t>(load_le<std::uint32_t>(p));
        });
      case DType::I64:
        return each([](const std::byte* p) {
          return static_cast<std::int64_t>(load_le<std::uint64_t>(p));
        });
      case DType::U8:
        return each([](const std::byte* p) { return static_cast<std::uint8_t>(*p); });
      default:
        return 0;
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto b = static_cast<std::uint8_t>(in[i]);
      if (b > 1) return i;
      out[i] = b == 1;
    }
    return -1;
  }
}

// Encodes `n` values into dtype `d`. Returns the index of the first integer that does not fit
// `d`, or -1. The caller guarantees converts<T>(d).
template <Scalar T>
std::int64_t encode(DType d, const T* in, std::int64_t n, std::byte* out) {
  if (same_representation<T>(d)) {
    if (n > 0) std::memcpy(out, in, static_cast<std::size_t>(n) * sizeof(T));
    return -1;
  }
  const std::size_t size = dtype_size(d);
  auto each = [&](auto write) {
    for (std::int64_t i = 0; i < n; ++i) {
      if (!write(out + static_cast<std::size_t>(i) * size, in[i])) return i;
    }
    return std::int64_t{-1};
  };
  if constexpr (FloatingScalar<T>) {
    switch (d) {
      case DType::F16:
        return each([](std::byte* p, T v) {
          store_le(p, float_to_f16_bits(v));
          return true;
        });
      case DType::BF16:
        return each([](std::byte* p, T v) {
          store_le(p, float_to_bf16_bits(v));
          return true;
        });
      case DType::F32:
        return each([](std::byte* p, T v) {
          store_le(p, std::bit_cast<std::uint32_t>(static_cast<float>(v)));
          return true;
        });
      case DType::F64:
        return each([](std::byte* p, T v) {
          store_le(p, std::bit_cast<std::uint64_t>(static_cast<double>(v)));
          return true;
        });
      default:
        return 0;
    }
  } else if constexpr (IntegralScalar<T>) {
    switch (d) {
      case DType::I32:
        return each([](std::byte* p, T v) {
          if (!fits<std::int32_t>(v)) return false;
          store_le(p, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
          return true;
        });
      case DType::I64:
        return each([](std::byte* p, T v) {
          store_le(p, static_cast<std::uint64_t>(v));
          return true;
        });
      case DType::U8:
        return each([](std::byte* p, T v) {
          if (!fits<std::uint8_t>(v)) return false;
          *p = static_cast<std::byte>(v);
          return true;
        });
      default:
        return 0;
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(in[i] ? 1 : 0);
    return -1;
  }
}

}  // namespace etna::io::detail
