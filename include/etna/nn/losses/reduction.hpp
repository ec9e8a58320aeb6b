// What every loss shares: the Reduction enum (none / mean / sum, and kl_div's batchmean), the
// reduce step, LossWeight (a weight tensor of any float type) and the input/target checks.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

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
  requires FloatingScalar<value_type_of<X>> LossWeight(const X& w)  // NOLINT: implicit
      : w_(Tensor<double>(cast<double>(w))), device_(std::make_shared<DeviceCopies>()) {}
  bool defined() const { return w_.defined(); }
  const Shape& shape() const { return w_.shape(); }
  // As a tensor of T on device D. The GPU copy is made on the first call and kept (shared by
  // the copies of this LossWeight): a loss object reused across training steps copies its
  // weight once, so the later steps can be captured into a CUDA graph, which allows no copies
  // from the host. The copy is never written to.
  template <class T, class D = cpu>
  Tensor<T, D> as() const {
    if constexpr (std::is_same_v<D, cpu>) {
      return Tensor<T>(cast<T>(w_));
    } else {
      std::lock_guard<std::mutex> lock(device_->mutex);
      const std::type_index key(typeid(Tensor<T, D>));
      for (const auto& [type, copy] : device_->copies)
        if (type == key) return *static_cast<const Tensor<T, D>*>(copy.get());
      auto copy = std::make_shared<Tensor<T, D>>(Tensor<T>(cast<T>(w_)).template to<D>());
      device_->copies.emplace_back(key, copy);
      return *copy;
    }
  }

 private:
  struct DeviceCopies {
    std::mutex mutex;
    std::vector<std::pair<std::type_index, std::shared_ptr<const void>>> copies;
  };
  Tensor<double> w_;
  std::shared_ptr<DeviceCopies> device_;
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
