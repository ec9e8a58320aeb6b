// IEEE half precision (F16) and bfloat16 (BF16) <-> float/double, bit-exact: one rounding to
// nearest, ties to even (also from double, so no double rounding), NaN/Inf/subnormals kept.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace etna::io {

namespace detail {

// Rounds `x` to a binary format with `E` exponent bits and `M` mantissa bits and returns its
// bits. Works from the double's bits: float -> double is exact, so floats round once too.
template <int E, int M>
constexpr std::uint16_t round_to_small_float(double x) {
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr std::uint32_t exp_all_ones = (1u << E) - 1;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const auto sign = static_cast<std::uint32_t>(bits >> 63) << (E + M);
  const int exp = static_cast<int>((bits >> 52) & 0x7FF);
  const std::uint64_t frac = bits & ((std::uint64_t{1} << 52) - 1);
  if (exp == 0x7FF) {
    if (frac == 0) return static_cast<std::uint16_t>(sign | (exp_all_ones << M));  // +-inf
    // NaN: quiet, keeping the payload's top bits (as torch and numpy do).
    const auto payload = static_cast<std::uint32_t>(frac >> (52 - M));
    return static_cast<std::uint16_t>(sign | (exp_all_ones << M) | (1u << (M - 1)) | payload);
  }
  // Double subnormals are far below the smallest F16/BF16 subnormal: they round to +-0.
  if (exp == 0) return static_cast<std::uint16_t>(sign);
  const std::uint64_t significand = frac | (std::uint64_t{1} << 52);  // 53 bits
  int target_exp = exp - 1023 + bias;
  // Normal results drop 52 - M bits; subnormal ones (target_exp < 1) drop more.
  const int shift = 52 - M + (target_exp < 1 ? 1 - target_exp : 0);
  if (shift > 54) return static_cast<std::uint16_t>(sign);  // below half the smallest subnormal
  std::uint64_t r = significand >> shift;
  const std::uint64_t rest = significand & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t half = std::uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (r & 1))) ++r;
  if (target_exp < 1) {
    // Subnormal; rounding up into 1 << M yields the smallest normal's bits, as it should.
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(r));
  }
  if (r == (std::uint64_t{1} << (M + 1))) {  // the mantissa rounded up to the next power of 2
    r >>= 1;
    ++target_exp;
  }
  if (target_exp >= static_cast<int>(exp_all_ones))
    return static_cast<std::uint16_t>(sign | (exp_all_ones << M));  // overflow: +-inf
  const auto mantissa = static_cast<std::uint32_t>(r) & ((1u << M) - 1);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(target_exp) << M) |
                                    mantissa);
}

// The exact value of a small-float bit pattern (every F16/BF16 value is a float).
template <int E, int M>
inline float expand_small_float(std::uint16_t bits) {
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr std::uint32_t exp_all_ones = (1u << E) - 1;
  const bool negative = (bits >> (E + M)) & 1;
  const std::uint32_t exp = (bits >> M) & exp_all_ones;
  const std::uint32_t mantissa = bits & ((1u << M) - 1);
  float v;
  if (exp == exp_all_ones) {
    v = mantissa == 0 ? std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::quiet_NaN();
  } else if (exp == 0) {
    v = std::ldexp(static_cast<float>(mantissa), 1 - bias - M);
  } else {
    v = std::ldexp(static_cast<float>(mantissa | (1u << M)), static_cast<int>(exp) - bias - M);
  }
  return negative ? -v : v;
}

}  // namespace detail

constexpr std::uint16_t float_to_f16_bits(double x) {
  return detail::round_to_small_float<5, 10>(x);
}
constexpr std::uint16_t float_to_bf16_bits(double x) {
  return detail::round_to_small_float<8, 7>(x);
}

inline float f16_bits_to_float(std::uint16_t bits) {
  return detail::expand_small_float<5, 10>(bits);
}
// bfloat16 is the top half of a float32, NaN payloads included.
inline float bf16_bits_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

}  // namespace etna::io
