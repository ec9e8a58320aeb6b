// nn::Linear (typed Linear<In, Out> and runtime Linear<>): forward and gradients against PyTorch
// (tests/reference/make_nn_layers.py), names and repr, default init bounds, gradcheck, errors.
#include "etna/nn/linear.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
using Catch::Contains;
using et::test::layer_fx;

namespace {

// Loads the fixture's weights into fc, runs x through it and compares y and every gradient.
template <class L>
void check_against_torch(L& fc, const std::string& tag) {
  INFO(tag);
  fc.weight.value().assign(layer_fx().tensor(tag + "_weight"));
  if (fc.bias.defined()) fc.bias.value().assign(layer_fx().tensor(tag + "_bias"));
  const et::Var<float> x(layer_fx().tensor(tag + "_x"), true);
  const et::Var<float> y = fc(x);
  ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor(tag + "_y"), 1e-5, 1e-5);
  y.backward(layer_fx().tensor(tag + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), layer_fx().tensor(tag + "_gx"), 1e-5, 1e-5);
  ETNA_CHECK_CLOSE(fc.weight.grad(), layer_fx().tensor(tag + "_gweight"), 1e-5, 1e-5);
  if (fc.bias.defined())
    ETNA_CHECK_CLOSE(fc.bias.grad(), layer_fx().tensor(tag + "_gbias"), 1e-5, 1e-5);
  et::test::check_names_and_repr(fc, tag);
}

}  // namespace

TEST_CASE("Linear: typed and runtime layers match PyTorch, with and without bias", "[nn][linear]") {
  et::nn::Linear<4, 5> typed;
  check_against_torch(typed, "linear");
  et::nn::Linear<> runtime(4, 5);
  check_against_torch(runtime, "linear");
  et::nn::Linear<4, 5> typed_nobias(4, 5, false);
  check_against_torch(typed_nobias, "linear_nobias");
  et::nn::Linear<> runtime_nobias(4, 5, false);
  check_against_torch(runtime_nobias, "linear_nobias");
  STATIC_REQUIRE(et::nn::Linear<4, 5>::static_in_features == 4);
  STATIC_REQUIRE(et::nn::Linear<4, 5>::static_out_features == 5);
  STATIC_REQUIRE(et::nn::Linear<>::static_in_features == 0);
}

TEST_CASE("Linear: gradcheck in double, typed and runtime", "[nn][linear]") {
  et::manual_seed(5);
  const et::Var<double> x(et::randn<double>({3, 4}), true);
  et::nn::Linear<4, 3, double> typed;
  et::test::check_gradcheck(
      et::gradcheck([&](const std::vector<et::Var<double>>&) { return typed(x); },
                    {x, typed.weight, typed.bias}));
  et::nn::Linear<0, 0, double> runtime(4, 2, false);
  et::test::check_gradcheck(et::gradcheck(
      [&](const std::vector<et::Var<double>>&) { return runtime(x); }, {x, runtime.weight}));
}

TEST_CASE("Linear: default init is uniform on +-1/sqrt(in_features)", "[nn][linear]") {
  et::manual_seed(11);
  et::nn::Linear<> fc(256, 128);
  const double bound = 1.0 / std::sqrt(256.0);
  double sum = 0, sq = 0, max_abs = 0;
  for (float w : fc.weight.value()) {
    sum += w;
    sq += double(w) * w;
    max_abs = std::max(max_abs, std::fabs(double(w)));
  }
  const double n = 256.0 * 128.0, mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  CHECK(max_abs <= bound);
  CHECK(max_abs > 0.99 * bound);
  CHECK(std::fabs(mean) < 0.01 * bound * 3);
  CHECK(sd == Approx(bound / std::sqrt(3.0)).epsilon(0.02));  // uniform's std
  for (float b : fc.bias.value()) CHECK(std::fabs(b) <= bound);
}

TEST_CASE("Linear: errors name both sizes", "[nn][linear]") {
  et::nn::Linear<> fc(784, 256);
  CHECK_THROWS_AS(fc(et::zeros<float>({2, 100})), et::shape_error);
  CHECK_THROWS_WITH(fc(et::zeros<float>({2, 100})), Contains("100") && Contains("784"));
  CHECK_THROWS_WITH((et::nn::Linear<4, 5>(4, 6)), "Linear<4, 5>: constructed with sizes 4 and 6");
}
