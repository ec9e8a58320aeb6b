// Tests etna/ops/pad.hpp against F.pad: constant (with cropping), reflect, replicate and
// circular over several dims, transposed inputs, large inputs, and every error message.
#include "etna/ops/pad.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace {

namespace et = etna;
using I = std::int64_t;

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("shape_ops.json");
  return f;
}

struct PadCase {
  std::string name;
  std::vector<I> pads;
  std::string mode;
  double value;
};

}  // namespace

TEST_CASE("pad matches F.pad on a 4-d input", "[ops][pad]") {
  const auto& f = fx();
  auto x = f.tensor<float>("pad_x");
  const std::vector<PadCase> cases = {
      {"c_12", {1, 2}, "constant", 0.5},
      {"c_1201", {1, 2, 0, 1}, "constant", 0},
      {"c_neg", {-1, 2, 1, -2}, "constant", -3},
      {"c_3d", {1, 1, 0, 2, 1, 0}, "constant", 0},
      {"c_crop_all", {-2, -3}, "constant", 0},
      {"reflect_2311", {2, 3, 1, 1}, "reflect", 0},
      {"reflect_2112", {2, 1, 1, 2}, "reflect", 0},
      {"reflect_neg", {-1, 3, 2, -1}, "reflect", 0},
      {"replicate_3210", {3, 2, 1, 0}, "replicate", 0},
      {"replicate_neg", {-2, 4, 0, -1}, "replicate", 0},
      {"circular_1221", {1, 2, 2, 1}, "circular", 0},
      {"circular_full", {5, 5, -1, 3}, "circular", 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto expected = f.tensor<float>("pad_" + c.name);
    ETNA_CHECK_CLOSE(et::pad(x, c.pads, c.mode, c.value), expected, 0, 0);
    // A non-contiguous view of the same values gives the same result.
    auto strided = x.permute({3, 1, 2, 0}).contiguous().permute({3, 1, 2, 0});
    REQUIRE_FALSE(strided.is_contiguous());
    ETNA_CHECK_CLOSE(et::pad(strided, c.pads, c.mode, c.value), expected, 0, 0);
  }
  CHECK(et::pad(x, {-2, -3}).shape() == et::Shape{2, 3, 4, 0});
}

TEST_CASE("pad matches F.pad on 3-d and 5-d inputs", "[ops][pad]") {
  const auto& f = fx();
  auto x3 = f.tensor<float>("pad_x3");
  ETNA_CHECK_CLOSE(et::pad(x3, {3, 1}, "reflect"), f.tensor<float>("pad_x3_reflect_31"), 0, 0);
  ETNA_CHECK_CLOSE(et::pad(x3.transpose(1, 2), {1, 2}, "replicate"),
                   f.tensor<float>("pad_x3_replicate_t"), 0, 0);
  auto x5 = f.tensor<float>("pad_x5");
  ETNA_CHECK_CLOSE(et::pad(x5, {1, 2, 2, 0, 1, 1}, "reflect"), f.tensor<float>("pad_x5_reflect_3d"),
                   0, 0);
  ETNA_CHECK_CLOSE(et::pad(x5, {2, 1, 0, 3, 1, 2}, "replicate"),
                   f.tensor<float>("pad_x5_replicate_3d"), 0, 0);
  ETNA_CHECK_CLOSE(et::pad(x5, {4, 1, 3, 0, 1, 2}, "circular"),
                   f.tensor<float>("pad_x5_circular_3d"), 0, 0);
  auto r5 = f.tensor<float>("pad_r5");
  ETNA_CHECK_CLOSE(et::pad(r5, {4, -2}, "reflect"), f.tensor<float>("pad_r5_reflect_4m2"), 0, 0);
  ETNA_CHECK_CLOSE(et::pad(r5, {3, -1}, "circular"), f.tensor<float>("pad_r5_circular_3m1"), 0, 0);
  ETNA_CHECK_CLOSE(et::pad(r5, {-2, 3}, "circular"), f.tensor<float>("pad_r5_circular_m23"), 0, 0);
  CHECK(et::pad(r5, {-3, -2}, "circular").shape() == et::Shape{1, 1, 0});
}

TEST_CASE("pad on other dtypes, expressions and edge shapes", "[ops][pad]") {
  auto v = et::tensor<std::int32_t>({1, 2, 3});
  ETNA_CHECK_CLOSE(et::pad(v, {2, 2}, "reflect"), et::tensor<std::int32_t>({3, 2, 1, 2, 3, 2, 1}),
                   0, 0);
  ETNA_CHECK_CLOSE(et::pad(v, {1, 2}, "constant", 9), et::tensor<std::int32_t>({9, 1, 2, 3, 9, 9}),
                   0, 0);
  ETNA_CHECK_CLOSE(et::pad(et::tensor<bool>({true}), {1, 0}), et::tensor<bool>({false, true}), 0,
                   0);
  auto a = et::arange<float>(3);
  ETNA_CHECK_CLOSE(et::pad(a * 2.f, {0, 2}, "circular"), et::tensor<float>({0, 2, 4, 0, 2}), 0, 0);
  // Padding an empty dimension with constants fills it; no pads copies; 0-d input.
  ETNA_CHECK_CLOSE(et::pad(et::zeros<float>({2, 0}), {1, 1}, "constant", 5),
                   et::full<float>({2, 2}, 5), 0, 0);
  auto copy = et::pad(a, {});
  copy(0) = 7.f;
  CHECK(a(0) == 0.f);
  CHECK(et::pad(et::tensor<float>(3.f), {}).item() == 3.f);
  CHECK(et::pad(et::zeros<float>({0, 3}), {1, 1}, "reflect").shape() == et::Shape{0, 5});
}

TEST_CASE("pad of a large image (parallel rows)", "[ops][pad]") {
  auto x = et::randn<float>({4, 3, 200, 300});
  auto out = et::pad(x, {2, 3, 1, 4}, "constant", 0);
  REQUIRE(out.shape() == et::Shape{4, 3, 205, 305});
  ETNA_CHECK_CLOSE(out.slice(2, 1, 201).slice(3, 2, 302), x, 0, 0);
  CHECK(out(3, 2, 204, 304) == 0.f);
  auto r = et::pad(x, {5, 5, 5, 5}, "replicate");
  ETNA_CHECK_CLOSE(r.slice(2, 0, 5).slice(3, 5, 305), x.slice(2, 0, 1).expand({4, 3, 5, 300}), 0,
                   0);
  ETNA_CHECK_CLOSE(r.slice(2, 5, 205).slice(3, 5, 305), x, 0, 0);
}

TEST_CASE("pad errors", "[ops][pad]") {
  auto x = et::zeros<float>({1, 3, 4});
  CHECK_THROWS_AS(et::pad(x, {1, 1, 1}), et::value_error);
  CHECK_THROWS_WITH(et::pad(x, {1, 1, 1}),
                    "pad: padding sizes come in (before, after) pairs, got 3 values");
  CHECK_THROWS_AS(et::pad(x, {1, 1, 1, 1, 1, 1, 1, 1}), et::shape_error);
  CHECK_THROWS_WITH(
      et::pad(x, {1, 1, 1, 1, 1, 1, 1, 1}),
      "pad: 8 padding sizes pad 4 dimensions, but the input of shape [1, 3, 4] has 3");
  CHECK_THROWS_WITH(et::pad(x, {1, 1}, "foo"),
                    "pad: unknown mode 'foo' (expected constant, reflect, replicate or circular)");
  CHECK_THROWS_WITH(et::pad(x, {1, 1}, "reflect", 1.0),
                    "pad: mode 'reflect' takes no fill value, got 1");
  CHECK_THROWS_AS(et::pad(x, {-4, -1}), et::shape_error);
  CHECK_THROWS_WITH(et::pad(x, {-4, -1}),
                    "pad: padding (-4, -1) makes dimension 2 of the input of shape [1, 3, 4] "
                    "negative (size -1)");
  CHECK_THROWS_WITH(et::pad(x, {4, 0}, "reflect"),
                    "pad: reflect padding (4, 0) must be less than the size 4 of dimension 2 of "
                    "the input of shape [1, 3, 4]");
  CHECK_THROWS_WITH(et::pad(x, {0, 0, 1, 3}, "reflect"),
                    "pad: reflect padding (1, 3) must be less than the size 3 of dimension 1 of "
                    "the input of shape [1, 3, 4]");
  CHECK_THROWS_WITH(et::pad(x, {5, 0}, "circular"),
                    "pad: circular padding (5, 0) wraps around dimension 2 of size 4 more than "
                    "once (input shape [1, 3, 4])");
  CHECK_THROWS_WITH(et::pad(et::zeros<float>({1, 1, 5}), {-2, 4}, "circular"),
                    "pad: circular padding (-2, 4) wraps around dimension 2 of size 3 (after "
                    "cropping) more than once (input shape [1, 1, 5])");
  CHECK_THROWS_WITH(et::pad(x, {-4, -1}, "circular"),
                    "pad: padding (-4, -1) makes dimension 2 of the input of shape [1, 3, 4] "
                    "negative (size -1)");
  CHECK_THROWS_WITH(et::pad(x, {-2, -2}, "replicate"),
                    "pad: padding (-2, -2) leaves dimension 2 of the input of shape [1, 3, 4] "
                    "with size 0; replicate padding needs at least 1");
  CHECK_THROWS_WITH(et::pad(et::zeros<float>({3, 0}), {1, 1}, "replicate"),
                    "pad: replicate padding needs a non-empty dimension 1, but the input has "
                    "shape [3, 0]");
}
