// nn::functional::interpolate against PyTorch (tests/reference/make_pooling.py): nearest by size
// and by scale factors (up, down, fractional), bilinear with and without align_corners (up and
// down), their input gradients, gradcheck in double and the error messages.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <utility>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/functional/upsample.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using Catch::Contains;
using Mode = F::InterpolationMode;

namespace {

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("pooling.json");
  return f;
}

using Op = std::function<et::Var<float>(const et::Var<float>&)>;

void check_case(const std::string& name, const Op& op) {
  INFO(name);
  const et::Var<float> x(fx().tensor(name + "_x"), true);
  const et::Var<float> y = op(x);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor(name + "_y"), 1e-5, 1e-6);
  y.backward(fx().tensor(name + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor(name + "_gx"), 1e-5, 1e-6);
}

}  // namespace

TEST_CASE("interpolate nearest matches PyTorch by size and by scale factor", "[nn][upsample]") {
  check_case("nn_size", [](const auto& x) { return F::interpolate(x, {7, 3}); });
  check_case("nn_s2", [](const auto& x) { return F::interpolate(x, 2.0); });
  check_case("nn_s15", [](const auto& x) { return F::interpolate(x, 1.5); });
  check_case("nn_down", [](const auto& x) { return F::interpolate(x, 0.5, Mode::nearest); });
  check_case("nn_s12", [](const auto& x) { return F::interpolate(x, std::pair{1.2, 1.3}); });
  // An integer is a size, as in PyTorch: 4x5 -> 2x2.
  CHECK(F::interpolate(fx().tensor("nn_s2_x"), 2).shape() == et::Shape{1, 2, 2, 2});
}

TEST_CASE("interpolate bilinear matches PyTorch with and without align_corners", "[nn][upsample]") {
  check_case("bl_up", [](const auto& x) { return F::interpolate(x, {7, 9}, Mode::bilinear); });
  check_case("bl_up_ac", [](const auto& x) {
    return F::interpolate(x, {7, 9}, Mode::bilinear, true);
  });
  check_case("bl_down", [](const auto& x) { return F::interpolate(x, {5, 4}, Mode::bilinear); });
  check_case("bl_down_ac", [](const auto& x) {
    return F::interpolate(x, {5, 4}, Mode::bilinear, true);
  });
  check_case("bl_s15", [](const auto& x) { return F::interpolate(x, 1.5, Mode::bilinear); });
  check_case("bl_s2_ac",
             [](const auto& x) { return F::interpolate(x, 2.0, Mode::bilinear, true); });
  check_case("bl_unbatched", [](const auto& x) {
    return F::interpolate(x, {5, 7}, Mode::bilinear);
  });
}

TEST_CASE("interpolate gradcheck in double", "[nn][upsample]") {
  et::manual_seed(41);
  using V = et::Var<double>;
  const std::function<V(const V&)> ops[] = {
      [](const V& x) {
        return F::interpolate(x, {5, 7});
      },
      [](const V& x) { return F::interpolate(x, 0.5); },
      [](const V& x) {
        return F::interpolate(x, std::pair{1.5, 2.0});
      },
      [](const V& x) {
        return F::interpolate(x, {7, 3}, Mode::bilinear);
      },
      [](const V& x) {
        return F::interpolate(x, {2, 9}, Mode::bilinear, true);
      },
      [](const V& x) { return F::interpolate(x, 1.5, Mode::bilinear); },
  };
  for (const auto& op : ops) {
    const V x(et::randn<double>({2, 1, 4, 5}), true);
    const auto r = et::gradcheck([&](const V& v) { return op(v); }, x);
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("interpolate errors name the problem", "[nn][upsample]") {
  const auto x = et::randn<float>({1, 2, 4, 4});
  REQUIRE_THROWS_WITH(F::interpolate(x, {4, 4}, Mode::nearest, true),
                      Contains("interpolate: align_corners option can only be set with the "
                               "interpolating modes"));
  REQUIRE_THROWS_AS(F::interpolate(x, {4, 4}, Mode::nearest, true), et::value_error);
  REQUIRE_THROWS_WITH(F::interpolate(x, {0, 4}),
                      Contains("interpolate: size must be positive, got (0, 4)"));
  REQUIRE_THROWS_WITH(F::interpolate(x, -1.0),
                      Contains("interpolate: scale_factor must be positive and finite, got (-1, "
                               "-1)"));
  REQUIRE_THROWS_WITH(F::interpolate(x, 0.1),
                      Contains("interpolate: output size would be 0x0 for input of shape "
                               "[1, 2, 4, 4] and scale_factor (0.1, 0.1)"));
  REQUIRE_THROWS_WITH(F::interpolate(et::randn<float>({2, 4}), 2.0),
                      Contains("interpolate: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, "
                               "got shape [2, 4]"));
}
