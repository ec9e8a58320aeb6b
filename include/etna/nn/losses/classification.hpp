// Multi-class losses: cross_entropy (log_softmax + nll fused in one node, class indices or
// class probabilities, class weights, ignore_index, label smoothing) and nll_loss.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/autograd/ops/views.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/nn/losses/class_rows.hpp"

namespace etna::nn {
namespace detail {

// log(sum(exp(x))) of one row: the max is subtracted first so no exp overflows.
template <class T>
T row_logsumexp(const T* x, std::int64_t n) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  B mv(-std::numeric_limits<T>::infinity());
  std::int64_t j = 0;
  for (; j + W <= n; j += W) mv = xsimd::max(mv, B::load_unaligned(x + j));
  alignas(64) T lanes[W];  // xsimd 8.1 has no horizontal max
  mv.store_aligned(lanes);
  T m = *std::max_element(lanes, lanes + W);
  for (; j < n; ++j) m = std::max(m, x[j]);
  const B mb(m);
  B acc(T(0));
  for (j = 0; j + W <= n; j += W) acc += xsimd::exp(B::load_unaligned(x + j) - mb);
  T s = xsimd::hadd(acc);
  for (; j < n; ++j) s += std::exp(x[j] - m);
  return m + std::log(s);
}

// sum_j x_j, or sum_j w_j x_j with weights.
template <class T>
T row_dot(const T* x, const std::vector<T>& w, std::int64_t n) {
  T s = 0;
  if (!w.empty()) {
    for (std::int64_t j = 0; j < n; ++j) s += w[j] * x[j];
    return s;
  }
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  B acc(T(0));
  std::int64_t j = 0;
  for (; j + W <= n; j += W) acc += B::load_unaligned(x + j);
  s = xsimd::hadd(acc);
  for (; j < n; ++j) s += x[j];
  return s;
}

// out[j] = scale * exp(x[j] - lse) - sub: a row's gradient up to its label term, SIMD.
template <class T>
void scaled_softmax_row(const T* x, T lse, T scale, T sub, T* out, std::int64_t n) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  const B lb(lse), sb(scale), ub(sub);
  std::int64_t j = 0;
  for (; j + W <= n; j += W)
    (sb * xsimd::exp(B::load_unaligned(x + j) - lb) - ub).store_unaligned(out + j);
  for (; j < n; ++j) out[j] = scale * std::exp(x[j] - lse) - sub;
}

// One row's smoothed, weighted target q_j = w_j ((1 - eps) t_j + eps / C): the row's loss is
// sum_j q_j (lse - x_j) and its gradient (sum_j q_j) softmax - q. Class indices make t one-hot
// (ignored rows have q = 0) and use the closed forms below, SIMD over the row; probability
// targets go element by element. Both passes use this, so they cannot disagree.
template <class T>
struct RowTarget {
  const RowBatch<T>& b;
  T eps_c;                             // eps / C
  T wsum;                              // sum of the class weights (C without weights)
  RowTarget(const RowBatch<T>& batch)  // NOLINT: built from the batch it reads
      : b(batch), eps_c(batch.eps / static_cast<T>(batch.c)), wsum(static_cast<T>(batch.c)) {
    if (!b.weight.empty()) {
      wsum = 0;
      for (T w : b.weight) wsum += w;
    }
  }
  T w(std::int64_t j) const { return b.weight.empty() ? T(1) : b.weight[j]; }
  T q(std::int64_t i, std::int64_t j) const {  // probability targets
    return w(j) * ((1 - b.eps) * b.probs.data()[i * b.c + j] + eps_c);
  }
  bool ignored(std::int64_t i) const { return b.labels[i] == b.ignore_index; }

  // The loss of row i, given its logsumexp.
  T loss(std::int64_t i, T lse) const {
    const T* x = b.x.data() + i * b.c;
    if (b.labels.empty()) {
      T l = 0;
      for (std::int64_t j = 0; j < b.c; ++j)
        if (const T qj = q(i, j); qj != T(0)) l += qj * (lse - x[j]);  // no 0 * inf = NaN
      return l;
    }
    if (ignored(i)) return T(0);
    const std::int64_t y = b.labels[i];
    T l = (1 - b.eps) * w(y) * (lse - x[y]);
    if (b.eps != T(0)) l += eps_c * (lse * wsum - row_dot(x, b.weight, b.c));
    return l;
  }

  // The gradient of row i's loss times s, written to out.
  void gradient(std::int64_t i, T lse, T s, T* out) const {
    const T* x = b.x.data() + i * b.c;
    if (b.labels.empty()) {
      T qsum = 0;
      for (std::int64_t j = 0; j < b.c; ++j) qsum += q(i, j);
      scaled_softmax_row(x, lse, s * qsum, T(0), out, b.c);
      for (std::int64_t j = 0; j < b.c; ++j) out[j] -= s * q(i, j);
      return;
    }
    if (ignored(i)) {
      std::fill_n(out, b.c, T(0));
      return;
    }
    const std::int64_t y = b.labels[i];
    const T qsum = (1 - b.eps) * w(y) + eps_c * wsum;
    const bool weighted = !b.weight.empty();
    scaled_softmax_row(x, lse, s * qsum, weighted ? T(0) : s * eps_c, out, b.c);
    if (weighted && b.eps != T(0))
      for (std::int64_t j = 0; j < b.c; ++j) out[j] -= s * eps_c * b.weight[j];
    out[y] -= s * (1 - b.eps) * w(y);
  }
};

// The fused cross-entropy node: saves the logits rows, each row's logsumexp and the target;
// backward rebuilds softmax from them in one pass per row. On a GPU the logsumexps and the
// reduction's factor stay in device memory (device_lse, device_norm) and a warp handles a row.
template <class T, class D>
class CrossEntropyNode final : public autograd::Node<T, D> {
 public:
  CrossEntropyNode(std::shared_ptr<autograd::VarImpl<T, D>> input,
                   std::shared_ptr<autograd::VarImpl<T, D>> target, RowBatch<T, D> batch,
                   std::vector<T> lse, T norm, Tensor<T, D> device_lse = {},
                   Tensor<double, D> device_norm = {})
      : input_(std::move(input)),
        target_(std::move(target)),
        b_(std::move(batch)),
        lse_(std::move(lse)),
        norm_(norm),
        device_lse_(std::move(device_lse)),
        device_norm_(std::move(device_norm)) {}
  const char* name() const override { return "CrossEntropyLossBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, input_);
    autograd::add_next(out, target_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    const std::int64_t n = b_.n, c = b_.c;
    auto dx = Tensor<T, D>::allocate(Shape{n, c});
    Tensor<T, D> dt;
    if (target_) dt = Tensor<T, D>::allocate(Shape{n, c});
    if constexpr (!std::is_same_v<D, cpu>) {
      const bool per_row = b_.reduction == Reduction::none;
      cuda_backend::cross_entropy_backward<T>(device_rows(b_), device_lse_.data(), g.data(),
                                              per_row ? nullptr : device_norm_.data(), per_row,
                                              dx.data(), target_ ? dt.data() : nullptr);
    } else {
      const RowTarget<T> rt(b_);
      const bool per_row = b_.reduction == Reduction::none;
      const T* gp = g.data();
      T* dxp = dx.data();
      T* dtp = target_ ? dt.data() : nullptr;
      const std::int64_t grain =
          std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(c, 1));
      cpu_backend::parallel_for(0, n, grain, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t i = r0; i < r1; ++i) {
          const T s = per_row ? gp[i] : gp[0] * norm_;
          rt.gradient(i, lse_[i], s, dxp + i * c);
          const T* x = b_.x.data() + i * c;
          if (dtp)  // d loss / d t_j = -(1 - eps) w_j log softmax_j
            for (std::int64_t j = 0; j < c; ++j)
              dtp[i * c + j] = -s * (1 - b_.eps) * rt.w(j) * (x[j] - lse_[i]);
        }
      });
    }
    autograd::propagate(input_, dx);
    if (target_) autograd::propagate(target_, dt);
  }
  void release_saved() override {
    input_.reset();
    target_.reset();
    b_ = RowBatch<T, D>{};
    lse_.clear();
    device_lse_ = Tensor<T, D>();
    device_norm_ = Tensor<double, D>();
  }

 private:
  std::shared_ptr<autograd::VarImpl<T, D>> input_, target_;
  RowBatch<T, D> b_;
  std::vector<T> lse_;
  T norm_;  // 1 / (sum of row weights) for mean, 1 for sum (CPU)
  Tensor<T, D> device_lse_;
  Tensor<double, D> device_norm_;  // the same on a GPU (undefined for reduction none)
};

// The loss over [N, C] rows: per-row values (reduction none) or their weighted mean / sum.
template <class T, class D>
Var<T, D> cross_entropy_rows(const Var<T, D>& x, const Var<T, D>* target, RowBatch<T, D> b) {
  const bool target_grad = target && target->requires_grad();
  const bool record = autograd::recording() && (x.requires_grad() || target_grad);
  if constexpr (!std::is_same_v<D, cpu>) {
    auto lse = Tensor<T, D>::allocate(Shape{b.n});
    auto loss = Tensor<T, D>::allocate(Shape{b.n});
    cuda_backend::cross_entropy_forward<T>(device_rows(b), lse.data(), loss.data());
    auto reduced = reduce_device_rows(loss, b);
    std::shared_ptr<autograd::Node<T, D>> node;
    if (record)
      node = std::make_shared<CrossEntropyNode<T, D>>(
          autograd::grad_input(x), target_grad ? target->impl_ptr() : nullptr, std::move(b),
          std::vector<T>{}, T(1), std::move(lse), std::move(reduced.second));
    return make_result(std::move(reduced.first), std::move(node));
  } else {
    const std::int64_t n = b.n, c = b.c;
    std::vector<T> lse(static_cast<std::size_t>(n)), loss(static_cast<std::size_t>(n));
    const RowTarget<T> rt(b);
    const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(c, 1));
    cpu_backend::parallel_for(0, n, grain, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t i = r0; i < r1; ++i) {
        lse[i] = row_logsumexp(b.x.data() + i * c, c);
        loss[i] = rt.loss(i, lse[i]);
      }
    });
    auto [value, norm] = reduce_rows<T>(loss, b);
    std::shared_ptr<autograd::Node<T, D>> node;
    if (record)
      node = std::make_shared<CrossEntropyNode<T, D>>(autograd::grad_input(x),
                                                      target_grad ? target->impl_ptr() : nullptr,
                                                      std::move(b), std::move(lse), norm);
    return make_result(std::move(value), std::move(node));
  }
}

// nll_loss's node: the gradient is -w_y at each row's label and 0 elsewhere.
template <class T, class D>
class NllNode final : public autograd::Node<T, D> {
 public:
  NllNode(std::shared_ptr<autograd::VarImpl<T, D>> input, RowBatch<T, D> batch, T norm,
          Tensor<double, D> device_norm = {})
      : input_(std::move(input)),
        b_(std::move(batch)),
        norm_(norm),
        device_norm_(std::move(device_norm)) {}
  const char* name() const override { return "NllLossBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    if constexpr (!std::is_same_v<D, cpu>) {
      auto dx = Tensor<T, D>::allocate(Shape{b_.n, b_.c});
      const bool per_row = b_.reduction == Reduction::none;
      cuda_backend::nll_backward<T>(device_rows(b_), g.data(),
                                    per_row ? nullptr : device_norm_.data(), per_row, dx.data());
      autograd::propagate(input_, dx);
      return;
    } else {
      auto dx = zeros<T, D>(Shape{b_.n, b_.c});
      for (std::int64_t i = 0; i < b_.n; ++i) {
        const std::int64_t y = b_.labels[i];
        if (y == b_.ignore_index) continue;
        const T s = b_.reduction == Reduction::none ? g.data()[i] : g.data()[0] * norm_;
        dx.data()[i * b_.c + y] = -s * (b_.weight.empty() ? T(1) : b_.weight[y]);
      }
      autograd::propagate(input_, dx);
    }
  }
  void release_saved() override {
    input_.reset();
    b_ = RowBatch<T, D>{};
    device_norm_ = Tensor<double, D>();
  }

 private:
  std::shared_ptr<autograd::VarImpl<T, D>> input_;
  RowBatch<T, D> b_;
  T norm_;                         // the CPU's factor
  Tensor<double, D> device_norm_;  // a GPU's (undefined for reduction none)
};

template <class T, class D>
Var<T, D> nll_rows(const Var<T, D>& x, RowBatch<T, D> b) {
  if constexpr (!std::is_same_v<D, cpu>) {
    auto loss = Tensor<T, D>::allocate(Shape{b.n});
    cuda_backend::nll_forward<T>(device_rows(b), loss.data());
    auto reduced = reduce_device_rows(loss, b);
    std::shared_ptr<autograd::Node<T, D>> node;
    if (autograd::should_record(x))
      node = std::make_shared<NllNode<T, D>>(autograd::grad_input(x), std::move(b), T(1),
                                             std::move(reduced.second));
    return make_result(std::move(reduced.first), std::move(node));
  } else {
    std::vector<T> loss(static_cast<std::size_t>(b.n));
    for (std::int64_t i = 0; i < b.n; ++i) {
      const std::int64_t y = b.labels[i];
      loss[i] = y == b.ignore_index
                    ? T(0)
                    : -(b.weight.empty() ? T(1) : b.weight[y]) * b.x.data()[i * b.c + y];
    }
    auto [value, norm] = reduce_rows<T>(loss, b);
    std::shared_ptr<autograd::Node<T, D>> node;
    if (autograd::should_record(x))
      node = std::make_shared<NllNode<T, D>>(autograd::grad_input(x), std::move(b), norm);
    return make_result(std::move(value), std::move(node));
  }
}

}  // namespace detail

// Options of cross_entropy; also the callable loss object (`CrossEntropyLoss{}(logits, y)`).
struct CrossEntropyLoss {
  LossWeight weight{};               // one rescaling weight per class, or undefined
  std::int64_t ignore_index = -100;  // rows with this label add nothing (class indices only)
  Reduction reduction = Reduction::mean;
  double label_smoothing = 0.0;  // in [0, 1]: the target becomes (1 - eps) t + eps / C
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const;
};
using CrossEntropyOptions = CrossEntropyLoss;

// Options of nll_loss; also its callable loss object.
struct NLLLoss {
  LossWeight weight{};
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
  template <class X, class Y>
  auto operator()(const X& input, const Y& target) const;
};
using NllLossOptions = NLLLoss;

namespace functional {

// cross_entropy(logits [N, C] / [C] / [N, C, d1, ...], target): class indices (an int64 or
// int32 tensor of the batch shape) or class probabilities (a float tensor or Var of the input's
// shape, differentiated as PyTorch does). log_softmax and nll in one node: the gradient is
// (softmax - smoothed one-hot) * weight / normaliser.
template <class X, class Y>
auto cross_entropy(const X& input, const Y& target, const CrossEntropyOptions& options = {}) {
  constexpr const char* op = "cross_entropy";
  const auto x = as_var(input);
  using T = value_type_of<decltype(x)>;
  using D = typename decltype(x)::device_type;
  nn::detail::check_reduction(op, options.reduction);
  if (!(options.label_smoothing >= 0 && options.label_smoothing <= 1))
    throw value_error(etna::detail::str(op, ": label_smoothing must be in [0, 1], got ",
                                        options.label_smoothing));
  const auto rows = nn::detail::class_rows(op, x);
  auto b = nn::detail::make_batch<T>(op, rows.value(), options.weight, options.ignore_index,
                                     options.reduction, static_cast<T>(options.label_smoothing));
  Var<T, D> out;
  if constexpr (IntegralScalar<value_type_of<Y>>) {
    nn::detail::set_labels(op, b, target, x.shape());
    out = nn::detail::cross_entropy_rows<T, D>(rows, nullptr, std::move(b));
  } else {
    static_assert(std::is_same_v<value_type_of<Y>, T>,
                  "etna: cross_entropy's target must be class indices (an int64 or int32 "
                  "tensor) or class probabilities of the input's element type");
    const auto t = as_var(target);
    nn::detail::check_probabilities(op, t.shape(), x.shape());
    const auto trows = nn::detail::class_rows(op, t);
    b.probs = trows.value().contiguous();
    out = nn::detail::cross_entropy_rows<T, D>(rows, &trows, std::move(b));
  }
  return nn::detail::unflatten_rows(out, x.shape(), options.reduction);
}

// nll_loss(log_probs [N, C] / [C] / [N, C, d1, ...], class indices): -w_y * input[y], the
// weighted mean dividing by the sum of the weights of the rows not ignored.
template <class X, class Y>
auto nll_loss(const X& input, const Y& target, const NllLossOptions& options = {}) {
  constexpr const char* op = "nll_loss";
  static_assert(IntegralScalar<value_type_of<Y>>,
                "etna: nll_loss's target must be class indices (an int64 or int32 tensor)");
  const auto x = as_var(input);
  using T = value_type_of<decltype(x)>;
  using D = typename decltype(x)::device_type;
  nn::detail::check_reduction(op, options.reduction);
  const auto rows = nn::detail::class_rows(op, x);
  auto b = nn::detail::make_batch<T>(op, rows.value(), options.weight, options.ignore_index,
                                     options.reduction, T(0));
  nn::detail::set_labels(op, b, target, x.shape());
  return nn::detail::unflatten_rows(nn::detail::nll_rows<T, D>(rows, std::move(b)), x.shape(),
                                    options.reduction);
}

}  // namespace functional

template <class X, class Y>
auto CrossEntropyLoss::operator()(const X& input, const Y& target) const {
  return functional::cross_entropy(input, target, *this);
}
template <class X, class Y>
auto NLLLoss::operator()(const X& input, const Y& target) const {
  return functional::nll_loss(input, target, *this);
}

using functional::cross_entropy;
using functional::nll_loss;

}  // namespace etna::nn
