// Views on Vars (reshape, transpose, permute, slice, select, squeeze, expand...): the result
// shares the input's storage, and its backward maps the gradient back onto the input's shape.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"

namespace etna::autograd {

// Propagates g to an input. A leaf's .grad keeps the gradient, so it gets a dense copy rather
// than a transposed or broadcast view (PyTorch's AccumulateGrad layout rule); a computed input
// gets the view as is, since its node reads it once.
template <class T, class D>
void propagate_dense(const std::shared_ptr<VarImpl<T, D>>& input, const Tensor<T, D>& g) {
  if (!input) return;
  propagate(input, input->grad_fn ? g : g.contiguous());
}

// Backward of a view: one input, the gradient mapped back by a function that captures only
// shapes and view arguments (a view saves no tensor).
template <class T, class D>
class ViewNode final : public Node<T, D> {
 public:
  using GradMap = std::function<Tensor<T, D>(const Tensor<T, D>&)>;
  ViewNode(const char* name, std::shared_ptr<VarImpl<T, D>> input, GradMap map)
      : name_(name), input_(std::move(input)), map_(std::move(map)) {}
  const char* name() const override { return name_; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override { propagate_dense(input_, map_(g)); }
  void release_saved() override {
    input_.reset();
    map_ = nullptr;
  }

 private:
  const char* name_;
  std::shared_ptr<VarImpl<T, D>> input_;
  GradMap map_;
};

// The Var holding `out` (computed from x), recorded with a ViewNode when x needs a gradient.
template <class T, class D>
Var<T, D> record_view(const char* name, const Var<T, D>& x, Tensor<T, D> out,
                      typename ViewNode<T, D>::GradMap map) {
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x)) node = std::make_shared<ViewNode<T, D>>(name, x.impl_ptr(), std::move(map));
  return make_result(std::move(out), std::move(node));
}

// The view members of Var (declared in var.hpp, which reaches this class through etna::var_views
// by argument-dependent lookup). The tensor view runs first, so its errors surface unchanged.
template <class T, class D>
class VarViews {
  using Tensor_ = Tensor<T, D>;

 public:
  explicit VarViews(const Var<T, D>& x) : x_(x) {}

  Var<T, D> view(const Shape& shape) const {
    return reshaped("ViewBackward", x_.value().view(shape));
  }
  Var<T, D> reshape(const Shape& shape) const {
    return reshaped("ReshapeBackward", x_.value().reshape(shape));
  }
  Var<T, D> flatten(std::int64_t start_dim, std::int64_t end_dim) const {
    return reshaped("FlattenBackward", x_.value().flatten(start_dim, end_dim));
  }
  Var<T, D> squeeze() const { return reshaped("SqueezeBackward", x_.value().squeeze()); }
  Var<T, D> squeeze(std::int64_t dim) const {
    return reshaped("SqueezeBackward", x_.value().squeeze(dim));
  }
  Var<T, D> unsqueeze(std::int64_t dim) const {
    return reshaped("UnsqueezeBackward", x_.value().unsqueeze(dim));
  }

  // A transpose is its own inverse.
  Var<T, D> transpose(std::int64_t d0, std::int64_t d1) const {
    return record_view("TransposeBackward", x_, x_.value().transpose(d0, d1),
                       [d0, d1](const Tensor_& g) { return g.transpose(d0, d1); });
  }
  Var<T, D> transpose() const {
    return record_view("TransposeBackward", x_, x_.value().transpose(),
                       [](const Tensor_& g) { return g.transpose(); });
  }
  Var<T, D> permute(const std::vector<std::int64_t>& dims) const {
    Tensor_ out = x_.value().permute(dims);  // validates dims first
    std::vector<std::int64_t> inverse(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i)
      inverse[static_cast<std::size_t>(normalize_dim(dims[i], x_.dim(), "permute"))] =
          static_cast<std::int64_t>(i);
    return record_view("PermuteBackward", x_, std::move(out),
                       [inverse](const Tensor_& g) { return g.permute(inverse); });
  }

  // Slicing views: the gradient lands in the same view of a zero tensor of the input's shape.
  Var<T, D> slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) const {
    return placed("SliceBackward", x_.value().slice(dim, start, end, step),
                  [=](const Tensor_& z) { return z.slice(dim, start, end, step); });
  }
  Var<T, D> narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
    return placed("NarrowBackward", x_.value().narrow(dim, start, length),
                  [=](const Tensor_& z) { return z.narrow(dim, start, length); });
  }
  Var<T, D> select(std::int64_t dim, std::int64_t index) const {
    return placed("SelectBackward", x_.value().select(dim, index),
                  [=](const Tensor_& z) { return z.select(dim, index); });
  }

  // Broadcast dimensions read one element many times: their gradients add up.
  Var<T, D> expand(const Shape& shape) const {
    const Shape in = x_.shape();
    return record_view("ExpandBackward", x_, x_.value().expand(shape),
                       [in](const Tensor_& g) { return sum_to(g, in); });
  }

  // Copies, with the gradient passed through unchanged.
  Var<T, D> clone() const {
    return record_view("CloneBackward", x_, x_.value().clone(), [](const Tensor_& g) { return g; });
  }
  Var<T, D> contiguous() const { return x_.value().is_contiguous() ? x_ : clone(); }

 private:
  Var<T, D> reshaped(const char* name, Tensor_ out) const {
    const Shape in = x_.shape();
    return record_view(name, x_, std::move(out), [in](const Tensor_& g) { return g.reshape(in); });
  }
  template <class Place>
  Var<T, D> placed(const char* name, Tensor_ out, Place place) const {
    const Shape in = x_.shape();
    return record_view(name, x_, std::move(out), [in, place](const Tensor_& g) {
      const Tensor_ z = zeros<T, D>(in);
      place(z).assign(g);
      return z;
    });
  }

  const Var<T, D>& x_;
};

}  // namespace etna::autograd

namespace etna {

// Entry point of Var's view members (found by argument-dependent lookup).
template <class T, class D>
autograd::VarViews<T, D> var_views(const Var<T, D>& x) {
  return autograd::VarViews<T, D>(x);
}

// ---- free functions, as torch.reshape, torch.flatten... (Vars and Var expressions) ----------
template <VarLike X>
auto reshape(const X& x, const Shape& shape) {
  return as_var(x).reshape(shape);
}
template <VarLike X>
auto flatten(const X& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1) {
  return as_var(x).flatten(start_dim, end_dim);
}
template <VarLike X>
auto transpose(const X& x, std::int64_t d0, std::int64_t d1) {
  return as_var(x).transpose(d0, d1);
}
template <VarLike X>
auto permute(const X& x, const std::vector<std::int64_t>& dims) {
  return as_var(x).permute(dims);
}
template <VarLike X>
auto permute(const X& x, std::initializer_list<std::int64_t> dims) {
  return as_var(x).permute(std::vector<std::int64_t>(dims));
}
template <VarLike X>
auto squeeze(const X& x) {
  return as_var(x).squeeze();
}
template <VarLike X>
auto squeeze(const X& x, std::int64_t dim) {
  return as_var(x).squeeze(dim);
}
template <VarLike X>
auto unsqueeze(const X& x, std::int64_t dim) {
  return as_var(x).unsqueeze(dim);
}
template <VarLike X>
auto narrow(const X& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  return as_var(x).narrow(dim, start, length);
}
template <VarLike X>
auto select(const X& x, std::int64_t dim, std::int64_t index) {
  return as_var(x).select(dim, index);
}
template <VarLike X>
auto broadcast_to(const X& x, const Shape& shape) {
  return as_var(x).expand(shape);
}
template <VarLike X>
auto clone(const X& x) {
  return as_var(x).clone();
}

}  // namespace etna
