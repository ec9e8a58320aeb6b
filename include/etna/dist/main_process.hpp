// Rank-0 helpers for a data-parallel train::fit: one progress bar, one log, one checkpoint
// writer, and epoch logs averaged over the ranks so that callbacks that decide (EarlyStopping,
// ReduceLROnPlateau) decide the same on every rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etna/core/tensor.hpp"
#include "etna/dist/collectives.hpp"
#include "etna/dist/process_group.hpp"
#include "etna/train/callback.hpp"
#include "etna/train/fit.hpp"

namespace etna::dist {

// Runs f() on rank 0 only (or in a process that never called init()).
template <class F>
void run_on_main(F&& f) {
  if (is_main_process()) std::forward<F>(f)();
}

namespace detail {
struct MainProcessOnly {
  train::AnyCallback inner;
  void on_train_begin(train::TrainState& s) {
    if (is_main_process()) inner.on_train_begin(s);
  }
  void on_train_end(train::TrainState& s) {
    if (is_main_process()) inner.on_train_end(s);
  }
  void on_epoch_begin(int e, train::TrainState& s) {
    if (is_main_process()) inner.on_epoch_begin(e, s);
  }
  void on_epoch_end(int e, train::Logs& logs, train::TrainState& s) {
    if (is_main_process()) inner.on_epoch_end(e, logs, s);
  }
  void on_batch_end(std::int64_t b, const train::Logs& logs, train::TrainState& s) {
    if (is_main_process()) inner.on_batch_end(b, logs, s);
  }
};
}  // namespace detail

// A callback that runs only on rank 0: ModelCheckpoint, CsvLogger, TensorBoard... (one file
// writer per job). Never wrap a callback that stops training or changes the learning rate:
// every rank must take the same steps, or the others wait in a collective until the timeout.
inline train::AnyCallback main_process_only(train::AnyCallback callback) {
  return train::AnyCallback(detail::MainProcessOnly{std::move(callback)});
}

// Averages every epoch log value over the ranks (each rank's loss and accuracy are of its own
// shard). Put it first in FitOptions::callbacks so the callbacks after it see the job's values;
// fit's printed epoch line comes before the callbacks and stays rank 0's own. The values
// travel as a host tensor: with an NCCL default group (device memory only) give it the MPI
// one, SyncLogs{.group = dist::world_group()}.
struct SyncLogs {
  std::shared_ptr<ProcessGroup> group = nullptr;  // null: the default group
  void on_epoch_end(int, train::Logs& logs, train::TrainState&) {
    const std::shared_ptr<ProcessGroup> g = group ? group : default_group();
    if (!g || g->size() == 1 || logs.empty()) return;  // a single process: nothing to average
    Tensor<double, cpu> values =
        Tensor<double, cpu>::allocate(Shape({static_cast<std::int64_t>(logs.size())}));
    std::size_t i = 0;
    for (const auto& [key, v] : logs) values.data()[i++] = v;  // same keys on every rank
    all_reduce(values, ReduceOp::avg, *g);
    i = 0;
    for (auto& [key, v] : logs) v = values.data()[i++];
  }
};

// FitOptions for this rank: rank 0 keeps them; the other ranks print nothing (verbose = 0).
inline train::FitOptions fit_options_for_rank(train::FitOptions options) {
  if (!is_main_process()) options.verbose = 0;
  return options;
}

}  // namespace etna::dist
