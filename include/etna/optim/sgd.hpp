// Stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and
// maximize, as torch.optim.SGD (PyTorch 2 semantics); one fused pass per parameter.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "etna/optim/fused_update.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;

  void validate(const std::string& who) const {
    detail::check_non_negative(who, "learning rate", lr);
    detail::check_non_negative(who, "momentum value", momentum);
    detail::check_non_negative(who, "weight_decay value", weight_decay);
    if (nesterov && (momentum <= 0 || dampening != 0))
      throw value_error(who + ": Nesterov momentum requires a momentum and zero dampening");
  }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr);
    f("momentum", o.momentum);
    f("dampening", o.dampening);
    f("weight_decay", o.weight_decay);
    f("nesterov", o.nesterov);
    f("maximize", o.maximize);
  }
};

// d = ±grad + weight_decay * p; buf = momentum * buf + (1 - dampening) * d (buf = d on the
// first step); p -= lr * (nesterov ? d + momentum * buf : buf). State: "momentum_buffer".
template <FloatingScalar T = float, Device D = cpu>
class SGD : public OptimizerBase<T, SGDOptions, D> {
  using Base = OptimizerBase<T, SGDOptions, D>;

 public:
  explicit SGD(std::vector<Var<T, D>> params, SGDOptions options = {})
      : Base("SGD", {"momentum_buffer"}, std::move(params), options) {}

  void step() {
    if constexpr (!std::is_same_v<D, cpu>) {
      // cuda: every parameter of a group in one multi-tensor kernel.
      this->device_step(
          [](const SGDOptions& o) {
            return o.momentum == 0 ? std::vector<detail::StateSpec<T>>{}
                                   : std::vector<detail::StateSpec<T>>{{"momentum_buffer", T(0)}};
          },
          false,
          [](const SGDOptions& o, const std::vector<cuda_backend::OptimSlot<T>>& slots) {
            cuda_backend::sgd_step<T>(
                {o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, o.maximize}, slots);
          });
    } else {
      cpu_step();
    }
  }

 private:
  // The host path: one fused SIMD pass per parameter.
  void cpu_step() {
    this->for_each_param([](const SGDOptions& o, T* p, const T* g, const Shape& shape, auto& st) {
      const T lr = T(o.lr), wd = T(o.weight_decay), mu = T(o.momentum), keep = T(1 - o.dampening);
      const bool maximize = o.maximize, nesterov = o.nesterov;
      const auto n = shape.numel();
      if (o.momentum == 0) {
        // Captures by value: stores to the parameters cannot alias them, so the compiler
        // keeps them in registers and hoists the tests out of the loop.
        detail::fused_update(
            n, g,
            [=](auto gi, auto& pi) {
              auto d = maximize ? -gi : gi;
              if (wd != 0) d = d + wd * pi;
              pi = pi - lr * d;
            },
            p);
        return;
      }
      const bool first = !st.count("momentum_buffer");
      T* buf = detail::state_buffer(st, "momentum_buffer", shape, T(0));
      detail::fused_update(
          n, g,
          [=](auto gi, auto& pi, auto& bi) {
            auto d = maximize ? -gi : gi;
            if (wd != 0) d = d + wd * pi;
            bi = first ? d : mu * bi + keep * d;
            pi = pi - lr * (nesterov ? d + mu * bi : bi);
          },
          p, buf);
    });
  }
};

template <class T, class D>
SGD(std::vector<Var<T, D>>, SGDOptions = {}) -> SGD<T, D>;
template <class T, class D>
SGD(std::initializer_list<Var<T, D>>, SGDOptions = {}) -> SGD<T, D>;

}  // namespace etna::optim
