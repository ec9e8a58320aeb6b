// operator<< for tensors, formatted exactly like PyTorch 1.13's repr (torch/_tensor_str.py):
// one width and notation for all elements, 80-column lines, "..." summaries above 1000 elements.
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

inline constexpr std::int64_t kPrintThreshold = 1000, kPrintEdgeItems = 3;
inline constexpr int kPrintLineWidth = 80, kPrintPrecision = 4;

// PyTorch's _Formatter: the notation (integer-valued, fixed or scientific) and the width come
// from the nonzero finite values shown; zeros, NaN and infinities are padded to that width.
struct PrintFormat {
  bool floating = false, int_mode = true, sci_mode = false;
  int width = 1;
};

template <class T>
std::string format_unpadded(T v, const PrintFormat& f) {
  std::ostringstream s;
  if constexpr (std::is_same_v<T, bool>) {
    s << (v ? "True" : "False");
  } else if constexpr (std::is_integral_v<T>) {
    s << v;
  } else {
    if (std::isnan(v)) s << "nan";
    else if (std::isinf(v)) s << (v > 0 ? "inf" : "-inf");
    else if (f.sci_mode) s << std::scientific << std::setprecision(kPrintPrecision) << v;
    else if (f.int_mode) s << std::fixed << std::setprecision(0) << v << '.';
    else s << std::fixed << std::setprecision(kPrintPrecision) << v;
  }
  return s.str();
}

template <class T>
std::string format_value(T v, const PrintFormat& f) {
  std::string s = format_unpadded(v, f);
  if (static_cast<int>(s.size()) < f.width) s.insert(0, static_cast<std::size_t>(f.width) - s.size(), ' ');
  return s;
}

template <class T>
PrintFormat make_format(const std::vector<T>& shown) {
  PrintFormat f;
  if constexpr (!std::is_floating_point_v<T>) {
    for (T v : shown) f.width = std::max<int>(f.width, static_cast<int>(format_unpadded(v, f).size()));
  } else {
    f.floating = true;
    std::vector<T> values;
    for (T v : shown)
      if (std::isfinite(v) && v != 0) values.push_back(v);
    if (values.empty()) return f;
    double max_abs = 0, min_abs = INFINITY;
    for (T v : values) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
      min_abs = std::min(min_abs, std::fabs(static_cast<double>(v)));
      if (v != std::ceil(v)) f.int_mode = false;
    }
    f.sci_mode = max_abs / min_abs > 1000.0 || max_abs > 1.0e8 || (!f.int_mode && min_abs < 1.0e-4);
    for (T v : values) f.width = std::max<int>(f.width, static_cast<int>(format_unpadded(v, f).size()));
  }
  return f;
}

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
std::string tensor_str(const Tensor<T, D>& t, const PrintFormat& f, bool summarize, int indent) {
  if (t.dim() == 0) return format_value(t.item(), f);
  const auto idx = printed_indices(t.shape()[0], summarize);
  std::string out = "[";
  if (t.dim() == 1) {  // elements wrapped to the line width
    const int per_line = std::max(1, (kPrintLineWidth - indent) / (f.width + 2));
    for (std::size_t k = 0; k < idx.size(); ++k) {
      if (k && k % per_line == 0) out.append(",\n").append(static_cast<std::size_t>(indent + 1), ' ');
      else if (k) out.append(", ");
      out.append(idx[k] < 0 ? std::string(" ...") : format_value(t(idx[k]), f));
    }
  } else {
    for (std::size_t k = 0; k < idx.size(); ++k) {
      if (k)
        out.append(",")
            .append(static_cast<std::size_t>(t.dim() - 1), '\n')
            .append(static_cast<std::size_t>(indent + 1), ' ');
      out.append(idx[k] < 0 ? std::string("...")
                            : tensor_str(t.select(0, idx[k]), f, summarize, indent + 1));
    }
  }
  return out.append("]");
}

// PyTorch's repr of host tensor t; `device` is the device suffix ("" for the CPU).
template <class T>
std::ostream& print_tensor(std::ostream& out, const Tensor<T, cpu>& t, const std::string& device) {
  constexpr int indent = 7;  // "tensor("
  std::string body = "tensor(";
  std::vector<std::string> suffixes;
  if (!device.empty()) suffixes.push_back(device);  // PyTorch lists the device first
  if (t.numel() == 0) {
    body += "[]";
    if (t.dim() != 1) {  // the shape as a Python tuple, as PyTorch
      std::string size = "size=(";
      for (int i = 0; i < t.dim(); ++i) size.append(i ? ", " : "").append(std::to_string(t.shape()[i]));
      suffixes.push_back(size.append(")"));
    }
    if constexpr (!std::is_same_v<T, float>) suffixes.push_back(str("dtype=", dtype_name<T>()));
  } else {
    const bool summarize = t.numel() > kPrintThreshold;
    std::vector<T> shown;
    collect_shown(t, summarize, shown);
    body += tensor_str(t, make_format(shown), summarize, indent);
    if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, std::int64_t> &&
                  !std::is_same_v<T, bool>)
      suffixes.push_back(str("dtype=", dtype_name<T>()));
  }
  // PyTorch's _add_suffixes: a suffix that would pass the line width starts a new line. The
  // lengths are PyTorch's, whose dtypes read "dtype=torch.float64", so lines break alike.
  const auto newline = body.rfind('\n');
  std::size_t last_line = newline == std::string::npos ? body.size() + 2 : body.size() - newline + 1;
  for (const auto& s : suffixes) {
    const std::size_t len = s.size() + (s.rfind("dtype=", 0) == 0 ? 6 : 0);  // "torch."
    if (last_line + len + 2 > static_cast<std::size_t>(kPrintLineWidth)) {
      body.append(",\n").append(static_cast<std::size_t>(indent), ' ').append(s);
      last_line = indent + len;
    } else {
      body.append(", ").append(s);
      last_line += len + 2;
    }
  }
  return out << body << ')';
}

}  // namespace detail

// A cuda tensor is copied to the host to be printed, with PyTorch's device='cuda:0' suffix
// (etna runs on the current device, which it names 0 as PyTorch does by default).
template <Scalar T, Device D>
std::ostream& operator<<(std::ostream& out, const Tensor<T, D>& t) {
  if constexpr (std::is_same_v<D, cpu>) return detail::print_tensor(out, t, "");
  else return detail::print_tensor(out, t.template to<cpu>(), "device='cuda:0'");
}

// Printing a lazy expression evaluates it first.
template <ExpressionNode E>
  requires(!contains_var<E>::value)
std::ostream& operator<<(std::ostream& out, const E& e) {
  return out << Tensor<typename E::value_type, typename E::device_type>(e);
}

}  // namespace etna
