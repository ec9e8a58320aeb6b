// What the Transformer tests share: the PyTorch reference files (tests/reference/
// make_transformer.py), loading a module's weights from them by state_dict name, and the checks
// of outputs and of every gradient against PyTorch's.
#pragma once

#include <string>
#include <vector>

#include "etna/nn.hpp"
#include "support/fixtures.hpp"

namespace etna::test {

inline const Fixtures& transformer_layers_fx() {
  static const Fixtures f("transformer_layers.json");
  return f;
}
inline const Fixtures& transformer_stacks_fx() {
  static const Fixtures f("transformer_stacks.json");
  return f;
}

template <class M>
std::vector<std::string> parameter_names(const M& m) {
  std::vector<std::string> names;
  for (auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

// Copies "<tag>.param.<name>" into each parameter (the names must match PyTorch's exactly).
template <class M>
void load_fixture_params(M& m, const Fixtures& fx, const std::string& tag) {
  using V = typename std::remove_cvref_t<decltype(m.parameters()[0])>;
  using T = typename V::value_type;
  using D = typename V::device_type;
  REQUIRE(parameter_names(m) == fx.value<std::vector<std::string>>(tag + ".keys"));
  for (auto& [name, p] : m.named_parameters()) {
    const auto host = fx.tensor<T>(tag + ".param." + name);
    if constexpr (std::is_same_v<D, cpu>)
      p.value().assign(host);
    else
      p.value().assign(host.template to<D>());
  }
}

// A mask entry: bool tensors stay bool, float ones become T (with their -inf).
template <class T, class D = cpu>
nn::AttentionMask<T, D> fixture_mask(const Fixtures& fx, const std::string& name) {
  if (!fx.contains(name)) return {};
  if (fx.json().at(name).at("dtype") == "bool") {
    auto m = fx.tensor<bool>(name);
    if constexpr (std::is_same_v<D, cpu>)
      return m;
    else
      return m.template to<D>();
  }
  auto m = fx.tensor<T>(name);
  if constexpr (std::is_same_v<D, cpu>)
    return m;
  else
    return m.template to<D>();
}

// Every parameter's gradient against "<tag>.grad.param.<name>".
template <class M>
void check_param_grads(const M& m, const Fixtures& fx, const std::string& tag, double rtol,
                       double atol) {
  for (auto& [name, p] : m.named_parameters()) {
    INFO("gradient of " << name);
    REQUIRE(p.grad().defined());
    ETNA_CHECK_CLOSE(p.grad().template to<cpu>(), fx.tensor<double>(tag + ".grad.param." + name),
                     rtol, atol);
  }
}

// PyTorch prints MultiheadAttention's out_proj as NonDynamicallyQuantizableLinear (a Linear
// subclass for quantisation); etna's is a plain Linear.
inline std::string pytorch_repr(const Fixtures& fx, const std::string& tag) {
  std::string r = fx.value<std::string>(tag + ".repr");
  const std::string from = "NonDynamicallyQuantizableLinear", to = "Linear";
  for (auto pos = r.find(from); pos != std::string::npos; pos = r.find(from, pos + to.size()))
    r.replace(pos, from.size(), to);
  return r;
}

}  // namespace etna::test
