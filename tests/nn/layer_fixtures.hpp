// What the layer tests share: the PyTorch reference file (tests/reference/make_nn_layers.py),
// a module's state_dict keys in PyTorch's order, and the gradcheck assertion with its report.
#pragma once

#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "support/fixtures.hpp"

namespace etna::test {

inline const Fixtures& layer_fx() {
  static const Fixtures f("nn_layers.json");
  return f;
}

// Parameters, then floating buffers, then integer buffers: PyTorch's state_dict order for a
// single layer (weight, bias, running_mean, running_var, num_batches_tracked).
template <class M>
std::vector<std::string> state_dict_keys(const M& m) {
  std::vector<std::string> keys;
  for (auto& [name, p] : m.named_parameters()) keys.push_back(name);
  for (auto& [name, b] : m.named_buffers()) keys.push_back(name);
  for (auto& [name, b] : m.named_index_buffers()) keys.push_back(name);
  return keys;
}

// The layer's state_dict keys and printed repr equal PyTorch's for the fixture entry `tag`.
template <class M>
void check_names_and_repr(const M& m, const std::string& tag) {
  INFO(tag);
  CHECK(state_dict_keys(m) == layer_fx().value<std::vector<std::string>>(tag + "_keys"));
  CHECK(m.repr() == layer_fx().value<std::string>(tag + "_repr"));
}

inline void check_gradcheck(const GradcheckResult& r) {
  INFO(r.report);
  CHECK(r);
}

}  // namespace etna::test
