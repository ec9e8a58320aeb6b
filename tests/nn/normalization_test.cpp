// nn::BatchNorm1d/2d and nn::LayerNorm against PyTorch: training forward and gradients on
// [N, C] and [N, C, L], running statistics after two steps (and momentum=None), eval forward,
// names, buffers, repr, default init, gradcheck and errors.
#include "etna/nn/normalization.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using Catch::Contains;
using et::test::layer_fx;

namespace {

// Loads weight and bias, runs the fixture's x and compares y and the three gradients.
template <class L>
void check_forward(L& layer, const std::string& tag, double tol = 1e-5) {
  INFO(tag);
  layer.weight.value().assign(layer_fx().tensor(tag + "_weight"));
  layer.bias.value().assign(layer_fx().tensor(tag + "_bias"));
  const et::Var<float> x(layer_fx().tensor(tag + "_x"), true);
  const et::Var<float> y = layer(x);
  ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor(tag + "_y"), tol, tol);
  y.backward(layer_fx().tensor(tag + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), layer_fx().tensor(tag + "_gx"), tol, tol);
  ETNA_CHECK_CLOSE(layer.weight.grad(), layer_fx().tensor(tag + "_gweight"), tol, tol);
  ETNA_CHECK_CLOSE(layer.bias.grad(), layer_fx().tensor(tag + "_gbias"), tol, tol);
}

}  // namespace

TEST_CASE(
    "BatchNorm1d: training, running statistics and eval match PyTorch on [N, C] and "
    "[N, C, L]",
    "[nn][normalization]") {
  for (const std::string tag : {"bn2", "bn3"}) {
    INFO(tag);
    nn::BatchNorm1d<> bn(3, 1e-5, 0.2);
    check_forward(bn, tag + "_train");
    et::test::check_names_and_repr(bn, tag + "_train");
    (void)bn(layer_fx().tensor(tag + "_x2"));  // a second training step
    ETNA_CHECK_CLOSE(bn.running_mean, layer_fx().tensor(tag + "_running_mean"), 1e-5, 1e-6);
    ETNA_CHECK_CLOSE(bn.running_var, layer_fx().tensor(tag + "_running_var"), 1e-5, 1e-6);
    CHECK(bn.num_batches_tracked.data()[0] ==
          layer_fx().value<std::int64_t>(tag + "_num_batches_tracked"));

    bn.eval();
    bn.zero_grad();
    const et::Var<float> x(layer_fx().tensor(tag + "_eval_x"), true);
    const et::Var<float> y = bn(x);
    ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor(tag + "_eval_y"), 1e-5, 1e-5);
    y.backward(layer_fx().tensor(tag + "_eval_g"));
    ETNA_CHECK_CLOSE(x.grad(), layer_fx().tensor(tag + "_eval_gx"), 1e-5, 1e-5);
    ETNA_CHECK_CLOSE(bn.weight.grad(), layer_fx().tensor(tag + "_eval_gweight"), 1e-5, 1e-5);
    ETNA_CHECK_CLOSE(bn.bias.grad(), layer_fx().tensor(tag + "_eval_gbias"), 1e-5, 1e-5);
    // Eval mode leaves the running statistics and the batch count alone.
    ETNA_CHECK_CLOSE(bn.running_mean, layer_fx().tensor(tag + "_running_mean"), 1e-5, 1e-6);
    CHECK(bn.num_batches_tracked.data()[0] == 2);
  }
}

TEST_CASE("BatchNorm1d: momentum=None keeps the cumulative average, as PyTorch",
          "[nn][normalization]") {
  nn::BatchNorm1d<3> bn(3, 1e-5, std::nullopt);
  for (int step = 0; step < 3; ++step)
    (void)bn(layer_fx().tensor("bn_cma_x" + std::to_string(step)));
  ETNA_CHECK_CLOSE(bn.running_mean, layer_fx().tensor("bn_cma_running_mean"), 1e-5, 1e-6);
  ETNA_CHECK_CLOSE(bn.running_var, layer_fx().tensor("bn_cma_running_var"), 1e-5, 1e-6);
  et::test::check_names_and_repr(bn, "bn_cma");
}

TEST_CASE("BatchNorm: defaults, names and repr as PyTorch; BatchNorm2d", "[nn][normalization]") {
  nn::BatchNorm1d<3> bn;
  et::test::check_names_and_repr(bn, "bn");
  ETNA_CHECK_CLOSE(bn.weight.value(), et::ones<float>({3}), 0, 0);
  ETNA_CHECK_CLOSE(bn.bias.value(), et::zeros<float>({3}), 0, 0);
  ETNA_CHECK_CLOSE(bn.running_mean, et::zeros<float>({3}), 0, 0);
  ETNA_CHECK_CLOSE(bn.running_var, et::ones<float>({3}), 0, 0);
  CHECK(bn.num_batches_tracked.dim() == 0);
  CHECK(bn.num_batches_tracked.data()[0] == 0);
  STATIC_REQUIRE(nn::BatchNorm1d<3>::static_in_features == 3);
  STATIC_REQUIRE(nn::BatchNorm1d<3>::static_out_features == nn::kSameFeatures);

  nn::BatchNorm1d<> plain(7, 1e-3, 0.01, false, false);
  et::test::check_names_and_repr(plain, "bn_plain");
  CHECK(plain.named_buffers().empty());
  // Without running statistics, eval mode normalises with the batch's own statistics.
  plain.eval();
  const et::Var<float> y = plain(et::randn<float>({16, 7}) * 3.f + 2.f);
  double mean = 0;
  for (std::int64_t n = 0; n < 16; ++n) mean += y.value()(n, 0);
  CHECK(mean / 16 == Approx(0).margin(1e-5));

  nn::BatchNorm2d<> bn2d(3);
  check_forward(bn2d, "bn2d_train");
  et::test::check_names_and_repr(bn2d, "bn2d_train");
}

TEST_CASE("BatchNorm1d: gradcheck in double, training and eval", "[nn][normalization]") {
  et::manual_seed(8);
  nn::BatchNorm1d<3, double> bn;
  bn.weight.value().assign(et::randn<double>({3}));
  bn.bias.value().assign(et::randn<double>({3}));
  bn.running_var.assign(et::rand<double>({3}) + 0.5);
  for (const et::Shape& s : {et::Shape{5, 3}, et::Shape{4, 3, 2}})
    for (bool training : {true, false}) {
      bn.train(training);
      const et::Var<double> x(et::randn<double>(s), true);
      et::test::check_gradcheck(et::gradcheck(
          [&](const std::vector<et::Var<double>>&) { return bn(x); }, {x, bn.weight, bn.bias}));
    }
}

TEST_CASE("BatchNorm1d: errors name the expected and actual features", "[nn][normalization]") {
  nn::BatchNorm1d<> bn(3);
  CHECK_THROWS_AS(bn(et::zeros<float>({4, 5})), et::shape_error);
  CHECK_THROWS_WITH(bn(et::zeros<float>({4, 5})),
                    "BatchNorm1d: expected 3 features (channels, dimension 1) but the input has 5 "
                    "(input shape [4, 5])");
  CHECK_THROWS_WITH(bn(et::zeros<float>({2, 3, 4, 4})),
                    "BatchNorm1d: expected a 2-d [N, C] or 3-d [N, C, L] input, got shape "
                    "[2, 3, 4, 4]");
  CHECK_THROWS_WITH(nn::BatchNorm1d<4>(3), "BatchNorm1d<4>: constructed with num_features=3");
  CHECK_THROWS_AS(bn(et::zeros<float>({1, 3})), et::value_error);  // one value per channel
}

TEST_CASE("LayerNorm: matches PyTorch over the last one and two dimensions",
          "[nn][normalization]") {
  nn::LayerNorm<5> typed;
  check_forward(typed, "ln1");
  et::test::check_names_and_repr(typed, "ln1");
  nn::LayerNorm<> runtime(5);
  check_forward(runtime, "ln1");
  nn::LayerNorm<> two({4, 5}, 1e-6);
  check_forward(two, "ln2");
  et::test::check_names_and_repr(two, "ln2");
  nn::LayerNorm<> plain(5, 1e-5, false);
  et::test::check_names_and_repr(plain, "ln_plain");
  nn::LayerNorm<> no_bias(5, 1e-5, true, false);
  CHECK(et::test::state_dict_keys(no_bias) == std::vector<std::string>{"weight"});
  nn::LayerNorm<5> fresh;
  ETNA_CHECK_CLOSE(fresh.weight.value(), et::ones<float>({5}), 0, 0);
  ETNA_CHECK_CLOSE(fresh.bias.value(), et::zeros<float>({5}), 0, 0);
  STATIC_REQUIRE(nn::LayerNorm<5>::static_in_features == 5);
  CHECK_THROWS_AS(typed(et::zeros<float>({2, 4})), et::shape_error);
}

TEST_CASE("LayerNorm: gradcheck in double", "[nn][normalization]") {
  et::manual_seed(12);
  nn::LayerNorm<0, double> ln({2, 3});
  ln.weight.value().assign(et::randn<double>({2, 3}));
  ln.bias.value().assign(et::randn<double>({2, 3}));
  const et::Var<double> x(et::randn<double>({4, 2, 3}), true);
  et::test::check_gradcheck(et::gradcheck(
      [&](const std::vector<et::Var<double>>&) { return ln(x); }, {x, ln.weight, ln.bias}));
}
