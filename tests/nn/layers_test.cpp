// The typed layers together: a typed MLP Sequential<Flatten, Linear, ReLU, Dropout, Linear> with
// PyTorch's names and repr, and the Python-style number formatting every extra_repr() uses.
#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "etna/nn.hpp"
#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::layer_fx;

TEST_CASE("layers: typed MLP has PyTorch's names and repr, runs in train and eval",
          "[nn][layers]") {
  using Mlp =
      nn::Sequential<nn::Flatten, nn::Linear<12, 8>, nn::ReLU, nn::Dropout, nn::Linear<8, 3>>;
  Mlp net;
  et::test::check_names_and_repr(net, "mlp");
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"1.weight", "1.bias", "4.weight", "4.bias"});

  et::manual_seed(1);
  const et::Tensor<float> x = et::randn<float>({5, 3, 4});
  const auto y = net(x);
  CHECK(y.shape() == et::Shape{5, 3});
  net.eval();
  CHECK_FALSE(net.get<3>().is_training());
  ETNA_CHECK_CLOSE(net(x).value(), net(x).value(), 0, 0);  // eval: deterministic
  const auto loss = et::sum(net(x));
  loss.backward();
  CHECK(net.get<1>().weight.grad().shape() == et::Shape{8, 12});
}

TEST_CASE("layers: a typed chain with BatchNorm1d and LayerNorm checks sizes", "[nn][layers]") {
  using Net = nn::Sequential<nn::Linear<6, 4>, nn::BatchNorm1d<4>, nn::ReLU, nn::LayerNorm<4>,
                             nn::Identity, nn::Linear<4, 2>>;
  STATIC_REQUIRE(Net::static_in_features == 6);
  STATIC_REQUIRE(Net::static_out_features == 2);
  Net net;
  std::vector<std::string> names;
  for (auto& [name, b] : net.named_buffers()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"1.running_mean", "1.running_var"});
  CHECK(net.named_index_buffers().at(0).first == "1.num_batches_tracked");
  CHECK(net(et::randn<float>({8, 6})).shape() == et::Shape{8, 2});
}

TEST_CASE("layers: floats print as Python's repr", "[nn][layers]") {
  using nn::detail::python_float;
  CHECK(python_float(0.5) == "0.5");
  CHECK(python_float(1e-5) == "1e-05");
  CHECK(python_float(1e-4) == "0.0001");
  CHECK(python_float(0.1) == "0.1");
  CHECK(python_float(1.0) == "1.0");
  CHECK(python_float(20.0) == "20.0");
  CHECK(python_float(-2.5e-7) == "-2.5e-07");
  CHECK(python_float(1e16) == "1e+16");
  CHECK(python_float(1234567890123456.0) == "1234567890123456.0");
  CHECK(python_float(123.456) == "123.456");
  CHECK(python_float(0.0) == "0.0");
  CHECK(python_float(1.0 / 3) == "0.3333333333333333");
  CHECK(python_float(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(nn::detail::python_tuple({5}) == "(5,)");
  CHECK(nn::detail::python_tuple({4, 5}) == "(4, 5)");
}
