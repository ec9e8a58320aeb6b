// nn::functional::dropout1d/2d/3d: whole channels are zeroed or scaled by exactly 1/(1-p), the
// dropped share is about p, the gradient is the mask, eval and p = 0 are the identity, the same
// seed gives the same mask (batched or not), and bad ranks or p are rejected.
#include "etna/nn/functional/dropout2d.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using Catch::Contains;

namespace {

// Checks that every channel of y (viewed [channels, per]) is all zeros or all x * scale, and
// returns how many channels were dropped.
std::int64_t dropped_channels(const et::Tensor<float>& x, const et::Tensor<float>& y,
                              std::int64_t channels, float scale) {
  const et::Tensor<float> xc = x.contiguous(), yc = y.contiguous();
  const std::int64_t per = x.numel() / channels;
  std::int64_t dropped = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    const float* yp = yc.data() + c * per;
    const float* xp = xc.data() + c * per;
    const bool zero = yp[0] == 0.f;
    dropped += zero;
    for (std::int64_t i = 0; i < per; ++i) {
      INFO("channel " << c << " element " << i);
      REQUIRE(yp[i] == (zero ? 0.f : xp[i] * scale));
    }
  }
  return dropped;
}

}  // namespace

TEST_CASE("dropout2d: whole channels are dropped or scaled by 1/(1-p), about p of them",
          "[dropout2d]") {
  et::manual_seed(5);
  const et::Tensor<float> x = et::rand<float>({40, 100, 3, 4}) + 0.5f;  // no zeros in x
  for (double p : {0.2, 0.5, 0.7}) {
    INFO("p " << p);
    const et::Var<float> y = F::dropout2d(et::Var<float>(x), p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    const std::int64_t dropped = dropped_channels(x, y.value(), 4000, scale);
    CHECK(double(dropped) / 4000 == Approx(p).margin(0.03));
  }
  // dropout1d and dropout3d: the same rule over [N, C, L] and [N, C, D, H, W].
  const et::Tensor<float> x1 = et::rand<float>({30, 100, 7}) + 0.5f;
  const std::int64_t d1 = dropped_channels(x1, F::dropout1d(et::Var<float>(x1), 0.4).value(), 3000,
                                           static_cast<float>(1.0 / 0.6));
  CHECK(double(d1) / 3000 == Approx(0.4).margin(0.03));
  const et::Tensor<float> x3 = et::rand<float>({10, 200, 2, 3, 2}) + 0.5f;
  const std::int64_t d3 = dropped_channels(x3, F::dropout3d(et::Var<float>(x3), 0.3).value(), 2000,
                                           static_cast<float>(1.0 / 0.7));
  CHECK(double(d3) / 2000 == Approx(0.3).margin(0.03));
}

TEST_CASE("dropout2d: unbatched input, p = 1, eval and p = 0", "[dropout2d]") {
  // A 3-d input is one unbatched [C, H, W] sample (PyTorch would read it as [N, C, L]).
  et::manual_seed(6);
  const et::Tensor<float> x = et::rand<float>({500, 2, 3}) + 0.5f;
  const et::Var<float> y = F::dropout2d(et::Var<float>(x), 0.5);
  const std::int64_t dropped = dropped_channels(x, y.value(), 500, 2.f);
  CHECK(double(dropped) / 500 == Approx(0.5).margin(0.07));
  CHECK(dropped_channels(x, F::dropout1d(et::Var<float>(x.reshape({500, 6})), 0.5).value(), 500,
                         2.f) > 0);
  ETNA_CHECK_CLOSE(F::dropout2d(et::Var<float>(x), 1.0).value(), et::zeros<float>({500, 2, 3}), 0,
                   0);
  // Eval and p = 0 return the input Var itself.
  const et::Var<float> xv(et::randn<float>({2, 3, 4, 4}), true);
  CHECK(F::dropout2d(xv, 0.5, false).impl_ptr() == xv.impl_ptr());
  CHECK(F::dropout2d(xv, 0.0).impl_ptr() == xv.impl_ptr());
  CHECK(F::dropout3d(xv, 0.5, false).impl_ptr() == xv.impl_ptr());  // unbatched [C, D, H, W]
  ETNA_CHECK_CLOSE(F::dropout2d(xv * 1.f, 0.3, false).value(), xv.value(), 0, 0);
}

TEST_CASE("dropout2d: the same seed gives the same mask, batched or not; own generator",
          "[dropout2d]") {
  const et::Tensor<float> x = et::randn<float>({2, 8, 5, 5});
  et::manual_seed(42);
  const et::Tensor<float> a = F::dropout2d(et::Var<float>(x), 0.5).value();
  et::manual_seed(42);
  const et::Tensor<float> b = F::dropout2d(et::Var<float>(x), 0.5).value();
  ETNA_CHECK_CLOSE(a, b, 0, 0);
  // One draw per (n, c): an unbatched [C, H, W] gets the mask of a batch of one.
  const et::Tensor<float> x1 = et::randn<float>({8, 5, 5});
  et::manual_seed(43);
  const et::Tensor<float> unbatched = F::dropout2d(et::Var<float>(x1), 0.5).value();
  et::manual_seed(43);
  const et::Tensor<float> batched =
      F::dropout2d(et::Var<float>(x1.reshape({1, 8, 5, 5})), 0.5).value();
  ETNA_CHECK_CLOSE(unbatched, batched.reshape({8, 5, 5}), 0, 0);
  // A generator of its own: equal seeds, equal masks.
  et::Generator gen(7), gen2(7);
  ETNA_CHECK_CLOSE(F::dropout2d(et::Var<float>(x), 0.5, true, gen).value(),
                   F::dropout2d(et::Var<float>(x), 0.5, true, gen2).value(), 0, 0);
}

TEST_CASE("dropout2d: the gradient is the channel mask; gradcheck", "[dropout2d]") {
  const et::Var<float> x(et::ones<float>({3, 16, 4, 4}), true);
  et::manual_seed(4);
  const et::Var<float> y = F::dropout2d(x, 0.25);
  y.backward(et::ones<float>({3, 16, 4, 4}));
  ETNA_CHECK_CLOSE(x.grad(), y.value(), 0, 0);  // d(x * mask)/dx = mask = y for x = 1

  const et::Var<double> xd(et::randn<double>({2, 3, 2, 2}), true);
  for (bool training : {true, false})
    et::test::check_gradcheck(et::gradcheck(
        [&](const et::Var<double>& v) {
          et::manual_seed(9);  // the same mask on every evaluation
          return F::dropout2d(v, 0.5, training);
        },
        xd));
}

TEST_CASE("dropout2d: wrong rank and p outside [0, 1] are rejected", "[dropout2d]") {
  const et::Var<float> x4(et::zeros<float>({2, 3, 4, 4}));
  CHECK_THROWS_AS(F::dropout2d(et::Var<float>(et::zeros<float>({3, 4})), 0.5), et::shape_error);
  CHECK_THROWS_WITH(F::dropout2d(et::Var<float>(et::zeros<float>({1, 2, 3, 4, 5})), 0.5),
                    "dropout2d: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, got shape "
                    "[1, 2, 3, 4, 5]");
  CHECK_THROWS_WITH(F::dropout1d(x4, 0.5),
                    "dropout1d: expected a 2-d [C, L] or 3-d [N, C, L] input, got shape "
                    "[2, 3, 4, 4]");
  CHECK_THROWS_WITH(F::dropout3d(et::Var<float>(et::zeros<float>({3, 4, 4})), 0.5),
                    Contains("dropout3d: expected a 4-d [C, D, H, W] or 5-d [N, C, D, H, W]"));
  CHECK_THROWS_AS(F::dropout2d(x4, 1.5), et::value_error);
  CHECK_THROWS_WITH(
      F::dropout2d(x4, -0.1),
      Contains("dropout2d: dropout probability has to be between 0 and 1") && Contains("-0.1"));
  // The rank is checked in eval mode too, so a wrong input fails before training starts.
  CHECK_THROWS_AS(F::dropout2d(et::Var<float>(et::zeros<float>({4})), 0.5, false), et::shape_error);
}
