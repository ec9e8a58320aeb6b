// plot_history: a fit run's History as a self-contained SVG (train and validation curves per
// metric, one panel each), written next to the CSV so a run can be looked at without any tool.
#pragma once

#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/log/line_plot.hpp"
#include "etna/train/callback.hpp"

namespace etna::logging {

struct PlotOptions {
  std::string title = "Training history";
  // One panel per metric, in this order; a metric no epoch logged is left out (a regression run
  // has no accuracy). Any Logs key works: "lr", "top5_accuracy", "epoch_time_s"...
  std::vector<std::string> metrics = {"loss", "accuracy"};
  int panel_width = 440;
  int panel_height = 330;
};

// The panels plot_history draws: for each metric m, the series m ("train", solid) and val_m
// ("validation", dashed) over epochs 1..N (1-based, as fit's progress lines count them); a
// value missing from an epoch's logs, NaN or infinite leaves a gap in that series.
inline std::vector<LinePlot> history_panels(const train::History& history,
                                            const std::vector<std::string>& metrics) {
  std::vector<LinePlot> panels;
  for (const auto& metric : metrics) {
    const bool validated = metric != "lr" && metric.rfind("val_", 0) != 0;
    Series train{.label = validated ? "train" : metric, .color = "#1f77b4", .key = metric};
    Series val{.label = "validation", .color = "#ff7f0e", .dashed = true, .key = "val_" + metric};
    for (std::size_t e = 0; e < history.size(); ++e) {
      const auto& logs = history[e];
      const double x = static_cast<double>(e + 1);
      if (auto it = logs.find(train.key); it != logs.end())
        train.x.push_back(x), train.y.push_back(it->second);
      if (auto it = logs.find(val.key); validated && it != logs.end())
        val.x.push_back(x), val.y.push_back(it->second);
    }
    LinePlot panel{.title = metric, .x_label = "epoch", .y_label = metric, .integer_x = true};
    if (!train.x.empty()) panel.series.push_back(std::move(train));
    if (!val.x.empty()) panel.series.push_back(std::move(val));
    if (!panel.series.empty()) panels.push_back(std::move(panel));
  }
  return panels;
}

// The SVG document plot_history writes.
inline std::string history_svg(const train::History& history, const PlotOptions& options = {}) {
  if (history.empty()) throw value_error("plot_history: the history has no epochs");
  auto panels = history_panels(history, options.metrics);
  if (panels.empty()) {
    std::string wanted, logged;
    for (const auto& m : options.metrics) wanted += (wanted.empty() ? "" : ", ") + m;
    for (const auto& key : train::ordered_keys(history.back()))
      logged += (logged.empty() ? "" : ", ") + key;
    throw value_error("plot_history: none of the metrics [" + wanted +
                      "] was logged (the last epoch has [" + logged + "])");
  }
  return render_svg(panels, {.title = options.title,
                             .panel_width = options.panel_width,
                             .panel_height = options.panel_height});
}

// Writes history_svg(history, options) to path, atomically (a temporary file then a rename);
// throws io_error naming path when it cannot be written.
//   auto history = et::train::fit(net, opt, loss, loader, {.epochs = 5, .val = &val});
//   et::log::plot_history(history, "runs/x/curves.svg");
inline void plot_history(const train::History& history, const std::string& path,
                         const PlotOptions& options = {}) {
  write_file_atomically(path, history_svg(history, options), "plot_history");
}

}  // namespace etna::logging
