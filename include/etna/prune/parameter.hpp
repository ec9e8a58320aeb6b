// How pruning reaches a parameter: by name (a module's own "weight" or a dotted path such as
// "fc1.weight"), its values read on the host, and a new mask combined into VarImpl::mask.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/freeze.hpp"
#include "etna/nn/module.hpp"

namespace etna::prune {

// The Var type of module M's parameters (Var<float, cpu>, Var<float, cuda>...).
template <class M>
using param_t =
    typename decltype(std::declval<const M&>().named_parameters())::value_type::second_type;

namespace detail {

using etna::detail::str;

// "1.weight, 1.bias, 3.weight, ... (4 more)": the names to suggest when one is unknown.
template <class P>
std::string known_names(const std::vector<std::pair<std::string, P>>& params) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& [name, p] : params) {
    if (shown == 12) return out + str(", ... (", params.size() - shown, " more)");
    out += (shown++ ? ", " : "") + name;
  }
  return out.empty() ? "none" : out;
}

// The parameter called `name` in `module` (its named_parameters() name).
template <class M>
param_t<M> find_parameter(const M& mod, const std::string& name, const std::string& what) {
  const auto params = mod.named_parameters();
  for (const auto& [n, p] : params)
    if (n == name) return p;
  throw value_error(str(what, ": no parameter named '", name, "' in ", mod.module_ref().type_name(),
                        " (its parameters: ", known_names(params), ")"));
}

// Names as given, or expanded when they are globs (`*`, `?`: "*.weight"), in the module's order.
template <class M>
std::vector<std::string> resolve_names(const M& mod, const std::vector<std::string>& names,
                                       const std::string& what) {
  const auto params = mod.named_parameters();
  std::vector<std::string> out;
  for (const std::string& pattern : names) {
    if (pattern.find_first_of("*?") == std::string::npos) {
      (void)find_parameter(mod, pattern, what);
      out.push_back(pattern);
      continue;
    }
    bool any = false;
    for (const auto& [n, p] : params)
      if (nn::glob_match(pattern, n)) {
        out.push_back(n);
        any = true;
      }
    if (!any)
      throw value_error(str(what, ": the pattern '", pattern, "' matches no parameter of ",
                            mod.module_ref().type_name(), " (its parameters: ", known_names(params),
                            ")"));
  }
  if (out.empty()) throw value_error(str(what, ": no parameters given"));
  return out;
}

// A tensor's elements as doubles on the host, in row-major order (cuda tensors are copied).
template <class T, class D>
std::vector<double> host_values(const Tensor<T, D>& t) {
  const Tensor<T, cpu> h = t.template to<cpu>();
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(h.numel()));
  for (auto it = h.begin(); it != h.end(); ++it) out.push_back(static_cast<double>(*it));
  return out;
}

// The current mask on the host (1 keep, 0 pruned; all ones for an unpruned parameter).
template <class T, class D>
std::vector<double> host_mask(const Var<T, D>& p) {
  const auto& mask = p.impl_ptr()->mask;
  if (mask.defined()) return host_values(mask);
  return std::vector<double>(static_cast<std::size_t>(p.numel()), 1.0);
}

// Makes `mask` (host, 0/1, row-major) the parameter's mask: the value and any gradient are
// multiplied by it, so pruned weights are zero at once, and derived inference data is dropped.
template <class T, class D>
void set_mask(const Var<T, D>& p, const std::vector<double>& mask) {
  auto& impl = *p.impl_ptr();
  Tensor<T, cpu> host = empty<T, cpu>(impl.value.shape());
  T* out = host.data();
  for (double m : mask) *out++ = m != 0 ? T(1) : T(0);
  impl.mask = host.template to<D>();
  impl.value.assign(impl.value * impl.mask);
  // A new tensor, not an in-place write: a gradient may share storage with another tensor.
  if (impl.grad.defined()) impl.grad = Tensor<T, D>(impl.grad * impl.mask);
  impl.inference_cache.reset();
}

}  // namespace detail
}  // namespace etna::prune
