// concat/cat, stack, split and chunk on Vars: joins copy and send each input its slab of the
// gradient; split/chunk pieces are views whose gradients meet in one buffer of the input's shape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/core/factory.hpp"
#include "etna/ops/join.hpp"

namespace etna::autograd {

// Backward of concat and stack: input i gets the slab of g it was copied to (for stack, the
// slab without the new dimension).
template <class T, class D>
class JoinNode final : public Node<T, D> {
 public:
  JoinNode(bool stacked, int dim, std::vector<std::shared_ptr<VarImpl<T, D>>> inputs,
           std::vector<std::int64_t> offsets)
      : stacked_(stacked), dim_(dim), inputs_(std::move(inputs)), offsets_(std::move(offsets)) {}
  const char* name() const override { return stacked_ ? "StackBackward" : "CatBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    for (const auto& in : inputs_) add_next(out, in);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (!inputs_[i]) continue;
      const std::int64_t off = offsets_[i];
      if (off < 0)  // an empty [0] input that concat skipped
        propagate_dense(inputs_[i], zeros<T, D>(inputs_[i]->value.shape()));
      else if (stacked_)
        propagate_dense(inputs_[i], g.select(dim_, off));
      else
        propagate_dense(inputs_[i], g.slice(dim_, off, off + inputs_[i]->value.size(dim_)));
    }
  }
  void release_saved() override { inputs_.clear(); }

 private:
  bool stacked_;
  int dim_;
  std::vector<std::shared_ptr<VarImpl<T, D>>> inputs_;  // null: needs no gradient
  std::vector<std::int64_t> offsets_;
};

template <class T, class D>
Var<T, D> join_vars(const std::vector<Var<T, D>>& vars, std::int64_t dim, bool stacked) {
  std::vector<Tensor<T, D>> values;
  values.reserve(vars.size());
  for (const auto& v : vars) values.push_back(v.value());
  Tensor<T, D> out = stacked ? etna::stack(values, dim) : etna::concat(values, dim);
  bool record = false;
  for (const auto& v : vars) record = record || should_record(v);
  if (!record) return make_result(std::move(out), std::shared_ptr<Node<T, D>>());
  // Dimension and offsets as the tensor op resolved them (it validated everything above).
  const int d = stacked ? normalize_dim(dim, values[0].dim() + 1, "stack")
                        : normalize_dim(dim, out.dim(), "concat");
  std::vector<std::shared_ptr<VarImpl<T, D>>> inputs;
  std::vector<std::int64_t> offsets;
  std::int64_t pos = 0;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    inputs.push_back(grad_input(vars[i]));
    if (stacked) {
      offsets.push_back(static_cast<std::int64_t>(i));
    } else if (etna::detail::skipped_by_concat(values[i])) {
      offsets.push_back(-1);
    } else {
      offsets.push_back(pos);
      pos += values[i].size(d);
    }
  }
  std::shared_ptr<Node<T, D>> node =
      std::make_shared<JoinNode<T, D>>(stacked, d, std::move(inputs), std::move(offsets));
  return make_result(std::move(out), std::move(node));
}

// Backward of split/chunk, shared by the pieces. Each used piece adds its gradient into its
// region of one buffer shaped like the input; the engine runs this node after every piece
// (pieces feed it), and it sends the buffer on once. Unused regions stay zero.
template <class T, class D>
class SplitNode final : public Node<T, D> {
 public:
  SplitNode(std::shared_ptr<VarImpl<T, D>> input, int dim)
      : input_(std::move(input)), shape_(input_->value.shape()), dim_(dim) {}
  const char* name() const override { return "SplitBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }
  void add_piece(std::int64_t start, const Tensor<T, D>& g) {
    if (!buffer_.defined()) {
      buffer_ = zeros<T, D>(shape_);
      this->add_out_grad(buffer_);  // schedules this node; backward() reads buffer_ itself
    }
    const Tensor<T, D> region = buffer_.slice(dim_, start, start + g.size(dim_));
    region.assign(region + g);
  }

 protected:
  void backward(const Tensor<T, D>&) override {
    propagate(input_, buffer_);
    buffer_ = Tensor<T, D>();
  }
  void release_saved() override { input_.reset(); }

 private:
  std::shared_ptr<VarImpl<T, D>> input_;
  Shape shape_;
  int dim_;
  Tensor<T, D> buffer_;
};

template <class T, class D>
class SplitPieceNode final : public Node<T, D> {
 public:
  SplitPieceNode(std::shared_ptr<SplitNode<T, D>> split, std::int64_t start)
      : split_(std::move(split)), start_(start) {}
  const char* name() const override { return "SplitBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    if (split_) out.push_back(split_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override { split_->add_piece(start_, g); }
  void release_saved() override { split_.reset(); }

 private:
  std::shared_ptr<SplitNode<T, D>> split_;
  std::int64_t start_;
};

// Vars for the tensor pieces (views of x.value() along dim), recorded as pieces of x.
template <class T, class D>
std::vector<Var<T, D>> split_pieces(const Var<T, D>& x, const std::vector<Tensor<T, D>>& pieces,
                                    std::int64_t dim) {
  std::vector<Var<T, D>> out;
  out.reserve(pieces.size());
  std::shared_ptr<SplitNode<T, D>> split;
  int d = 0;
  if (should_record(x)) {
    d = normalize_dim(dim, x.dim(), "split");
    split = std::make_shared<SplitNode<T, D>>(x.impl_ptr(), d);
  }
  std::int64_t start = 0;
  for (const auto& p : pieces) {
    std::shared_ptr<Node<T, D>> node;
    if (split) node = std::make_shared<SplitPieceNode<T, D>>(split, start);
    out.push_back(make_result(p, std::move(node)));
    if (split) start += p.size(d);
  }
  return out;
}

}  // namespace etna::autograd

namespace etna {

// ---- concat / cat / stack ------------------------------------------------------------------
// Lists of Vars; a tensor or Var expression converts to Var where the element type is named,
// e.g. et::cat(std::vector<et::Var<float>>{x, tensor, x * 2.f}, 1) (the tensor is a constant).
template <class T, class D>
Var<T, D> concat(const std::vector<Var<T, D>>& vars, std::int64_t dim = 0) {
  return autograd::join_vars(vars, dim, false);
}
template <class T, class D>
Var<T, D> concat(std::initializer_list<Var<T, D>> vars, std::int64_t dim = 0) {
  return autograd::join_vars(std::vector<Var<T, D>>(vars), dim, false);
}
template <class T, class D>
Var<T, D> cat(const std::vector<Var<T, D>>& vars, std::int64_t dim = 0) {
  return autograd::join_vars(vars, dim, false);
}
template <class T, class D>
Var<T, D> cat(std::initializer_list<Var<T, D>> vars, std::int64_t dim = 0) {
  return autograd::join_vars(std::vector<Var<T, D>>(vars), dim, false);
}
template <class T, class D>
Var<T, D> stack(const std::vector<Var<T, D>>& vars, std::int64_t dim = 0) {
  return autograd::join_vars(vars, dim, true);
}
template <class T, class D>
Var<T, D> stack(std::initializer_list<Var<T, D>> vars, std::int64_t dim = 0) {
  return autograd::join_vars(std::vector<Var<T, D>>(vars), dim, true);
}

// ---- split / chunk ---------------------------------------------------------------------------
// Views of x, as for tensors; each piece may be used on its own, or not at all.
template <class T, class D>
std::vector<Var<T, D>> split(const Var<T, D>& x, std::int64_t split_size, std::int64_t dim = 0) {
  return autograd::split_pieces(x, etna::split(x.value(), split_size, dim), dim);
}
template <class T, class D>
std::vector<Var<T, D>> split(const Var<T, D>& x, const std::vector<std::int64_t>& sizes,
                             std::int64_t dim = 0) {
  return autograd::split_pieces(x, etna::split(x.value(), sizes, dim), dim);
}
template <class T, class D>
std::vector<Var<T, D>> split(const Var<T, D>& x, std::initializer_list<std::int64_t> sizes,
                             std::int64_t dim = 0) {
  return split(x, std::vector<std::int64_t>(sizes), dim);
}
template <class T, class D>
std::vector<Var<T, D>> chunk(const Var<T, D>& x, std::int64_t chunks, std::int64_t dim = 0) {
  return autograd::split_pieces(x, etna::chunk(x.value(), chunks, dim), dim);
}

// Var expressions, matched as the expression node they are so that these overloads are preferred
// to the tensor functions' overloads for any expression (which would drop the gradient).
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto split(const expr::Apply<Op, Args...>& x, std::int64_t split_size, std::int64_t dim = 0) {
  return split(as_var(x), split_size, dim);
}
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto split(const expr::Apply<Op, Args...>& x, const std::vector<std::int64_t>& sizes,
           std::int64_t dim = 0) {
  return split(as_var(x), sizes, dim);
}
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto split(const expr::Apply<Op, Args...>& x, std::initializer_list<std::int64_t> sizes,
           std::int64_t dim = 0) {
  return split(as_var(x), std::vector<std::int64_t>(sizes), dim);
}
template <class Op, class... Args>
  requires contains_var<expr::Apply<Op, Args...>>::value
auto chunk(const expr::Apply<Op, Args...>& x, std::int64_t chunks, std::int64_t dim = 0) {
  return chunk(as_var(x), chunks, dim);
}

}  // namespace etna
