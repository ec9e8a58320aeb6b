// LRSchedulerCallback: steps any etna learning-rate schedule from fit, once per epoch (or per
// batch), feeding ReduceLROnPlateau-like schedules the monitored value.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "etna/train/callback.hpp"
#include "etna/train/monitor.hpp"

namespace etna::train {

// Holds the schedule by reference (it must outlive fit). A schedule whose step takes a value
// (ReduceLROnPlateau) gets logs[monitor] at each epoch end; any other is stepped with step().
// The "lr" fit logs for an epoch is the one that epoch trained with: fit reads it before the
// callbacks run, so this step sets the next epoch's lr.
class LRSchedulerCallback {
 public:
  template <class Scheduler>
    requires requires(Scheduler& s) { s.step(); } || requires(Scheduler& s) { s.step(1.0); }
  explicit LRSchedulerCallback(Scheduler& scheduler, std::string monitor = "val_loss")
      : monitor_(std::move(monitor)) {
    if constexpr (requires { scheduler.step(1.0); })
      step_ = [&scheduler](const Logs& logs, const std::string& key) {
        scheduler.step(detail::monitored_value(logs, key, "LRSchedulerCallback"));
      };
    else step_ = [&scheduler](const Logs&, const std::string&) { scheduler.step(); };
  }

  // For schedules counted in iterations (OneCycleLR, a warm-up): step() after every batch.
  template <class Scheduler>
    requires requires(Scheduler& s) { s.step(); }
  static LRSchedulerCallback per_batch(Scheduler& scheduler) {
    LRSchedulerCallback cb(scheduler);
    cb.per_batch_ = true;
    return cb;
  }

  void on_batch_end(std::int64_t, const Logs& logs) {
    if (per_batch_) step_(logs, monitor_);
  }
  void on_epoch_end(int, Logs& logs) {
    if (!per_batch_) step_(logs, monitor_);
  }
  const std::string& monitor() const { return monitor_; }
  bool steps_per_batch() const { return per_batch_; }

 private:
  std::function<void(const Logs&, const std::string&)> step_;
  std::string monitor_;
  bool per_batch_ = false;
};

}  // namespace etna::train
