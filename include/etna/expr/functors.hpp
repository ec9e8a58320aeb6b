// Scalar functors of the element-wise expressions. Each states its value and its local partial
// derivatives (partial<I>(y, args...) = d y / d arg I, given the output y), written once for
// scalars and SIMD batches, host/device callable. Autograd's fused backward sweep uses partial.
// `partial_from_output = true` marks a costly functor whose partial needs its output y: when it
// is the last operation of a recorded expression, the backward sweep reads y from the saved
// output instead of recomputing it (tanh, sigmoid, exp: as PyTorch's backward formulas do).
#pragma once

#include <cstdint>
#include <type_traits>

#include "etna/core/macros.hpp"
#include "etna/expr/math.hpp"

namespace etna::op {

using math::splat;

// The functors below avoid named local variables: nvcc rejects a local of an xsimd batch type
// in a host-device function ("contains a vector"), and these templates run on batches in host
// code. Intermediate values are passed as parameters to small helpers instead.
namespace detail {
template <class V> ETNA_HD V sign_given_zero(V x, V zero) {
  return math::select(x > zero, splat(1, x), math::select(x < zero, splat(-1, x), zero));
}
}  // namespace detail

// ---- unary --------------------------------------------------------------------------------
struct Neg {
  static constexpr const char* name = "neg";
  template <class V> ETNA_HD V operator()(V x) const { return -x; }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return splat(-1, x); }
};
struct Abs {
  static constexpr const char* name = "abs";
  template <class V> ETNA_HD V operator()(V x) const { return math::abs(x); }
  template <int I, class V> ETNA_HD V partial(V, V x) const {  // sign(x), 0 at 0 as PyTorch
    return detail::sign_given_zero(x, splat(0, x));
  }
};
struct Sign {
  static constexpr const char* name = "sign";
  template <class V> ETNA_HD V operator()(V x) const { return detail::sign_given_zero(x, splat(0, x)); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return splat(0, x); }
};
struct Exp {
  static constexpr const char* name = "exp";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const { return math::exp(x); }
  template <int I, class V> ETNA_HD V partial(V y, V) const { return y; }
};
struct Expm1 {
  static constexpr const char* name = "expm1";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const { return math::expm1(x); }
  template <int I, class V> ETNA_HD V partial(V y, V x) const { return y + splat(1, x); }
};
struct Log {
  static constexpr const char* name = "log";
  template <class V> ETNA_HD V operator()(V x) const { return math::log(x); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return splat(1, x) / x; }
};
struct Log1p {
  static constexpr const char* name = "log1p";
  template <class V> ETNA_HD V operator()(V x) const { return math::log1p(x); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return splat(1, x) / (splat(1, x) + x); }
};
struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const { return math::sqrt(x); }
  template <int I, class V> ETNA_HD V partial(V y, V x) const { return splat(0.5, x) / y; }
};
struct Rsqrt {
  static constexpr const char* name = "rsqrt";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const { return splat(1, x) / math::sqrt(x); }
  template <int I, class V> ETNA_HD V partial(V y, V x) const { return splat(-0.5, x) * y * y * y; }
};
struct Reciprocal {
  static constexpr const char* name = "reciprocal";
  template <class V> ETNA_HD V operator()(V x) const { return splat(1, x) / x; }
  template <int I, class V> ETNA_HD V partial(V y, V) const { return -(y * y); }
};
struct Square {
  static constexpr const char* name = "square";
  template <class V> ETNA_HD V operator()(V x) const { return x * x; }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return x + x; }
};
struct Sin {
  static constexpr const char* name = "sin";
  template <class V> ETNA_HD V operator()(V x) const { return math::sin(x); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return math::cos(x); }
};
struct Cos {
  static constexpr const char* name = "cos";
  template <class V> ETNA_HD V operator()(V x) const { return math::cos(x); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return -math::sin(x); }
};
struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const { return math::tanh(x); }
  template <int I, class V> ETNA_HD V partial(V y, V x) const { return splat(1, x) - y * y; }
};
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr bool partial_from_output = true;
  template <class V> ETNA_HD V operator()(V x) const {
    return splat(1, x) / (splat(1, x) + math::exp(-x));
  }
  template <int I, class V> ETNA_HD V partial(V y, V x) const { return y * (splat(1, x) - y); }
};
struct Relu {
  static constexpr const char* name = "relu";
  // select(x < 0, 0, x) keeps NaN as NaN, as PyTorch does.
  template <class V> ETNA_HD V operator()(V x) const {
    return math::select(x < splat(0, x), splat(0, x), x);
  }
  // 0 where x <= 0, else 1 (so 1 at NaN, as PyTorch's threshold_backward).
  template <int I, class V> ETNA_HD V partial(V, V x) const {
    return math::select(x <= splat(0, x), splat(0, x), splat(1, x));
  }
};
struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  double negative_slope = 0.01;
  template <class V> ETNA_HD V operator()(V x) const {
    return math::select(x > splat(0, x), x, x * splat(negative_slope, x));
  }
  template <int I, class V> ETNA_HD V partial(V, V x) const {
    return math::select(x > splat(0, x), splat(1, x), splat(negative_slope, x));
  }
};
struct Elu {
  static constexpr const char* name = "elu";
  double alpha = 1.0;
  template <class V> ETNA_HD V operator()(V x) const {
    return math::select(x > splat(0, x), x, splat(alpha, x) * math::expm1(x));
  }
  template <int I, class V> ETNA_HD V partial(V y, V x) const {
    return math::select(x > splat(0, x), splat(1, x), y + splat(alpha, x));
  }
};
// GELU, exact (erf) or with PyTorch's tanh approximation.
struct Gelu {
  static constexpr const char* name = "gelu";
  bool tanh_approximation = false;
  static constexpr double kSqrt1_2 = 0.70710678118654752440;
  static constexpr double kSqrt2OverPi = 0.79788456080286535588;
  static constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  template <class V> ETNA_HD V operator()(V x) const {
    if (tanh_approximation)
      return splat(0.5, x) * x *
             (splat(1, x) + math::tanh(splat(kSqrt2OverPi, x) * (x + splat(0.044715, x) * x * x * x)));
    return splat(0.5, x) * x * (splat(1, x) + math::erf(x * splat(kSqrt1_2, x)));
  }
  template <int I, class V> ETNA_HD V partial(V, V x) const {
    if (tanh_approximation)
      return tanh_partial(x, math::tanh(splat(kSqrt2OverPi, x) * (x + splat(0.044715, x) * x * x * x)),
                          splat(kSqrt2OverPi, x) * (splat(1, x) + splat(3 * 0.044715, x) * x * x));
    return splat(0.5, x) * (splat(1, x) + math::erf(x * splat(kSqrt1_2, x))) +      // cdf
           x * (splat(kInvSqrt2Pi, x) * math::exp(splat(-0.5, x) * x * x));          // x pdf
  }
  // d/dx of the tanh form, given t = tanh(inner) and dinner = d inner / dx.
  template <class V> ETNA_HD static V tanh_partial(V x, V t, V dinner) {
    return splat(0.5, x) * (splat(1, x) + t) + splat(0.5, x) * x * (splat(1, x) - t * t) * dinner;
  }
};
struct Silu {
  static constexpr const char* name = "silu";
  template <class V> ETNA_HD V operator()(V x) const {
    return x / (splat(1, x) + math::exp(-x));
  }
  template <int I, class V> ETNA_HD V partial(V, V x) const {
    return given_sigmoid(x, splat(1, x) / (splat(1, x) + math::exp(-x)));
  }
  template <class V> ETNA_HD static V given_sigmoid(V x, V s) { return s * (splat(1, x) + x * (splat(1, x) - s)); }
};
// softplus(x) = log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch's definition).
struct Softplus {
  static constexpr const char* name = "softplus";
  double beta = 1.0, threshold = 20.0;
  template <class V> ETNA_HD V operator()(V x) const { return value_given(x, x * splat(beta, x)); }
  template <int I, class V> ETNA_HD V partial(V, V x) const { return partial_given(x, x * splat(beta, x)); }
  template <class V> ETNA_HD V value_given(V x, V bx) const {  // bx = beta x
    return math::select(bx > splat(threshold, x), x, math::log1p(math::exp(bx)) / splat(beta, x));
  }
  template <class V> ETNA_HD V partial_given(V x, V bx) const {
    return math::select(bx > splat(threshold, x), splat(1, x),
                        splat(1, x) / (splat(1, x) + math::exp(-bx)));
  }
};
// clamp(x, lo, hi); either bound may be absent (clamp_min/clamp_max). NaN stays NaN (written
// with select: SIMD max/min instructions would return the bound). The gradient passes where
// lo <= x <= hi (so not at NaN), as PyTorch.
struct Clamp {
  static constexpr const char* name = "clamp";
  double lo = 0, hi = 0;
  bool has_lo = true, has_hi = true;
  template <class V> ETNA_HD V operator()(V x) const { return upper(lower(x)); }
  template <int I, class V> ETNA_HD V partial(V, V x) const {
    return upper_mask(x, lower_mask(x, splat(1, x)));
  }
  template <class V> ETNA_HD V lower(V r) const {
    return has_lo ? math::select(r < splat(lo, r), splat(lo, r), r) : r;
  }
  template <class V> ETNA_HD V upper(V r) const {
    return has_hi ? math::select(r > splat(hi, r), splat(hi, r), r) : r;
  }
  template <class V> ETNA_HD V lower_mask(V x, V g) const {
    return has_lo ? math::select(x >= splat(lo, x), g, splat(0, x)) : g;
  }
  template <class V> ETNA_HD V upper_mask(V x, V g) const {
    return has_hi ? math::select(x <= splat(hi, x), g, splat(0, x)) : g;
  }
};
template <class To>
struct Cast {
  static constexpr const char* name = "cast";
  // A SIMD batch reaches the cast only when source and target types are equal (the evaluator
  // vectorises uniform trees only), so it passes through unchanged.
  template <class V>
    requires std::is_arithmetic_v<V>
  ETNA_HD To operator()(V x) const {
    return static_cast<To>(x);
  }
  // Host only: a batch is a host type, and nvcc rejects it in a host-device member of this
  // class template ("contains a vector").
  template <class V>
    requires(!std::is_arithmetic_v<V>)
  V operator()(V x) const {
    return x;
  }
};
struct LogicalNot {
  static constexpr const char* name = "logical_not";
  ETNA_HD bool operator()(bool x) const { return !x; }
};

// ---- binary -------------------------------------------------------------------------------
struct Add {
  static constexpr const char* name = "add";
  template <class V> ETNA_HD V operator()(V a, V b) const { return a + b; }
  template <int I, class V> ETNA_HD V partial(V, V a, V) const { return splat(1, a); }
};
struct Sub {
  static constexpr const char* name = "sub";
  template <class V> ETNA_HD V operator()(V a, V b) const { return a - b; }
  template <int I, class V> ETNA_HD V partial(V, V a, V) const { return splat(I == 0 ? 1 : -1, a); }
};
struct Mul {
  static constexpr const char* name = "mul";
  template <class V> ETNA_HD V operator()(V a, V b) const { return a * b; }
  template <int I, class V> ETNA_HD V partial(V, V a, V b) const {
    if constexpr (I == 0) return b; else return a;
  }
};
struct Div {
  static constexpr const char* name = "div";
  template <class V> ETNA_HD V operator()(V a, V b) const { return a / b; }
  template <int I, class V> ETNA_HD V partial(V y, V a, V b) const {
    if constexpr (I == 0) return splat(1, a) / b; else return -y / b;
  }
};
struct Pow {
  static constexpr const char* name = "pow";
  template <class V> ETNA_HD V operator()(V a, V b) const { return math::pow(a, b); }
  template <int I, class V> ETNA_HD V partial(V y, V a, V b) const {
    if constexpr (I == 0) {
      return math::select(b == splat(0, a), splat(0, a), b * math::pow(a, b - splat(1, a)));
    } else {  // d/db a^b = a^b log a, taken as 0 at a == 0 when b >= 0 (PyTorch's convention)
      return exponent_partial(y, a, b, splat(0, a));
    }
  }
  template <class V> ETNA_HD static V exponent_partial(V y, V a, V b, V zero) {
    return math::select(a == zero, math::select(b >= zero, zero, y * math::log(a)), y * math::log(a));
  }
};
// maximum/minimum propagate NaN from either side and split the gradient evenly on ties, as
// PyTorch does (which also passes the full gradient to both sides when one is NaN).
struct Maximum {
  static constexpr const char* name = "maximum";
  template <class V> ETNA_HD V operator()(V a, V b) const {
    return math::select(math::isnan(a), a, math::select(math::isnan(b), b, math::max(a, b)));
  }
  template <int I, class V> ETNA_HD V partial(V, V a, V b) const {
    return math::select(a == b, splat(0.5, a),
                        I == 0 ? math::select(a < b, splat(0, a), splat(1, a))
                               : math::select(a > b, splat(0, a), splat(1, a)));
  }
};
struct Minimum {
  static constexpr const char* name = "minimum";
  template <class V> ETNA_HD V operator()(V a, V b) const {
    return math::select(math::isnan(a), a, math::select(math::isnan(b), b, math::min(a, b)));
  }
  template <int I, class V> ETNA_HD V partial(V, V a, V b) const {
    return math::select(a == b, splat(0.5, a),
                        I == 0 ? math::select(a > b, splat(0, a), splat(1, a))
                               : math::select(a < b, splat(0, a), splat(1, a)));
  }
};

// Comparisons and logical operators produce bool masks and carry no derivative.
#define ETNA_COMPARISON(Name, sym, str)                                       \
  struct Name {                                                               \
    static constexpr const char* name = str;                                  \
    template <class V> ETNA_HD auto operator()(V a, V b) const { return a sym b; } \
  };
ETNA_COMPARISON(Equal, ==, "eq")
ETNA_COMPARISON(NotEqual, !=, "ne")
ETNA_COMPARISON(Less, <, "lt")
ETNA_COMPARISON(LessEqual, <=, "le")
ETNA_COMPARISON(Greater, >, "gt")
ETNA_COMPARISON(GreaterEqual, >=, "ge")
#undef ETNA_COMPARISON
struct LogicalAnd {
  static constexpr const char* name = "logical_and";
  ETNA_HD bool operator()(bool a, bool b) const { return a && b; }
};
struct LogicalOr {
  static constexpr const char* name = "logical_or";
  ETNA_HD bool operator()(bool a, bool b) const { return a || b; }
};
struct LogicalXor {
  static constexpr const char* name = "logical_xor";
  ETNA_HD bool operator()(bool a, bool b) const { return a != b; }
};

// ---- ternary ------------------------------------------------------------------------------
struct Where {
  static constexpr const char* name = "where";
  template <class V> ETNA_HD V operator()(bool c, V a, V b) const { return c ? a : b; }
  // Derivatives with respect to a (I == 1) and b (I == 2); the mask has none.
  template <int I, class V> ETNA_HD V partial(V, bool c, V a, V) const {
    if constexpr (I == 1) return c ? splat(1, a) : splat(0, a);
    else return c ? splat(0, a) : splat(1, a);
  }
};

}  // namespace etna::op
