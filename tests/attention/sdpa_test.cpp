// functional::scaled_dot_product_attention: forward, weights and q/k/v gradients against
// PyTorch (tests/reference/make_attention.py: softmax written out, computed in float64), in
// double and float; masks (bool, float, causal, broadcast), Lq != Lk, Ev != E, 3-D and 4-D,
// broadcast batch dims; dropout statistics; gradcheck; shape errors.
#include <cmath>
#include <limits>
#include <string>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/functional/attention.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using et::test::Fixtures;

namespace {

const Fixtures& fx() {
  static const Fixtures f("attention.json");
  return f;
}

template <class T>
void check_case(const std::string& name, bool bool_mask, bool float_mask, bool causal, double rtol,
                double atol) {
  INFO(name);
  const auto& f = fx();
  et::Var<T> q(f.tensor<T>(name + "_q"), true), k(f.tensor<T>(name + "_k"), true),
      v(f.tensor<T>(name + "_v"), true);
  F::SdpaOptions<T> opt;
  if (bool_mask) opt.bool_mask = f.tensor<bool>(name + "_bool_mask");
  if (float_mask) opt.float_mask = f.tensor<T>(name + "_float_mask");
  if (f.contains(name + "_scale")) opt.scale = f.value<double>(name + "_scale");
  opt.is_causal = causal;
  et::Tensor<T> w;
  opt.need_weights = true;
  opt.weights_out = &w;
  auto out = F::scaled_dot_product_attention(q, k, v, opt);
  ETNA_CHECK_CLOSE(out.value(), f.tensor<T>(name + "_out"), rtol, atol);
  ETNA_CHECK_CLOSE(w, f.tensor<T>(name + "_weights"), rtol, atol);
  out.backward(f.tensor<T>(name + "_gout"));
  ETNA_CHECK_CLOSE(q.grad(), f.tensor<T>(name + "_dq"), rtol, atol);
  ETNA_CHECK_CLOSE(k.grad(), f.tensor<T>(name + "_dk"), rtol, atol);
  ETNA_CHECK_CLOSE(v.grad(), f.tensor<T>(name + "_dv"), rtol, atol);
}

template <class T>
void check_all(double rtol, double atol) {
  check_case<T>("sdpa_plain", false, false, false, rtol, atol);       // 3-D, Lq != Lk, Ev != E
  check_case<T>("sdpa_bool", true, false, false, rtol, atol);         // 4-D, mask [N, 1, Lq, Lk]
  check_case<T>("sdpa_float", false, true, false, rtol, atol);        // 2-D float mask
  check_case<T>("sdpa_causal", false, false, true, rtol, atol);       // Lq < Lk, top-left
  check_case<T>("sdpa_bcast", true, false, false, rtol, atol);        // broadcast k, v; [Lk] mask
  check_case<T>("sdpa_causal_float", false, true, true, rtol, atol);  // causal + float mask
}

}  // namespace

TEST_CASE("sdpa matches PyTorch in double", "[sdpa]") { check_all<double>(1e-10, 1e-12); }

TEST_CASE("sdpa matches PyTorch in float", "[sdpa]") { check_all<float>(1e-4, 1e-5); }

TEST_CASE("sdpa: a fully masked row gives NaN, as PyTorch", "[sdpa]") {
  et::Var<double> q(et::randn<double>({1, 2, 3}), true), k(et::randn<double>({1, 4, 3}), true),
      v(et::randn<double>({1, 4, 3}), true);
  F::SdpaOptions<double> opt;
  opt.bool_mask = et::ones<bool>({2, 4});
  opt.bool_mask.data()[4] = opt.bool_mask.data()[5] = opt.bool_mask.data()[6] =
      opt.bool_mask.data()[7] = false;  // row 1: nothing may be attended
  auto out = F::scaled_dot_product_attention(q, k, v, opt).value();
  for (int j = 0; j < 3; ++j) {
    CHECK(std::isfinite(out(0, 0, j)));
    CHECK(std::isnan(out(0, 1, j)));
  }
}

TEST_CASE("sdpa gradcheck with masks and causal", "[sdpa]") {
  et::manual_seed(3);
  et::Var<double> q(et::randn<double>({2, 2, 3, 4}), true),
      k(et::randn<double>({2, 1, 5, 4}), true), v(et::randn<double>({2, 2, 5, 3}), true);
  F::SdpaOptions<double> opt;
  opt.float_mask = et::randn<double>({3, 5});
  opt.is_causal = true;
  auto r = et::gradcheck(
      [&](const std::vector<et::Var<double>>& in) {
        return F::scaled_dot_product_attention(in[0], in[1], in[2], opt);
      },
      {q, k, v});
  INFO(r.report);
  CHECK(r);
}

TEST_CASE("sdpa dropout: train-time statistics, mask reused by backward", "[sdpa]") {
  et::manual_seed(7);
  // v = identity rows: the output equals the dropped-out weights, so the mask is visible.
  const std::int64_t lk = 64;
  et::Var<float> q(et::zeros<float>({4, 32, 8}), true), k(et::zeros<float>({4, lk, 8}), true);
  et::Var<float> v(et::eval(et::zeros<float>({4, lk, lk}) + 0.0f), true);
  for (std::int64_t b = 0; b < 4; ++b)
    for (std::int64_t j = 0; j < lk; ++j) v.value()(b, j, j) = 1.0f;
  F::SdpaOptions<float> opt;
  opt.dropout_p = 0.25;
  auto out = F::scaled_dot_product_attention(q, k, v, opt);
  // Uniform weights 1/64, kept ones scaled by 1/(1-p): values are 0 or 1/48.
  std::int64_t zeros = 0, n = out.value().numel();
  for (float x : out.value()) {
    if (x == 0.0f)
      ++zeros;
    else
      CHECK(x == Approx(1.0f / 48.0f));
  }
  CHECK(static_cast<double>(zeros) / n == Approx(0.25).margin(0.02));
  // dv = P_dropped^T dO: with dO = ones, dv[b, j, :] sums the kept weights in column j.
  out.backward(et::ones<float>(out.shape()));
  double total = 0;
  for (float x : v.grad()) total += x;
  double kept = 0;
  for (float x : out.value()) kept += x;
  CHECK(total == Approx(kept * lk).epsilon(1e-4));
}

TEST_CASE("sdpa: dropout_p = 0 (eval) is deterministic and equals no dropout", "[sdpa]") {
  et::Var<float> q(et::randn<float>({2, 3, 4}), true), k(et::randn<float>({2, 5, 4}), true),
      v(et::randn<float>({2, 5, 4}), true);
  auto a = F::scaled_dot_product_attention(q, k, v);
  F::SdpaOptions<float> opt;
  opt.dropout_p = 0.0;
  auto b = F::scaled_dot_product_attention(q, k, v, opt);
  ETNA_CHECK_CLOSE(a.value(), b.value(), 0, 0);
}

TEST_CASE("sdpa shape errors", "[sdpa]") {
  et::Var<float> q(et::randn<float>({2, 3, 4}), true), k(et::randn<float>({2, 5, 4}), true),
      v(et::randn<float>({2, 5, 6}), true);
  et::Var<float> k3(et::randn<float>({2, 5, 3}), true), v4(et::randn<float>({2, 4, 6}), true);
  CHECK_THROWS_WITH(F::scaled_dot_product_attention(q, k3, v),
                    "scaled_dot_product_attention: q and k embedding sizes differ: q [2, 3, 4], "
                    "k [2, 5, 3] (expected [..., Lq, E], [..., Lk, E])");
  CHECK_THROWS_WITH(F::scaled_dot_product_attention(q, k, v4),
                    "scaled_dot_product_attention: k and v sequence lengths differ: k [2, 5, 4], "
                    "v [2, 4, 6] (expected [..., Lk, E], [..., Lk, Ev])");
  F::SdpaOptions<float> opt;
  opt.bool_mask = et::ones<bool>({3, 4});
  CHECK_THROWS_WITH(F::scaled_dot_product_attention(q, k, v, opt),
                    "scaled_dot_product_attention: bool_mask of shape [3, 4] is not "
                    "broadcastable to the scores [2, 3, 5] ([..., Lq, Lk])");
  F::SdpaOptions<float> both;
  both.bool_mask = et::ones<bool>({3, 5});
  both.float_mask = et::zeros<float>({3, 5});
  CHECK_THROWS_WITH(F::scaled_dot_product_attention(q, k, v, both),
                    "scaled_dot_product_attention: give either bool_mask or float_mask, not both");
}

TEST_CASE("sdpa gradcheck with dropout (same mask each call)", "[sdpa]") {
  et::manual_seed(4);
  et::Var<double> q(et::randn<double>({2, 3, 4}), true), k(et::randn<double>({2, 5, 4}), true),
      v(et::randn<double>({2, 5, 3}), true);
  F::SdpaOptions<double> opt;
  opt.dropout_p = 0.4;
  opt.bool_mask = et::ones<bool>({5});
  auto r = et::gradcheck(
      [&](const std::vector<et::Var<double>>& in) {
        et::Generator gen(17);
        F::SdpaOptions<double> o = opt;
        o.generator = &gen;
        return F::scaled_dot_product_attention(in[0], in[1], in[2], o);
      },
      {q, k, v});
  INFO(r.report);
  CHECK(r);
}
