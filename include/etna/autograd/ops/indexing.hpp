// index_select, gather and scatter_add on Vars. Each backward is the adjoint tensor op:
// index_select <- index_add, gather <- scatter_add, scatter_add <- (identity, gather).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/core/factory.hpp"
#include "etna/ops/indexing.hpp"

namespace etna::autograd {

// The device of a Var, a tensor or an expression over them, and an index tensor on it.
template <class X>
using operand_device = typename expr_t<X>::device_type;
template <class X>
using IndexTensor = Tensor<std::int64_t, operand_device<X>>;

// Backward of index_select and gather: the gradient is added back at the indexed positions of
// a zero tensor shaped like the input, so duplicate indices accumulate.
template <class T, class D>
class IndexBackNode final : public Node<T, D> {
 public:
  IndexBackNode(bool gathered, std::shared_ptr<VarImpl<T, D>> input, std::int64_t dim,
                Tensor<std::int64_t, D> index)
      : gathered_(gathered),
        input_(std::move(input)),
        shape_(input_->value.shape()),
        dim_(dim),
        index_(std::move(index)) {}
  const char* name() const override { return gathered_ ? "GatherBackward" : "IndexSelectBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    // The index was checked in forward (and copied): no second check (on cuda, a round trip).
    const Tensor<T, D> z = zeros<T, D>(shape_);
    if (gathered_)
      propagate(input_, etna::detail::scatter_add(z, dim_, index_, g, false));
    else if (shape_.empty())
      propagate(input_, g.contiguous());  // 0-d: index_select copies
    else
      propagate(input_, etna::detail::index_add(z, dim_, index_, g, T(1), false));
  }
  void release_saved() override {
    input_.reset();
    index_ = Tensor<std::int64_t, D>();
  }

 private:
  bool gathered_;
  std::shared_ptr<VarImpl<T, D>> input_;
  Shape shape_;
  std::int64_t dim_;
  Tensor<std::int64_t, D> index_;
};

// Backward of scatter_add(t, dim, index, src): t's gradient is g; src's is g gathered at the
// index, placed in the leading index-shaped corner of src's shape (the rest of src is unread).
template <class T, class D>
class ScatterAddNode final : public Node<T, D> {
 public:
  ScatterAddNode(std::shared_ptr<VarImpl<T, D>> self, std::shared_ptr<VarImpl<T, D>> src,
                 Shape src_shape, std::int64_t dim, Tensor<std::int64_t, D> index)
      : self_(std::move(self)),
        src_(std::move(src)),
        src_shape_(src_shape),
        dim_(dim),
        index_(std::move(index)) {}
  const char* name() const override { return "ScatterAddBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, self_);
    add_next(out, src_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    propagate_dense(self_, g);
    if (!src_) return;
    const Tensor<T, D> picked = etna::gather(g, dim_, index_);
    if (picked.shape() == src_shape_) {
      propagate(src_, picked);
      return;
    }
    Tensor<T, D> grad = zeros<T, D>(src_shape_), corner = grad;
    for (int k = 0; k < picked.dim(); ++k) corner = corner.narrow(k, 0, picked.size(k));
    corner.assign(picked);
    propagate(src_, grad);
  }
  void release_saved() override {
    self_.reset();
    src_.reset();
    index_ = Tensor<std::int64_t, D>();
  }

 private:
  std::shared_ptr<VarImpl<T, D>> self_, src_;
  Shape src_shape_;
  std::int64_t dim_;
  Tensor<std::int64_t, D> index_;
};

template <class T, class D>
Var<T, D> index_select_var(const Var<T, D>& x, std::int64_t dim,
                           const Tensor<std::int64_t, D>& index) {
  Tensor<T, D> out = etna::index_select(x.value(), dim, index);
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))  // the index is copied: a later write to it must not change backward
    node = std::make_shared<IndexBackNode<T, D>>(false, x.impl_ptr(), dim, index.clone());
  return make_result(std::move(out), std::move(node));
}

template <class T, class D>
Var<T, D> gather_var(const Var<T, D>& x, std::int64_t dim, const Tensor<std::int64_t, D>& index) {
  Tensor<T, D> out = etna::gather(x.value(), dim, index);
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))
    node = std::make_shared<IndexBackNode<T, D>>(true, x.impl_ptr(), dim, index.clone());
  return make_result(std::move(out), std::move(node));
}

template <class T, class D>
Var<T, D> scatter_add_var(const Var<T, D>& x, std::int64_t dim,
                          const Tensor<std::int64_t, D>& index, const Var<T, D>& src) {
  Tensor<T, D> out = etna::scatter_add(x.value(), dim, index, src.value());
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x, src))
    node = std::make_shared<ScatterAddNode<T, D>>(grad_input(x), grad_input(src), src.shape(), dim,
                                                  index.clone());
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::autograd

namespace etna {

// The input is a Var or a Var expression (matched as the expression node it is, so that it is
// preferred to the tensor functions' overload for any expression, which would drop the gradient).
template <class T, class D>
Var<T, D> index_select(const Var<T, D>& x, std::int64_t dim, const Tensor<std::int64_t, D>& index) {
  return autograd::index_select_var(x, dim, index);
}
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto index_select(const expr::Apply<Op, Args...>& x, std::int64_t dim,
                  const autograd::IndexTensor<expr::Apply<Op, Args...>>& index) {
  return autograd::index_select_var(as_var(x), dim, index);
}

template <class T, class D>
Var<T, D> gather(const Var<T, D>& x, std::int64_t dim, const Tensor<std::int64_t, D>& index) {
  return autograd::gather_var(x, dim, index);
}
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto gather(const expr::Apply<Op, Args...>& x, std::int64_t dim,
            const autograd::IndexTensor<expr::Apply<Op, Args...>>& index) {
  return autograd::gather_var(as_var(x), dim, index);
}

// scatter_add with a Var (or Var expression) as the input, src or both; a tensor operand is a
// constant. Gradients reach both the input and src.
template <class X, class S>
  requires((VarLike<X> && ElementwiseOperand<S>) || (TensorLike<X> && VarLike<S>))
auto scatter_add(const X& x, std::int64_t dim, const autograd::IndexTensor<X>& index,
                 const S& src) {
  return autograd::scatter_add_var(as_var(x), dim, index, as_var(src));
}
// A Var expression input with a tensor src also fits the tensor function's overload for
// expressions; this form, as specialised as that one in src and more in the input, wins.
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto scatter_add(const expr::Apply<Op, Args...>& x, std::int64_t dim,
                 const autograd::IndexTensor<expr::Apply<Op, Args...>>& index,
                 const Tensor<typename expr::Apply<Op, Args...>::value_type,
                              autograd::operand_device<expr::Apply<Op, Args...>>>& src) {
  return autograd::scatter_add_var(as_var(x), dim, index, as_var(src));
}

}  // namespace etna
