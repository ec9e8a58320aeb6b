// How extra_repr() writes values exactly as PyTorch's Python prints them: floats in repr()'s
// shortest round-trip form (0.5, 1e-05, 1.0), booleans as True/False, shapes as tuples ((5,)).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "etna/core/shape.hpp"

namespace etna::nn::detail {

// Python's repr(float): the shortest digits that read back to the same double, written fixed
// when the decimal exponent is in [-4, 16) (with ".0" for whole numbers) and otherwise as
// d.ddde-05 (sign and at least two exponent digits), as CPython's float_repr does.
inline std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip scientific form, e.g. "-1.5e-05": sign, digits and exponent from it.
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci.front() == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const auto e_pos = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string digits;
  for (std::size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int n = static_cast<int>(digits.size());
  if (exponent < -4 || exponent >= 16) {
    std::string mantissa = digits.substr(0, 1);
    if (n > 1) mantissa += "." + digits.substr(1);
    const int a = std::abs(exponent);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (a < 10 ? "0" : "") +
           std::to_string(a);
  }
  if (exponent < 0)
    return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  const int int_digits = exponent + 1;
  if (n <= int_digits)
    return sign + digits + std::string(static_cast<std::size_t>(int_digits - n), '0') + ".0";
  return sign + digits.substr(0, static_cast<std::size_t>(int_digits)) + "." +
         digits.substr(static_cast<std::size_t>(int_digits));
}

inline const char* python_bool(bool b) { return b ? "True" : "False"; }

// A shape as a Python tuple: (5,) for one dimension, (4, 5) for two, () for none.
inline std::string python_tuple(const Shape& shape) {
  std::string s = "(";
  for (int i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace etna::nn::detail
