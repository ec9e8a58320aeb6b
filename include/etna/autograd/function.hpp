// Helpers for writing the Var version of a tensor operation: as_var() for operands and the
// recording rule (a node only when grad mode is on and an input requires grad).
#pragma once

#include <memory>
#include <utility>

#include "etna/autograd/fused_node.hpp"

namespace etna {

// A Var for any operand: a Var itself, a Var expression (evaluated and recorded as one fused
// node), or a tensor / tensor expression (a constant that does not require grad).
template <class X>
auto as_var(const X& x) {
  using T = value_type_of<X>;
  using D = typename expr_t<X>::device_type;
  if constexpr (is_var<std::remove_cvref_t<X>>::value) return x;
  else if constexpr (VarLike<X>) return Var<T, D>(x);
  else return Var<T, D>(x, false);  // a tensor is shared, an expression evaluated
}

namespace autograd {

// Whether an operation on these Vars records a node.
template <class... V>
bool should_record(const V&... inputs) {
  return recording() && (inputs.requires_grad() || ...);
}

// The input's impl when it needs a gradient, else null (the node then skips it).
template <class T, class D>
std::shared_ptr<VarImpl<T, D>> grad_input(const Var<T, D>& v) {
  return v.requires_grad() ? v.impl_ptr() : nullptr;
}

}  // namespace autograd
}  // namespace etna
