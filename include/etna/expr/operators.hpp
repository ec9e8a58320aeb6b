// The element-wise vocabulary users write: arithmetic and comparison operators, logical ops,
// where, and the named functions (exp, tanh, relu, gelu...). Each returns a lazy expression.
#pragma once

#include <string_view>
#include <type_traits>

#include "etna/expr/functors.hpp"
#include "etna/expr/node.hpp"

namespace etna {

// A scalar operand joining a tensor expression (converted to the tensor's element type).
template <class X>
concept ScalarOperand = std::is_arithmetic_v<std::remove_cvref_t<X>>;

template <class L, class R>
concept ElementwiseOperands =
    (ElementwiseOperand<L> && ElementwiseOperand<R>) ||
    (ElementwiseOperand<L> && ScalarOperand<R>) || (ScalarOperand<L> && ElementwiseOperand<R>);

namespace expr {

template <class T, class X>
auto operand(const X& x) {
  if constexpr (ScalarOperand<X>) return Const<T>(static_cast<T>(x));
  else return as_expr(x);
}

// Element type of a binary operation: the tensor operand's type, or the common type of two
// tensor operands, which must agree (etna does not promote silently).
template <class L, class R>
constexpr auto binary_value_type() {
  if constexpr (!ElementwiseOperand<L>) return std::type_identity<value_type_of<R>>{};
  else if constexpr (!ElementwiseOperand<R>) return std::type_identity<value_type_of<L>>{};
  else {
    static_assert(std::is_same_v<value_type_of<L>, value_type_of<R>>,
                  "etna: element-wise operands have different element types; convert one "
                  "with .to<T>() or etna::cast<T>(x)");
    return std::type_identity<value_type_of<L>>{};
  }
}

template <class Op, class L, class R>
auto make_binary(Op op, const L& l, const R& r) {
  using T = typename decltype(binary_value_type<L, R>())::type;
  return Apply<Op, decltype(operand<T>(l)), decltype(operand<T>(r))>(op, operand<T>(l),
                                                                       operand<T>(r));
}

template <class Op, class X>
auto make_unary(Op op, const X& x) {
  return Apply<Op, expr_t<X>>(op, as_expr(x));
}

template <class X>
constexpr void require_floating(const char* /*op*/) {
  static_assert(FloatingScalar<value_type_of<X>>,
                "etna: this function needs a floating-point tensor (float or double); "
                "convert with .to<float>() or etna::cast<float>(x)");
}

}  // namespace expr

// Materialises a tensor or expression into a tensor (an expression is evaluated in one pass).
// For Vars and Var expressions this is the value only: nothing is recorded.
template <ElementwiseOperand X>
auto eval(const X& x) {
  using Result = Tensor<value_type_of<X>, typename expr_t<X>::device_type>;
  if constexpr (TensorType<X>) {
    return Result(x);
  } else {
    const auto& e = as_expr(x);
    Result out = Result::allocate(e.shape());
    detail::assign_expression(out, e);
    return out;
  }
}

// ---- arithmetic operators ---------------------------------------------------------------------
#define ETNA_BINARY_OPERATOR(sym, Op)                                 \
  template <class L, class R>                                         \
    requires ElementwiseOperands<L, R>                                \
  auto operator sym(const L& l, const R& r) {                         \
    return expr::make_binary(op::Op{}, l, r);                         \
  }
ETNA_BINARY_OPERATOR(+, Add)
ETNA_BINARY_OPERATOR(-, Sub)
ETNA_BINARY_OPERATOR(*, Mul)
ETNA_BINARY_OPERATOR(/, Div)
ETNA_BINARY_OPERATOR(==, Equal)
ETNA_BINARY_OPERATOR(!=, NotEqual)
ETNA_BINARY_OPERATOR(<, Less)
ETNA_BINARY_OPERATOR(<=, LessEqual)
ETNA_BINARY_OPERATOR(>, Greater)
ETNA_BINARY_OPERATOR(>=, GreaterEqual)
#undef ETNA_BINARY_OPERATOR

template <ElementwiseOperand X>
auto operator-(const X& x) {
  return expr::make_unary(op::Neg{}, x);
}

// Logical operators on bool masks: & | ^ and ! (also ~), as PyTorch's bool tensors.
template <class L, class R>
  requires ElementwiseOperands<L, R>
auto logical_and(const L& l, const R& r) {
  return expr::make_binary(op::LogicalAnd{}, l, r);
}
template <class L, class R>
  requires ElementwiseOperands<L, R>
auto logical_or(const L& l, const R& r) {
  return expr::make_binary(op::LogicalOr{}, l, r);
}
template <class L, class R>
  requires ElementwiseOperands<L, R>
auto logical_xor(const L& l, const R& r) {
  return expr::make_binary(op::LogicalXor{}, l, r);
}
template <ElementwiseOperand X>
auto logical_not(const X& x) {
  static_assert(std::is_same_v<value_type_of<X>, bool>, "etna: logical_not needs a bool mask");
  return expr::make_unary(op::LogicalNot{}, x);
}
template <class L, class R>
  requires ElementwiseOperands<L, R> && (std::is_same_v<value_type_of<L>, bool> ||
                                         std::is_same_v<value_type_of<R>, bool>)
auto operator&(const L& l, const R& r) {
  return logical_and(l, r);
}
template <class L, class R>
  requires ElementwiseOperands<L, R> && (std::is_same_v<value_type_of<L>, bool> ||
                                         std::is_same_v<value_type_of<R>, bool>)
auto operator|(const L& l, const R& r) {
  return logical_or(l, r);
}
template <class L, class R>
  requires ElementwiseOperands<L, R> && (std::is_same_v<value_type_of<L>, bool> ||
                                         std::is_same_v<value_type_of<R>, bool>)
auto operator^(const L& l, const R& r) {
  return logical_xor(l, r);
}
template <ElementwiseOperand X>
auto operator!(const X& x) {
  return logical_not(x);
}
template <ElementwiseOperand X>
auto operator~(const X& x) {
  return logical_not(x);
}

// where(mask, a, b): a where mask is true, else b; a and b may be tensors or scalars.
template <ElementwiseOperand C, class A, class B>
  requires(ElementwiseOperand<A> || ElementwiseOperand<B> || (ScalarOperand<A> && ScalarOperand<B>))
auto where(const C& mask, const A& a, const B& b) {
  static_assert(std::is_same_v<value_type_of<C>, bool>, "etna: where() needs a bool mask");
  // if constexpr, not conditional_t: value_type_of<A> does not exist for a scalar A.
  using T = typename decltype([] {
    if constexpr (ElementwiseOperand<A>) return std::type_identity<value_type_of<A>>{};
    else if constexpr (ElementwiseOperand<B>) return std::type_identity<value_type_of<B>>{};
    else return std::type_identity<std::common_type_t<A, B>>{};
  }())::type;
  if constexpr (ElementwiseOperand<A> && ElementwiseOperand<B>)
    static_assert(std::is_same_v<value_type_of<A>, value_type_of<B>>,
                  "etna: where() branches have different element types");
  auto ea = expr::operand<T>(a);
  auto eb = expr::operand<T>(b);
  return expr::Apply<op::Where, expr_t<C>, decltype(ea), decltype(eb)>(op::Where{},
                                                                       as_expr(mask), ea, eb);
}

// Element type conversion as an expression node (fuses with the rest of the tree).
template <Scalar To, ElementwiseOperand X>
auto cast(const X& x) {
  return expr::make_unary(op::Cast<To>{}, x);
}

// ---- named element-wise functions ------------------------------------------------------------
#define ETNA_UNARY_FUNCTION(fname, Op)              \
  template <ElementwiseOperand X>                           \
  auto fname(const X& x) {                          \
    expr::require_floating<X>(#fname);              \
    return expr::make_unary(op::Op{}, x);           \
  }
ETNA_UNARY_FUNCTION(neg, Neg)
ETNA_UNARY_FUNCTION(exp, Exp)
ETNA_UNARY_FUNCTION(expm1, Expm1)
ETNA_UNARY_FUNCTION(log, Log)
ETNA_UNARY_FUNCTION(log1p, Log1p)
ETNA_UNARY_FUNCTION(sqrt, Sqrt)
ETNA_UNARY_FUNCTION(rsqrt, Rsqrt)
ETNA_UNARY_FUNCTION(reciprocal, Reciprocal)
ETNA_UNARY_FUNCTION(sin, Sin)
ETNA_UNARY_FUNCTION(cos, Cos)
ETNA_UNARY_FUNCTION(tanh, Tanh)
ETNA_UNARY_FUNCTION(sigmoid, Sigmoid)
ETNA_UNARY_FUNCTION(silu, Silu)
#undef ETNA_UNARY_FUNCTION

// abs, sign, square and relu also work on integer tensors.
template <ElementwiseOperand X> auto abs(const X& x) { return expr::make_unary(op::Abs{}, x); }
template <ElementwiseOperand X> auto sign(const X& x) { return expr::make_unary(op::Sign{}, x); }
template <ElementwiseOperand X> auto square(const X& x) { return expr::make_unary(op::Square{}, x); }
template <ElementwiseOperand X> auto relu(const X& x) { return expr::make_unary(op::Relu{}, x); }

template <ElementwiseOperand X>
auto leaky_relu(const X& x, double negative_slope = 0.01) {
  expr::require_floating<X>("leaky_relu");
  return expr::make_unary(op::LeakyRelu{negative_slope}, x);
}
template <ElementwiseOperand X>
auto elu(const X& x, double alpha = 1.0) {
  expr::require_floating<X>("elu");
  return expr::make_unary(op::Elu{alpha}, x);
}
// gelu(x) is exact (erf); gelu(x, "tanh") is PyTorch's tanh approximation.
template <ElementwiseOperand X>
auto gelu(const X& x, std::string_view approximate = "none") {
  expr::require_floating<X>("gelu");
  if (approximate != "none" && approximate != "tanh")
    throw value_error(detail::str("gelu: approximate must be \"none\" or \"tanh\", got \"",
                                  approximate, "\""));
  return expr::make_unary(op::Gelu{approximate == "tanh"}, x);
}
template <ElementwiseOperand X>
auto softplus(const X& x, double beta = 1.0, double threshold = 20.0) {
  expr::require_floating<X>("softplus");
  return expr::make_unary(op::Softplus{beta, threshold}, x);
}
template <ElementwiseOperand X>
auto clamp(const X& x, double min, double max) {
  if (min > max)
    throw value_error(detail::str("clamp: min ", min, " is greater than max ", max));
  return expr::make_unary(op::Clamp{min, max}, x);
}
template <ElementwiseOperand X>
auto clamp_min(const X& x, double min) {
  return expr::make_unary(op::Clamp{min, 0, true, false}, x);
}
template <ElementwiseOperand X>
auto clamp_max(const X& x, double max) {
  return expr::make_unary(op::Clamp{0, max, false, true}, x);
}

template <class L, class R>
  requires ElementwiseOperands<L, R>
auto pow(const L& base, const R& exponent) {
  return expr::make_binary(op::Pow{}, base, exponent);
}
template <class L, class R>
  requires ElementwiseOperands<L, R>
auto maximum(const L& a, const R& b) {
  return expr::make_binary(op::Maximum{}, a, b);
}
template <class L, class R>
  requires ElementwiseOperands<L, R>
auto minimum(const L& a, const R& b) {
  return expr::make_binary(op::Minimum{}, a, b);
}

}  // namespace etna
