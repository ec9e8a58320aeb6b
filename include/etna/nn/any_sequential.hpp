// nn::AnySequential<T, D>: a chain of type-erased layers whose length and types are decided at
// run time (from code or from a JSON spec); named "0", "1"... and printed as PyTorch's Sequential.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "etna/autograd/function.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/any_layer.hpp"
#include "etna/nn/layer_spec.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {

template <class T = float, class D = cpu>
class AnySequential : public Module<AnySequential<T, D>> {
 public:
  // The element type cannot be read from the (type-erased) children at compile time.
  using etna_param_type = Var<T, D>;
  // The version of the JSON spec that to_json() writes and from_json() reads.
  static constexpr int spec_version = 1;

  AnySequential() = default;
  // AnySequential<> net(Flatten{}, Linear<>(784, 10), ReLU{}); never a copy of another
  // AnySequential (that is the copy constructor; nest one with AnyLayer<T, D>(other)).
  template <class... L>
    requires(sizeof...(L) > 0 &&
             !(std::is_same_v<std::remove_cvref_t<L>, AnySequential> || ...) &&
             (std::is_constructible_v<AnyLayer<T, D>, L> && ...))
  explicit AnySequential(L&&... layers) {
    (layers_.emplace_back(std::forward<L>(layers)), ...);
  }

  // Appends a layer (any etna layer mapping Var<T, D> to Var<T, D>); returns *this to chain.
  AnySequential& push_back(AnyLayer<T, D> layer) {
    layers_.push_back(std::move(layer));
    return *this;
  }
  std::size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  AnyLayer<T, D>& operator[](std::size_t i) { return at(i); }
  const AnyLayer<T, D>& operator[](std::size_t i) const { return at(i); }
  AnyLayer<T, D>& at(std::size_t i) { return layers_.at(check_index(i)); }
  const AnyLayer<T, D>& at(std::size_t i) const { return layers_.at(check_index(i)); }

  // Replaces layer i in place (a new head: net.replace(net.size() - 1, Linear<>(64, 5))); the
  // old layer object is dropped, the others keep their parameters. index_error when i >= size().
  AnySequential& replace(std::size_t i, AnyLayer<T, D> layer) {
    if (i >= layers_.size())
      throw index_error(detail::str("AnySequential::replace: index ", i, " is out of range for ",
                                    layers_.size(), " layers"));
    layers_[i] = std::move(layer);
    return *this;
  }
  // Freezes (unfreezes) the parameters of layers [begin, end), Python slice indices (negatives
  // count from the end; see Sequential::freeze_layers).
  AnySequential& freeze_layers(std::ptrdiff_t begin, std::ptrdiff_t end) {
    detail::set_trainable_layers(this->module_ref(), size(), begin, end, false);
    return *this;
  }
  AnySequential& freeze_layers(std::ptrdiff_t begin) {
    return freeze_layers(begin, static_cast<std::ptrdiff_t>(size()));
  }
  AnySequential& unfreeze_layers(std::ptrdiff_t begin, std::ptrdiff_t end) {
    detail::set_trainable_layers(this->module_ref(), size(), begin, end, true);
    return *this;
  }
  AnySequential& unfreeze_layers(std::ptrdiff_t begin) {
    return unfreeze_layers(begin, static_cast<std::ptrdiff_t>(size()));
  }

  // Feeds x through every layer; a tensor input enters as a constant (no gradient).
  Var<T, D> forward(const Var<T, D>& x) {
    Var<T, D> y = x;
    for (auto& layer : layers_) y = layer(y);
    return y;
  }
  template <class X>
    requires(!std::is_same_v<std::remove_cvref_t<X>, Var<T, D>>)
  Var<T, D> forward(const X& x) {
    return forward(Var<T, D>(as_var(x)));
  }

  // Printed as "Sequential(...)", so its repr equals the PyTorch module it mirrors.
  static constexpr const char* etna_type_name() { return "Sequential"; }
  // Registered under the empty name: the layers are named "0", "1"... directly, as PyTorch's.
  auto etna_children() { return std::tie(layers_); }
  static std::string etna_child_name(std::size_t) { return ""; }

  // ---- JSON spec ----------------------------------------------------------------------------
  // {"layers": [{"type": "Linear", "in_features": 784, "out_features": 256}, {"type": "ReLU"}]}
  // (keys of each type: docs/modules.md). Checks what can be checked before running: known
  // types, keys and their JSON types, and each Linear's in_features against the last size.
  static AnySequential from_json(const nlohmann::json& spec) {
    const std::string where = "AnySequential::from_json: ";
    if (!spec.is_object() || !spec.contains("layers") || !spec.at("layers").is_array())
      throw value_error(where + "the spec must be an object with a \"layers\" array, got " +
                        spec.dump().substr(0, 80));
    for (auto it = spec.begin(); it != spec.end(); ++it)
      if (it.key() != "layers" && it.key() != "format_version")
        throw value_error(where + "unknown top-level key \"" + it.key() +
                          "\" (known: \"layers\", \"format_version\")");
    if (spec.contains("format_version")) {
      const auto& v = spec.at("format_version");
      if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > spec_version)
        throw value_error(detail::str(where, "format_version ", v.dump(),
                                      " is not supported (this etna reads 1 to ", spec_version,
                                      ")"));
    }
    AnySequential net;
    std::int64_t features = 0;  // the last known feature size and the layer that gave it
    std::size_t producer = 0;
    const auto& layers = spec.at("layers");
    for (std::size_t i = 0; i < layers.size(); ++i) {
      auto built = build_layer(layers[i], i);
      if (built.in_features > 0 && features > 0 && built.in_features != features)
        throw value_error(detail::str(where, "layer ", i, " (", built.layer.type_name(),
                                      ") has in_features=", built.in_features, ", but layer ",
                                      producer, " (", net.layers_[producer].type_name(),
                                      ") gives ", features, " features"));
      if (built.out_features == kSameFeatures) {
        if (features == 0 && built.in_features > 0) features = built.in_features, producer = i;
      } else {
        features = built.out_features;
        producer = i;
      }
      net.layers_.push_back(std::move(built.layer));
    }
    return net;
  }
  static AnySequential from_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw io_error("AnySequential::from_json_file: cannot open \"" + path + "\"");
    nlohmann::json spec;
    try {
      in >> spec;
    } catch (const nlohmann::json::exception& e) {
      throw io_error("AnySequential::from_json_file: \"" + path + "\" is not valid JSON: " +
                     e.what());
    }
    return from_json(spec);
  }
  // The spec back: {"format_version": 1, "layers": [...]}, every key written (defaults too).
  // Layers must be of the types from_json builds (runtime-sized Linear<>, ...).
  nlohmann::json to_json() const {
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const LayerSpecType<T, D>* entry = find_type(layers_[i]);
      if (!entry)
        throw value_error(detail::str("AnySequential::to_json: layer ", i, " (",
                                      layers_[i].type_name(), ", C++ type ",
                                      detail::short_type_name(layers_[i].type().name()),
                                      ") is not a layer type of the JSON spec (runtime-sized "
                                      "layers such as Linear<> are; see layer_spec_types())"));
      nlohmann::json j = {{"type", entry->name}};
      entry->write(layers_[i], j);
      layers.push_back(std::move(j));
    }
    return {{"format_version", spec_version}, {"layers", std::move(layers)}};
  }

 private:
  std::size_t check_index(std::size_t i) const {
    if (i >= layers_.size())
      throw index_error(detail::str("AnySequential: index ", i, " is out of range for ",
                                    layers_.size(), " layers"));
    return i;
  }

  static BuiltLayer<T, D> build_layer(const nlohmann::json& j, std::size_t i) {
    auto fail = [&](const std::string& what) {
      return value_error(detail::str("AnySequential::from_json: layer ", i, ": ", what));
    };
    if (!j.is_object()) throw fail("must be an object with a \"type\", got " + j.dump());
    if (!j.contains("type")) throw fail("missing key \"type\"");
    if (!j.at("type").is_string())
      throw fail("key \"type\" must be a string, got " + j.at("type").dump());
    const auto type = j.at("type").get<std::string>();
    for (const auto& entry : layer_spec_types<T, D>()) {
      if (entry.name != type) continue;
      LayerSpecReader reader(j, i, type);
      try {
        auto built = entry.build(reader);
        reader.reject_unknown_keys();
        return built;
      } catch (const etna::error& e) {  // a layer's own check (Dropout's p): say which layer
        const std::string what = e.what();
        if (what.rfind("AnySequential::from_json", 0) == 0) throw;
        throw reader.error(what);
      }
    }
    std::vector<std::string> names;
    for (const auto& entry : layer_spec_types<T, D>()) names.push_back(entry.name);
    std::sort(names.begin(), names.end());
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw fail("unknown layer type \"" + type + "\" (known types: " + known + ")");
  }

  static const LayerSpecType<T, D>* find_type(const AnyLayer<T, D>& layer) {
    for (const auto& entry : layer_spec_types<T, D>())
      if (*entry.type == layer.type()) return &entry;
    return nullptr;
  }

  std::vector<AnyLayer<T, D>> layers_;
};

}  // namespace etna::nn
