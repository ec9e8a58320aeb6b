// Selecting parameters by name for transfer learning: glob patterns over named_parameters()
// ("features.*", "*.bias"), freezing by pattern or by layer index, and parameter lists for
// optimizer groups (a small learning rate for the backbone, a larger one for the head).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/nn/module_ref.hpp"

namespace etna::nn {

// Whether `name` matches the glob `pattern` as a whole: `*` stands for any run of characters
// (dots included, so "features.*" reaches "features.0.weight"), `?` for one character.
inline bool glob_match(std::string_view pattern, std::string_view name) {
  // The classic linear-time matcher: on a mismatch, retry from the last `*`, one character on.
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace detail {

// Every parameter below `m` with its name, each listed once (tied weights under the first
// name), as Module::named_parameters() lists them.
template <class T, class D>
std::vector<std::pair<std::string, Var<T, D>>> all_named_parameters(const ModuleRef<T, D>& m) {
  struct Collect : StateVisitor<T, D> {
    std::vector<std::pair<std::string, Var<T, D>>> out;
    void parameter(const std::string& name, Var<T, D>& p) override {
      for (const auto& [seen, q] : out)
        if (q.impl_ptr() == p.impl_ptr()) return;
      out.emplace_back(name, p);
    }
  } visitor;
  m.visit("", visitor);
  return std::move(visitor.out);
}

// The parameters whose names match `pattern`; a pattern matching nothing is almost always a
// typo, so it is an error that shows what the names look like.
template <class T, class D>
std::vector<std::pair<std::string, Var<T, D>>> matching_or_throw(const ModuleRef<T, D>& m,
                                                                 std::string_view pattern,
                                                                 const char* who) {
  auto all = all_named_parameters(m);
  std::vector<std::pair<std::string, Var<T, D>>> out;
  for (auto& entry : all)
    if (glob_match(pattern, entry.first)) out.push_back(entry);
  if (out.empty()) {
    std::string names;
    const std::size_t shown = all.size() < 6 ? all.size() : 6;
    for (std::size_t i = 0; i < shown; ++i) names += (i ? ", " : "") + all[i].first;
    if (shown < all.size()) names += str(", ... ", all.size(), " in all");
    throw value_error(str(
        who, "(\"", pattern, "\"): the pattern matches no parameter of ", m.type_name(),
        all.empty() ? std::string(" (it has no parameters)") : " (its parameters: " + names + ")"));
  }
  return out;
}

// Sets requires_grad; freezing also drops the gradient, so that an optimizer (which steps
// every parameter holding a gradient) cannot move a frozen weight with a stale one.
template <class T, class D>
void set_trainable(Var<T, D>& p, bool on) {
  p.requires_grad(on);
  if (!on) p.zero_grad();
}

template <class T, class D>
void set_trainable_matching(const ModuleRef<T, D>& m, std::string_view pattern, bool on) {
  for (auto& [name, p] : matching_or_throw(m, pattern, on ? "unfreeze" : "freeze"))
    set_trainable(p, on);
}

// Python slice bounds over `size` layers: negatives count from the end; out of range is an
// error (not clamped as Python does: freeze_layers(0, 12) on 10 layers is a mistake).
inline std::pair<std::size_t, std::size_t> layer_range(std::ptrdiff_t begin, std::ptrdiff_t end,
                                                       std::size_t size, const char* who) {
  const auto n = static_cast<std::ptrdiff_t>(size);
  auto normalize = [&](std::ptrdiff_t i, const char* which) {
    if (i < -n || i > n)
      throw index_error(str(who, "(", begin, ", ", end, "): ", which, " index ", i,
                            " is out of range for ", size, " layers (valid: -", size, " to ", size,
                            ")"));
    return i < 0 ? i + n : i;
  };
  const std::ptrdiff_t b = normalize(begin, "begin"), e = normalize(end, "end");
  if (b > e)
    throw index_error(str(who, "(", begin, ", ", end, "): begin comes after end (layers ", b,
                          " to ", e, " of ", size, ")"));
  return {static_cast<std::size_t>(b), static_cast<std::size_t>(e)};
}

// Sets requires_grad of every parameter of the direct children [begin, end) of `m` (a
// Sequential's layers "0", "1"...).
template <class T, class D>
void set_trainable_layers(const ModuleRef<T, D>& m, std::size_t size, std::ptrdiff_t begin,
                          std::ptrdiff_t end, bool on) {
  const auto [b, e] = layer_range(begin, end, size, on ? "unfreeze_layers" : "freeze_layers");
  struct Layers : StateVisitor<T, D> {
    std::vector<ModuleRef<T, D>> out;
    bool module(const std::string&, const ModuleRef<T, D>& child) override {
      out.push_back(child);
      return false;
    }
  } children;
  m.visit("", children);
  for (std::size_t i = b; i < e && i < children.out.size(); ++i)
    for (auto& [name, p] : all_named_parameters(children.out[i])) set_trainable(p, on);
}

}  // namespace detail

// The parameters of `net` whose names match `pattern`, with their names, in named_parameters()
// order; value_error when none does.
template <Layer M>
auto named_parameters_matching(const M& net, std::string_view pattern) {
  return detail::matching_or_throw(net.module_ref(), pattern, "named_parameters_matching");
}

// What an optimizer group takes:
//   et::optim::SGD opt(nn::parameters_matching(net, "features.*"), {.lr = 1e-4});
//   opt.add_param_group(nn::parameters_matching(net, "classifier.*"), {.lr = 1e-2});
template <Layer M>
auto parameters_matching(const M& net, std::string_view pattern) {
  std::vector<typename decltype(net.parameters())::value_type> out;
  for (auto& [name, p] :
       detail::matching_or_throw(net.module_ref(), pattern, "parameters_matching"))
    out.push_back(p);
  return out;
}

// The other parameters: every parameter whose name does not match (the pattern itself must
// match something, as above, so a typo is not silently "everything").
template <Layer M>
auto parameters_not_matching(const M& net, std::string_view pattern) {
  (void)detail::matching_or_throw(net.module_ref(), pattern, "parameters_not_matching");
  std::vector<typename decltype(net.parameters())::value_type> out;
  for (auto& [name, p] : net.named_parameters())
    if (!glob_match(pattern, name)) out.push_back(p);
  return out;
}

// The parameters that are not frozen: `et::optim::Adam opt(nn::trainable_parameters(net));`.
template <Layer M>
auto trainable_parameters(const M& net) {
  std::vector<typename decltype(net.parameters())::value_type> out;
  for (auto& p : net.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

}  // namespace etna::nn
