// ReduceLROnPlateau: multiplies every group's lr by `factor` when a watched metric (a
// validation loss, an accuracy) has stopped improving for `patience` steps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "etna/optim/lr_scheduler.hpp"

namespace etna::optim {

struct ReduceLROnPlateauOptions {
  bool mode_max = false;       // PyTorch's mode: "min" (a loss, false) or "max" (true)
  double factor = 0.1;         // new lr = lr * factor
  std::int64_t patience = 10;  // bad steps tolerated before a reduction
  double threshold = 1e-4;     // what counts as an improvement, see threshold_abs
  bool threshold_abs = false;  // PyTorch's threshold_mode: "rel" (false) or "abs" (true)
  std::int64_t cooldown = 0;   // steps after a reduction before bad steps count again
  double min_lr = 0;           // lr floor, every group
  double eps = 1e-8;           // a reduction smaller than this is skipped
};

// Improvement (mode min): metric < best * (1 - threshold) (rel) or < best - threshold (abs);
// mode max: metric > best * (1 + threshold) or > best + threshold.
template <Optimizer O>
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(O& opt, ReduceLROnPlateauOptions options = {}) : opt_(opt), o_(options) {
    if (!(o_.factor < 1))
      throw value_error(
          etna::detail::str("ReduceLROnPlateau: factor should be < 1.0, got ", o_.factor));
    if (o_.patience < 0 || o_.cooldown < 0)
      throw value_error("ReduceLROnPlateau: patience and cooldown must be >= 0");
    best_ = worst();
    for (const auto& g : opt_.param_groups()) last_lr_.push_back(g.lr);
  }

  void step(double metric) {
    ++last_epoch_;
    if (better(metric)) {
      best_ = metric;
      bad_steps_ = 0;
    } else {
      ++bad_steps_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      bad_steps_ = 0;
    }
    if (bad_steps_ > o_.patience) {
      for (auto& g : opt_.param_groups()) {
        const double reduced = std::max(g.lr * o_.factor, o_.min_lr);
        if (g.lr - reduced > o_.eps) g.lr = reduced;
      }
      cooldown_counter_ = o_.cooldown;
      bad_steps_ = 0;
    }
    last_lr_.clear();
    for (const auto& g : opt_.param_groups()) last_lr_.push_back(g.lr);
  }

  const std::vector<double>& get_last_lr() const { return last_lr_; }
  double best() const { return best_; }
  std::int64_t num_bad_epochs() const { return bad_steps_; }
  std::int64_t last_epoch() const { return last_epoch_; }

  SchedulerState state_dict() const {
    return {{{"last_epoch", static_cast<double>(last_epoch_)},
             {"best", best_},
             {"num_bad_epochs", static_cast<double>(bad_steps_)},
             {"cooldown_counter", static_cast<double>(cooldown_counter_)}},
            {}};
  }
  void load_state_dict(const SchedulerState& state) {
    static const char* const keys[] = {"last_epoch", "best", "num_bad_epochs", "cooldown_counter"};
    for (const auto& [key, value] : state.values)
      if (std::find_if(std::begin(keys), std::end(keys), [&key = key](const char* k) { return key == k; }) ==
          std::end(keys))
        throw value_error(
            etna::detail::str("ReduceLROnPlateau.load_state_dict: unknown state '", key, "'"));
    for (const char* key : keys)
      if (!state.values.count(key))
        throw value_error(
            etna::detail::str("ReduceLROnPlateau.load_state_dict: missing state '", key, "'"));
    last_epoch_ = static_cast<std::int64_t>(state.values.at("last_epoch"));
    best_ = state.values.at("best");
    bad_steps_ = static_cast<std::int64_t>(state.values.at("num_bad_epochs"));
    cooldown_counter_ = static_cast<std::int64_t>(state.values.at("cooldown_counter"));
    // The lrs live in the optimizer's state (load it first, as load_checkpoint does).
    last_lr_.clear();
    for (const auto& g : opt_.param_groups()) last_lr_.push_back(g.lr);
  }

 private:
  double worst() const {
    return o_.mode_max ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  }
  bool better(double a) const {
    if (o_.mode_max)
      return o_.threshold_abs ? a > best_ + o_.threshold : a > best_ * (1 + o_.threshold);
    return o_.threshold_abs ? a < best_ - o_.threshold : a < best_ * (1 - o_.threshold);
  }

  O& opt_;
  ReduceLROnPlateauOptions o_;
  double best_ = 0;
  std::int64_t bad_steps_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
  std::vector<double> last_lr_;
};

template <class O>
ReduceLROnPlateau(O&, ReduceLROnPlateauOptions) -> ReduceLROnPlateau<O>;
template <class O>
ReduceLROnPlateau(O&) -> ReduceLROnPlateau<O>;

}  // namespace etna::optim
