// The per-epoch log record shared by fit, callbacks and the progress bar (Keras's `logs` dict):
// its type, the canonical order of its keys and how its values are printed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace etna::train {

// "loss", "accuracy", "val_loss", "val_accuracy", "lr", ... -> value. An ordered map, so that
// output built from it does not depend on insertion order.
using Logs = std::map<std::string, double>;

namespace detail {
// Sort key of a log entry: training values, then their validation twins, then lr; within each
// group loss, accuracy, then other names alphabetically. The default logs thus read
// loss, accuracy, val_loss, val_accuracy, lr (the CSV header).
inline std::tuple<int, int, std::string> key_order(const std::string& key) {
  if (key == "lr") return {2, 0, ""};
  const bool val = key.rfind("val_", 0) == 0;
  std::string name = val ? key.substr(4) : key;
  const int rank = name == "loss" ? 0 : name == "accuracy" ? 1 : 2;
  return {val ? 1 : 0, rank, std::move(name)};
}
}  // namespace detail

// The keys of `logs` in canonical order (see key_order).
inline std::vector<std::string> ordered_keys(const Logs& logs) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : logs) keys.push_back(k);
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return detail::key_order(a) < detail::key_order(b);
  });
  return keys;
}

// Four decimals ("0.6931"); tiny magnitudes (a learning rate of 1e-5) in scientific notation so
// they don't print as 0.0000.
inline std::string format_value(double v) {
  char buf[32];
  if (v != 0 && std::isfinite(v) && std::abs(v) < 1e-3)
    std::snprintf(buf, sizeof buf, "%.3e", v);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// "loss: 0.6931 - accuracy: 0.5000 - ..." in canonical key order.
inline std::string format_logs(const Logs& logs) {
  std::string out;
  for (const auto& key : ordered_keys(logs)) {
    if (!out.empty()) out += " - ";
    out += key + ": " + format_value(logs.at(key));
  }
  return out;
}

}  // namespace etna::train
