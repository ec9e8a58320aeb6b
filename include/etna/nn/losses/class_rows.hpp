// The [N, C] row view shared by cross_entropy and nll_loss: inputs of any rank brought to rows
// of classes, the checked labels, class weights and the weighted-mean normaliser.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "etna/autograd/ops/views.hpp"
#include "etna/nn/losses/reduction.hpp"

namespace etna::nn::detail {

// Everything a class loss needs from its operands, read once (contiguous) on the forward pass.
template <class T>
struct RowBatch {
  Tensor<T> x;  // [n, c] logits or log-probabilities, contiguous
  std::int64_t n = 0, c = 0;
  std::vector<std::int64_t> labels;  // class indices, or empty for probability targets
  Tensor<T> probs;                   // [n, c] class probabilities, contiguous, or undefined
  std::vector<T> weight;             // one per class, or empty
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
  T eps = 0;  // label smoothing
};

// The batch shape of a class-loss input: its shape without the class dimension (dim 1, or
// dim 0 for an unbatched [C] input).
inline Shape batch_shape(const Shape& input) {
  Shape out;
  for (int i = 0; i < input.size(); ++i)
    if (i != (input.size() == 1 ? 0 : 1)) out.push_back(input[i]);
  return out;
}

// The input as [N, C] rows: [C] -> [1, C]; [N, C, d1, ...] -> the classes moved last, then
// flattened (the views record their own nodes, so gradients flow back to the original layout).
template <class T, class D>
Var<T, D> class_rows(const char* op, const Var<T, D>& x) {
  const Shape& s = x.shape();
  if (s.size() == 0)
    throw shape_error(etna::detail::str(op, ": input must have a class dimension, got a scalar"));
  if (s.size() == 1) return x.reshape(Shape{1, s[0]});
  if (s.size() == 2) return x;
  std::vector<std::int64_t> perm{0};
  for (int i = 2; i < s.size(); ++i) perm.push_back(i);
  perm.push_back(1);
  return x.permute(perm).reshape(Shape{x.numel() / s[1], s[1]});
}

template <class T>
RowBatch<T> make_batch(const char* op, const Tensor<T>& rows, const LossWeight& weight,
                       std::int64_t ignore_index, Reduction reduction, T eps) {
  RowBatch<T> b;
  b.x = rows.contiguous();
  b.n = rows.shape()[0];
  b.c = rows.shape()[1];
  b.ignore_index = ignore_index;
  b.reduction = reduction;
  b.eps = eps;
  if (weight.defined()) {
    if (!(weight.shape() == Shape{b.c}))
      throw shape_error(etna::detail::str(op, ": weight must have one element per class (", b.c,
                                          "), got shape ", weight.shape()));
    const Tensor<T> w = weight.as<T>();
    b.weight.assign(w.begin(), w.end());
  }
  return b;
}

// Class indices of the input's batch shape, flattened in row order and range-checked.
template <class Y>
std::vector<std::int64_t> labels(const char* op, const Y& target, const Shape& input,
                                 std::int64_t classes, std::int64_t ignore_index) {
  const auto t = eval(target);
  const Shape expected = batch_shape(input);
  if (!(t.shape() == expected))
    throw shape_error(etna::detail::str(op, ": target shape ", t.shape(),
                                        " does not match the input's batch shape ", expected,
                                        " (input shape ", input, ")"));
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(t.numel()));
  for (auto v : t) {
    const auto y = static_cast<std::int64_t>(v);
    if (y != ignore_index && (y < 0 || y >= classes))
      throw index_error(
          etna::detail::str(op, ": target ", y, " is out of range for ", classes, " classes"));
    out.push_back(y);
  }
  return out;
}

inline void check_probabilities(const char* op, const Shape& target, const Shape& input) {
  if (!(target == input))
    throw shape_error(etna::detail::str(
        op,
        ": a floating-point target holds class probabilities and must have the input's "
        "shape ",
        input, ", got ", target, "; pass class indices as an int64 or int32 tensor"));
}

// Per-row losses to the result: [n] for none, else a scalar; and the factor the backward pass
// applies to the upstream gradient (1 / normaliser for mean). The mean divides by the sum of
// the row weights: w[y] of the rows not ignored for class indices, the row count for
// probabilities (PyTorch's rules).
template <class T, class D>
std::pair<Tensor<T, D>, T> reduce_rows(const std::vector<T>& loss, const RowBatch<T>& b) {
  if (b.reduction == Reduction::none) {
    auto out = Tensor<T, D>::allocate(Shape{b.n});
    std::copy(loss.begin(), loss.end(), out.data());
    return {out, T(1)};
  }
  double total = 0;
  for (T l : loss) total += l;
  double norm = 1;
  if (b.reduction == Reduction::mean) {
    double denom = 0;
    if (b.labels.empty())
      denom = static_cast<double>(b.n);
    else
      for (std::int64_t y : b.labels)
        if (y != b.ignore_index) denom += b.weight.empty() ? 1.0 : static_cast<double>(b.weight[y]);
    norm = 1 / denom;  // all rows ignored: 0 / 0 = nan, as PyTorch
    total *= norm;
  }
  auto out = Tensor<T, D>::allocate(Shape{});
  out.data()[0] = static_cast<T>(total);
  return {out, static_cast<T>(norm)};
}

// Per-row losses back to the input's batch shape (reduction none); scalars pass through.
template <class T, class D>
Var<T, D> unflatten_rows(const Var<T, D>& out, const Shape& input, Reduction reduction) {
  if (reduction != Reduction::none || input.size() == 2) return out;
  return out.reshape(batch_shape(input));
}

}  // namespace etna::nn::detail
