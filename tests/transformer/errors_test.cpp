// The Transformer layers' argument and shape errors: the type (value_error for constructor
// arguments, shape_error for inputs) and the exact message, naming the layer and the argument.
#include <catch2/catch.hpp>

#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

TEST_CASE("Transformer layers reject bad constructor arguments", "[transformer][errors]") {
  using Enc = nn::TransformerEncoderLayer<>;
  using Dec = nn::TransformerDecoderLayer<>;
  CHECK_THROWS_AS(Enc(10, 3), et::value_error);
  CHECK_THROWS_WITH(Enc(10, 3),
                    "TransformerEncoderLayer: d_model (10) must be divisible by nhead (3)");
  CHECK_THROWS_WITH(Dec(10, 4),
                    "TransformerDecoderLayer: d_model (10) must be divisible by nhead (4)");
  CHECK_THROWS_WITH(Enc(8, 0),
                    "TransformerEncoderLayer: d_model and nhead must be positive, got d_model=8, "
                    "nhead=0");
  CHECK_THROWS_WITH(Enc(8, 2, {.activation = "tanh"}),
                    "TransformerEncoderLayer: activation should be \"relu\" or \"gelu\", not "
                    "\"tanh\"");
  CHECK_THROWS_WITH(Enc(8, 2, {.dim_feedforward = 0}),
                    "TransformerEncoderLayer: dim_feedforward must be positive, got 0");
  CHECK_THROWS_AS(Enc(8, 2, {.dropout = 1.5}), et::value_error);
  CHECK_THROWS_WITH(nn::TransformerEncoder<>(Enc(8, 2, {.dim_feedforward = 4}), 0),
                    "TransformerEncoder: num_layers must be positive, got 0");
  CHECK_THROWS_WITH(nn::Transformer<>({.d_model = 8, .nhead = 2, .num_decoder_layers = 0}),
                    "Transformer: num_decoder_layers must be positive, got 0");
  CHECK_THROWS_WITH(nn::Transformer<>({.d_model = 9, .nhead = 2}),
                    "TransformerEncoderLayer: d_model (9) must be divisible by nhead (2)");
}

TEST_CASE("TransformerEncoderLayer rejects inputs and masks of the wrong shape",
          "[transformer][errors]") {
  nn::TransformerEncoderLayer<> layer(8, 2, {.dim_feedforward = 12});
  const auto src = et::randn<float>({5, 3, 8});
  CHECK_THROWS_AS(layer(et::randn<float>({5, 3, 6})), et::shape_error);
  CHECK_THROWS_WITH(layer(et::randn<float>({5, 3, 6})),
                    "TransformerEncoderLayer: src has 6 features (last dimension) but d_model is "
                    "8 (src shape [5, 3, 6])");
  CHECK_THROWS_WITH(layer(et::randn<float>({2, 5, 3, 8})),
                    "TransformerEncoderLayer: expected src of shape [L, N, E] (or [L, E] "
                    "unbatched) with E = d_model = 8, got [2, 5, 3, 8]");
  CHECK_THROWS_WITH(layer(src, {.mask = et::zeros<float>({4, 4})}),
                    "TransformerEncoderLayer: src_mask must have shape [5, 5] or [6, 5, 5] "
                    "(batch * nhead, target length, source length), got [4, 4]");
  CHECK_THROWS_WITH(layer(src, {.mask = et::zeros<bool>({3, 5, 5})}),
                    "TransformerEncoderLayer: src_mask must have shape [5, 5] or [6, 5, 5] "
                    "(batch * nhead, target length, source length), got [3, 5, 5]");
  CHECK_THROWS_WITH(layer(src, {.src_key_padding_mask = et::zeros<bool>({5, 3})}),
                    "TransformerEncoderLayer: src_key_padding_mask must have shape [3, 5] "
                    "(batch, source length), got [5, 3]");
  // Unbatched: [L, E] with a [L] padding mask and [nhead, L, L] masks.
  CHECK_THROWS_WITH(
      layer(et::randn<float>({5, 8}), {.src_key_padding_mask = et::zeros<bool>({3, 5})}),
      "TransformerEncoderLayer: src_key_padding_mask must have shape [5] (source "
      "length), got [3, 5]");
  CHECK_NOTHROW(layer(et::randn<float>({5, 8}), {.mask = et::zeros<bool>({2, 5, 5})}));
  // batch_first reads the batch from dimension 0.
  nn::TransformerEncoderLayer<> bf(8, 2, {.dim_feedforward = 12, .batch_first = true});
  CHECK_THROWS_WITH(bf(src, {.src_key_padding_mask = et::zeros<bool>({3, 5})}),
                    "TransformerEncoderLayer: src_key_padding_mask must have shape [5, 3] "
                    "(batch, source length), got [3, 5]");
  CHECK_THROWS_WITH(bf(et::randn<float>({3, 5, 8, 1})),
                    "TransformerEncoderLayer: expected src of shape [N, L, E] (or [L, E] "
                    "unbatched) with E = d_model = 8, got [3, 5, 8, 1]");
}

TEST_CASE("TransformerDecoderLayer and Transformer reject mismatched inputs",
          "[transformer][errors]") {
  nn::TransformerDecoderLayer<> layer(8, 2, {.dim_feedforward = 12});
  const auto tgt = et::randn<float>({4, 3, 8}), memory = et::randn<float>({6, 3, 8});
  CHECK_THROWS_WITH(layer(tgt, et::randn<float>({6, 2, 8})),
                    "TransformerDecoderLayer: tgt and memory must have the same batch size, got "
                    "tgt [4, 3, 8] and memory [6, 2, 8]");
  CHECK_THROWS_WITH(layer(tgt, et::randn<float>({6, 3, 7})),
                    "TransformerDecoderLayer: memory has 7 features (last dimension) but d_model "
                    "is 8 (memory shape [6, 3, 7])");
  CHECK_THROWS_WITH(layer(tgt, et::randn<float>({6, 8})),
                    "TransformerDecoderLayer: tgt and memory must both be batched or both "
                    "unbatched, got tgt [4, 3, 8] and memory [6, 8]");
  CHECK_THROWS_WITH(layer(tgt, memory, {.memory_mask = et::zeros<float>({4, 4})}),
                    "TransformerDecoderLayer: memory_mask must have shape [4, 6] or [6, 4, 6] "
                    "(batch * nhead, target length, source length), got [4, 4]");
  CHECK_THROWS_WITH(layer(tgt, memory, {.tgt_mask = et::zeros<float>({4, 6})}),
                    "TransformerDecoderLayer: tgt_mask must have shape [4, 4] or [6, 4, 4] "
                    "(batch * nhead, target length, source length), got [4, 6]");
  CHECK_THROWS_WITH(layer(tgt, memory, {.memory_key_padding_mask = et::zeros<bool>({3, 4})}),
                    "TransformerDecoderLayer: memory_key_padding_mask must have shape [3, 6] "
                    "(batch, source length), got [3, 4]");

  nn::Transformer<> model({.d_model = 8,
                           .nhead = 2,
                           .num_encoder_layers = 1,
                           .num_decoder_layers = 1,
                           .dim_feedforward = 12});
  CHECK_THROWS_AS(model(memory, et::randn<float>({4, 2, 8})), et::shape_error);
  CHECK_THROWS_WITH(model(memory, et::randn<float>({4, 2, 8})),
                    "Transformer: the batch number of src and tgt must be equal, got src "
                    "[6, 3, 8] and tgt [4, 2, 8]");
  CHECK_THROWS_WITH(model(memory, et::randn<float>({4, 3, 6})),
                    "Transformer: the feature number of src and tgt must be equal to d_model = "
                    "8, got src [6, 3, 8] and tgt [4, 3, 6]");
}
