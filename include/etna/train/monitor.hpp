// What the monitoring callbacks share: Mode (is a bigger value better?), its Keras "auto" rule,
// and reading the monitored value out of the logs with an error that lists what is there.
#pragma once

#include <limits>
#include <string>

#include "etna/core/error.hpp"
#include "etna/train/logs.hpp"

namespace etna::train {

// min: lower is better (a loss); max: higher is better (an accuracy); automatic: max when the
// name contains "acc", "precision", "recall", "f1" or "auc", min otherwise (Keras's rule).
enum class Mode { automatic, min, max };

namespace detail {
inline bool higher_is_better(Mode mode, const std::string& monitor) {
  if (mode != Mode::automatic) return mode == Mode::max;
  for (const char* word : {"acc", "precision", "recall", "f1", "auc"})
    if (monitor.find(word) != std::string::npos) return true;
  return false;
}
inline double worst_value(bool higher_better) {
  return higher_better ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
}
// logs[monitor], or an error naming the callback, the key and the keys that exist.
inline double monitored_value(const Logs& logs, const std::string& monitor, const char* who) {
  if (auto it = logs.find(monitor); it != logs.end()) return it->second;
  std::string keys;
  for (const auto& k : ordered_keys(logs)) keys += (keys.empty() ? "" : ", ") + k;
  throw value_error(etna::detail::str(
      who, ": the monitored value '", monitor, "' is not in the logs (they have: ",
      keys.empty() ? "nothing" : keys, ")",
      monitor.rfind("val_", 0) == 0 ? "; give fit a validation loader (.val) or monitor 'loss'"
                                    : ""));
}
}  // namespace detail

}  // namespace etna::train
