// The activation layers (ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax,
// LogSoftmax): outputs, input gradients and reprs against PyTorch; gradcheck in double.
#include "etna/nn/activation.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::layer_fx;

namespace {

template <class L>
void check_activation(L layer, const std::string& tag) {
  INFO(tag);
  const et::Var<float> x(layer_fx().tensor(tag + "_x"), true);
  const et::Var<float> y = layer(x);  // a lazy element-wise result is materialised here
  ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor(tag + "_y"), 1e-5, 1e-6);
  y.backward(layer_fx().tensor(tag + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), layer_fx().tensor(tag + "_gx"), 1e-5, 1e-6);
  et::test::check_names_and_repr(layer, tag);
  // The same layer on doubles: the fixture's input is away from every kink.
  const et::Var<double> xd(layer_fx().tensor<double>(tag + "_x"), true);
  et::test::check_gradcheck(et::gradcheck([&](const et::Var<double>& v) { return layer(v); }, xd));
}

}  // namespace

TEST_CASE("activation layers match PyTorch (values, gradients, repr) and pass gradcheck",
          "[nn][activation]") {
  check_activation(nn::ReLU{}, "relu");
  check_activation(nn::LeakyReLU(0.2), "leaky_relu");
  check_activation(nn::LeakyReLU{}, "leaky_relu_default");
  check_activation(nn::ELU(0.5), "elu");
  check_activation(nn::GELU{}, "gelu");
  check_activation(nn::GELU("tanh"), "gelu_tanh");
  check_activation(nn::SiLU{}, "silu");
  check_activation(nn::Sigmoid{}, "sigmoid");
  check_activation(nn::Tanh{}, "tanh");
  check_activation(nn::Softplus(2, 10), "softplus");
  check_activation(nn::Softplus{}, "softplus_default");
  check_activation(nn::Softmax(1), "softmax");
  check_activation(nn::LogSoftmax(1), "log_softmax");
}

TEST_CASE("activation layers keep the feature size for Sequential", "[nn][activation]") {
  STATIC_REQUIRE(nn::static_out_features_v<nn::ReLU> == nn::kSameFeatures);
  STATIC_REQUIRE(nn::static_out_features_v<nn::Softmax> == nn::kSameFeatures);
}
