#include "etna/ops/softmax.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace et = etna;
using nlohmann::json;

namespace {

template <class X>
void check_case(const X& x, const json& c, const et::test::Fixtures& f) {
  const auto expected = f.tensor<double>(c["out"].get<std::string>());
  const auto dim = c["dims"].get<std::int64_t>();
  if (c["op"] == "softmax") ETNA_CHECK_CLOSE(et::softmax(x, dim), expected, 1e-5, 1e-6);
  else ETNA_CHECK_CLOSE(et::log_softmax(x, dim), expected, 1e-5, 1e-5);
}

// Double-precision softmax of a [rows, cols] tensor along dim.
std::vector<double> reference_softmax(const et::Tensor<float>& t, int dim, bool log) {
  const auto rows = t.size(0), cols = t.size(1);
  std::vector<double> out(rows * cols);
  const auto outer = dim == 0 ? cols : rows, n = dim == 0 ? rows : cols;
  for (std::int64_t o = 0; o < outer; ++o) {
    auto at = [&](std::int64_t i) -> double { return dim == 0 ? t(i, o) : t(o, i); };
    double m = -INFINITY, s = 0;
    for (std::int64_t i = 0; i < n; ++i) m = std::max(m, at(i));
    for (std::int64_t i = 0; i < n; ++i) s += std::exp(at(i) - m);
    for (std::int64_t i = 0; i < n; ++i) {
      const double v = log ? at(i) - m - std::log(s) : std::exp(at(i) - m) / s;
      out[dim == 0 ? i * cols + o : o * cols + i] = v;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("softmax and log_softmax match PyTorch over dims and views", "[softmax]") {
  et::test::Fixtures f("reduce.json");
  int checked = 0;
  for (const json& c : f.json()["cases"]) {
    if (c["op"] != "softmax" && c["op"] != "log_softmax") continue;
    INFO(c.dump());
    const auto t = f.tensor<float>(c["input"].get<std::string>());
    const std::string view = c.value("view", "plain");
    if (view == "transposed") check_case(t.transpose(0, -1), c, f);
    else if (view == "strided") check_case(t.slice(0, 0, t.size(0), 2), c, f);
    else if (view == "expr") check_case(t * 2.f - 1.f, c, f);
    else check_case(t, c, f);
    ++checked;
  }
  CHECK(checked == 38);
}

TEST_CASE("softmax over large rows and columns agrees with a double reference", "[softmax]") {
  et::manual_seed(11);
  for (auto shape : {et::Shape{64, 1000}, et::Shape{1000, 64}, et::Shape{3, 5000}, et::Shape{7, 3}}) {
    const auto x = et::randn<float>(shape) * 4.f;
    const et::Tensor<float> t = x;
    for (int dim : {0, 1}) {
      for (bool log : {false, true}) {
        INFO("shape " << shape << " dim " << dim << " log " << log);
        const auto ref = reference_softmax(t, dim, log);
        const auto got = log ? et::log_softmax(x, dim) : et::softmax(x, dim);
        const auto expected = et::tensor<double>(ref, shape);
        ETNA_CHECK_CLOSE(got, expected, 1e-5, 1e-6);
      }
    }
  }
}

TEST_CASE("softmax is stable, sums to one and keeps empty shapes", "[softmax]") {
  const auto x = et::tensor<double>({{1000, 1001, 1002}, {-1e4, 0, 1e4}});
  const auto s = et::softmax(x, -1);
  for (std::int64_t r = 0; r < 2; ++r) {
    double total = 0;
    for (std::int64_t j = 0; j < 3; ++j) {
      CHECK(std::isfinite(s(r, j)));
      total += s(r, j);
    }
    CHECK(total == Approx(1.0).epsilon(1e-12));
  }
  CHECK(et::log_softmax(x, 1)(1, 0) == Approx(-2e4));
  CHECK(et::softmax(et::zeros<float>({0, 5}), 1).shape() == et::Shape{0, 5});
  CHECK(et::softmax(et::zeros<float>({4, 0}), 1).shape() == et::Shape{4, 0});
}

TEST_CASE("softmax reports a bad dim naming the op", "[softmax]") {
  const auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::softmax(x, 2), et::index_error);
  CHECK_THROWS_WITH(et::softmax(x, 2),
                    "softmax: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::log_softmax(x * 2.f, -3),
                    "log_softmax: dimension -3 out of range for a 2-d tensor (expected -2 to 1)");
}
