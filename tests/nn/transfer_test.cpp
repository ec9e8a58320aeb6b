// Transfer-learning tools (etna/nn/freeze.hpp, Sequential/AnySequential::freeze_layers and
// replace): glob patterns, freezing that optimizers respect, parameter groups with their own
// learning rates, and replacing a network's head.
#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "etna/autograd.hpp"
#include "etna/nn/activation.hpp"
#include "etna/nn/any_sequential.hpp"
#include "etna/nn/freeze.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/sequential.hpp"
#include "etna/optim/adam.hpp"
#include "etna/optim/sgd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

using Mlp = nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 3>>;

// A backbone and a head under their own names, as torchvision's models ("features.0.weight").
struct Classifier : nn::Module<Classifier> {
  nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 8>, nn::ReLU> features;
  nn::Linear<8, 3> classifier;
  ETNA_MODULE(features, classifier)
  template <class X>
  auto forward(X x) {
    return classifier(features(x));
  }
};

std::vector<et::Tensor<float>> snapshot(const std::vector<et::Var<float>>& params) {
  std::vector<et::Tensor<float>> out;
  for (const auto& p : params) out.push_back(p.value().clone());
  return out;
}
bool bit_identical(const et::Tensor<float>& a, const et::Tensor<float>& b) {
  return et::test::mismatch(a, b, 0.0, 0.0).empty();
}

template <class Net, class Opt>
void train_steps(Net& net, Opt& opt, int steps) {
  const auto x = et::randn<float>({6, 4});
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    et::sum(et::square(net(x))).backward();
    opt.step();
  }
}

}  // namespace

TEST_CASE("transfer: glob_match", "[nn][transfer]") {
  CHECK(nn::glob_match("features.*", "features.0.weight"));
  CHECK(nn::glob_match("*.bias", "classifier.bias"));
  CHECK(nn::glob_match("*", ""));
  CHECK(nn::glob_match("0.weight", "0.weight"));
  CHECK(nn::glob_match("?.weight", "2.weight"));
  CHECK(nn::glob_match("*.*.weight", "features.2.weight"));
  CHECK_FALSE(nn::glob_match("0.weight", "10.weight"));  // whole names, not substrings
  CHECK_FALSE(nn::glob_match("?.weight", "10.weight"));
  CHECK_FALSE(nn::glob_match("features", "features.0.weight"));
  CHECK_FALSE(nn::glob_match("*.bias", "classifier.weight"));
}

TEST_CASE("transfer: frozen weights stay bit-identical under Adam and SGD", "[nn][transfer]") {
  auto check = [](auto make_optimizer) {
    et::manual_seed(7);
    Classifier net;
    net.freeze("features.*");
    CHECK(nn::trainable_parameters(net).size() == 2);
    const auto frozen = nn::parameters_matching(net, "features.*");
    const auto head = nn::parameters_matching(net, "classifier.*");
    const auto frozen_before = snapshot(frozen), head_before = snapshot(head);
    auto opt = make_optimizer(net.parameters());  // every parameter: the optimizer must skip
    train_steps(net, opt, 5);
    for (const auto& p : frozen) CHECK_FALSE(p.grad().defined());
    for (std::size_t i = 0; i < frozen.size(); ++i)
      CHECK(bit_identical(frozen[i].value(), frozen_before[i]));
    for (std::size_t i = 0; i < head.size(); ++i)
      CHECK_FALSE(bit_identical(head[i].value(), head_before[i]));
  };
  check([](auto params) { return et::optim::Adam(params, {.lr = 1e-2}); });
  check([](auto params) {
    return et::optim::SGD(params, {.lr = 1e-2, .momentum = 0.9, .weight_decay = 0.1});
  });
}

TEST_CASE("transfer: freezing after training drops stale gradients and momentum has no effect",
          "[nn][transfer]") {
  et::manual_seed(8);
  Classifier net;
  et::optim::SGD opt(net.parameters(), {.lr = 1e-2, .momentum = 0.9, .weight_decay = 0.1});
  train_steps(net, opt, 3);  // momentum buffers exist for every parameter now
  et::sum(et::square(net(et::randn<float>({6, 4})))).backward();
  net.freeze("features.*");  // the gradients just computed must not move the frozen weights
  const auto frozen = nn::parameters_matching(net, "features.*");
  for (const auto& p : frozen) CHECK_FALSE(p.grad().defined());
  const auto before = snapshot(frozen);
  opt.step();
  opt.zero_grad(/*set_to_none=*/false);  // zero-filled gradients would decay frozen weights
  train_steps(net, opt, 2);
  for (std::size_t i = 0; i < frozen.size(); ++i)
    CHECK(bit_identical(frozen[i].value(), before[i]));

  net.unfreeze("features.2.*");
  CHECK(nn::trainable_parameters(net).size() == 4);
  CHECK(net.features.get<2>().weight.requires_grad());
  CHECK_FALSE(net.features.get<0>().weight.requires_grad());
}

TEST_CASE("transfer: a pattern that matches nothing names itself and the parameters",
          "[nn][transfer]") {
  Mlp net;
  CHECK_THROWS_WITH(net.freeze("fc.*"),
                    "freeze(\"fc.*\"): the pattern matches no parameter of Sequential (its "
                    "parameters: 0.weight, 0.bias, 2.weight, 2.bias)");
  CHECK_THROWS_WITH(net.unfreeze("0.w"),
                    "unfreeze(\"0.w\"): the pattern matches no parameter of Sequential (its "
                    "parameters: 0.weight, 0.bias, 2.weight, 2.bias)");
  CHECK_THROWS_AS(nn::parameters_matching(net, "head.*"), et::value_error);
  CHECK_THROWS_AS(nn::parameters_not_matching(net, "head.*"), et::value_error);
  nn::Sequential<nn::Linear<2, 2>, nn::Linear<2, 2>, nn::Linear<2, 2>, nn::Linear<2, 2>> deep;
  CHECK_THROWS_WITH(nn::named_parameters_matching(deep, "*.scale"),
                    "named_parameters_matching(\"*.scale\"): the pattern matches no parameter "
                    "of Sequential (its parameters: 0.weight, 0.bias, 1.weight, 1.bias, "
                    "2.weight, 2.bias, ... 8 in all)");
  nn::Sequential<nn::ReLU> empty;
  CHECK_THROWS_WITH(empty.freeze("*"),
                    "freeze(\"*\"): the pattern matches no parameter of Sequential (it has no "
                    "parameters)");
  // Nothing changed by a failed call.
  for (const auto& p : net.parameters()) CHECK(p.requires_grad());
}

TEST_CASE("transfer: parameter selection by name", "[nn][transfer]") {
  Classifier net;
  const auto named = nn::named_parameters_matching(net, "*.bias");
  REQUIRE(named.size() == 3);
  CHECK(named[0].first == "features.0.bias");
  CHECK(named[2].first == "classifier.bias");
  CHECK(named[2].second.impl_ptr() == net.classifier.bias.impl_ptr());
  const auto rest = nn::parameters_not_matching(net, "features.*");
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].impl_ptr() == net.classifier.weight.impl_ptr());
  CHECK(nn::trainable_parameters(net).size() == 6);
  net.features.get<0>().freeze();  // a layer as a module, as docs/modules.md shows
  CHECK(nn::trainable_parameters(net).size() == 4);
}

TEST_CASE("transfer: freezing layers by index, Python slice style", "[nn][transfer]") {
  using Net =
      nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 8>, nn::ReLU, nn::Linear<8, 3>>;
  Net net;
  auto trainable = [&] {
    std::vector<std::string> names;
    for (auto& [name, p] : net.named_parameters())
      if (p.requires_grad()) names.push_back(name);
    return names;
  };
  net.freeze_layers(0, -1);  // all but the head
  CHECK(trainable() == std::vector<std::string>{"4.weight", "4.bias"});
  net.unfreeze_layers(-3);  // layers 2, 3, 4
  CHECK(trainable() == std::vector<std::string>{"2.weight", "2.bias", "4.weight", "4.bias"});
  net.freeze_layers(1, 3).freeze_layers(5);  // chainable; an empty range changes nothing
  CHECK(trainable() == std::vector<std::string>{"4.weight", "4.bias"});
  net.unfreeze_layers(0, 5);
  CHECK(trainable().size() == 6);

  CHECK_THROWS_WITH(net.freeze_layers(0, 6),
                    "freeze_layers(0, 6): end index 6 is out of range for 5 layers (valid: -5 "
                    "to 5)");
  CHECK_THROWS_WITH(net.unfreeze_layers(-6),
                    "unfreeze_layers(-6, 5): begin index -6 is out of range for 5 layers "
                    "(valid: -5 to 5)");
  CHECK_THROWS_WITH(net.freeze_layers(3, 1),
                    "freeze_layers(3, 1): begin comes after end (layers 3 to 1 of 5)");
  CHECK_THROWS_AS(net.freeze_layers(-1, -2), et::index_error);
  CHECK(trainable().size() == 6);

  nn::AnySequential<> any(nn::Linear<>(4, 8), nn::ReLU{}, nn::Linear<>(8, 3));
  any.freeze_layers(-1);
  std::vector<std::string> frozen;
  for (auto& [name, p] : any.named_parameters())
    if (!p.requires_grad()) frozen.push_back(name);
  CHECK(frozen == std::vector<std::string>{"2.weight", "2.bias"});
  any.unfreeze_layers(0);
  CHECK(nn::trainable_parameters(any).size() == 4);
  CHECK_THROWS_AS(any.freeze_layers(0, 4), et::index_error);
}

TEST_CASE("transfer: replace<I> gives a new head and shares the other layers", "[nn][transfer]") {
  et::manual_seed(3);
  Mlp net;
  net.eval();
  auto net5 = net.replace<2>(nn::Linear<8, 5>{});
  STATIC_REQUIRE(
      std::is_same_v<decltype(net5), nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 5>>>);
  CHECK_FALSE(net5.is_training());  // the container's own mode is kept
  // The backbone is the same parameters (PyTorch: the same module objects).
  CHECK(net5.get<0>().weight.impl_ptr() == net.get<0>().weight.impl_ptr());
  CHECK(net5.get<2>().weight.shape() == et::Shape{5, 8});
  const auto x = et::randn<float>({6, 4});
  CHECK(net5(x).shape() == et::Shape{6, 5});

  // Fine-tune the new head only: the shared backbone stays put, the head moves.
  net5.freeze_layers(0, -1);
  CHECK_FALSE(net.get<0>().weight.requires_grad());  // shared: frozen in both
  const auto backbone = snapshot(net.parameters());
  const auto head = net5.get<2>().weight.value().clone();
  et::optim::Adam opt(nn::trainable_parameters(net5), {.lr = 1e-2});
  train_steps(net5, opt, 3);
  CHECK(bit_identical(net.get<0>().weight.value(), backbone[0]));
  CHECK(bit_identical(net.get<2>().weight.value(), backbone[2]));  // the old head is untouched
  CHECK_FALSE(bit_identical(net5.get<2>().weight.value(), head));

  // clone() first keeps the networks apart.
  auto independent = net.clone().replace<2>(nn::Linear<8, 5>{});
  CHECK(independent.get<0>().weight.impl_ptr() != net.get<0>().weight.impl_ptr());

  // AnySequential: in place, index checked.
  nn::AnySequential<> any(nn::Linear<>(4, 8), nn::ReLU{}, nn::Linear<>(8, 3));
  const auto first = any.named_parameters()[0].second;
  any.replace(2, nn::Linear<>(8, 5));
  CHECK(any(x).shape() == et::Shape{6, 5});
  CHECK(any.named_parameters()[0].second.impl_ptr() == first.impl_ptr());
  CHECK(any.named_parameters()[2].second.shape() == et::Shape{5, 8});
  CHECK_THROWS_WITH(any.replace(3, nn::ReLU{}),
                    "AnySequential::replace: index 3 is out of range for 3 layers");
}

TEST_CASE("transfer: parameter groups with their own learning rates", "[nn][transfer]") {
  et::manual_seed(4);
  Classifier net;
  et::optim::SGD opt(nn::parameters_matching(net, "features.*"), {.lr = 1e-4});
  opt.add_param_group(nn::parameters_matching(net, "classifier.*"), {.lr = 1e-2});
  REQUIRE(opt.param_groups().size() == 2);
  const auto all = net.parameters();
  const auto before = snapshot(all);
  opt.zero_grad();
  et::sum(et::square(net(et::randn<float>({6, 4})))).backward();
  opt.step();
  // Plain SGD: p' = p - lr * grad, with lr by group.
  for (std::size_t i = 0; i < all.size(); ++i) {
    const float lr = i < 4 ? 1e-4f : 1e-2f;
    REQUIRE(all[i].grad().defined());
    const et::Tensor<float> expected = before[i] - lr * all[i].grad();
    ETNA_CHECK_CLOSE(all[i].value(), expected, 1e-6, 1e-7);
    CHECK_FALSE(bit_identical(all[i].value(), before[i]));
  }
}
