// matmul, mm, bmm and F::linear on the device (cuBLAS, or the CPU GEMM in the emulated build):
// layouts, broadcasting, 1-D rules, dtypes, errors and the TF32 switch, against the CPU backend.
#include "cuda/support.hpp"

#include <string>

namespace et = etna;
namespace F = etna::nn::functional;
using et::test::gpu;
using DeviceF = et::Tensor<float, gpu>;

namespace {

// matmul of the device copies of a and b (any views: they keep their layout on the device)
// against the CPU's matmul of a and b.
template <class T>
void check_matmul(const et::Tensor<T>& a, const et::Tensor<T>& b, double tol = 1e-5) {
  const et::Tensor<T, gpu> da = a.template to<gpu>(), db = b.template to<gpu>();
  const et::Tensor<T, gpu> y = et::matmul(da, db);
  const et::Tensor<T> ref = et::matmul(a, b);
  ETNA_REQUIRE_MATCHES_CPU(y, ref, tol);
}

// Long float32 dot products: cuBLAS and the CPU GEMM sum in different orders, so they differ by
// about sqrt(K) roundings (1.3e-5 seen for K = 257 on an H200). Both are held to the exact
// (double) product instead: the device may not be much worse than the CPU.
void check_long_product(const et::Tensor<float>& a, const et::Tensor<float>& b) {
  const et::Tensor<float, gpu> y = et::matmul(a.to<gpu>(), b.to<gpu>());
  const et::Tensor<double> exact = et::matmul(a.to<double>(), b.to<double>());
  const double device_err = et::test::max_relative_error(y.to<double>(), exact);
  const double cpu_err =
      et::test::max_relative_error(et::matmul(a, b).to<double>().to<gpu>(), exact);
  INFO("device error " << device_err << ", cpu error " << cpu_err);
  CHECK(device_err < 1e-4);
  CHECK(device_err <= 2 * cpu_err + 1e-6);
}

std::string error_of(const auto& f) {
  try {
    f();
  } catch (const et::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("cuda matmul 2-d shapes match the cpu") {
  et::manual_seed(11);
  for (auto [m, k, n] : {std::array<std::int64_t, 3>{64, 64, 64}, {300, 17, 5}, {5, 17, 300},
                         {1, 33, 70}, {70, 33, 1}, {1, 1, 1}}) {
    INFO(m << "x" << k << " @ " << k << "x" << n);
    check_matmul(et::randn<float>({m, k}), et::randn<float>({k, n}));
  }
  check_long_product(et::randn<float>({129, 257}), et::randn<float>({257, 65}));
  check_long_product(et::randn<float>({64, 1024}), et::randn<float>({1024, 48}));
}

TEST_CASE("cuda matmul strided operands use transpose flags or a copy") {
  et::manual_seed(12);
  const auto a = et::randn<float>({40, 30}), b = et::randn<float>({30, 20});
  const auto at = et::randn<float>({30, 40}), bt = et::randn<float>({20, 30});
  const auto da = a.to<gpu>(), db = b.to<gpu>(), dat = at.to<gpu>(), dbt = bt.to<gpu>();
  SECTION("transposed views") {
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(dat.t(), db)),
                             et::matmul(at.t(), b), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(da, dbt.t())),
                             et::matmul(a, bt.t()), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(dat.t(), dbt.t())),
                             et::matmul(at.t(), bt.t()), 1e-5);
  }
  SECTION("row slices with a leading dimension larger than the width") {
    const auto wide = et::randn<float>({40, 50});
    const auto dwide = wide.to<gpu>();
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(dwide.narrow(1, 5, 30), db)),
                             et::matmul(wide.narrow(1, 5, 30), b), 1e-5);
  }
  SECTION("no unit stride: every other column, and a stride-0 broadcast") {
    const auto wide = et::randn<float>({40, 60});
    const auto dwide = wide.to<gpu>();
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(dwide.slice(1, 0, 60, 2), db)),
                             et::matmul(wide.slice(1, 0, 60, 2), b), 1e-5);
    const auto row = et::randn<float>({1, 30});
    ETNA_REQUIRE_MATCHES_CPU(
        DeviceF(et::matmul(row.to<gpu>().expand({40, 30}), db)),
        et::matmul(row.expand({40, 30}), b), 1e-5);
  }
  SECTION("an expression operand is evaluated first") {
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::matmul(da * 2.f, db + 1.f)),
                             et::matmul(et::Tensor<float>(a * 2.f), et::Tensor<float>(b + 1.f)),
                             1e-5);
  }
  SECTION("a strided destination through gemm_2d with alpha and beta") {
    auto dst = et::randn<float>({40, 20});
    auto ddst = dst.to<gpu>();
    et::detail::gemm_2d(db.t(), da.t(), ddst.t(), 2.f, 0.5f);  // out^T = 2 (a b)^T + 0.5 out^T
    et::detail::gemm_2d(b.t(), a.t(), dst.t(), 2.f, 0.5f);
    ETNA_REQUIRE_MATCHES_CPU(ddst, dst, 1e-5);
    auto every_other = et::randn<float>({40, 40});
    auto devery = every_other.to<gpu>();
    et::detail::gemm_2d(da, db, devery.slice(1, 0, 40, 2), 1.f, 1.f);
    et::detail::gemm_2d(a, b, every_other.slice(1, 0, 40, 2), 1.f, 1.f);
    ETNA_REQUIRE_MATCHES_CPU(devery, every_other, 1e-5);
  }
}

TEST_CASE("cuda batched matmul with broadcast batches") {
  et::manual_seed(13);
  SECTION("same batch") { check_matmul(et::randn<float>({6, 9, 7}), et::randn<float>({6, 7, 5})); }
  SECTION("matrix times a batch and a batch times a matrix (stride-0 batches)") {
    check_matmul(et::randn<float>({9, 7}), et::randn<float>({4, 7, 5}));
    check_matmul(et::randn<float>({4, 9, 7}), et::randn<float>({7, 5}));
  }
  SECTION("broadcast over several dimensions") {
    check_matmul(et::randn<float>({3, 1, 9, 7}), et::randn<float>({1, 4, 7, 5}));
    check_matmul(et::randn<float>({2, 3, 1, 9, 7}), et::randn<float>({4, 7, 5}));
  }
  SECTION("permuted batches and transposed matrices") {
    const auto a = et::randn<float>({7, 4, 9}), b = et::randn<float>({4, 5, 7});
    const et::Tensor<float, gpu> y =
        et::matmul(a.to<gpu>().permute({1, 2, 0}), b.to<gpu>().transpose(1, 2));
    ETNA_REQUIRE_MATCHES_CPU(y, et::matmul(a.permute({1, 2, 0}), b.transpose(1, 2)), 1e-5);
  }
  SECTION("bmm and mm") {
    const auto a = et::randn<float>({3, 8, 6}), b = et::randn<float>({3, 6, 2});
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::bmm(a.to<gpu>(), b.to<gpu>())),
                             et::bmm(a, b), 1e-5);
    const auto c = et::randn<float>({8, 6}), d = et::randn<float>({6, 2});
    ETNA_REQUIRE_MATCHES_CPU(DeviceF(et::mm(c.to<gpu>(), d.to<gpu>())),
                             et::mm(c, d), 1e-5);
  }
  SECTION("empty batches and K = 0") {
    check_matmul(et::randn<float>({0, 3, 4}), et::randn<float>({4, 2}));
    check_matmul(et::randn<float>({2, 3, 0}), et::randn<float>({2, 0, 5}));
    check_matmul(et::randn<float>({3, 0}), et::randn<float>({0, 5}));
  }
}

TEST_CASE("cuda matmul 1-d rules") {
  et::manual_seed(14);
  const auto v = et::randn<float>({7}), w = et::randn<float>({7});
  const auto m = et::randn<float>({5, 7}), mt = et::randn<float>({7, 5});
  const auto batch = et::randn<float>({3, 7, 5});
  check_matmul(v, w);      // dot: 0-d
  check_matmul(m, v);      // [5]
  check_matmul(v, mt);     // [5]
  check_matmul(v, batch);  // [3, 5]
  check_matmul(batch.transpose(1, 2), v);  // [3, 5]
  const et::Tensor<float, gpu> dot = et::matmul(v.to<gpu>(), w.to<gpu>());
  CHECK(dot.dim() == 0);
  CHECK(dot.item() == Approx(et::matmul(v, w).item()).epsilon(1e-5));
}

TEST_CASE("cuda matmul in double and in integers") {
  et::manual_seed(15);
  check_matmul(et::randn<double>({33, 21}), et::randn<double>({21, 40}), 1e-12);
  check_matmul(et::randn<double>({2, 33, 21}), et::randn<double>({21, 4}).t().t(), 1e-12);
  // Integers run a plain kernel; results (overflow included) equal the CPU's exactly.
  const auto a = et::arange<std::int64_t>(0, 24).reshape({4, 6});
  const auto b = et::arange<std::int64_t>(-9, 9).reshape({6, 3});
  check_matmul(a, b, 0.5);
  const auto ai = et::arange<std::int32_t>(0, 24).reshape({2, 3, 4});
  const auto bi = et::arange<std::int32_t>(0, 8).reshape({4, 2});
  check_matmul(ai, bi, 0.5);
  check_matmul(ai.transpose(1, 2), ai, 0.5);
}

TEST_CASE("cuda matmul shape errors read like the cpu's") {
  const auto a = et::zeros<float>({2, 3}), b = et::zeros<float>({4, 5});
  const auto da = a.to<gpu>(), db = b.to<gpu>();
  const auto same = [](const auto& dev, const auto& host) {
    const std::string d = error_of(dev), h = error_of(host);
    CHECK(d == h);
    CHECK(d != "no error");
  };
  same([&] { (void)et::matmul(da, db); }, [&] { (void)et::matmul(a, b); });
  CHECK(error_of([&] { (void)et::matmul(da, db); }) ==
        "matmul: inner dimensions differ: [2, 3] x [4, 5]");
  const auto a3 = et::zeros<float>({2, 2, 3}), b3 = et::zeros<float>({3, 4, 5});
  const auto da3 = a3.to<gpu>(), db3 = b3.to<gpu>();
  same([&] { (void)et::matmul(da3, db3); }, [&] { (void)et::matmul(a3, b3); });
  const auto s = et::zeros<float>({});
  same([&] { (void)et::matmul(s.to<gpu>(), db); }, [&] { (void)et::matmul(s, b); });
  same([&] { (void)et::mm(da3, db); }, [&] { (void)et::mm(a3, b); });
  same([&] { (void)et::bmm(da, db); }, [&] { (void)et::bmm(a, b); });
}

TEST_CASE("cuda tf32 switch round trip") {
  CHECK_FALSE(et::cuda::allow_tf32());
  et::manual_seed(16);
  const auto a = et::randn<float>({64, 128}), b = et::randn<float>({128, 32});
  et::cuda::set_allow_tf32(true);
  CHECK(et::cuda::allow_tf32());
  // TF32 keeps 10 mantissa bits: close to the CPU, not within 1e-5.
  const et::Tensor<float, gpu> fast = et::matmul(a.to<gpu>(), b.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(fast, et::matmul(a, b), 5e-2);
  et::cuda::set_allow_tf32(false);
  CHECK_FALSE(et::cuda::allow_tf32());
  const et::Tensor<float, gpu> exact = et::matmul(a.to<gpu>(), b.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(exact, et::matmul(a, b), 1e-5);
}

TEST_CASE("cuda matmul is captured into a graph and replayed") {
  et::manual_seed(19);
  const auto a = et::randn<float>({32, 48}), b = et::randn<float>({48, 16});
  const auto a2 = et::randn<float>({32, 48});
  const auto da = a.to<gpu>(), db = b.to<gpu>();
  auto out = et::zeros<float, gpu>({32, 16});
  const auto step = [&] { out.assign(et::matmul(da.t().t(), db) * 2.f); };
  step();  // eagerly once: creates the cuBLAS handle and warms the allocator
  gpu::Graph g = gpu::capture(step);
  da.assign(a2.to<gpu>());
  g.replay();
  ETNA_REQUIRE_MATCHES_CPU(out, et::Tensor<float>(et::matmul(a2, b) * 2.f), 1e-5);
}

TEST_CASE("cuda F::linear forward matches the cpu") {
  et::manual_seed(17);
  const auto x = et::randn<float>({2, 5, 12}), w = et::randn<float>({7, 12}),
             b = et::randn<float>({7});
  const et::Var<float> ref = F::linear(et::Var<float>(x), et::Var<float>(w), et::Var<float>(b));
  const et::Var<float, gpu> y = F::linear(et::Var<float, gpu>(x.to<gpu>()),
                                          et::Var<float, gpu>(w.to<gpu>()),
                                          et::Var<float, gpu>(b.to<gpu>()));
  ETNA_REQUIRE_MATCHES_CPU(y.value(), ref.value(), 1e-5);
  const et::Var<float, gpu> y2 =
      F::linear(et::Var<float, gpu>(x.to<gpu>()), et::Var<float, gpu>(w.to<gpu>()));
  ETNA_REQUIRE_MATCHES_CPU(y2.value(), et::Tensor<float>(F::linear(et::Var<float>(x),
                                                                   et::Var<float>(w)).value()),
                           1e-5);
}

TEST_CASE("cuda F::linear and matmul gradients match the cpu") {
  et::manual_seed(18);
  const auto x = et::randn<float>({6, 12}), w = et::randn<float>({7, 12});
  const auto b = et::randn<float>({7}), g = et::randn<float>({6, 7});
  SECTION("linear with bias") {
    const et::Var<float> cx(x, true), cw(w, true), cb(b, true);
    F::linear(cx, cw, cb).backward(g);
    const et::Var<float, gpu> dx(x.to<gpu>(), true), dw(w.to<gpu>(), true), db(b.to<gpu>(), true);
    F::linear(dx, dw, db).backward(g.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(dx.grad(), cx.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(dw.grad(), cw.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(db.grad(), cb.grad(), 1e-5);
  }
  SECTION("matmul of two matrices") {
    const auto m = et::randn<float>({12, 7});
    const et::Var<float> ca(x, true), cm(m, true);
    et::matmul(ca, cm).backward(g);
    const et::Var<float, gpu> da(x.to<gpu>(), true), dm(m.to<gpu>(), true);
    et::matmul(da, dm).backward(g.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(da.grad(), ca.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(dm.grad(), cm.grad(), 1e-5);
  }
  SECTION("batched matmul with a broadcast matrix and a vector") {
    const auto p = et::randn<float>({3, 6, 12}), m = et::randn<float>({12, 7});
    const auto v = et::randn<float>({7}), gb = et::randn<float>({3, 6});
    const et::Var<float> cp(p, true), cm(m, true), cv(v, true);
    et::matmul(et::matmul(cp, cm), cv).backward(gb);
    const et::Var<float, gpu> dp(p.to<gpu>(), true), dm(m.to<gpu>(), true), dv(v.to<gpu>(), true);
    et::matmul(et::matmul(dp, dm), dv).backward(gb.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(dp.grad(), cp.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(dm.grad(), cm.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(dv.grad(), cv.grad(), 1e-5);
  }
  SECTION("linear on a 3-d input without bias") {
    const auto x3 = et::randn<float>({2, 3, 12}), g3 = et::randn<float>({2, 3, 7});
    const et::Var<float> cx(x3, true), cw(w, true);
    F::linear(cx, cw).backward(g3);
    const et::Var<float, gpu> dx(x3.to<gpu>(), true), dw(w.to<gpu>(), true);
    F::linear(dx, dw).backward(g3.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(dx.grad(), cx.grad(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(dw.grad(), cw.grad(), 1e-5);
  }
}
