// prune::sparsity_report: per parameter, how many elements are zero (and how many are masked),
// with totals; `std::cout << report` prints it as a table.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "etna/prune/parameter.hpp"

namespace etna::prune {

struct SparsityReport {
  struct Entry {
    std::string name;
    Shape shape;
    std::int64_t numel = 0;
    std::int64_t zeros = 0;   // elements equal to zero (masked ones and any others)
    std::int64_t masked = 0;  // elements the mask prunes (0 when the parameter is not pruned)
    bool pruned = false;      // whether the parameter has a mask
    double sparsity() const { return numel ? static_cast<double>(zeros) / numel : 0.0; }
  };
  std::vector<Entry> entries;

  std::int64_t total_numel() const {
    std::int64_t n = 0;
    for (const auto& e : entries) n += e.numel;
    return n;
  }
  std::int64_t total_zeros() const {
    std::int64_t n = 0;
    for (const auto& e : entries) n += e.zeros;
    return n;
  }
  // Elements not zero: the parameters a compressed model has to store.
  std::int64_t total_nonzero() const { return total_numel() - total_zeros(); }
  // Zeros over all the parameters in the report.
  double global_sparsity() const {
    const auto n = total_numel();
    return n ? static_cast<double>(total_zeros()) / n : 0.0;
  }
  // The entry of a parameter; value_error when the report has none of that name.
  const Entry& at(const std::string& name) const {
    for (const auto& e : entries)
      if (e.name == name) return e;
    throw value_error("prune::SparsityReport::at: no parameter named '" + name + "'");
  }
};

// Every parameter of `net` (or only those named, dotted names or globs).
template <class M>
SparsityReport sparsity_report(const M& net, const std::vector<std::string>& names = {}) {
  SparsityReport report;
  const auto selected = names.empty() ? std::vector<std::string>{}
                                      : detail::resolve_names(net, names, "prune::sparsity_report");
  for (const auto& [name, p] : net.named_parameters()) {
    bool wanted = selected.empty();
    for (const auto& s : selected) wanted = wanted || s == name;
    if (!wanted) continue;
    SparsityReport::Entry e;
    e.name = name;
    e.shape = p.value().shape();
    e.numel = p.numel();
    for (double v : detail::host_values(p.value())) e.zeros += v == 0;
    e.pruned = p.impl_ptr()->mask.defined();
    if (e.pruned)
      for (double m : detail::host_values(p.impl_ptr()->mask)) e.masked += m == 0;
    report.entries.push_back(std::move(e));
  }
  return report;
}

// name | shape | params | zeros | sparsity | masked, then the totals.
inline std::ostream& operator<<(std::ostream& os, const SparsityReport& r) {
  std::size_t width = 5;
  for (const auto& e : r.entries) width = std::max(width, e.name.size());
  const auto shape_str = [](const Shape& s) {
    std::ostringstream o;
    o << s;
    return o.str();
  };
  std::ostringstream out;
  out << std::left << std::setw(static_cast<int>(width)) << "name"
      << "  " << std::setw(14) << "shape" << std::right << std::setw(10) << "params"
      << std::setw(10) << "zeros" << std::setw(10) << "sparsity" << std::setw(10) << "masked"
      << '\n';
  const auto row = [&](const std::string& name, const std::string& shape, std::int64_t n,
                       std::int64_t z, const std::string& masked) {
    out << std::left << std::setw(static_cast<int>(width)) << name << "  " << std::setw(14) << shape
        << std::right << std::setw(10) << n << std::setw(10) << z << std::setw(9) << std::fixed
        << std::setprecision(2) << (n ? 100.0 * z / n : 0.0) << '%' << std::setw(10) << masked
        << '\n';
  };
  for (const auto& e : r.entries)
    row(e.name, shape_str(e.shape), e.numel, e.zeros, e.pruned ? std::to_string(e.masked) : "-");
  row("total", "", r.total_numel(), r.total_zeros(), "");
  return os << out.str();
}

}  // namespace etna::prune
