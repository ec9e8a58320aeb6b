// softmax and log_softmax on Tensor<T, cuda> (and cuda expressions), forward and autograd
// backward through Var<float, cuda>, against the CPU backend on the same inputs.
#include "cuda/support.hpp"

#include <cmath>
#include <limits>

namespace et = etna;
using et::test::gpu;

TEST_CASE("cuda softmax and log_softmax match the cpu along every dim") {
  et::manual_seed(17);
  const et::Tensor<float> x = et::randn<float>({6, 37, 19}) * 4.f;
  const auto d = x.to<gpu>();
  for (int dim : {0, 1, 2, -1, -3}) {
    INFO("dim " << dim);
    ETNA_REQUIRE_MATCHES_CPU(et::softmax(d, dim), et::softmax(x, dim), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(et::log_softmax(d, dim), et::log_softmax(x, dim), 1e-5);
  }
}

TEST_CASE("cuda softmax of long rows, views and expressions") {
  et::manual_seed(19);
  // Rows longer than a block (the GPU's block-per-row kernel strides over them).
  const et::Tensor<float> wide = et::randn<float>({5, 5000}) * 10.f;
  const auto dw = wide.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::softmax(dw, 1), et::softmax(wide, 1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::log_softmax(dw, -1), et::log_softmax(wide, -1), 1e-5);
  // Many short rows (a classifier's logits).
  const et::Tensor<float> logits = et::randn<float>({4096, 10});
  ETNA_REQUIRE_MATCHES_CPU(et::log_softmax(logits.to<gpu>(), 1), et::log_softmax(logits, 1), 1e-5);
  // Few long columns: softmax along a leading dim (the GPU's column-block kernel).
  const et::Tensor<float> tall = et::randn<float>({4, 700, 45}) * 3.f;
  ETNA_REQUIRE_MATCHES_CPU(et::softmax(tall.to<gpu>(), 1), et::softmax(tall, 1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::log_softmax(tall.to<gpu>(), 0), et::log_softmax(tall, 0), 1e-5);
  // A transposed view and an expression are made contiguous first.
  ETNA_REQUIRE_MATCHES_CPU(et::softmax(dw.t(), 0), et::softmax(wide.t(), 0), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::softmax(dw * 0.5f + 1.f, 1), et::softmax(wide * 0.5f + 1.f, 1), 1e-5);
  // double works too.
  const et::Tensor<double> xd = et::randn<double>({3, 7, 11});
  ETNA_REQUIRE_MATCHES_CPU(et::log_softmax(xd.to<gpu>(), 1), et::log_softmax(xd, 1), 1e-12);
}

TEST_CASE("cuda softmax is stable and propagates NaN like the cpu") {
  auto x = et::zeros<float>({3, 4});
  x(0, 0) = 1000.f;  // exp would overflow without the shift
  x(0, 1) = 999.f;
  x(1, 2) = std::numeric_limits<float>::quiet_NaN();
  x(2, 3) = -1000.f;
  const auto got = et::softmax(x.to<gpu>(), 1).to<et::cpu>();
  const auto want = et::softmax(x, 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      if (std::isnan(want(i, j))) CHECK(std::isnan(got(i, j)));
      else CHECK(got(i, j) == Approx(want(i, j)).margin(1e-7));
    }
  CHECK_THROWS_WITH(et::softmax(x.to<gpu>(), 2),
                    "softmax: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
}

TEST_CASE("cuda softmax backward matches the cpu") {
  et::manual_seed(29);
  const et::Tensor<float> x = et::randn<float>({4, 9, 13});
  for (int dim : {0, 1, 2}) {
    for (bool log : {false, true}) {
      INFO("dim " << dim << " log " << log);
      const et::Var<float> xc(x.clone(), true);
      const et::Var<float, gpu> xg(x.to<gpu>(), true);
      const et::Tensor<float> w = et::randn<float>(x.shape());
      const auto yc = log ? et::log_softmax(xc * 2.f, dim) : et::softmax(xc * 2.f, dim);
      const auto yg = log ? et::log_softmax(xg * 2.f, dim) : et::softmax(xg * 2.f, dim);
      ETNA_REQUIRE_MATCHES_CPU(yg.value(), yc.value(), 1e-5);
      et::sum(yc * et::Var<float>(w)).backward();
      et::sum(yg * et::Var<float, gpu>(w.to<gpu>())).backward();
      ETNA_REQUIRE_MATCHES_CPU(xg.grad(), xc.grad(), 1e-5);
    }
  }
  // Long rows take the GPU's block-per-row backward, long columns its column-block one.
  const et::Tensor<float> wide = et::randn<float>({3, 3000});
  const et::Var<float> xc(wide.clone(), true);
  const et::Var<float, gpu> xg(wide.to<gpu>(), true);
  const et::Tensor<float> w = et::randn<float>(wide.shape());
  et::sum(et::log_softmax(xc, 1) * et::Var<float>(w)).backward();
  et::sum(et::log_softmax(xg, 1) * et::Var<float, gpu>(w.to<gpu>())).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), xc.grad(), 1e-5);
  const et::Var<float> tc(wide.t().contiguous(), true);
  const et::Var<float, gpu> tg(wide.t().contiguous().to<gpu>(), true);
  et::sum(et::softmax(tc, 0) * et::Var<float>(w.t().contiguous())).backward();
  et::sum(et::softmax(tg, 0) * et::Var<float, gpu>(w.t().contiguous().to<gpu>())).backward();
  ETNA_REQUIRE_MATCHES_CPU(tg.grad(), tc.grad(), 1e-5);
}
