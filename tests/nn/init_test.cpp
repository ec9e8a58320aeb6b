// nn/init.hpp: gains, fans and bounds against PyTorch's (fixtures/init.json, from
// tests/reference/make_init.py), statistics of large draws, orthogonality, seeding, errors.
#include "etna/nn/init.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "support/fixtures.hpp"

namespace et = etna;
namespace init = etna::nn::init;

namespace {

struct Moments {
  double mean, std, min, max;
};

template <class T>
Moments moments(const et::Tensor<T>& t) {
  double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
  for (T v : t) {
    sum += v;
    lo = std::min(lo, static_cast<double>(v));
    hi = std::max(hi, static_cast<double>(v));
  }
  const double n = static_cast<double>(t.numel()), mean = sum / n;
  for (T v : t) sq += (v - mean) * (v - mean);
  return {mean, std::sqrt(sq / (n - 1)), lo, hi};
}

et::Shape shape_of(const nlohmann::json& j) {
  et::Shape s;
  for (auto d : j) s.push_back(d.get<std::int64_t>());
  return s;
}

init::FanMode mode_of(const std::string& m) {
  return m == "fan_in" ? init::FanMode::fan_in : init::FanMode::fan_out;
}

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
double Phi(double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); }

// Max |Q^T Q - I| over the smaller Gram matrix of a rows x cols matrix.
template <class T>
double orthogonality_error(const et::Tensor<T>& q2) {
  const auto q = q2.contiguous();
  const std::int64_t rows = q.size(0), cols = q.numel() / rows;
  const bool wide = rows < cols;
  const std::int64_t n = wide ? rows : cols, m = wide ? cols : rows;
  const T* p = q.data();
  auto at = [&](std::int64_t k, std::int64_t i) {
    return wide ? p[i * cols + k] : p[k * cols + i];
  };
  double err = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (std::int64_t k = 0; k < m; ++k) dot += static_cast<double>(at(k, i)) * at(k, j);
      err = std::max(err, std::fabs(dot - (i == j ? 1.0 : 0.0)));
    }
  return err;
}

}  // namespace

TEST_CASE("init: calculate_gain matches PyTorch", "[nn][init]") {
  const et::test::Fixtures f("init.json");
  for (const auto& g : f.json().at("gains")) {
    const auto name = g.at("nonlinearity").get<std::string>();
    std::optional<double> param;
    if (!g.at("param").is_null()) param = g.at("param").get<double>();
    INFO(name << " param " << (param ? std::to_string(*param) : "none"));
    CHECK(init::calculate_gain(name, param) == Approx(g.at("gain").get<double>()).epsilon(1e-15));
  }
}

TEST_CASE("init: fans, xavier and kaiming std/bounds, layer bounds match PyTorch", "[nn][init]") {
  const et::test::Fixtures f("init.json");
  for (const auto& e : f.json().at("fans")) {
    const auto fans = init::fan_in_and_fan_out(shape_of(e.at("shape")));
    CHECK(fans.fan_in == e.at("fan_in").get<std::int64_t>());
    CHECK(fans.fan_out == e.at("fan_out").get<std::int64_t>());
  }
  for (const auto& e : f.json().at("xavier")) {
    const auto s = shape_of(e.at("shape"));
    const double gain = e.at("gain").get<double>();
    INFO("shape " << s << " gain " << gain);
    CHECK(init::xavier_normal_std(s, gain) == Approx(e.at("std").get<double>()).epsilon(1e-14));
    CHECK(init::xavier_uniform_bound(s, gain) ==
          Approx(e.at("bound").get<double>()).epsilon(1e-14));
  }
  for (const auto& e : f.json().at("kaiming")) {
    const auto s = shape_of(e.at("shape"));
    const double a = e.at("a").get<double>();
    const auto mode = mode_of(e.at("mode").get<std::string>());
    const auto nl = e.at("nonlinearity").get<std::string>();
    INFO("shape " << s << " a " << a << " " << e.at("mode").get<std::string>() << " " << nl);
    CHECK(init::kaiming_normal_std(s, a, mode, nl) ==
          Approx(e.at("std").get<double>()).epsilon(1e-14));
    CHECK(init::kaiming_uniform_bound(s, a, mode, nl) ==
          Approx(e.at("bound").get<double>()).epsilon(1e-14));
  }
  for (const auto& e : f.json().at("layers")) {
    const auto s = shape_of(e.at("shape"));
    INFO("shape " << s);
    CHECK(init::kaiming_uniform_bound(s, std::sqrt(5.0)) ==
          Approx(e.at("weight_bound").get<double>()).epsilon(1e-14));
    CHECK(init::bias_bound(s) == Approx(e.at("bias_bound").get<double>()).epsilon(1e-14));
  }
}

TEST_CASE("init: orthogonal factor matches PyTorch's sign-corrected QR", "[nn][init]") {
  const et::test::Fixtures f("init.json");
  for (std::string name : {"tall", "wide", "square"}) {
    INFO(name);
    const auto a = f.tensor<double>(name);
    const std::vector<double> flat(a.data(), a.data() + a.numel());
    const auto q = init::detail::orthogonal_factor(flat, a.size(0), a.size(1));
    ETNA_CHECK_CLOSE(et::tensor<double>(q, a.shape()), f.tensor<double>(name + "_q"), 1e-10, 1e-12);
  }
}

TEST_CASE("init: uniform_ and normal_ statistics", "[nn][init]") {
  const std::int64_t n = 1 << 20;
  const double se = 1 / std::sqrt(static_cast<double>(n));  // standard error unit
  auto t = et::empty<float>({1024, 1024});
  init::uniform_(t, -3, 5);
  auto m = moments(t);
  CHECK(m.min >= -3);
  CHECK(m.max < 5);
  CHECK(std::fabs(m.mean - 1) < 6 * (8 / std::sqrt(12.0)) * se);
  CHECK(std::fabs(m.std - 8 / std::sqrt(12.0)) < 6 * 0.75 * 8 / std::sqrt(12.0) * se);

  auto d = et::empty<double>({n});
  init::normal_(d, 2, 0.5);
  m = moments(d);
  CHECK(std::fabs(m.mean - 2) < 6 * 0.5 * se);
  CHECK(std::fabs(m.std - 0.5) < 6 * 0.5 * se / std::sqrt(2.0));
}

TEST_CASE("init: xavier and kaiming draws have the formula's bound and std", "[nn][init]") {
  const et::Shape shape{256, 64, 8, 8};  // fan_in 4096, fan_out 16384, 1M values
  const double se = 1.0 / 1024;
  auto t = et::empty<float>(shape);

  const double xb = init::xavier_uniform_bound(shape, 2.0);
  CHECK(xb == Approx(2.0 * std::sqrt(6.0 / (4096 + 16384))));
  init::xavier_uniform_(t, 2.0);
  auto m = moments(t);
  CHECK(m.max <= xb);
  CHECK(m.min >= -xb);
  CHECK(m.max > 0.999 * xb);
  CHECK(std::fabs(m.std - xb / std::sqrt(3.0)) < 6 * 0.75 * xb / std::sqrt(3.0) * se);

  init::xavier_normal_(t);
  m = moments(t);
  const double xs = std::sqrt(2.0 / (4096 + 16384));
  CHECK(std::fabs(m.mean) < 6 * xs * se);
  CHECK(std::fabs(m.std - xs) < 6 * xs * se);

  init::kaiming_uniform_(t, 0, init::FanMode::fan_out, "relu");
  const double kb = std::sqrt(2.0) * std::sqrt(3.0 / 16384);
  m = moments(t);
  CHECK(m.max <= kb);
  CHECK(m.min >= -kb);
  CHECK(m.max > 0.999 * kb);

  init::kaiming_normal_(t);  // leaky_relu with a = 0: gain sqrt(2), fan_in
  const double ks = std::sqrt(2.0 / 4096);
  m = moments(t);
  CHECK(std::fabs(m.mean) < 6 * ks * se);
  CHECK(std::fabs(m.std - ks) < 6 * ks * se);
}

TEST_CASE("init: trunc_normal_ stays in [a, b] with the truncated moments", "[nn][init]") {
  auto t = et::empty<double>({1 << 20});
  const double se = 1.0 / 1024;
  struct Case {
    double mean, std, a, b;
  };
  for (Case c :
       {Case{0, 1, -2, 2}, Case{0.5, 1, -1, 3}, Case{0, 0.02, -0.04, 0.04}, Case{1, 2, 0, 10}}) {
    INFO("mean " << c.mean << " std " << c.std << " [" << c.a << ", " << c.b << "]");
    init::trunc_normal_(t, c.mean, c.std, c.a, c.b);
    const auto m = moments(t);
    const double al = (c.a - c.mean) / c.std, be = (c.b - c.mean) / c.std, z = Phi(be) - Phi(al);
    const double mu = c.mean + c.std * (phi(al) - phi(be)) / z;
    const double var =
        c.std * c.std *
        (1 + (al * phi(al) - be * phi(be)) / z - std::pow((phi(al) - phi(be)) / z, 2));
    CHECK(m.min >= c.a);
    CHECK(m.max <= c.b);
    CHECK(std::fabs(m.mean - mu) < 6 * std::sqrt(var) * se);
    CHECK(std::fabs(m.std - std::sqrt(var)) < 6 * std::sqrt(var) * se);
  }
  // erfinv inverts erf to double precision (erf(erfinv(y)) == y within 2 ulp of 1; x itself
  // only where erf is well conditioned), and saturates at +-1.
  for (double x : {-3.0, -1.2, -0.3, 0.0, 1e-9, 0.7, 2.5})
    CHECK(init::detail::erfinv(std::erf(x)) == Approx(x).epsilon(1e-12).margin(1e-15));
  for (double y : {-0.999999999, -0.9, -1e-3, 0.0, 0.5, 0.99, 1 - 1e-12, 1 - 1e-15})
    CHECK(std::fabs(std::erf(init::detail::erfinv(y)) - y) <= 2.3e-16);
  CHECK(std::isinf(init::detail::erfinv(1.0)));
  CHECK(init::detail::erfinv(-1.0) < 0);
}

TEST_CASE("init: orthogonal_ gives orthonormal rows or columns", "[nn][init]") {
  for (et::Shape s : {et::Shape{64, 64}, et::Shape{100, 30}, et::Shape{30, 100},
                      et::Shape{8, 3, 2, 2}, et::Shape{3, 4, 5}}) {
    INFO("shape " << s);
    auto f = et::empty<float>(s);
    init::orthogonal_(f);
    CHECK(orthogonality_error(f) < 1e-5);
    auto d = et::empty<double>(s);
    init::orthogonal_(d);
    CHECK(orthogonality_error(d) < 1e-12);
  }
  auto g = et::empty<double>({10, 6});
  init::orthogonal_(g, 2.5);
  auto unscaled = g.clone();
  for (auto& v : unscaled) v /= 2.5;
  CHECK(orthogonality_error(unscaled) < 1e-12);
}

TEST_CASE("init: constant_, zeros_, ones_, eye_, and writes through views", "[nn][init]") {
  auto t = et::empty<float>({3, 4});
  init::constant_(t, 0.25);
  for (float v : t) CHECK(v == 0.25f);
  init::zeros_(t);
  for (float v : t) CHECK(v == 0.0f);
  init::ones_(t);
  for (float v : t) CHECK(v == 1.0f);
  init::eye_(t);
  ETNA_CHECK_CLOSE(t, et::eye<float>(3, 4));
  auto w = et::empty<float>({5, 2});
  init::eye_(w);
  ETNA_CHECK_CLOSE(w, et::eye<float>(5, 2));

  // A transposed view receives the values a contiguous tensor of its shape gets from one seed.
  et::Generator g1(7), g2(7);
  auto base = et::zeros<float>({6, 4});
  auto view = base.t();  // shape [4, 6], not contiguous
  init::normal_(view, 0, 1, g1);
  auto dense = et::empty<float>({4, 6});
  init::normal_(dense, 0, 1, g2);
  ETNA_CHECK_CLOSE(view, dense, 0, 0);
}

TEST_CASE("init: the same seed gives the same values; a Var's value is written", "[nn][init]") {
  auto draw_all = [](et::Generator& g) {
    auto a = et::empty<float>({16, 8});
    auto b = et::empty<float>({8});
    init::reset_linear_(a, b, g);
    auto c = et::empty<float>({16, 8});
    init::trunc_normal_(c, 0, 0.02, -0.04, 0.04, g);
    auto d = et::empty<float>({16, 8});
    init::orthogonal_(d, 1.0, g);
    init::xavier_normal_(a, 1.0, g);  // draws continue after the earlier ones
    return std::vector<et::Tensor<float>>{a, b, c, d};
  };
  et::Generator g1(123), g2(123), g3(124);
  const auto x = draw_all(g1), y = draw_all(g2), z = draw_all(g3);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ETNA_CHECK_CLOSE(x[i], y[i], 0, 0);
    CHECK(!et::test::mismatch(x[i], z[i], 0, 0).empty());
  }

  // The default generator: manual_seed makes it reproducible.
  et::manual_seed(5);
  auto p = et::empty<float>({32});
  init::uniform_(p, -1, 1);
  et::manual_seed(5);
  auto q = et::empty<float>({32});
  init::uniform_(q, -1, 1);
  ETNA_CHECK_CLOSE(p, q, 0, 0);

  // A Var: its value (shared with the tensor it wraps) is written; nothing is recorded.
  auto storage = et::zeros<double>({4, 3});
  et::Var<double> v(storage, true);
  et::Generator gv(9), gt(9);
  init::kaiming_uniform_(v, 0, init::FanMode::fan_in, "leaky_relu", gv);
  auto expected = et::empty<double>({4, 3});
  init::kaiming_uniform_(expected, 0, init::FanMode::fan_in, "leaky_relu", gt);
  ETNA_CHECK_CLOSE(storage, expected, 0, 0);
  CHECK(v.is_leaf());
  CHECK(v.requires_grad());
  init::zeros_(v);
  for (double e : storage) CHECK(e == 0.0);
}

TEST_CASE("init: layers' defaults (reset_linear_, reset_embedding_)", "[nn][init]") {
  auto w = et::empty<float>({512, 2048});
  auto b = et::empty<float>({512});
  init::reset_linear_(w, b);
  const double bound = 1 / std::sqrt(2048.0);  // kaiming a = sqrt(5) gives 1/sqrt(fan_in)
  CHECK(init::kaiming_uniform_bound(w.shape(), std::sqrt(5.0)) == Approx(bound).epsilon(1e-15));
  auto mw = moments(w), mb = moments(b);
  CHECK(mw.max <= bound);
  CHECK(mw.min >= -bound);
  CHECK(mw.max > 0.999 * bound);
  CHECK(std::fabs(mw.std - bound / std::sqrt(3.0)) < 6 * 0.75 * bound / std::sqrt(3.0) / 1024);
  CHECK(mb.max <= bound);
  CHECK(mb.min >= -bound);

  auto e = et::empty<double>({1000, 1000});
  init::reset_embedding_(e);
  const auto me = moments(e);
  CHECK(std::fabs(me.mean) < 6e-3);
  CHECK(std::fabs(me.std - 1) < 6e-3);
}

TEST_CASE("init: zero-element tensors are left alone", "[nn][init]") {
  auto t = et::empty<float>({0, 4});
  CHECK_NOTHROW(init::kaiming_uniform_(t));
  CHECK_NOTHROW(init::kaiming_normal_(t));
  CHECK_NOTHROW(init::orthogonal_(t));
  CHECK_NOTHROW(init::uniform_(t));
}

TEST_CASE("init: error messages", "[nn][init]") {
  auto v1 = et::empty<float>({5});
  auto v3 = et::empty<float>({2, 3, 4});
  CHECK_THROWS_MATCHES(
      init::fan_in_and_fan_out({5}), et::value_error,
      Catch::Message("fan_in_and_fan_out: fan in and fan out can not be computed for a tensor "
                     "with fewer than 2 dimensions (shape [5])"));
  CHECK_THROWS_MATCHES(
      init::xavier_uniform_(v1), et::value_error,
      Catch::Message("fan_in_and_fan_out: fan in and fan out can not be computed for a tensor "
                     "with fewer than 2 dimensions (shape [5])"));
  CHECK_THROWS_MATCHES(
      init::kaiming_normal_(v1), et::value_error,
      Catch::Message("fan_in_and_fan_out: fan in and fan out can not be computed for a tensor "
                     "with fewer than 2 dimensions (shape [5])"));
  const std::string unknown =
      "' (expected linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, "
      "conv_transpose3d, sigmoid, tanh, relu, leaky_relu or selu)";
  CHECK_THROWS_MATCHES(init::calculate_gain("gelu"), et::value_error,
                       Catch::Message("calculate_gain: unsupported nonlinearity 'gelu" + unknown));
  CHECK_THROWS_MATCHES(init::kaiming_uniform_(v3, 0, init::FanMode::fan_in, "Relu"),
                       et::value_error,
                       Catch::Message("calculate_gain: unsupported nonlinearity 'Relu" + unknown));
  CHECK_THROWS_MATCHES(
      init::orthogonal_(v1), et::value_error,
      Catch::Message("orthogonal_: only tensors with 2 or more dimensions are supported, got "
                     "shape [5]"));
  CHECK_THROWS_MATCHES(init::normal_(v3, 0, -1), et::value_error,
                       Catch::Message("normal_: std must be non-negative, got -1"));
  CHECK_THROWS_MATCHES(init::trunc_normal_(v3, 0, -0.5), et::value_error,
                       Catch::Message("trunc_normal_: std must be non-negative, got -0.5"));
  CHECK_THROWS_MATCHES(init::trunc_normal_(v3, 0, 1, 2, -2), et::value_error,
                       Catch::Message("trunc_normal_: a must be less than b, got a = 2, b = -2"));
  CHECK_THROWS_MATCHES(init::uniform_(v3, 1, 0), et::value_error,
                       Catch::Message("uniform_: a must not exceed b, got a = 1, b = 0"));
  CHECK_THROWS_MATCHES(init::eye_(v3), et::value_error,
                       Catch::Message("eye_: only 2-D tensors are supported, got shape [2, 3, 4]"));
  et::Var<float> var(v1);
  CHECK_THROWS_MATCHES(init::orthogonal_(var), et::value_error,
                       Catch::Message("orthogonal_: only tensors with 2 or more dimensions are "
                                      "supported, got shape [5]"));
}
