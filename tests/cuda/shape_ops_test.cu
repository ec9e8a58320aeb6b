// Joining, indexing, padding and embedding on cuda: every op against the CPU backend on the
// same inputs (several dims, strided inputs, negative dims), gradients through Var<float, cuda>,
// and the CPU's exception types and messages for bad indices and shapes.
#include <string>
#include <vector>

#include "cuda/support.hpp"

namespace et = etna;
using et::test::gpu;

namespace {

using I64 = std::int64_t;

et::Tensor<I64> idx(const std::vector<I64>& v, et::Shape shape) {
  return et::tensor<I64>(v, shape);
}
et::Tensor<I64> idx(const std::vector<I64>& v) {
  return et::tensor<I64>(v, {static_cast<I64>(v.size())});
}

// Both calls throw E with the same message.
template <class E, class F, class G>
void require_same_error(F on_cpu, G on_gpu) {
  std::string a = "<no exception>", b = "<no exception>";
  try {
    on_cpu();
  } catch (const E& e) {
    a = e.what();
  }
  try {
    on_gpu();
  } catch (const E& e) {
    b = e.what();
  }
  INFO("cpu: " << a << "\ngpu: " << b);
  CHECK(a != "<no exception>");
  CHECK(a == b);
}

template <class T>
void require_equal(const et::Tensor<T, gpu>& d, const et::Tensor<T>& h) {
  REQUIRE(d.shape() == h.shape());
  const auto back = d.template to<et::cpu>();
  CHECK(std::equal(back.begin(), back.end(), h.begin()));
}

}  // namespace

TEST_CASE("cuda concat and stack match the cpu backend") {
  et::manual_seed(3);
  const auto a = et::randn<float>({2, 3, 4}), b = et::randn<float>({2, 5, 4});
  const auto c = et::randn<float>({4, 3, 2});  // c.transpose(0, 2) is a strided [2, 3, 4]
  const auto da = a.to<gpu>(), db = b.to<gpu>(), dc = c.to<gpu>();
  SECTION("concat along several dims, negative dims, strided parts") {
    ETNA_REQUIRE_MATCHES_CPU(et::cat({da, db}, 1), et::cat({a, b}, 1), 1e-7);
    ETNA_REQUIRE_MATCHES_CPU(et::cat({da, db}, -2), et::cat({a, b}, -2), 1e-7);
    ETNA_REQUIRE_MATCHES_CPU(et::concat({da, dc.transpose(0, 2), da}, 0),
                             et::concat({a, c.transpose(0, 2), a}, 0), 1e-7);
    ETNA_REQUIRE_MATCHES_CPU(et::concat({da, dc.transpose(0, 2)}, -1),
                             et::concat({a, c.transpose(0, 2)}, -1), 1e-7);
    // A legacy empty [0] tensor is skipped, as on the CPU.
    ETNA_REQUIRE_MATCHES_CPU(et::cat({et::Tensor<float, gpu>(), da}, 2),
                             et::cat({et::Tensor<float>(), a}, 2), 1e-7);
    const auto ia = et::arange<float>(0, 6).to<I64>().reshape({2, 3});
    require_equal(et::cat({ia.to<gpu>(), ia.to<gpu>()}, 1), et::cat({ia, ia}, 1));
  }
  SECTION("many parts, some strided, some empty along the dim (batched kernels)") {
    std::vector<et::Tensor<float>> many;
    std::vector<et::Tensor<float, gpu>> dmany;
    for (int k = 0; k < 19; ++k) {
      const auto t = et::randn<float>({4, 3});
      many.push_back(k % 3 ? t.t() : t.t().contiguous());
      dmany.push_back(k % 3 ? t.to<gpu>().t() : t.t().to<gpu>());
    }
    ETNA_REQUIRE_MATCHES_CPU(et::stack(dmany, 1), et::stack(many, 1), 1e-12);
    ETNA_REQUIRE_MATCHES_CPU(et::cat(dmany, -1), et::cat(many, -1), 1e-12);
    ETNA_REQUIRE_MATCHES_CPU(et::cat({da, da.slice(1, 0, 0), db, da.slice(1, 1, 1)}, 1),
                             et::cat({a, a.slice(1, 0, 0), b, a.slice(1, 1, 1)}, 1), 1e-12);
  }
  SECTION("stack at every position") {
    for (I64 d : {0, 1, 2, 3, -1, -4})
      ETNA_REQUIRE_MATCHES_CPU(et::stack({da, dc.transpose(0, 2), da}, d),
                               et::stack({a, c.transpose(0, 2), a}, d), 1e-7);
  }
  SECTION("errors are the cpu's") {
    require_same_error<et::shape_error>([&] { et::cat({a, b}, 0); }, [&] { et::cat({da, db}, 0); });
    require_same_error<et::shape_error>([&] { et::stack({a, b}); }, [&] { et::stack({da, db}); });
    require_same_error<et::error>([&] { et::cat({a, b}, 3); }, [&] { et::cat({da, db}, 3); });
  }
}

TEST_CASE("cuda split and chunk are views with the cpu's pieces") {
  const auto a = et::arange<float>(0, 30).reshape({5, 6});
  const auto da = a.to<gpu>();
  const auto p = et::split(da, 2, -1);
  const auto q = et::split(a, 2, -1);
  REQUIRE(p.size() == q.size());
  for (std::size_t i = 0; i < p.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(p[i], q[i].contiguous(), 1e-12);
  const auto r = et::split(da, {1, 3, 1}, 0);
  const auto s = et::split(a, {1, 3, 1}, 0);
  for (std::size_t i = 0; i < r.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(r[i], s[i].contiguous(), 1e-12);
  const auto c = et::chunk(da, 4, 1);
  CHECK(c.size() == 3);
  c[1].fill(-1.f);  // a view: writes reach the input
  CHECK(da.to<et::cpu>()(4, 2) == -1.f);
  require_same_error<et::shape_error>(
      [&] {
        et::split(a, {1, 1}, 0);
      },
      [&] {
        et::split(da, {1, 1}, 0);
      });
}

TEST_CASE("cuda index_select, gather, scatter_add and index_add match the cpu backend") {
  et::manual_seed(5);
  const auto x = et::randn<float>({4, 5, 6});
  const auto xs = et::randn<float>({6, 5, 4}).permute({2, 1, 0});  // strided [4, 5, 6]
  const auto dx = x.to<gpu>();
  const auto dxs = xs.to<gpu>().permute({2, 1, 0}).contiguous().permute({2, 1, 0});
  REQUIRE(!dxs.is_contiguous());
  SECTION("index_select") {
    const auto i = idx({3, 0, 3, 1});
    const auto di = i.to<gpu>();
    for (I64 d : {0, 1, 2, -1}) {
      ETNA_REQUIRE_MATCHES_CPU(et::index_select(dx, d, di), et::index_select(x, d, i), 1e-12);
      ETNA_REQUIRE_MATCHES_CPU(et::index_select(dxs, d, di), et::index_select(xs, d, i), 1e-12);
    }
    const auto i0 = et::full<I64>({}, 2);
    ETNA_REQUIRE_MATCHES_CPU(et::index_select(dx, 1, i0.to<gpu>()), et::index_select(x, 1, i0),
                             1e-12);
  }
  SECTION("gather with an index smaller than the input") {
    const auto i = et::randint(0, 4, {3, 2, 6});
    ETNA_REQUIRE_MATCHES_CPU(et::gather(dx, 0, i.to<gpu>()), et::gather(x, 0, i), 1e-12);
    ETNA_REQUIRE_MATCHES_CPU(et::gather(dxs, 0, i.to<gpu>()), et::gather(xs, 0, i), 1e-12);
    const auto j = et::randint(0, 6, {4, 5, 9});
    ETNA_REQUIRE_MATCHES_CPU(et::gather(dxs, -1, j.to<gpu>()), et::gather(xs, -1, j), 1e-12);
  }
  SECTION("scatter_add accumulates duplicates, from a strided src") {
    const auto i = et::randint(0, 5, {4, 7, 3});                      // many repeats along dim 1
    const auto src = et::randn<float>({3, 8, 4}).permute({2, 1, 0});  // [4, 8, 3], strided
    const auto dsrc = src.contiguous().to<gpu>();
    ETNA_REQUIRE_MATCHES_CPU(et::scatter_add(dx, 1, i.to<gpu>(), dsrc),
                             et::scatter_add(x, 1, i, src), 1e-5);
    const auto dsrc_t = et::randn<float>({3, 8, 4}).to<gpu>().permute({2, 1, 0});
    const auto src_t = dsrc_t.to<et::cpu>();
    ETNA_REQUIRE_MATCHES_CPU(et::scatter_add(dxs, -2, i.to<gpu>(), dsrc_t),
                             et::scatter_add(xs, -2, i, src_t), 1e-5);
    // Integer and double element types (int64 adds through unsigned long long atomics).
    const auto ii = et::randint(0, 100, {4, 5});
    const auto isrc = et::randint(-50, 50, {4, 5});
    const auto k = et::randint(0, 4, {4, 5});
    require_equal(et::scatter_add(ii.to<gpu>(), 0, k.to<gpu>(), isrc.to<gpu>()),
                  et::scatter_add(ii, 0, k, isrc));
    const auto xd = x.to<double>();
    const auto id = et::randint(0, 6, {4, 5, 6});
    ETNA_REQUIRE_MATCHES_CPU(et::scatter_add(xd.to<gpu>(), 2, id.to<gpu>(), xd.to<gpu>()),
                             et::scatter_add(xd, 2, id, xd), 1e-12);
  }
  SECTION("index_add with duplicates and alpha") {
    const auto i = idx({1, 4, 1, 1, 0});
    const auto src = et::randn<float>({4, 5, 6}).transpose(0, 1);  // [5, 4, 6], strided
    const auto dsrc = src.contiguous().to<gpu>().transpose(0, 1).contiguous().transpose(0, 1);
    const auto t = et::randn<float>({5, 4, 6});
    ETNA_REQUIRE_MATCHES_CPU(et::index_add(t.to<gpu>(), 0, i.to<gpu>(), dsrc, 0.5f),
                             et::index_add(t, 0, i, src, 0.5f), 1e-5);
    const auto s2 = et::randn<float>({4, 5, 5});
    ETNA_REQUIRE_MATCHES_CPU(et::index_add(dx, -1, i.to<gpu>(), s2.to<gpu>()),
                             et::index_add(x, -1, i, s2), 1e-5);
    const auto ii = et::randint(0, 10, {6, 3}), isrc = et::randint(0, 10, {5, 3});
    require_equal(et::index_add(ii.to<gpu>(), 0, i.to<gpu>(), isrc.to<gpu>()),
                  et::index_add(ii, 0, i, isrc));
    const auto bi = et::randint(0, 2, {6, 3}).to<int>();
    require_equal(et::index_add(bi.to<gpu>(), 0, i.to<gpu>(), bi.slice(0, 0, 5).to<gpu>(), 2),
                  et::index_add(bi, 0, i, bi.slice(0, 0, 5).contiguous(), 2));
  }
  SECTION("one_hot") {
    const auto l = idx({2, 0, 4, 4}, {2, 2});
    require_equal(et::one_hot(l.to<gpu>()), et::one_hot(l));
    require_equal(et::one_hot<float>(l.to<gpu>(), 7), et::one_hot<float>(l, 7));
  }
  SECTION("bad indices and shapes raise the cpu's errors") {
    const auto bad = idx({0, 2, 9, 1, -3});
    const auto dbad = bad.to<gpu>();
    require_same_error<et::index_error>([&] { et::index_select(x, 1, bad); },
                                        [&] { et::index_select(dx, 1, dbad); });
    require_same_error<et::index_error>([&] { et::index_add(x, 1, bad, x); },
                                        [&] { et::index_add(dx, 1, dbad, dx); });
    const auto gbad = idx({0, 1, 2, 1, 0, 5}, {1, 2, 3});
    require_same_error<et::index_error>([&] { et::gather(x, 1, gbad); },
                                        [&] { et::gather(dx, 1, gbad.to<gpu>()); });
    const auto nbad = idx({0, 1, -1, 1, 0, 0}, {1, 2, 3});
    require_same_error<et::index_error>([&] { et::scatter_add(x, 2, nbad, x); },
                                        [&] { et::scatter_add(dx, 2, nbad.to<gpu>(), dx); });
    require_same_error<et::shape_error>(
        [&] {
          et::index_select(x, 0, idx({0, 1}, {1, 2}));
        },
        [&] {
          et::index_select(dx, 0, idx({0, 1}, {1, 2}).to<gpu>());
        });
    require_same_error<et::shape_error>([&] { et::gather(x, 0, idx({0})); },
                                        [&] { et::gather(dx, 0, idx({0}).to<gpu>()); });
    require_same_error<et::shape_error>([&] { et::index_add(x, 0, idx({0}), x); },
                                        [&] { et::index_add(dx, 0, idx({0}).to<gpu>(), dx); });
    require_same_error<et::index_error>(
        [&] {
          et::one_hot(idx({1, 5}), 3);
        },
        [&] {
          et::one_hot(idx({1, 5}).to<gpu>(), 3);
        });
  }
}

TEST_CASE("cuda pad matches the cpu backend in every mode") {
  et::manual_seed(9);
  const auto x = et::randn<float>({2, 3, 5, 6});
  const auto xs = et::randn<float>({6, 5, 3, 2}).permute({3, 2, 1, 0});
  const auto dx = x.to<gpu>();
  const auto dxs =
      et::Tensor<float>(xs.permute({3, 2, 1, 0}).contiguous()).to<gpu>().permute({3, 2, 1, 0});
  const std::vector<std::vector<I64>> paddings = {
      {1, 2}, {2, 1, 0, 3}, {-1, 2, 1, -2}, {1, 1, 1, 1, 1, 1}, {0, 0, 2, 2, 1, 0, 1, 1}};
  for (const char* mode : {"constant", "reflect", "replicate", "circular"})
    for (const auto& p : paddings) {
      INFO("mode " << mode << ", " << p.size() << " sizes, first " << p[0]);
      const double value = std::string(mode) == "constant" ? 1.5 : 0.0;
      ETNA_REQUIRE_MATCHES_CPU(et::pad(dx, p, mode, value), et::pad(x, p, mode, value), 1e-12);
      ETNA_REQUIRE_MATCHES_CPU(et::pad(dxs, p, mode, value), et::pad(xs, p, mode, value), 1e-12);
    }
  const auto ii = et::randint(0, 9, {3, 4});
  require_equal(et::pad(ii.to<gpu>(), {1, 2, 2, 0}, "reflect"),
                et::pad(ii, {1, 2, 2, 0}, "reflect"));
  require_same_error<et::shape_error>(
      [&] {
        et::pad(x, {6, 0}, "reflect");
      },
      [&] {
        et::pad(dx, {6, 0}, "reflect");
      });
  require_same_error<et::value_error>([&] { et::pad(x, {1}); }, [&] { et::pad(dx, {1}); });
  require_same_error<et::value_error>(
      [&] {
        et::pad(x, {1, 1}, "mirror");
      },
      [&] {
        et::pad(dx, {1, 1}, "mirror");
      });
}

// Gradients of x through f, with the same upstream gradient on both devices.
template <class F>
void require_same_gradient(const et::Tensor<float>& x, F f) {
  et::Var<float> cx(x.clone(), true);
  et::Var<float, gpu> gx(x.to<gpu>(), true);
  const et::Var<float> cy = f(cx);
  const et::Var<float, gpu> gy = f(gx);
  ETNA_REQUIRE_MATCHES_CPU(gy.value(), cy.value(), 1e-6);
  et::manual_seed(11);
  const auto up = et::randn<float>(cy.shape());
  cy.backward(up);
  gy.backward(up.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(gx.grad(), cx.grad(), 1e-5);
}

TEST_CASE("cuda gradients of joins, indexing and padding match the cpu backend") {
  et::manual_seed(13);
  const auto x = et::randn<float>({4, 5, 6});
  const auto i = idx({2, 0, 2, 3});
  const auto gi = et::randint(0, 4, {3, 5, 6});
  SECTION("cat and stack") {
    require_same_gradient(x, [](auto v) {
      using V = decltype(v);
      return et::cat(std::vector<V>{v, v, v}, -1);
    });
    require_same_gradient(x, [](auto v) { return et::stack({v, v}, 1); });
  }
  SECTION("split and chunk") {
    require_same_gradient(x, [](auto v) {
      const auto p = et::split(v, {2, 1, 3}, 2);
      return et::cat({p[2], p[0]}, 2);  // p[1] unused: its region gets zero
    });
    require_same_gradient(x, [](auto v) { return et::chunk(v, 2, 0)[1]; });
  }
  SECTION("index_select, gather and scatter_add") {
    require_same_gradient(x, [&](auto v) {
      using D = typename decltype(v)::device_type;
      return et::index_select(v, 2, i.to<D>());
    });
    require_same_gradient(x, [&](auto v) {
      using D = typename decltype(v)::device_type;
      return et::gather(v, 0, gi.to<D>());
    });
    require_same_gradient(x, [&](auto v) {
      using D = typename decltype(v)::device_type;
      return et::scatter_add(v, 0, gi.to<D>(), v);
    });
  }
  SECTION("with element-wise Var expressions around them") {
    require_same_gradient(x, [](auto v) {
      using V = decltype(v);
      return et::cat(std::vector<V>{V(v * 2.f), V(et::exp(v)), V(et::abs(v))}, -1);
    });
    require_same_gradient(x, [](auto v) {
      using V = decltype(v);
      return V(et::tanh(et::stack({v, V(v * v)}, 1)) + 1.f);
    });
    require_same_gradient(x, [&](auto v) {
      using V = decltype(v);
      using D = typename V::device_type;
      return et::scatter_add(V(et::sigmoid(v)), 0, gi.to<D>(), V(et::clamp(v, -0.5, 0.5)));
    });
    require_same_gradient(x, [](auto v) {
      using V = decltype(v);
      return et::pad(V(et::maximum(v, v * 0.5f)), {2, 1, 1, 3}, "reflect");
    });
  }
  SECTION("pad in every mode") {
    for (const char* mode : {"constant", "reflect", "replicate", "circular"}) {
      INFO(mode);
      require_same_gradient(x, [&](auto v) { return et::pad(v, {2, 1, 1, 3}, mode); });
      require_same_gradient(x, [&](auto v) { return et::pad(v, {-1, 3}, mode); });
    }
  }
}

TEST_CASE("cuda embedding forward and backward match the cpu backend") {
  et::manual_seed(17);
  const auto w = et::randn<float>({7, 5});
  const auto ids = idx({1, 3, 3, 0, 6, 1, 3, 2}, {2, 4});
  for (I64 padding : {-1, 3}) {
    INFO("padding_idx " << padding);
    et::Var<float> cw(w.clone(), true);
    et::Var<float, gpu> gw(w.to<gpu>(), true);
    const auto cy = et::nn::functional::embedding(ids, cw, padding);
    const auto gy = et::nn::functional::embedding(ids.to<gpu>(), gw, padding);
    CHECK(gy.shape() == et::Shape{2, 4, 5});
    ETNA_REQUIRE_MATCHES_CPU(gy.value(), cy.value(), 1e-12);
    const auto up = et::randn<float>({2, 4, 5});
    cy.backward(up);
    gy.backward(up.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(gw.grad(), cw.grad(), 1e-5);
  }
  et::Var<float> cw(w, true);
  et::Var<float, gpu> gw(w.to<gpu>(), true);
  const auto bad = idx({1, 7, 0, -1}, {2, 2});
  require_same_error<et::index_error>([&] { et::nn::functional::embedding(bad, cw); },
                                      [&] { et::nn::functional::embedding(bad.to<gpu>(), gw); });
}

TEST_CASE("cuda nn Embedding module keeps its padding row out of training") {
  et::nn::Embedding<0, 0, float, gpu> emb(10, 4, 0);
  const auto ids = idx({0, 3, 3, 9}, {2, 2}).to<gpu>();
  const auto y = emb.forward(ids);
  CHECK(y.shape() == et::Shape{2, 2, 4});
  CHECK(y.value().to<et::cpu>()(0, 0, 1) == 0.f);  // the padding row is zero
  y.backward(et::ones<float, gpu>({2, 2, 4}));
  const auto g = emb.weight.grad().to<et::cpu>();
  CHECK(g(3, 0) == 2.f);  // a repeated index accumulates
  CHECK(g(0, 0) == 0.f);  // the padding row gets no gradient
  CHECK(g(9, 3) == 1.f);
}
