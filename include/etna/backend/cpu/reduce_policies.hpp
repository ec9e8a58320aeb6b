// Reduction policies of the CPU kernels: the state each reduction carries per output, how an
// element (or a SIMD batch) updates it, and how two partial states combine, earlier first.
// The scalar members are host-device, so the CUDA reductions run the very same policies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "etna/core/dtype.hpp"
#include "etna/core/macros.hpp"

namespace etna::cpu_backend {

namespace detail {
template <class T>
ETNA_HD constexpr bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

// Folds the lanes of a batch of states with P::combine, lane 0 first. (Also instead of
// xsimd::hadd, whose AVX-512 double version trips GCC 12's -Wuninitialized.)
template <class P, class B>
typename P::state_type horizontal(const B& b) {
  alignas(64) typename P::state_type lanes[B::size];
  b.store_aligned(lanes);
  typename P::state_type s = lanes[0];
  for (std::size_t k = 1; k < B::size; ++k) s = P::combine(s, lanes[k]);
  return s;
}
}  // namespace detail

// Combines partial results pairwise (a binary counter of partials, as NumPy's pairwise sum),
// so the rounding error of a long float sum grows with log(n), not n. Order is preserved:
// combine(a, b) always has a covering elements before b, which argmax's tie rule relies on.
template <class S, class Combine>
class Cascade {
 public:
  explicit Cascade(Combine combine) : combine_(combine) {}

  void push(S x) {
    int level = 0;
    for (; used_ >> level & 1u; ++level) {
      x = combine_(slots_[level], x);
      used_ &= ~(std::uint64_t{1} << level);
    }
    slots_[level] = x;
    used_ |= std::uint64_t{1} << level;
  }

  // The combination of everything pushed, or `empty` when nothing was.
  S result(S empty) const {
    int level = 63;
    while (level >= 0 && !(used_ >> level & 1u)) --level;
    if (level < 0) return empty;
    S r = slots_[level];
    for (--level; level >= 0; --level)
      if (used_ >> level & 1u) r = combine_(r, slots_[level]);
    return r;
  }

 private:
  Combine combine_;
  S slots_[64];  // only slots marked in used_ are ever read
  std::uint64_t used_ = 0;
};

// ---- value reductions: state and output share one type, and combining two states is the same
// operation as stepping with one element (so SIMD lanes combine with batch_step). ----------

template <Scalar T>
struct SumReduce {
  using input_type = T;
  using state_type = accumulate_t<T>;  // int64 for integral and bool inputs, as PyTorch
  using output_type = state_type;
  static constexpr bool vectorized = FloatingScalar<T>;
  static constexpr bool indexed = false;
  ETNA_HD static state_type identity() { return state_type(0); }
  template <class V>
  ETNA_HD static state_type step(state_type s, V x) {
    return s + static_cast<state_type>(x);
  }
  ETNA_HD static state_type combine(state_type a, state_type b) { return a + b; }
  ETNA_HD static output_type finish(state_type s) { return s; }
  template <class B>
  static B batch_step(const B& s, const B& x) {
    return s + x;
  }
};

template <Scalar T>
struct ProdReduce {
  using input_type = T;
  using state_type = accumulate_t<T>;
  using output_type = state_type;
  static constexpr bool vectorized = FloatingScalar<T>;
  static constexpr bool indexed = false;
  ETNA_HD static state_type identity() { return state_type(1); }
  template <class V>
  ETNA_HD static state_type step(state_type s, V x) {
    return s * static_cast<state_type>(x);
  }
  ETNA_HD static state_type combine(state_type a, state_type b) { return a * b; }
  ETNA_HD static output_type finish(state_type s) { return s; }
  template <class B>
  static B batch_step(const B& s, const B& x) {
    return s * x;
  }
};

// max and min propagate NaN, as PyTorch: once a NaN is seen it is the result. (xsimd::isnan,
// not x != x: xsimd 8's batch != is an ordered compare, false for NaN.)
template <Scalar T>
struct MaxReduce {
  using input_type = T;
  using state_type = T;
  using output_type = T;
  static constexpr bool vectorized = FloatingScalar<T>;
  static constexpr bool indexed = false;
  ETNA_HD static T identity() {
    if constexpr (FloatingScalar<T>) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  ETNA_HD static T step(T s, T x) { return (x > s || detail::is_nan(x)) ? x : s; }
  ETNA_HD static T combine(T a, T b) { return step(a, b); }
  ETNA_HD static T finish(T s) { return s; }
  template <class B>
  static B batch_step(const B& s, const B& x) {
    return xsimd::select((x > s) | xsimd::isnan(x), x, s);
  }
};

template <Scalar T>
struct MinReduce {
  using input_type = T;
  using state_type = T;
  using output_type = T;
  static constexpr bool vectorized = FloatingScalar<T>;
  static constexpr bool indexed = false;
  ETNA_HD static T identity() {
    if constexpr (FloatingScalar<T>) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  ETNA_HD static T step(T s, T x) { return (x < s || detail::is_nan(x)) ? x : s; }
  ETNA_HD static T combine(T a, T b) { return step(a, b); }
  ETNA_HD static T finish(T s) { return s; }
  template <class B>
  static B batch_step(const B& s, const B& x) {
    return xsimd::select((x < s) | xsimd::isnan(x), x, s);
  }
};

// ---- index reductions: the state is the best value so far and where it was (index -1: no
// element yet). The first occurrence wins ties and NaN beats everything, as in PyTorch. ------

template <class T>
struct ArgState {
  T value{};
  std::int64_t index = -1;
};

template <class T, class Extreme, bool Greater>
struct ArgReduce {
  using input_type = T;
  using state_type = ArgState<T>;
  using output_type = std::int64_t;
  using extreme = Extreme;  // the value reduction a SIMD block scan uses to find candidates
  static constexpr bool vectorized = FloatingScalar<T>;
  static constexpr bool indexed = true;

  ETNA_HD static bool better(T x, T best) {
    if (detail::is_nan(best)) return false;
    if (detail::is_nan(x)) return true;
    return Greater ? x > best : x < best;
  }
  ETNA_HD static state_type identity() { return {}; }
  ETNA_HD static state_type step(state_type s, T x, std::int64_t index) {
    return (s.index < 0 || better(x, s.value)) ? state_type{x, index} : s;
  }
  ETNA_HD static state_type combine(state_type a, state_type b) {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    return better(b.value, a.value) ? b : a;
  }
  ETNA_HD static output_type finish(state_type s) { return s.index; }
};

template <Scalar T>
using ArgMaxReduce = ArgReduce<T, MaxReduce<T>, true>;
template <Scalar T>
using ArgMinReduce = ArgReduce<T, MinReduce<T>, false>;

}  // namespace etna::cpu_backend
