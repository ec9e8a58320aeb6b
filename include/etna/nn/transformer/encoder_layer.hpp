// nn::TransformerEncoderLayer: PyTorch's nn.TransformerEncoderLayer (self-attention and a
// feed-forward block, each with a residual connection and LayerNorm, post- or pre-norm).
#pragma once

#include <cstdint>
#include <string>

#include "etna/nn/attention.hpp"
#include "etna/nn/dropout.hpp"
#include "etna/nn/functional/activation.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/normalization.hpp"
#include "etna/nn/transformer/options.hpp"

namespace etna::nn {
namespace detail {

// The feed-forward block shared by the encoder and decoder layers:
// linear2(dropout(activation(linear1(x)))).
template <class T, class D>
Var<T, D> transformer_feed_forward(Linear<0, 0, T, D>& linear1, Dropout& dropout,
                                   Linear<0, 0, T, D>& linear2, bool gelu, const Var<T, D>& x) {
  const Var<T, D> h = linear1(x);
  const Var<T, D> a = gelu ? Var<T, D>(functional::gelu(h)) : Var<T, D>(functional::relu(h));
  return linear2(dropout(a));
}

}  // namespace detail

template <FloatingScalar T = float, Device D = cpu>
class TransformerEncoderLayer : public Module<TransformerEncoderLayer<T, D>> {
 public:
  // Members and their order as PyTorch's, so that state_dict keys and repr match.
  MultiheadAttention<T, D> self_attn;
  Linear<0, 0, T, D> linear1;  // [dim_feedforward, d_model]
  Dropout dropout;             // inside the feed-forward block
  Linear<0, 0, T, D> linear2;  // [d_model, dim_feedforward]
  LayerNorm<0, T, D> norm1;
  LayerNorm<0, T, D> norm2;
  Dropout dropout1;  // on the self-attention output
  Dropout dropout2;  // on the feed-forward output

  TransformerEncoderLayer(std::int64_t d_model, std::int64_t nhead,
                          TransformerLayerOptions opt = {})
      : self_attn(checked(d_model, nhead, opt), nhead,
                  MultiheadAttentionOptions{
                      .dropout = opt.dropout, .bias = opt.bias, .batch_first = opt.batch_first}),
        linear1(d_model, opt.dim_feedforward, opt.bias),
        dropout(opt.dropout),
        linear2(opt.dim_feedforward, d_model, opt.bias),
        norm1(d_model, opt.layer_norm_eps, true, opt.bias),
        norm2(d_model, opt.layer_norm_eps, true, opt.bias),
        dropout1(opt.dropout),
        dropout2(opt.dropout),
        options_(std::move(opt)) {}

  // The same layer on device D (net.to<D>() builds it with this constructor).
  template <class D2>
  using on_device = TransformerEncoderLayer<T, D2>;
  template <Device D1>
  TransformerEncoderLayer(const TransformerEncoderLayer<T, D1>& other, detail::DeviceCopy<D>& copy)
      : self_attn(copy.module(other.self_attn)),
        linear1(copy.module(other.linear1)),
        dropout(other.dropout),
        linear2(copy.module(other.linear2)),
        norm1(copy.module(other.norm1)),
        norm2(copy.module(other.norm2)),
        dropout1(other.dropout1),
        dropout2(other.dropout2),
        options_(other.options()) {}

  std::int64_t d_model() const { return linear1.in_features(); }
  std::int64_t nhead() const { return self_attn.num_heads(); }
  const TransformerLayerOptions& options() const { return options_; }

  // src: [L, N, E] ([N, L, E] with batch_first) or unbatched [L, E]; a Var, Var expression or
  // Tensor. Returns a Var of src's shape.
  template <class X>
  Var<T, D> forward(const X& src, const EncoderCall<T, D>& call = {}) {
    const Var<T, D> x0 = as_var(src);
    check(x0.shape(), call);
    const MhaCall<T, D> attn{.key_padding_mask = call.src_key_padding_mask,
                             .attn_mask = call.mask,
                             .need_weights = false,
                             .average_attn_weights = true,
                             .is_causal = call.is_causal && !call.mask.defined()};
    const bool gelu = options_.activation == "gelu";
    Var<T, D> x = x0;
    if (options_.norm_first) {
      x = Var<T, D>(x + self_attention(norm1(x), attn));
      x = Var<T, D>(x + dropout2(detail::transformer_feed_forward(linear1, dropout, linear2, gelu,
                                                                  norm2(x))));
    } else {
      x = norm1(x + self_attention(x, attn));
      x = norm2(x + dropout2(detail::transformer_feed_forward(linear1, dropout, linear2, gelu, x)));
    }
    return x;
  }

  // layer(src, {.mask = m, .is_causal = true}): a braced call argument needs a non-variadic
  // overload (Module's operator() cannot deduce it).
  using Module<TransformerEncoderLayer<T, D>>::operator();
  template <class X>
  Var<T, D> operator()(const X& src, const EncoderCall<T, D>& call) {
    return Module<TransformerEncoderLayer<T, D>>::operator()(src, call);
  }

  // PyTorch prints only the children.
  std::string extra_repr() const { return ""; }

  ETNA_MODULE(self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2)

 private:
  static std::int64_t checked(std::int64_t d_model, std::int64_t nhead,
                              const TransformerLayerOptions& opt) {
    detail::check_transformer_sizes("TransformerEncoderLayer", d_model, nhead, opt);
    return d_model;
  }

  void check(const Shape& s, const EncoderCall<T, D>& call) const {
    const char* name = "TransformerEncoderLayer";
    const bool bf = options_.batch_first;
    detail::check_sequence(name, "src", s, d_model(), bf);
    const std::int64_t l = detail::seq_len(s, bf), n = detail::batch_size(s, bf);
    detail::check_attn_mask(name, "src_mask", call.mask, l, l,
                            s.size() == 3 ? n * nhead() : nhead());
    detail::check_padding_mask(name, "src_key_padding_mask", call.src_key_padding_mask,
                               s.size() == 3, n, l);
  }

  // The self-attention block: dropout1(self_attn(x, x, x)), one Var for q, k and v so that the
  // attention projects them with one GEMM.
  Var<T, D> self_attention(const Var<T, D>& x, const MhaCall<T, D>& call) {
    return dropout1(self_attn(x, x, x, call).output);
  }

  TransformerLayerOptions options_;
};

}  // namespace etna::nn
