#include "etna/ops/reduce.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace et = etna;
using nlohmann::json;

namespace {

// Each op as a callable, so one dispatcher can try its overloads (all, dim, dims).
#define ETNA_OP(name) \
  [](const auto& x, auto&&... a) -> decltype(et::name(x, a...)) { return et::name(x, a...); }

// How an op takes its arguments beyond dims and keepdim.
enum class Args { plain, correction, p };

// Runs fixture case c on x (already viewed) with fn and compares with the PyTorch output.
template <Args kind, class X, class Fn>
void run_case(const X& x, const json& c, const et::test::Fixtures& f, Fn fn) {
  const auto expected = f.tensor<double>(c["out"].get<std::string>());
  const double rtol = c.value("rtol", 1e-5), atol = c.value("atol", 1e-5);
  const bool keepdim = c.value("keepdim", false);
  const json& dims = c["dims"];
  auto verify = [&](const auto& actual) { ETNA_CHECK_CLOSE(actual, expected, rtol, atol); };
  if constexpr (kind == Args::correction) {  // correction after keepdim; all elements via {}
    const double corr = c["arg"].get<double>();
    if (dims.is_null()) verify(corr == 1 ? fn(x) : fn(x, std::vector<std::int64_t>{}, false, corr));
    else if (dims.is_number()) verify(fn(x, dims.get<std::int64_t>(), keepdim, corr));
    else verify(fn(x, dims.get<std::vector<std::int64_t>>(), keepdim, corr));
  } else if constexpr (kind == Args::p) {  // p first
    const double p = c["arg"].is_string() ? std::numeric_limits<double>::infinity()
                                          : c["arg"].get<double>();
    if (dims.is_null()) verify(fn(x, p));
    else if (dims.is_number()) verify(fn(x, p, dims.get<std::int64_t>(), keepdim));
    else verify(fn(x, p, dims.get<std::vector<std::int64_t>>(), keepdim));
  } else {
    if constexpr (requires { fn(x); }) {
      if (dims.is_null()) return verify(fn(x));
    }
    if constexpr (requires { fn(x, std::vector<std::int64_t>{}, false); }) {
      if (dims.is_array()) return verify(fn(x, dims.get<std::vector<std::int64_t>>(), keepdim));
    }
    REQUIRE(dims.is_number());
    verify(fn(x, dims.get<std::int64_t>(), keepdim));
  }
}

template <class X>
void dispatch(const X& x, const json& c, const et::test::Fixtures& f) {
  const std::string op = c["op"];
  if (op == "sum") run_case<Args::plain>(x, c, f, ETNA_OP(sum));
  else if (op == "prod") run_case<Args::plain>(x, c, f, ETNA_OP(prod));
  else if (op == "max") run_case<Args::plain>(x, c, f, ETNA_OP(max));
  else if (op == "min") run_case<Args::plain>(x, c, f, ETNA_OP(min));
  else if (op == "argmax") run_case<Args::plain>(x, c, f, ETNA_OP(argmax));
  else if (op == "argmin") run_case<Args::plain>(x, c, f, ETNA_OP(argmin));
  else if constexpr (et::FloatingScalar<et::value_type_of<X>>) {
    if (op == "mean") run_case<Args::plain>(x, c, f, ETNA_OP(mean));
    else if (op == "logsumexp") run_case<Args::plain>(x, c, f, ETNA_OP(logsumexp));
    else if (op == "var") run_case<Args::correction>(x, c, f, ETNA_OP(var));
    else if (op == "std") run_case<Args::correction>(x, c, f, ETNA_OP(std));
    else if (op == "norm") run_case<Args::p>(x, c, f, ETNA_OP(norm));
    else FAIL("unknown op " << op);
  } else {
    FAIL("op " << op << " on an integer input");
  }
}

// Applies the case's view in etna: the reduction sees the same strides as in PyTorch.
template <class T>
void with_view(const et::test::Fixtures& f, const json& c) {
  const auto t = f.tensor<T>(c["input"].get<std::string>());
  const std::string view = c.value("view", "plain");
  if (view == "transposed") dispatch(t.transpose(0, -1), c, f);
  else if (view == "strided") dispatch(t.slice(0, 0, t.size(0), 2), c, f);
  else if (view == "expr") dispatch(t * T(2) - T(1), c, f);
  else dispatch(t, c, f);
}

bool is_reduction(const json& c) { return c["op"] != "softmax" && c["op"] != "log_softmax"; }

// Double-precision oracle over a [rows, cols] tensor, reduced along dim 0 or 1.
std::vector<double> reference_sum(const et::Tensor<float>& t, int dim) {
  const auto rows = t.size(0), cols = t.size(1);
  std::vector<double> out(dim == 0 ? cols : rows, 0.0);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) out[dim == 0 ? j : i] += t(i, j);
  return out;
}

}  // namespace

TEST_CASE("reductions match PyTorch over shapes, dims, keepdim and views", "[reduce]") {
  et::test::Fixtures f("reduce.json");
  int checked = 0;
  for (const json& c : f.json()["cases"]) {
    if (!is_reduction(c)) continue;
    INFO(c.dump());
    const std::string dtype = f.json()[c["input"].get<std::string>()]["dtype"];
    if (dtype == "float32") with_view<float>(f, c);
    else if (dtype == "float64") with_view<double>(f, c);
    else if (dtype == "int64") with_view<std::int64_t>(f, c);
    else if (dtype == "int32") with_view<std::int32_t>(f, c);
    else FAIL("unexpected dtype " << dtype);
    ++checked;
  }
  CHECK(checked > 400);
}

TEST_CASE("reduction result types follow PyTorch's promotion", "[reduce]") {
  const auto i32 = et::tensor<std::int32_t>({{1, 2, 3}, {4, 5, 6}});
  STATIC_REQUIRE(std::is_same_v<decltype(et::sum(i32)), et::Tensor<std::int64_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(et::prod(i32, 0)), et::Tensor<std::int64_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(et::max(i32)), et::Tensor<std::int32_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(et::argmax(et::zeros<float>({3}))),
                                et::Tensor<std::int64_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(et::sum(et::zeros<double>({3}))), et::Tensor<double>>);
  CHECK(et::sum(i32).item() == 21);
  CHECK(et::prod(i32).item() == 720);
  CHECK(et::sum(i32).dim() == 0);
  // A comparison mask sums to a count (bool -> int64) without materialising the mask.
  const auto x = et::tensor<float>({{-1, 2, 3}, {4, -5, 6}});
  CHECK(et::sum(x > 0.f).item() == 4);
  ETNA_CHECK_CLOSE(et::sum(x > 0.f, 1), et::tensor<std::int64_t>({2, 2}), 0, 0);
  // Integer sums do not overflow in the input type.
  const auto big = et::full<std::int32_t>({4}, 2'000'000'000);
  CHECK(et::sum(big).item() == 8'000'000'000LL);
}

TEST_CASE("empty reductions: sum 0, prod 1, mean NaN, logsumexp -inf", "[reduce]") {
  const auto e = et::zeros<float>({0, 3});
  ETNA_CHECK_CLOSE(et::sum(e, 0), et::zeros<float>({3}), 0, 0);
  ETNA_CHECK_CLOSE(et::prod(e, 0), et::ones<float>({3}), 0, 0);
  CHECK(std::isnan(et::mean(e).item()));
  CHECK(std::isinf(et::logsumexp(e, 0)(1)));
  CHECK(et::max(e, 1).shape() == et::Shape{0});  // nothing to reduce per (absent) output
  CHECK(et::sum(e).item() == 0.f);
}

TEST_CASE("large float sums stay accurate (pairwise SIMD accumulation)", "[reduce]") {
  et::manual_seed(7);
  const std::int64_t n = 1 << 24;
  // Mean 1: a naive float accumulator would stall near 2^24 and be off by a large factor.
  const auto x = et::rand<float>({n});
  double ref = 0, abs_sum = 0;
  for (float v : x) {
    ref += v;
    abs_sum += std::fabs(v);
  }
  const double got = et::sum(x).item();
  CHECK(std::fabs(got - ref) <= 1e-6 * abs_sum);
  CHECK(std::fabs(et::mean(x).item() - ref / n) <= 1e-6);

  // Fused: sum(square(a - b)) in one pass, no temporary.
  const auto a = et::randn<float>({n / 4}), b = et::randn<float>({n / 4});
  double ref2 = 0;
  for (std::int64_t i = 0; i < n / 4; ++i) {
    const double d = double(a(i)) - double(b(i));
    ref2 += d * d;
  }
  CHECK(std::fabs(et::sum(et::square(a - b)).item() - ref2) <= 1e-6 * ref2);

  // A long outer reduction (many rows into one row of sums), also split across threads.
  const auto m = et::rand<float>({1 << 20, 8});
  const auto ref_rows = reference_sum(m, 0);
  const auto s0 = et::sum(m, 0);
  for (int j = 0; j < 8; ++j) CHECK(std::fabs(s0(j) - ref_rows[j]) <= 1e-6 * ref_rows[j]);
}

TEST_CASE("every kernel path agrees with a double reference", "[reduce]") {
  et::manual_seed(3);
  // Shapes chosen to reach each path: many short rows, few long rows (split per output), one
  // row, outer reductions with many or few columns, and strided / broadcast operands.
  for (auto shape : {et::Shape{5000, 3}, et::Shape{3, 50000}, et::Shape{1, 300000},
                     et::Shape{70000, 5}, et::Shape{40, 9000}, et::Shape{3, 20001}}) {
    INFO("shape " << shape);
    const auto t = et::randn<float>(shape);
    for (int dim : {0, 1}) {
      const auto ref = reference_sum(t, dim);
      const auto s = et::sum(t, dim);
      const auto st = et::sum(t.t(), 1 - dim);  // the same reduction through strided rows
      for (std::size_t i = 0; i < ref.size(); ++i) {
        const auto k = static_cast<std::int64_t>(i);
        REQUIRE(std::fabs(s(k) - ref[i]) <= 1e-5 * (1 + std::fabs(ref[i])));
        REQUIRE(std::fabs(st(k) - ref[i]) <= 1e-5 * (1 + std::fabs(ref[i])));
      }
    }
    // max/argmax agree with each other and with a scan, on planted maxima.
    auto u = t.clone();
    const std::int64_t cols = shape[1];
    const auto am = et::argmax(u, 1);
    const auto mx = et::max(u, 1);
    for (std::int64_t r = 0; r < shape[0]; r += std::max<std::int64_t>(1, shape[0] / 7)) {
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < cols; ++j)
        if (u(r, j) > u(r, best)) best = j;
      REQUIRE(am(r) == best);
      REQUIRE(mx(r) == u(r, best));
    }
  }
  // A broadcast operand (stride 0) inside the fused expression.
  const auto m = et::randn<float>({300, 257}), row = et::randn<float>({257});
  const auto got = et::sum(m * row, 0);
  for (std::int64_t j = 0; j < 257; j += 16) {
    double ref = 0;
    for (std::int64_t i = 0; i < 300; ++i) ref += double(m(i, j)) * row(j);
    CHECK(std::fabs(got(j) - ref) <= 1e-4 * (1 + std::fabs(ref)));
  }
}

TEST_CASE("argmax over a large tensor finds the first of tied maxima and the first NaN",
          "[reduce]") {
  auto x = et::zeros<float>({1 << 20});
  x(777777) = 5.f;
  x(900001) = 5.f;
  CHECK(et::argmax(x).item() == 777777);
  CHECK(et::max(x).item() == 5.f);
  x(123) = -3.f;
  x(100000) = -3.f;
  CHECK(et::argmin(x).item() == 123);
  x(500000) = std::numeric_limits<float>::quiet_NaN();
  x(600000) = std::numeric_limits<float>::quiet_NaN();
  CHECK(et::argmax(x).item() == 500000);
  CHECK(et::argmin(x).item() == 500000);
  CHECK(std::isnan(et::max(x).item()));
  CHECK(std::isnan(et::min(x * 2.f).item()));
  CHECK(et::argmax(x.view({1024, 1024}), 1)(488) == 288);  // 500000 = 488 * 1024 + 288
}

TEST_CASE("reductions name the op and the problem in their errors", "[reduce]") {
  const auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::sum(x, 2), et::index_error);
  CHECK_THROWS_WITH(et::sum(x, 2),
                    "sum: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::mean(x, -3),
                    "mean: dimension -3 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::argmax(x, 5),
                    "argmax: dimension 5 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::logsumexp(x, {0, 7}),
                    "logsumexp: dimension 7 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::sum(et::tensor<float>(1.f), 1),
                    "sum: dimension 1 out of range for a 0-d tensor (expected -1 to 0)");
  CHECK_THROWS_AS(et::sum(x, {1, -1}), et::value_error);
  CHECK_THROWS_WITH(et::sum(x, {1, -1}),
                    "sum: dimension -1 appears more than once in the list of dims");
  CHECK_THROWS_WITH(et::var(x, {0, 0}),
                    "var: dimension 0 appears more than once in the list of dims");
  const auto e = et::zeros<float>({0, 3});
  CHECK_THROWS_AS(et::max(e), et::value_error);
  CHECK_THROWS_WITH(et::max(e), "max: cannot reduce an empty tensor (shape [0, 3])");
  CHECK_THROWS_WITH(et::min(e), "min: cannot reduce an empty tensor (shape [0, 3])");
  CHECK_THROWS_WITH(et::argmax(e), "argmax: cannot reduce an empty tensor (shape [0, 3])");
  CHECK_THROWS_WITH(et::argmin(e, 0),
                    "argmin: cannot reduce over dimension 0 of size 0 (shape [0, 3])");
  CHECK_THROWS_WITH(et::max(et::zeros<float>({2, 0, 3}), {2, 1}),
                    "max: cannot reduce over dimension 1 of size 0 (shape [2, 0, 3])");
  CHECK_THROWS_WITH(et::norm(e, std::numeric_limits<double>::infinity()),
                    "norm: cannot reduce an empty tensor (shape [0, 3])");
  CHECK_THROWS_AS(et::norm(x, 0), et::value_error);
  CHECK_THROWS_WITH(et::norm(x, 0), "norm: p must be positive (or infinity), got 0");
  CHECK_THROWS_WITH(et::norm(x, -1, 0), "norm: p must be positive (or infinity), got -1");
}
