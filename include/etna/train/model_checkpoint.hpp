// ModelCheckpoint: writes the model to a safetensors file at the end of every epoch or of each
// improving one (Keras's every-epoch / save_best_only rules) and keeps the best weights in memory.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <system_error>

#include "etna/core/error.hpp"
#include "etna/train/callback.hpp"
#include "etna/train/monitor.hpp"

namespace etna::train {

// At the end of each epoch a checkpoint is due: every epoch, or with save_best_only only when
// the monitored value is strictly better than the best so far (Keras; no min_delta). A due
// checkpoint is written while the model holds that epoch's weights: by default with
// et::io::save (the model's state_dict as safetensors with PyTorch's names, written atomically;
// load it back with et::io::load), the folders of the path created as needed. A `save`
// function replaces that (to add metadata, or write a resumable checkpoint), for example
//   .save = [&](const std::string& p) { et::io::save(net, p, {{"run", "baseline"}}); }
// Whenever the monitored value is in the logs, the best epoch's weights are also kept in
// memory (best_weights, restore_best()).
// path: a file name, or a folder ending in '/' (then "best.safetensors" with save_best_only,
// else "epoch_{epoch}.safetensors"); "{epoch}" becomes the 1-based epoch number, as in Keras.
struct ModelCheckpoint {
  std::string path = {};
  std::string monitor = "val_loss";
  bool save_best_only = false;
  Mode mode = Mode::automatic;
  std::function<void(const std::string& path)> save = {};

  // ---- state: set by the callback, readable after fit ----
  double best = 0;
  int best_epoch = -1;                   // -1: no monitored value seen yet
  WeightSnapshot best_weights = {};
  std::string last_saved = {};           // the path of the last due checkpoint

  void on_train_begin(TrainState&) {
    best = detail::worst_value(detail::higher_is_better(mode, monitor));
    best_epoch = -1;
    best_weights = {};
    last_saved.clear();
  }

  void on_epoch_end(int epoch, Logs& logs, TrainState& state) {
    const bool has_value = logs.count(monitor) > 0;
    if (save_best_only && !has_value)  // throws, naming what the logs do have
      (void)detail::monitored_value(logs, monitor, "ModelCheckpoint");
    bool improved = false;
    if (has_value) {
      const double current = logs.at(monitor);
      improved = detail::higher_is_better(mode, monitor) ? current > best : current < best;
      if (improved) {
        best = current;
        best_epoch = epoch;
        if (state.model.defined()) best_weights = state.model.snapshot();
      }
    }
    if (!save_best_only || improved) {
      last_saved = file_for(epoch);
      if (save) save(last_saved);
      else write(last_saved, state);
    }
  }

  // Copies the best epoch's weights back into the model.
  void restore_best() const {
    if (best_weights.empty())
      throw value_error("ModelCheckpoint::restore_best: no best weights kept (the monitored '" +
                        monitor + "' was never in the logs, or fit has not run)");
    best_weights.restore();
  }

  // The default save: et::io::save through the TrainState's model.
  static void write(const std::string& file, const TrainState& state) {
    if (!state.model.defined())
      throw value_error("ModelCheckpoint: no model to write '" + file +
                        "' (TrainState::model unset) and no save function");
    const std::filesystem::path folder = std::filesystem::path(file).parent_path();
    std::error_code ec;
    if (!folder.empty()) std::filesystem::create_directories(folder, ec);
    if (ec)
      throw io_error("ModelCheckpoint: cannot create the folder '" + folder.string() + "' for '" +
                     file + "': " + ec.message());
    state.model.save(file);
  }

  // The file a checkpoint of `epoch` (0-based) goes to.
  std::string file_for(int epoch) const {
    std::string p = path;
    if (p.empty() || p.back() == '/')
      p += save_best_only ? "best.safetensors" : "epoch_{epoch}.safetensors";
    const std::string key = "{epoch}";
    for (auto at = p.find(key); at != std::string::npos; at = p.find(key, at))
      p.replace(at, key.size(), std::to_string(epoch + 1));
    return p;
  }
};

}  // namespace etna::train
