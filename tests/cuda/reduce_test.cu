// Reductions on Tensor<T, cuda> (and cuda expressions), forward and autograd backward, against
// the CPU backend on the same inputs.
#include "cuda/support.hpp"

#include <limits>
#include <string>
#include <vector>

namespace et = etna;
using et::test::gpu;
using Dims = std::vector<std::int64_t>;

namespace {

// Runs one reduction call on the device and the CPU and compares (exactly for integers).
template <class F>
void check_same(const et::Tensor<float>& x, F&& f, double tol = 1e-5) {
  const auto d = x.to<gpu>();
  const auto dev = f(d);
  const auto ref = f(x);
  ETNA_REQUIRE_MATCHES_CPU(dev, ref, tol);
}

// Every calling form: all elements, one dim, a negative dim, lists, keepdim both ways.
#define ETNA_CHECK_FORMS(op)                                                               \
  do {                                                                                     \
    check_same(x, [](const auto& t) { return et::op(t); });                                \
    for (bool keep : {false, true}) {                                                      \
      INFO(#op " keepdim " << keep);                                                       \
      check_same(x, [keep](const auto& t) { return et::op(t, 0, keep); });                 \
      check_same(x, [keep](const auto& t) { return et::op(t, -1, keep); });                \
      check_same(x, [keep](const auto& t) { return et::op(t, 1, keep); });                 \
      check_same(x, [keep](const auto& t) { return et::op(t, Dims{0, 2}, keep); });        \
      check_same(x, [keep](const auto& t) { return et::op(t, Dims{-1, 1}, keep); });       \
      check_same(x, [keep](const auto& t) { return et::op(t, Dims{}, keep); });            \
    }                                                                                      \
  } while (0)

}  // namespace

TEST_CASE("cuda sum, mean, prod, max and min match the cpu in every form") {
  et::manual_seed(11);
  const et::Tensor<float> x = et::randn<float>({7, 33, 65});
  ETNA_CHECK_FORMS(sum);
  ETNA_CHECK_FORMS(mean);
  ETNA_CHECK_FORMS(max);
  ETNA_CHECK_FORMS(min);
  const et::Tensor<float> small = et::rand<float>({4, 5, 6}) + 0.5f;  // prod stays finite
  {
    const auto& x = small;
    ETNA_CHECK_FORMS(prod);
  }
}

TEST_CASE("cuda argmax and argmin pick the first of ties like the cpu") {
  et::manual_seed(3);
  // Few distinct values: every row has ties.
  const et::Tensor<float> x = et::randint<float>(0, 3, {9, 40, 33});
  check_same(x, [](const auto& a) { return et::argmax(a); });
  check_same(x, [](const auto& a) { return et::argmin(a); });
  for (int d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      check_same(x, [=](const auto& a) { return et::argmax(a, d, keep); });
      check_same(x, [=](const auto& a) { return et::argmin(a, d, keep); });
    }
  // A long row (the block kernel on a GPU) with its maximum repeated far apart.
  auto row = et::zeros<float>({3, 100000});
  row(1, 7) = 5.f;
  row(1, 99990) = 5.f;
  row(2, 50000) = -1.f;
  row(2, 12) = -1.f;
  const auto d = row.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::argmax(d, 1), et::argmax(row, 1), 1e-9);
  ETNA_REQUIRE_MATCHES_CPU(et::argmin(d, 1), et::argmin(row, 1), 1e-9);
  ETNA_REQUIRE_MATCHES_CPU(et::argmax(d), et::argmax(row), 1e-9);
  CHECK(et::argmax(d).item() == 100007);
  // NaN counts as the extreme and propagates through max.
  row(0, 9) = std::numeric_limits<float>::quiet_NaN();
  const auto dn = row.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::argmax(dn, 1), et::argmax(row, 1), 1e-9);
  CHECK(std::isnan(et::max(dn).item()));
}

TEST_CASE("cuda reductions of non-contiguous inputs and of expressions") {
  et::manual_seed(5);
  const et::Tensor<float> x = et::randn<float>({24, 31, 10});
  const auto d = x.to<gpu>();
  // Transposed and sliced views are read through their strides.
  ETNA_REQUIRE_MATCHES_CPU(et::sum(d.transpose(0, 2), 1), et::sum(x.transpose(0, 2), 1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::max(d.transpose(1, 2), Dims{0, 2}, true),
                           et::max(x.transpose(1, 2), Dims{0, 2}, true), 1e-6);
  ETNA_REQUIRE_MATCHES_CPU(et::argmax(d.transpose(0, 1), 0), et::argmax(x.transpose(0, 1), 0),
                           1e-9);
  // An expression is evaluated inside the reduction (one pass).
  const et::Tensor<float> m = et::mean(x, 1, true);
  const et::Tensor<float, gpu> dm = et::mean(d, 1, true);
  ETNA_REQUIRE_MATCHES_CPU(et::sum(et::square(d - dm), 1), et::sum(et::square(x - m), 1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::sum(d * 2.f + 1.f), et::sum(x * 2.f + 1.f), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::max(et::abs(d), -1), et::max(et::abs(x), -1), 1e-6);
  ETNA_REQUIRE_MATCHES_CPU(et::argmin(et::exp(d) - d, 0), et::argmin(et::exp(x) - x, 0), 1e-9);
}

TEST_CASE("cuda long reductions: full sums, leading-dim and inner-dim sums") {
  et::manual_seed(9);
  const et::Tensor<float> big = et::randn<float>({1 << 21});
  const auto d = big.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::sum(d), et::sum(big), 1e-4);  // relative to |sum| ~ 1e3
  ETNA_REQUIRE_MATCHES_CPU(et::mean(et::square(d)), et::mean(et::square(big)), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::max(d), et::max(big), 1e-7);
  const et::Tensor<float> wide = et::rand<float>({4096, 300});  // bias-gradient shape
  const auto dw = wide.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::sum(dw, 0), et::sum(wide, 0), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::sum(dw, 1), et::sum(wide, 1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::mean(dw.reshape({64, 64, 300}), Dims{0, 2}), et::mean(wide.reshape({64, 64, 300}), Dims{0, 2}), 1e-5);
}

TEST_CASE("cuda var, std, logsumexp and norm match the cpu") {
  et::manual_seed(13);
  const et::Tensor<float> x = et::randn<float>({6, 17, 40});
  const auto d = x.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::var(d), et::var(x), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::std(d, 1, true, 0), et::std(x, 1, true, 0), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::var(d, Dims{0, -1}), et::var(x, Dims{0, -1}), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::logsumexp(d, -1), et::logsumexp(x, -1), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(et::logsumexp(d, Dims{0, 1}, true), et::logsumexp(x, Dims{0, 1}, true), 1e-5);
  for (double p : {1.0, 2.0, 3.0, std::numeric_limits<double>::infinity()}) {
    INFO("p = " << p);
    ETNA_REQUIRE_MATCHES_CPU(et::norm(d, p), et::norm(x, p), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(et::norm(d, p, 1, true), et::norm(x, p, 1, true), 1e-5);
  }
  // Infinite rows: logsumexp shifts by 0 instead of producing NaN.
  auto inf = et::zeros<float>({3, 4});
  inf(0, 1) = std::numeric_limits<float>::infinity();
  inf.assign(where(et::arange<float>(0, 12).reshape({3, 4}) >= 4.f, -std::numeric_limits<float>::infinity(), inf));
  inf(2, 3) = 1.f;
  // (compared exactly: the relative-error helper treats inf - inf as a mismatch)
  const auto got = et::logsumexp(inf.to<gpu>(), 1).to<et::cpu>();
  const auto want = et::logsumexp(inf, 1);
  for (int i = 0; i < 3; ++i) CHECK(got(i) == Approx(want(i)));
  CHECK(got(0) == std::numeric_limits<float>::infinity());
  CHECK(got(1) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("cuda integer reductions and empty dimensions") {
  const auto xi = et::arange<std::int32_t>(0, 60).reshape({3, 4, 5});
  const auto di = xi.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::sum(di, 1), et::sum(xi, 1), 1e-12);  // int64 result
  ETNA_REQUIRE_MATCHES_CPU(et::max(di, Dims{0, 2}), et::max(xi, Dims{0, 2}), 1e-12);
  const et::Tensor<bool> xb = xi > 30;
  ETNA_REQUIRE_MATCHES_CPU(et::sum(xb.to<gpu>()), et::sum(xb), 1e-12);

  const auto empty = et::zeros<float>({3, 0, 2});
  const auto de = empty.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(et::sum(de, 1), et::sum(empty, 1), 1e-12);
  ETNA_REQUIRE_MATCHES_CPU(et::prod(de, 1), et::prod(empty, 1), 1e-12);
  CHECK(et::sum(de, 2).shape() == et::Shape{3, 0});
  CHECK(std::isnan(et::mean(de).item()));
  CHECK_THROWS_WITH(et::max(de, 1), "max: cannot reduce over dimension 1 of size 0 (shape [3, 0, 2])");
  CHECK_THROWS_WITH(et::argmax(de), "argmax: cannot reduce an empty tensor (shape [3, 0, 2])");
  CHECK_THROWS_WITH(et::sum(de, 3), "sum: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
  CHECK_THROWS_AS(et::sum(de, Dims{1, -2}), et::value_error);
  CHECK_THROWS_AS(et::norm(de, -1.0), et::value_error);
}

// ---- backward through Var<float, cuda>, against the same graph on the CPU ------------------

namespace {

// loss = sum(w * op(x)) on both devices; compares the value and x's gradient.
template <class F>
void check_grad(const et::Tensor<float>& x, F&& op, double tol = 1e-5) {
  const et::Var<float> xc(x.clone(), true);
  const et::Var<float, gpu> xd(x.to<gpu>(), true);
  const auto yc = op(xc);
  const auto yd = op(xd);
  ETNA_REQUIRE_MATCHES_CPU(yd.value(), yc.value(), tol);
  const et::Tensor<float> w = et::rand<float>(yc.shape()) + 0.5f;
  et::sum(yc * et::Var<float>(w)).backward();
  et::sum(yd * et::Var<float, gpu>(w.to<gpu>())).backward();
  ETNA_REQUIRE_MATCHES_CPU(xd.grad(), xc.grad(), tol);
}

}  // namespace

TEST_CASE("cuda reduction backward matches the cpu") {
  et::manual_seed(21);
  const et::Tensor<float> x = et::randn<float>({5, 8, 6});
  check_grad(x, [](const auto& v) { return et::sum(v, 1); });
  check_grad(x, [](const auto& v) { return et::mean(v, Dims{0, 2}, true); });
  check_grad(x, [](const auto& v) { return et::var(v, -1); });
  check_grad(x, [](const auto& v) { return et::std(v, Dims{0, 1}); });
  check_grad(x, [](const auto& v) { return et::logsumexp(v, 1, true); });
  check_grad(x, [](const auto& v) { return et::norm(v, 2.0, 2); });
  check_grad(x, [](const auto& v) { return et::norm(v, 3.0, 0); });
  check_grad(x, [](const auto& v) { return et::norm(v, 1.0, Dims{0, 1}); });
  check_grad(x, [](const auto& v) { return et::norm(v, std::numeric_limits<double>::infinity(), 1); });
  check_grad(x, [](const auto& v) { return et::prod(v, 1); });
  check_grad(x, [](const auto& v) { return et::max(v, 1); });
  check_grad(x, [](const auto& v) { return et::amin(v, Dims{0, 2}); });
  check_grad(x, [](const auto& v) { return et::max(v * 2.f); });
  const et::Tensor<float> ties = et::randint<float>(0, 2, {4, 10});
  check_grad(ties, [](const auto& v) { return et::max(v, 1); });
  check_grad(ties, [](const auto& v) { return et::amax(v, 1); });
  const et::Var<float, gpu> xd(x.to<gpu>(), true);
  ETNA_REQUIRE_MATCHES_CPU(et::argmax(xd * 2.f, 1), et::argmax(x * 2.f, 1), 1e-9);
}

