// nn::TransformerEncoderLayer against PyTorch 1.13's nn.TransformerEncoderLayer (same weights,
// loaded by state_dict name): outputs and the gradients of the input and every parameter for
// post-/pre-norm, relu/gelu, seq-/batch-first, float/bool masks and key padding masks.
#include <catch2/catch.hpp>

#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::fixture_mask;
using et::test::transformer_layers_fx;

namespace {

struct EncoderCase {
  const char* tag;
  bool batch_first, norm_first;
  const char* activation;
};

constexpr EncoderCase kEncoderCases[] = {
    {"enc_post_relu", false, false, "relu"},       // float mask + key padding mask
    {"enc_pre_gelu_bf", true, true, "gelu"},       // bool mask + key padding mask
    {"enc_post_gelu_bf", true, false, "gelu"},     // no masks
    {"enc_pre_relu_causal", false, true, "relu"},  // causal float mask
    {"enc_unbatched", false, false, "relu"},       // [L, E] input, bool mask
};

nn::TransformerLayerOptions options_for(const EncoderCase& c) {
  return {.dim_feedforward = 12,
          .dropout = 0.1,
          .activation = c.activation,
          .batch_first = c.batch_first,
          .norm_first = c.norm_first};
}

template <class T>
void check_encoder_case(const EncoderCase& c, double rtol, double atol) {
  INFO(c.tag);
  const auto& fx = transformer_layers_fx();
  const std::string tag = c.tag;
  nn::TransformerEncoderLayer<T> layer(8, 2, options_for(c));
  layer.eval();  // PyTorch's reference ran in eval mode (dropout off)
  et::test::load_fixture_params(layer, fx, tag);
  et::Var<T> src(fx.tensor<T>(tag + ".src"), true);
  const nn::EncoderCall<T> call{
      .mask = fixture_mask<T>(fx, tag + ".src_mask"),
      .src_key_padding_mask = fixture_mask<T>(fx, tag + ".src_key_padding_mask")};
  const et::Var<T> y = layer(src, call);
  ETNA_CHECK_CLOSE(y.value(), fx.tensor<double>(tag + ".y"), rtol, atol);
  y.backward(fx.tensor<T>(tag + ".g"));
  ETNA_CHECK_CLOSE(src.grad(), fx.tensor<double>(tag + ".grad.src"), rtol, atol);
  et::test::check_param_grads(layer, fx, tag, rtol, atol);
}

}  // namespace

TEST_CASE("TransformerEncoderLayer matches PyTorch in double: outputs and all gradients",
          "[transformer][encoder_layer]") {
  for (const auto& c : kEncoderCases) check_encoder_case<double>(c, 1e-9, 1e-11);
}

TEST_CASE("TransformerEncoderLayer matches PyTorch in float", "[transformer][encoder_layer]") {
  for (const auto& c : kEncoderCases) check_encoder_case<float>(c, 2e-4, 2e-5);
}

TEST_CASE("TransformerEncoderLayer has PyTorch's parameter names, order and repr",
          "[transformer][encoder_layer]") {
  const auto& fx = transformer_layers_fx();
  nn::TransformerEncoderLayer<> layer(8, 2, {.dim_feedforward = 12});
  CHECK(et::test::parameter_names(layer) ==
        fx.value<std::vector<std::string>>("enc_post_relu.keys"));
  CHECK(layer.repr() == et::test::pytorch_repr(fx, "enc_post_relu"));
  // Shapes and PyTorch's defaults: xavier in_proj, zero attention biases, LayerNorm ones/zeros.
  CHECK(layer.self_attn.in_proj_weight.shape() == et::Shape{24, 8});
  CHECK(layer.linear1.weight.shape() == et::Shape{12, 8});
  CHECK(layer.linear2.weight.shape() == et::Shape{8, 12});
  CHECK(et::test::mismatch(layer.self_attn.in_proj_bias.value(), et::zeros<float>({24})).empty());
  CHECK(et::test::mismatch(layer.norm1.weight.value(), et::ones<float>({8})).empty());
  CHECK(layer.d_model() == 8);
  CHECK(layer.nhead() == 2);
  // bias = false drops every bias, as PyTorch 2's bias=False.
  nn::TransformerEncoderLayer<> no_bias(8, 2, {.dim_feedforward = 12, .bias = false});
  CHECK(et::test::parameter_names(no_bias) ==
        std::vector<std::string>{"self_attn.in_proj_weight", "self_attn.out_proj.weight",
                                 "linear1.weight", "linear2.weight", "norm1.weight",
                                 "norm2.weight"});
}

TEST_CASE("TransformerEncoderLayer: is_causal applies the causal mask",
          "[transformer][encoder_layer]") {
  et::manual_seed(3);
  nn::TransformerEncoderLayer<double> layer(8, 2, {.dim_feedforward = 12, .norm_first = true});
  layer.eval();
  const auto src = et::randn<double>({5, 3, 8});
  const auto by_flag = layer(src, {.is_causal = true});
  const auto by_mask = layer(src, {.mask = nn::generate_square_subsequent_mask<double>(5)});
  const auto unmasked = layer(src);
  ETNA_CHECK_CLOSE(by_flag.value(), by_mask.value(), 1e-12, 1e-12);
  CHECK(!et::test::mismatch(by_flag.value(), unmasked.value(), 1e-6, 1e-6).empty());
  // With a mask as well, the flag is PyTorch 2's hint: the mask is what applies.
  const auto hinted =
      layer(src, {.mask = nn::generate_square_subsequent_mask<double>(5), .is_causal = true});
  ETNA_CHECK_CLOSE(hinted.value(), by_mask.value(), 1e-12, 1e-12);
}
