// Tensor<T, cuda>: storage, transfers, element-wise kernels, conversions, graphs, errors.
#include "cuda/support.hpp"

namespace et = etna;
using et::test::gpu;

TEST_CASE("cuda tensor round trip keeps values and shape") {
  const auto host = et::arange<float>(0, 24).reshape({2, 3, 4});
  const et::Tensor<float, gpu> dev = host.to<gpu>();
  CHECK(dev.shape() == host.shape());
  CHECK(dev.is_contiguous());
  const auto back = dev.to<et::cpu>();
  CHECK(std::equal(back.begin(), back.end(), host.begin()));
  // A non-contiguous host view is made contiguous on the way.
  const auto back_t = host.transpose(0, 2).to<gpu>().to<et::cpu>();
  CHECK(back_t.shape() == et::Shape{4, 3, 2});
  CHECK(back_t(3, 1, 0) == host(0, 1, 3));
}

TEST_CASE("cuda element-wise expressions match the cpu backend") {
  et::manual_seed(7);
  const auto a = et::randn<float>({33, 65});
  const auto b = et::randn<float>({65});
  const auto c = et::rand<float>({33, 1});
  const auto da = a.to<gpu>(), db = b.to<gpu>(), dc = c.to<gpu>();
  SECTION("same shape, fused chain") {
    et::Tensor<float, gpu> y = da * da + et::exp(da) * 2.f - et::tanh(da);
    et::Tensor<float> ref = a * a + et::exp(a) * 2.f - et::tanh(a);
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-5);
  }
  SECTION("broadcast row and column") {
    et::Tensor<float, gpu> y = et::sigmoid(da + db) * dc;
    et::Tensor<float> ref = et::sigmoid(a + b) * c;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-5);
  }
  SECTION("strided operands and destination") {
    et::Tensor<float, gpu> y = da.t() * 3.f + 1.f;
    et::Tensor<float> ref = a.t() * 3.f + 1.f;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-5);
    auto dst = et::zeros<float, gpu>({65, 33});
    dst.t().assign(da * 2.f);  // writes through a transposed view
    et::Tensor<float> ref2 = et::Tensor<float>(a * 2.f).t() * 1.f;
    ETNA_REQUIRE_MATCHES_CPU(dst, ref2, 1e-6);
  }
  SECTION("in-place update aliasing its own input") {
    auto y = da.clone();
    y.assign(y * 2.f + 1.f);
    et::Tensor<float> ref = a * 2.f + 1.f;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-6);
  }
  SECTION("four-dimensional broadcast") {
    const auto x = et::randn<float>({2, 3, 4, 5});
    const auto w = et::randn<float>({3, 1, 5});
    et::Tensor<float, gpu> y = x.to<gpu>() * w.to<gpu>();
    et::Tensor<float> ref = x * w;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-6);
  }
}

TEST_CASE("cuda large flat expressions take the vector path and match the cpu") {
  et::manual_seed(11);
  const std::int64_t n = 100003;  // not a multiple of the 4 lanes: a tail remains
  const auto a = et::randn<float>({n}), b = et::rand<float>({n});
  const auto da = a.to<gpu>(), db = b.to<gpu>();
  SECTION("aligned operands, scalar broadcast and a comparison") {
    et::Tensor<float, gpu> y = et::where(da > 0.f, da * db, et::exp(db)) + 2.f;
    et::Tensor<float> ref = et::where(a > 0.f, a * b, et::exp(b)) + 2.f;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-6);
  }
  SECTION("a broadcast one-element tensor") {
    const auto s = et::full<float>({1}, 3.f);
    et::Tensor<float, gpu> y = da * s.to<gpu>();
    et::Tensor<float> ref = a * s;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-6);
  }
  SECTION("misaligned views fall back to the element kernel") {
    et::Tensor<float, gpu> y = da.slice(0, 1, n) + db.slice(0, 0, n - 1);
    et::Tensor<float> ref = a.slice(0, 1, n) + b.slice(0, 0, n - 1);
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-6);
    auto dst = et::zeros<float, gpu>({n + 1});
    dst.slice(0, 1, n + 1).assign(da * 2.f);
    et::Tensor<float> ref2 = a * 2.f;
    const et::Tensor<float, gpu> written = dst.slice(0, 1, n + 1) * 1.f;
    ETNA_REQUIRE_MATCHES_CPU(written, ref2, 1e-6);
  }
  SECTION("double and integer element types") {
    const auto ad = a.to<double>();
    et::Tensor<double, gpu> y = et::tanh(ad.to<gpu>()) * 0.5;
    et::Tensor<double> ref = et::tanh(ad) * 0.5;
    ETNA_REQUIRE_MATCHES_CPU(y, ref, 1e-12);
    const auto i = et::randint(0, 100, {n});
    et::Tensor<std::int64_t, gpu> yi = i.to<gpu>() * std::int64_t{3} + std::int64_t{1};
    et::Tensor<std::int64_t> refi = i * std::int64_t{3} + std::int64_t{1};
    ETNA_REQUIRE_MATCHES_CPU(yi, refi, 0.5);
  }
}

TEST_CASE("cuda factories, item and conversions") {
  auto z = et::zeros<float, gpu>({3, 4});
  auto o = et::ones<double, gpu>({5});
  auto f = et::full<std::int64_t, gpu>({2}, 7);
  CHECK(z.to<et::cpu>()(2, 3) == 0.f);
  CHECK(o.to<et::cpu>()(4) == 1.0);
  CHECK(f.to<et::cpu>()(1) == 7);
  CHECK(et::full<float, gpu>({1}, 2.5f).item() == 2.5f);
  const auto d = et::arange<float>(0, 4).to<gpu>().to<double>();
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(d)>, et::Tensor<double, gpu>>);
  CHECK(d.to<et::cpu>()(3) == 3.0);
  CHECK_THROWS_WITH(z.item(), Catch::Contains("12 elements"));
}

TEST_CASE("cuda memory statistics follow tensor lifetimes") {
  const std::size_t before = gpu::memory_allocated();
  {
    auto t = et::empty<float, gpu>({1024, 1024});
    CHECK(gpu::memory_allocated() >= before + 4 * 1024 * 1024);
    CHECK(gpu::memory_reserved() >= gpu::memory_allocated());
  }
  CHECK(gpu::memory_allocated() == before);
  gpu::synchronize();
  gpu::empty_cache();
}

TEST_CASE("cuda graph replays captured element-wise work") {
  auto x = et::full<float, gpu>({1000}, 1.f);
  auto y = et::zeros<float, gpu>({1000});
  y.assign(x * 2.f);  // once eagerly
  gpu::Graph g = gpu::capture([&] { y.assign(y + x * 2.f); });
  CHECK(!g.empty());
  g.replay();
  g.replay();
  gpu::synchronize();
  // 2 eagerly; capturing runs nothing; each replay adds 2.
  CHECK(y.to<et::cpu>()(999) == 6.f);
  gpu::Graph empty;
  CHECK_THROWS_WITH(empty.replay(), Catch::Contains("empty"));
}
