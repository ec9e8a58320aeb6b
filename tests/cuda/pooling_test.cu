// Pooling and interpolate on the GPU: every op's forward value, input gradient and (max pooling)
// indices compared with the CPU backend on the same inputs.
#include "cuda/support.hpp"
#include "etna/nn/functional/pooling.hpp"
#include "etna/nn/functional/upsample.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using et::test::gpu;
using Mode = F::InterpolationMode;

namespace {

// op on x on both devices: the outputs, then the gradients for one random upstream gradient.
template <class Op>
void check_op(const char* name, const et::Tensor<float>& x0, const Op& op) {
  INFO(name);
  const et::Var<float> x(x0, true);
  const et::Var<float, gpu> dx(x0.to<gpu>(), true);
  const et::Var<float> y = op(x);
  const et::Var<float, gpu> dy = op(dx);
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  const et::Tensor<float> g = et::randn<float>(y.shape());
  y.backward(g);
  dy.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(dx.grad(), x.grad(), 1e-5);
}

}  // namespace

TEST_CASE("cuda max_pool2d and max_pool1d match the cpu, indices included") {
  et::manual_seed(71);
  const auto x = et::randn<float>({2, 3, 9, 10});
  check_op("k2", et::randn<float>({4, 8, 32, 32}),
           [](const auto& v) { return F::max_pool2d(v, 2); });
  check_op("k3s2p1", x, [](const auto& v) { return F::max_pool2d(v, 3, 2, 1); });
  check_op("dilation", x, [](const auto& v) { return F::max_pool2d(v, 3, 1, 1, 2); });
  check_op("ceil", x, [](const auto& v) { return F::max_pool2d(v, {3, 2}, 2, {1, 0}, 1, true); });
  check_op("unbatched", et::randn<float>({3, 7, 6}),
           [](const auto& v) { return F::max_pool2d(v, 2, 1); });
  check_op("1d", et::randn<float>({2, 3, 11}),
           [](const auto& v) { return F::max_pool1d(v, 3, 2, 1, 1, true); });
  const auto [y, idx] = F::max_pool2d_with_indices(x, 3, 2, 1, 1, true);
  const auto [dy, didx] = F::max_pool2d_with_indices(x.to<gpu>(), 3, 2, 1, 1, true);
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(didx, idx, 0.5);
  // NaN propagates on the device too, with the same index.
  auto xn = x.clone();
  xn(0, 0, 1, 1) = NAN;
  const auto [ny, nidx] = F::max_pool2d_with_indices(xn, 2);
  const auto [dny, dnidx] = F::max_pool2d_with_indices(xn.to<gpu>(), 2);
  ETNA_REQUIRE_MATCHES_CPU(dny.value(), ny.value(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dnidx, nidx, 0.5);
  CHECK(std::isnan(dny.value().to<et::cpu>()(0, 0, 0, 0)));
}

TEST_CASE("cuda avg_pool2d and avg_pool1d match the cpu") {
  et::manual_seed(72);
  const auto x = et::randn<float>({2, 3, 9, 10});
  check_op("k2", et::randn<float>({4, 8, 32, 32}),
           [](const auto& v) { return F::avg_pool2d(v, 2); });
  check_op("pad", x, [](const auto& v) { return F::avg_pool2d(v, 3, 2, 1); });
  check_op("pad_excl", x, [](const auto& v) { return F::avg_pool2d(v, 3, 2, 1, true, false); });
  check_op("divisor", x, [](const auto& v) {
    return F::avg_pool2d(v, {3, 2}, 1, 1, false, true, 3);
  });
  check_op("1d", et::randn<float>({3, 11}),
           [](const auto& v) { return F::avg_pool1d(v, 4, 3, 2, true, false); });
}

TEST_CASE("cuda adaptive pooling matches the cpu") {
  et::manual_seed(73);
  const auto x = et::randn<float>({2, 3, 7, 5});
  check_op("avg", x, [](const auto& v) { return F::adaptive_avg_pool2d(v, {3, 4}); });
  check_op("avg_1", x, [](const auto& v) { return F::adaptive_avg_pool2d(v, 1); });
  check_op("max", x, [](const auto& v) { return F::adaptive_max_pool2d(v, {3, 2}); });
  check_op("max_up", x, [](const auto& v) { return F::adaptive_max_pool2d(v, {9, 6}); });
  check_op("avg_1d", et::randn<float>({2, 3, 10}),
           [](const auto& v) { return F::adaptive_avg_pool1d(v, 4); });
}

TEST_CASE("cuda interpolate matches the cpu") {
  et::manual_seed(74);
  const auto x = et::randn<float>({2, 3, 6, 7});
  check_op("nearest_size", x, [](const auto& v) { return F::interpolate(v, {9, 5}); });
  check_op("nearest_s2", x, [](const auto& v) { return F::interpolate(v, 2.0); });
  check_op("nearest_s15", x, [](const auto& v) { return F::interpolate(v, 1.5); });
  check_op("nearest_down", x, [](const auto& v) { return F::interpolate(v, 0.5); });
  check_op("bilinear_up", x, [](const auto& v) {
    return F::interpolate(v, {13, 10}, Mode::bilinear);
  });
  check_op("bilinear_up_ac", x,
           [](const auto& v) { return F::interpolate(v, 2.0, Mode::bilinear, true); });
  check_op("bilinear_down", x, [](const auto& v) {
    return F::interpolate(v, {4, 3}, Mode::bilinear);
  });
  check_op("bilinear_down_ac", x, [](const auto& v) {
    return F::interpolate(v, std::pair{0.5, 0.7}, Mode::bilinear, true);
  });
  check_op("unbatched", et::randn<float>({3, 4, 5}),
           [](const auto& v) { return F::interpolate(v, 1.5, Mode::bilinear); });
}

// The device's gathers and the CPU's scatters are separate code: they agree over many window
// geometries (every kernel, stride, padding, dilation and ceil_mode combination below).
TEST_CASE("cuda pooling matches the cpu over a sweep of window geometries") {
  et::manual_seed(75);
  const auto x = et::randn<float>({1, 2, 7, 6});
  for (std::int64_t k = 1; k <= 4; ++k)
    for (std::int64_t s = 1; s <= 3; ++s)
      for (std::int64_t p = 0; p <= k / 2; ++p)
        for (std::int64_t d = 1; d <= 2; ++d)
          for (bool ceil : {false, true}) {
            const std::int64_t kw = k == 4 ? k : k + 1;  // non-square up to 4
            if (et::nn::pool_output_size(6, kw, s, p, d, ceil) < 1) continue;
            INFO("k " << k << "x" << kw << " s " << s << " p " << p << " d " << d << " ceil "
                      << ceil);
            check_op("max", x, [&](const auto& v) {
              return F::max_pool2d(v, {k, kw}, s, p, d, ceil);
            });
            if (d == 1)
              for (bool include_pad : {false, true})
                check_op("avg", x, [&](const auto& v) {
                  return F::avg_pool2d(v, k, s, p, ceil, include_pad);
                });
          }
  for (std::int64_t oh = 1; oh <= 9; ++oh)
    for (std::int64_t ow : {1, 4, 5, 8}) {
      INFO("adaptive " << oh << "x" << ow);
      check_op("adaptive_avg", x, [&](const auto& v) {
        return F::adaptive_avg_pool2d(v, {oh, ow});
      });
      check_op("adaptive_max", x, [&](const auto& v) {
        return F::adaptive_max_pool2d(v, {oh, ow});
      });
      check_op("nearest", x, [&](const auto& v) { return F::interpolate(v, {oh, ow + 3}); });
      check_op("bilinear", x, [&](const auto& v) {
        return F::interpolate(v, {oh, ow}, Mode::bilinear);
      });
      check_op("bilinear_ac", x, [&](const auto& v) {
        return F::interpolate(v, {oh + 2, ow}, Mode::bilinear, true);
      });
    }
}
