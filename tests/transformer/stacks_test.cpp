// nn::TransformerEncoder, TransformerDecoder and Transformer against PyTorch 1.13 (same
// weights, loaded by state_dict name): outputs and every gradient, the parameter names in
// PyTorch's order, layer copies, the final norm, and PyTorch's initialisation of Transformer.
#include <catch2/catch.hpp>
#include <cmath>

#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::fixture_mask;
using et::test::transformer_stacks_fx;

namespace {
constexpr double kRtol = 1e-9, kAtol = 1e-11;
}

TEST_CASE("TransformerEncoder (2 layers + final norm) matches PyTorch", "[transformer][stacks]") {
  const auto& fx = transformer_stacks_fx();
  nn::TransformerEncoder<double> encoder(
      nn::TransformerEncoderLayer<double>(8, 2, {.dim_feedforward = 12}), 2, true);
  encoder.eval();
  CHECK(encoder.num_layers() == 2);
  et::test::load_fixture_params(encoder, fx, "encoder2");
  CHECK(encoder.repr() == et::test::pytorch_repr(fx, "encoder2"));
  et::Var<double> src(fx.tensor<double>("encoder2.src"), true);
  const auto y = encoder(
      src, {.src_key_padding_mask = fixture_mask<double>(fx, "encoder2.src_key_padding_mask")});
  ETNA_CHECK_CLOSE(y.value(), fx.tensor<double>("encoder2.y"), kRtol, kAtol);
  y.backward(fx.tensor<double>("encoder2.g"));
  ETNA_CHECK_CLOSE(src.grad(), fx.tensor<double>("encoder2.grad.src"), kRtol, kAtol);
  et::test::check_param_grads(encoder, fx, "encoder2", kRtol, kAtol);
}

TEST_CASE("TransformerDecoder (2 pre-norm layers + final norm) matches PyTorch",
          "[transformer][stacks]") {
  const auto& fx = transformer_stacks_fx();
  nn::TransformerDecoder<double> decoder(
      nn::TransformerDecoderLayer<double>(8, 2, {.dim_feedforward = 12, .norm_first = true}), 2,
      true);
  decoder.eval();
  et::test::load_fixture_params(decoder, fx, "decoder2");
  CHECK(decoder.repr() == et::test::pytorch_repr(fx, "decoder2"));
  et::Var<double> tgt(fx.tensor<double>("decoder2.tgt"), true);
  et::Var<double> memory(fx.tensor<double>("decoder2.memory"), true);
  const auto y = decoder(
      tgt, memory,
      {.tgt_mask = fixture_mask<double>(fx, "decoder2.tgt_mask"),
       .memory_key_padding_mask = fixture_mask<double>(fx, "decoder2.memory_key_padding_mask")});
  ETNA_CHECK_CLOSE(y.value(), fx.tensor<double>("decoder2.y"), kRtol, kAtol);
  y.backward(fx.tensor<double>("decoder2.g"));
  ETNA_CHECK_CLOSE(tgt.grad(), fx.tensor<double>("decoder2.grad.tgt"), kRtol, kAtol);
  ETNA_CHECK_CLOSE(memory.grad(), fx.tensor<double>("decoder2.grad.memory"), kRtol, kAtol);
  et::test::check_param_grads(decoder, fx, "decoder2", kRtol, kAtol);
}

TEST_CASE("Transformer (batch_first, 2 + 1 layers) matches PyTorch", "[transformer][stacks]") {
  const auto& fx = transformer_stacks_fx();
  nn::Transformer<double> model({.d_model = 8,
                                 .nhead = 2,
                                 .num_encoder_layers = 2,
                                 .num_decoder_layers = 1,
                                 .dim_feedforward = 12,
                                 .batch_first = true});
  model.eval();
  et::test::load_fixture_params(model, fx, "transformer");
  CHECK(model.repr() == et::test::pytorch_repr(fx, "transformer"));
  et::Var<double> src(fx.tensor<double>("transformer.src"), true);
  et::Var<double> tgt(fx.tensor<double>("transformer.tgt"), true);
  const auto y = model(
      src, tgt,
      {.tgt_mask = fixture_mask<double>(fx, "transformer.tgt_mask"),
       .src_key_padding_mask = fixture_mask<double>(fx, "transformer.src_key_padding_mask"),
       .tgt_key_padding_mask = fixture_mask<double>(fx, "transformer.tgt_key_padding_mask"),
       .memory_key_padding_mask = fixture_mask<double>(fx, "transformer.memory_key_padding_mask")});
  ETNA_CHECK_CLOSE(y.value(), fx.tensor<double>("transformer.y"), kRtol, kAtol);
  y.backward(fx.tensor<double>("transformer.g"));
  ETNA_CHECK_CLOSE(src.grad(), fx.tensor<double>("transformer.grad.src"), kRtol, kAtol);
  ETNA_CHECK_CLOSE(tgt.grad(), fx.tensor<double>("transformer.grad.tgt"), kRtol, kAtol);
  et::test::check_param_grads(model, fx, "transformer", kRtol, kAtol);
  // tgt_is_causal is the same as the causal tgt_mask.
  const auto by_flag = model(
      src, tgt,
      {.src_key_padding_mask = fixture_mask<double>(fx, "transformer.src_key_padding_mask"),
       .tgt_key_padding_mask = fixture_mask<double>(fx, "transformer.tgt_key_padding_mask"),
       .memory_key_padding_mask = fixture_mask<double>(fx, "transformer.memory_key_padding_mask"),
       .tgt_is_causal = true});
  ETNA_CHECK_CLOSE(by_flag.value(), fx.tensor<double>("transformer.y"), kRtol, kAtol);
}

TEST_CASE("Transformer stacks have PyTorch's state_dict keys in order", "[transformer][stacks]") {
  const auto& fx = transformer_stacks_fx();
  nn::TransformerEncoder<> no_norm(nn::TransformerEncoderLayer<>(8, 2, {.dim_feedforward = 12}), 2);
  CHECK(!no_norm.norm.has_value());
  CHECK(et::test::parameter_names(no_norm) ==
        fx.value<std::vector<std::string>>("encoder_nonorm.keys"));
  // The defaults: d_model 512, 8 heads, 6 + 6 layers, ff 2048.
  nn::Transformer<> big;
  CHECK(et::test::parameter_names(big) ==
        fx.value<std::vector<std::string>>("transformer_default.keys"));
  CHECK(big.d_model() == 512);
  CHECK(big.nhead() == 8);
  CHECK(big.encoder.num_layers() == 6);
  CHECK(big.decoder.num_layers() == 6);
  CHECK(big.encoder.layers[0].options().dim_feedforward == 2048);
}

TEST_CASE("TransformerEncoder's layers are independent deep copies of the given layer",
          "[transformer][stacks]") {
  nn::TransformerEncoderLayer<> layer(8, 2, {.dim_feedforward = 12});
  nn::TransformerEncoder<> encoder(layer, 3, true);
  // Same initial values as the prototype (PyTorch's copy.deepcopy), separate storage.
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(et::test::mismatch(encoder.layers[i].linear1.weight.value(), layer.linear1.weight.value())
              .empty());
    CHECK(encoder.layers[i].linear1.weight.value().data() != layer.linear1.weight.value().data());
  }
  encoder.layers[0].linear1.weight.value().fill(0.5f);
  CHECK(encoder.layers[1].linear1.weight.value().data()[0] != 0.5f);
  CHECK(layer.linear1.weight.value().data()[0] != 0.5f);
  // A given final norm (PyTorch's norm=LayerNorm(...)) is used as it is.
  nn::TransformerEncoder<> custom(layer, 1, nn::LayerNorm<>(8, 1e-3));
  REQUIRE(custom.norm.has_value());
  CHECK(custom.norm->eps == 1e-3);
}

TEST_CASE("Transformer initialises every matrix with xavier_uniform_, as PyTorch",
          "[transformer][stacks]") {
  et::manual_seed(11);
  nn::Transformer<> model({.d_model = 16,
                           .nhead = 4,
                           .num_encoder_layers = 2,
                           .num_decoder_layers = 2,
                           .dim_feedforward = 32});
  for (auto& [name, p] : model.named_parameters()) {
    INFO(name);
    const auto v = p.value();
    if (p.dim() > 1) {
      // U(-b, b), b = sqrt(6 / (fan_in + fan_out)): within bounds, not all equal.
      const double b = std::sqrt(6.0 / static_cast<double>(p.size(0) + p.size(1)));
      double lo = 1e9, hi = -1e9;
      for (auto x : v) {
        lo = std::min(lo, static_cast<double>(x));
        hi = std::max(hi, static_cast<double>(x));
      }
      CHECK(lo >= -b);
      CHECK(hi <= b);
      CHECK(hi - lo > b);  // spread over the interval
    }
  }
  // The copies no longer share values once reset (PyTorch's _reset_parameters after deepcopy).
  CHECK(!et::test::mismatch(model.encoder.layers[0].linear1.weight.value(),
                            model.encoder.layers[1].linear1.weight.value())
             .empty());
  // Biases and LayerNorms keep their defaults.
  CHECK(et::test::mismatch(model.encoder.layers[0].self_attn.in_proj_bias.value(),
                           et::zeros<float>({48}))
            .empty());
  CHECK(et::test::mismatch(model.decoder.norm->weight.value(), et::ones<float>({16})).empty());
}
