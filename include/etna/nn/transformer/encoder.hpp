// nn::TransformerEncoder: PyTorch's nn.TransformerEncoder, num_layers deep copies of one
// TransformerEncoderLayer applied in turn ("layers.0"...), then an optional final LayerNorm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "etna/nn/module_list.hpp"
#include "etna/nn/transformer/encoder_layer.hpp"

namespace etna::nn {
namespace detail {

inline void check_num_layers(const char* name, std::int64_t num_layers) {
  if (num_layers <= 0)
    throw value_error(etna::detail::str(name, ": num_layers must be positive, got ", num_layers));
}

}  // namespace detail

template <FloatingScalar T = float, Device D = cpu>
class TransformerEncoder : public Module<TransformerEncoder<T, D>> {
 public:
  using layer_type = TransformerEncoderLayer<T, D>;

  ModuleList<layer_type> layers;
  std::optional<LayerNorm<0, T, D>> norm;  // absent = PyTorch's norm=None

  // num_layers copies of `layer` (layer.clone(): the same initial weights, independent storage,
  // as PyTorch's copy.deepcopy). final_norm adds LayerNorm(d_model) with the layer's eps.
  TransformerEncoder(const layer_type& layer, std::int64_t num_layers, bool final_norm = false)
      : layers(copies(layer, num_layers)) {
    if (final_norm)
      norm.emplace(layer.d_model(), layer.options().layer_norm_eps, true, layer.options().bias);
  }
  // With a given final norm (PyTorch's norm=LayerNorm(...)).
  TransformerEncoder(const layer_type& layer, std::int64_t num_layers,
                     LayerNorm<0, T, D> final_norm)
      : layers(copies(layer, num_layers)), norm(std::move(final_norm)) {}

  template <class D2>
  using on_device = TransformerEncoder<T, D2>;
  template <Device D1>
  TransformerEncoder(const TransformerEncoder<T, D1>& other, detail::DeviceCopy<D>& copy)
      : layers(copy.module(other.layers)), norm(copy(other.norm)) {}

  std::int64_t num_layers() const { return static_cast<std::int64_t>(layers.size()); }

  // src: as TransformerEncoderLayer's; the call's masks go to every layer.
  template <class X>
  Var<T, D> forward(const X& src, const EncoderCall<T, D>& call = {}) {
    Var<T, D> out = as_var(src);
    for (auto& layer : layers) out = layer(out, call);
    if (norm) out = (*norm)(out);
    return out;
  }

  // layer(src, {.mask = m, .is_causal = true}): a braced call argument needs a non-variadic
  // overload (Module's operator() cannot deduce it).
  using Module<TransformerEncoder<T, D>>::operator();
  template <class X>
  Var<T, D> operator()(const X& src, const EncoderCall<T, D>& call) {
    return Module<TransformerEncoder<T, D>>::operator()(src, call);
  }

  std::string extra_repr() const { return ""; }

  ETNA_MODULE(layers, norm)

 private:
  static ModuleList<layer_type> copies(const layer_type& layer, std::int64_t n) {
    detail::check_num_layers("TransformerEncoder", n);
    ModuleList<layer_type> list;
    for (std::int64_t i = 0; i < n; ++i) list.push_back(layer.clone());
    return list;
  }
};

}  // namespace etna::nn
