// Elementary functions with one spelling for scalars and SIMD batches, so every functor body
// is written once and runs on float, double and xsimd::batch alike (and on the GPU for scalars).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "etna/core/macros.hpp"

#include <xsimd/xsimd.hpp>

namespace etna::math {

template <class T>
concept Arithmetic = std::is_arithmetic_v<T>;

// ---- scalars ---------------------------------------------------------------------------
template <Arithmetic T> ETNA_HD T exp(T x) { return std::exp(x); }
template <Arithmetic T> ETNA_HD T expm1(T x) { return std::expm1(x); }
template <Arithmetic T> ETNA_HD T log(T x) { return std::log(x); }
template <Arithmetic T> ETNA_HD T log1p(T x) { return std::log1p(x); }
template <Arithmetic T> ETNA_HD T sqrt(T x) { return std::sqrt(x); }
template <Arithmetic T> ETNA_HD T tanh(T x) { return std::tanh(x); }
template <Arithmetic T> ETNA_HD T sin(T x) { return std::sin(x); }
template <Arithmetic T> ETNA_HD T cos(T x) { return std::cos(x); }
template <Arithmetic T> ETNA_HD T erf(T x) { return std::erf(x); }
template <Arithmetic T> ETNA_HD T pow(T x, T y) { return std::pow(x, y); }
template <Arithmetic T> ETNA_HD T abs(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::fabs(x);  // abs(-0.0) is +0.0
  else return x < T(0) ? T(-x) : x;
}
template <Arithmetic T> ETNA_HD T max(T a, T b) { return a < b ? b : a; }
template <Arithmetic T> ETNA_HD T min(T a, T b) { return b < a ? b : a; }
template <Arithmetic T> ETNA_HD T select(bool c, T a, T b) { return c ? a : b; }
template <Arithmetic T> ETNA_HD T fma(T a, T b, T c) { return a * b + c; }
template <Arithmetic T> ETNA_HD bool isnan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}
ETNA_HD inline bool logical_and(bool a, bool b) { return a && b; }
ETNA_HD inline bool logical_or(bool a, bool b) { return a || b; }
ETNA_HD inline bool logical_not(bool a) { return !a; }

// A scalar or batch with every lane equal to v, of the same type as `like`.
template <Arithmetic T, class V> ETNA_HD T splat(V v, T /*like*/) { return static_cast<T>(v); }

// ---- SIMD batches (CPU only) -----------------------------------------------------------
template <class T, class A> xsimd::batch<T, A> exp(const xsimd::batch<T, A>& x) { return xsimd::exp(x); }
template <class T, class A> xsimd::batch<T, A> expm1(const xsimd::batch<T, A>& x) { return xsimd::expm1(x); }
template <class T, class A> xsimd::batch<T, A> log(const xsimd::batch<T, A>& x) { return xsimd::log(x); }
template <class T, class A> xsimd::batch<T, A> log1p(const xsimd::batch<T, A>& x) { return xsimd::log1p(x); }
template <class T, class A> xsimd::batch<T, A> sqrt(const xsimd::batch<T, A>& x) { return xsimd::sqrt(x); }
template <class T, class A> xsimd::batch<T, A> tanh(const xsimd::batch<T, A>& x) { return xsimd::tanh(x); }
template <class T, class A> xsimd::batch<T, A> sin(const xsimd::batch<T, A>& x) { return xsimd::sin(x); }
template <class T, class A> xsimd::batch<T, A> cos(const xsimd::batch<T, A>& x) { return xsimd::cos(x); }
template <class T, class A> xsimd::batch<T, A> erf(const xsimd::batch<T, A>& x) { return xsimd::erf(x); }
// xsimd 8.1's pow misses C's special cases; restore them: x^0 = 1 and 1^y = 1 (even for NaN),
// (-1)^(+-inf) = 1, and 0^y = inf for y < 0 (-inf for -0 and an odd integer y).
template <class T, class A>
xsimd::batch<T, A> pow(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y) {
  using B = xsimd::batch<T, A>;
  const B zero(T(0)), one(T(1)), inf(std::numeric_limits<T>::infinity());
  B r = xsimd::pow(x, y);
  const B half = y * B(T(0.5));
  const auto odd_integer = (xsimd::trunc(y) == y) & (xsimd::floor(half) != half);
  const B pole = xsimd::select(odd_integer & (one / x < zero), -inf, inf);
  r = xsimd::select((x == zero) & (y < zero), pole, r);
  return xsimd::select((y == zero) | (x == one) | ((x == -one) & (xsimd::abs(y) == inf)), one, r);
}
template <class T, class A> xsimd::batch<T, A> abs(const xsimd::batch<T, A>& x) { return xsimd::abs(x); }
template <class T, class A> xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) { return xsimd::max(a, b); }
template <class T, class A> xsimd::batch<T, A> min(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) { return xsimd::min(a, b); }
template <class T, class A> xsimd::batch<T, A> fma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b, const xsimd::batch<T, A>& c) { return xsimd::fma(a, b, c); }
template <class T, class A>
xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& c, const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) {
  return xsimd::select(c, a, b);
}
// Not x != x: xsimd's batch != is an ordered comparison (false for NaN) on AVX-512.
template <class T, class A> xsimd::batch_bool<T, A> isnan(const xsimd::batch<T, A>& x) { return xsimd::isnan(x); }
template <class T, class A, class V> xsimd::batch<T, A> splat(V v, const xsimd::batch<T, A>&) {
  return xsimd::batch<T, A>(static_cast<T>(v));
}

}  // namespace etna::math
