// Expression node templates: Leaf (a tensor held by handle), Const (a scalar) and Apply (a
// functor over operands). Nodes hold operands by value, so expressions never dangle.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include "etna/core/tensor.hpp"

namespace etna {

template <class X>
struct is_tensor : std::false_type {};
template <class T, class D>
struct is_tensor<Tensor<T, D>> : std::true_type {};
template <class X>
concept TensorType = is_tensor<std::remove_cvref_t<X>>::value;

namespace expr {

template <class T, class D>
struct Leaf : expr_tag {
  using value_type = T;
  using device_type = D;
  Tensor<T, D> tensor;
  explicit Leaf(Tensor<T, D> t) : tensor(std::move(t)) {}
  const Shape& shape() const { return tensor.shape(); }
};

// A scalar broadcast to any shape; it has no device of its own (device_type void).
template <class T>
struct Const : expr_tag {
  using value_type = T;
  using device_type = void;
  T value;
  explicit Const(T v) : value(v) {}
  const Shape& shape() const {
    static const Shape scalar_shape;
    return scalar_shape;
  }
};

// The device shared by operands, ignoring scalars; mixing devices is a compile error.
template <class... Ds>
struct common_device {
  using type = void;
};
template <class D, class... Ds>
struct common_device<D, Ds...> {
  using rest = typename common_device<Ds...>::type;
  static_assert(std::is_void_v<D> || std::is_void_v<rest> || std::is_same_v<D, rest>,
                "etna: an expression mixes cpu and cuda tensors; move one of them explicitly "
                "with .to<etna::cpu>() or .to<etna::cuda>()");
  using type = std::conditional_t<std::is_void_v<D>, rest, D>;
};

template <class Op, class... Args>
struct Apply : expr_tag {
  using value_type =
      std::remove_cvref_t<decltype(std::declval<const Op&>()(
          std::declval<typename Args::value_type>()...))>;
  using device_type = typename common_device<typename Args::device_type...>::type;

  Op op;
  std::tuple<Args...> args;
  Shape shape_;

  explicit Apply(Op o, Args... a) : op(o), args(std::move(a)...), shape_(result_shape()) {}
  const Shape& shape() const { return shape_; }

 private:
  Shape result_shape() const {
    return std::apply(
        [&](const auto&... a) {
          Shape s;
          ((s = broadcast_shape(s, a.shape(), Op::name)), ...);
          return s;
        },
        args);
  }
};

}  // namespace expr

// Autograd specialises these for Var and for the leaves that hold Vars, so the element-wise
// vocabulary (operators, exp, relu...) serves tensors and Vars alike while tensor-only
// functions (reductions, matmul...) accept exactly the expressions that hold no Var.
template <class X>
struct is_var : std::false_type {};
template <class Op, class... Args>
struct contains_var<expr::Apply<Op, Args...>>
    : std::bool_constant<(contains_var<Args>::value || ...)> {};

// A Tensor or a lazy expression over tensors.
template <class X>
concept TensorLike =
    TensorType<X> || (ExpressionNode<X> && !contains_var<std::remove_cvref_t<X>>::value);
// A Var or a lazy expression with at least one Var leaf (recorded by autograd when evaluated).
template <class X>
concept VarLike = is_var<std::remove_cvref_t<X>>::value ||
                  (ExpressionNode<X> && contains_var<std::remove_cvref_t<X>>::value);
// Anything the element-wise functions accept besides plain scalars.
template <class X>
concept ElementwiseOperand = TensorLike<X> || VarLike<X>;

namespace expr {

// Visits every Leaf of an expression tree (for aliasing checks and evaluator binding).
template <class F, class T, class D>
void for_each_leaf(const Leaf<T, D>& leaf, F&& f) {
  f(leaf);
}
template <class F, class T>
void for_each_leaf(const Const<T>&, F&&) {}
template <class F, class Op, class... Args>
void for_each_leaf(const Apply<Op, Args...>& node, F&& f) {
  std::apply([&](const auto&... a) { (for_each_leaf(a, f), ...); }, node.args);
}

}  // namespace expr

// as_expr: a Tensor becomes a Leaf, an expression stays itself.
template <class T, class D>
expr::Leaf<T, D> as_expr(const Tensor<T, D>& t) {
  return expr::Leaf<T, D>(t);
}
template <ExpressionNode E>
const E& as_expr(const E& e) {
  return e;
}

template <class X>
using expr_t = std::remove_cvref_t<decltype(as_expr(std::declval<const X&>()))>;
template <class X>
using value_type_of = typename expr_t<X>::value_type;

}  // namespace etna

// The CPU evaluator (defines detail::assign_expression) needs the complete node types.
#include "etna/backend/cpu/evaluate.hpp"
