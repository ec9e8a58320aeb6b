// TensorBoard: fit's callback that writes the epoch logs, the learning rate and weight
// histograms as TensorBoard event files (Keras's callback and run layout), via SummaryWriter.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/log/summary_writer.hpp"
#include "etna/train/callback.hpp"

namespace etna::train {

// How often TensorBoard writes batch-level scalars: "epoch" (never), "batch" (every batch) or
// every N optimizer steps (Keras's update_freq).
class UpdateFreq {
 public:
  UpdateFreq(const char* name) : UpdateFreq(std::string(name)) {}  // NOLINT: implicit
  UpdateFreq(const std::string& name) {                            // NOLINT: implicit
    if (name == "batch") batches_ = 1;
    else if (name != "epoch")
      throw value_error("TensorBoard: update_freq must be \"epoch\", \"batch\" or a number of "
                        "batches, got \"" + name + "\"");
  }
  template <std::integral I>
  UpdateFreq(I batches) : batches_(static_cast<std::int64_t>(batches)) {  // NOLINT: implicit
    if (batches < 1)
      throw value_error(etna::detail::str("TensorBoard: update_freq must be >= 1 batch, got ",
                                          static_cast<std::int64_t>(batches)));
  }
  std::int64_t batches() const { return batches_; }  // 0: epoch-level only

 private:
  std::int64_t batches_ = 0;
};

// Layout (Keras's): two runs under log_dir, "train" and "validation", with the same tags, so
// TensorBoard draws the training and validation curve of a metric in one chart:
//   logs["loss"]      -> <log_dir>/train       tag "epoch_loss"      step = epoch (0-based)
//   logs["val_loss"]  -> <log_dir>/validation  tag "epoch_loss"
//   logs["lr"]        -> <log_dir>/train       tag "epoch_learning_rate" (if write_lr)
//   any other key k   -> "epoch_" + k in train ("val_" + k in validation); a key that starts
//                        with "epoch_" already keeps its name
//   every histogram_freq epochs (0: never): one histogram per parameter in train, tagged with
//     its PyTorch name ("1.weight"), at step = epoch, from epoch 0 on
//   update_freq "batch" or N: the epoch's running logs as "batch_loss", ... in train, at
//     step = TrainState::global_step, every N optimizer steps
//
// One metrics source: this callback computes nothing. It writes the Logs that fit hands to
// every callback, the same map CSVLogger writes as a row and History records, so the CSV, the
// TensorBoard charts and the returned History agree by construction (TensorBoard stores a
// scalar as float, CSV the full double). Values another callback adds to the logs (a timer's
// "epoch_time_s") reach both when that callback comes first in FitOptions::callbacks.
//
// Copies share one pair of writers (shared_ptr), as CSVLogger shares its file. The files are
// flushed at the end of every epoch, so a running job can be watched, and closed at the end of
// training.
struct TensorBoard {
  std::string log_dir = "logs";
  int histogram_freq = 0;
  bool write_lr = true;
  UpdateFreq update_freq = "epoch";
  logging::SummaryWriterOptions writer_options = {};

  struct Writers {
    std::unique_ptr<logging::SummaryWriter> train, validation;  // validation made on first use
  };
  // ---- state ----
  std::shared_ptr<Writers> writers = {};

  // Which run and tag a Logs key is written under (see the layout above); "" run for a key
  // that is not written (lr with write_lr = false).
  std::pair<std::string, std::string> scalar_tag(const std::string& key) const {
    if (key == "lr")
      return write_lr ? std::pair{std::string("train"), std::string("epoch_learning_rate")}
                      : std::pair{std::string(), std::string()};
    const bool val = key.rfind("val_", 0) == 0;
    std::string name = val ? key.substr(4) : key;
    if (name.rfind("epoch_", 0) != 0) name = "epoch_" + name;  // "epoch_time_s" stays as it is
    return {val ? "validation" : "train", std::move(name)};
  }

  void on_train_begin(TrainState&) {
    if (histogram_freq < 0)
      throw value_error(etna::detail::str("TensorBoard: histogram_freq must be >= 0, got ",
                                          histogram_freq));
    close();
    writers = std::make_shared<Writers>();
    writers->train = std::make_unique<logging::SummaryWriter>(run_dir("train"), writer_options);
  }

  void on_batch_end(std::int64_t, const Logs& logs, TrainState& state) {
    const std::int64_t every = update_freq.batches();
    if (every == 0 || state.global_step % every != 0) return;
    auto& w = train_writer(state);
    for (const auto& [key, value] : logs) w.add_scalar("batch_" + key, value, state.global_step);
  }

  void on_epoch_end(int epoch, const Logs& logs, TrainState& state) {
    train_writer(state);
    for (const auto& [key, value] : logs) {
      const auto [run, tag] = scalar_tag(key);
      if (run == "train") writers->train->add_scalar(tag, value, epoch);
      else if (run == "validation") validation_writer().add_scalar(tag, value, epoch);
    }
    if (histogram_freq > 0 && epoch % histogram_freq == 0) {
      if (!state.model.defined())
        throw value_error("TensorBoard: histogram_freq > 0 needs the model, and TrainState::model "
                          "is unset (is the callback called outside fit?)");
      for (const auto& [name, values] : state.model.named_parameters())
        writers->train->add_histogram(name, values, epoch);
    }
    writers->train->flush();
    if (writers->validation) writers->validation->flush();
  }

  void on_train_end() { close(); }

  // Flushes and closes the files (on_train_end does it; idempotent).
  void close() {
    if (!writers) return;
    auto w = std::exchange(writers, nullptr);
    if (w->train) w->train->close();
    if (w->validation) w->validation->close();
  }

 private:
  std::string run_dir(const char* run) const {
    return (std::filesystem::path(log_dir) / run).string();
  }
  // Callbacks may be driven without on_train_begin (tests, a hand-written loop).
  logging::SummaryWriter& train_writer(TrainState& state) {
    if (!writers) on_train_begin(state);
    return *writers->train;
  }
  logging::SummaryWriter& validation_writer() {
    if (!writers->validation)
      writers->validation =
          std::make_unique<logging::SummaryWriter>(run_dir("validation"), writer_options);
    return *writers->validation;
  }
};

}  // namespace etna::train
