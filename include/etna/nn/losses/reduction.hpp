// What every loss shares: the Reduction enum (none / mean / sum, and kl_div's batchmean), the
// reduce step, LossWeight (a weight tensor of any float type) and the input/target checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/reduce.hpp"
#include "etna/core/error.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna::nn {

// How a loss turns its per-element values into the result (PyTorch's `reduction`).
// batchmean (sum / batch size) is KL divergence's mathematically right mean; only kl_div takes it.
enum class Reduction { none, mean, sum, batchmean };

inline std::string_view reduction_name(Reduction r) {
  switch (r) {
    case Reduction::none:
      return "none";
    case Reduction::mean:
      return "mean";
    case Reduction::sum:
      return "sum";
    case Reduction::batchmean:
      return "batchmean";
  }
  return "invalid";
}

// From a configuration string, as PyTorch spells it ("none", "mean", "sum", "batchmean").
inline Reduction parse_reduction(std::string_view name) {
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum, Reduction::batchmean})
    if (reduction_name(r) == name) return r;
  throw value_error(detail::str("loss: '", name,
                                "' is not a valid reduction (expected none, mean, sum or "
                                "batchmean)"));
}

// A weight tensor of either float type: the options structs are not templates (so that
// `CrossEntropyLoss{.weight = w}` reads naturally), and the loss casts it to its own type.
class LossWeight {
 public:
  LossWeight() = default;
  template <TensorLike X>
  requires FloatingScalar<value_type_of<X>> LossWeight(const X& w)
      : w_(Tensor<double>(cast<double>(w))) {}  // NOLINT: implicit
  bool defined() const { return w_.defined(); }
  const Shape& shape() const { return w_.shape(); }
  // As a tensor of T on device D (a copy to the GPU for cuda).
  template <class T, class D = cpu>
  Tensor<T, D> as() const {
    return Tensor<T>(cast<T>(w_)).template to<D>();
  }

 private:
  Tensor<double> w_;
};

namespace detail {

// Validates a reduction for a loss that has no batchmean (every one but kl_div).
inline void check_reduction(const char* op, Reduction r) {
  if (r == Reduction::none || r == Reduction::mean || r == Reduction::sum) return;
  if (r == Reduction::batchmean)
    throw value_error(etna::detail::str(op, ": reduction batchmean is only valid for kl_div"));
  throw value_error(etna::detail::str(op, ": invalid reduction value ", static_cast<int>(r)));
}

// Applies the reduction to an element-wise Var expression: none materialises it as one fused
// node, mean/sum fuse it into the reduction's input.
template <class E>
auto reduce(const E& e, Reduction r) {
  using V = decltype(as_var(e));
  if (r == Reduction::sum) return V(etna::sum(e));
  if (r == Reduction::mean) return V(etna::mean(e));
  return as_var(e);
}

inline void check_same_shape(const char* op, const Shape& input, const Shape& target) {
  if (!(input == target))
    throw shape_error(
        etna::detail::str(op, ": target shape ", target, " does not match input shape ", input));
}

}  // namespace detail
}  // namespace etna::nn
