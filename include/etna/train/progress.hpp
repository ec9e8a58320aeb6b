// The training progress display: a bar redrawn in place ('\r') on a terminal, one plain line per
// epoch elsewhere (CI logs, files, pipes), with step count, loss, metrics, it/s and ETA.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <ostream>
#include <string>
#include <utility>

#if defined(_WIN32)
#include <io.h>
#define ETNA_ISATTY_ _isatty
#define ETNA_FILENO_ _fileno
#else
#include <unistd.h>
#define ETNA_ISATTY_ isatty
#define ETNA_FILENO_ fileno
#endif

#include "etna/train/logs.hpp"

namespace etna::train {

// Whether `out` writes to a terminal: std::cout or std::cerr/clog attached to a tty. Any other
// stream (a file, a string stream) is not one.
inline bool is_terminal(const std::ostream& out) {
  if (out.rdbuf() == std::cout.rdbuf()) return ETNA_ISATTY_(ETNA_FILENO_(stdout)) != 0;
  if (out.rdbuf() == std::cerr.rdbuf() || out.rdbuf() == std::clog.rdbuf())
    return ETNA_ISATTY_(ETNA_FILENO_(stderr)) != 0;
  return false;
}

namespace detail {
// "0.4s", "12s", "3:07", "1:02:03".
inline std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 0) seconds = 0;
  const auto s = static_cast<long long>(seconds + 0.5);
  if (seconds < 10) std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  else if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}
// "64.0 it/s", or "2.50 s/it" for slow steps.
inline std::string format_rate(double steps, double seconds) {
  char buf[32];
  if (steps <= 0 || seconds <= 0) return "- it/s";
  const double rate = steps / seconds;
  if (rate >= 1) std::snprintf(buf, sizeof buf, "%.1f it/s", rate);
  else std::snprintf(buf, sizeof buf, "%.2f s/it", 1 / rate);
  return buf;
}
inline double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace detail

// Usage: begin_epoch, update after every batch, end_epoch with the epoch's full logs.
// Non-interactive, end_epoch prints the only line of the epoch:
//   Epoch 2/5 - 32/32 - 0.5s - 64.0 it/s - loss: 0.6931 - accuracy: 0.5000 - val_loss: 0.6802
// Interactive, update redraws (at most every 0.1 s, and at the last step)
//   Epoch 2/5 [=========>          ] 15/32 - ETA 0.3s - 64.0 it/s - loss: 0.6931 - ...
// and end_epoch replaces it by the line above and a newline.
class ProgressBar {
 public:
  // clock: seconds from any fixed origin; tests inject a fake one.
  ProgressBar(std::ostream& out, bool interactive,
              std::function<double()> clock = detail::steady_seconds)
      : out_(out), interactive_(interactive), clock_(std::move(clock)) {}
  // A bar when `out` is a terminal, plain lines otherwise.
  explicit ProgressBar(std::ostream& out) : ProgressBar(out, is_terminal(out)) {}

  bool interactive() const { return interactive_; }

  // epoch is 0-based (printed 1-based); total_steps 0 means unknown (no bar, no ETA).
  void begin_epoch(int epoch, int epochs, std::int64_t total_steps) {
    epoch_ = epoch;
    epochs_ = epochs;
    total_ = total_steps;
    steps_ = 0;
    start_ = last_draw_ = clock_();
    drawn_ = false;
  }

  // `step` batches of this epoch are done; logs holds the running loss and metrics.
  void update(std::int64_t step, const Logs& logs) {
    steps_ = step;
    if (!interactive_) return;
    const double now = clock_();
    if (drawn_ && now - last_draw_ < 0.1 && step != total_) return;
    last_draw_ = now;
    drawn_ = true;
    const double elapsed = now - start_;
    std::string line = head();
    if (total_ > 0) {
      line += " [" + bar(step) + "] " + std::to_string(step) + "/" + std::to_string(total_);
      const double eta = step > 0 ? elapsed / double(step) * double(total_ - step) : 0;
      line += " - ETA " + detail::format_duration(eta);
    } else {
      line += " - " + std::to_string(step);
    }
    line += " - " + detail::format_rate(double(step), elapsed);
    if (!logs.empty()) line += " - " + format_logs(logs);
    redraw(line);
  }

  // The epoch is over: logs holds its final training and validation values.
  void end_epoch(const Logs& logs) {
    const double elapsed = clock_() - start_;
    std::string line = head() + " - " + std::to_string(steps_);
    if (total_ > 0) line += "/" + std::to_string(total_);
    line += " - " + detail::format_duration(elapsed) + " - " +
            detail::format_rate(double(steps_), elapsed);
    if (!logs.empty()) line += " - " + format_logs(logs);
    if (interactive_) redraw(line);
    else out_ << line;
    out_ << '\n' << std::flush;
    width_ = 0;
  }

 private:
  std::string head() const {
    return "Epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs_);
  }
  std::string bar(std::int64_t step) const {
    constexpr int kWidth = 20;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : 0;
    std::string s(static_cast<std::size_t>(kWidth), ' ');
    for (int i = 0; i < filled; ++i) s[static_cast<std::size_t>(i)] = '=';
    if (filled < kWidth) s[static_cast<std::size_t>(filled)] = '>';
    return s;
  }
  // Overwrites the current terminal line, padding with spaces over a longer previous one.
  void redraw(const std::string& line) {
    out_ << '\r' << line;
    if (line.size() < width_) out_ << std::string(width_ - line.size(), ' ');
    width_ = std::max(width_, line.size());
    out_ << std::flush;
  }

  std::ostream& out_;
  bool interactive_;
  std::function<double()> clock_;
  int epoch_ = 0, epochs_ = 0;
  std::int64_t total_ = 0, steps_ = 0;
  double start_ = 0, last_draw_ = 0;
  bool drawn_ = false;
  std::size_t width_ = 0;
};

}  // namespace etna::train

#undef ETNA_ISATTY_
#undef ETNA_FILENO_
