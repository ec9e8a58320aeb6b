// Vars inside lazy element-wise expressions: VarLeaf, the leaf node that holds a Var, and the
// hooks that let the expression vocabulary and the CPU evaluator treat it like a tensor leaf.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "etna/autograd/var.hpp"
#include "etna/backend/cpu/evaluate.hpp"

namespace etna {
namespace autograd {

template <class T, class D>
struct VarLeaf : expr_tag {
  using value_type = T;
  using device_type = D;
  std::shared_ptr<VarImpl<T, D>> impl;
  explicit VarLeaf(std::shared_ptr<VarImpl<T, D>> i) : impl(std::move(i)) {}
  const Shape& shape() const { return impl->value.shape(); }
};

// Aliasing checks see a VarLeaf as the tensor it reads.
template <class F, class T, class D>
void for_each_leaf(const VarLeaf<T, D>& leaf, F&& f) {
  f(expr::Leaf<T, D>(leaf.impl->value));
}

}  // namespace autograd

template <class T, class D>
struct contains_var<autograd::VarLeaf<T, D>> : std::true_type {};

// Found by argument-dependent lookup from the element-wise vocabulary (expr_t, make_binary...).
template <class T, class D>
autograd::VarLeaf<T, D> as_expr(const Var<T, D>& v) {
  if (!v.defined()) throw error("Var: use of an undefined Var (default-constructed)");
  return autograd::VarLeaf<T, D>(v.impl_ptr());
}

namespace cpu_backend {
template <class T, class D>
struct Evaluator<autograd::VarLeaf<T, D>> : Evaluator<expr::Leaf<T, D>> {
  Evaluator(const autograd::VarLeaf<T, D>& leaf, const Shape& out_shape)
      : Evaluator<expr::Leaf<T, D>>(expr::Leaf<T, D>(leaf.impl->value), out_shape) {}
};
template <FloatingScalar T, class D>
struct simd_type<autograd::VarLeaf<T, D>> {
  using type = T;
};
}  // namespace cpu_backend

namespace autograd {

// Number of leaves (tensor or Var) in an expression, in left-to-right order.
template <class E>
struct leaf_count : std::integral_constant<int, 0> {};
template <class T, class D>
struct leaf_count<expr::Leaf<T, D>> : std::integral_constant<int, 1> {};
template <class T, class D>
struct leaf_count<VarLeaf<T, D>> : std::integral_constant<int, 1> {};
template <class Op, class... Args>
struct leaf_count<expr::Apply<Op, Args...>>
    : std::integral_constant<int, (0 + ... + leaf_count<Args>::value)> {};

// Position of the first leaf of argument I among an Apply node's leaves.
template <std::size_t I, class... Args>
constexpr int leaf_offset() {
  constexpr int counts[] = {leaf_count<Args>::value..., 0};
  int offset = 0;
  for (int k = 0; k < static_cast<int>(I); ++k) offset += counts[k];  // (signed: nvcc warns on k < 0u)
  return offset;
}

// The Var behind each leaf position (null for tensors and for Vars of another element type).
template <int Pos, class T, class D, std::size_t N, class LT, class LD>
void collect_var_leaves(const VarLeaf<LT, LD>& e, std::array<std::shared_ptr<VarImpl<T, D>>, N>& out) {
  if constexpr (std::is_same_v<LT, T> && std::is_same_v<LD, D>) out[Pos] = e.impl;
}
template <int Pos, class T, class D, std::size_t N, class LT, class LD>
void collect_var_leaves(const expr::Leaf<LT, LD>&, std::array<std::shared_ptr<VarImpl<T, D>>, N>&) {}
template <int Pos, class T, class D, std::size_t N, class C>
void collect_var_leaves(const expr::Const<C>&, std::array<std::shared_ptr<VarImpl<T, D>>, N>&) {}
template <int Pos, class T, class D, std::size_t N, class Op, class... Args>
void collect_var_leaves(const expr::Apply<Op, Args...>& e,
                        std::array<std::shared_ptr<VarImpl<T, D>>, N>& out) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (collect_var_leaves<Pos + leaf_offset<I, Args...>()>(std::get<I>(e.args), out), ...);
  }(std::index_sequence_for<Args...>{});
}

// A readable name of an expression's structure, e.g. "add(mul(var, var), const)".
template <class T, class D>
std::string expression_name(const expr::Leaf<T, D>*) { return "tensor"; }
template <class T, class D>
std::string expression_name(const VarLeaf<T, D>*) { return "var"; }
template <class T>
std::string expression_name(const expr::Const<T>*) { return "const"; }
template <class Op, class... Args>
std::string expression_name(const expr::Apply<Op, Args...>*) {
  std::string s = std::string(Op::name) + "(";
  bool first = true;
  ((s += (first ? "" : ", ") + expression_name(static_cast<const Args*>(nullptr)), first = false),
   ...);
  return s + ")";
}

}  // namespace autograd
}  // namespace etna
