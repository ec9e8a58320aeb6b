// nn::functional::embedding on Vars: gathers rows of a [num_embeddings, dim] weight; backward
// index_adds the output gradient into the weight's rows (repeated indices accumulate; on cuda
// with atomic adds).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/core/factory.hpp"
#include "etna/ops/indexing.hpp"

namespace etna::nn::functional {
namespace detail {

template <class T, class D>
class EmbeddingNode final : public autograd::Node<T, D> {
 public:
  EmbeddingNode(std::shared_ptr<autograd::VarImpl<T, D>> w, Shape w_shape,
                Tensor<std::int64_t, D> flat_index, std::int64_t padding_idx)
      : w_(std::move(w)),
        w_shape_(std::move(w_shape)),
        index_(std::move(flat_index)),
        padding_idx_(padding_idx) {}
  const char* name() const override { return "EmbeddingBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, w_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    const Tensor<T, D> g2 = g.contiguous().reshape({index_.numel(), w_shape_[1]});
    if constexpr (std::is_same_v<D, cpu>) {
      Tensor<T, D> gw = etna::index_add(zeros<T, D>(w_shape_), 0, index_, g2);
      // The padding row is a fixed vector (typically zeros): it never learns.
      if (padding_idx_ >= 0) gw.select(0, padding_idx_).fill(T(0));
      autograd::propagate(w_, gw);
    } else {
      // One kernel of atomic row adds that skips the padding row; the indices were checked in
      // forward (and copied there), so there is nothing to check again.
      Tensor<T, D> gw = zeros<T, D>(w_shape_);
      cuda_backend::embedding_backward(gw.data(), w_shape_[0], w_shape_[1], index_.data(),
                                       index_.numel(), g2.data(), padding_idx_);
      autograd::propagate(w_, gw);
    }
  }
  void release_saved() override {
    w_.reset();
    index_ = Tensor<std::int64_t, D>();
  }

 private:
  std::shared_ptr<autograd::VarImpl<T, D>> w_;
  Shape w_shape_;
  Tensor<std::int64_t, D> index_;
  std::int64_t padding_idx_;
};

}  // namespace detail

// out[..., :] = weight[indices[...], :], shape indices.shape + [dim]. padding_idx >= 0 names a
// row that receives no gradient; a negative padding_idx means none (the default).
template <class T, class D>
Var<T, D> embedding(const Tensor<std::int64_t, D>& indices, const Var<T, D>& weight,
                    std::int64_t padding_idx = -1) {
  if (weight.dim() != 2)
    throw shape_error(
        etna::detail::str("embedding: weight must be 2-d [num_embeddings, "
                          "embedding_dim], got shape ",
                          weight.shape()));
  const std::int64_t num = weight.size(0), dim = weight.size(1);
  if (padding_idx >= num)
    throw index_error(etna::detail::str("embedding: padding_idx ", padding_idx,
                                        " is out of range for ", num, " embeddings"));
  const Tensor<std::int64_t, D> flat = indices.contiguous().clone().reshape({indices.numel()});
  const std::int64_t* idx = flat.data();
  const auto out_of_range = [&](std::int64_t i, std::int64_t value) {
    return index_error(etna::detail::str(
        "embedding: index ", value, " (at flat position ", i, " of indices of shape ",
        indices.shape(), ") is out of range for ", num, " embeddings (valid: 0 to ", num - 1, ")"));
  };
  if constexpr (std::is_same_v<D, cpu>) {
    for (std::int64_t i = 0; i < flat.numel(); ++i)
      if (idx[i] < 0 || idx[i] >= num) throw out_of_range(i, idx[i]);
  } else {  // checked on the device: only the first bad position (and its value) comes back
    const std::int64_t bad = cuda_backend::first_bad_index(idx, flat.numel(), num);
    if (bad >= 0) throw out_of_range(bad, cuda_backend::index_at(idx, bad));
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(dim);
  auto out = Tensor<T, D>::allocate(out_shape);
  const Tensor<T, D> wc = weight.value().contiguous();
  if constexpr (std::is_same_v<D, cpu>) {
    for (std::int64_t i = 0; i < flat.numel(); ++i)
      std::copy_n(wc.data() + idx[i] * dim, dim, out.data() + i * dim);
  } else {
    cuda_backend::index_select(wc.data(), 1, num, dim, idx, flat.numel(), out.data());
  }
  std::shared_ptr<autograd::Node<T, D>> node;
  if (autograd::should_record(weight))
    node = std::make_shared<detail::EmbeddingNode<T, D>>(weight.impl_ptr(), weight.shape(), flat,
                                                         padding_idx);
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::nn::functional
