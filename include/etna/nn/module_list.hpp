// nn::ModuleList<M>: PyTorch's nn.ModuleList for modules of one type: a registered list whose
// elements are named "0", "1"... under the list's own name ("layers.0.linear1.weight").
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "etna/nn/module.hpp"

namespace etna::nn {

template <class M>
class ModuleList : public Module<ModuleList<M>> {
  static_assert(Layer<M>,
                "et::nn::ModuleList<M>: M must be an etna layer (derived from "
                "et::nn::Module<M> and registering its members with ETNA_MODULE)");

 public:
  using value_type = M;

  ModuleList() = default;
  explicit ModuleList(std::vector<M> modules) : items_(std::move(modules)) {}

  void push_back(M m) { items_.push_back(std::move(m)); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  M& operator[](std::size_t i) { return items_.at(i); }
  const M& operator[](std::size_t i) const { return items_.at(i); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

  // As PyTorch's ModuleList, it is a container without a forward of its own.

  // The elements directly under the list's prefix, as PyTorch names them (no extra level).
  auto etna_children() { return std::tie(items_); }
  static std::string etna_child_name(std::size_t) { return ""; }

 private:
  std::vector<M> items_;
};

}  // namespace etna::nn
