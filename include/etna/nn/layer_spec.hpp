// The JSON layer spec: how each layer type is built from {"type": "Linear", ...} and written
// back, in one registry per element type and device (AnySequential::from_json / to_json use it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "etna/core/error.hpp"
#include "etna/nn/activation.hpp"
#include "etna/nn/any_layer.hpp"
#include "etna/nn/dropout.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/normalization.hpp"

namespace etna::nn {

// Reads one layer's JSON object; every error names the layer by index and type, and the key.
class LayerSpecReader {
 public:
  LayerSpecReader(const nlohmann::json& spec, std::size_t index, std::string type)
      : spec_(spec), index_(index), type_(std::move(type)) {}

  // V: std::int64_t, double, bool, std::string or std::vector<std::int64_t> (which also
  // accepts a single integer, as PyTorch's normalized_shape=5).
  template <class V>
  V required(const std::string& key) {
    used_.push_back(key);
    if (!spec_.contains(key)) throw error(detail::str("missing key \"", key, "\""));
    return convert<V>(key, spec_.at(key));
  }
  template <class V>
  V optional(const std::string& key, V fallback) {
    used_.push_back(key);
    return spec_.contains(key) ? convert<V>(key, spec_.at(key)) : fallback;
  }
  // A key that may also be null (PyTorch's None, as BatchNorm's momentum=None).
  template <class V>
  std::optional<V> optional_or_null(const std::string& key, std::optional<V> fallback) {
    used_.push_back(key);
    if (!spec_.contains(key)) return fallback;
    if (spec_.at(key).is_null()) return std::nullopt;
    return convert<V>(key, spec_.at(key));
  }
  // A typo in a key would otherwise silently give the default: every key must be known.
  void reject_unknown_keys() const {
    for (auto it = spec_.begin(); it != spec_.end(); ++it)
      if (it.key() != "type" && std::find(used_.begin(), used_.end(), it.key()) == used_.end()) {
        std::string known;
        for (const auto& k : used_) known += (known.empty() ? "\"" : ", \"") + k + "\"";
        throw error(detail::str("unknown key \"", it.key(), "\" (", type_, " takes ",
                                known.empty() ? "no keys" : known, ")"));
      }
  }
  value_error error(const std::string& what) const {
    return value_error(detail::str("AnySequential::from_json: layer ", index_, " (", type_,
                                   "): ", what));
  }

 private:
  template <class V>
  V convert(const std::string& key, const nlohmann::json& j) const {
    auto wrong = [&](const char* expected) {
      return error(detail::str("key \"", key, "\" must be ", expected, ", got ", j.type_name(),
                               " ", j.dump()));
    };
    if constexpr (std::is_same_v<V, bool>) {
      if (!j.is_boolean()) throw wrong("a boolean");
      return j.get<bool>();
    } else if constexpr (std::is_same_v<V, std::int64_t>) {
      if (!j.is_number_integer()) throw wrong("an integer");
      return j.get<std::int64_t>();
    } else if constexpr (std::is_same_v<V, double>) {
      if (!j.is_number()) throw wrong("a number");
      return j.get<double>();
    } else if constexpr (std::is_same_v<V, std::string>) {
      if (!j.is_string()) throw wrong("a string");
      return j.get<std::string>();
    } else {
      static_assert(std::is_same_v<V, std::vector<std::int64_t>>,
                    "LayerSpecReader: unsupported value type");
      if (j.is_number_integer()) return {j.get<std::int64_t>()};
      if (!j.is_array()) throw wrong("an integer or a list of integers");
      V out;
      for (const auto& e : j) {
        if (!e.is_number_integer()) throw wrong("an integer or a list of integers");
        out.push_back(e.get<std::int64_t>());
      }
      return out;
    }
  }

  const nlohmann::json& spec_;
  std::size_t index_;
  std::string type_;
  std::vector<std::string> used_;
};

// A built layer and its feature sizes as far as they are known at run time (as the typed
// layers' static_in_features / static_out_features: 0 = any or unknown, kSameFeatures).
template <class T, class D>
struct BuiltLayer {
  AnyLayer<T, D> layer;
  std::int64_t in_features = 0;
  std::int64_t out_features = kSameFeatures;
};

// One layer type of the spec: its "type" string, the C++ type it builds, and both directions.
template <class T, class D>
struct LayerSpecType {
  std::string name;
  const std::type_info* type = nullptr;
  std::function<BuiltLayer<T, D>(LayerSpecReader&)> build;
  std::function<void(const AnyLayer<T, D>&, nlohmann::json&)> write;
};

// Builds the entry for layer type L from three small functions: build(reader) -> L,
// sizes(const L&) -> {in, out}, write(const L&, json&) (the keys besides "type").
template <class L, class T = float, class D = cpu, class Build, class Sizes, class Write>
LayerSpecType<T, D> make_layer_spec_type(std::string name, Build build, Sizes sizes,
                                         Write write) {
  LayerSpecType<T, D> entry;
  entry.name = std::move(name);
  entry.type = &typeid(L);
  entry.build = [build, sizes](LayerSpecReader& r) {
    L layer = build(r);
    const auto [in, out] = sizes(layer);
    return BuiltLayer<T, D>{AnyLayer<T, D>(std::move(layer)), in, out};
  };
  entry.write = [write](const AnyLayer<T, D>& layer, nlohmann::json& j) {
    write(*layer.template get_if<L>(), j);
  };
  return entry;
}

namespace detail {

using SizePair = std::pair<std::int64_t, std::int64_t>;

template <class L, class T, class D>
LayerSpecType<T, D> keyless_spec_type(std::string name, SizePair sizes) {
  return make_layer_spec_type<L, T, D>(
      std::move(name), [](LayerSpecReader&) { return L{}; },
      [sizes](const L&) { return sizes; }, [](const L&, nlohmann::json&) {});
}

template <class L, class T, class D>
LayerSpecType<T, D> dim_spec_type(std::string name) {
  return make_layer_spec_type<L, T, D>(
      std::move(name), [](LayerSpecReader& r) { return L(r.optional<std::int64_t>("dim", -1)); },
      [](const L&) { return SizePair{0, kSameFeatures}; },
      [](const L& l, nlohmann::json& j) { j["dim"] = l.dim; });
}

template <class L, class T, class D>
LayerSpecType<T, D> dropout_spec_type(std::string name) {
  return make_layer_spec_type<L, T, D>(
      std::move(name), [](LayerSpecReader& r) { return L(r.optional<double>("p", 0.5)); },
      [](const L&) { return SizePair{0, kSameFeatures}; },
      [](const L& l, nlohmann::json& j) { j["p"] = l.p; });
}

template <class T, class D>
std::vector<LayerSpecType<T, D>> builtin_layer_spec_types() {
  using Lin = Linear<0, 0, T, D>;
  const SizePair same{0, kSameFeatures};
  std::vector<LayerSpecType<T, D>> v;
  v.push_back(make_layer_spec_type<Lin, T, D>(
      "Linear",
      [](LayerSpecReader& r) {
        const auto in = r.required<std::int64_t>("in_features");
        const auto out = r.required<std::int64_t>("out_features");
        return Lin(in, out, r.optional<bool>("bias", true));
      },
      [](const Lin& l) { return SizePair{l.in_features(), l.out_features()}; },
      [](const Lin& l, nlohmann::json& j) {
        j["in_features"] = l.in_features();
        j["out_features"] = l.out_features();
        j["bias"] = l.bias.defined();
      }));
  v.push_back(make_layer_spec_type<Flatten, T, D>(
      "Flatten",
      [](LayerSpecReader& r) {
        const auto start = r.optional<std::int64_t>("start_dim", 1);
        return Flatten(start, r.optional<std::int64_t>("end_dim", -1));
      },
      [](const Flatten&) { return SizePair{0, 0}; },
      [](const Flatten& l, nlohmann::json& j) {
        j["start_dim"] = l.start_dim;
        j["end_dim"] = l.end_dim;
      }));
  v.push_back(keyless_spec_type<Identity, T, D>("Identity", same));
  v.push_back(dropout_spec_type<Dropout, T, D>("Dropout"));
  v.push_back(dropout_spec_type<AlphaDropout, T, D>("AlphaDropout"));
  using BN = BatchNorm1d<0, T, D>;
  v.push_back(make_layer_spec_type<BN, T, D>(
      "BatchNorm1d",
      [](LayerSpecReader& r) {
        const auto n = r.required<std::int64_t>("num_features");
        const auto eps = r.optional<double>("eps", 1e-5);
        const auto momentum = r.optional_or_null<double>("momentum", 0.1);
        const auto affine = r.optional<bool>("affine", true);
        return BN(n, eps, momentum, affine, r.optional<bool>("track_running_stats", true));
      },
      [](const BN& l) { return SizePair{l.num_features(), kSameFeatures}; },
      [](const BN& l, nlohmann::json& j) {
        j["num_features"] = l.num_features();
        j["eps"] = l.eps;
        j["momentum"] = l.momentum ? nlohmann::json(*l.momentum) : nlohmann::json(nullptr);
        j["affine"] = l.affine();
        j["track_running_stats"] = l.track_running_stats();
      }));
  using LN = LayerNorm<0, T, D>;
  v.push_back(make_layer_spec_type<LN, T, D>(
      "LayerNorm",
      [](LayerSpecReader& r) {
        const auto shape = r.required<std::vector<std::int64_t>>("normalized_shape");
        const auto eps = r.optional<double>("eps", 1e-5);
        const auto affine = r.optional<bool>("elementwise_affine", true);
        return LN(Shape(shape.begin(), shape.end()), eps, affine, r.optional<bool>("bias", true));
      },
      [](const LN& l) {
        const Shape& s = l.normalized_shape();
        return SizePair{s.empty() ? 0 : s.back(), kSameFeatures};
      },
      [](const LN& l, nlohmann::json& j) {
        std::vector<std::int64_t> shape(l.normalized_shape().begin(), l.normalized_shape().end());
        j["normalized_shape"] = shape;
        j["eps"] = l.eps;
        j["elementwise_affine"] = l.elementwise_affine();
        j["bias"] = l.bias.defined() || !l.elementwise_affine();
      }));
  v.push_back(keyless_spec_type<ReLU, T, D>("ReLU", same));
  v.push_back(make_layer_spec_type<LeakyReLU, T, D>(
      "LeakyReLU",
      [](LayerSpecReader& r) { return LeakyReLU(r.optional<double>("negative_slope", 0.01)); },
      [same](const LeakyReLU&) { return same; },
      [](const LeakyReLU& l, nlohmann::json& j) { j["negative_slope"] = l.negative_slope; }));
  v.push_back(make_layer_spec_type<ELU, T, D>(
      "ELU", [](LayerSpecReader& r) { return ELU(r.optional<double>("alpha", 1.0)); },
      [same](const ELU&) { return same; },
      [](const ELU& l, nlohmann::json& j) { j["alpha"] = l.alpha; }));
  v.push_back(make_layer_spec_type<GELU, T, D>(
      "GELU",
      [](LayerSpecReader& r) { return GELU(r.optional<std::string>("approximate", "none")); },
      [same](const GELU&) { return same; },
      [](const GELU& l, nlohmann::json& j) { j["approximate"] = l.approximate; }));
  v.push_back(keyless_spec_type<SiLU, T, D>("SiLU", same));
  v.push_back(keyless_spec_type<Sigmoid, T, D>("Sigmoid", same));
  v.push_back(keyless_spec_type<Tanh, T, D>("Tanh", same));
  v.push_back(make_layer_spec_type<Softplus, T, D>(
      "Softplus",
      [](LayerSpecReader& r) {
        const auto beta = r.optional<double>("beta", 1.0);
        return Softplus(beta, r.optional<double>("threshold", 20.0));
      },
      [same](const Softplus&) { return same; },
      [](const Softplus& l, nlohmann::json& j) {
        j["beta"] = l.beta;
        j["threshold"] = l.threshold;
      }));
  v.push_back(dim_spec_type<Softmax, T, D>("Softmax"));
  v.push_back(dim_spec_type<LogSoftmax, T, D>("LogSoftmax"));
  return v;
}

}  // namespace detail

// The layer types from_json knows for Var<T, D> networks. Register your own layer type once at
// start-up (not concurrently with from_json): layer_spec_types<float>().push_back(
// make_layer_spec_type<MyLayer>("MyLayer", build, sizes, write));
template <class T = float, class D = cpu>
std::vector<LayerSpecType<T, D>>& layer_spec_types() {
  static std::vector<LayerSpecType<T, D>> types = detail::builtin_layer_spec_types<T, D>();
  return types;
}

}  // namespace etna::nn
