// EarlyStopping: ends fit when a monitored value has stopped improving, with Keras's exact
// semantics (patience, min_delta, mode, baseline, start_from_epoch, restore_best_weights).
#pragma once

#include <cmath>
#include <optional>
#include <ostream>
#include <string>

#include "etna/train/callback.hpp"
#include "etna/train/monitor.hpp"

namespace etna::train {

// At the end of each epoch (from start_from_epoch on) `wait` counts the epochs since the last
// improvement; an improvement is current < best - min_delta (mode min) or current > best +
// min_delta (mode max); it resets wait to 0 (only if it also beats `baseline`, when one is
// given) and never stops training itself (Keras 3). On an epoch without improvement, other than
// the first, wait >= patience stops training after that epoch: patience = 3 and a best epoch 4
// stop training at the end of epoch 7 (0-based).
// restore_best_weights: at the end of training (stopped or not) the weights of the best epoch
// are copied back; if no epoch ever improved, those of the first monitored epoch.
// An aggregate, so `EarlyStopping{.monitor = "val_accuracy", .patience = 5}` reads as Keras.
struct EarlyStopping {
  std::string monitor = "val_loss";
  Mode mode = Mode::automatic;
  int patience = 0;
  double min_delta = 0;                  // its absolute value is used, as in Keras
  bool restore_best_weights = false;
  std::optional<double> baseline = {};   // a value the monitored one must beat to reset `wait`
  int start_from_epoch = 0;              // epochs before this one are not monitored (warm-up)
  bool verbose = false;                  // print "Epoch 8: early stopping" to TrainState::out

  // ---- state: set by the callback, readable after fit (Keras's attributes) ----
  int wait = 0;
  int stopped_epoch = 0;                 // 0-based epoch after which training stopped; 0: never
  int best_epoch = 0;
  double best = 0;
  WeightSnapshot best_weights = {};

  void on_train_begin(TrainState&) {
    wait = 0;
    stopped_epoch = 0;
    best_epoch = 0;
    best = detail::worst_value(higher_better());
    best_weights = {};
  }

  void on_epoch_end(int epoch, Logs& logs, TrainState& state) {
    const double current = detail::monitored_value(logs, monitor, "EarlyStopping");
    if (epoch < start_from_epoch) return;
    if (restore_best_weights && best_weights.empty()) {  // the first epoch counts as best
      best_weights = snapshot(state);
      best_epoch = epoch;
    }
    ++wait;
    if (is_improvement(current, best)) {
      best = current;
      best_epoch = epoch;
      if (restore_best_weights) best_weights = snapshot(state);
      if (!baseline || is_improvement(current, *baseline)) wait = 0;
      return;
    }
    if (wait >= patience && epoch > 0) {
      stopped_epoch = epoch;
      state.stop_training = true;
    }
  }

  void on_train_end(TrainState& state) {
    if (verbose && stopped_epoch > 0 && state.out)
      *state.out << "Epoch " << stopped_epoch + 1 << ": early stopping\n";
    if (restore_best_weights && !best_weights.empty()) {
      if (verbose && state.out)
        *state.out << "Restoring model weights from the end of the best epoch: "
                   << best_epoch + 1 << ".\n";
      best_weights.restore();
    }
  }

  bool higher_better() const { return detail::higher_is_better(mode, monitor); }
  bool is_improvement(double current, double reference) const {
    const double delta = std::abs(min_delta);
    return higher_better() ? current - delta > reference : current + delta < reference;
  }

 private:  // only static members: EarlyStopping stays an aggregate
  static WeightSnapshot snapshot(TrainState& state) {
    if (!state.model.defined())
      throw value_error(
          "EarlyStopping: restore_best_weights needs the model (TrainState::model); fit sets it");
    return state.model.snapshot();
  }
};

}  // namespace etna::train
