// Sparsity schedules for gradual pruning, as TensorFlow Model Optimization's: the target
// sparsity at a training step, and whether to prune at that step; plus iterative_prune, the
// prune-then-fine-tune loop over a list of sparsities.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/prune/global.hpp"

namespace etna::prune {

namespace detail {
// Whether `step` is a pruning step: in [begin, end] (end = -1: no end) on the frequency grid.
inline bool on_schedule(std::int64_t step, std::int64_t begin, std::int64_t end,
                        std::int64_t frequency) {
  return step >= begin && (end < 0 || step <= end) && frequency > 0 &&
         (step - begin) % frequency == 0;
}
}  // namespace detail

// Zhu & Gupta (2017), "To prune, or not to prune": from initial_sparsity at begin_step to
// final_sparsity at end_step, s_t = s_f + (s_i - s_f) (1 - (t - t0) / (end - t0))^power, fast
// at first and slower as fewer weights are left; initial before, final after.
struct PolynomialSchedule {
  double initial_sparsity = 0.0;
  double final_sparsity = 0.9;
  std::int64_t begin_step = 0;
  std::int64_t end_step = 1000;
  std::int64_t frequency = 100;  // prune every `frequency` steps from begin_step on
  double power = 3;

  double sparsity_at(std::int64_t step) const {
    validate();
    const double progress = std::clamp(
        static_cast<double>(step - begin_step) / static_cast<double>(end_step - begin_step), 0.0,
        1.0);
    return final_sparsity + (initial_sparsity - final_sparsity) * std::pow(1.0 - progress, power);
  }
  bool should_prune(std::int64_t step) const {
    return detail::on_schedule(step, begin_step, end_step, frequency);
  }
  void validate() const {
    if (!(initial_sparsity >= 0 && initial_sparsity <= 1 && final_sparsity >= 0 &&
          final_sparsity <= 1) ||
        end_step <= begin_step || frequency <= 0 || !(power > 0))
      throw value_error(etna::detail::str(
          "prune::PolynomialSchedule: sparsities must be in [0, 1] (", initial_sparsity, ", ",
          final_sparsity, "), begin_step < end_step (", begin_step, ", ", end_step,
          "), frequency > 0 (", frequency, ") and power > 0 (", power, ")"));
  }
};

// The same with power 1: a straight line from initial to final sparsity.
struct LinearSchedule {
  double initial_sparsity = 0.0;
  double final_sparsity = 0.9;
  std::int64_t begin_step = 0;
  std::int64_t end_step = 1000;
  std::int64_t frequency = 100;

  double sparsity_at(std::int64_t step) const {
    return PolynomialSchedule{initial_sparsity, final_sparsity, begin_step, end_step, frequency, 1}
        .sparsity_at(step);
  }
  bool should_prune(std::int64_t step) const {
    return detail::on_schedule(step, begin_step, end_step, frequency);
  }
};

// One target sparsity from begin_step to end_step (-1: no end), every `frequency` steps.
struct ConstantSchedule {
  double target_sparsity = 0.5;
  std::int64_t begin_step = 0;
  std::int64_t end_step = -1;
  std::int64_t frequency = 100;

  double sparsity_at(std::int64_t /*step*/) const {
    if (!(target_sparsity >= 0 && target_sparsity <= 1))
      throw value_error(etna::detail::str("prune::ConstantSchedule: target_sparsity ",
                                          target_sparsity, " should be in [0, 1]"));
    return target_sparsity;
  }
  bool should_prune(std::int64_t step) const {
    return detail::on_schedule(step, begin_step, end_step, frequency);
  }
};

// Gradual pruning inside a training loop: call after each optimizer step; on the schedule's
// pruning steps it prunes the parameters `names` together (global magnitude) up to the
// schedule's sparsity. Returns whether it pruned.
template <class M, class Schedule>
bool step_schedule(M& net, const std::vector<std::string>& names, const Schedule& schedule,
                   std::int64_t step) {
  if (!schedule.should_prune(step)) return false;
  prune_to_sparsity(net, names, schedule.sparsity_at(step));
  return true;
}

// Gradual pruning inside et::train::fit: a callback that counts optimizer steps and calls
// step_schedule after each batch, so the net reaches the schedule's sparsity while it trains.
//   et::train::fit(net, opt, loss, loader, {.callbacks = {prune::GradualPruning{&net,
//       {"*.weight"}, prune::PolynomialSchedule{0.0, 0.9, 0, 5000, 100}}}});
template <class M, class Schedule>
struct GradualPruning {
  M* net = nullptr;
  std::vector<std::string> names;
  Schedule schedule;
  std::int64_t step = 0;  // optimizer steps seen so far

  template <class Logs>
  void on_batch_end(std::int64_t /*batch*/, const Logs& /*logs*/) {
    step_schedule(*net, names, schedule, ++step);
  }
};

// Prune-and-fine-tune: for each sparsity in turn, prunes the parameters `names` together
// (global magnitude) up to it, then calls fine_tune(round, sparsity) (the masks keep the pruned
// weights at zero while it trains).
template <class M, class FineTune>
void iterative_prune(M& net, const std::vector<std::string>& names,
                     const std::vector<double>& sparsities, FineTune&& fine_tune) {
  for (std::size_t round = 0; round < sparsities.size(); ++round) {
    prune_to_sparsity(net, names, sparsities[round]);
    fine_tune(static_cast<int>(round), sparsities[round]);
  }
}

}  // namespace etna::prune
