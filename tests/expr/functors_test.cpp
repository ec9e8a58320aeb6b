// The element-wise functors of etna/expr/functors.hpp: forward values through the fused
// evaluator (SIMD body, scalar tail, strided gather) against PyTorch on float and double, and
// every local derivative partial<I> (scalar and SIMD batch) against torch.autograd and against
// central finite differences. Fixtures: tests/reference/make_expr.py.
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

namespace {

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("expr.json");
  return f;
}

template <class T>
std::string suffix() {
  return std::is_same_v<T, float> ? "_f32" : "_f64";
}

bool close(double a, double b, double rtol, double atol) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;  // also equal infinities
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

// n elements of the 1-d `base`, starting at `start` and wrapping around.
template <class T>
et::Tensor<T> tile(const et::Tensor<T>& base, std::int64_t n, std::int64_t start = 0) {
  auto t = et::empty<T>({n});
  for (std::int64_t i = 0; i < n; ++i) t.data()[i] = base.data()[(start + i) % base.numel()];
  return t;
}

// The same values as a non-contiguous view (column 0 of an [n, 2] tensor: inner stride 2).
template <class T>
et::Tensor<T> strided(const et::Tensor<T>& x) {
  auto wide = et::full<T>({x.numel(), 2}, T(-7));
  wide.select(1, 0).assign(x);
  return wide.select(1, 0);
}

// Inputs are float32 values (written with 9 significant digits): round through float first.
template <class T>
et::Tensor<T> input(const std::string& domain) {
  return fx().tensor<float>("in_" + domain).template to<T>();
}

struct Tol {
  double rtol, atol;
};

// Runs f over the fixture inputs at every size that matters to the evaluator: each element
// alone (scalar path), 17 (one float batch + tail), 67, 1000 (many batches + tail), and a
// strided view (gather path); compares with the fixture's expected values.
template <class T, class F>
void check_forward(const std::string& name, const std::vector<std::string>& domains, F f,
                   Tol tol, const std::string& expected_name = "") {
  const auto expected = fx().tensor<T>(expected_name.empty() ? name + suffix<T>() : expected_name);
  std::vector<et::Tensor<T>> bases;
  for (const auto& d : domains) bases.push_back(input<T>(d));
  const std::int64_t n0 = expected.numel();
  auto run = [&](std::int64_t n, std::int64_t start, bool use_strided) {
    INFO(name << " (" << et::dtype_name<T>() << "), n = " << n << ", start = " << start
              << (use_strided ? ", strided" : ""));
    std::vector<et::Tensor<T>> xs;
    for (const auto& b : bases) {
      auto x = tile(b, n, start);
      xs.push_back(use_strided ? strided(x) : x);
    }
    auto y = xs.size() == 1 ? et::eval(f(xs[0], xs[0])) : et::eval(f(xs[0], xs[1]));
    ETNA_CHECK_CLOSE(y, tile(expected, n, start), tol.rtol, tol.atol);
  };
  for (std::int64_t k = 0; k < n0; ++k) run(1, k, false);
  run(17, 0, false);
  run(17, 50, false);
  run(n0, 0, false);
  run(1000, 0, false);
  run(1000, 13, true);
}

template <class T, class F>
void unary(const std::string& name, const std::string& domain, F f, Tol tol) {
  check_forward<T>(name, {domain}, [&](const auto& x, const auto&) { return f(x); }, tol);
}
template <class T, class F>
void binary(const std::string& name, const std::string& da, const std::string& db, F f,
            Tol tol) {
  check_forward<T>(name, {da, db}, f, tol);
}

template <class T>
Tol tol_of(double float_rtol, double float_atol = 1e-6) {
  if constexpr (std::is_same_v<T, float>) return {float_rtol, float_atol};
  else return {1e-13, 1e-15};
}

}  // namespace

TEMPLATE_TEST_CASE("unary functions match PyTorch on special values and every size",
                   "[expr][functors]", float, double) {
  using T = TestType;
  const Tol exact{0, 0};
  const Tol ulp = tol_of<T>(1e-6, 1e-37);  // a few ulp: SIMD libm vs PyTorch's SLEEF
  // PyTorch's float elu computes exp(x) - 1 (absolute error up to ~6e-8 near 0) where etna
  // uses expm1; float gelu's 1 + erf(x / sqrt 2) cancels for negative x (error ~|x| * 3e-8).
  const Tol elu_tol = tol_of<T>(1e-6, 1e-7);
  const Tol gelu_tol = std::is_same_v<T, float> ? Tol{1e-6, 3e-7} : Tol{1e-11, 1e-15};
  unary<T>("neg", "general", [](const auto& x) { return -x; }, exact);
  unary<T>("neg", "general", [](const auto& x) { return et::neg(x); }, exact);
  unary<T>("abs", "general", [](const auto& x) { return et::abs(x); }, exact);
  unary<T>("sign", "general", [](const auto& x) { return et::sign(x); }, exact);
  unary<T>("exp", "general", [](const auto& x) { return et::exp(x); }, ulp);
  unary<T>("expm1", "general", [](const auto& x) { return et::expm1(x); }, ulp);
  unary<T>("log", "positive", [](const auto& x) { return et::log(x); }, ulp);
  unary<T>("log1p", "general", [](const auto& x) { return et::log1p(x); }, ulp);
  unary<T>("sqrt", "positive", [](const auto& x) { return et::sqrt(x); }, exact);
  unary<T>("rsqrt", "positive", [](const auto& x) { return et::rsqrt(x); }, ulp);
  unary<T>("reciprocal", "positive", [](const auto& x) { return et::reciprocal(x); }, exact);
  unary<T>("square", "general", [](const auto& x) { return et::square(x); }, exact);
  unary<T>("sin", "general", [](const auto& x) { return et::sin(x); }, ulp);
  unary<T>("cos", "general", [](const auto& x) { return et::cos(x); }, ulp);
  unary<T>("tanh", "general", [](const auto& x) { return et::tanh(x); }, ulp);
  unary<T>("sigmoid", "general", [](const auto& x) { return et::sigmoid(x); }, ulp);
  unary<T>("relu", "general", [](const auto& x) { return et::relu(x); }, exact);
  unary<T>("leaky_relu", "general", [](const auto& x) { return et::leaky_relu(x); }, ulp);
  unary<T>("leaky_relu_0_2", "general", [](const auto& x) { return et::leaky_relu(x, 0.2); },
           ulp);
  unary<T>("elu", "general", [](const auto& x) { return et::elu(x); }, elu_tol);
  unary<T>("elu_0_5", "general", [](const auto& x) { return et::elu(x, 0.5); }, elu_tol);
  unary<T>("gelu", "general", [](const auto& x) { return et::gelu(x); }, gelu_tol);
  unary<T>("gelu_tanh", "general", [](const auto& x) { return et::gelu(x, "tanh"); }, gelu_tol);
  unary<T>("silu", "general", [](const auto& x) { return et::silu(x); }, ulp);
  unary<T>("softplus", "general", [](const auto& x) { return et::softplus(x); }, ulp);
  unary<T>("softplus_b2_t5", "general", [](const auto& x) { return et::softplus(x, 2.0, 5.0); },
           ulp);
  unary<T>("clamp", "general", [](const auto& x) { return et::clamp(x, -0.5, 2.0); }, exact);
  unary<T>("clamp_min", "general", [](const auto& x) { return et::clamp_min(x, -0.5); }, exact);
  unary<T>("clamp_max", "general", [](const auto& x) { return et::clamp_max(x, 2.0); }, exact);
}

TEMPLATE_TEST_CASE("binary functions match PyTorch on special values and every size",
                   "[expr][functors]", float, double) {
  using T = TestType;
  const Tol exact{0, 0};
  const Tol ulp = tol_of<T>(1e-6, 1e-37);
  binary<T>("add", "general", "other", [](const auto& a, const auto& b) { return a + b; }, exact);
  binary<T>("sub", "general", "other", [](const auto& a, const auto& b) { return a - b; }, exact);
  binary<T>("mul", "general", "other", [](const auto& a, const auto& b) { return a * b; }, exact);
  binary<T>("div", "general", "other", [](const auto& a, const auto& b) { return a / b; }, exact);
  binary<T>("pow", "pow_base", "pow_exp",
            [](const auto& a, const auto& b) { return et::pow(a, b); }, ulp);
  binary<T>("maximum", "general", "other",
            [](const auto& a, const auto& b) { return et::maximum(a, b); }, exact);
  binary<T>("minimum", "general", "other",
            [](const auto& a, const auto& b) { return et::minimum(a, b); }, exact);
}

TEMPLATE_TEST_CASE("comparisons, logical operators, where and cast match PyTorch",
                   "[expr][functors]", float, double) {
  using T = TestType;
  const auto a = input<T>("general"), b = input<T>("other");
  auto cmp = [&](const std::string& name, auto f) {
    INFO(name);
    et::Tensor<bool> y = f(a, b);
    ETNA_CHECK_CLOSE(y, fx().tensor<bool>(name), 0, 0);
    et::Tensor<bool> ys = f(strided(tile(a, 1000, 3)), tile(b, 1000, 3));
    ETNA_CHECK_CLOSE(ys, tile(fx().tensor<bool>(name), 1000, 3), 0, 0);
  };
  cmp("eq", [](const auto& x, const auto& y) { return x == y; });
  cmp("ne", [](const auto& x, const auto& y) { return x != y; });
  cmp("lt", [](const auto& x, const auto& y) { return x < y; });
  cmp("le", [](const auto& x, const auto& y) { return x <= y; });
  cmp("gt", [](const auto& x, const auto& y) { return x > y; });
  cmp("ge", [](const auto& x, const auto& y) { return x >= y; });

  et::Tensor<bool> m1 = a > T(0), m2 = b > T(0);
  ETNA_CHECK_CLOSE(m1 & m2, fx().tensor<bool>("logical_and"), 0, 0);
  ETNA_CHECK_CLOSE(et::logical_and(m1, m2), fx().tensor<bool>("logical_and"), 0, 0);
  ETNA_CHECK_CLOSE(m1 | m2, fx().tensor<bool>("logical_or"), 0, 0);
  ETNA_CHECK_CLOSE(m1 ^ m2, fx().tensor<bool>("logical_xor"), 0, 0);
  ETNA_CHECK_CLOSE(!m1, fx().tensor<bool>("logical_not"), 0, 0);
  ETNA_CHECK_CLOSE(~m1, fx().tensor<bool>("logical_not"), 0, 0);
  ETNA_CHECK_CLOSE(et::where(m1, a, b), fx().tensor<T>("where" + suffix<T>()), 0, 0);
  ETNA_CHECK_CLOSE(et::where(a < T(0), T(0), a), et::relu(a), 0, 0);
  ETNA_CHECK_CLOSE(et::where(m1, T(1), b), et::where(m1, et::ones_like(b), b), 0, 0);
  ETNA_CHECK_CLOSE(et::where(m1, 1.0, 2.0), et::where(m1, et::ones<double>({a.numel()}),
                                                      et::full<double>({a.numel()}, 2.0)),
                   0, 0);

  const auto c = fx().tensor<float>("cast_in").template to<T>();
  ETNA_CHECK_CLOSE(et::cast<std::int32_t>(c), fx().tensor<std::int32_t>("cast_i32"), 0, 0);
  ETNA_CHECK_CLOSE(et::cast<std::int64_t>(c), fx().tensor<std::int64_t>("cast_i64"), 0, 0);
  ETNA_CHECK_CLOSE(et::cast<bool>(a), fx().tensor<bool>("cast_bool"), 0, 0);
  ETNA_CHECK_CLOSE(et::cast<double>(a) * 2.0, a.template to<double>() * 2.0, 0, 0);
}

TEST_CASE("integer tensors: abs, sign, square, relu, arithmetic", "[expr][functors]") {
  auto i = et::tensor<std::int64_t>({-3, 0, 5, -1});
  ETNA_CHECK_CLOSE(et::abs(i), et::tensor<std::int64_t>({3, 0, 5, 1}), 0, 0);
  ETNA_CHECK_CLOSE(et::sign(i), et::tensor<std::int64_t>({-1, 0, 1, -1}), 0, 0);
  ETNA_CHECK_CLOSE(et::square(i), et::tensor<std::int64_t>({9, 0, 25, 1}), 0, 0);
  ETNA_CHECK_CLOSE(et::relu(i), et::tensor<std::int64_t>({0, 0, 5, 0}), 0, 0);
  ETNA_CHECK_CLOSE(i * 2 + 1, et::tensor<std::int64_t>({-5, 1, 11, -1}), 0, 0);
  ETNA_CHECK_CLOSE(et::maximum(i, std::int64_t{0}), et::tensor<std::int64_t>({0, 0, 5, 0}), 0, 0);
  ETNA_CHECK_CLOSE(et::clamp(i, -1, 2), et::tensor<std::int64_t>({-1, 0, 2, -1}), 0, 0);
  auto j = et::tensor<std::int32_t>({7, -7});
  ETNA_CHECK_CLOSE(j / 2, et::tensor<std::int32_t>({3, -3}), 0, 0);  // C++ truncation
  CHECK_THROWS_WITH(et::clamp(i, 2, 1), "clamp: min 2 is greater than max 1");
  CHECK_THROWS_WITH(et::gelu(et::zeros<float>({2}), "fast"),
                    "gelu: approximate must be \"none\" or \"tanh\", got \"fast\"");
}

// ---- local derivatives ------------------------------------------------------------------------
namespace {

// Compares op.partial<I> on scalars and on SIMD batches (every lane) with expected gradients.
template <class T, int Arity, class Op>
std::string partial_mismatch(const Op& op, const std::vector<std::vector<double>>& in,
                             const std::vector<std::vector<double>>& expected, Tol tol) {
  using B = xsimd::batch<T>;
  const std::size_t n = in[0].size();
  auto at = [&](std::size_t k, int i) { return static_cast<T>(in[i][k]); };
  std::ostringstream msg;
  msg.precision(10);
  auto report = [&](const char* path, int I, std::size_t k, double got) {
    msg << path << " partial<" << I << "> at x = (" << in[0][k];
    if (Arity == 2) msg << ", " << in[1][k];
    msg << "): " << got << " != expected " << expected[I][k];
  };
  auto check = [&](auto I_, std::size_t k, double scalar_value, double batch_value) {
    constexpr int I = decltype(I_)::value;
    const double want = static_cast<T>(expected[I][k]);  // beyond float's range: inf
    if (!close(scalar_value, want, tol.rtol, tol.atol)) report("scalar", I, k, scalar_value);
    else if (!close(batch_value, want, tol.rtol, tol.atol)) report("batch", I, k, batch_value);
    else return true;
    return false;
  };
  for (std::size_t k0 = 0; k0 < n; k0 += B::size) {
    alignas(64) T lanes[Arity][B::size];
    for (std::size_t l = 0; l < B::size; ++l)
      for (int i = 0; i < Arity; ++i) lanes[i][l] = at(std::min(k0 + l, n - 1), i);
    alignas(64) T batch_out[Arity][B::size];
    if constexpr (Arity == 1) {
      const B x = B::load_aligned(lanes[0]);
      op.template partial<0>(op(x), x).store_aligned(batch_out[0]);
    } else {
      const B a = B::load_aligned(lanes[0]), b = B::load_aligned(lanes[1]);
      const B y = op(a, b);
      op.template partial<0>(y, a, b).store_aligned(batch_out[0]);
      op.template partial<1>(y, a, b).store_aligned(batch_out[1]);
    }
    for (std::size_t l = 0; l < B::size && k0 + l < n; ++l) {
      const std::size_t k = k0 + l;
      if constexpr (Arity == 1) {
        const T x = at(k, 0);
        if (!check(std::integral_constant<int, 0>{}, k, op.template partial<0>(op(x), x),
                   batch_out[0][l]))
          return msg.str();
      } else {
        const T a = at(k, 0), b = at(k, 1), y = op(a, b);
        if (!check(std::integral_constant<int, 0>{}, k, op.template partial<0>(y, a, b),
                   batch_out[0][l]) ||
            !check(std::integral_constant<int, 1>{}, k, op.template partial<1>(y, a, b),
                   batch_out[1][l]))
          return msg.str();
      }
    }
  }
  return "";
}

std::vector<double> values(const std::string& name) {
  const auto t = name.rfind("in_", 0) == 0 ? input<double>(name.substr(3))
                                           : fx().tensor<double>(name);
  return std::vector<double>(t.data(), t.data() + t.numel());
}

// partial<I> vs the torch.autograd gradients of the fixture (computed in float64).
template <class T, class Op>
void partial_vs_torch(const std::string& name, const std::vector<std::string>& domains,
                      const Op& op, Tol tol) {
  std::vector<std::vector<double>> in, expected;
  for (const auto& d : domains) in.push_back(values("in_" + d));
  for (std::size_t i = 0; i < domains.size(); ++i)
    expected.push_back(values(name + "_grad" + std::to_string(i)));
  constexpr int arity = std::is_invocable_v<const Op&, double> ? 1 : 2;
  REQUIRE(domains.size() == arity);
  const std::string msg = partial_mismatch<T, arity>(op, in, expected, tol);
  INFO(name << " (" << et::dtype_name<T>() << "): " << msg);
  CHECK(msg.empty());
}

// Smooth sample points: none at 0, at the clamp bounds or the softplus thresholds.
std::vector<double> grid(double first, double step, int n) {
  std::vector<double> g;
  for (int k = 0; k < n; ++k) g.push_back(first + step * k);
  return g;
}

// partial<I> (double, scalar) vs central finite differences of the functor's own value.
template <int Arity, class Op>
void partial_vs_finite_differences(const std::string& name, const Op& op,
                                   const std::vector<double>& a,
                                   const std::vector<double>& b = {}) {
  std::ostringstream msg;
  msg.precision(10);
  int compared = 0;
  for (std::size_t k = 0; k < a.size() && msg.str().empty(); ++k) {
    double x[2] = {a[k], Arity == 2 ? b[k] : 0.0};
    auto f = [&](const double* p) {
      if constexpr (Arity == 1) return op(p[0]);
      else return op(p[0], p[1]);
    };
    const double y = f(x);
    for (int i = 0; i < Arity; ++i) {
      const double h = 1e-6 * std::max(1.0, std::fabs(x[i]));
      double lo[2] = {x[0], x[1]}, hi[2] = {x[0], x[1]};
      lo[i] -= h;
      hi[i] += h;
      const double fd = (f(hi) - f(lo)) / (2 * h);
      if (!std::isfinite(y) || !std::isfinite(fd)) continue;
      double analytic;
      if constexpr (Arity == 1) analytic = op.template partial<0>(y, x[0]);
      else analytic = i == 0 ? op.template partial<0>(y, x[0], x[1])
                             : op.template partial<1>(y, x[0], x[1]);
      ++compared;
      if (!close(analytic, fd, 1e-6, 1e-7)) {
        msg << "partial<" << i << "> at (" << x[0];
        if (Arity == 2) msg << ", " << x[1];
        msg << "): analytic " << analytic << " vs finite difference " << fd;
        break;
      }
    }
  }
  INFO(name << ": " << msg.str());
  CHECK(msg.str().empty());
  CHECK(compared >= 20);
}

}  // namespace

TEMPLATE_TEST_CASE("partial derivatives match torch.autograd (scalar and SIMD batch)",
                   "[expr][functors][grad]", float, double) {
  using T = TestType;
  namespace op = et::op;
  // float partials against float64 gradients: a few float ulp, absolute below 1e-6
  const Tol tol = tol_of<T>(1e-5, 1e-6);
  const Tol loose = std::is_same_v<T, float> ? Tol{1e-4, 1e-6} : tol;  // cancellation in 1 - y*y
  partial_vs_torch<T>("neg", {"general"}, op::Neg{}, tol);
  partial_vs_torch<T>("abs", {"general"}, op::Abs{}, tol);
  partial_vs_torch<T>("sign", {"general"}, op::Sign{}, tol);
  partial_vs_torch<T>("exp", {"general"}, op::Exp{}, tol);
  partial_vs_torch<T>("expm1", {"general"}, op::Expm1{}, tol);
  partial_vs_torch<T>("log", {"positive"}, op::Log{}, tol);
  partial_vs_torch<T>("log1p", {"general"}, op::Log1p{}, tol);
  partial_vs_torch<T>("sqrt", {"positive"}, op::Sqrt{}, tol);
  partial_vs_torch<T>("rsqrt", {"positive"}, op::Rsqrt{}, tol);
  partial_vs_torch<T>("reciprocal", {"positive"}, op::Reciprocal{}, tol);
  partial_vs_torch<T>("square", {"general"}, op::Square{}, tol);
  partial_vs_torch<T>("sin", {"general"}, op::Sin{}, tol);
  partial_vs_torch<T>("cos", {"general"}, op::Cos{}, tol);
  partial_vs_torch<T>("tanh", {"general"}, op::Tanh{}, loose);
  partial_vs_torch<T>("sigmoid", {"general"}, op::Sigmoid{}, loose);
  partial_vs_torch<T>("relu", {"general"}, op::Relu{}, tol);
  partial_vs_torch<T>("leaky_relu", {"general"}, op::LeakyRelu{}, tol);
  partial_vs_torch<T>("leaky_relu_0_2", {"general"}, op::LeakyRelu{0.2}, tol);
  partial_vs_torch<T>("elu", {"general"}, op::Elu{}, tol);
  partial_vs_torch<T>("elu_0_5", {"general"}, op::Elu{0.5}, tol);
  partial_vs_torch<T>("gelu", {"general"}, op::Gelu{}, tol);
  partial_vs_torch<T>("gelu_tanh", {"general"}, op::Gelu{true}, loose);
  partial_vs_torch<T>("silu", {"general"}, op::Silu{}, tol);
  partial_vs_torch<T>("softplus", {"general"}, op::Softplus{}, tol);
  partial_vs_torch<T>("softplus_b2_t5", {"general"}, op::Softplus{2.0, 5.0}, tol);
  partial_vs_torch<T>("clamp", {"general"}, op::Clamp{-0.5, 2.0}, tol);
  partial_vs_torch<T>("clamp_min", {"general"}, op::Clamp{-0.5, 0, true, false}, tol);
  partial_vs_torch<T>("clamp_max", {"general"}, op::Clamp{0, 2.0, false, true}, tol);
  partial_vs_torch<T>("add", {"general", "other"}, op::Add{}, tol);
  partial_vs_torch<T>("sub", {"general", "other"}, op::Sub{}, tol);
  partial_vs_torch<T>("mul", {"general", "other"}, op::Mul{}, tol);
  partial_vs_torch<T>("div", {"general", "other"}, op::Div{}, tol);
  partial_vs_torch<T>("pow", {"pow_base", "pow_exp"}, op::Pow{}, tol);
  partial_vs_torch<T>("maximum", {"general", "other"}, op::Maximum{}, tol);
  partial_vs_torch<T>("minimum", {"general", "other"}, op::Minimum{}, tol);
}

TEST_CASE("where: value and partial derivatives", "[expr][functors][grad]") {
  const et::op::Where w;
  CHECK(w(true, 2.0, 3.0) == 2.0);
  CHECK(w(false, 2.0, 3.0) == 3.0);
  CHECK(w.partial<1>(2.0, true, 2.0, 3.0) == 1.0);
  CHECK(w.partial<2>(2.0, true, 2.0, 3.0) == 0.0);
  CHECK(w.partial<1>(3.0, false, 2.0, 3.0) == 0.0);
  CHECK(w.partial<2>(3.0, false, 2.0, 3.0) == 1.0);
}

TEST_CASE("partial derivatives match central finite differences (float64)",
          "[expr][functors][grad]") {
  namespace op = et::op;
  const auto g = grid(-5.989, 0.3711, 33);     // spans [-6, 6], avoids kinks and bounds
  const auto pos = grid(0.0513, 0.3107, 33);   // positive
  const auto g2 = grid(-4.993, 0.3013, 33);    // second operand, never equal to g
  const auto e = grid(-2.987, 0.1877, 33);     // exponents
  partial_vs_finite_differences<1>("neg", op::Neg{}, g);
  partial_vs_finite_differences<1>("abs", op::Abs{}, g);
  partial_vs_finite_differences<1>("sign", op::Sign{}, g);
  partial_vs_finite_differences<1>("exp", op::Exp{}, g);
  partial_vs_finite_differences<1>("expm1", op::Expm1{}, g);
  partial_vs_finite_differences<1>("log", op::Log{}, pos);
  partial_vs_finite_differences<1>("log1p", op::Log1p{}, pos);
  partial_vs_finite_differences<1>("sqrt", op::Sqrt{}, pos);
  partial_vs_finite_differences<1>("rsqrt", op::Rsqrt{}, pos);
  partial_vs_finite_differences<1>("reciprocal", op::Reciprocal{}, g);
  partial_vs_finite_differences<1>("square", op::Square{}, g);
  partial_vs_finite_differences<1>("sin", op::Sin{}, g);
  partial_vs_finite_differences<1>("cos", op::Cos{}, g);
  partial_vs_finite_differences<1>("tanh", op::Tanh{}, g);
  partial_vs_finite_differences<1>("sigmoid", op::Sigmoid{}, g);
  partial_vs_finite_differences<1>("relu", op::Relu{}, g);
  partial_vs_finite_differences<1>("leaky_relu", op::LeakyRelu{0.2}, g);
  partial_vs_finite_differences<1>("elu", op::Elu{0.5}, g);
  partial_vs_finite_differences<1>("gelu", op::Gelu{}, g);
  partial_vs_finite_differences<1>("gelu_tanh", op::Gelu{true}, g);
  partial_vs_finite_differences<1>("silu", op::Silu{}, g);
  partial_vs_finite_differences<1>("softplus", op::Softplus{}, g);
  partial_vs_finite_differences<1>("softplus_b2_t5", op::Softplus{2.0, 5.0}, g);
  partial_vs_finite_differences<1>("clamp", op::Clamp{-0.5, 2.0}, g);
  partial_vs_finite_differences<1>("clamp_min", op::Clamp{-0.5, 0, true, false}, g);
  partial_vs_finite_differences<1>("clamp_max", op::Clamp{0, 2.0, false, true}, g);
  partial_vs_finite_differences<2>("add", op::Add{}, g, g2);
  partial_vs_finite_differences<2>("sub", op::Sub{}, g, g2);
  partial_vs_finite_differences<2>("mul", op::Mul{}, g, g2);
  partial_vs_finite_differences<2>("div", op::Div{}, g, g2);
  partial_vs_finite_differences<2>("pow", op::Pow{}, pos, e);
  partial_vs_finite_differences<2>("maximum", op::Maximum{}, g, g2);
  partial_vs_finite_differences<2>("minimum", op::Minimum{}, g, g2);
}
