// GAN pieces on the device: make_grid / image_bytes of cuda images equal the cpu ones, and one
// GAN iteration (discriminator step on real and detached fakes, generator step through a frozen
// discriminator, two Adams) of a small DCGAN-shaped pair (Linear, BatchNorm1d, Unflatten,
// ConvTranspose2d, Tanh against Conv2d, LeakyReLU, Linear) moves the cuda copies as the cpu
// originals.
#include <cmath>
#include <map>
#include <string>

#include "cuda/support.hpp"
#include "etna/utils.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace ut = etna::utils;
using et::test::gpu;

namespace {

et::Tensor<float> wavy(const et::Shape& shape, float phase) {
  auto t = et::empty<float>(shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 2.f * std::sin(0.37f * i + phase);
  return t;
}

using CpuGen = nn::Sequential<
    nn::Linear<4, 18>, nn::BatchNorm1d<18>, nn::ReLU, nn::Unflatten,
    nn::ConvTranspose2d<2, 1, 4, nn::ConvTranspose2dOptions{.stride = 2, .padding = 1}>,
    nn::Tanh>;  // [N, 4] -> [N, 1, 6, 6]
using CpuDisc = nn::Sequential<nn::Conv2d<1, 2, 4, nn::Conv2dOptions{.stride = 2, .padding = 1}>,
                               nn::LeakyReLU, nn::Flatten, nn::Linear<18, 1>>;

template <class G, class Dn, class D>
void gan_iteration(G& g, Dn& d, et::optim::Adam<float, D>& opt_g, et::optim::Adam<float, D>& opt_d,
                   const et::Tensor<float, D>& real, const et::Tensor<float, D>& z) {
  const std::int64_t n = z.size(0);
  const auto fake = g(z);
  opt_d.zero_grad();
  et::Var<float, D> loss_d =
      nn::binary_cross_entropy_with_logits(d(real), et::full<float, D>({n, 1}, 0.9f)) +
      nn::binary_cross_entropy_with_logits(d(fake.detach()), et::zeros<float, D>({n, 1}));
  loss_d.backward();
  opt_d.step();
  d.requires_grad(false);
  opt_g.zero_grad();
  auto loss_g = nn::binary_cross_entropy_with_logits(d(fake), et::ones<float, D>({n, 1}));
  loss_g.backward();
  opt_g.step();
  d.requires_grad(true);
}

}  // namespace

TEST_CASE("cuda make_grid and image_bytes equal the cpu results", "[cuda][gan]") {
  const auto grey = wavy({5, 1, 4, 3}, 0.f);
  const auto rgb = wavy({3, 3, 2, 2}, 1.f);
  const std::vector<ut::GridOptions> settings{
      {.nrow = 2, .padding = 1, .pad_value = 0.25},
      {.nrow = 3, .padding = 2, .normalize = true},
      {.nrow = 2, .padding = 0, .normalize = true, .scale_each = true},
      {.nrow = 4, .padding = 1, .normalize = true, .value_range = std::pair{-1.0, 1.0}}};
  for (const auto& o : settings) {
    for (const auto* images : {&grey, &rgb}) {
      const auto host = ut::make_grid(*images, o);
      const auto device = ut::make_grid(images->to<gpu>(), o);
      ETNA_REQUIRE_MATCHES_CPU(device, host, 1e-6);
      const auto host_bytes = ut::image_bytes(*images, o);
      const auto device_bytes = ut::image_bytes(images->to<gpu>(), o);
      CHECK(device_bytes.height == host_bytes.height);
      CHECK(device_bytes.width == host_bytes.width);
      CHECK(device_bytes.bytes == host_bytes.bytes);
    }
  }
  // The caller's cuda tensor is not normalised in place.
  const auto device_rgb = rgb.to<gpu>();
  ut::make_grid(device_rgb, {.normalize = true});
  ETNA_REQUIRE_MATCHES_CPU(device_rgb, rgb, 1e-9);
}

TEST_CASE("cuda GAN iteration (detach, frozen discriminator, two Adams) matches the cpu",
          "[cuda][gan]") {
  et::manual_seed(5);
  // No bias before batch norm (as in DCGAN): its gradient is zero up to rounding, which Adam
  // would turn into steps of random sign on each device.
  CpuGen g(nn::Linear<4, 18>(4, 18, false), nn::BatchNorm1d<18>(), nn::ReLU(),
           nn::Unflatten(1, {2, 3, 3}),
           nn::ConvTranspose2d<2, 1, 4, nn::ConvTranspose2dOptions{.stride = 2, .padding = 1}>(),
           nn::Tanh());
  CpuDisc d;
  d.get<1>().negative_slope = 0.2;
  auto gg = g.to<gpu>();
  auto gd = d.to<gpu>();
  et::optim::Adam opt_g(g.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  et::optim::Adam opt_d(d.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  et::optim::Adam gopt_g(gg.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  et::optim::Adam gopt_d(gd.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  for (int it = 0; it < 2; ++it) {
    const et::Tensor<float> real = et::tanh(wavy({6, 1, 6, 6}, float(it)));
    const auto z = wavy({6, 4}, 3.f + float(it));
    gan_iteration(g, d, opt_g, opt_d, real, z);
    gan_iteration(gg, gd, gopt_g, gopt_d, real.to<gpu>(), z.to<gpu>());
  }
  const auto gen = g.named_parameters();
  const auto ggen = gg.named_parameters();
  for (std::size_t i = 0; i < gen.size(); ++i) {
    INFO("generator " << gen[i].first);
    ETNA_REQUIRE_MATCHES_CPU(ggen[i].second.value(), gen[i].second.value(), 1e-4);
  }
  const auto dis = d.named_parameters();
  const auto gdis = gd.named_parameters();
  for (std::size_t i = 0; i < dis.size(); ++i) {
    INFO("discriminator " << dis[i].first);
    ETNA_REQUIRE_MATCHES_CPU(gdis[i].second.value(), dis[i].second.value(), 1e-4);
    CHECK(gdis[i].second.requires_grad());
  }
  const auto buffers = g.named_buffers();
  const auto gbuffers = gg.named_buffers();
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    INFO("generator buffer " << buffers[i].first);
    ETNA_REQUIRE_MATCHES_CPU(gbuffers[i].second, buffers[i].second, 1e-4);
  }
}
