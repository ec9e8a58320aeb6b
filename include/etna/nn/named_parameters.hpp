// nn::NamedParameters: an ordered list of parameters whose names are chosen at run time
// (LSTM's weight_ih_l0, bias_hh_l1_reverse...). Registered with ETNA_MODULE under any member
// name, it contributes its parameters directly under the parent's prefix with their own names.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/core/error.hpp"

namespace etna::nn {

template <class T, class D = cpu>
class NamedParameters {
 public:
  using etna_param_type = Var<T, D>;  // what module traversal reads as this member's type
  using entry_type = std::pair<std::string, Var<T, D>>;

  // Appends a parameter; names must be unique (they become state_dict keys).
  void add(std::string name, Var<T, D> p) {
    for (const auto& e : entries_)
      if (e.first == name)
        throw value_error(
            etna::detail::str("NamedParameters::add: the name '", name, "' is already registered"));
    entries_.emplace_back(std::move(name), std::move(p));
  }
  Var<T, D>& operator[](std::string_view name) { return find(name); }
  const Var<T, D>& operator[](std::string_view name) const {
    return const_cast<NamedParameters*>(this)->find(name);
  }
  bool contains(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.first == name) return true;
    return false;
  }
  std::size_t size() const { return entries_.size(); }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  Var<T, D>& find(std::string_view name) {
    for (auto& e : entries_)
      if (e.first == name) return e.second;
    std::string known;
    for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.first;
    throw value_error(etna::detail::str("NamedParameters: no parameter named '", name,
                                        "' (registered: ", known, ")"));
  }

  std::vector<entry_type> entries_;
};

template <class X>
struct is_named_parameters : std::false_type {};
template <class T, class D>
struct is_named_parameters<NamedParameters<T, D>> : std::true_type {};

}  // namespace etna::nn
