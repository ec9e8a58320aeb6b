// nn::TransformerDecoderLayer: PyTorch's nn.TransformerDecoderLayer (self-attention, attention
// over the encoder's memory and a feed-forward block, each with a residual and a LayerNorm).
#pragma once

#include <cstdint>
#include <string>

#include "etna/nn/transformer/encoder_layer.hpp"

namespace etna::nn {

template <FloatingScalar T = float, Device D = cpu>
class TransformerDecoderLayer : public Module<TransformerDecoderLayer<T, D>> {
 public:
  // Members and their order as PyTorch's, so that state_dict keys and repr match.
  MultiheadAttention<T, D> self_attn;
  MultiheadAttention<T, D> multihead_attn;  // queries from tgt, keys and values from memory
  Linear<0, 0, T, D> linear1;
  Dropout dropout;
  Linear<0, 0, T, D> linear2;
  LayerNorm<0, T, D> norm1;
  LayerNorm<0, T, D> norm2;
  LayerNorm<0, T, D> norm3;
  Dropout dropout1;  // on the self-attention output
  Dropout dropout2;  // on the memory attention output
  Dropout dropout3;  // on the feed-forward output

  TransformerDecoderLayer(std::int64_t d_model, std::int64_t nhead,
                          TransformerLayerOptions opt = {})
      : self_attn(checked(d_model, nhead, opt), nhead, mha_options(opt)),
        multihead_attn(d_model, nhead, mha_options(opt)),
        linear1(d_model, opt.dim_feedforward, opt.bias),
        dropout(opt.dropout),
        linear2(opt.dim_feedforward, d_model, opt.bias),
        norm1(d_model, opt.layer_norm_eps, true, opt.bias),
        norm2(d_model, opt.layer_norm_eps, true, opt.bias),
        norm3(d_model, opt.layer_norm_eps, true, opt.bias),
        dropout1(opt.dropout),
        dropout2(opt.dropout),
        dropout3(opt.dropout),
        options_(std::move(opt)) {}

  template <class D2>
  using on_device = TransformerDecoderLayer<T, D2>;
  template <Device D1>
  TransformerDecoderLayer(const TransformerDecoderLayer<T, D1>& other, detail::DeviceCopy<D>& copy)
      : self_attn(copy.module(other.self_attn)),
        multihead_attn(copy.module(other.multihead_attn)),
        linear1(copy.module(other.linear1)),
        dropout(other.dropout),
        linear2(copy.module(other.linear2)),
        norm1(copy.module(other.norm1)),
        norm2(copy.module(other.norm2)),
        norm3(copy.module(other.norm3)),
        dropout1(other.dropout1),
        dropout2(other.dropout2),
        dropout3(other.dropout3),
        options_(other.options()) {}

  std::int64_t d_model() const { return linear1.in_features(); }
  std::int64_t nhead() const { return self_attn.num_heads(); }
  const TransformerLayerOptions& options() const { return options_; }

  // tgt: [T, N, E], memory: [S, N, E] ([N, T, E] and [N, S, E] with batch_first; unbatched
  // [T, E] and [S, E]); Vars, Var expressions or Tensors. Returns a Var of tgt's shape.
  template <class X, class M>
  Var<T, D> forward(const X& tgt, const M& memory, const DecoderCall<T, D>& call = {}) {
    const Var<T, D> x0 = as_var(tgt);
    const Var<T, D> mem = as_var(memory);
    check(x0.shape(), mem.shape(), call);
    const MhaCall<T, D> self_call{.key_padding_mask = call.tgt_key_padding_mask,
                                  .attn_mask = call.tgt_mask,
                                  .need_weights = false,
                                  .average_attn_weights = true,
                                  .is_causal = call.tgt_is_causal && !call.tgt_mask.defined()};
    const MhaCall<T, D> mem_call{.key_padding_mask = call.memory_key_padding_mask,
                                 .attn_mask = call.memory_mask,
                                 .need_weights = false,
                                 .average_attn_weights = true,
                                 .is_causal = call.memory_is_causal && !call.memory_mask.defined()};
    const bool gelu = options_.activation == "gelu";
    Var<T, D> x = x0;
    if (options_.norm_first) {
      x = Var<T, D>(x + self_attention(norm1(x), self_call));
      x = Var<T, D>(x + memory_attention(norm2(x), mem, mem_call));
      x = Var<T, D>(x + dropout3(detail::transformer_feed_forward(linear1, dropout, linear2, gelu,
                                                                  norm3(x))));
    } else {
      x = norm1(x + self_attention(x, self_call));
      x = norm2(x + memory_attention(x, mem, mem_call));
      x = norm3(x + dropout3(detail::transformer_feed_forward(linear1, dropout, linear2, gelu, x)));
    }
    return x;
  }

  // layer(tgt, memory, {.tgt_is_causal = true}): a braced call argument needs a non-variadic
  // overload (Module's operator() cannot deduce it).
  using Module<TransformerDecoderLayer<T, D>>::operator();
  template <class X, class M>
  Var<T, D> operator()(const X& tgt, const M& memory, const DecoderCall<T, D>& call) {
    return Module<TransformerDecoderLayer<T, D>>::operator()(tgt, memory, call);
  }

  std::string extra_repr() const { return ""; }

  ETNA_MODULE(self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2, norm3, dropout1,
              dropout2, dropout3)

 private:
  static std::int64_t checked(std::int64_t d_model, std::int64_t nhead,
                              const TransformerLayerOptions& opt) {
    detail::check_transformer_sizes("TransformerDecoderLayer", d_model, nhead, opt);
    return d_model;
  }
  static MultiheadAttentionOptions mha_options(const TransformerLayerOptions& opt) {
    return {.dropout = opt.dropout, .bias = opt.bias, .batch_first = opt.batch_first};
  }

  void check(const Shape& t, const Shape& m, const DecoderCall<T, D>& call) const {
    const char* name = "TransformerDecoderLayer";
    const bool bf = options_.batch_first;
    detail::check_sequence(name, "tgt", t, d_model(), bf);
    detail::check_sequence(name, "memory", m, d_model(), bf);
    if (t.size() != m.size())
      throw shape_error(etna::detail::str(name,
                                          ": tgt and memory must both be batched or both "
                                          "unbatched, got tgt ",
                                          t, " and memory ", m));
    const bool batched = t.size() == 3;
    const std::int64_t n = detail::batch_size(t, bf);
    if (batched && detail::batch_size(m, bf) != n)
      throw shape_error(etna::detail::str(name,
                                          ": tgt and memory must have the same batch size, "
                                          "got tgt ",
                                          t, " and memory ", m, bf ? " (batch_first)" : ""));
    const std::int64_t lt = detail::seq_len(t, bf), lm = detail::seq_len(m, bf);
    const std::int64_t bh = batched ? n * nhead() : nhead();
    detail::check_attn_mask(name, "tgt_mask", call.tgt_mask, lt, lt, bh);
    detail::check_attn_mask(name, "memory_mask", call.memory_mask, lt, lm, bh);
    detail::check_padding_mask(name, "tgt_key_padding_mask", call.tgt_key_padding_mask, batched, n,
                               lt);
    detail::check_padding_mask(name, "memory_key_padding_mask", call.memory_key_padding_mask,
                               batched, n, lm);
  }

  Var<T, D> self_attention(const Var<T, D>& x, const MhaCall<T, D>& call) {
    return dropout1(self_attn(x, x, x, call).output);
  }
  Var<T, D> memory_attention(const Var<T, D>& x, const Var<T, D>& mem, const MhaCall<T, D>& call) {
    return dropout2(multihead_attn(x, mem, mem, call).output);
  }

  TransformerLayerOptions options_;
};

}  // namespace etna::nn
