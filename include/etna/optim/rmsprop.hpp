// RMSprop with alpha, eps, centered, momentum, weight decay and maximize, as
// torch.optim.RMSprop; state buffers and the parameter are updated in one fused pass.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "etna/optim/fused_update.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;

  void validate(const std::string& who) const {
    detail::check_non_negative(who, "learning rate", lr);
    detail::check_non_negative(who, "epsilon value", eps);
    detail::check_non_negative(who, "momentum value", momentum);
    detail::check_non_negative(who, "weight_decay value", weight_decay);
    detail::check_non_negative(who, "alpha value", alpha);
  }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr);
    f("alpha", o.alpha);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("momentum", o.momentum);
    f("centered", o.centered);
    f("maximize", o.maximize);
  }
};

// d = ±grad + weight_decay * p; sq = alpha sq + (1 - alpha) d^2; centered: ga = alpha ga +
// (1 - alpha) d and avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps; with momentum
// buf = momentum buf + d / avg and p -= lr buf, else p -= lr d / avg.
// State: "step", "square_avg", "grad_avg" (centered), "momentum_buffer" (momentum > 0).
template <FloatingScalar T = float, Device D = cpu>
class RMSprop : public OptimizerBase<T, RMSpropOptions, D> {
 public:
  explicit RMSprop(std::vector<Var<T, D>> params, RMSpropOptions options = {})
      : OptimizerBase<T, RMSpropOptions, D>("RMSprop",
                                            {"step", "square_avg", "grad_avg", "momentum_buffer"},
                                            std::move(params), options) {}

  void step() {
    if constexpr (!std::is_same_v<D, cpu>) {
      // cuda: one multi-tensor kernel per group; unused state slots stay null, in the kernel's
      // order square_avg, grad_avg, momentum_buffer.
      this->device_step(
          [](const RMSpropOptions& o) {
            std::vector<detail::StateSpec<T>> specs{{"square_avg", T(0)}};
            if (o.centered || o.momentum > 0)
              specs.push_back({o.centered ? "grad_avg" : nullptr, T(0)});
            if (o.momentum > 0) specs.push_back({"momentum_buffer", T(0)});
            return specs;
          },
          true,
          [](const RMSpropOptions& o, const std::vector<cuda_backend::OptimSlot<T>>& slots) {
            cuda_backend::rmsprop_step<T>(
                {o.lr, o.alpha, o.eps, o.weight_decay, o.momentum, o.centered, o.maximize}, slots);
          });
    } else {
      cpu_step();
    }
  }

 private:
  // The host path: one fused SIMD pass per parameter.
  void cpu_step() {
    this->for_each_param([](const RMSpropOptions& o, T* p, const T* g, const Shape& shape,
                            auto& st) {
      detail::next_step(st);
      const T lr = T(o.lr), alpha = T(o.alpha), eps = T(o.eps), wd = T(o.weight_decay),
              mu = T(o.momentum);
      const bool maximize = o.maximize;
      const auto n = shape.numel();
      auto direction = [=](auto gi, auto& pi) {
        auto d = maximize ? -gi : gi;
        if (wd != 0) d = d + wd * pi;
        return d;
      };
      auto average = [=](auto d, auto& sq) {
        sq = sq * alpha + d * d * (T(1) - alpha);
        return detail::vsqrt(sq) + eps;
      };
      auto centered_average = [=](auto d, auto& sq, auto& ga) {
        sq = sq * alpha + d * d * (T(1) - alpha);
        ga = ga * alpha + d * (T(1) - alpha);
        return detail::vsqrt(sq - ga * ga) + eps;
      };
      T* sq = detail::state_buffer(st, "square_avg", shape, T(0));
      T* ga = o.centered ? detail::state_buffer(st, "grad_avg", shape, T(0)) : nullptr;
      T* buf = o.momentum > 0 ? detail::state_buffer(st, "momentum_buffer", shape, T(0)) : nullptr;
      if (!ga && !buf)
        detail::fused_update(
            n, g,
            [&](auto gi, auto& pi, auto& si) {
              const auto d = direction(gi, pi);
              pi = pi - lr * (d / average(d, si));
            },
            p, sq);
      else if (!buf)
        detail::fused_update(
            n, g,
            [&](auto gi, auto& pi, auto& si, auto& gai) {
              const auto d = direction(gi, pi);
              pi = pi - lr * (d / centered_average(d, si, gai));
            },
            p, sq, ga);
      else if (!ga)
        detail::fused_update(
            n, g,
            [&](auto gi, auto& pi, auto& si, auto& bi) {
              const auto d = direction(gi, pi);
              bi = bi * mu + d / average(d, si);
              pi = pi - lr * bi;
            },
            p, sq, buf);
      else
        detail::fused_update(
            n, g,
            [&](auto gi, auto& pi, auto& si, auto& gai, auto& bi) {
              const auto d = direction(gi, pi);
              bi = bi * mu + d / centered_average(d, si, gai);
              pi = pi - lr * bi;
            },
            p, sq, ga, buf);
    });
  }
};

template <class T, class D>
RMSprop(std::vector<Var<T, D>>, RMSpropOptions = {}) -> RMSprop<T, D>;
template <class T, class D>
RMSprop(std::initializer_list<Var<T, D>>, RMSpropOptions = {}) -> RMSprop<T, D>;

}  // namespace etna::optim
