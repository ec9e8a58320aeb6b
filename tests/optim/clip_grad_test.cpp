// clip_grad_norm_ and clip_grad_value_ against torch.nn.utils, and the L1/L2 penalties'
// values and gradients.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "etna/optim.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace optim = etna::optim;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("optim.json");
  return f;
}
}  // namespace

TEST_CASE("optim: clip_grad_norm_ matches torch.nn.utils.clip_grad_norm_", "[optim][clip]") {
  for (const char* norm : {"2", "inf"}) {
    for (double max_norm : {0.5, 100.0}) {
      const std::string key =
          std::string("clip_norm_") + norm + "_" + (max_norm == 0.5 ? "0.5" : "100");
      INFO(key);
      auto w = et::Var<float>(fx().tensor<float>("init_w"), true);
      auto b = et::Var<float>(fx().tensor<float>("init_b"), true);
      auto unused = et::Var<float>(et::ones<float>({3}), true);  // no gradient: ignored
      w.set_grad(fx().tensor<float>("grads_w")[0].clone());
      b.set_grad(fx().tensor<float>("grads_b")[0].clone());
      const double norm_type =
          std::string(norm) == "inf" ? std::numeric_limits<double>::infinity() : 2.0;
      const double total = optim::clip_grad_norm_<float>({w, unused, b}, max_norm, norm_type);
      CHECK(total == Approx(fx().value<double>(key + "/total")).epsilon(1e-6));
      ETNA_CHECK_CLOSE(w.grad(), fx().tensor<float>(key + "/w"), 1e-5, 1e-7);
      ETNA_CHECK_CLOSE(b.grad(), fx().tensor<float>(key + "/b"), 1e-5, 1e-7);
    }
  }
}

TEST_CASE("optim: clip_grad_norm_ of order 1, non-finite norms, no gradients", "[optim][clip]") {
  auto w = et::Var<double>(et::zeros<double>({3}), true);
  w.set_grad(et::tensor<double>({3, -4, 1}));
  CHECK(optim::clip_grad_norm_<double>({w}, 4.0, 1.0) == Approx(8.0));
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({1.5, -2, 0.5}), 1e-6);
  CHECK(optim::clip_grad_norm_<double>({w}, 4.0, 1.0) == Approx(4.0));  // already within: kept
  w.set_grad(et::tensor<double>({1, std::numeric_limits<double>::infinity(), 0}));
  CHECK_THROWS_AS(optim::clip_grad_norm_<double>({w}, 1.0, 2.0, true), et::value_error);
  w.zero_grad();
  CHECK(optim::clip_grad_norm_<double>({w}, 1.0) == 0.0);
  CHECK_THROWS_MATCHES(optim::clip_grad_norm_<double>({w}, 1.0, 0.0), et::value_error,
                       Catch::Message("clip_grad_norm_: norm_type must be positive or inf, got 0"));
}

TEST_CASE("optim: clip_grad_value_ matches torch.nn.utils.clip_grad_value_", "[optim][clip]") {
  auto w = et::Var<float>(fx().tensor<float>("init_w"), true);
  w.set_grad(fx().tensor<float>("grads_w")[0].clone());
  optim::clip_grad_value_<float>({w}, 0.5);
  ETNA_CHECK_CLOSE(w.grad(), fx().tensor<float>("clip_value_0.5/w"), 0, 0);
}

TEST_CASE("optim: l1_penalty and l2_penalty values and gradients", "[optim][regularization]") {
  auto w = et::Var<double>(et::tensor<double>({{1, -2}, {0.5, 3}}), true);
  auto b = et::Var<double>(et::tensor<double>({-1, 2}), true);
  auto l1 = optim::l1_penalty<double>({w, b}, 0.1);
  CHECK(l1.item() == Approx(0.1 * (1 + 2 + 0.5 + 3 + 1 + 2)));
  l1.backward();
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({{0.1, -0.1}, {0.1, 0.1}}), 1e-12);
  ETNA_CHECK_CLOSE(b.grad(), et::tensor<double>({-0.1, 0.1}), 1e-12);
  w.zero_grad();
  b.zero_grad();
  auto l2 = optim::l2_penalty<double>({w, b}, 0.5);
  CHECK(l2.item() == Approx(0.5 * (1 + 4 + 0.25 + 9 + 1 + 4)));
  l2.backward();
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({{1, -2}, {0.5, 3}}), 1e-12);
  ETNA_CHECK_CLOSE(b.grad(), et::tensor<double>({-1, 2}), 1e-12);
}
