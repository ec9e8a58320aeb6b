// nn::functional pooling against PyTorch (tests/reference/make_pooling.py): max, average and
// adaptive pooling forward and input gradients, indices, NaN propagation, the 1-d forms,
// gradcheck in double and the error messages.
#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/functional/pooling.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using Catch::Contains;

namespace {

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("pooling.json");
  return f;
}

using Op = std::function<et::Var<float>(const et::Var<float>&)>;

// The fixture's x through op: y and, for the fixture's upstream gradient, the input gradient.
void check_case(const std::string& name, const Op& op) {
  INFO(name);
  const et::Var<float> x(fx().tensor(name + "_x"), true);
  const et::Var<float> y = op(x);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor(name + "_y"), 1e-5, 1e-6);
  y.backward(fx().tensor(name + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor(name + "_gx"), 1e-5, 1e-6);
}

void check_gradcheck(const std::function<et::Var<double>(const et::Var<double>&)>& op,
                     const et::Shape& shape) {
  const et::Var<double> x(et::randn<double>(shape), true);
  const auto r = et::gradcheck([&](const et::Var<double>& v) { return op(v); }, x);
  INFO(r.report);
  CHECK(r);
}

}  // namespace

TEST_CASE("max_pool2d matches PyTorch: k2 s2, k3 s2 p1, dilation, ceil_mode, non-square",
          "[nn][pool]") {
  check_case("mp_k2s2", [](const auto& x) { return F::max_pool2d(x, 2); });
  check_case("mp_k3s2p1", [](const auto& x) { return F::max_pool2d(x, 3, 2, 1); });
  check_case("mp_dil2", [](const auto& x) { return F::max_pool2d(x, 3, 1, 1, 2); });
  check_case("mp_ceil", [](const auto& x) { return F::max_pool2d(x, 3, 2, 0, 1, true); });
  check_case("mp_nonsq", [](const auto& x) { return F::max_pool2d(x, {2, 3}, {1, 2}, {1, 1}); });
  check_case("mp_unbatched", [](const auto& x) { return F::max_pool2d(x, 2); });
}

TEST_CASE("max_pool2d_with_indices: PyTorch's flat indices; NaN and -inf as PyTorch",
          "[nn][pool]") {
  check_case("mp_idx",
             [](const auto& x) { return F::max_pool2d_with_indices(x, 3, 2, 1, 1, true).first; });
  const auto [y, idx] = F::max_pool2d_with_indices(fx().tensor("mp_idx_x"), 3, 2, 1, 1, true);
  CHECK(!y.requires_grad());
  ETNA_CHECK_CLOSE(idx, fx().tensor<std::int64_t>("mp_idx_idx"), 0, 0);
  // A window holding a NaN gives NaN and its index; an all -inf window keeps its first element.
  const auto [yn, in] = F::max_pool2d_with_indices(fx().tensor("mp_nan_x"), 2);
  ETNA_CHECK_CLOSE(yn.value(), fx().tensor("mp_nan_y"), 0, 0);
  ETNA_CHECK_CLOSE(in, fx().tensor<std::int64_t>("mp_nan_idx"), 0, 0);
  const auto [yn3, in3] = F::max_pool2d_with_indices(fx().tensor("mp_nan_x"), 3, 1, 1);
  ETNA_CHECK_CLOSE(yn3.value(), fx().tensor("mp_nan3_y"), 0, 0);
  ETNA_CHECK_CLOSE(in3, fx().tensor<std::int64_t>("mp_nan3_idx"), 0, 0);
  // The same through the 2x2 fast path without indices (no gradient recorded).
  ETNA_CHECK_CLOSE(F::max_pool2d(fx().tensor("mp_nan_x"), 2).value(), fx().tensor("mp_nan_y"), 0,
                   0);
}

TEST_CASE(
    "avg_pool2d matches PyTorch: padding with and without count_include_pad, ceil_mode, "
    "divisor_override",
    "[nn][pool]") {
  check_case("ap_pad", [](const auto& x) { return F::avg_pool2d(x, 3, 2, 1); });
  check_case("ap_pad_excl", [](const auto& x) { return F::avg_pool2d(x, 3, 2, 1, false, false); });
  check_case("ap_ceil", [](const auto& x) { return F::avg_pool2d(x, 3, 2, 1, true); });
  check_case("ap_ceil_excl", [](const auto& x) { return F::avg_pool2d(x, 3, 2, 1, true, false); });
  check_case("ap_div", [](const auto& x) { return F::avg_pool2d(x, 3, 2, 1, false, true, 5); });
  check_case("ap_unbatched", [](const auto& x) { return F::avg_pool2d(x, {2, 3}, {2, 1}); });
}

TEST_CASE("adaptive_avg_pool2d and adaptive_max_pool2d match PyTorch, exact and uneven windows",
          "[nn][pool]") {
  check_case("aap_exact", [](const auto& x) { return F::adaptive_avg_pool2d(x, 4); });
  check_case("aap_7to3", [](const auto& x) { return F::adaptive_avg_pool2d(x, 3); });
  check_case("aap_5to24", [](const auto& x) { return F::adaptive_avg_pool2d(x, {2, 4}); });
  check_case("aap_unbatched", [](const auto& x) { return F::adaptive_avg_pool2d(x, 1); });
  check_case("amp_exact", [](const auto& x) { return F::adaptive_max_pool2d(x, 4); });
  check_case("amp_7to3", [](const auto& x) { return F::adaptive_max_pool2d(x, 3); });
  check_case("amp_5to24", [](const auto& x) { return F::adaptive_max_pool2d(x, {2, 4}); });
}

TEST_CASE("1-d pooling matches PyTorch", "[nn][pool]") {
  check_case("mp1", [](const auto& x) { return F::max_pool1d(x, 3, 2, 1); });
  check_case("mp1_unbatched", [](const auto& x) { return F::max_pool1d(x, 2); });
  check_case("ap1", [](const auto& x) { return F::avg_pool1d(x, 3, 2, 1, true, false); });
  check_case("aap1", [](const auto& x) { return F::adaptive_avg_pool1d(x, 4); });
}

TEST_CASE("pooling takes Var expressions and tensors", "[nn][pool]") {
  const et::Var<float> x(fx().tensor("mp_k2s2_x"), true);
  const et::Var<float> y = F::max_pool2d(x * 2.f, 2);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor("mp_k2s2_y") * 2.f, 1e-6, 1e-6);
  y.backward(fx().tensor("mp_k2s2_g"));
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor("mp_k2s2_gx") * 2.f, 1e-6, 1e-6);
  const et::Var<float> t = F::avg_pool2d(fx().tensor("ap_pad_x"), 3, 2, 1);
  CHECK(!t.requires_grad());
  ETNA_CHECK_CLOSE(t.value(), fx().tensor("ap_pad_y"), 1e-5, 1e-6);
  // A non-contiguous view pools as its contiguous copy.
  const auto xt = fx().tensor("ap_pad_x").transpose(2, 3);
  ETNA_CHECK_CLOSE(F::max_pool2d(xt, 3, 2, 1).value(),
                   F::max_pool2d(xt.contiguous(), 3, 2, 1).value(), 0, 0);
  {  // no node when gradients are off
    et::NoGradGuard no_grad;
    CHECK(!F::max_pool2d(x, 2).requires_grad());
  }
}

TEST_CASE("pooling gradcheck in double", "[nn][pool]") {
  et::manual_seed(31);
  using V = et::Var<double>;
  check_gradcheck([](const V& x) { return F::max_pool2d(x, 2); }, {2, 2, 4, 6});
  check_gradcheck([](const V& x) { return F::max_pool2d(x, 3, 2, 1, 1, true); }, {1, 2, 6, 5});
  check_gradcheck([](const V& x) { return F::max_pool2d(x, {3, 2}, 1, 1, 2); }, {1, 1, 6, 5});
  check_gradcheck([](const V& x) { return F::avg_pool2d(x, 3, 2, 1, true, false); }, {1, 2, 6, 5});
  check_gradcheck([](const V& x) { return F::avg_pool2d(x, 3, 2, 1, false, true, 4); },
                  {1, 1, 5, 5});
  check_gradcheck([](const V& x) { return F::adaptive_avg_pool2d(x, {3, 2}); }, {1, 2, 7, 5});
  check_gradcheck([](const V& x) { return F::adaptive_max_pool2d(x, {3, 4}); }, {1, 2, 7, 5});
  check_gradcheck([](const V& x) { return F::max_pool1d(x, 3, 2, 1); }, {2, 7});
  check_gradcheck([](const V& x) { return F::avg_pool1d(x, 2, 1, 1); }, {1, 2, 6});
  check_gradcheck([](const V& x) { return F::adaptive_avg_pool1d(x, 3); }, {1, 2, 7});
}

TEST_CASE("pooling errors name the op, the expected and the actual", "[nn][pool]") {
  const auto x = et::randn<float>({1, 2, 4, 4});
  REQUIRE_THROWS_WITH(F::max_pool2d(et::randn<float>({4, 4}), 2),
                      Contains("max_pool2d: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, "
                               "got shape [4, 4]"));
  REQUIRE_THROWS_WITH(F::avg_pool1d(et::randn<float>({1, 2, 3, 4}), 2),
                      Contains("avg_pool1d: expected a 2-d [C, L] or 3-d [N, C, L] input, got "
                               "shape [1, 2, 3, 4]"));
  REQUIRE_THROWS_WITH(F::max_pool2d(x, 5),
                      Contains("max_pool2d: output size would be 0x0 for input of shape "
                               "[1, 2, 4, 4]"));
  REQUIRE_THROWS_AS(F::max_pool2d(x, 5), et::shape_error);
  REQUIRE_THROWS_WITH(F::max_pool2d(x, 3, 1, 2),
                      Contains("max_pool2d: padding should be at most half of kernel_size, got "
                               "padding (2, 2) and kernel_size (3, 3)"));
  REQUIRE_THROWS_AS(F::avg_pool2d(x, 2, 1, 2), et::value_error);
  REQUIRE_THROWS_WITH(F::max_pool2d(x, {0, 2}),
                      Contains("max_pool2d: kernel_size must be positive, got (0, 2)"));
  REQUIRE_THROWS_WITH(F::max_pool2d(x, 2, {1, -1}),
                      Contains("max_pool2d: stride must be positive, got (1, -1)"));
  REQUIRE_THROWS_WITH(F::max_pool2d(x, 2, 1, 0, 0),
                      Contains("max_pool2d: dilation must be positive"));
  REQUIRE_THROWS_WITH(F::max_pool1d(et::randn<float>({2, 3}), 5),
                      Contains("max_pool1d: output size would be 0 for input of shape [2, 3]"));
  REQUIRE_THROWS_WITH(F::adaptive_avg_pool2d(x, {0, 2}),
                      Contains("adaptive_avg_pool2d: output_size must be positive, got (0, 2)"));
  REQUIRE_THROWS_WITH(F::adaptive_max_pool2d(et::randn<float>({1, 2, 0, 4}), 2),
                      Contains("adaptive_max_pool2d: expected non-zero sizes except the batch "
                               "dimension, got shape [1, 2, 0, 4]"));
  // An empty batch is fine, as in PyTorch.
  CHECK(F::max_pool2d(et::randn<float>({0, 2, 4, 4}), 2).shape() == et::Shape{0, 2, 2, 2});
}

TEST_CASE("max_pool2d 2x2 stride 2 (the vectorised CPU rows) matches a direct scan", "[nn][pool]") {
  // Widths below, at and above the SIMD width (whole vectors, the overlapping last vector and
  // the padded copy), odd sizes (a dropped last column / row, ceil_mode's clipped windows), with
  // ties and NaNs: PyTorch's row-major scan, first maximum on ties, a NaN wins.
  et::manual_seed(12);
  for (const std::int64_t w : {2, 3, 7, 8, 16, 17, 28, 33, 34, 66})
    for (const bool ceil : {false, true})
      for (const bool f64 : {false, true}) {
        INFO("width " << w << " ceil " << ceil << " double " << f64);
        const std::int64_t h = 5;
        et::Tensor<double> xd = et::randint(0, 4, {2, 3, h, w}).to<double>() - 1.5;
        for (std::int64_t i = 0; i < xd.numel(); i += 11) xd.data()[i] = std::nan("");
        auto check = [&](const auto& x) {
          const auto [y, idx] = F::max_pool2d_with_indices(x, 2, 2, 0, 1, ceil);
          const std::int64_t oh = y.shape()[2], ow = y.shape()[3];
          for (std::int64_t p = 0; p < 6; ++p)
            for (std::int64_t r = 0; r < oh; ++r)
              for (std::int64_t c = 0; c < ow; ++c) {
                double m = -INFINITY;
                std::int64_t best = 2 * r * w + 2 * c;
                for (std::int64_t dy = 0; dy < 2; ++dy)
                  for (std::int64_t dx = 0; dx < 2; ++dx) {
                    const std::int64_t yy = 2 * r + dy, xx = 2 * c + dx;
                    if (yy >= h || xx >= w) continue;
                    const double v = xd.data()[p * h * w + yy * w + xx];
                    if (v > m || std::isnan(v)) {
                      m = v;
                      best = yy * w + xx;
                    }
                  }
                const std::int64_t o = (p * oh + r) * ow + c;
                const double got = static_cast<double>(y.value().data()[o]);
                CHECK((got == m || (std::isnan(got) && std::isnan(m))));
                CHECK(idx.data()[o] == best);
              }
        };
        if (f64)
          check(et::Var<double>(xd, true));
        else
          check(et::Var<float>(xd.to<float>(), true));
      }
}
