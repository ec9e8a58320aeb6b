// OneCycleLR (Smith's 1cycle policy): lr up from max_lr / div_factor to max_lr, then down to a
// tiny minimum, cycling momentum (or Adam's beta1) the other way; cos or linear annealing.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "etna/optim/lr_scheduler.hpp"

namespace etna::optim {

struct OneCycleLROptions {
  double max_lr = 0.1;           // the peak lr of every group
  std::int64_t total_steps = 0;  // or epochs * steps_per_epoch
  std::int64_t epochs = 0;
  std::int64_t steps_per_epoch = 0;
  double pct_start = 0.3;      // share of the steps spent increasing the lr
  bool linear_anneal = false;  // PyTorch's anneal_strategy: "cos" (false) or "linear"
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;         // initial lr = max_lr / div_factor
  double final_div_factor = 1e4;  // min lr = initial lr / final_div_factor
  bool three_phase = false;       // up, back down to the initial lr, then to the min lr
};

// Sets lr (and momentum: SGD's and RMSprop's `momentum`, Adam's `betas[0]`) at every step;
// stepping more than total_steps times is an error, as in PyTorch.
template <Optimizer O>
class OneCycleLR : public LRScheduler<O> {
 public:
  OneCycleLR(O& opt, OneCycleLROptions options) : LRScheduler<O>(opt), o_(options) {
    if (o_.total_steps <= 0) {
      if (o_.epochs <= 0 || o_.steps_per_epoch <= 0)
        throw value_error(etna::detail::str(
            "OneCycleLR: expected a positive total_steps, or positive epochs and steps_per_epoch, "
            "got "
            "total_steps ",
            o_.total_steps, ", epochs ", o_.epochs, ", steps_per_epoch ", o_.steps_per_epoch));
      o_.total_steps = o_.epochs * o_.steps_per_epoch;
    }
    if (!(o_.pct_start >= 0 && o_.pct_start <= 1))
      throw value_error(
          etna::detail::str("OneCycleLR: expected pct_start between 0 and 1, got ", o_.pct_start));
    const double initial = o_.max_lr / o_.div_factor, min_lr = initial / o_.final_div_factor;
    const double total = static_cast<double>(o_.total_steps), up = o_.pct_start * total - 1;
    if (o_.three_phase)
      phases_ = {
          {up, initial, o_.max_lr, o_.max_momentum, o_.base_momentum},
          {2 * o_.pct_start * total - 2, o_.max_lr, initial, o_.base_momentum, o_.max_momentum},
          {total - 1, initial, min_lr, o_.max_momentum, o_.max_momentum}};
    else
      phases_ = {{up, initial, o_.max_lr, o_.max_momentum, o_.base_momentum},
                 {total - 1, o_.max_lr, min_lr, o_.base_momentum, o_.max_momentum}};
    if (o_.cycle_momentum) {
      using Group = typename std::remove_cvref_t<decltype(opt.param_groups()[0])>;
      if constexpr (
          !requires(Group g) { g.betas[0]; } && !requires(Group g) { g.momentum; })
        throw value_error(
            "OneCycleLR: optimizer must support momentum with `cycle_momentum` option enabled");
    }
    this->apply();
    set_momentum();
  }
  void step() {
    if (this->last_epoch_ + 1 > o_.total_steps)
      throw value_error(etna::detail::str("OneCycleLR: tried to step ", this->last_epoch_ + 1,
                                          " times; the specified number of total steps is ",
                                          o_.total_steps));
    LRScheduler<O>::step();
    set_momentum();
  }

 protected:
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };
  // PyTorch's lookup: the first phase whose end is not passed (the last phase otherwise).
  template <class F>
  double in_phase(std::int64_t epoch, F value) const {
    double start = 0;
    const double step = static_cast<double>(epoch);
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      const auto& ph = phases_[i];
      if (step <= ph.end_step || i + 1 == phases_.size())
        return value(ph, (step - start) / (ph.end_step - start));
      start = ph.end_step;
    }
    return 0;
  }
  double anneal(double from, double to, double pct) const {
    if (o_.linear_anneal) return (to - from) * pct + from;
    return to + (from - to) / 2 * (std::cos(std::numbers::pi * pct) + 1);
  }
  double lr_at(double, std::int64_t epoch) const override {
    return in_phase(
        epoch, [&](const Phase& ph, double pct) { return anneal(ph.start_lr, ph.end_lr, pct); });
  }
  void set_momentum() {
    if (!o_.cycle_momentum) return;
    const double m = in_phase(this->last_epoch_, [&](const Phase& ph, double pct) {
      return anneal(ph.start_momentum, ph.end_momentum, pct);
    });
    for (auto& g : this->opt_.param_groups()) {
      if constexpr (requires { g.betas[0]; })
        g.betas[0] = m;
      else if constexpr (requires { g.momentum; })
        g.momentum = m;
    }
  }

  OneCycleLROptions o_;
  std::vector<Phase> phases_;
};

template <class O>
OneCycleLR(O&, OneCycleLROptions) -> OneCycleLR<O>;

}  // namespace etna::optim
