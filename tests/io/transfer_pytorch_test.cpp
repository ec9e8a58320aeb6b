// A model trained in PyTorch (tests/reference/make_transfer_model.py: a small CNN with batch
// norm, trained on Fashion-MNIST images, saved by safetensors.torch.save_file) loads into the
// equivalent etna network and gives PyTorch's outputs; then its backbone serves a new head.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "etna/etna.hpp"
#include "etna/io.hpp"
#include "etna/nn/freeze.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

// Layer for layer the torch.nn.Sequential of make_transfer_model.py, so the names agree.
using TorchCnn =
    nn::Sequential<nn::Conv2d<1, 4, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<4>,
                   nn::ReLU, nn::MaxPool2d<2>, nn::Conv2d<4, 8, 3, nn::Conv2dOptions{.padding = 1}>,
                   nn::BatchNorm2d<8>, nn::ReLU, nn::MaxPool2d<2>, nn::Flatten,
                   nn::Linear<8 * 7 * 7, 10>>;

const std::string fixtures = ETNA_TEST_DATA_DIR;

float max_abs_difference(const et::Tensor<float>& a, const et::Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  const auto ca = a.contiguous(), cb = b.contiguous();
  float worst = 0;
  for (std::int64_t i = 0; i < ca.numel(); ++i)
    worst = std::max(worst, std::fabs(ca.data()[i] - cb.data()[i]));
  return worst;
}

}  // namespace

TEST_CASE("io transfer: a CNN trained in PyTorch gives PyTorch's outputs in etna",
          "[io][transfer]") {
  TorchCnn net;
  const auto result = et::io::load(net, fixtures + "/transfer_model.safetensors");  // strict
  CHECK(result.missing_keys.empty());
  CHECK(result.unexpected_keys.empty());
  // 3 epochs of 16 batches of training in PyTorch.
  CHECK(net.get<1>().num_batches_tracked.item() == 48);
  net.eval();
  const et::io::SafeTensorsFile io(fixtures + "/transfer_model_io.safetensors");
  const auto x = io.tensor<float>("input");
  const auto expected = io.tensor<float>("output");
  REQUIRE(x.shape() == et::Shape{8, 1, 28, 28});
  et::NoGradGuard no_grad;
  const et::Tensor<float> y = net(x).value();
  const float diff = max_abs_difference(y, expected);
  INFO("max |etna - torch| = " << diff);
  CHECK(diff <= 1e-4f);
  const et::Tensor<std::int64_t> classes = et::argmax(y, 1),
                                 torch_classes = et::argmax(expected, 1);
  CHECK(et::test::mismatch(classes, torch_classes, 0.0, 0.0).empty());
}

TEST_CASE("io transfer: PyTorch's backbone under a new head, frozen", "[io][transfer]") {
  // The PyTorch file's layers 0-8 feed a new 5-class head; its old head "9.*" is left out.
  auto net = TorchCnn().replace<9>(nn::Linear<8 * 7 * 7, 5>{});
  const auto head_before = net.get<9>().weight.value().clone();
  const auto result = et::io::load(net, fixtures + "/transfer_model.safetensors",
                                   {.strict = false, .prefix_map = {{"9.", "old_head."}}});
  CHECK(result.missing_keys == std::vector<std::string>{"9.bias", "9.weight"});
  CHECK(result.unexpected_keys == std::vector<std::string>{"9.bias", "9.weight"});
  CHECK(et::test::mismatch(net.get<9>().weight.value(), head_before, 0.0, 0.0).empty());

  TorchCnn reference;
  et::io::load(reference, fixtures + "/transfer_model.safetensors");
  CHECK(et::test::mismatch(net.get<4>().weight.value(), reference.get<4>().weight.value(), 0.0, 0.0)
            .empty());
  net.freeze_layers(0, -1);
  const auto trainable = nn::trainable_parameters(net);
  REQUIRE(trainable.size() == 2);
  CHECK(trainable[0].impl_ptr() == net.get<9>().weight.impl_ptr());
}
