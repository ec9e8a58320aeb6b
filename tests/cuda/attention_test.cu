// scaled_dot_product_attention and MultiheadAttention on cuda against the cpu on identical
// inputs: masks (bool, float, broadcast), causal, dropout (same Philox mask for the same seed),
// forward, weights and every gradient; positional encodings after net.to<cuda>().
#include "cuda/support.hpp"

#include <string>
#include <vector>

#include <etna/nn/attention.hpp>
#include <etna/nn/positional_encoding.hpp>

namespace et = etna;
namespace nn = etna::nn;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

struct SdpaCase {
  std::string name;
  et::Shape q, k, v;
  et::Shape bool_mask, float_mask;  // empty = none
  bool causal = false;
  double dropout = 0.0;
};

void check_sdpa(const SdpaCase& c) {
  INFO(c.name);
  et::manual_seed(21);
  const auto q = et::randn<float>(c.q), k = et::randn<float>(c.k), v = et::randn<float>(c.v);
  F::SdpaOptions<float> ho;
  F::SdpaOptions<float, gpu> go;
  if (!c.bool_mask.empty()) {
    ho.bool_mask = et::eval(et::rand<float>(c.bool_mask) > 0.3f);
    for (std::int64_t i = 0; i < ho.bool_mask.numel(); i += c.bool_mask.back())
      ho.bool_mask.data()[i] = true;  // key 0 always allowed: no NaN rows
    go.bool_mask = ho.bool_mask.to<gpu>();
  }
  if (!c.float_mask.empty()) {
    ho.float_mask = et::randn<float>(c.float_mask);
    go.float_mask = ho.float_mask.to<gpu>();
  }
  ho.is_causal = go.is_causal = c.causal;
  ho.dropout_p = go.dropout_p = c.dropout;
  et::Tensor<float> hw;
  et::Tensor<float, gpu> gw;
  ho.need_weights = go.need_weights = true;
  ho.weights_out = &hw;
  go.weights_out = &gw;
  et::Var<float> hq(q.clone(), true), hk(k.clone(), true), hv(v.clone(), true);
  et::Var<float, gpu> gq(q.to<gpu>(), true), gk(k.to<gpu>(), true), gv(v.to<gpu>(), true);
  et::manual_seed(5);
  const auto ho_out = F::scaled_dot_product_attention(hq, hk, hv, ho);
  et::manual_seed(5);
  const auto go_out = F::scaled_dot_product_attention(gq, gk, gv, go);
  ETNA_REQUIRE_MATCHES_CPU(go_out.value(), ho_out.value(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(gw, hw, 1e-5);
  const auto g = et::randn<float>(ho_out.shape());
  ho_out.backward(g);
  go_out.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(gq.grad(), hq.grad(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(gk.grad(), hk.grad(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(gv.grad(), hv.grad(), 1e-5);
}

}  // namespace

TEST_CASE("cuda scaled_dot_product_attention matches the cpu") {
  check_sdpa({"plain 3-d, Lq != Lk, Ev != E", {2, 3, 8}, {2, 5, 8}, {2, 5, 6}, {}, {}});
  check_sdpa({"bool mask broadcast", {2, 2, 4, 8}, {2, 2, 6, 8}, {2, 2, 6, 8}, {2, 1, 4, 6}, {}});
  check_sdpa({"float mask 2-d", {2, 2, 4, 8}, {2, 2, 6, 8}, {2, 2, 6, 4}, {}, {4, 6}});
  check_sdpa({"causal", {1, 3, 5, 4}, {1, 3, 7, 4}, {1, 3, 7, 4}, {}, {}, true});
  check_sdpa({"causal + bool [Lk]", {2, 6, 4}, {2, 6, 4}, {2, 6, 4}, {6}, {}, true});
  check_sdpa({"broadcast k, v", {2, 3, 4, 8}, {1, 3, 5, 8}, {2, 1, 5, 8}, {}, {}});
  check_sdpa({"dropout", {2, 2, 16, 8}, {2, 2, 16, 8}, {2, 2, 16, 8}, {}, {16, 16}, false, 0.3});
}

TEST_CASE("cuda MultiheadAttention matches the cpu, forward and backward, dropout included") {
  et::manual_seed(8);
  for (bool self : {true, false}) {
    INFO("self attention " << self);
    nn::MultiheadAttention<float> host(16, 4, {.dropout = 0.2, .batch_first = true});
    auto dev = host.to<gpu>();
    const auto q = et::randn<float>({3, 5, 16}), kv = et::randn<float>({3, 7, 16});
    auto kpm = et::zeros<bool>({3, self ? 5 : 7});
    kpm.data()[2] = kpm.data()[9] = true;
    const auto am = et::randn<float>({5, self ? 5 : 7});
    et::Var<float> hq(q.clone(), true), hk(self ? q.clone() : kv.clone(), true);
    et::Var<float, gpu> gq(q.to<gpu>(), true), gk(self ? q.to<gpu>() : kv.to<gpu>(), true);
    et::manual_seed(31);  // training mode: the same dropout mask on both devices
    const auto hr = self ? host(hq, hq, hq, {.key_padding_mask = kpm, .attn_mask = am})
                         : host(hq, hk, hk, {.key_padding_mask = kpm, .attn_mask = am});
    et::manual_seed(31);
    const auto gr =
        self ? dev(gq, gq, gq, {.key_padding_mask = kpm.to<gpu>(), .attn_mask = am.to<gpu>()})
             : dev(gq, gk, gk, {.key_padding_mask = kpm.to<gpu>(), .attn_mask = am.to<gpu>()});
    ETNA_REQUIRE_MATCHES_CPU(gr.output.value(), hr.output.value(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(gr.weights, hr.weights, 1e-5);
    const auto g = et::randn<float>(hr.output.shape());
    hr.output.backward(g);
    gr.output.backward(g.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(gq.grad(), hq.grad(), 1e-5);
    if (!self) ETNA_REQUIRE_MATCHES_CPU(gk.grad(), hk.grad(), 1e-5);
    auto hp = host.named_parameters();
    auto dp = dev.named_parameters();
    REQUIRE(hp.size() == dp.size());
    for (std::size_t i = 0; i < hp.size(); ++i) {
      INFO(hp[i].first);
      ETNA_REQUIRE_MATCHES_CPU(dp[i].second.grad(), hp[i].second.grad(), 1e-5);
    }
  }
}

TEST_CASE("cuda MultiheadAttention: causal, bool masks, unbatched") {
  et::manual_seed(9);
  nn::MultiheadAttention<float> host(8, 2, {.kdim = 3, .vdim = 5});
  auto dev = host.to<gpu>();
  const auto q = et::randn<float>({4, 8}), k = et::randn<float>({4, 3}),
             v = et::randn<float>({4, 5});
  auto am = et::zeros<bool>({4, 4});
  am.data()[3] = true;
  const auto hr =
      host(q, k, v, {.attn_mask = am, .average_attn_weights = false, .is_causal = true});
  const auto gr =
      dev(q.to<gpu>(), k.to<gpu>(), v.to<gpu>(),
          {.attn_mask = am.to<gpu>(), .average_attn_weights = false, .is_causal = true});
  ETNA_REQUIRE_MATCHES_CPU(gr.output.value(), hr.output.value(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(gr.weights, hr.weights, 1e-5);
}

TEST_CASE("cuda positional encodings match the cpu") {
  et::manual_seed(4);
  nn::SinusoidalPositionalEncoding<float> s(8, 32);
  nn::LearnedPositionalEncoding<float> l(32, 8, 0.0, true);
  auto sd = s.to<gpu>();
  auto ld = l.to<gpu>();
  const auto x = et::randn<float>({6, 3, 8});
  ETNA_REQUIRE_MATCHES_CPU(sd(x.to<gpu>()).value(), s(x).value(), 1e-6);
  ETNA_REQUIRE_MATCHES_CPU(ld(x.to<gpu>()).value(), l(x).value(), 1e-6);
  ETNA_REQUIRE_MATCHES_CPU(sd.pe, s.pe, 1e-12);
}
