// nn::functional::linear: y = x W^T + b on Vars, PyTorch's weight layout [out, in], any leading
// shape of x. One GEMM forward (the bias preloaded into the output, so it costs no extra pass).
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/backend/cuda/fwd_blas.hpp"
#include "etna/ops/matmul.hpp"

namespace etna::nn::functional {
namespace detail {

// Saves the 2-D input view [M, in] and the weight; backward is two GEMMs plus a column sum.
template <class T, class D>
class LinearNode final : public autograd::Node<T, D> {
 public:
  LinearNode(std::shared_ptr<autograd::VarImpl<T, D>> x, std::shared_ptr<autograd::VarImpl<T, D>> w,
             std::shared_ptr<autograd::VarImpl<T, D>> b, Tensor<T, D> x2, Tensor<T, D> wv,
             Shape x_shape)
      : x_(std::move(x)),
        w_(std::move(w)),
        b_(std::move(b)),
        x2_(std::move(x2)),
        wv_(std::move(wv)),
        x_shape_(std::move(x_shape)) {}
  const char* name() const override { return "LinearBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, x_);
    autograd::add_next(out, w_);
    autograd::add_next(out, b_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const std::int64_t out_f = wv_.size(0), in_f = wv_.size(1), m = x2_.size(0);
    const Tensor<T, D> g = g_in.contiguous().reshape({m, out_f});
    if (x_) {
      auto gx = Tensor<T, D>::allocate({m, in_f});
      etna::detail::gemm_2d(g, wv_, gx);  // [M, out] x [out, in]
      autograd::propagate(x_, gx.reshape(x_shape_));
    }
    if (w_) {
      auto gw = Tensor<T, D>::allocate({out_f, in_f});
      etna::detail::gemm_2d(g.t(), x2_, gw);  // [out, M] x [M, in]
      autograd::propagate(w_, gw);
    }
    if (b_) autograd::propagate(b_, etna::detail::column_sum_2d(g));
  }
  void release_saved() override {
    x_.reset();
    w_.reset();
    b_.reset();
    x2_ = Tensor<T, D>();
    wv_ = Tensor<T, D>();
  }

 private:
  std::shared_ptr<autograd::VarImpl<T, D>> x_, w_, b_;
  Tensor<T, D> x2_, wv_;
  Shape x_shape_;
};

template <class T, class D>
Var<T, D> linear_impl(const Var<T, D>& x, const Var<T, D>& w, const Var<T, D>* b) {
  if (w.dim() != 2)
    throw shape_error(
        etna::detail::str("linear: weight must be 2-d [out_features, in_features], "
                          "got shape ",
                          w.shape()));
  const std::int64_t out_f = w.size(0), in_f = w.size(1);
  if (x.dim() == 0 || x.size(-1) != in_f)
    throw shape_error(
        etna::detail::str("linear: input has ", x.dim() == 0 ? std::int64_t{0} : x.size(-1),
                          " features but the weight expects ", in_f, " (weight shape ", w.shape(),
                          ", input shape ", x.shape(), ")"));
  if (b && !(b->dim() == 1 && b->size(0) == out_f))
    throw shape_error(etna::detail::str("linear: bias of shape ", b->shape(),
                                        " does not match the weight's ", out_f,
                                        " output features (expected [", out_f, "])"));
  const std::int64_t m = in_f == 0 ? x.numel() : x.numel() / in_f;
  const Tensor<T, D> x2 = x.value().contiguous().reshape({m, in_f});
  auto out = Tensor<T, D>::allocate({m, out_f});
  if (b) {  // every output row starts as the bias; the GEMM then accumulates into it (beta = 1)
    if constexpr (std::is_same_v<D, cpu>) {
      const Tensor<T, D> bv = b->value().contiguous();
      T* po = out.data();
      for (std::int64_t i = 0; i < m; ++i) std::copy_n(bv.data(), out_f, po + i * out_f);
    } else {  // one broadcast copy on the device
      out.assign(b->value().unsqueeze(0).expand({m, out_f}));
    }
  }
  if (m > 0 && out_f > 0) etna::detail::gemm_2d(x2, w.value().t(), out, T(1), b ? T(1) : T(0));
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_f;
  std::shared_ptr<autograd::Node<T, D>> node;
  const bool record = b ? autograd::should_record(x, w, *b) : autograd::should_record(x, w);
  if (record)
    node = std::make_shared<LinearNode<T, D>>(autograd::grad_input(x), autograd::grad_input(w),
                                              b ? autograd::grad_input(*b) : nullptr, x2, w.value(),
                                              x.shape());
  return make_result(out.reshape(out_shape), std::move(node));
}

}  // namespace detail

// y = x W^T + b: x [..., in], weight [out, in], bias [out]; x may be a Var, a Var expression or
// a tensor (a constant).
template <class X, class W, class B>
requires(VarLike<X> || VarLike<W> || VarLike<B>) auto linear(const X& x, const W& weight,
                                                             const B& bias) {
  const auto b = as_var(bias);
  return detail::linear_impl(as_var(x), as_var(weight), &b);
}

// y = x W^T, no bias.
template <class X, class W>
requires(VarLike<X> || VarLike<W>) auto linear(const X& x, const W& weight) {
  return detail::linear_impl(as_var(x), as_var(weight),
                             static_cast<decltype(as_var(weight))*>(nullptr));
}

}  // namespace etna::nn::functional
