// Shared benchmark plumbing: interleaved timing with warm-up and medians, the machine name, the
// case filter, and the JSON line format of shared/design/PERFORMANCE.md.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace etna_bench {

// "AMD EPYC ..." from /proc/cpuinfo, so results from different hosts are never mixed up.
inline std::string machine_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// A case runs when the filter is empty or occurs in its full name ("cpu/eltwise/chain_16M").
inline bool selected(const std::string& filter, const std::string& case_name) {
  return filter.empty() || case_name.find(filter) != std::string::npos;
}

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Summary of the samples of one contender, in microseconds per call.
struct Stats {
  double median_us = 0, p10_us = 0, p90_us = 0;
  int samples = 0;
  // Half the 10-90 percentile range relative to the median: "+-3%" style noise figure.
  double spread() const { return median_us > 0 ? (p90_us - p10_us) / (2 * median_us) : 0; }
};

inline Stats summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<std::size_t>(q * (v.size() - 1) + 0.5)]; };
  s.median_us = at(0.5);
  s.p10_us = at(0.1);
  s.p90_us = at(0.9);
  s.samples = static_cast<int>(v.size());
  return s;
}

struct TimingOptions {
  int rounds = 5;                    // contenders alternate this many times
  double round_seconds = 0.25;       // time each contender gets per round
  int min_samples_per_round = 3;     // even when one call outlasts round_seconds
  double min_sample_seconds = 2e-3;  // calls are batched until one sample lasts this long
  // Pause before each contender's turn. Idle OpenMP workers (libtorch, the floor loops) spin for
  // a while after a parallel region and would steal the second core from the next contender.
  double pause_seconds = 0;
};

// Times several contenders in interleaved rounds so that slow drift of a shared, noisy machine
// (other builds, frequency changes) hits all of them alike. Each turn starts with one untimed
// warm-up call; a sample is the mean of a batch of calls lasting at least min_sample_seconds.
inline std::vector<Stats> time_interleaved(const std::vector<std::function<void()>>& fns,
                                           const TimingOptions& opt = {}) {
  const std::size_t n = fns.size();
  std::vector<int> batch(n, 1);
  std::vector<std::vector<double>> samples(n);
  for (std::size_t i = 0; i < n; ++i) {  // calibrate from one warm call
    fns[i]();
    const double t0 = seconds_now();
    fns[i]();
    const double one = std::max(seconds_now() - t0, 1e-7);
    batch[i] = std::max(1, static_cast<int>(opt.min_sample_seconds / one));
  }
  for (int r = 0; r < opt.rounds; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      if (opt.pause_seconds > 0)
        std::this_thread::sleep_for(std::chrono::duration<double>(opt.pause_seconds));
      fns[i]();
      const double start = seconds_now();
      int taken = 0;
      while (taken < opt.min_samples_per_round || seconds_now() - start < opt.round_seconds) {
        const double t0 = seconds_now();
        for (int k = 0; k < batch[i]; ++k) fns[i]();
        samples[i].push_back((seconds_now() - t0) * 1e6 / batch[i]);
        ++taken;
      }
    }
  }
  std::vector<Stats> out;
  for (auto& s : samples) out.push_back(summarize(std::move(s)));
  return out;
}

// Gigabytes per second for `bytes` moved in `us` microseconds.
inline double gbs(double bytes, double us) { return us > 0 ? bytes / us * 1e-3 : 0; }

inline std::string fmt_num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// One JSON object on one line; keys keep insertion order so lines read like the spec's example.
class JsonLine {
 public:
  JsonLine& str(const std::string& key, const std::string& value) {
    fields_.emplace_back(key, quote(value));
    return *this;
  }
  JsonLine& num(const std::string& key, double value, const char* fmt = "%.3f") {
    fields_.emplace_back(key, fmt_num(fmt, value));
    return *this;
  }
  JsonLine& integer(const std::string& key, long long value) {
    fields_.emplace_back(key, std::to_string(value));
    return *this;
  }
  JsonLine& boolean(const std::string& key, bool value) {
    fields_.emplace_back(key, value ? "true" : "false");
    return *this;
  }
  std::string text() const {
    std::string s = "{";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (i) s += ", ";
      s += quote(fields_[i].first) + ": " + fields_[i].second;
    }
    return s + "}";
  }
  // Printed and flushed at once, so a crash in a later case keeps the earlier lines.
  void print() const {
    std::printf("%s\n", text().c_str());
    std::fflush(stdout);
  }

 private:
  static std::string quote(const std::string& v) {
    std::string s = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') {
        s += '\\';
        s += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        s += buf;
      } else {
        s += c;
      }
    }
    return s + "\"";
  }
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The common head of a comparison line: case, etna_us, ref, ref_us, ratio (etna / reference,
// below 1 is faster), threads, machine. Callers append throughput fields and the note.
inline JsonLine comparison(const std::string& case_name, double etna_us, const std::string& ref,
                           double ref_us, int threads) {
  JsonLine j;
  j.str("case", case_name).num("etna_us", etna_us, "%.1f").str("ref", ref);
  j.num("ref_us", ref_us, "%.1f").num("ratio", etna_us / ref_us, "%.3f");
  j.integer("threads", threads).str("machine", machine_name());
  return j;
}

}  // namespace etna_bench
