// The convolutional layers against torch.nn (tests/reference/make_conv_layers.py): outputs and
// gradients with PyTorch's weights, padding modes, state_dict names, reprs, typed and runtime
// forms, compile-time sample shapes and the errors for bad arguments and inputs.
#include <catch2/catch.hpp>
#include <string>

#include "etna/nn.hpp"
#include "nn/layer_fixtures.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::Fixtures;

namespace {

const Fixtures& fx() {
  static const Fixtures f("conv_layers.json");
  return f;
}

template <class M>
void check_repr(const M& m, const std::string& tag) {
  INFO(tag);
  CHECK(m.repr() == fx().value<std::string>(tag + "_repr"));
}

// Loads the fixture's parameters into m (by PyTorch's names), runs forward on the fixture's x,
// backward with its g, and compares the output and every gradient.
template <class M, class Forward>
void check_against_torch(M& m, const std::string& tag, Forward forward, double tol = 2e-5) {
  INFO(tag);
  CHECK(et::test::state_dict_keys(m) == fx().value<std::vector<std::string>>(tag + "_keys"));
  check_repr(m, tag);
  for (auto& [name, p] : m.named_parameters()) p.value().assign(fx().tensor(tag + "_" + name));
  et::Var<float> x(fx().tensor(tag + "_x"), true);
  const et::Var<float> y = forward(m, x);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor(tag + "_y"), tol, tol);
  et::sum(y * fx().tensor(tag + "_g")).backward();
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor(tag + "_gx"), tol, tol);
  for (auto& [name, p] : m.named_parameters())
    ETNA_CHECK_CLOSE(p.grad(), fx().tensor(tag + "_g" + name), tol, tol);
}

const auto plain = [](auto& m, const et::Var<float>& x) { return et::Var<float>(m(x)); };

}  // namespace

TEST_CASE("conv layers: Conv2d padding modes, groups and same padding match PyTorch",
          "[nn][conv_layers]") {
  nn::Conv2d<> reflect(3, 4, 3, {.padding = 1, .padding_mode = nn::PaddingMode::reflect});
  check_against_torch(reflect, "conv_reflect", plain);
  nn::Conv2d<> circular(2, 3, {3, 2},
                        {.padding = nn::same, .dilation = {1, 2},
                         .padding_mode = nn::PaddingMode::circular});
  check_against_torch(circular, "conv_circular_same", plain);
  // Typed: the same arguments as template arguments.
  nn::Conv2d<4, 6, 3,
             nn::Conv2dOptions{.stride = 2, .padding = {1, 2}, .groups = 2, .bias = false,
                               .padding_mode = nn::PaddingMode::replicate}>
      replicate;
  check_against_torch(replicate, "conv_replicate_groups", plain);
}

TEST_CASE("conv layers: Conv1d and ConvTranspose2d match PyTorch", "[nn][conv_layers]") {
  nn::Conv1d<> c1(2, 3, 3, {.padding = 2, .padding_mode = nn::PaddingMode::replicate});
  check_against_torch(c1, "conv1d_replicate", plain);
  nn::Conv1d<4, 2, 4, nn::Conv1dOptions{.padding = nn::same, .dilation = 2, .groups = 2}> c2;
  check_against_torch(c2, "conv1d_same", plain);
  nn::ConvTranspose2d<> t(3, 2, 3, {.stride = 2, .padding = 1});
  check_against_torch(t, "convT", [](auto& m, const et::Var<float>& x) {
    return m.forward(x, nn::Size2{8, 8});  // output_size picks output_padding 1
  });
  nn::ConvTranspose2d<> tg(4, 6, {3, 2},
                           {.stride = {2, 1}, .padding = {1, 0}, .output_padding = {1, 0},
                            .groups = 2});
  check_against_torch(tg, "convT_groups", plain);
  REQUIRE_THROWS_WITH(t.forward(et::Var<float>(et::zeros<float>({1, 3, 4, 4})), nn::Size2{10, 8}),
                      Catch::Contains("requested an output size of (10, 8)") &&
                          Catch::Contains("range from (7, 7) to (8, 8)"));
}

TEST_CASE("conv layers: pooling, GroupNorm and Upsample match PyTorch", "[nn][conv_layers]") {
  nn::MaxPool2d<3, nn::MaxPool2dOptions{.stride = 2, .padding = 1}> mp;
  check_against_torch(mp, "maxpool", plain);
  nn::MaxPool2d<> mpc({2, 3}, {.stride = 2, .dilation = {1, 2}, .ceil_mode = true});
  check_against_torch(mpc, "maxpool_ceil", plain);
  nn::AvgPool2d<> ap(3, {.stride = 2, .padding = 1, .count_include_pad = false});
  check_against_torch(ap, "avgpool", plain);
  nn::AdaptiveAvgPool2d<nn::Size2{3, 2}> aap;
  check_against_torch(aap, "adaptive_avg", plain);
  nn::AdaptiveMaxPool2d<> amp(2);
  check_against_torch(amp, "adaptive_max", plain);
  nn::GroupNorm<2, 6> gn;
  check_against_torch(gn, "groupnorm", plain);
  nn::GroupNorm<> gn2(3, 6, 1e-3, false);
  check_against_torch(gn2, "groupnorm_noaffine", plain);
  nn::Upsample up(nn::UpsampleOptions{.scale_factor = 2.0});
  check_against_torch(up, "upsample_nearest", plain);
  nn::Upsample bil(nn::UpsampleOptions{
      .size = nn::Size2{5, 7}, .mode = nn::InterpolationMode::bilinear, .align_corners = true});
  check_against_torch(bil, "upsample_bilinear", plain);
}

TEST_CASE("conv layers: reprs of other settings are PyTorch's", "[nn][conv_layers]") {
  check_repr(nn::Dropout2d(0.25), "dropout2d");
  check_repr(nn::MaxPool2d<2>(), "maxpool2");
  check_repr(nn::AvgPool2d<2>(), "avgpool2");
  check_repr(nn::Conv2d<1, 6, 5>(), "conv_plain");
  check_repr(nn::Conv2d<>(4, 8, {3, 5},
                          {.stride = {2, 1}, .padding = {1, 2}, .dilation = 2, .groups = 4,
                           .bias = false, .padding_mode = nn::PaddingMode::reflect}),
             "conv_full");
  check_repr(nn::Conv2d<2, 2, 3, nn::Conv2dOptions{.padding = nn::same}>(), "conv_same");
  check_repr(nn::Conv1d<>(16, 33, 3, {.stride = 2}), "conv1d_plain");
  check_repr(nn::ConvTranspose2d<>(4, 8, 3,
                                   {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2,
                                    .bias = false, .dilation = 2}),
             "convT_full");
  check_repr(nn::AdaptiveAvgPool2d<1>(), "adaptive_avg1");
}

TEST_CASE("conv layers: a small CNN trains and evaluates as PyTorch's", "[nn][conv_layers]") {
  using Cnn = nn::Sequential<nn::Input<1, 8, 8>, nn::Conv2d<1, 2, 3, nn::Conv2dOptions{.padding = 1}>,
                             nn::ReLU, nn::MaxPool2d<2>, nn::Conv2d<2, 3, 3>, nn::BatchNorm2d<3>,
                             nn::ReLU, nn::AdaptiveAvgPool2d<1>, nn::Flatten, nn::Linear<3, 4>>;
  STATIC_REQUIRE(Cnn::static_sample_shape == nn::sample_shape(4));
  // The shapes after each prefix of the chain, known at compile time.
  STATIC_REQUIRE(nn::chain_output_shape<nn::kUnknownShape, nn::Input<1, 8, 8>,
                                        nn::Conv2d<1, 2, 3, nn::Conv2dOptions{.padding = 1}>,
                                        nn::ReLU, nn::MaxPool2d<2>,
                                        nn::Conv2d<2, 3, 3>>::value == nn::sample_shape(3, 2, 2));
  Cnn cnn;
  // Parameters are named as in the fixture with the Input layer at index 0: shift by one.
  for (auto& [name, p] : cnn.named_parameters()) {
    const auto dot = name.find('.');
    const std::string torch_name =
        std::to_string(std::stoi(name.substr(0, dot)) - 1) + name.substr(dot);
    p.value().assign(fx().tensor("cnn_" + torch_name));
  }
  et::Var<float> x(fx().tensor("cnn_x"), true);
  const auto y = cnn(x);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor("cnn_y"), 2e-5, 2e-5);
  et::sum(y * fx().tensor("cnn_g")).backward();
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor("cnn_gx"), 2e-5, 2e-5);
  ETNA_CHECK_CLOSE(cnn.get<1>().weight.grad(), fx().tensor("cnn_g0.weight"), 2e-5, 2e-5);
  ETNA_CHECK_CLOSE(cnn.get<4>().weight.grad(), fx().tensor("cnn_g3.weight"), 2e-5, 2e-5);
  ETNA_CHECK_CLOSE(cnn.get<5>().running_mean, fx().tensor("cnn_running_mean"), 1e-5, 1e-6);
  ETNA_CHECK_CLOSE(cnn.get<5>().running_var, fx().tensor("cnn_running_var"), 1e-5, 1e-6);
  cnn.eval();
  ETNA_CHECK_CLOSE(cnn(fx().tensor("cnn_x")).value(), fx().tensor("cnn_eval_y"), 2e-5, 2e-5);
  // The Input layer checks the batch's sample shape at run time.
  REQUIRE_THROWS_WITH(cnn(et::zeros<float>({2, 1, 8, 9})),
                      Catch::Contains("Input[1, 8, 8]: expected a batch of shape [N, 1, 8, 8], "
                                      "got shape [2, 1, 8, 9]"));
}

TEST_CASE("conv layers: LeNet-5 is a typed network with compile-time shapes",
          "[nn][conv_layers]") {
  using Net = nn::models::LeNet5<>;
  STATIC_REQUIRE(Net::static_sample_shape == nn::sample_shape(10));
  Net net;
  std::int64_t count = 0;
  for (auto& [name, p] : net.named_parameters()) count += p.numel();
  CHECK(count == 61706);  // torchvision-style LeNet-5 on 28x28: 156 + 2416 + 48120 + 10164 + 850
  const auto y = net(et::randn<float>({3, 1, 28, 28}));
  CHECK(y.shape() == et::Shape{3, 10});
}

TEST_CASE("conv layers: PyTorch's initialisation bounds", "[nn][conv_layers]") {
  et::manual_seed(3);
  nn::Conv2d<> c(4, 8, 3, {.groups = 2});
  // fan_in = 4 / 2 * 3 * 3 = 18: weights and bias within 1 / sqrt(18).
  const double bound = 1.0 / std::sqrt(18.0);
  CHECK(et::max(et::abs(c.weight.value())).item() <= bound);
  CHECK(et::max(et::abs(c.bias.value())).item() <= bound);
  CHECK(et::max(et::abs(c.weight.value())).item() > 0.8 * bound);
  CHECK(c.weight.shape() == et::Shape{8, 2, 3, 3});
  nn::ConvTranspose2d<> t(4, 6, 3, {.groups = 2});
  CHECK(t.weight.shape() == et::Shape{4, 3, 3, 3});
  CHECK(et::max(et::abs(t.bias.value())).item() <= 1.0 / std::sqrt(27.0));
}

TEST_CASE("conv layers: bad arguments and inputs are readable errors", "[nn][conv_layers]") {
  REQUIRE_THROWS_WITH(nn::Conv2d<>(3, 4, 3, {.groups = 2}),
                      Catch::Contains("in_channels (3) must be divisible by groups (2)"));
  REQUIRE_THROWS_WITH(nn::Conv2d<>(4, 4, 0), Catch::Contains("kernel_size must be positive"));
  REQUIRE_THROWS_WITH(nn::Conv2d<>(4, 4, 3, {.stride = 2, .padding = nn::same}),
                      Catch::Contains("padding='same' is not supported for strided"));
  REQUIRE_THROWS_WITH(nn::ConvTranspose2d<>(4, 4, 3, {.stride = 2, .output_padding = 2}),
                      Catch::Contains("output_padding (2, 2) must be smaller than either stride"));
  REQUIRE_THROWS_WITH(nn::MaxPool2d<>(2, {.padding = 2}),
                      Catch::Contains("should be at most half of kernel size"));
  REQUIRE_THROWS_WITH(nn::GroupNorm<>(4, 6), Catch::Contains("(6) must be divisible by"));
  REQUIRE_THROWS_WITH(nn::Conv2d<>(4, 4, 3, {.padding = {-1, 0}}),
                      Catch::Contains("padding must be non-negative"));
  nn::Conv2d<3, 8, 3> conv;
  // The functional op names both channel counts.
  REQUIRE_THROWS_WITH(conv(et::zeros<float>({2, 1, 8, 8})),
                      Catch::Contains("3 channels") && Catch::Contains("1 channels"));
  nn::GroupNorm<2, 6> gn;
  REQUIRE_THROWS_WITH(gn(et::zeros<float>({2, 4, 3})),
                      Catch::Contains("expected an input [N, 6, *] with 6 channels, got shape "
                                      "[2, 4, 3]"));
}
