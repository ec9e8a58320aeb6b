// Line charts as self-contained SVG (no scripts, fonts or external resources): LinePlot panels
// side by side with "nice" axis ticks, one polyline plus point markers per series, a legend.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "etna/core/error.hpp"

namespace etna::logging {

// One line: points (x[i], y[i]); a point with a NaN or infinite coordinate is skipped, so the
// polyline joins its finite neighbours. color: any SVG colour ("" takes the next of a
// 10-colour palette); key: an identifier written as data-key on the polyline (tests, styling).
struct Series {
  std::string label;
  std::vector<double> x = {};
  std::vector<double> y = {};
  std::string color = "";
  bool dashed = false;
  std::string key = "";
};

// One panel: its own axes, grid, series and legend. integer_x: x ticks at whole numbers only
// (epochs).
struct LinePlot {
  std::string title = "";
  std::string x_label = "";
  std::string y_label = "";
  std::vector<Series> series = {};
  bool integer_x = false;
};

struct FigureOptions {
  std::string title = "";
  int panel_width = 440;   // pixels per panel
  int panel_height = 330;
};

namespace plot_detail {

// &, <, >, " and ' as entities: safe in text and in attribute values.
inline std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab / newline are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += ' ';
        else out += c;
    }
  }
  return out;
}

// 1, 2 or 5 x 10^k, the smallest such value >= raw.
inline double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * magnitude;
}

// An axis: the drawn interval [lo, hi] and tick values at multiples of step inside it.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;
  double map(double v, double from, double to) const {  // v in [lo, hi] -> pixels in [from, to]
    return from + (v - lo) / (hi - lo) * (to - from);
  }
};

// snap: widen [lo, hi] to whole steps (the y axis); otherwise keep the data range (the x axis).
// A degenerate range (one value, a constant series) is widened so that the axis has a length.
inline Axis nice_axis(double lo, double hi, bool snap, bool integer, int target_ticks = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) lo = 0, hi = 1;
  if (!(hi - lo > std::abs(hi) * 1e-12)) {
    const double pad = integer ? 0.5 : lo != 0 ? std::abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  if (!std::isfinite(hi - lo)) lo /= 2, hi /= 2;  // +-1e308: halve rather than overflow
  if (snap) {  // 3% of room, so that points on a tick value do not sit on the frame
    const double room = (hi - lo) * 0.03;
    lo = lo >= 0 ? std::max(0.0, lo - room) : lo - room;  // no negative axis for losses
    hi += room;
  }
  Axis a;
  a.step = nice_step((hi - lo) / target_ticks);
  if (integer) a.step = std::max(a.step, 1.0);
  // Snapped: whole steps. Otherwise 4% of room, so that end points sit off the y axis.
  const double margin = (hi - lo) * 0.04;
  a.lo = snap ? std::floor(lo / a.step) * a.step : lo - margin;
  a.hi = snap ? std::ceil(hi / a.step) * a.step : hi + margin;
  const double eps = a.step * 1e-9;
  for (double k = std::ceil((a.lo - eps) / a.step); k * a.step <= a.hi + eps; ++k) {
    a.ticks.push_back(std::abs(k) < 0.5 ? 0.0 : k * a.step);  // no "-0"
    if (a.ticks.size() > 50) break;                            // never loop on rounding noise
  }
  return a;
}

// A tick label: as many decimals as the step needs; %g (1e-05) for tiny or huge values.
inline std::string tick_label(double v, double step) {
  char buf[40];
  if (std::abs(v) < step * 1e-6) v = 0;  // rounding noise and -0 print as 0
  const double big = std::max(std::abs(v), step);
  if (step < 1e-3 || big >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  } else {
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

inline std::string num(double v) {  // pixel coordinates
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

inline const char* palette(std::size_t i) {  // matplotlib's tab10
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[i % 10];
}

inline bool finite_point(const Series& s, std::size_t i) {
  return i < s.x.size() && i < s.y.size() && std::isfinite(s.x[i]) && std::isfinite(s.y[i]);
}

// One panel at horizontal offset x0, vertical offset y0.
inline void render_panel(std::string& svg, const LinePlot& p, double x0, double y0, double w,
                         double h, std::size_t& color_index) {
  const double left = x0 + 74, right = x0 + w - 18, top = y0 + 30, bottom = y0 + h - 70;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : p.series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (finite_point(s, i)) {
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
      }
  const Axis ax = nice_axis(xmin, xmax, false, p.integer_x);
  const Axis ay = nice_axis(ymin, ymax, true, false);

  svg += "<g class=\"panel\">\n";
  svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(y0 + 20) +
         "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" +
         escape_xml(p.title) + "</text>\n";
  // Grid and tick labels.
  for (double t : ay.ticks) {
    const std::string y = num(ay.map(t, bottom, top));
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + y + "\" x2=\"" + num(right) + "\" y2=\"" + y +
           "\" stroke=\"#e0e0e0\"/>\n";
    svg += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + y +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"11\">" +
           tick_label(t, ay.step) + "</text>\n";
  }
  for (double t : ax.ticks) {
    const std::string x = num(ax.map(t, left, right));
    svg += "<line x1=\"" + x + "\" y1=\"" + num(top) + "\" x2=\"" + x + "\" y2=\"" + num(bottom) +
           "\" stroke=\"#e0e0e0\"/>\n";
    svg += "<text class=\"tick\" x=\"" + x + "\" y=\"" + num(bottom + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + tick_label(t, ax.step) + "</text>\n";
  }
  // Axes and their titles.
  svg += "<path class=\"axes\" d=\"M" + num(left) + " " + num(top) + " V" + num(bottom) + " H" +
         num(right) + "\" fill=\"none\" stroke=\"#000\"/>\n";
  svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(bottom + 34) +
         "\" text-anchor=\"middle\" font-size=\"12\">" + escape_xml(p.x_label) + "</text>\n";
  const std::string yc = num((top + bottom) / 2), yx = num(x0 + 16);
  svg += "<text x=\"" + yx + "\" y=\"" + yc + "\" transform=\"rotate(-90 " + yx + " " + yc +
         ")\" text-anchor=\"middle\" font-size=\"12\">" + escape_xml(p.y_label) + "</text>\n";
  // Series, then the legend row under the x axis title.
  double legend_x = left;
  const double legend_y = bottom + 56;
  for (const auto& s : p.series) {
    const std::string color = escape_xml(s.color.empty() ? palette(color_index) : s.color);
    ++color_index;
    const std::string dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    std::string points, markers;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!finite_point(s, i)) continue;
      const std::string px = num(ax.map(s.x[i], left, right));
      const std::string py = num(ay.map(s.y[i], bottom, top));
      points += (points.empty() ? "" : " ") + px + "," + py;
      markers += "<circle cx=\"" + px + "\" cy=\"" + py + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    }
    if (!points.empty()) {
      svg += "<polyline class=\"series\" data-key=\"" + escape_xml(s.key) + "\" points=\"" +
             points + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" + dash +
             "/>\n" + markers;
    }
    const std::string ly = num(legend_y);
    svg += "<line x1=\"" + num(legend_x) + "\" y1=\"" + ly + "\" x2=\"" + num(legend_x + 24) +
           "\" y2=\"" + ly + "\" stroke=\"" + color + "\" stroke-width=\"2\"" + dash + "/>\n";
    const std::string label = s.label + (points.empty() ? " (no finite values)" : "");
    svg += "<text class=\"legend\" x=\"" + num(legend_x + 30) + "\" y=\"" + ly +
           "\" dominant-baseline=\"middle\" font-size=\"12\">" + escape_xml(label) + "</text>\n";
    legend_x += 46 + 7.0 * static_cast<double>(label.size());
  }
  svg += "</g>\n";
}

}  // namespace plot_detail

// The figure as an SVG document: the panels left to right under the title.
inline std::string render_svg(const std::vector<LinePlot>& panels,
                              const FigureOptions& options = {}) {
  if (panels.empty()) throw value_error("render_svg: no panels to draw");
  if (options.panel_width < 200 || options.panel_height < 160)
    throw value_error(etna::detail::str("render_svg: panels of ", options.panel_width, "x",
                                        options.panel_height,
                                        " pixels are too small (at least 200x160)"));
  for (const auto& p : panels)
    for (const auto& s : p.series)
      if (s.x.size() != s.y.size())
        throw value_error(etna::detail::str("render_svg: series '", s.label, "' of panel '",
                                            p.title, "' has ", s.x.size(), " x values but ",
                                            s.y.size(), " y values"));
  const double w = options.panel_width, h = options.panel_height, title_h = 34;
  const double width = w * static_cast<double>(panels.size()), height = h + title_h;
  std::string svg =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
      plot_detail::num(width) + "\" height=\"" + plot_detail::num(height) + "\" viewBox=\"0 0 " +
      plot_detail::num(width) + " " + plot_detail::num(height) + "\" font-family=\"sans-serif\">\n";
  svg += "<title>" + plot_detail::escape_xml(options.title) + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  svg += "<text x=\"" + plot_detail::num(width / 2) +
         "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" +
         plot_detail::escape_xml(options.title) + "</text>\n";
  std::size_t color_index = 0;
  for (std::size_t i = 0; i < panels.size(); ++i)
    plot_detail::render_panel(svg, panels[i], w * static_cast<double>(i), title_h, w, h,
                              color_index);
  svg += "</svg>\n";
  return svg;
}

// Writes text to path atomically: a temporary file in the same folder, then a rename, so a
// reader (a browser refreshing the plot during training) never sees half a file. Throws
// io_error naming path and the cause.
inline void write_file_atomically(const std::string& path, const std::string& text,
                                  const std::string& who) {
  static std::atomic<unsigned> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string tmp = path + ".tmp-" + std::to_string(stamp) + "-" +
                          std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error(who + ": cannot write '" + path + "' (cannot create '" + tmp + "')");
    out << text;
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw io_error(who + ": writing '" + path + "' failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw io_error(who + ": cannot write '" + path + "': " + ec.message());
  }
}

// Renders the panels and writes them to path (see write_file_atomically).
inline void plot_series(const std::vector<LinePlot>& panels, const std::string& path,
                        const FigureOptions& options = {}) {
  write_file_atomically(path, render_svg(panels, options), "plot_series");
}

}  // namespace etna::logging
