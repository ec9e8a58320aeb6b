// Adagrad with lr_decay, weight decay, initial_accumulator_value, eps and maximize, as
// torch.optim.Adagrad; the accumulator and the parameter are updated in one fused pass.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "etna/optim/fused_update.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;

  void validate(const std::string& who) const {
    detail::check_non_negative(who, "learning rate", lr);
    detail::check_non_negative(who, "lr_decay value", lr_decay);
    detail::check_non_negative(who, "weight_decay value", weight_decay);
    detail::check_non_negative(who, "initial_accumulator_value value", initial_accumulator_value);
    detail::check_non_negative(who, "epsilon value", eps);
  }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr);
    f("lr_decay", o.lr_decay);
    f("weight_decay", o.weight_decay);
    f("initial_accumulator_value", o.initial_accumulator_value);
    f("eps", o.eps);
    f("maximize", o.maximize);
  }
};

// d = ±grad + weight_decay * p; sum += d^2; p -= lr / (1 + (step - 1) lr_decay) *
// d / (sqrt(sum) + eps). State: "step", "sum" (starts at initial_accumulator_value; created at
// the first step, where PyTorch creates it in the constructor).
template <FloatingScalar T = float, Device D = cpu>
class Adagrad : public OptimizerBase<T, AdagradOptions, D> {
 public:
  explicit Adagrad(std::vector<Var<T, D>> params, AdagradOptions options = {})
      : OptimizerBase<T, AdagradOptions, D>("Adagrad", {"step", "sum"}, std::move(params),
                                            options) {}

  void step() {
    if constexpr (!std::is_same_v<D, cpu>) {
      // cuda: one multi-tensor kernel per group; the lr decay reads the step on the device.
      this->device_step(
          [](const AdagradOptions& o) {
            return std::vector<detail::StateSpec<T>>{{"sum", T(o.initial_accumulator_value)}};
          },
          true,
          [](const AdagradOptions& o, const std::vector<cuda_backend::OptimSlot<T>>& slots) {
            cuda_backend::adagrad_step<T>({o.lr, o.lr_decay, o.weight_decay, o.eps, o.maximize},
                                          slots);
          });
    } else {
      cpu_step();
    }
  }

 private:
  // The host path: one fused SIMD pass per parameter.
  void cpu_step() {
    this->for_each_param([](const AdagradOptions& o, T* p, const T* g, const Shape& shape,
                            auto& st) {
      const double step = detail::next_step(st);
      const T clr = T(o.lr / (1 + (step - 1) * o.lr_decay)), eps = T(o.eps), wd = T(o.weight_decay);
      const bool maximize = o.maximize;
      T* sum = detail::state_buffer(st, "sum", shape, T(o.initial_accumulator_value));
      detail::fused_update(
          shape.numel(), g,
          [&](auto gi, auto& pi, auto& si) {
            auto d = maximize ? -gi : gi;
            if (wd != 0) d = d + wd * pi;
            si = si + d * d;
            pi = pi - clr * (d / (detail::vsqrt(si) + eps));
          },
          p, sum);
    });
  }
};

template <class T, class D>
Adagrad(std::vector<Var<T, D>>, AdagradOptions = {}) -> Adagrad<T, D>;
template <class T, class D>
Adagrad(std::initializer_list<Var<T, D>>, AdagradOptions = {}) -> Adagrad<T, D>;

}  // namespace etna::optim
