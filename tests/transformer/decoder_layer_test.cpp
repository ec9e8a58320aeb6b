// nn::TransformerDecoderLayer against PyTorch 1.13's nn.TransformerDecoderLayer (same weights):
// outputs and the gradients of tgt, memory and every parameter, with causal tgt masks (float and
// bool), a float memory mask and key padding masks on both sides.
#include <catch2/catch.hpp>

#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::fixture_mask;
using et::test::transformer_layers_fx;

namespace {

struct DecoderCase {
  const char* tag;
  bool batch_first, norm_first;
  const char* activation;
};

constexpr DecoderCase kDecoderCases[] = {
    {"dec_post_relu", false, false, "relu"},  // causal float tgt mask + memory padding mask
    {"dec_pre_gelu_bf", true, true, "gelu"},  // bool causal tgt mask, float memory mask, both kpm
};

template <class T>
void check_decoder_case(const DecoderCase& c, double rtol, double atol) {
  INFO(c.tag);
  const auto& fx = transformer_layers_fx();
  const std::string tag = c.tag;
  nn::TransformerDecoderLayer<T> layer(8, 2,
                                       {.dim_feedforward = 12,
                                        .activation = c.activation,
                                        .batch_first = c.batch_first,
                                        .norm_first = c.norm_first});
  layer.eval();
  et::test::load_fixture_params(layer, fx, tag);
  et::Var<T> tgt(fx.tensor<T>(tag + ".tgt"), true), memory(fx.tensor<T>(tag + ".memory"), true);
  const et::Var<T> y =
      layer(tgt, memory,
            {.tgt_mask = fixture_mask<T>(fx, tag + ".tgt_mask"),
             .memory_mask = fixture_mask<T>(fx, tag + ".memory_mask"),
             .tgt_key_padding_mask = fixture_mask<T>(fx, tag + ".tgt_key_padding_mask"),
             .memory_key_padding_mask = fixture_mask<T>(fx, tag + ".memory_key_padding_mask")});
  ETNA_CHECK_CLOSE(y.value(), fx.tensor<double>(tag + ".y"), rtol, atol);
  y.backward(fx.tensor<T>(tag + ".g"));
  ETNA_CHECK_CLOSE(tgt.grad(), fx.tensor<double>(tag + ".grad.tgt"), rtol, atol);
  ETNA_CHECK_CLOSE(memory.grad(), fx.tensor<double>(tag + ".grad.memory"), rtol, atol);
  et::test::check_param_grads(layer, fx, tag, rtol, atol);
}

}  // namespace

TEST_CASE("TransformerDecoderLayer matches PyTorch in double: outputs and all gradients",
          "[transformer][decoder_layer]") {
  for (const auto& c : kDecoderCases) check_decoder_case<double>(c, 1e-9, 1e-11);
}

TEST_CASE("TransformerDecoderLayer matches PyTorch in float", "[transformer][decoder_layer]") {
  for (const auto& c : kDecoderCases) check_decoder_case<float>(c, 2e-4, 2e-5);
}

TEST_CASE("TransformerDecoderLayer has PyTorch's parameter names, order and repr",
          "[transformer][decoder_layer]") {
  const auto& fx = transformer_layers_fx();
  nn::TransformerDecoderLayer<> layer(8, 2, {.dim_feedforward = 12});
  CHECK(et::test::parameter_names(layer) ==
        fx.value<std::vector<std::string>>("dec_post_relu.keys"));
  CHECK(layer.repr() == et::test::pytorch_repr(fx, "dec_post_relu"));
}

TEST_CASE("TransformerDecoderLayer: tgt_is_causal and memory_is_causal apply causal masks",
          "[transformer][decoder_layer]") {
  et::manual_seed(4);
  nn::TransformerDecoderLayer<double> layer(8, 2, {.dim_feedforward = 12, .batch_first = true});
  layer.eval();
  const auto tgt = et::randn<double>({2, 4, 8}), memory = et::randn<double>({2, 6, 8});
  const auto causal4 = nn::generate_square_subsequent_mask<double>(4);
  ETNA_CHECK_CLOSE(layer(tgt, memory, {.tgt_is_causal = true}).value(),
                   layer(tgt, memory, {.tgt_mask = causal4}).value(), 1e-12, 1e-12);
  // Memory attention, top-left aligned as PyTorch's is_causal: query i sees memory keys <= i.
  auto mem_mask = et::zeros<double>({4, 6});
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 6; ++j) mem_mask.data()[i * 6 + j] = -INFINITY;
  ETNA_CHECK_CLOSE(layer(tgt, memory, {.memory_is_causal = true}).value(),
                   layer(tgt, memory, {.memory_mask = mem_mask}).value(), 1e-12, 1e-12);
}
