// group_norm and the channel dropouts on the GPU: forward values and every gradient compared
// with the CPU backend on the same inputs; the same seed draws the same channel mask on both.
#include "cuda/support.hpp"

#include <etna/nn/functional/dropout2d.hpp>
#include <etna/nn/functional/group_norm.hpp>

namespace et = etna;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

template <class T>
et::Var<T, gpu> on_gpu(const et::Var<T>& v) {
  return et::Var<T, gpu>(v.value().template to<gpu>(), v.requires_grad());
}

template <class T>
void require_same_grad(const et::Var<T, gpu>& d, const et::Var<T>& h, double tol = 1e-5) {
  REQUIRE(d.grad().defined() == h.grad().defined());
  if (h.grad().defined()) ETNA_REQUIRE_MATCHES_CPU(d.grad(), h.grad(), tol);
}

}  // namespace

TEST_CASE("cuda group_norm matches the cpu: values and gradients of x, weight and bias") {
  et::manual_seed(21);
  for (const et::Shape& s : {et::Shape{4, 6, 5, 7}, et::Shape{3, 6}, et::Shape{2, 6, 9}})
    for (std::int64_t groups : {1, 2, 6}) {
      INFO(s << " groups " << groups);
      const et::Var<float> x(et::randn<float>(s) * 2.f + 1.f, true);
      const et::Var<float> w(et::rand<float>({6}) + 0.5f, true), b(et::randn<float>({6}), true);
      const auto g = et::randn<float>(s);
      const auto dx = on_gpu(x), dw = on_gpu(w), db = on_gpu(b);
      const et::Var<float> y = F::group_norm(x, groups, w, b);
      const et::Var<float, gpu> dy = F::group_norm(dx, groups, dw, db);
      ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
      y.backward(g);
      dy.backward(g.to<gpu>());
      require_same_grad(dx, x);
      require_same_grad(dw, w);
      require_same_grad(db, b);
      // Without affine parameters.
      const et::Var<float> x2(x.value(), true);
      const auto dx2 = on_gpu(x2);
      const et::Var<float> y2 = F::group_norm(x2, groups);
      const et::Var<float, gpu> dy2 = F::group_norm(dx2, groups);
      ETNA_REQUIRE_MATCHES_CPU(dy2.value(), y2.value(), 1e-5);
      y2.backward(g);
      dy2.backward(g.to<gpu>());
      require_same_grad(dx2, x2);
    }
  const et::Var<float, gpu> bad(et::zeros<float>({2, 6, 3}).to<gpu>());
  CHECK_THROWS_WITH(F::group_norm(bad, 4),
                    "group_norm: num_channels 6 must be divisible by num_groups 4");
}

TEST_CASE("cuda dropout1d, dropout2d and dropout3d draw the cpu's channel mask") {
  const et::Tensor<float> x = et::randn<float>({6, 40, 3, 5});
  for (double p : {0.25, 0.5}) {
    INFO("p " << p);
    et::Generator gen(13), dgen(13);
    const et::Var<float> hx(x, true);
    const et::Var<float, gpu> dx(x.to<gpu>(), true);
    const et::Var<float> y = F::dropout2d(hx, p, true, gen);
    const et::Var<float, gpu> dy = F::dropout2d(dx, p, true, dgen);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-12);  // the same mask, bit for bit
    const auto g = et::randn<float>({6, 40, 3, 5});
    y.backward(g);
    dy.backward(g.to<gpu>());
    require_same_grad(dx, hx, 1e-12);
    // Whole channels: every element of a (n, c) plane is dropped or kept together.
    const auto host = dy.value().to<et::cpu>();
    std::int64_t dropped = 0;
    for (std::int64_t plane = 0; plane < 240; ++plane) {
      const float* v = host.data() + plane * 15;
      const bool zero = v[0] == 0.f;
      dropped += zero;
      for (int i = 0; i < 15; ++i) REQUIRE((v[i] == 0.f) == zero);
    }
    CHECK(std::abs(static_cast<double>(dropped) / 240 - p) < 0.12);
  }
  et::Generator gen(14), dgen(14);
  const et::Tensor<float> x1 = et::randn<float>({5, 8, 7});
  ETNA_REQUIRE_MATCHES_CPU(F::dropout1d(et::Var<float, gpu>(x1.to<gpu>()), 0.5, true, dgen).value(),
                           F::dropout1d(et::Var<float>(x1), 0.5, true, gen).value(), 1e-12);
  const et::Tensor<float> x3 = et::randn<float>({8, 2, 3, 4});  // unbatched [C, D, H, W]
  ETNA_REQUIRE_MATCHES_CPU(F::dropout3d(et::Var<float, gpu>(x3.to<gpu>()), 0.3, true, dgen).value(),
                           F::dropout3d(et::Var<float>(x3), 0.3, true, gen).value(), 1e-12);
  const et::Var<float, gpu> same(x.to<gpu>());
  CHECK(F::dropout2d(same, 0.5, false).impl_ptr() == same.impl_ptr());
}
