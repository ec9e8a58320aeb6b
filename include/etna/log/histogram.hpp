// Histograms as TensorBoard's HistogramProto holds them, with the bucket layouts PyTorch's
// add_histogram uses: TensorFlow's exponential default buckets, or n equal-width bins.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "etna/core/error.hpp"

namespace etna::logging {

// The fields of tensorflow's HistogramProto: bucket[i] counts the values in
// (bucket_limit[i-1], bucket_limit[i]] as TensorBoard draws them (right edges only).
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
};

// The edges of PyTorch's bins="tensorflow": +-1e-12 * 1.1^k up to 1e20, mirrored, and 0.
// Computed by the same repeated multiplication, so the doubles equal PyTorch's exactly.
inline const std::vector<double>& tensorflow_bucket_edges() {
  static const std::vector<double> edges = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    std::vector<double> all;
    all.reserve(2 * positive.size() + 1);
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return edges;
}

// numpy.histogram(values, bins=n)'s edges: n equal bins over [min, max], widened by 0.5 each
// side when all values are equal.
inline std::vector<double> uniform_bucket_edges(double lo, double hi, std::int64_t n) {
  if (lo == hi) lo -= 0.5, hi += 0.5;
  std::vector<double> edges(static_cast<std::size_t>(n) + 1);
  const double step = (hi - lo) / static_cast<double>(n);
  for (std::int64_t i = 0; i <= n; ++i) edges[i] = lo + static_cast<double>(i) * step;
  edges[n] = hi;
  return edges;
}

namespace detail {
// numpy.histogram's counting: bins are [e_i, e_{i+1}) except the last, which is closed;
// values outside [e_0, e_n] (and NaN) are not counted.
inline std::vector<double> count_into(std::span<const double> values,
                                      const std::vector<double>& edges) {
  std::vector<double> counts(edges.size() - 1, 0.0);
  for (double v : values) {
    if (!(v >= edges.front() && v <= edges.back())) continue;
    auto bin =
        static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) -
        1;
    if (bin == counts.size()) --bin;  // v == last edge
    counts[bin] += 1;
  }
  return counts;
}
}  // namespace detail

// PyTorch's make_histogram: counts with numpy's rule, then keeps only the support (first to
// last non-empty bucket) plus one empty bucket on its left, whose right limit marks where the
// support starts (TensorBoard stores right limits only).
inline Histogram make_histogram(std::span<const double> values, const std::vector<double>& edges) {
  if (values.empty()) throw value_error("add_histogram: the tensor has no elements");
  Histogram h;
  h.min = *std::min_element(values.begin(), values.end());
  h.max = *std::max_element(values.begin(), values.end());
  h.num = static_cast<double>(values.size());
  for (double v : values) h.sum += v, h.sum_squares += v * v;
  const std::vector<double> counts = detail::count_into(values, edges);
  std::size_t start = 0;
  while (start < counts.size() && counts[start] == 0) ++start;
  if (start == counts.size())
    throw value_error(
        "add_histogram: no value lies inside the buckets (all NaN, infinite or beyond +-1e20?)");
  std::size_t end = counts.size();
  while (counts[end - 1] == 0) --end;  // one past the last non-empty bin
  if (start == 0) {
    h.bucket.push_back(0.0);
    h.bucket.insert(h.bucket.end(), counts.begin(), counts.begin() + end);
  } else {
    h.bucket.assign(counts.begin() + start - 1, counts.begin() + end);
  }
  h.bucket_limit.assign(edges.begin() + start, edges.begin() + end + 1);
  return h;
}

namespace detail {
// numpy.percentile(sorted, q) with its default linear interpolation, including numpy's
// lerp, which interpolates from the upper point when t >= 0.5.
inline double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const double t = pos - static_cast<double>(lo);
  if (lo + 1 >= sorted.size()) return sorted[lo];
  const double a = sorted[lo], b = sorted[lo + 1], diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// numpy.histogram(bins="auto")'s bin count: the smaller of the Freedman-Diaconis and Sturges
// widths (Sturges alone when the interquartile range is 0).
inline std::int64_t auto_bin_count(std::vector<double> finite) {
  std::sort(finite.begin(), finite.end());
  const auto n = static_cast<double>(finite.size());
  const double range = finite.back() - finite.front();
  const double fd =
      2.0 * (percentile(finite, 75) - percentile(finite, 25)) * std::pow(n, -1.0 / 3.0);
  const double sturges = range / (std::log2(n) + 1.0);
  const double width = fd != 0 ? std::min(fd, sturges) : sturges;
  return width != 0 ? static_cast<std::int64_t>(std::ceil(range / width)) : 1;
}
}  // namespace detail

// bins: "tensorflow", "auto" (numpy's rule) or a positive number of equal-width bins ("30").
// The equal-width layouts span the finite values' range, as numpy.histogram does.
inline Histogram make_histogram(std::span<const double> values, const std::string& bins) {
  if (bins == "tensorflow") return make_histogram(values, tensorflow_bucket_edges());
  std::int64_t n = 0;
  if (bins != "auto") {
    const auto [end, ec] = std::from_chars(bins.data(), bins.data() + bins.size(), n);
    if (ec != std::errc() || end != bins.data() + bins.size() || n <= 0)
      throw value_error(
          "add_histogram: bins must be \"tensorflow\", \"auto\" or a positive number of bins, "
          "got \"" +
          bins + "\"");
  }
  if (values.empty()) throw value_error("add_histogram: the tensor has no elements");
  std::vector<double> finite;
  finite.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty()) throw value_error("add_histogram: no finite value to bin");
  if (bins == "auto") n = detail::auto_bin_count(finite);
  const auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
  return make_histogram(values, uniform_bucket_edges(*lo, *hi, n));
}

}  // namespace etna::logging
