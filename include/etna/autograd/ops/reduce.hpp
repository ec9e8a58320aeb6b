// Reductions on Vars (sum, mean) with their backward: the output gradient broadcast back
// over the reduced dimensions (and divided by the count for mean).
#pragma once

#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/ops/reduce.hpp"

namespace etna::autograd {

// Backward of sum/mean: g (shaped like the result) spread over the input's shape * scale.
template <class T, class D>
class BroadcastBackNode final : public Node<T, D> {
 public:
  BroadcastBackNode(const char* name, std::shared_ptr<VarImpl<T, D>> input, Shape keep_shape,
                    double scale)
      : name_(name), input_(std::move(input)), keep_shape_(keep_shape), scale_(scale) {}
  const char* name() const override { return name_; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override { add_next(out, input_); }

 protected:
  void backward(const Tensor<T, D>& g) override {
    const Tensor<T, D> spread = g.reshape(keep_shape_).expand(input_->value.shape());
    if (scale_ == 1) propagate(input_, spread.contiguous());
    else propagate(input_, Tensor<T, D>(spread * static_cast<T>(scale_)));
  }
  void release_saved() override { input_.reset(); }

 private:
  const char* name_;
  std::shared_ptr<VarImpl<T, D>> input_;
  Shape keep_shape_;
  double scale_;
};

template <class T, class D>
Var<T, D> reduce_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim,
                     bool mean) {
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, mean ? "mean" : "sum");
  Tensor<T, D> out = mean ? Tensor<T, D>(etna::mean(x.value(), dims, keepdim))
                          : Tensor<T, D>(etna::sum(x.value(), dims, keepdim));
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))
    node = std::make_shared<BroadcastBackNode<T, D>>(
        mean ? "MeanBackward" : "SumBackward", x.impl_ptr(), plan.keep_shape,
        mean ? 1.0 / static_cast<double>(plan.count) : 1.0);
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::autograd

namespace etna {

// sum / mean of a Var or Var expression over all elements, one dim, or a list of dims.
template <VarLike X>
auto sum(const X& x) {
  return autograd::reduce_var(as_var(x), {}, false, false);
}
template <VarLike X, DimIndex I>
auto sum(const X& x, I dim, bool keepdim = false) {
  return autograd::reduce_var(as_var(x), {static_cast<std::int64_t>(dim)}, keepdim, false);
}
template <VarLike X>
auto sum(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return autograd::reduce_var(as_var(x), dims, keepdim, false);
}
template <VarLike X>
auto mean(const X& x) {
  return autograd::reduce_var(as_var(x), {}, false, true);
}
template <VarLike X, DimIndex I>
auto mean(const X& x, I dim, bool keepdim = false) {
  return autograd::reduce_var(as_var(x), {static_cast<std::int64_t>(dim)}, keepdim, true);
}
template <VarLike X>
auto mean(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return autograd::reduce_var(as_var(x), dims, keepdim, true);
}

}  // namespace etna
