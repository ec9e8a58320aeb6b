// Global unstructured pruning: one ranking (so one magnitude threshold) over the elements of
// several parameters, as torch.nn.utils.prune.global_unstructured; and prune_to_sparsity, which
// reaches a given overall sparsity (what schedules and iterative pruning ask for).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/prune/unstructured.hpp"

namespace etna::prune {

enum class Method { l1, random };

struct GlobalOptions {
  Method method = Method::l1;
  // A fraction of all the still-unpruned elements of the parameters together, or a count.
  Amount amount = 0.0;
  Generator* generator = nullptr;  // Method::random; null = the default generator
};

// Prunes the parameters `names` of `net` (dotted names as named_parameters() gives them, or
// globs: "*.weight") together: the `amount` unpruned elements of smallest |w| over all of them
// (Method::l1) or chosen at random, so layers end up with different sparsities.
template <class M>
void global_unstructured(M& net, const std::vector<std::string>& names, GlobalOptions options) {
  const std::string what = "prune::global_unstructured";
  const auto resolved = detail::resolve_names(net, names, what);
  std::vector<param_t<M>> params;
  std::vector<double> mask, score;
  for (const std::string& name : resolved) {
    auto p = detail::find_parameter(net, name, what);
    for (const auto& q : params)
      if (q.impl_ptr() == p.impl_ptr())
        throw value_error(what + ": the parameter '" + name + "' is listed twice");
    const auto m = detail::host_mask(p);
    const auto v = detail::host_values(p.value());
    mask.insert(mask.end(), m.begin(), m.end());
    for (double x : v) score.push_back(std::fabs(x));
    params.push_back(p);
  }
  const std::int64_t k = options.amount.to_prune(detail::count_alive(mask), what);
  if (options.method == Method::random) score = detail::uniforms(score.size(), options.generator);
  detail::prune_smallest(mask, score, k);
  std::size_t at = 0;
  for (const auto& p : params) {
    const auto n = static_cast<std::size_t>(p.numel());
    detail::set_mask(p, std::vector<double>(mask.begin() + static_cast<std::ptrdiff_t>(at),
                                            mask.begin() + static_cast<std::ptrdiff_t>(at + n)));
    at += n;
  }
}

// Prunes the parameters `names` together (global magnitude, or random) until round(target *
// their total size) of their elements are masked; nothing when that many already are. Returns
// how many elements this call pruned. The sparsity is over the masks, so a parameter's
// zero-valued but unmasked elements do not count.
template <class M>
std::int64_t prune_to_sparsity(M& net, const std::vector<std::string>& names, double target,
                               Method method = Method::l1, Generator* gen = nullptr) {
  const std::string what = "prune::prune_to_sparsity";
  if (!(target >= 0.0 && target <= 1.0))
    throw value_error(
        etna::detail::str(what, ": target sparsity ", target, " should be in [0, 1]"));
  std::int64_t total = 0, masked = 0;
  for (const std::string& name : detail::resolve_names(net, names, what)) {
    auto p = detail::find_parameter(net, name, what);
    const auto m = detail::host_mask(p);
    total += static_cast<std::int64_t>(m.size());
    masked += static_cast<std::int64_t>(m.size()) - detail::count_alive(m);
  }
  const auto wanted =
      static_cast<std::int64_t>(std::nearbyint(target * static_cast<double>(total)));
  if (wanted <= masked) return 0;
  global_unstructured(net, names, {.method = method, .amount = wanted - masked, .generator = gen});
  return wanted - masked;
}

}  // namespace etna::prune
