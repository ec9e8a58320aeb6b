// The Transformer layers' options and call arguments (masks, causal flags), and the checks of
// sizes and shapes they share, with messages that name the layer and the argument.
#pragma once

#include <cstdint>
#include <string>

#include "etna/core/error.hpp"
#include "etna/core/shape.hpp"
#include "etna/nn/attention_mask.hpp"

namespace etna::nn {

// TransformerEncoderLayer / TransformerDecoderLayer settings (PyTorch's constructor arguments).
struct TransformerLayerOptions {
  std::int64_t dim_feedforward = 2048;
  double dropout = 0.1;             // on the attention weights, the sublayer outputs and the FF
  std::string activation = "relu";  // of the feed-forward block: "relu" or "gelu" (exact, erf)
  double layer_norm_eps = 1e-5;
  bool batch_first = false;  // inputs [N, L, E] instead of [L, N, E]
  bool norm_first = false;   // pre-norm (x + f(norm(x))) instead of post-norm norm(x + f(x))
  bool bias = true;          // biases of the Linear, LayerNorm and attention projections
};

// nn::Transformer's settings (PyTorch's nn.Transformer constructor arguments).
struct TransformerOptions {
  std::int64_t d_model = 512;
  std::int64_t nhead = 8;
  std::int64_t num_encoder_layers = 6;
  std::int64_t num_decoder_layers = 6;
  std::int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
  bool bias = true;
};

// Masks take a bool tensor (true = NOT allowed / ignore, PyTorch's convention) or a float tensor
// added to the attention scores. Attention masks: [L, S] or [N * nhead, L, S]; key padding masks:
// [N, S] ([S] for unbatched inputs). is_causal: query i attends to keys <= i only; with a mask
// given too, it is PyTorch 2's hint that the mask is the causal one (the mask is applied).
template <class T = float, class D = cpu>
struct EncoderCall {
  AttentionMask<T, D> mask{};
  AttentionMask<T, D> src_key_padding_mask{};
  bool is_causal = false;
};

template <class T = float, class D = cpu>
struct DecoderCall {
  AttentionMask<T, D> tgt_mask{};
  AttentionMask<T, D> memory_mask{};
  AttentionMask<T, D> tgt_key_padding_mask{};
  AttentionMask<T, D> memory_key_padding_mask{};
  bool tgt_is_causal = false;
  bool memory_is_causal = false;
};

template <class T = float, class D = cpu>
struct TransformerCall {
  AttentionMask<T, D> src_mask{};
  AttentionMask<T, D> tgt_mask{};
  AttentionMask<T, D> memory_mask{};
  AttentionMask<T, D> src_key_padding_mask{};
  AttentionMask<T, D> tgt_key_padding_mask{};
  AttentionMask<T, D> memory_key_padding_mask{};
  bool src_is_causal = false;
  bool tgt_is_causal = false;
  bool memory_is_causal = false;
};

namespace detail {

// Constructor arguments, checked where they are written (as PyTorch does).
inline void check_transformer_sizes(const char* layer, std::int64_t d_model, std::int64_t nhead,
                                    const TransformerLayerOptions& o) {
  if (d_model <= 0 || nhead <= 0)
    throw value_error(etna::detail::str(
        layer, ": d_model and nhead must be positive, got d_model=", d_model, ", nhead=", nhead));
  if (d_model % nhead != 0)
    throw value_error(etna::detail::str(layer, ": d_model (", d_model,
                                        ") must be divisible by nhead (", nhead, ")"));
  if (o.dim_feedforward <= 0)
    throw value_error(
        etna::detail::str(layer, ": dim_feedforward must be positive, got ", o.dim_feedforward));
  if (o.activation != "relu" && o.activation != "gelu")
    throw value_error(etna::detail::str(
        layer, ": activation should be \"relu\" or \"gelu\", not \"", o.activation, "\""));
}

// A sequence input: [L, N, E] ([N, L, E] with batch_first) or unbatched [L, E], E = d_model.
inline void check_sequence(const char* layer, const char* name, const Shape& s,
                           std::int64_t d_model, bool batch_first) {
  if (s.size() != 2 && s.size() != 3)
    throw shape_error(etna::detail::str(
        layer, ": expected ", name, " of shape ", batch_first ? "[N, L, E]" : "[L, N, E]",
        " (or [L, E] unbatched) with E = d_model = ", d_model, ", got ", s));
  if (s[s.size() - 1] != d_model)
    throw shape_error(etna::detail::str(layer, ": ", name, " has ", s[s.size() - 1],
                                        " features (last dimension) but d_model is ", d_model, " (",
                                        name, " shape ", s, ")"));
}

inline std::int64_t seq_len(const Shape& s, bool batch_first) {
  return s.size() == 3 && batch_first ? s[1] : s[0];
}
inline std::int64_t batch_size(const Shape& s, bool batch_first) {
  if (s.size() == 2) return 1;
  return batch_first ? s[0] : s[1];
}

// An attention mask for queries of length l over keys of length s: [l, s], or per batch and head
// [N * nhead, l, s] ([nhead, l, s] unbatched).
template <class T, class D>
void check_attn_mask(const char* layer, const char* name, const AttentionMask<T, D>& m,
                     std::int64_t l, std::int64_t s, std::int64_t batch_heads) {
  if (!m.defined()) return;
  const Shape& ms = m.shape();
  const bool ok = (ms.size() == 2 && ms[0] == l && ms[1] == s) ||
                  (ms.size() == 3 && ms[0] == batch_heads && ms[1] == l && ms[2] == s);
  if (!ok)
    throw shape_error(etna::detail::str(
        layer, ": ", name, " must have shape ", Shape{l, s}, " or ", Shape{batch_heads, l, s},
        " (batch * nhead, target length, source length), got ", ms));
}

// A key padding mask: [N, s] for batched inputs, [s] for unbatched ones.
template <class T, class D>
void check_padding_mask(const char* layer, const char* name, const AttentionMask<T, D>& m,
                        bool batched, std::int64_t n, std::int64_t s) {
  if (!m.defined()) return;
  const Shape expected = batched ? Shape{n, s} : Shape{s};
  if (!(m.shape() == expected))
    throw shape_error(etna::detail::str(layer, ": ", name, " must have shape ", expected, " (",
                                        batched ? "batch, " : "", "source length), got ",
                                        m.shape()));
}

}  // namespace detail
}  // namespace etna::nn
