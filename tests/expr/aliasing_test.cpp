// The aliasing rules of assign() and `t = expr` (etna/backend/cpu/evaluate.hpp,
// assign_expression; core/tensor.hpp, operator=): reading the destination element for element
// is done in place, any other overlap goes through a temporary, expanded destinations are
// refused; large evaluations split over threads give the single-thread result.
#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

namespace {
et::Tensor<float> iota(std::int64_t n) { return et::arange<float>(0, static_cast<double>(n)); }

// Restores the thread count when a test ends, whatever happens.
struct ThreadCount {
  int saved = et::get_num_threads();
  ~ThreadCount() { et::set_num_threads(saved); }
};
}  // namespace

TEST_CASE("assign reading the destination element for element works in place",
          "[expr][aliasing]") {
  auto a = iota(100);
  const float* p = a.data();
  a.assign(a * 2.f + 1.f);
  CHECK(a.data() == p);
  ETNA_CHECK_CLOSE(a, iota(100) * 2.f + 1.f, 0, 0);
  // the same view through another handle counts as the destination too
  auto alias = a;
  a.assign(alias - 1.f);
  ETNA_CHECK_CLOSE(a, iota(100) * 2.f, 0, 0);
}

TEST_CASE("assign from a transposed view of itself goes through a temporary",
          "[expr][aliasing]") {
  auto a = iota(16).reshape({4, 4});
  const auto expected = iota(16).reshape({4, 4}).t().clone();
  a.assign(a.transpose());
  ETNA_CHECK_CLOSE(a, expected, 0, 0);
  auto b = iota(64 * 64).reshape({64, 64});  // large enough for SIMD rows
  b.assign(b.t() + b);
  const auto c = iota(64 * 64).reshape({64, 64});
  ETNA_CHECK_CLOSE(b, c.t() + c, 0, 0);
}

TEST_CASE("overlapping shifted slices", "[expr][aliasing]") {
  const std::int64_t n = 1000;
  SECTION("shift right: a[1:] = a[:-1]") {
    auto a = iota(n);
    a.slice(0, 1, n).assign(a.slice(0, 0, n - 1));
    CHECK(a(0) == 0.f);
    for (std::int64_t i = 1; i < n; ++i) REQUIRE(a(i) == static_cast<float>(i - 1));
  }
  SECTION("shift left: a[:-1] = a[1:] * 2") {
    auto a = iota(n);
    a.slice(0, 0, n - 1).assign(a.slice(0, 1, n) * 2.f);
    for (std::int64_t i = 0; i + 1 < n; ++i) REQUIRE(a(i) == static_cast<float>(2 * (i + 1)));
    CHECK(a(n - 1) == static_cast<float>(n - 1));
  }
  SECTION("broadcasting a row of the destination into all rows") {
    auto m = iota(12).reshape({3, 4});
    m.assign(m[1] * 10.f);  // row 1 is overwritten while being read unless a temporary is used
    ETNA_CHECK_CLOSE(m, et::tensor<float>({{40, 50, 60, 70}, {40, 50, 60, 70},
                                           {40, 50, 60, 70}}),
                     0, 0);
  }
}

TEST_CASE("writing into strided views", "[expr][aliasing]") {
  const std::int64_t n = 40;
  auto a = et::zeros<float>({3, n});
  a.slice(1, 0, n, 2).assign(et::ones<float>({3, n / 2}) * 5.f);
  a.slice(1, 1, n, 2).fill(-1.f);
  for (std::int64_t r = 0; r < 3; ++r)
    for (std::int64_t j = 0; j < n; ++j) REQUIRE(a(r, j) == (j % 2 == 0 ? 5.f : -1.f));
  // a strided view reading itself element for element
  auto even = a.slice(1, 0, n, 2);
  even.assign(even * 2.f + a.slice(1, 1, n, 2));
  for (std::int64_t j = 0; j < n; ++j) REQUIRE(a(1, j) == (j % 2 == 0 ? 9.f : -1.f));
  // a column (inner stride n) written from a broadcast scalar expression
  a.select(1, 3).assign(et::tensor<float>(7.f) + 0.f);
  CHECK(a(0, 3) == 7.f);
  CHECK(a(2, 3) == 7.f);
  CHECK(a(2, 2) == 9.f);
}

TEST_CASE("assigning into an expanded view is refused", "[expr][aliasing]") {
  const auto row = et::zeros<float>({4});
  const auto e = row.expand({3, 4});
  CHECK_THROWS_AS(e.assign(et::ones<float>({3, 4})), et::value_error);
  CHECK_THROWS_WITH(e.fill(1.f),
                    "assign: the destination of shape [3, 4] is an expanded view (stride 0): "
                    "several elements share one memory location; call contiguous() or clone() "
                    "first");
  // a size-1 dimension with stride 0 is not a problem
  auto one = et::zeros<float>({1}).expand({1, 1});
  one.fill(2.f);
  CHECK(one.item() == 2.f);
}

TEST_CASE("t = expr reuses storage only when t is the sole handle", "[expr][aliasing]") {
  const auto x = iota(64);
  SECTION("sole handle, same shape: same storage") {
    et::Tensor<float> t = et::zeros<float>({64});
    const float* p = t.data();
    t = x * 3.f;
    CHECK(t.data() == p);
    ETNA_CHECK_CLOSE(t, x * 3.f, 0, 0);
  }
  SECTION("a second handle: fresh storage, the other handle keeps the old values") {
    et::Tensor<float> t = et::zeros<float>({64});
    const auto keep = t;
    const float* p = t.data();
    t = x * 3.f;
    CHECK(t.data() != p);
    CHECK(keep.data() == p);
    ETNA_CHECK_CLOSE(keep, et::zeros<float>({64}), 0, 0);
    ETNA_CHECK_CLOSE(t, x * 3.f, 0, 0);
  }
  SECTION("a view shares the storage: fresh storage") {
    et::Tensor<float> t = et::zeros<float>({64});
    const auto view = t.slice(0, 0, 8);
    const float* p = t.data();
    t = x + 1.f;
    CHECK(t.data() != p);
    ETNA_CHECK_CLOSE(view, et::zeros<float>({8}), 0, 0);
  }
  SECTION("different shape: fresh storage of the new shape") {
    et::Tensor<float> t = et::zeros<float>({8});
    t = x * 1.f;
    CHECK(t.shape() == et::Shape{64});
    ETNA_CHECK_CLOSE(t, x, 0, 0);
  }
  SECTION("non-contiguous: fresh contiguous storage") {
    et::Tensor<float> t = et::zeros<float>({8, 8}).t();
    t = x.reshape({8, 8}) * 1.f;
    CHECK(t.is_contiguous());
    ETNA_CHECK_CLOSE(t, x.reshape({8, 8}), 0, 0);
  }
  SECTION("an expression reading t itself holds a second handle: fresh storage, right values") {
    et::Tensor<float> t = iota(64);
    const float* p = t.data();
    t = t * 2.f + t;
    CHECK(t.data() != p);
    ETNA_CHECK_CLOSE(t, x * 3.f, 0, 0);
  }
}

TEST_CASE("large evaluations on several threads equal the single-thread result",
          "[expr][aliasing][threads]") {
  ThreadCount restore;
  et::manual_seed(7);
  const std::int64_t rows = 1025, cols = 1031;  // > 1M elements, odd sizes (SIMD tails)
  const auto a = et::randn<float>({rows, cols});
  const auto b = et::randn<float>({cols});
  const auto c = et::randn<float>({rows, 1});
  auto run = [&](int threads) {
    et::set_num_threads(threads);
    et::Tensor<float> contiguous = et::exp(a) * 0.5f + et::tanh(a) - et::sigmoid(a * 2.f);
    et::Tensor<float> broadcast = a * b + c;
    et::Tensor<float> transposed = et::gelu(a.t()) + 1.f;
    auto inplace = a.clone();
    inplace.assign(inplace * inplace + b);
    return std::vector<et::Tensor<float>>{contiguous, broadcast, transposed, inplace};
  };
  const auto one = run(1), two = run(2), four = run(4);
  for (std::size_t k = 0; k < one.size(); ++k) {
    INFO("result " << k);
    ETNA_CHECK_CLOSE(two[k], one[k], 0, 0);
    ETNA_CHECK_CLOSE(four[k], one[k], 0, 0);
  }
  // spot-check the values themselves
  CHECK(one[1](5, 7) == a(5, 7) * b(7) + c(5, 0));
  CHECK(one[3](1024, 1030) == a(1024, 1030) * a(1024, 1030) + b(1030));
}
