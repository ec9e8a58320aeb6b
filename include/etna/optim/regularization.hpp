// Weight penalties to add to a loss: l1_penalty (lambda * sum |p|) and l2_penalty
// (lambda * sum p^2) over a list of parameters, as differentiable 0-d Vars.
#pragma once

#include <vector>

#include "etna/autograd/fused_node.hpp"
#include "etna/autograd/ops/reduce.hpp"
#include "etna/autograd/var_expr.hpp"

namespace etna::optim {

namespace detail {
template <class T, class D, class Term>
Var<T, D> penalty(const char* who, const std::vector<Var<T, D>>& params, double lambda, Term term) {
  if (params.empty()) throw value_error(etna::detail::str(who, ": no parameters given"));
  Var<T, D> total = etna::sum(term(params[0]));
  for (std::size_t i = 1; i < params.size(); ++i) total = total + etna::sum(term(params[i]));
  return total * static_cast<T>(lambda);
}
}  // namespace detail

// lambda * sum over all parameters of |p| (its gradient is lambda * sign(p)).
template <FloatingScalar T, Device D = cpu>
Var<T, D> l1_penalty(const std::vector<Var<T, D>>& params, double lambda) {
  return detail::penalty("l1_penalty", params, lambda,
                         [](const Var<T, D>& p) { return etna::abs(p); });
}

// lambda * sum over all parameters of p^2 (gradient 2 lambda p: a weight_decay of w in SGD
// matches l2_penalty with lambda = w / 2).
template <FloatingScalar T, Device D = cpu>
Var<T, D> l2_penalty(const std::vector<Var<T, D>>& params, double lambda) {
  return detail::penalty("l2_penalty", params, lambda,
                         [](const Var<T, D>& p) { return etna::square(p); });
}

}  // namespace etna::optim
