// Finite-difference gradient checks (double) of tiny Transformer encoder and decoder layers with
// masks: the gradients of the inputs and of every parameter.
#include <catch2/catch.hpp>
#include <vector>

#include "nn/layer_fixtures.hpp"
#include "transformer/transformer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

// Parameters made non-trivial (biases and LayerNorm affine away from 0 / 1) so every path counts.
template <class M>
std::vector<et::Var<double>> randomised_parameters(M& m) {
  std::vector<et::Var<double>> out;
  for (auto& p : m.parameters()) {
    p.value().assign(et::randn<double>(p.shape()) * 0.4);
    out.push_back(p);
  }
  return out;
}

}  // namespace

TEST_CASE("TransformerEncoderLayer passes gradcheck (post-norm relu, pre-norm gelu)",
          "[transformer][gradcheck]") {
  for (const bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    et::manual_seed(norm_first ? 21 : 22);
    nn::TransformerEncoderLayer<double> layer(4, 2,
                                              {.dim_feedforward = 6,
                                               .activation = norm_first ? "gelu" : "relu",
                                               .norm_first = norm_first});
    layer.eval();
    std::vector<et::Var<double>> inputs{et::Var<double>(et::randn<double>({3, 2, 4}), true)};
    for (auto& p : randomised_parameters(layer)) inputs.push_back(p);
    const auto mask = et::randn<double>({3, 3});
    auto kpm = et::zeros<bool>({2, 3});
    kpm.data()[5] = true;  // batch 1 ignores its last key
    et::test::check_gradcheck(et::gradcheck(
        [&](const std::vector<et::Var<double>>& in) {
          return layer(in[0], {.mask = mask, .src_key_padding_mask = kpm});
        },
        inputs));
  }
}

TEST_CASE("TransformerDecoderLayer passes gradcheck (causal tgt, memory padding)",
          "[transformer][gradcheck]") {
  for (const bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    et::manual_seed(norm_first ? 23 : 24);
    nn::TransformerDecoderLayer<double> layer(4, 2,
                                              {.dim_feedforward = 6,
                                               .activation = norm_first ? "relu" : "gelu",
                                               .batch_first = true,
                                               .norm_first = norm_first});
    layer.eval();
    std::vector<et::Var<double>> inputs{et::Var<double>(et::randn<double>({2, 3, 4}), true),
                                        et::Var<double>(et::randn<double>({2, 4, 4}), true)};
    for (auto& p : randomised_parameters(layer)) inputs.push_back(p);
    auto mem_kpm = et::zeros<bool>({2, 4});
    mem_kpm.data()[3] = true;  // batch 0 ignores its last memory position
    et::test::check_gradcheck(et::gradcheck(
        [&](const std::vector<et::Var<double>>& in) {
          return layer(in[0], in[1], {.memory_key_padding_mask = mem_kpm, .tgt_is_causal = true});
        },
        inputs));
  }
}
