// pad() on Vars. Constant padding's gradient is the output gradient cropped back (pad with the
// negated sizes); reflect, replicate and circular add each output's gradient into its source.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/core/factory.hpp"
#include "etna/ops/indexing.hpp"
#include "etna/ops/pad.hpp"

namespace etna::autograd {

template <class T, class D>
class PadNode final : public Node<T, D> {
 public:
  PadNode(std::shared_ptr<VarImpl<T, D>> input, std::vector<std::int64_t> pads,
          etna::detail::PadMode mode)
      : input_(std::move(input)),
        shape_(input_->value.shape()),
        pads_(std::move(pads)),
        mode_(mode) {}
  const char* name() const override { return "PadBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    if (shape_.empty()) {  // a 0-d input is copied
      propagate(input_, g.contiguous());
    } else if (mode_ == etna::detail::PadMode::constant) {
      std::vector<std::int64_t> crop(pads_.size());
      for (std::size_t i = 0; i < pads_.size(); ++i) crop[i] = -pads_[i];
      propagate(input_, etna::pad(g, crop));
    } else {
      propagate(input_, gather_back(g));
    }
  }
  void release_saved() override { input_.reset(); }

 private:
  // The padding reads the input one dimension at a time (output j of dimension d reads input
  // pad_source(j)), so its adjoint is one index_add per padded dimension.
  Tensor<T, D> gather_back(Tensor<T, D> g) const {
    const int n = shape_.size();
    for (int i = 0; i < static_cast<int>(pads_.size() / 2); ++i) {
      const int d = n - 1 - i;
      const std::int64_t out_size = g.size(d);
      auto source = empty<std::int64_t>({out_size});
      for (std::int64_t j = 0; j < out_size; ++j)
        source(j) = etna::detail::pad_source(mode_, j, pads_[2 * i], pads_[2 * i + 1], shape_[d]);
      Shape reduced = g.shape();
      reduced[d] = shape_[d];
      // The map is built on the host and copied to the device on cuda (on the CPU, to<cpu>()
      // is the tensor itself); its entries are in range by construction, so are not checked.
      g = etna::detail::index_add(zeros<T, D>(reduced), d, source.template to<D>(), g, T(1),
                                  false);
    }
    return g;
  }

  std::shared_ptr<VarImpl<T, D>> input_;
  Shape shape_;
  std::vector<std::int64_t> pads_;
  etna::detail::PadMode mode_;
};

template <class T, class D>
Var<T, D> pad_var(const Var<T, D>& x, const std::vector<std::int64_t>& pads, std::string_view mode,
                  double value) {
  Tensor<T, D> out = etna::pad(x.value(), pads, mode, value);
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))
    node = std::make_shared<PadNode<T, D>>(x.impl_ptr(), pads, etna::detail::parse_pad_mode(mode));
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::autograd

namespace etna {

// F.pad on a Var (the tensor version's modes and rules); the fill value is a constant.
template <class T, class D>
Var<T, D> pad(const Var<T, D>& x, const std::vector<std::int64_t>& pads,
              std::string_view mode = "constant", double value = 0) {
  return autograd::pad_var(x, pads, mode, value);
}
// A Var expression, matched as the expression node it is so that this overload is preferred to
// the tensor function's overload for any expression (which would drop the gradient).
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto pad(const expr::Apply<Op, Args...>& x, const std::vector<std::int64_t>& pads,
         std::string_view mode = "constant", double value = 0) {
  return autograd::pad_var(as_var(x), pads, mode, value);
}

}  // namespace etna
