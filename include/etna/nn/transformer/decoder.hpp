// nn::TransformerDecoder: PyTorch's nn.TransformerDecoder, num_layers deep copies of one
// TransformerDecoderLayer applied in turn over the same memory, then an optional LayerNorm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "etna/nn/module_list.hpp"
#include "etna/nn/transformer/decoder_layer.hpp"
#include "etna/nn/transformer/encoder.hpp"

namespace etna::nn {

template <FloatingScalar T = float, Device D = cpu>
class TransformerDecoder : public Module<TransformerDecoder<T, D>> {
 public:
  using layer_type = TransformerDecoderLayer<T, D>;

  ModuleList<layer_type> layers;
  std::optional<LayerNorm<0, T, D>> norm;  // absent = PyTorch's norm=None

  // num_layers copies of `layer` (layer.clone()); final_norm adds LayerNorm(d_model) with the
  // layer's eps.
  TransformerDecoder(const layer_type& layer, std::int64_t num_layers, bool final_norm = false)
      : layers(copies(layer, num_layers)) {
    if (final_norm)
      norm.emplace(layer.d_model(), layer.options().layer_norm_eps, true, layer.options().bias);
  }
  TransformerDecoder(const layer_type& layer, std::int64_t num_layers,
                     LayerNorm<0, T, D> final_norm)
      : layers(copies(layer, num_layers)), norm(std::move(final_norm)) {}

  template <class D2>
  using on_device = TransformerDecoder<T, D2>;
  template <Device D1>
  TransformerDecoder(const TransformerDecoder<T, D1>& other, detail::DeviceCopy<D>& copy)
      : layers(copy.module(other.layers)), norm(copy(other.norm)) {}

  std::int64_t num_layers() const { return static_cast<std::int64_t>(layers.size()); }

  // tgt, memory: as TransformerDecoderLayer's; the call's masks go to every layer.
  template <class X, class M>
  Var<T, D> forward(const X& tgt, const M& memory, const DecoderCall<T, D>& call = {}) {
    Var<T, D> out = as_var(tgt);
    const Var<T, D> mem = as_var(memory);
    for (auto& layer : layers) out = layer(out, mem, call);
    if (norm) out = (*norm)(out);
    return out;
  }

  // layer(tgt, memory, {.tgt_is_causal = true}): a braced call argument needs a non-variadic
  // overload (Module's operator() cannot deduce it).
  using Module<TransformerDecoder<T, D>>::operator();
  template <class X, class M>
  Var<T, D> operator()(const X& tgt, const M& memory, const DecoderCall<T, D>& call) {
    return Module<TransformerDecoder<T, D>>::operator()(tgt, memory, call);
  }

  std::string extra_repr() const { return ""; }

  ETNA_MODULE(layers, norm)

 private:
  static ModuleList<layer_type> copies(const layer_type& layer, std::int64_t n) {
    detail::check_num_layers("TransformerDecoder", n);
    ModuleList<layer_type> list;
    for (std::int64_t i = 0; i < n; ++i) list.push_back(layer.clone());
    return list;
  }
};

}  // namespace etna::nn
