// nn::functional::batch_norm and layer_norm on Vars, each one forward pass over the data and one
// backward node with the closed-form input gradient (no graph of small element-wise steps).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_nn.hpp"
#include "etna/core/factory.hpp"

namespace etna::nn::functional {
namespace detail {

// Items per thread so that each thread gets at least ~16K elements of work.
inline std::int64_t grain(std::int64_t elements_per_item) {
  return std::max<std::int64_t>(
      1, (std::int64_t{1} << 14) / std::max<std::int64_t>(1, elements_per_item));
}

// Shared by both norms: x = xhat / rstd + mean was normalised in groups; the node keeps xhat,
// the per-group rstd and the affine weight. Data is viewed as [outer, groups, inner] for batch
// norm (group = channel, reduced over outer and inner) and [rows, 1, K] for layer norm, where
// the group is the row and the affine parameters run along K. rstd is a [groups] (batch) or
// [rows] (layer) tensor on the data's device.
template <class T, class D>
class NormNode final : public autograd::Node<T, D> {
 public:
  using Impl = std::shared_ptr<autograd::VarImpl<T, D>>;
  NormNode(bool batch, bool batch_stats, Impl x, Impl w, Impl b, Tensor<T, D> xhat,
           Tensor<T, D> rstd, Tensor<T, D> wv, std::int64_t outer, std::int64_t groups,
           std::int64_t inner)
      : batch_(batch),
        batch_stats_(batch_stats),
        x_(std::move(x)),
        w_(std::move(w)),
        b_(std::move(b)),
        xhat_(std::move(xhat)),
        rstd_(std::move(rstd)),
        wv_(std::move(wv)),
        outer_(outer),
        groups_(groups),
        inner_(inner) {}
  const char* name() const override {
    return batch_ ? "NativeBatchNormBackward" : "NativeLayerNormBackward";
  }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, x_);
    autograd::add_next(out, w_);
    autograd::add_next(out, b_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    if constexpr (!std::is_same_v<D, cpu>)
      device_backward(g);
    else if (batch_)
      batch_backward(g.data());
    else
      layer_backward(g.data());
  }
  void release_saved() override {
    x_.reset();
    w_.reset();
    b_.reset();
    xhat_ = Tensor<T, D>();
    wv_ = Tensor<T, D>();
    rstd_ = Tensor<T, D>();
  }

 private:
  // The same passes as the CPU's, as device kernels (backend/cuda/nn.hpp).
  void device_backward(const Tensor<T, D>& g) {
    const std::int64_t C = batch_ ? groups_ : inner_;
    Tensor<T, D> dx;
    if (x_) dx = Tensor<T, D>::allocate(xhat_.shape());
    const bool affine = w_ || b_;
    Tensor<T, D> sg, sgx;
    if (batch_ || affine) {
      sg = Tensor<T, D>::allocate(Shape{C});
      sgx = Tensor<T, D>::allocate(Shape{C});
    }
    const T* w = wv_.defined() ? wv_.data() : nullptr;
    T* dxp = x_ ? dx.data() : nullptr;
    if (batch_)
      cuda_backend::batch_norm_backward<T>(g.data(), xhat_.data(), rstd_.data(), w, dxp, sg.data(),
                                           sgx.data(), outer_, groups_, inner_, batch_stats_);
    else
      cuda_backend::layer_norm_backward<T>(g.data(), xhat_.data(), rstd_.data(), w, dxp,
                                           affine ? sg.data() : nullptr,
                                           affine ? sgx.data() : nullptr, outer_, inner_);
    if (x_) autograd::propagate(x_, dx);
    const Shape shape = wv_.defined() ? wv_.shape() : Shape{C};
    if (w_) autograd::propagate(w_, sgx.reshape(shape));
    if (b_) autograd::propagate(b_, sg.reshape(shape));
  }

  // dx = w rstd (g - mean(g) - xhat mean(g xhat)) with batch statistics; w rstd g in eval mode.
  void batch_backward(const T* g) {
    const T* xh = xhat_.data();
    const std::int64_t C = groups_, L = inner_, n = outer_ * inner_;
    std::vector<double> sg(C, 0.0), sgx(C, 0.0);
    Tensor<T, D> dx;
    if (x_) dx = Tensor<T, D>::allocate(xhat_.shape());
    // Channels are independent: one thread per group of channels, both passes inside.
    cpu_backend::parallel_for(0, C, grain(n), [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t c = c0; c < c1; ++c) {
        double s = 0, sx = 0;
        for (std::int64_t o = 0; o < outer_; ++o)
          for (std::int64_t l = 0, i = (o * C + c) * L; l < L; ++l, ++i) {
            s += g[i];
            sx += static_cast<double>(g[i]) * xh[i];
          }
        sg[c] = s;
        sgx[c] = sx;
        if (!x_) continue;
        T* p = dx.data();
        const T k = (wv_.defined() ? wv_.data()[c] : T(1)) * rstd_.data()[c];
        const T mg = static_cast<T>(s / n), mgx = static_cast<T>(sx / n);
        for (std::int64_t o = 0; o < outer_; ++o)
          for (std::int64_t l = 0, i = (o * C + c) * L; l < L; ++l, ++i)
            p[i] = batch_stats_ ? k * (g[i] - mg - xh[i] * mgx) : k * g[i];
      }
    });
    if (x_) autograd::propagate(x_, dx);
    propagate_affine(sg, sgx);
  }
  // Per row: dx = rstd (gw - mean(gw) - xhat mean(gw xhat)), gw = g * weight.
  void layer_backward(const T* g) {
    const T* xh = xhat_.data();
    const std::int64_t K = inner_, rows = outer_;
    const T* w = wv_.defined() ? wv_.data() : nullptr;
    std::vector<double> sw(K, 0.0), sb(K, 0.0);
    if (x_) {
      auto dx = Tensor<T, D>::allocate(xhat_.shape());
      cpu_backend::parallel_for(0, rows, grain(K), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
          const T* gr = g + r * K;
          const T* xr = xh + r * K;
          double a = 0, b = 0;
          for (std::int64_t k = 0; k < K; ++k) {
            const double gw = w ? static_cast<double>(gr[k]) * w[k] : gr[k];
            a += gw;
            b += gw * xr[k];
          }
          T* p = dx.data() + r * K;
          const double ma = a / K, mb = b / K;
          for (std::int64_t k = 0; k < K; ++k) {
            const double gw = w ? static_cast<double>(gr[k]) * w[k] : gr[k];
            p[k] = static_cast<T>(rstd_.data()[r] * (gw - ma - xr[k] * mb));
          }
        }
      });
      autograd::propagate(x_, dx);
    }
    if (!w_ && !b_) return;
    // The affine gradients are column sums: threads split the columns, rows stream past.
    cpu_backend::parallel_for(0, K, grain(rows), [&](std::int64_t k0, std::int64_t k1) {
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t k = k0; k < k1; ++k) {
          const std::int64_t i = r * K + k;
          sb[k] += g[i];
          sw[k] += static_cast<double>(g[i]) * xh[i];
        }
    });
    propagate_affine(sb, sw);
  }
  void propagate_affine(const std::vector<double>& sum_g, const std::vector<double>& sum_gx) {
    const Shape shape =
        wv_.defined() ? wv_.shape() : Shape{static_cast<std::int64_t>(sum_g.size())};
    auto to_tensor = [&](const std::vector<double>& v) {
      auto t = Tensor<T, D>::allocate(shape);
      for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = static_cast<T>(v[i]);
      return t;
    };
    if (w_) autograd::propagate(w_, to_tensor(sum_gx));
    if (b_) autograd::propagate(b_, to_tensor(sum_g));
  }

  bool batch_, batch_stats_;
  Impl x_, w_, b_;
  Tensor<T, D> xhat_;
  Tensor<T, D> rstd_;
  Tensor<T, D> wv_;
  std::int64_t outer_, groups_, inner_;
};

inline void check_param(const char* op, const char* what, const Shape& got, const Shape& expected) {
  if (!(got == expected))
    throw shape_error(
        etna::detail::str(op, ": ", what, " has shape ", got, " but expected ", expected));
}

// y = xhat * w + b from the normalised xhat, and the node that differentiates it.
template <class T, class D>
Var<T, D> finish_norm(bool batch, bool batch_stats, const Var<T, D>& x, const Var<T, D>& weight,
                      const Var<T, D>& bias, Tensor<T, D> xhat, Tensor<T, D> rstd,
                      std::int64_t outer, std::int64_t groups, std::int64_t inner) {
  auto y = Tensor<T, D>::allocate(x.shape());
  const T* xh = xhat.data();
  T* p = y.data();
  const Tensor<T, D> bc = bias.defined() ? bias.value().contiguous() : Tensor<T, D>();
  const Tensor<T, D> wc = weight.defined() ? weight.value().contiguous() : Tensor<T, D>();
  const T* w = wc.defined() ? wc.data() : nullptr;
  const T* b = bc.defined() ? bc.data() : nullptr;
  if constexpr (!std::is_same_v<D, cpu>)
    cuda_backend::norm_affine<T>(xh, w, b, p, outer, groups, inner, batch);
  else
    cpu_backend::parallel_for(
        0, outer * groups, grain(inner), [&](std::int64_t j0, std::int64_t j1) {
          for (std::int64_t j = j0; j < j1; ++j) {
            const std::int64_t c = j % groups;
            for (std::int64_t l = 0, i = j * inner; l < inner; ++l, ++i) {
              const std::int64_t a = batch ? c : l;  // the affine parameter's index
              p[i] = (w ? xh[i] * w[a] : xh[i]) + (b ? b[a] : T(0));
            }
          }
        });
  const bool record =
      autograd::recording() && (x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                                (bias.defined() && bias.requires_grad()));
  std::shared_ptr<autograd::Node<T, D>> node;
  if (record)
    node = std::make_shared<NormNode<T, D>>(
        batch, batch_stats, autograd::grad_input(x),
        weight.defined() ? autograd::grad_input(weight) : nullptr,
        bias.defined() ? autograd::grad_input(bias) : nullptr, std::move(xhat), std::move(rstd), wc,
        outer, groups, inner);
  return make_result(std::move(y), std::move(node));
}

}  // namespace detail

// Batch normalisation of x [N, C, ...] per channel C. Training: batch mean and biased variance
// normalise, and the running buffers (if defined) are updated in place with the unbiased
// variance: running = (1 - momentum) running + momentum batch. Eval: the running statistics
// normalise. weight and bias ([C]) are optional: pass an undefined Var ({}) for none.
template <class T, class D>
Var<T, D> batch_norm(const Var<T, D>& x, const Tensor<T, D>& running_mean,
                     const Tensor<T, D>& running_var, const Var<T, D>& weight,
                     const Var<T, D>& bias, bool training, double momentum = 0.1,
                     double eps = 1e-5) {
  if (x.dim() < 2)
    throw shape_error(
        etna::detail::str("batch_norm: expected an input of shape [N, C, ...] "
                          "(2 or more dimensions), got shape ",
                          x.shape()));
  const std::int64_t N = x.size(0), C = x.size(1), L = x.numel() / std::max<std::int64_t>(1, N * C);
  const Shape cshape{C};
  if (weight.defined()) detail::check_param("batch_norm", "weight", weight.shape(), cshape);
  if (bias.defined()) detail::check_param("batch_norm", "bias", bias.shape(), cshape);
  if (running_mean.defined())
    detail::check_param("batch_norm", "running_mean", running_mean.shape(), cshape);
  if (running_var.defined())
    detail::check_param("batch_norm", "running_var", running_var.shape(), cshape);
  const std::int64_t n = N * L;
  if (training && n <= 1)
    throw value_error(
        etna::detail::str("batch_norm: expected more than 1 value per channel when "
                          "training, got input of shape ",
                          x.shape()));
  if (!training && !(running_mean.defined() && running_var.defined()))
    throw value_error("batch_norm: eval mode needs running_mean and running_var");
  const Tensor<T, D> xc = x.value().contiguous();
  const T* px = xc.data();
  auto rstd_t = Tensor<T, D>::allocate(cshape);
  auto xhat = Tensor<T, D>::allocate(x.shape());
  T* ph = xhat.data();
  if constexpr (!std::is_same_v<D, cpu>) {
    auto buffer = [](const Tensor<T, D>& t) { return t.defined() ? t.data() : nullptr; };
    auto stride = [](const Tensor<T, D>& t) { return t.defined() ? t.strides()[0] : 0; };
    cuda_backend::batch_norm_forward<T>(px, ph, rstd_t.data(), buffer(running_mean),
                                        stride(running_mean), buffer(running_var),
                                        stride(running_var), N, C, L, training, momentum, eps);
    return detail::finish_norm(true, training, x, weight, bias, std::move(xhat), std::move(rstd_t),
                               N, C, L);
  }
  T* rstd = rstd_t.data();
  // Channels are independent: each thread takes whole channels (statistics, buffers, xhat).
  cpu_backend::parallel_for(0, C, detail::grain(n), [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      T mean;
      if (training) {  // two passes in double: exact enough for large, offset batches
        double s = 0, ss = 0;
        for (std::int64_t o = 0; o < N; ++o)
          for (std::int64_t l = 0, i = (o * C + c) * L; l < L; ++l, ++i) s += px[i];
        const double m = s / n;
        for (std::int64_t o = 0; o < N; ++o)
          for (std::int64_t l = 0, i = (o * C + c) * L; l < L; ++l, ++i)
            ss += (px[i] - m) * (px[i] - m);
        const double var = ss / n;
        mean = static_cast<T>(m);
        rstd[c] = static_cast<T>(1.0 / std::sqrt(var + eps));
        if (running_mean.defined()) {
          T& rm = running_mean.data()[c * running_mean.strides()[0]];
          rm = static_cast<T>((1 - momentum) * rm + momentum * m);
        }
        if (running_var.defined()) {
          T& rv = running_var.data()[c * running_var.strides()[0]];
          rv = static_cast<T>((1 - momentum) * rv + momentum * ss / (n - 1));
        }
      } else {
        mean = running_mean.data()[c * running_mean.strides()[0]];
        rstd[c] = static_cast<T>(
            1.0 /
            std::sqrt(static_cast<double>(running_var.data()[c * running_var.strides()[0]]) + eps));
      }
      for (std::int64_t o = 0; o < N; ++o)
        for (std::int64_t l = 0, i = (o * C + c) * L; l < L; ++l, ++i)
          ph[i] = (px[i] - mean) * rstd[c];
    }
  });
  return detail::finish_norm(true, training, x, weight, bias, std::move(xhat), std::move(rstd_t), N,
                             C, L);
}

// Layer normalisation over the trailing dimensions given by normalized_shape (mean and biased
// variance per leading index); weight and bias have shape normalized_shape, undefined for none.
template <class T, class D>
Var<T, D> layer_norm(const Var<T, D>& x, const Shape& normalized_shape,
                     const Var<T, D>& weight = {}, const Var<T, D>& bias = {}, double eps = 1e-5) {
  const int k = normalized_shape.size();
  bool ok = k >= 1 && k <= x.dim();
  for (int i = 0; ok && i < k; ++i) ok = x.shape()[x.dim() - k + i] == normalized_shape[i];
  if (!ok)
    throw shape_error(etna::detail::str("layer_norm: input of shape ", x.shape(),
                                        " does not end with normalized_shape ", normalized_shape));
  if (weight.defined())
    detail::check_param("layer_norm", "weight", weight.shape(), normalized_shape);
  if (bias.defined()) detail::check_param("layer_norm", "bias", bias.shape(), normalized_shape);
  const std::int64_t K = normalized_shape.numel(), rows = K == 0 ? 0 : x.numel() / K;
  const Tensor<T, D> xc = x.value().contiguous();
  auto xhat = Tensor<T, D>::allocate(x.shape());
  auto rstd_t = Tensor<T, D>::allocate(Shape{rows});
  if constexpr (!std::is_same_v<D, cpu>) {
    cuda_backend::layer_norm_forward<T>(xc.data(), xhat.data(), rstd_t.data(), rows, K, eps);
    return detail::finish_norm(false, true, x, weight, bias, std::move(xhat), std::move(rstd_t),
                               rows, 1, K);
  }
  T* rstd = rstd_t.data();
  cpu_backend::parallel_for(0, rows, detail::grain(K), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* xr = xc.data() + r * K;
      double s = 0, ss = 0;
      for (std::int64_t i = 0; i < K; ++i) s += xr[i];
      const double m = s / K;
      for (std::int64_t i = 0; i < K; ++i) ss += (xr[i] - m) * (xr[i] - m);
      const double rs = 1.0 / std::sqrt(ss / K + eps);
      rstd[r] = static_cast<T>(rs);
      T* hr = xhat.data() + r * K;
      for (std::int64_t i = 0; i < K; ++i) hr[i] = static_cast<T>((xr[i] - m) * rs);
    }
  });
  return detail::finish_norm(false, true, x, weight, bias, std::move(xhat), std::move(rstd_t), rows,
                             1, K);
}

// A Var expression input (F::layer_norm(x + skip, {512})) is evaluated as one fused node first.
template <VarLike X>
requires(!is_var<X>::value) auto batch_norm(const X& x,
                                            const Tensor<value_type_of<X>>& running_mean,
                                            const Tensor<value_type_of<X>>& running_var,
                                            const Var<value_type_of<X>>& weight,
                                            const Var<value_type_of<X>>& bias, bool training,
                                            double momentum = 0.1, double eps = 1e-5) {
  return batch_norm(as_var(x), running_mean, running_var, weight, bias, training, momentum, eps);
}
template <VarLike X>
requires(!is_var<X>::value) auto layer_norm(const X& x, const Shape& normalized_shape,
                                            const Var<value_type_of<X>>& weight = {},
                                            const Var<value_type_of<X>>& bias = {},
                                            double eps = 1e-5) {
  return layer_norm(as_var(x), normalized_shape, weight, bias, eps);
}

}  // namespace etna::nn::functional
