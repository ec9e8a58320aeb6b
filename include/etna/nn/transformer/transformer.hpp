// nn::Transformer: PyTorch's nn.Transformer, an encoder and a decoder stack each ending in a
// LayerNorm, initialised as PyTorch does (xavier_uniform_ on every parameter of rank > 1).
#pragma once

#include <cstdint>
#include <string>

#include "etna/nn/init.hpp"
#include "etna/nn/transformer/decoder.hpp"
#include "etna/nn/transformer/encoder.hpp"

namespace etna::nn {

template <FloatingScalar T = float, Device D = cpu>
class Transformer : public Module<Transformer<T, D>> {
 public:
  TransformerEncoder<T, D> encoder;
  TransformerDecoder<T, D> decoder;

  explicit Transformer(const TransformerOptions& o = {})
      : encoder(TransformerEncoderLayer<T, D>(o.d_model, o.nhead, layer_options(o)),
                checked_layers("num_encoder_layers", o.num_encoder_layers), true),
        decoder(TransformerDecoderLayer<T, D>(o.d_model, o.nhead, layer_options(o)),
                checked_layers("num_decoder_layers", o.num_decoder_layers), true) {
    // PyTorch's _reset_parameters: the copies of a layer start equal, this makes them differ;
    // biases and LayerNorms keep their defaults (rank 1).
    for (auto& [name, p] : this->named_parameters())
      if (p.dim() > 1) init::xavier_uniform_(p);
  }

  template <class D2>
  using on_device = Transformer<T, D2>;
  template <Device D1>
  Transformer(const Transformer<T, D1>& other, detail::DeviceCopy<D>& copy)
      : encoder(copy.module(other.encoder)), decoder(copy.module(other.decoder)) {}

  std::int64_t d_model() const { return encoder.layers[0].d_model(); }
  std::int64_t nhead() const { return encoder.layers[0].nhead(); }
  bool batch_first() const { return encoder.layers[0].options().batch_first; }

  // PyTorch's Transformer.generate_square_subsequent_mask: [L, L], -inf above the diagonal.
  static Tensor<T, D> generate_square_subsequent_mask(std::int64_t length) {
    return nn::generate_square_subsequent_mask<T, D>(length);
  }

  // src: [S, N, E], tgt: [T, N, E] ([N, S, E], [N, T, E] with batch_first; unbatched [S, E],
  // [T, E]). memory = encoder(src); returns decoder(tgt, memory), a Var of tgt's shape.
  template <class X, class Y>
  Var<T, D> forward(const X& src, const Y& tgt, const TransformerCall<T, D>& call = {}) {
    const Var<T, D> s = as_var(src), t = as_var(tgt);
    check(s.shape(), t.shape());
    const Var<T, D> memory =
        encoder(s, EncoderCall<T, D>{.mask = call.src_mask,
                                     .src_key_padding_mask = call.src_key_padding_mask,
                                     .is_causal = call.src_is_causal});
    return decoder(t, memory,
                   DecoderCall<T, D>{.tgt_mask = call.tgt_mask,
                                     .memory_mask = call.memory_mask,
                                     .tgt_key_padding_mask = call.tgt_key_padding_mask,
                                     .memory_key_padding_mask = call.memory_key_padding_mask,
                                     .tgt_is_causal = call.tgt_is_causal,
                                     .memory_is_causal = call.memory_is_causal});
  }

  // model(src, tgt, {.tgt_is_causal = true}): a braced call argument needs a non-variadic
  // overload (Module's operator() cannot deduce it).
  using Module<Transformer<T, D>>::operator();
  template <class X, class Y>
  Var<T, D> operator()(const X& src, const Y& tgt, const TransformerCall<T, D>& call) {
    return Module<Transformer<T, D>>::operator()(src, tgt, call);
  }

  std::string extra_repr() const { return ""; }

  ETNA_MODULE(encoder, decoder)

 private:
  static TransformerLayerOptions layer_options(const TransformerOptions& o) {
    return {.dim_feedforward = o.dim_feedforward,
            .dropout = o.dropout,
            .activation = o.activation,
            .layer_norm_eps = o.layer_norm_eps,
            .batch_first = o.batch_first,
            .norm_first = o.norm_first,
            .bias = o.bias};
  }
  static std::int64_t checked_layers(const char* what, std::int64_t n) {
    if (n <= 0)
      throw value_error(etna::detail::str("Transformer: ", what, " must be positive, got ", n));
    return n;
  }

  // PyTorch's checks and messages, with the shapes added.
  void check(const Shape& s, const Shape& t) const {
    const bool bf = batch_first();
    if (s.size() == 3 && t.size() == 3 && s[bf ? 0 : 1] != t[bf ? 0 : 1])
      throw shape_error(
          etna::detail::str("Transformer: the batch number of src and tgt must be "
                            "equal, got src ",
                            s, " and tgt ", t, bf ? " (batch_first)" : ""));
    if ((!s.empty() && s[s.size() - 1] != d_model()) ||
        (!t.empty() && t[t.size() - 1] != d_model()))
      throw shape_error(
          etna::detail::str("Transformer: the feature number of src and tgt must be "
                            "equal to d_model = ",
                            d_model(), ", got src ", s, " and tgt ", t));
  }
};

}  // namespace etna::nn
