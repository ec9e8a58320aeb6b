// nn::functional::group_norm against PyTorch (forward and the gradients of x, weight and bias
// for G = 1, 2, C on [N, C, H, W], on [N, C] and [N, C, L], and without affine), gradcheck in
// double, tensor and expression operands, and errors naming channels and shapes.
#include "etna/nn/functional/group_norm.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "nn/layer_fixtures.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using Catch::Contains;

namespace {

const et::test::Fixtures& gn_fx() {
  static const et::test::Fixtures fx("group_norm.json");
  return fx;
}

}  // namespace

TEST_CASE("group_norm: values and gradients match PyTorch", "[group_norm]") {
  for (const std::string tag : {"g1", "g2", "gc", "nc", "ncl", "noaffine"}) {
    INFO(tag);
    const auto groups = gn_fx().value<std::int64_t>(tag + "_groups");
    const bool affine = gn_fx().contains(tag + "_w");
    const et::Var<float> x(gn_fx().tensor(tag + "_x"), true);
    et::Var<float> w, b;
    if (affine) {
      w = et::Var<float>(gn_fx().tensor(tag + "_w"), true);
      b = et::Var<float>(gn_fx().tensor(tag + "_b"), true);
    }
    const et::Var<float> y = F::group_norm(x, groups, w, b);
    ETNA_CHECK_CLOSE(y.value(), gn_fx().tensor(tag + "_y"), 1e-5, 1e-5);
    y.backward(gn_fx().tensor(tag + "_g"));
    ETNA_CHECK_CLOSE(x.grad(), gn_fx().tensor(tag + "_gx"), 1e-4, 1e-5);
    if (affine) {
      ETNA_CHECK_CLOSE(w.grad(), gn_fx().tensor(tag + "_gw"), 1e-5, 1e-5);
      ETNA_CHECK_CLOSE(b.grad(), gn_fx().tensor(tag + "_gb"), 1e-5, 1e-5);
    }
  }
}

TEST_CASE("group_norm: weight only, bias only, tensor and expression operands", "[group_norm]") {
  const auto x = gn_fx().tensor("g2_x");
  const auto w = gn_fx().tensor("g2_w"), b = gn_fx().tensor("g2_b");
  const et::Tensor<float> y = gn_fx().tensor("g2_y");
  // Tensors are constants; the result is a Var that needs no gradient.
  const et::Var<float> yt = F::group_norm(x, 2, w, b);
  CHECK(!yt.requires_grad());
  ETNA_CHECK_CLOSE(yt.value(), y, 1e-5, 1e-5);
  // A Var expression input is evaluated first; its gradient reaches the Var inside it.
  const et::Var<float> xv(x * 0.5f, true);
  const et::Var<float> ye = F::group_norm(xv * 2.f, 2, et::Var<float>(w), et::Var<float>(b));
  ETNA_CHECK_CLOSE(ye.value(), y, 1e-5, 1e-5);
  // Weight only and bias only scale or shift the result without affine.
  const et::Tensor<float> plain = F::group_norm(x, 2).value();
  const et::Var<float> yw = F::group_norm(x, 2, w);
  const et::Var<float> yb = F::group_norm(x, 2, et::Var<float>(), b);
  const et::Tensor<float> w4 = w.reshape({1, 6, 1, 1}), b4 = b.reshape({1, 6, 1, 1});
  ETNA_CHECK_CLOSE(yw.value(), et::eval(plain * w4), 1e-6, 1e-6);
  ETNA_CHECK_CLOSE(yb.value(), et::eval(plain + b4), 1e-6, 1e-6);
  // Each (sample, group) of the plain result has mean 0 and variance 1 (up to eps).
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t grp = 0; grp < 2; ++grp) {
      double s = 0, ss = 0;
      for (std::int64_t c = grp * 3; c < grp * 3 + 3; ++c)
        for (std::int64_t i = 0; i < 3; ++i)
          for (std::int64_t j = 0; j < 4; ++j) {
            const double v = plain(n, c, i, j);
            s += v;
            ss += v * v;
          }
      CHECK(s / 36 == Approx(0).margin(1e-6));
      CHECK(ss / 36 == Approx(1).margin(1e-3));
    }
}

TEST_CASE("group_norm: gradcheck in double", "[group_norm]") {
  et::manual_seed(31);
  const et::Var<double> w(et::randn<double>({4}), true), b(et::randn<double>({4}), true);
  for (const et::Shape& s : {et::Shape{2, 4, 3, 2}, et::Shape{3, 4}, et::Shape{2, 4, 5}})
    for (std::int64_t groups : {1, 2, 4}) {
      INFO(s << " groups " << groups);
      const et::Var<double> x(et::randn<double>(s) * 2.0 + 0.5, true);
      et::test::check_gradcheck(et::gradcheck(
          [&](const std::vector<et::Var<double>>&) { return F::group_norm(x, groups, w, b); },
          {x, w, b}));
      et::test::check_gradcheck(
          et::gradcheck([&](const et::Var<double>& v) { return F::group_norm(v, groups); }, x));
    }
}

TEST_CASE("group_norm: errors name the channels, groups and shapes", "[group_norm]") {
  const et::Var<float> x(et::zeros<float>({2, 6, 3}));
  CHECK_THROWS_AS(F::group_norm(x, 4), et::value_error);
  CHECK_THROWS_WITH(F::group_norm(x, 4),
                    "group_norm: num_channels 6 must be divisible by num_groups 4");
  CHECK_THROWS_WITH(F::group_norm(x, 0), Contains("num_groups must be positive, got 0"));
  const et::Var<float> w5(et::ones<float>({5}));
  CHECK_THROWS_AS(F::group_norm(x, 3, w5), et::shape_error);
  CHECK_THROWS_WITH(F::group_norm(x, 3, w5), "group_norm: weight has shape [5] but expected [6]");
  CHECK_THROWS_WITH(F::group_norm(x, 3, et::Var<float>(), et::Var<float>(et::ones<float>({6, 1}))),
                    "group_norm: bias has shape [6, 1] but expected [6]");
  CHECK_THROWS_AS(F::group_norm(et::Var<float>(et::zeros<float>({6})), 1), et::shape_error);
  CHECK_THROWS_WITH(F::group_norm(et::Var<float>(et::zeros<float>({6})), 1),
                    Contains("expected an input of shape [N, C, ...]") && Contains("[6]"));
}
