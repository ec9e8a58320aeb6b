// Structured pruning: whole slices of a parameter along one dimension (dim 0: a Linear's output
// neurons, a Conv2d's output channels), chosen by their Ln norm or at random, with
// torch.nn.utils.prune's semantics (the amount applies to the slices still unpruned).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "etna/prune/unstructured.hpp"

namespace etna::prune {
namespace detail {

// The layout of slices along `dim`: element i belongs to slice (i / inner) % count.
struct Slices {
  std::int64_t count = 0, inner = 1;
  std::int64_t of(std::size_t i) const { return (static_cast<std::int64_t>(i) / inner) % count; }
};

inline Slices slices_along(const Shape& shape, std::int64_t& dim, const std::string& what) {
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (dim < -rank || dim >= rank || rank == 0)
    throw value_error(etna::detail::str(what, ": dim=", dim,
                                        " is out of range for a parameter of shape ", shape));
  if (dim < 0) dim += rank;
  Slices s;
  s.count = shape[static_cast<std::size_t>(dim)];
  for (std::int64_t d = dim + 1; d < rank; ++d) s.inner *= shape[static_cast<std::size_t>(d)];
  return s;
}

// Zeroes, in `mask`, the k alive slices (a slice is alive while any element is unpruned) of
// smallest score: PyTorch keeps the topk largest, so ties prune the higher index first.
inline void prune_slices(std::vector<double>& mask, const Slices& s,
                         const std::vector<double>& score, const Amount& amount,
                         const std::string& what) {
  std::vector<char> alive(static_cast<std::size_t>(s.count), 0);
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0) alive[static_cast<std::size_t>(s.of(i))] = 1;
  std::vector<std::int64_t> order;
  for (std::int64_t c = 0; c < s.count; ++c)
    if (alive[static_cast<std::size_t>(c)]) order.push_back(c);
  const std::int64_t k = amount.to_prune(static_cast<std::int64_t>(order.size()), what);
  if (k == 0) return;
  // Keep the (alive - k) largest, lower index first among equals, as a stable topk would.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return score[a] > score[b]; });
  std::vector<char> drop(static_cast<std::size_t>(s.count), 0);
  for (std::size_t j = order.size() - static_cast<std::size_t>(k); j < order.size(); ++j)
    drop[static_cast<std::size_t>(order[j])] = 1;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (drop[static_cast<std::size_t>(s.of(i))]) mask[i] = 0;
}

}  // namespace detail

// Prunes the `amount` unpruned slices along `dim` with the smallest Ln norm (PyTorch's
// ln_structured): n = 1, 2, any p > 0, or +/-infinity (largest / smallest |w| of the slice).
// The norm is taken over the stored (effective) weights: elements an earlier unstructured
// pruning zeroed count as zero (PyTorch reads weight_orig; see docs/pruning.md).
template <class M>
void ln_structured(M& mod, const std::string& name, Amount amount, double n, std::int64_t dim) {
  const std::string what = "prune::ln_structured('" + name + "')";
  if (std::isnan(n) || n == 0)
    throw value_error(etna::detail::str(what, ": n=", n,
                                        " is not a norm order (use 1, 2, another p > 0, or "
                                        "std::numeric_limits<double>::infinity())"));
  auto p = detail::find_parameter(mod, name, what);
  const auto s = detail::slices_along(p.value().shape(), dim, what);
  auto mask = detail::host_mask(p);
  const auto values = detail::host_values(p.value());
  const bool inf = std::isinf(n);
  std::vector<double> norm(static_cast<std::size_t>(s.count),
                           inf && n < 0 ? std::numeric_limits<double>::infinity() : 0.0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double a = std::fabs(values[i]);
    double& acc = norm[static_cast<std::size_t>(s.of(i))];
    if (inf)
      acc = n > 0 ? std::max(acc, a) : std::min(acc, a);
    else
      acc += n == 1 ? a : n == 2 ? a * a : std::pow(a, n);
  }
  if (!inf && n != 1)
    for (double& v : norm) v = std::pow(v, 1.0 / n);
  detail::prune_slices(mask, s, norm, amount, what);
  detail::set_mask(p, mask);
}

// Prunes `amount` unpruned slices along `dim` chosen at random (PyTorch's random_structured).
template <class M>
void random_structured(M& mod, const std::string& name, Amount amount, std::int64_t dim,
                       Generator* gen = nullptr) {
  const std::string what = "prune::random_structured('" + name + "')";
  auto p = detail::find_parameter(mod, name, what);
  const auto s = detail::slices_along(p.value().shape(), dim, what);
  auto mask = detail::host_mask(p);
  detail::prune_slices(mask, s, detail::uniforms(static_cast<std::size_t>(s.count), gen), amount,
                       what);
  detail::set_mask(p, mask);
}

}  // namespace etna::prune
