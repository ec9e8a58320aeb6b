// Unstructured pruning of one parameter, element by element: by magnitude (L1), at random, by a
// threshold, or from a given mask; plus identity, remove and is_pruned. torch.nn.utils.prune's
// semantics: a new amount applies to the elements still unpruned and masks combine.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "etna/core/random.hpp"
#include "etna/prune/amount.hpp"
#include "etna/prune/parameter.hpp"

namespace etna::prune {
namespace detail {

// Zeroes, in `mask`, the k unpruned elements with the smallest score (ties: the lower index
// first, so the count is exact and the choice deterministic).
inline void prune_smallest(std::vector<double>& mask, const std::vector<double>& score,
                           std::int64_t k) {
  if (k <= 0) return;
  std::vector<std::int64_t> alive;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0) alive.push_back(static_cast<std::int64_t>(i));
  const auto less = [&](std::int64_t a, std::int64_t b) {
    return score[a] < score[b] || (score[a] == score[b] && a < b);
  };
  std::nth_element(alive.begin(), alive.begin() + (k - 1), alive.end(), less);
  for (std::int64_t i = 0; i < k; ++i) mask[alive[i]] = 0;
}

inline std::int64_t count_alive(const std::vector<double>& mask) {
  return std::count_if(mask.begin(), mask.end(), [](double m) { return m != 0; });
}

// n uniform numbers in [0, 1) from the generator (the default one when null).
inline std::vector<double> uniforms(std::size_t n, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  const RandomStream s = g.reserve(n / 2 + 1);  // two doubles per Philox block
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = random_detail::uniform_at<double>(s, i);
  return out;
}

}  // namespace detail

// Prunes the `amount` unpruned elements of smallest absolute value (PyTorch's l1_unstructured).
template <class M>
void l1_unstructured(M& mod, const std::string& name, Amount amount) {
  const std::string what = "prune::l1_unstructured('" + name + "')";
  auto p = detail::find_parameter(mod, name, what);
  auto mask = detail::host_mask(p);
  auto score = detail::host_values(p.value());
  for (double& s : score) s = std::fabs(s);
  detail::prune_smallest(mask, score, amount.to_prune(detail::count_alive(mask), what));
  detail::set_mask(p, mask);
}

// Prunes `amount` unpruned elements chosen uniformly at random (PyTorch's random_unstructured).
template <class M>
void random_unstructured(M& mod, const std::string& name, Amount amount, Generator* gen = nullptr) {
  const std::string what = "prune::random_unstructured('" + name + "')";
  auto p = detail::find_parameter(mod, name, what);
  auto mask = detail::host_mask(p);
  const std::int64_t k = amount.to_prune(detail::count_alive(mask), what);
  detail::prune_smallest(mask, detail::uniforms(mask.size(), gen), k);
  detail::set_mask(p, mask);
}

// Prunes every element with |w| < threshold (not in PyTorch; a fixed magnitude cut).
template <class M>
void threshold_unstructured(M& mod, const std::string& name, double threshold) {
  const std::string what = "prune::threshold_unstructured('" + name + "')";
  if (!(threshold >= 0) || !std::isfinite(threshold))
    throw value_error(etna::detail::str(what, ": threshold=", threshold,
                                        " should be a finite non-negative number"));
  auto p = detail::find_parameter(mod, name, what);
  auto mask = detail::host_mask(p);
  const auto values = detail::host_values(p.value());
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (std::fabs(values[i]) < threshold) mask[i] = 0;
  detail::set_mask(p, mask);
}

// Prunes where `mask` is 0 (PyTorch's custom_from_mask); combined with any existing mask. The
// mask has the parameter's shape and may live on either device.
template <class M, class T, class D>
void custom_from_mask(M& mod, const std::string& name, const Tensor<T, D>& mask) {
  const std::string what = "prune::custom_from_mask('" + name + "')";
  auto p = detail::find_parameter(mod, name, what);
  if (!(mask.shape() == p.value().shape()))
    throw shape_error(etna::detail::str(what, ": the mask has shape ", mask.shape(),
                                        ", the parameter ", p.value().shape()));
  auto combined = detail::host_mask(p);
  const auto given = detail::host_values(mask);
  for (std::size_t i = 0; i < combined.size(); ++i)
    if (given[i] == 0) combined[i] = 0;
  detail::set_mask(p, combined);
}

// Marks the parameter as pruned without pruning anything (an all-ones mask; PyTorch's identity).
template <class M>
void identity(M& mod, const std::string& name) {
  auto p = detail::find_parameter(mod, name, "prune::identity('" + name + "')");
  detail::set_mask(p, detail::host_mask(p));
}

// Makes the pruning permanent: drops the mask, the pruned values stay zero (PyTorch's remove;
// further training may then move them). value_error when the parameter is not pruned.
template <class M>
void remove(M& mod, const std::string& name) {
  const std::string what = "prune::remove('" + name + "')";
  auto p = detail::find_parameter(mod, name, what);
  auto& impl = *p.impl_ptr();
  if (!impl.mask.defined())
    throw value_error(what +
                      ": the parameter is not pruned (prune it before removing the "
                      "pruning)");
  impl.mask = {};
}

// Whether any parameter of the module (or below it) is pruned.
template <class M>
bool is_pruned(const M& mod) {
  for (const auto& [name, p] : mod.named_parameters())
    if (p.impl_ptr()->mask.defined()) return true;
  return false;
}

// Whether that parameter is pruned.
template <class M>
bool is_pruned(const M& mod, const std::string& name) {
  return detail::find_parameter(mod, name, "prune::is_pruned('" + name + "')")
      .impl_ptr()
      ->mask.defined();
}

}  // namespace etna::prune
