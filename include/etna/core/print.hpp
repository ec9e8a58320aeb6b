// operator<< for tensors, formatted like PyTorch's repr: aligned columns, 4 decimals (or
// scientific notation for very large/small magnitudes), "..." summaries above 1000 elements.
#pragma once

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "etna/core/tensor.hpp"

namespace etna {
namespace detail {

struct PrintFormat {
  enum Kind { integer, integral_float, fixed, scientific, boolean } kind = fixed;
  int width = 1;
};

template <class T>
std::string format_value(T v, const PrintFormat& f) {
  std::ostringstream s;
  if constexpr (std::is_same_v<T, bool>) {
    s << (v ? "True" : "False");
  } else if constexpr (std::is_integral_v<T>) {
    s << v;
  } else {
    if (std::isnan(v)) s << "nan";
    else if (std::isinf(v)) s << (v > 0 ? "inf" : "-inf");
    else if (f.kind == PrintFormat::integral_float) s << std::fixed << std::setprecision(0) << v << '.';
    else if (f.kind == PrintFormat::scientific) s << std::scientific << std::setprecision(4) << v;
    else s << std::fixed << std::setprecision(4) << v;
  }
  return s.str();
}

inline constexpr std::int64_t kPrintThreshold = 1000, kPrintEdgeItems = 3;

// Indices printed along a dimension of size n: all, or the first and last edge items.
inline std::vector<std::int64_t> printed_indices(std::int64_t n, bool summarize) {
  std::vector<std::int64_t> idx;
  if (summarize && n > 2 * kPrintEdgeItems) {
    for (std::int64_t i = 0; i < kPrintEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);  // marks "..."
    for (std::int64_t i = n - kPrintEdgeItems; i < n; ++i) idx.push_back(i);
  } else {
    for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

// The values that will be printed (the format depends on them, as in PyTorch).
template <class T, class D>
void collect_shown(const Tensor<T, D>& t, bool summarize, std::vector<T>& out) {
  if (t.dim() == 0) {
    out.push_back(t.item());
    return;
  }
  for (auto i : printed_indices(t.shape()[0], summarize))
    if (i >= 0) collect_shown(t.select(0, i), summarize, out);
}

template <class T, class D>
void print_values(std::ostream& out, const Tensor<T, D>& t, const PrintFormat& f,
                  bool summarize, int indent) {
  if (t.dim() == 0) {
    out << std::setw(f.width) << format_value(t.item(), f);
    return;
  }
  out << '[';
  const auto idx = printed_indices(t.shape()[0], summarize);
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k) {
      out << ',';
      if (t.dim() == 1) out << ' ';
      else out << std::string(static_cast<std::size_t>(t.dim() - 1), '\n')
               << std::string(static_cast<std::size_t>(indent + 1), ' ');
    }
    if (idx[k] < 0) out << "...";
    else print_values(out, t.select(0, idx[k]), f, summarize, indent + 1);
  }
  out << ']';
}

}  // namespace detail

template <Scalar T, Device D>
std::ostream& operator<<(std::ostream& out, const Tensor<T, D>& t) {
  const bool summarize = t.numel() > detail::kPrintThreshold;
  detail::PrintFormat f;
  std::vector<T> shown;
  if (t.numel() > 0) detail::collect_shown(t, summarize, shown);
  if constexpr (std::is_same_v<T, bool>) {
    f.kind = detail::PrintFormat::boolean;
  } else if constexpr (std::is_integral_v<T>) {
    f.kind = detail::PrintFormat::integer;
  } else {
    bool integral = true;
    double max_abs = 0, min_abs = INFINITY;
    for (T v : shown) {
      if (!std::isfinite(v)) continue;
      if (v != std::round(v)) integral = false;
      max_abs = std::max(max_abs, std::fabs(double(v)));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(double(v)));
    }
    if (integral && max_abs < 1e8) f.kind = detail::PrintFormat::integral_float;
    else if (max_abs >= 1e8 || (min_abs < 1e-4 && min_abs > 0) ||
             (min_abs != INFINITY && max_abs / min_abs > 1000))
      f.kind = detail::PrintFormat::scientific;
  }
  for (T v : shown) f.width = std::max<int>(f.width, static_cast<int>(detail::format_value(v, f).size()));
  out << "tensor(";
  if (t.numel() == 0 && t.dim() > 0) out << "[]";
  else detail::print_values(out, t, f, summarize, 7);
  if (t.numel() == 0 && t.dim() > 0 && t.dim() != 1) out << ", size=" << t.shape();
  if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, std::int64_t> &&
                !std::is_same_v<T, bool>)
    out << ", dtype=" << dtype_name<T>();
  if constexpr (!std::is_same_v<D, cpu>) out << ", device='" << D::name << "'";
  return out << ')';
}

// Printing a lazy expression evaluates it first.
template <ExpressionNode E>
std::ostream& operator<<(std::ostream& out, const E& e) {
  return out << Tensor<typename E::value_type, typename E::device_type>(e);
}

}  // namespace etna
