// The [N, C] row view shared by cross_entropy and nll_loss: inputs of any rank brought to rows
// of classes, the checked labels, class weights and the weighted-mean normaliser.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/ops/views.hpp"
#include "etna/backend/cuda/fwd_nn.hpp"
#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/nn/losses/reduction.hpp"

namespace etna::nn::detail {

// Everything a class loss needs from its operands, read once (contiguous) on the forward pass.
// On a GPU the labels stay in device memory (device_labels; `labels` is empty) and so does the
// weighted-mean normaliser (reduce_device_rows): nothing is read back to the host, so a
// training step with this loss can be captured into a CUDA graph.
template <class T, class D = cpu>
struct RowBatch {
  Tensor<T, D> x;  // [n, c] logits or log-probabilities, contiguous
  std::int64_t n = 0, c = 0;
  std::vector<std::int64_t> labels;  // class indices (CPU), or empty for probability targets
  Tensor<T, D> probs;                // [n, c] class probabilities, contiguous, or undefined
  std::vector<T> weight;             // one per class, or empty (also on a GPU: for wsum)
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
  T eps = 0;                              // label smoothing
  Tensor<std::int64_t, D> device_labels;  // labels and weight on a GPU (undefined on the CPU
                                          // and for probability targets)
  Tensor<T, D> device_weight;
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

template <class T, class D>
RowBatch<T, D> make_batch(const char* op, const Tensor<T, D>& rows, const LossWeight& weight,
                          std::int64_t ignore_index, Reduction reduction, T eps) {
  RowBatch<T, D> b;
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
    if constexpr (!std::is_same_v<D, cpu>) b.device_weight = weight.template as<T, D>();
  }
  return b;
}

// Class indices of the input's batch shape, flattened in row order and range-checked.
template <class Y>
std::vector<std::int64_t> labels(const char* op, const Y& target, const Shape& input,
                                 std::int64_t classes, std::int64_t ignore_index) {
  const auto t = eval(target).template to<cpu>();  // read on the host (a copy from a GPU)
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

// The same on a GPU without reading them back: the target's own device memory (converted to
// int64 on the device when int32), checked on the device. While a CUDA graph is captured the
// check is skipped (nothing can be read back then); an out-of-range label then makes its row's
// loss and the reduced loss NaN instead of reading outside the row.
template <class D, class Y>
Tensor<std::int64_t, D> device_labels(const char* op, const Y& target, const Shape& input,
                                      std::int64_t classes, std::int64_t ignore_index) {
  const auto t = eval(target);
  using TD = typename std::remove_cvref_t<decltype(t)>::device_type;
  using V = value_type_of<std::remove_cvref_t<decltype(t)>>;
  const Shape expected = batch_shape(input);
  if (!(t.shape() == expected))
    throw shape_error(etna::detail::str(op, ": target shape ", t.shape(),
                                        " does not match the input's batch shape ", expected,
                                        " (input shape ", input, ")"));
  Tensor<std::int64_t, D> y;
  if constexpr (!std::is_same_v<TD, D>)  // a host target: copied over (not capturable)
    y = Tensor<std::int64_t, TD>(cast<std::int64_t>(t)).template to<D>();
  else if constexpr (std::is_same_v<V, std::int64_t>)
    y = t.contiguous();
  else
    y = Tensor<std::int64_t, D>(cast<std::int64_t>(t));
  const std::int64_t bad =
      cuda_backend::first_bad_label(y.data(), y.numel(), classes, ignore_index);
  if (bad >= 0)
    throw index_error(etna::detail::str(op, ": target ", cuda_backend::index_at(y.data(), bad),
                                        " is out of range for ", classes, " classes"));
  return y;
}

// Sets the batch's class indices: on the host for the CPU, on the device for a GPU.
template <class T, class D, class Y>
void set_labels(const char* op, RowBatch<T, D>& b, const Y& target, const Shape& input) {
  if constexpr (std::is_same_v<D, cpu>)
    b.labels = labels(op, target, input, b.c, b.ignore_index);
  else
    b.device_labels = device_labels<D>(op, target, input, b.c, b.ignore_index);
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
// probabilities (PyTorch's rules). The CPU's; a GPU computes it on the device (class_norm).
template <class T, class D>
double reduction_norm(const RowBatch<T, D>& b) {
  if (b.reduction != Reduction::mean) return 1;
  double denom = 0;
  if (b.labels.empty())
    denom = static_cast<double>(b.n);
  else
    for (std::int64_t y : b.labels)
      if (y != b.ignore_index) denom += b.weight.empty() ? 1.0 : static_cast<double>(b.weight[y]);
  return 1 / denom;  // all rows ignored: 0 / 0 = nan, as PyTorch
}

template <class T>
std::pair<Tensor<T>, T> reduce_rows(const std::vector<T>& loss, const RowBatch<T>& b) {
  if (b.reduction == Reduction::none) {
    auto out = Tensor<T>::allocate(Shape{b.n});
    std::copy(loss.begin(), loss.end(), out.data());
    return {out, T(1)};
  }
  double total = 0;
  for (T l : loss) total += l;
  const double norm = reduction_norm(b);
  if (b.reduction == Reduction::mean) total *= norm;
  auto out = Tensor<T>::allocate(Shape{});
  out.data()[0] = static_cast<T>(total);
  return {out, static_cast<T>(norm)};
}

// The batch as the kernels' view of device memory.
template <class T, class D>
cuda_backend::ClassRows<T> device_rows(const RowBatch<T, D>& b) {
  cuda_backend::ClassRows<T> r;
  r.x = b.x.data();
  r.labels = b.device_labels.defined() ? b.device_labels.data() : nullptr;
  r.probs = b.probs.defined() ? b.probs.data() : nullptr;
  r.weight = b.weight.empty() ? nullptr : b.device_weight.data();
  r.n = b.n;
  r.c = b.c;
  r.ignore_index = b.ignore_index;
  r.eps = b.eps;
  r.eps_c = b.eps / static_cast<T>(b.c);
  r.wsum = static_cast<T>(b.c);
  if (!b.weight.empty()) {
    r.wsum = 0;
    for (T w : b.weight) r.wsum += w;
  }
  return r;
}

// reduce_rows on a GPU, from the per-row losses in device memory. The factor stays on the device
// too (a double scalar that the backward kernels read; undefined for reduction none): the
// normaliser depends on the labels, which the host never sees.
template <class T, class D>
std::pair<Tensor<T, D>, Tensor<double, D>> reduce_device_rows(const Tensor<T, D>& loss,
                                                              const RowBatch<T, D>& b) {
  if (b.reduction == Reduction::none) return {loss, Tensor<double, D>()};
  auto norm = Tensor<double, D>::allocate(Shape{});
  cuda_backend::class_norm<T>(device_rows(b), b.reduction == Reduction::mean, norm.data());
  auto out = Tensor<T, D>::allocate(Shape{});
  cuda_backend::sum_scaled<T>(loss.data(), b.n, norm.data(), out.data());
  return {out, norm};
}

// Per-row losses back to the input's batch shape (reduction none); scalars pass through.
template <class T, class D>
Var<T, D> unflatten_rows(const Var<T, D>& out, const Shape& input, Reduction reduction) {
  if (reduction != Reduction::none || input.size() == 2) return out;
  return out.reshape(batch_shape(input));
}

}  // namespace etna::nn::detail
