// EpochMetrics: the metrics fit and evaluate compute, chosen by name ("accuracy", "top5_accuracy",
// "precision", "recall", "f1", "mae", "rmse"), accumulated over an epoch into Logs.
#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/train/logs.hpp"
#include "etna/train/metrics.hpp"

namespace etna::train {

// The loss (always, as "loss") and the named metrics. Classification metrics (accuracy, topK,
// macro precision / recall / f1) apply when targets are integers and outputs are [N, C];
// regression ones (mae, rmse) when targets are floating point. A metric that does not apply to
// a batch is skipped, so fit's default {"accuracy"} costs a regression run nothing.
class EpochMetrics {
 public:
  explicit EpochMetrics(const std::vector<std::string>& names) {
    for (const auto& name : names) {
      if (name == "accuracy") accuracy_.emplace();
      else if (name == "precision" || name == "recall" || name == "f1")
        report_keys_.push_back(name);
      else if (name == "mae") mae_.emplace();
      else if (name == "rmse") rmse_.emplace();
      else if (auto k = top_k_of(name)) top_k_.emplace_back(*k), top_k_names_.push_back(name);
      else
        throw value_error("fit: unknown metric '" + name +
                          "' (known: accuracy, top<k>_accuracy such as top5_accuracy, precision, "
                          "recall, f1, mae, rmse)");
    }
  }

  // One batch: outputs (a Var or a tensor), targets, the batch's mean loss and its size.
  template <class Out, class Y>
  void update(const Out& out, const Y& target, double batch_loss, std::int64_t batch_size) {
    loss_.update(batch_loss, static_cast<double>(batch_size));
    using TY = typename std::remove_cvref_t<decltype(detail::host_values(target))>::value_type;
    if constexpr (std::is_integral_v<TY>) {
      const auto values = detail::host_values(out);
      if (values.dim() != 2) return;
      classes_seen_ = true;
      if (accuracy_) accuracy_->update(values, target);
      for (auto& m : top_k_) m.update(values, target);
      if (!report_keys_.empty()) {
        if (!matrix_) matrix_.emplace(values.size(1));
        matrix_->update(values, target);
      }
    } else {
      seen_values_ = true;
      if (mae_) mae_->update(out, target);
      if (rmse_) rmse_->update(out, target);
    }
  }

  // {"loss": ..., "accuracy": ..., ...} with every key prefixed (fit's "val_").
  Logs logs(const std::string& prefix = "") const {
    Logs out;
    out[prefix + "loss"] = loss_.compute();
    if (accuracy_ && classes_seen_) out[prefix + "accuracy"] = accuracy_->compute();
    for (std::size_t i = 0; i < top_k_.size() && classes_seen_; ++i)
      out[prefix + top_k_names_[i]] = top_k_[i].compute();
    if (matrix_) {
      const auto r = matrix_->report();
      for (const auto& key : report_keys_)
        out[prefix + key] = key == "precision" ? r.macro_precision
                            : key == "recall"  ? r.macro_recall
                                               : r.macro_f1;
    }
    if (mae_ && seen_values_) out[prefix + "mae"] = mae_->compute();
    if (rmse_ && seen_values_) out[prefix + "rmse"] = rmse_->compute();
    return out;
  }

  void reset() {
    loss_.reset();
    if (accuracy_) accuracy_->reset();
    for (auto& m : top_k_) m.reset();
    matrix_.reset();
    if (mae_) mae_->reset();
    if (rmse_) rmse_->reset();
    classes_seen_ = seen_values_ = false;
  }

 private:
  static std::optional<std::int64_t> top_k_of(const std::string& name) {
    const std::string head = "top", tail = "_accuracy";
    if (name.size() <= head.size() + tail.size() || name.rfind(head, 0) != 0 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
      return std::nullopt;
    const std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
    for (char ch : digits)
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    const auto k = std::stoll(digits);
    if (k < 1) return std::nullopt;
    return k;
  }

  RunningMean loss_;
  std::optional<Accuracy> accuracy_;
  std::vector<TopKAccuracy> top_k_;
  std::vector<std::string> top_k_names_, report_keys_;
  std::optional<ConfusionMatrix> matrix_;
  std::optional<MeanAbsoluteError> mae_;
  std::optional<RootMeanSquaredError> rmse_;
  bool classes_seen_ = false, seen_values_ = false;
};

}  // namespace etna::train
