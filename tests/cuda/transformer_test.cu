// The Transformer layers on cuda: an encoder layer, a decoder layer and a small Transformer,
// moved with to<cuda>(), give the CPU's outputs and the gradients of the inputs and every
// parameter, with bool / float masks and key padding masks; seeded training-mode dropout draws
// the CPU's masks.
#include <string>

#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::gpu;

namespace {

// Same names in the same order, and every gradient equal to the CPU's.
template <class CpuNet, class GpuNet>
void check_parameter_grads(const CpuNet& cpu_net, const GpuNet& gpu_net, double tol) {
  const auto pc = cpu_net.named_parameters();
  const auto pg = gpu_net.named_parameters();
  REQUIRE(pc.size() == pg.size());
  for (std::size_t i = 0; i < pc.size(); ++i) {
    INFO(pc[i].first);
    CHECK(pg[i].first == pc[i].first);
    REQUIRE(pg[i].second.grad().defined());
    ETNA_REQUIRE_MATCHES_CPU(pg[i].second.grad(), pc[i].second.grad(), tol);
  }
}

et::Tensor<bool> padding_mask(std::int64_t n, std::int64_t length,
                              const std::vector<std::int64_t>& valid) {
  auto m = et::zeros<bool>({n, length});
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t j = valid[static_cast<std::size_t>(b)]; j < length; ++j)
      m.data()[b * length + j] = true;
  return m;
}

}  // namespace

TEST_CASE("cuda TransformerEncoderLayer matches the CPU, forward and backward") {
  et::manual_seed(31);
  nn::TransformerEncoderLayer<> cpu_layer(16, 4, {.dim_feedforward = 32, .batch_first = true});
  cpu_layer.eval();
  auto gpu_layer = cpu_layer.to<gpu>();
  const auto x = et::randn<float>({3, 7, 16});
  const auto g = et::randn<float>({3, 7, 16});
  auto mask = et::zeros<bool>({7, 7});
  mask.data()[1] = mask.data()[9] = true;  // two pairs not allowed
  const auto kpm = padding_mask(3, 7, {7, 5, 6});
  et::Var<float> xc(x, true);
  et::Var<float, gpu> xg(x.to<gpu>(), true);
  const auto yc = cpu_layer(xc, {.mask = mask, .src_key_padding_mask = kpm});
  const auto yg = gpu_layer(xg, {.mask = mask.to<gpu>(), .src_key_padding_mask = kpm.to<gpu>()});
  ETNA_REQUIRE_MATCHES_CPU(yg.value(), yc.value(), 1e-5);
  yc.backward(g);
  yg.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), xc.grad(), 1e-4);
  check_parameter_grads(cpu_layer, gpu_layer, 1e-4);
}

TEST_CASE("cuda TransformerDecoderLayer (pre-norm, gelu) matches the CPU, forward and backward") {
  et::manual_seed(32);
  nn::TransformerDecoderLayer<> cpu_layer(
      16, 2, {.dim_feedforward = 24, .activation = "gelu", .norm_first = true});
  cpu_layer.eval();
  auto gpu_layer = cpu_layer.to<gpu>();
  const auto tgt = et::randn<float>({5, 2, 16}), memory = et::randn<float>({6, 2, 16});
  const auto g = et::randn<float>({5, 2, 16});
  const auto causal = nn::generate_square_subsequent_mask<float>(5);
  const auto mem_kpm = padding_mask(2, 6, {4, 6});
  et::Var<float> tc(tgt, true), mc(memory, true);
  et::Var<float, gpu> tg(tgt.to<gpu>(), true), mg(memory.to<gpu>(), true);
  const auto yc = cpu_layer(tc, mc, {.tgt_mask = causal, .memory_key_padding_mask = mem_kpm});
  const auto yg = gpu_layer(
      tg, mg, {.tgt_mask = causal.to<gpu>(), .memory_key_padding_mask = mem_kpm.to<gpu>()});
  ETNA_REQUIRE_MATCHES_CPU(yg.value(), yc.value(), 1e-5);
  yc.backward(g);
  yg.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(tg.grad(), tc.grad(), 1e-4);
  ETNA_REQUIRE_MATCHES_CPU(mg.grad(), mc.grad(), 1e-4);
  check_parameter_grads(cpu_layer, gpu_layer, 1e-4);
}

TEST_CASE("cuda Transformer matches the CPU; seeded training-mode dropout too") {
  et::manual_seed(33);
  nn::Transformer<> cpu_model({.d_model = 16,
                               .nhead = 4,
                               .num_encoder_layers = 2,
                               .num_decoder_layers = 2,
                               .dim_feedforward = 32,
                               .dropout = 0.2});
  auto gpu_model = cpu_model.to<gpu>();
  CHECK(gpu_model.decoder.norm.has_value());
  const auto src = et::randn<float>({6, 2, 16}), tgt = et::randn<float>({4, 2, 16});
  const auto g = et::randn<float>({4, 2, 16});
  const auto src_kpm = padding_mask(2, 6, {6, 3});
  for (const bool training : {false, true}) {
    INFO("training " << training);
    cpu_model.train(training);
    gpu_model.train(training);
    cpu_model.zero_grad();
    gpu_model.zero_grad();
    et::Var<float> sc(src, true), tc(tgt, true);
    et::Var<float, gpu> sg(src.to<gpu>(), true), tg(tgt.to<gpu>(), true);
    et::manual_seed(77);
    const auto yc = cpu_model(sc, tc,
                              {.src_key_padding_mask = src_kpm,
                               .memory_key_padding_mask = src_kpm,
                               .tgt_is_causal = true});
    et::manual_seed(77);
    const auto yg = gpu_model(sg, tg,
                              {.src_key_padding_mask = src_kpm.to<gpu>(),
                               .memory_key_padding_mask = src_kpm.to<gpu>(),
                               .tgt_is_causal = true});
    ETNA_REQUIRE_MATCHES_CPU(yg.value(), yc.value(), 1e-4);
    yc.backward(g);
    yg.backward(g.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(sg.grad(), sc.grad(), 1e-3);
    ETNA_REQUIRE_MATCHES_CPU(tg.grad(), tc.grad(), 1e-3);
    check_parameter_grads(cpu_model, gpu_model, 1e-3);
  }
}
