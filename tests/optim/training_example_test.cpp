// The worked example of docs/optim.md, kept compiling and converging: linear regression on
// Vars trained with Adam, CosineAnnealingLR and clip_grad_norm_.
#include <catch2/catch.hpp>

#include "etna/etna.hpp"
#include "etna/optim.hpp"

namespace et = etna;

TEST_CASE("optim: the docs' linear regression example converges", "[optim][example]") {
  et::manual_seed(0);
  // Data: y = x [2, -3, 0.5]^T + 1 plus a little noise.
  auto x = et::randn<float>({256, 3});
  auto true_w = et::tensor<float>({{2.f}, {-3.f}, {0.5f}});
  et::Tensor<float> y = et::matmul(x, true_w) + 1.f + et::randn<float>({256, 1}) * 0.01f;

  auto w = et::Var<float>(et::zeros<float>({3, 1}), true);
  auto b = et::Var<float>(et::zeros<float>({1}), true);
  std::vector<et::Var<float>> params{w, b};

  et::optim::Adam opt(params, {.lr = 0.1});
  et::optim::CosineAnnealingLR sched(opt, {.T_max = 200, .eta_min = 1e-3});
  float first_loss = 0, loss_value = 0;
  for (int epoch = 0; epoch < 200; ++epoch) {
    auto loss = et::mean(et::square(et::matmul(et::Var<float>(x), w) + b - et::Var<float>(y)));
    opt.zero_grad();
    loss.backward();
    et::optim::clip_grad_norm_(params, 10.0);
    opt.step();
    sched.step();
    loss_value = loss.item();
    if (epoch == 0) first_loss = loss_value;
  }
  CHECK(first_loss > 5.f);
  CHECK(loss_value < 1e-3f);
  CHECK(w.value().at({0, 0}) == Approx(2.f).margin(0.01));
  CHECK(w.value().at({1, 0}) == Approx(-3.f).margin(0.01));
  CHECK(b.value().at({0}) == Approx(1.f).margin(0.01));
  CHECK(sched.get_last_lr()[0] == Approx(1e-3));
}
