// nn::Dropout and nn::AlphaDropout: train vs eval behaviour (eval is the identity; train drops
// about p and scales by 1/(1-p)), repr as PyTorch's, gradcheck under a fixed seed, errors.
#include "etna/nn/dropout.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using Catch::Contains;

TEST_CASE("Dropout: eval is the identity, train drops about p and scales by 1/(1-p)",
          "[nn][dropout]") {
  nn::Dropout drop(0.3);
  CHECK(drop.is_training());  // modules start in training mode, as PyTorch's
  et::manual_seed(17);
  const et::Tensor<float> x = et::ones<float>({200, 500});
  const et::Var<float> y = drop(x);
  std::int64_t zeros = 0;
  bool scaled = true;
  for (float v : y.value()) {
    if (v == 0.f)
      ++zeros;
    else
      scaled = scaled && std::fabs(v - 1.f / 0.7f) < 1e-6f;
  }
  CHECK(scaled);
  CHECK(double(zeros) / x.numel() == Approx(0.3).margin(0.01));

  drop.eval();
  const et::Var<float> xv(et::randn<float>({7, 9}), true);
  const et::Var<float> ye = drop(xv);
  ETNA_CHECK_CLOSE(ye.value(), xv.value(), 0, 0);
  drop.train();
  CHECK(drop.is_training());
}

TEST_CASE("Dropout: the gradient is the same mask and scale; gradcheck", "[nn][dropout]") {
  nn::Dropout drop;
  const et::Var<float> x(et::ones<float>({4, 50}), true);
  et::manual_seed(4);
  const et::Var<float> y = drop(x);
  y.backward(et::ones<float>({4, 50}));
  ETNA_CHECK_CLOSE(x.grad(), y.value(), 0, 0);  // d(x * mask)/dx = mask = y for x = 1

  const et::Var<double> xd(et::randn<double>({3, 4}), true);
  for (bool training : {true, false}) {
    drop.train(training);
    et::test::check_gradcheck(et::gradcheck(
        [&](const et::Var<double>& v) {
          et::manual_seed(9);  // the same mask on every evaluation
          return drop(v);
        },
        xd));
  }
}

TEST_CASE("AlphaDropout: eval is the identity, train keeps mean 0 and variance 1",
          "[nn][dropout]") {
  nn::AlphaDropout drop(0.2);
  et::manual_seed(23);
  const et::Tensor<float> x = et::randn<float>({400, 500});
  const et::Var<float> y = drop(x);
  double sum = 0, sq = 0;
  for (float v : y.value()) {
    sum += v;
    sq += double(v) * v;
  }
  const double n = double(x.numel()), mean = sum / n;
  CHECK(mean == Approx(0).margin(0.01));
  CHECK(sq / n - mean * mean == Approx(1).margin(0.02));
  drop.eval();
  ETNA_CHECK_CLOSE(drop(x).value(), x, 0, 0);
  drop.train();
  const et::Var<double> xd(et::randn<double>({3, 4}), true);
  et::test::check_gradcheck(et::gradcheck(
      [&](const et::Var<double>& v) {
        et::manual_seed(9);
        return drop(v);
      },
      xd));
}

TEST_CASE("Dropout: repr as PyTorch's, no parameters, bad p rejected", "[nn][dropout]") {
  et::test::check_names_and_repr(nn::Dropout{}, "dropout");
  et::test::check_names_and_repr(nn::Dropout(0.2), "dropout_02");
  et::test::check_names_and_repr(nn::AlphaDropout{}, "alpha_dropout");
  et::test::check_names_and_repr(nn::AlphaDropout(0.1), "alpha_dropout_01");
  CHECK_THROWS_AS(nn::Dropout(1.5), et::value_error);
  CHECK_THROWS_WITH(nn::Dropout(-0.1), Contains("between 0 and 1") && Contains("-0.1"));
  CHECK_THROWS_AS(nn::AlphaDropout(2.0), et::value_error);
  STATIC_REQUIRE(nn::static_out_features_v<nn::Dropout> == nn::kSameFeatures);
}
