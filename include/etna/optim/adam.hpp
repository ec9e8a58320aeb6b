// Adam and AdamW (decoupled weight decay), with amsgrad and maximize, as torch.optim.Adam and
// torch.optim.AdamW; every state buffer and the parameter are updated in one fused pass.
#pragma once

#include <array>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "etna/optim/fused_update.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::optim {

namespace detail {
template <class O>
void validate_adam(const O& o, const std::string& who) {
  check_non_negative(who, "learning rate", o.lr);
  check_non_negative(who, "epsilon value", o.eps);
  check_unit_interval(who, "beta parameter at index 0", o.betas[0]);
  check_unit_interval(who, "beta parameter at index 1", o.betas[1]);
  check_non_negative(who, "weight_decay value", o.weight_decay);
}
template <class Self, class F>
void adam_fields(Self& o, F&& f) {
  f("lr", o.lr);
  f("beta1", o.betas[0]);
  f("beta2", o.betas[1]);
  f("eps", o.eps);
  f("weight_decay", o.weight_decay);
  f("amsgrad", o.amsgrad);
  f("maximize", o.maximize);
}
}  // namespace detail

struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;

  void validate(const std::string& who) const { detail::validate_adam(*this, who); }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    detail::adam_fields(o, f);
  }
};
// The same options; only the default weight decay differs (and how AdamW applies it).
struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;

  void validate(const std::string& who) const { detail::validate_adam(*this, who); }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    detail::adam_fields(o, f);
  }
};

namespace detail {
// One Adam step of a parameter. Adam adds weight_decay * p to the gradient (L2); AdamW
// (decoupled) shrinks p by lr * weight_decay before the update. With s = step:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) (amsgrad)
//   p -= lr / (1 - b1^s) * m / (sqrt(v or vmax) / sqrt(1 - b2^s) + eps)
template <class T, class O>
void adam_update(const O& o, bool decoupled, T* p, const T* g, const Shape& shape,
                 ParamState<T, cpu>& st) {
  const double step = next_step(st);
  const T b1 = T(o.betas[0]), b2 = T(o.betas[1]), eps = T(o.eps);
  const T wd = decoupled ? T(0) : T(o.weight_decay);
  const T shrink = decoupled ? T(1 - o.lr * o.weight_decay) : T(1);
  const T step_size = T(o.lr / (1 - std::pow(o.betas[0], step)));
  const T bc2_sqrt = T(std::sqrt(1 - std::pow(o.betas[1], step)));
  const bool maximize = o.maximize;
  T* m = state_buffer(st, "exp_avg", shape, T(0));
  T* v = state_buffer(st, "exp_avg_sq", shape, T(0));
  auto moments = [=](auto gi, auto& pi, auto& mi, auto& vi) {
    auto d = maximize ? -gi : gi;
    if (wd != 0) d = d + wd * pi;
    if (shrink != T(1)) pi = pi * shrink;
    mi = mi * b1 + d * (T(1) - b1);
    vi = vi * b2 + d * d * (T(1) - b2);
  };
  if (!o.amsgrad) {
    fused_update(
        shape.numel(), g,
        [=](auto gi, auto& pi, auto& mi, auto& vi) {
          moments(gi, pi, mi, vi);
          pi = pi - step_size * mi / (vsqrt(vi) / bc2_sqrt + eps);
        },
        p, m, v);
    return;
  }
  T* vmax_buf = state_buffer(st, "max_exp_avg_sq", shape, T(0));
  fused_update(
      shape.numel(), g,
      [=](auto gi, auto& pi, auto& mi, auto& vi, auto& vmaxi) {
        moments(gi, pi, mi, vi);
        vmaxi = vmax(vmaxi, vi);
        pi = pi - step_size * mi / (vsqrt(vmaxi) / bc2_sqrt + eps);
      },
      p, m, v, vmax_buf);
}
inline const std::set<std::string> kAdamState = {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

// The cuda step of Adam and AdamW: every parameter of a group in one multi-tensor kernel; the
// step counts live on the device and the kernel computes the bias corrections from them, so a
// step captured into a CUDA graph replays with the right bias corrections.
template <class T>
struct AdamDeviceStep {
  bool decoupled;
  template <class O>
  std::vector<StateSpec<T>> operator()(const O& o) const {
    std::vector<StateSpec<T>> specs{{"exp_avg", T(0)}, {"exp_avg_sq", T(0)}};
    if (o.amsgrad) specs.push_back({"max_exp_avg_sq", T(0)});
    return specs;
  }
  template <class O>
  void operator()(const O& o, const std::vector<cuda_backend::OptimSlot<T>>& slots) const {
    cuda_backend::adam_step<T>(
        {o.lr, o.betas[0], o.betas[1], o.eps, o.weight_decay, decoupled, o.amsgrad, o.maximize},
        slots);
  }
};
}  // namespace detail

// Adam (Kingma & Ba) with L2 weight decay added to the gradient. State per parameter: "step",
// "exp_avg", "exp_avg_sq" and, with amsgrad, "max_exp_avg_sq".
template <FloatingScalar T = float, Device D = cpu>
class Adam : public OptimizerBase<T, AdamOptions, D> {
 public:
  explicit Adam(std::vector<Var<T, D>> params, AdamOptions options = {})
      : OptimizerBase<T, AdamOptions, D>("Adam", detail::kAdamState, std::move(params), options) {}
  void step() {
    if constexpr (std::is_same_v<D, cpu>) {
      this->for_each_param([](const AdamOptions& o, T* p, const T* g, const Shape& s, auto& st) {
        detail::adam_update(o, false, p, g, s, st);
      });
    } else {
      const detail::AdamDeviceStep<T> rule{false};
      this->device_step(rule, true, rule);
    }
  }
};

// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, p *= 1 - lr * weight_decay
// before the Adam step. Same options (weight_decay defaults to 1e-2) and state as Adam.
template <FloatingScalar T = float, Device D = cpu>
class AdamW : public OptimizerBase<T, AdamWOptions, D> {
 public:
  explicit AdamW(std::vector<Var<T, D>> params, AdamWOptions options = {})
      : OptimizerBase<T, AdamWOptions, D>("AdamW", detail::kAdamState, std::move(params), options) {
  }
  void step() {
    if constexpr (std::is_same_v<D, cpu>) {
      this->for_each_param([](const AdamWOptions& o, T* p, const T* g, const Shape& s, auto& st) {
        detail::adam_update(o, true, p, g, s, st);
      });
    } else {
      const detail::AdamDeviceStep<T> rule{true};
      this->device_step(rule, true, rule);
    }
  }
};

template <class T, class D>
Adam(std::vector<Var<T, D>>, AdamOptions = {}) -> Adam<T, D>;
template <class T, class D>
Adam(std::initializer_list<Var<T, D>>, AdamOptions = {}) -> Adam<T, D>;
template <class T, class D>
AdamW(std::vector<Var<T, D>>, AdamWOptions = {}) -> AdamW<T, D>;
template <class T, class D>
AdamW(std::initializer_list<Var<T, D>>, AdamWOptions = {}) -> AdamW<T, D>;

}  // namespace etna::optim
