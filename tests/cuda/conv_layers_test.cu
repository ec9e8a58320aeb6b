// The convolutional layers on cuda: a CNN with every layer kind (Conv2d with padding modes and
// groups, ConvTranspose2d, Conv1d, pooling, BatchNorm2d, GroupNorm, Dropout2d, Upsample) moved
// with net.to<cuda>() gives the CPU's outputs, gradients and running statistics; LeNet-5 trains.
#include <string>

#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::gpu;

namespace {

template <class D>
using Cnn = nn::Sequential<
    nn::Input<2, 12, 12>,
    nn::Conv2d<2, 4, 3, nn::Conv2dOptions{.padding = 1, .padding_mode = nn::PaddingMode::reflect},
               float, D>,
    nn::BatchNorm2d<4, float, D>, nn::ReLU, nn::MaxPool2d<2>,                      // 4x6x6
    nn::Conv2d<4, 8, 3, nn::Conv2dOptions{.stride = 2, .padding = 1, .groups = 2}, float, D>,
    nn::GroupNorm<2, 8, float, D>, nn::Tanh,                                        // 8x3x3
    nn::ConvTranspose2d<8, 4, 3, nn::ConvTranspose2dOptions{.stride = 2}, float, D>,  // 4x7x7
    nn::AvgPool2d<3, nn::AvgPool2dOptions{.stride = 2, .padding = 1}>,              // 4x4x4
    nn::Upsample, nn::AdaptiveMaxPool2d<nn::Size2{3, 2}>, nn::Flatten,
    nn::Linear<24, 5, float, D>>;

Cnn<et::cpu> make_cnn() {
  using namespace nn;
  return Cnn<et::cpu>(Input<2, 12, 12>{}, {}, {}, {}, {}, {}, {}, {}, {}, {},
                      Upsample({.scale_factor = 2.0, .mode = InterpolationMode::bilinear}),
                      {}, {}, {});
}

}  // namespace

TEST_CASE("cuda conv layers: a CNN of every layer kind matches the CPU, forward and backward") {
  et::manual_seed(7);
  auto cpu_net = make_cnn();
  auto gpu_net = cpu_net.to<gpu>();
  const auto x = et::randn<float>({3, 2, 12, 12});
  const auto g = et::randn<float>({3, 5});
  et::Var<float> xc(x, true);
  et::Var<float, gpu> xg(x.to<gpu>(), true);
  const auto yc = cpu_net(xc);
  const auto yg = gpu_net(xg);
  ETNA_REQUIRE_MATCHES_CPU(yg.value(), yc.value(), 1e-5);
  et::sum(yc * g).backward();
  et::sum(yg * g.to<gpu>()).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), xc.grad(), 1e-4);
  const auto pc = cpu_net.named_parameters();
  const auto pg = gpu_net.named_parameters();
  REQUIRE(pc.size() == pg.size());
  for (std::size_t i = 0; i < pc.size(); ++i) {
    INFO(pc[i].first);
    CHECK(pg[i].first == pc[i].first);
    ETNA_REQUIRE_MATCHES_CPU(pg[i].second.grad(), pc[i].second.grad(), 1e-4);
  }
  ETNA_REQUIRE_MATCHES_CPU(gpu_net.get<2>().running_var, cpu_net.get<2>().running_var, 1e-5);
  cpu_net.eval();
  gpu_net.eval();
  ETNA_REQUIRE_MATCHES_CPU(gpu_net(x.to<gpu>()).value(), cpu_net(x).value(), 1e-5);
}

TEST_CASE("cuda conv layers: Conv1d and Dropout2d on cuda match the CPU") {
  et::manual_seed(8);
  nn::Conv1d<3, 4, 3, nn::Conv1dOptions{.padding = nn::same, .dilation = 2}> c1;
  auto c1g = c1.to<gpu>();
  const auto x = et::randn<float>({2, 3, 9});
  ETNA_REQUIRE_MATCHES_CPU(c1g(x.to<gpu>()).value(), c1(x).value(), 1e-5);
  nn::Dropout2d drop(0.5);
  const auto img = et::randn<float>({4, 6, 3, 3});
  et::manual_seed(9);
  const auto yc = drop(img).value();
  et::manual_seed(9);
  const auto yg = drop(img.to<gpu>()).value();
  ETNA_REQUIRE_MATCHES_CPU(yg, yc, 1e-6);  // the same channel mask for the same seed
}

TEST_CASE("cuda conv layers: LeNet-5 trains on cuda as on the CPU") {
  et::manual_seed(11);
  nn::models::LeNet5<> cpu_net;
  auto gpu_net = cpu_net.to<gpu>();
  et::optim::SGD<float> sc(cpu_net.parameters(), {.lr = 0.05});
  et::optim::SGD<float, gpu> sg(gpu_net.parameters(), {.lr = 0.05});
  const auto x = et::randn<float>({8, 1, 28, 28});
  const auto labels = et::randint(0, 10, {8});
  const auto xg = x.to<gpu>();
  const auto lg = labels.to<gpu>();
  for (int step = 0; step < 3; ++step) {
    sc.zero_grad();
    sg.zero_grad();
    auto lc = nn::cross_entropy(cpu_net(x), labels);
    auto lgpu = nn::cross_entropy(gpu_net(xg), lg);
    lc.backward();
    lgpu.backward();
    sc.step();
    sg.step();
    INFO("step " << step);
    CHECK(std::abs(lgpu.item() - lc.item()) < 1e-4);
  }
  ETNA_REQUIRE_MATCHES_CPU(gpu_net.get<1>().weight.value(), cpu_net.get<1>().weight.value(), 1e-4);
}
