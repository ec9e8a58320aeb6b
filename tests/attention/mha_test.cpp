// nn::MultiheadAttention against torch.nn.MultiheadAttention with identical weights
// (tests/reference/make_attention.py): outputs, averaged and per-head weights, gradients of the
// inputs and of every parameter; self attention, batch_first, key_padding_mask, bool and float
// attn_mask (2-D, 3-D), kdim/vdim, no bias, unbatched. Also names, init, errors, dropout, causal.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/attention.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::Fixtures;

namespace {

const Fixtures& fx() {
  static const Fixtures f("attention.json");
  return f;
}

template <class M>
std::vector<std::string> param_names(const M& m) {
  std::vector<std::string> out;
  for (auto& [name, p] : m.named_parameters()) out.push_back(name);
  return out;
}

enum class Same { none, kv, qkv };

template <class T>
void check_mha(const std::string& name, std::int64_t e, std::int64_t h,
               nn::MultiheadAttentionOptions o, Same same, bool kpm, int mask_kind, bool average,
               double rtol, double atol) {
  INFO(name);
  const auto& f = fx();
  nn::MultiheadAttention<T> m(e, h, o);
  CHECK(param_names(m) == f.value<std::vector<std::string>>(name + "_keys"));
  for (auto& [pname, p] : m.named_parameters()) p.value().assign(f.tensor<T>(name + "_p." + pname));
  et::Var<T> q(f.tensor<T>(name + "_query"), true);
  et::Var<T> k = same == Same::qkv ? q : et::Var<T>(f.tensor<T>(name + "_key"), true);
  et::Var<T> v = same == Same::none ? et::Var<T>(f.tensor<T>(name + "_value"), true) : k;
  nn::MhaCall<T> call;
  if (kpm) call.key_padding_mask = f.tensor<bool>(name + "_kpm");
  if (mask_kind == 1) call.attn_mask = f.tensor<bool>(name + "_attn_mask");
  if (mask_kind == 2) call.attn_mask = f.tensor<T>(name + "_attn_mask");
  call.average_attn_weights = average;
  auto [out, w] = m(q, k, v, call);
  ETNA_CHECK_CLOSE(out.value(), f.tensor<T>(name + "_out"), rtol, atol);
  ETNA_CHECK_CLOSE(w, f.tensor<T>(name + "_weights"), rtol, atol);
  out.backward(f.tensor<T>(name + "_gout"));
  ETNA_CHECK_CLOSE(q.grad(), f.tensor<T>(name + "_dquery"), rtol, atol);
  if (same != Same::qkv) ETNA_CHECK_CLOSE(k.grad(), f.tensor<T>(name + "_dkey"), rtol, atol);
  if (same == Same::none) ETNA_CHECK_CLOSE(v.grad(), f.tensor<T>(name + "_dvalue"), rtol, atol);
  for (auto& [pname, p] : m.named_parameters()) {
    INFO(pname);
    ETNA_CHECK_CLOSE(p.grad(), f.tensor<T>(name + "_g." + pname), rtol, atol);
  }
}

template <class T>
void check_all(double rtol, double atol) {
  const std::int64_t e = 8;
  check_mha<T>("mha_self", e, 2, {}, Same::qkv, false, 0, true, rtol, atol);
  check_mha<T>("mha_bf_kpm", e, 2, {.batch_first = true}, Same::kv, true, 1, false, rtol, atol);
  check_mha<T>("mha_float3d", e, 4, {}, Same::none, true, 2, true, rtol, atol);
  check_mha<T>("mha_kvdim", e, 4, {.kdim = 5, .vdim = 7, .batch_first = true}, Same::none, false, 0,
               true, rtol, atol);
  check_mha<T>("mha_bool3d", e, 2, {}, Same::none, true, 1, true, rtol, atol);
  check_mha<T>("mha_float2d", e, 2, {.batch_first = true}, Same::qkv, true, 2, false, rtol, atol);
  check_mha<T>("mha_unbatched", e, 2, {.bias = false}, Same::none, false, 1, false, rtol, atol);
}

}  // namespace

TEST_CASE("MultiheadAttention matches PyTorch in double", "[mha]") {
  check_all<double>(1e-10, 1e-12);
}

TEST_CASE("MultiheadAttention matches PyTorch in float", "[mha]") { check_all<float>(1e-4, 1e-5); }

TEST_CASE("MultiheadAttention: names, shapes and PyTorch's initialisation", "[mha]") {
  nn::MultiheadAttention<float> m(16, 4);
  CHECK(param_names(m) == std::vector<std::string>{"in_proj_weight", "in_proj_bias",
                                                   "out_proj.weight", "out_proj.bias"});
  CHECK(m.in_proj_weight.shape() == et::Shape{48, 16});
  CHECK(m.head_dim() == 4);
  // xavier_uniform_ on [48, 16]: bound sqrt(6 / 64); biases zero.
  const float bound = std::sqrt(6.0f / 64.0f);
  for (float x : m.in_proj_weight.value()) CHECK(std::fabs(x) <= bound);
  for (float x : m.in_proj_bias.value()) CHECK(x == 0.0f);
  for (float x : m.out_proj.bias.value()) CHECK(x == 0.0f);
  nn::MultiheadAttention<float> kv(16, 4, {.bias = false, .kdim = 3, .vdim = 5});
  CHECK(param_names(kv) == std::vector<std::string>{"q_proj_weight", "k_proj_weight",
                                                    "v_proj_weight", "out_proj.weight"});
  CHECK(kv.k_proj_weight.shape() == et::Shape{16, 3});
  CHECK(
      kv.repr() ==
      "MultiheadAttention(\n  (out_proj): Linear(in_features=16, out_features=16, bias=False)\n)");
}

TEST_CASE("MultiheadAttention errors", "[mha]") {
  CHECK_THROWS_WITH(nn::MultiheadAttention<float>(10, 3),
                    "MultiheadAttention: embed_dim must be divisible by num_heads, got "
                    "embed_dim=10, num_heads=3");
  CHECK_THROWS_WITH(nn::MultiheadAttention<float>(8, 2, {.add_bias_kv = true}),
                    "MultiheadAttention: add_bias_kv=true is not supported");
  nn::MultiheadAttention<float> m(8, 2);
  auto x = et::randn<float>({3, 2, 8});
  CHECK_THROWS_WITH(m(et::randn<float>({3, 2, 6}), x, x),
                    "MultiheadAttention: query has 6 features but embed_dim is 8 (query shape "
                    "[3, 2, 6])");
  CHECK_THROWS_WITH(m(x, x, x, {.attn_mask = et::zeros<bool>({3, 4})}),
                    "MultiheadAttention: the shape of the 2-D attn_mask is [3, 4], but should be "
                    "[3, 3]");
  CHECK_THROWS_WITH(m(x, x, x, {.attn_mask = et::zeros<float>({2, 3, 3})}),
                    "MultiheadAttention: the shape of the 3-D attn_mask is [2, 3, 3], but should "
                    "be [4, 3, 3]");
  CHECK_THROWS_WITH(m(x, x, x, {.key_padding_mask = et::zeros<bool>({3, 2})}),
                    "MultiheadAttention: key_padding_mask has shape [3, 2], expected [2, 3] ([N, "
                    "S] batched, [S] unbatched)");
}

TEST_CASE("MultiheadAttention: is_causal equals the square subsequent mask", "[mha]") {
  nn::MultiheadAttention<double> m(8, 2);
  et::Var<double> x(et::randn<double>({5, 2, 8}), true);
  auto a = m(x, x, x, {.is_causal = true});
  auto b = m(x, x, x, {.attn_mask = nn::generate_square_subsequent_mask<double>(5)});
  ETNA_CHECK_CLOSE(a.output.value(), b.output.value(), 1e-12, 1e-14);
  ETNA_CHECK_CLOSE(a.weights, b.weights, 1e-12, 1e-14);
  auto mask = nn::generate_square_subsequent_mask<float>(3);
  CHECK(mask(0, 0) == 0.0f);
  CHECK(mask(1, 0) == 0.0f);
  CHECK(mask(0, 1) == -std::numeric_limits<float>::infinity());
  CHECK(mask(1, 2) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("MultiheadAttention: need_weights = false, dropout only in training", "[mha]") {
  et::manual_seed(1);
  nn::MultiheadAttention<float> m(8, 2, {.dropout = 0.5});
  auto x = et::randn<float>({4, 3, 8});
  auto [out, w] = m(x, x, x, {.need_weights = false});
  CHECK_FALSE(w.defined());
  m.eval();
  auto e1 = m(x, x, x).output.value();
  auto e2 = m(x, x, x).output.value();
  ETNA_CHECK_CLOSE(e1, e2, 0, 0);
  m.train();
  auto t1 = m(x, x, x).output.value();
  CHECK_FALSE(et::test::mismatch(t1, e1).empty());
}

TEST_CASE("MultiheadAttention gradcheck (cross attention, masks)", "[mha]") {
  et::manual_seed(5);
  nn::MultiheadAttention<double> m(6, 3, {.kdim = 4, .vdim = 5, .batch_first = true});
  for (auto& [n, p] : m.named_parameters()) p.value().assign(et::randn<double>(p.shape()));
  et::Var<double> q(et::randn<double>({2, 3, 6}), true), k(et::randn<double>({2, 4, 4}), true),
      v(et::randn<double>({2, 4, 5}), true);
  auto kpm = et::zeros<bool>({2, 4});
  kpm.data()[3] = true;
  std::vector<et::Var<double>> inputs{q, k, v, m.q_proj_weight, m.in_proj_bias, m.out_proj.weight};
  auto r = et::gradcheck(
      [&](const std::vector<et::Var<double>>& in) {
        return m(in[0], in[1], in[2], {.key_padding_mask = kpm, .is_causal = true}).output;
      },
      inputs);
  INFO(r.report);
  CHECK(r);
}

TEST_CASE("MultiheadAttention gradcheck with dropout (same mask each call), self attention",
          "[mha]") {
  et::manual_seed(6);
  nn::MultiheadAttention<double> m(6, 2, {.dropout = 0.3});
  for (auto& [n, p] : m.named_parameters()) p.value().assign(et::randn<double>(p.shape()));
  et::Var<double> x(et::randn<double>({4, 2, 6}), true);
  std::vector<et::Var<double>> inputs{x, m.in_proj_weight, m.in_proj_bias};
  auto r = et::gradcheck(
      [&](const std::vector<et::Var<double>>& in) {
        et::manual_seed(99);  // the same dropout mask on every evaluation
        return m(in[0], in[0], in[0], {.key_padding_mask = et::zeros<bool>({2, 4})}).output;
      },
      inputs);
  INFO(r.report);
  CHECK(r);
}

TEST_CASE("MultiheadAttention: key is value uses one projection GEMM, same result", "[mha]") {
  et::manual_seed(12);
  nn::MultiheadAttention<double> m(8, 2);
  et::Var<double> q(et::randn<double>({3, 2, 8}), true), kv(et::randn<double>({5, 2, 8}), true);
  et::Var<double> ka(kv.value().clone(), true), va(kv.value().clone(), true);
  auto a = m(q, kv, kv);  // packed k/v projection
  auto b = m(q, ka, va);  // separate projections
  ETNA_CHECK_CLOSE(a.output.value(), b.output.value(), 1e-12, 1e-14);
  const auto g = et::randn<double>(a.output.shape());
  a.output.backward(g);
  b.output.backward(g);
  ETNA_CHECK_CLOSE(kv.grad(), et::eval(ka.grad() + va.grad()), 1e-12, 1e-14);
}
