// The Transformer layers as modules: dropout in training mode, train/eval reaching every
// sublayer, named_modules as PyTorch's, and loading a PyTorch state_dict (safetensors written
// by tests/reference/make_transformer.py) with et::io::load.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "etna/io.hpp"
#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

TEST_CASE("TransformerEncoderLayer dropout: seeded in training, off in eval",
          "[transformer][module]") {
  et::manual_seed(5);
  nn::TransformerEncoderLayer<> layer(8, 2, {.dim_feedforward = 16, .dropout = 0.3});
  const auto src = et::randn<float>({6, 2, 8});
  layer.train();
  et::manual_seed(100);
  const auto a = layer(src);
  et::manual_seed(100);
  const auto b = layer(src);
  const auto c = layer(src);  // the generator moved on: other masks
  ETNA_CHECK_CLOSE(a.value(), b.value(), 0.0, 0.0);
  CHECK(!et::test::mismatch(a.value(), c.value(), 1e-4, 1e-4).empty());
  layer.eval();
  const auto e1 = layer(src), e2 = layer(src);
  ETNA_CHECK_CLOSE(e1.value(), e2.value(), 0.0, 0.0);
  CHECK(!et::test::mismatch(a.value(), e1.value(), 1e-4, 1e-4).empty());
  // Gradients flow through the training-mode masks.
  layer.train();
  et::Var<float> x(src, true);
  layer(x).backward(et::ones<float>({6, 2, 8}));
  REQUIRE(x.grad().defined());
  REQUIRE(layer.linear1.weight.grad().defined());
  // dropout = 0: training and eval agree.
  nn::TransformerEncoderLayer<> no_drop(8, 2, {.dim_feedforward = 16, .dropout = 0.0});
  no_drop.train();
  const auto t = no_drop(src);
  no_drop.eval();
  ETNA_CHECK_CLOSE(t.value(), no_drop(src).value(), 1e-6, 1e-7);
}

TEST_CASE("train() and eval() reach every sublayer, named_modules as PyTorch",
          "[transformer][module]") {
  nn::Transformer<> model({.d_model = 8,
                           .nhead = 2,
                           .num_encoder_layers = 2,
                           .num_decoder_layers = 1,
                           .dim_feedforward = 12});
  model.eval();
  for (auto& [name, m] : model.named_modules()) {
    INFO(name);
    CHECK(!m.is_training());
  }
  model.train();
  CHECK(model.decoder.layers[0].multihead_attn.is_training());
  CHECK(model.encoder.layers[1].dropout2.is_training());
  std::vector<std::string> names;
  for (auto& [name, m] : model.named_modules()) names.push_back(name);
  const std::vector<std::string> head{"",
                                      "encoder",
                                      "encoder.layers",
                                      "encoder.layers.0",
                                      "encoder.layers.0.self_attn",
                                      "encoder.layers.0.self_attn.out_proj",
                                      "encoder.layers.0.linear1",
                                      "encoder.layers.0.dropout",
                                      "encoder.layers.0.linear2",
                                      "encoder.layers.0.norm1",
                                      "encoder.layers.0.norm2",
                                      "encoder.layers.0.dropout1",
                                      "encoder.layers.0.dropout2",
                                      "encoder.layers.1"};
  CHECK(std::vector<std::string>(names.begin(), names.begin() + head.size()) == head);
  CHECK(names.back() == "decoder.norm");
}

TEST_CASE("et::io::load reads a PyTorch nn.Transformer state_dict", "[transformer][module]") {
  const std::string dir = ETNA_TEST_DATA_DIR;
  nn::Transformer<> model({.d_model = 8,
                           .nhead = 2,
                           .num_encoder_layers = 1,
                           .num_decoder_layers = 1,
                           .dim_feedforward = 12});
  const auto result = et::io::load(model, dir + "/transformer_model.safetensors");  // strict
  CHECK(result.missing_keys.empty());
  CHECK(result.unexpected_keys.empty());
  model.eval();
  const et::io::SafeTensorsFile io(dir + "/transformer_model_io.safetensors");
  et::NoGradGuard no_grad;
  const auto y = model(io.tensor<float>("src"), io.tensor<float>("tgt"), {.tgt_is_causal = true});
  ETNA_CHECK_CLOSE(y.value(), io.tensor<float>("y"), 1e-4, 1e-5);
}
