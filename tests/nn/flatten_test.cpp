// nn::Flatten and nn::Identity: shapes, values and gradients against PyTorch, repr, tensor and
// Var inputs, gradcheck.
#include "etna/nn/flatten.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <type_traits>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::layer_fx;

TEST_CASE("Flatten: matches PyTorch for the default and explicit dimensions", "[nn][flatten]") {
  for (auto [layer, tag] : {std::pair{nn::Flatten{}, std::string("flatten")},
                            std::pair{nn::Flatten(0, 2), std::string("flatten_0_2")}}) {
    INFO(tag);
    const et::Var<float> x(layer_fx().tensor(tag + "_x"), true);
    const et::Var<float> y = layer(x);
    ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor(tag + "_y"), 0, 0);
    y.backward(layer_fx().tensor(tag + "_g"));
    ETNA_CHECK_CLOSE(x.grad(), layer_fx().tensor(tag + "_gx"), 0, 0);
    et::test::check_names_and_repr(layer, tag);
  }
}

TEST_CASE("Flatten: tensor inputs give tensors; gradcheck", "[nn][flatten]") {
  nn::Flatten flat;
  const auto t = flat(et::zeros<float>({2, 3, 4}));
  STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(t)>, et::Tensor<float>>);
  CHECK(t.shape() == et::Shape{2, 12});
  CHECK(nn::Flatten(1, 2)(et::zeros<float>({2, 3, 4, 5})).shape() == et::Shape{2, 12, 5});
  et::manual_seed(3);
  const et::Var<double> x(et::randn<double>({2, 3, 2}), true);
  et::test::check_gradcheck(
      et::gradcheck([&](const et::Var<double>& v) { return flat(v * 2.0); }, x));
}

TEST_CASE("Identity: returns its input unchanged", "[nn][flatten]") {
  nn::Identity id;
  const et::Var<float> x(et::ones<float>({2, 3}), true);
  const et::Var<float> y = id(x);
  CHECK(&y.value() == &x.value());  // the same Var handle, no copy
  CHECK(id(3.5) == 3.5);
  et::test::check_names_and_repr(id, "identity");
  STATIC_REQUIRE(nn::static_out_features_v<nn::Identity> == nn::kSameFeatures);
}
