// The pieces of a GAN training loop: detach between generator and discriminator, freezing the
// discriminator with requires_grad(false) during the generator step, two Adam optimizers, label
// smoothing with BCE-with-logits, nn::Unflatten; and two whole iterations against PyTorch
// (tests/reference/make_gan.py).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "etna/etna.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

using Gen =
    nn::Sequential<nn::Linear<4, 8>, nn::BatchNorm1d<8>, nn::ReLU, nn::Linear<8, 3>, nn::Tanh>;
using Disc = nn::Sequential<nn::Linear<3, 8>, nn::LeakyReLU, nn::Linear<8, 1>>;

// The first Linear without bias, as in DCGAN and the fixture (batch norm follows it).
Gen make_gen() {
  return Gen(nn::Linear<4, 8>(4, 8, false), nn::BatchNorm1d<8>(), nn::ReLU(), nn::Linear<8, 3>(),
             nn::Tanh());
}

Disc make_disc() {
  Disc d;
  d.get<1>().negative_slope = 0.2;
  return d;
}

template <class Net>
std::map<std::string, et::Tensor<float>> snapshot(const Net& net) {
  std::map<std::string, et::Tensor<float>> out;
  for (auto& [name, p] : net.named_parameters()) out[name] = p.value().clone();
  return out;
}

template <class Net>
bool unchanged(const Net& net, const std::map<std::string, et::Tensor<float>>& before) {
  for (auto& [name, p] : net.named_parameters())
    if (!et::test::mismatch(p.value(), before.at(name), 0, 0).empty()) return false;
  return true;
}

}  // namespace

TEST_CASE("detach: the discriminator's loss on detached fakes sends no gradient to the generator",
          "[gan]") {
  et::manual_seed(3);
  Gen g;
  Disc d = make_disc();
  const auto fake = g(et::randn<float>({5, 4}));
  auto loss = nn::binary_cross_entropy_with_logits(d(fake.detach()), et::zeros<float>({5, 1}));
  loss.backward();
  for (auto& [name, p] : g.named_parameters()) {
    INFO(name);
    CHECK_FALSE(p.grad().defined());
  }
  for (auto& [name, p] : d.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
  CHECK_FALSE(fake.detach().requires_grad());
  CHECK(fake.requires_grad());  // the original keeps its history for the generator step
}

TEST_CASE("requires_grad(false) on the discriminator: the generator step leaves it unchanged",
          "[gan]") {
  et::manual_seed(4);
  Gen g;
  Disc d = make_disc();
  et::optim::Adam opt_g(g.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  et::optim::Adam opt_d(d.parameters(), {.lr = 1e-2, .betas = {0.5, 0.999}});
  // A discriminator step first, so opt_d holds state and d holds gradients from it.
  const auto fake = g(et::randn<float>({6, 4}));
  et::Var<float> loss_d =
      nn::binary_cross_entropy_with_logits(d(et::randn<float>({6, 3})), et::ones<float>({6, 1})) +
      nn::binary_cross_entropy_with_logits(d(fake.detach()), et::zeros<float>({6, 1}));
  opt_d.zero_grad();
  loss_d.backward();
  opt_d.step();

  const auto d_before = snapshot(d), g_before = snapshot(g);
  d.requires_grad(false);
  auto loss_g = nn::binary_cross_entropy_with_logits(d(fake), et::ones<float>({6, 1}));
  opt_g.zero_grad();
  loss_g.backward();
  opt_g.step();
  opt_d.step();  // even a stray discriminator step cannot move it: it holds no gradient
  for (auto& [name, p] : d.named_parameters()) {
    INFO(name);
    CHECK_FALSE(p.requires_grad());
    CHECK_FALSE(p.grad().defined());
  }
  CHECK(unchanged(d, d_before));
  for (auto& [name, p] : g.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
  CHECK_FALSE(unchanged(g, g_before));
  d.requires_grad(true);
  for (auto& [name, p] : d.named_parameters()) CHECK(p.requires_grad());
}

TEST_CASE("label smoothing: BCE-with-logits against a smoothed real target 0.9", "[gan]") {
  // loss(x, y) = max(x, 0) - x y + log(1 + exp(-|x|)), for y = 0.9 as for y in {0, 1}.
  const auto logits = et::tensor<float>({-2.f, 0.f, 3.f});
  const auto loss =
      nn::binary_cross_entropy_with_logits(et::Var<float>(logits), et::full<float>({3}, 0.9f));
  double expected = 0;
  for (float x : {-2.f, 0.f, 3.f})
    expected += std::max(x, 0.f) - 0.9 * x + std::log1p(std::exp(-std::fabs(x)));
  CHECK(loss.value().item() == Approx(expected / 3).epsilon(1e-6));
}

TEST_CASE("Unflatten splits one dimension, passes gradients back and names bad sizes",
          "[gan][nn]") {
  nn::Unflatten unflatten(1, {2, 3, -1});
  auto x = et::Var<float>(et::arange<float>(0, 24).reshape({2, 12}), true);
  auto y = unflatten(x);
  REQUIRE(y.shape() == et::Shape{2, 2, 3, 2});
  CHECK(y.value().at({1, 1, 2, 1}) == 23.f);
  et::sum(y * y).backward();
  CHECK(x.grad().shape() == et::Shape{2, 12});
  CHECK(x.grad().at({1, 11}) == 46.f);
  CHECK(nn::Unflatten(1, {2, 3}).forward(et::zeros<float>({4, 6})).shape() == et::Shape{4, 2, 3});
  CHECK_THROWS_WITH(nn::Unflatten(1, {5, 5})(et::Var<float>(et::zeros<float>({2, 12}))),
                    Catch::Contains("Unflatten") && Catch::Contains("12"));
  CHECK(nn::Unflatten(1, {128, 7, 7}).extra_repr() == "dim=1, unflattened_size=(128, 7, 7)");
}

TEST_CASE("two GAN iterations (D step, frozen-D G step, Adam 2e-4) match PyTorch", "[gan]") {
  const et::test::Fixtures fx("gan_step.json");
  Gen g = make_gen();
  Disc d = make_disc();
  for (auto& [name, p] : g.named_parameters()) p.value().assign(fx.tensor("g_init." + name));
  for (auto& [name, p] : d.named_parameters()) p.value().assign(fx.tensor("d_init." + name));
  et::optim::Adam opt_g(g.parameters(), {.lr = 2e-4, .betas = {0.5, 0.999}});
  et::optim::Adam opt_d(d.parameters(), {.lr = 2e-4, .betas = {0.5, 0.999}});
  const std::int64_t n = 6;
  for (int it = 0; it < 2; ++it) {
    const auto real = fx.tensor("real" + std::to_string(it));
    const auto fake = g(fx.tensor("z" + std::to_string(it)));
    opt_d.zero_grad();
    et::Var<float> loss_d =
        nn::binary_cross_entropy_with_logits(d(real), et::full<float>({n, 1}, 0.9f)) +
        nn::binary_cross_entropy_with_logits(d(fake.detach()), et::zeros<float>({n, 1}));
    loss_d.backward();
    opt_d.step();
    d.requires_grad(false);
    opt_g.zero_grad();
    auto loss_g = nn::binary_cross_entropy_with_logits(d(fake), et::ones<float>({n, 1}));
    loss_g.backward();
    opt_g.step();
    d.requires_grad(true);
    CHECK(loss_d.value().item() ==
          Approx(fx.value<double>("loss_d" + std::to_string(it))).epsilon(1e-5));
    CHECK(loss_g.value().item() ==
          Approx(fx.value<double>("loss_g" + std::to_string(it))).epsilon(1e-5));
  }
  for (auto& [name, p] : g.named_parameters()) {
    INFO("generator " << name << ": "
                      << et::test::mismatch(p.value(), fx.tensor("g_final." + name), 1e-4, 1e-6));
    CHECK(et::test::mismatch(p.value(), fx.tensor("g_final." + name), 1e-4, 1e-6).empty());
  }
  for (auto& [name, b] : g.named_buffers()) {
    INFO("generator buffer " << name);
    CHECK(et::test::mismatch(b, fx.tensor("g_final." + name), 1e-4, 1e-6).empty());
  }
  for (auto& [name, p] : d.named_parameters()) {
    INFO("discriminator " << name << ": "
                          << et::test::mismatch(p.value(), fx.tensor("d_final." + name), 1e-4,
                                                1e-6));
    CHECK(et::test::mismatch(p.value(), fx.tensor("d_final." + name), 1e-4, 1e-6).empty());
  }
}
