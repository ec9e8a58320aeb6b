// Learning-rate schedules that rewrite the lr of every parameter group of an optimizer:
// StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR and OneCycleLR.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "etna/optim/optimizer.hpp"

namespace etna::optim {

// What a checkpoint saves of a schedule: its counters by name ("last_epoch"; ReduceLROnPlateau
// adds "best", "num_bad_epochs", "cooldown_counter") and the base lr of each group.
struct SchedulerState {
  std::map<std::string, double> values;
  std::vector<double> base_lrs;
};

// The shared mechanics: base_lrs are the groups' lrs at construction; step() advances the
// epoch (or iteration) counter and sets every group's lr to lr_at(base_lr, epoch). The
// schedules use PyTorch's closed forms, so each lr depends only on the base lr and the count:
// an lr written by hand between steps is replaced at the next step (PyTorch's chainable
// form would multiply it instead).
template <Optimizer O>
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  void step() {
    ++last_epoch_;
    apply();
  }
  // The lr of each group after the last step() (or the construction).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  std::int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  SchedulerState state_dict() const {
    return {{{"last_epoch", static_cast<double>(last_epoch_)}}, base_lrs_};
  }
  // Restores the step count and base lrs, and get_last_lr() with them; the groups' lrs come
  // back with the optimizer's own load_state_dict, and the next step() continues the saved
  // schedule.
  void load_state_dict(const SchedulerState& state) {
    for (const auto& [key, value] : state.values)
      if (key != "last_epoch")
        throw value_error(
            etna::detail::str("load_state_dict: unknown scheduler state '", key, "'"));
    if (!state.values.count("last_epoch"))
      throw value_error("load_state_dict: the scheduler state lacks 'last_epoch'");
    if (state.base_lrs.size() != opt_.param_groups().size())
      throw value_error(etna::detail::str("load_state_dict: the scheduler state has ",
                                          state.base_lrs.size(), " base lrs, the optimizer has ",
                                          opt_.param_groups().size(), " parameter groups"));
    last_epoch_ = static_cast<std::int64_t>(state.values.at("last_epoch"));
    base_lrs_ = state.base_lrs;
    last_lr_.clear();
    for (double base : base_lrs_) last_lr_.push_back(lr_at(base, last_epoch_));
  }

 protected:
  explicit LRScheduler(O& opt) : opt_(opt) {
    for (const auto& g : opt_.param_groups()) base_lrs_.push_back(g.lr);
  }
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;
  // Sets the lrs for the current epoch; each constructor calls it once (epoch 0), as
  // PyTorch's constructor takes its initial step.
  void apply() {
    last_lr_.clear();
    auto& groups = opt_.param_groups();
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const double base = i < base_lrs_.size() ? base_lrs_[i] : groups[i].lr;
      groups[i].lr = lr_at(base, last_epoch_);
      last_lr_.push_back(groups[i].lr);
    }
  }

  O& opt_;
  std::int64_t last_epoch_ = 0;
  std::vector<double> base_lrs_, last_lr_;
};

struct StepLROptions {
  std::int64_t step_size = 1;
  double gamma = 0.1;
};
// lr = base_lr * gamma^floor(epoch / step_size).
template <Optimizer O>
class StepLR : public LRScheduler<O> {
 public:
  StepLR(O& opt, StepLROptions options) : LRScheduler<O>(opt), o_(options) {
    if (o_.step_size < 1)
      throw value_error(
          etna::detail::str("StepLR: step_size must be positive, got ", o_.step_size));
    this->apply();
  }

 protected:
  double lr_at(double base, std::int64_t epoch) const override {
    return base * std::pow(o_.gamma, static_cast<double>(epoch / o_.step_size));
  }
  StepLROptions o_;
};

struct MultiStepLROptions {
  std::vector<std::int64_t> milestones;
  double gamma = 0.1;
};
// lr = base_lr * gamma^(number of milestones <= epoch); a repeated milestone counts twice.
template <Optimizer O>
class MultiStepLR : public LRScheduler<O> {
 public:
  MultiStepLR(O& opt, MultiStepLROptions options) : LRScheduler<O>(opt), o_(std::move(options)) {
    std::sort(o_.milestones.begin(), o_.milestones.end());
    this->apply();
  }

 protected:
  double lr_at(double base, std::int64_t epoch) const override {
    const auto passed =
        std::upper_bound(o_.milestones.begin(), o_.milestones.end(), epoch) - o_.milestones.begin();
    return base * std::pow(o_.gamma, static_cast<double>(passed));
  }
  MultiStepLROptions o_;
};

struct ExponentialLROptions {
  double gamma = 0.1;
};
// lr = base_lr * gamma^epoch.
template <Optimizer O>
class ExponentialLR : public LRScheduler<O> {
 public:
  ExponentialLR(O& opt, ExponentialLROptions options) : LRScheduler<O>(opt), o_(options) {
    this->apply();
  }

 protected:
  double lr_at(double base, std::int64_t epoch) const override {
    return base * std::pow(o_.gamma, static_cast<double>(epoch));
  }
  ExponentialLROptions o_;
};

struct CosineAnnealingLROptions {
  std::int64_t T_max = 1;  // NOLINT: PyTorch's name
  double eta_min = 0;
};
// lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2: half a cosine down to
// eta_min over T_max steps, then back up (periodic, as PyTorch without restarts).
template <Optimizer O>
class CosineAnnealingLR : public LRScheduler<O> {
 public:
  CosineAnnealingLR(O& opt, CosineAnnealingLROptions options) : LRScheduler<O>(opt), o_(options) {
    if (o_.T_max < 1)
      throw value_error(
          etna::detail::str("CosineAnnealingLR: T_max must be positive, got ", o_.T_max));
    this->apply();
  }

 protected:
  double lr_at(double base, std::int64_t epoch) const override {
    const double phase =
        std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(o_.T_max);
    return o_.eta_min + (base - o_.eta_min) * (1 + std::cos(phase)) / 2;
  }
  CosineAnnealingLROptions o_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  std::int64_t total_iters = 5;
};
// Warm-up: lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
template <Optimizer O>
class LinearLR : public LRScheduler<O> {
 public:
  LinearLR(O& opt, LinearLROptions options = {}) : LRScheduler<O>(opt), o_(options) {
    if (!(o_.start_factor > 0 && o_.start_factor <= 1))
      throw value_error(
          "LinearLR: starting multiplicative factor expected to be greater than 0 "
          "and less or equal to 1.");
    if (!(o_.end_factor >= 0 && o_.end_factor <= 1))
      throw value_error("LinearLR: ending multiplicative factor expected to be between 0 and 1.");
    if (o_.total_iters < 1)
      throw value_error(
          etna::detail::str("LinearLR: total_iters must be positive, got ", o_.total_iters));
    this->apply();
  }

 protected:
  double lr_at(double base, std::int64_t epoch) const override {
    const double t =
        static_cast<double>(std::min(epoch, o_.total_iters)) / static_cast<double>(o_.total_iters);
    return base * (o_.start_factor + (o_.end_factor - o_.start_factor) * t);
  }
  LinearLROptions o_;
};

template <class O>
StepLR(O&, StepLROptions) -> StepLR<O>;
template <class O>
MultiStepLR(O&, MultiStepLROptions) -> MultiStepLR<O>;
template <class O>
ExponentialLR(O&, ExponentialLROptions) -> ExponentialLR<O>;
template <class O>
CosineAnnealingLR(O&, CosineAnnealingLROptions) -> CosineAnnealingLR<O>;
template <class O>
LinearLR(O&, LinearLROptions) -> LinearLR<O>;
template <class O>
LinearLR(O&) -> LinearLR<O>;

}  // namespace etna::optim
