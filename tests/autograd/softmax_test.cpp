#include "etna/autograd/ops/softmax.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "etna/autograd/ops/reduce.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using nlohmann::json;
using VarD = et::Var<double>;

namespace {

// A leaf Var whose value is a non-contiguous view of t (transposed).
VarD transposed_leaf(const et::Tensor<double>& t) {
  auto impl = std::make_shared<et::autograd::VarImpl<double, et::cpu>>();
  impl->value = t.transpose(0, -1);
  impl->requires_grad = true;
  return VarD(impl);
}

template <class X>
VarD apply(const std::string& op, const X& x, std::int64_t dim) {
  return op == "softmax" ? et::softmax(x, dim) : et::log_softmax(x, dim);
}

// Gradient oracle from the formulas, through tensor reductions (no fused kernel).
et::Tensor<double> reference_grad(const et::Tensor<double>& y, const et::Tensor<double>& g,
                                  std::int64_t dim, bool log) {
  if (log) return et::Tensor<double>(g - et::exp(y) * et::sum(g, {dim}, true));
  return et::Tensor<double>(y * (g - et::sum(g * y, {dim}, true)));
}

}  // namespace

TEST_CASE("softmax and log_softmax gradients match PyTorch", "[autograd][softmax]") {
  et::test::Fixtures f("autograd_reduce.json");
  int checked = 0;
  for (const json& c : f.json()["cases"]) {
    const std::string op = c["op"];
    if (op != "softmax" && op != "log_softmax") continue;
    INFO(c.dump());
    const auto input = f.tensor<double>(c["input"].get<std::string>());
    const auto g = f.tensor<double>(c["g"].get<std::string>());
    const auto expected = f.tensor<double>(c["grad"].get<std::string>());
    const std::string view = c.value("view", "plain");
    const auto dim = c["dims"].get<std::int64_t>();
    const VarD x = view == "transposed" ? transposed_leaf(input) : VarD(input, true);
    const VarD y = view == "expr" ? apply(op, x * 2.0 - 1.0, dim) : apply(op, x, dim);
    y.backward(g);
    ETNA_CHECK_CLOSE(x.grad(), view == "transposed" ? expected.transpose(0, -1) : expected, 1e-9,
                     1e-10);
    ++checked;
  }
  CHECK(checked == 36);
}

TEST_CASE("softmax and log_softmax: finite differences agree on every dim and layout",
          "[autograd][softmax]") {
  et::manual_seed(21);
  const VarD x(et::randn<double>({3, 4, 5}) * 2.0, true);
  const VarD xt = transposed_leaf(et::randn<double>({5, 4, 3}));
  const VarD b(et::randn<double>({5}), true);
  const VarD v(et::randn<double>({6}), true), s(et::tensor<double>(0.3), true);
  for (bool log : {false, true}) {
    auto fn = [log](const auto& in, std::int64_t dim) {
      return log ? et::log_softmax(in, dim) : et::softmax(in, dim);
    };
    for (std::int64_t dim : {0, 1, 2, -1, -2}) {
      INFO((log ? "log_softmax" : "softmax") << " dim " << dim);
      auto r = et::gradcheck([&](const auto& in) { return fn(in[0], dim); }, {x});
      INFO(r.report);
      CHECK(r);
      r = et::gradcheck([&](const auto& in) { return fn(in[0], dim); }, {xt});  // strided
      INFO(r.report);
      CHECK(r);
      r = et::gradcheck([&](const auto& in) { return fn(in[0] * in[1] - 0.5, dim); }, {x, b});
      INFO(r.report);
      CHECK(r);
    }
    INFO((log ? "log_softmax" : "softmax") << " of 1-d and 0-d inputs");
    auto r = et::gradcheck([&](const auto& in) { return fn(in[0], 0); }, {v});
    INFO(r.report);
    CHECK(r);
    r = et::gradcheck([&](const auto& in) { return fn(in[0], -1); }, {s});
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("softmax rows sum to 1 and their gradients to 0", "[autograd][softmax]") {
  et::manual_seed(22);
  for (std::int64_t dim : {0, 1, 2}) {  // columns (strided kernel) and rows
    INFO("dim " << dim);
    VarD x(et::randn<double>({4, 5, 6}) * 3.0, true);
    const VarD y = et::softmax(x, dim);
    ETNA_CHECK_CLOSE(et::sum(y.value(), {dim}),
                     et::ones<double>({dim == 0 ? 5 : 4, dim == 2 ? 5 : 6}), 1e-12, 1e-12);
    y.backward(et::randn<double>({4, 5, 6}));
    ETNA_CHECK_CLOSE(et::sum(x.grad(), {dim}),
                     et::zeros<double>({dim == 0 ? 5 : 4, dim == 2 ? 5 : 6}), 0, 1e-12);
    VarD x2(x.value(), true);
    et::log_softmax(x2, dim).backward(et::randn<double>({4, 5, 6}));
    ETNA_CHECK_CLOSE(et::sum(x2.grad(), {dim}),
                     et::zeros<double>({dim == 0 ? 5 : 4, dim == 2 ? 5 : 6}), 0, 1e-12);
  }
}

TEST_CASE("large-magnitude inputs keep softmax and log_softmax gradients finite",
          "[autograd][softmax]") {
  for (bool log : {false, true}) {
    et::Var<float> x(et::tensor<float>({{1000, 1001, 1002}, {-1000, -1001, -3000}}), true);
    const auto y = log ? et::log_softmax(x, 1) : et::softmax(x, 1);
    for (float v : y.value()) CHECK(std::isfinite(v));
    y.backward(et::tensor<float>({{1, -2, 0.5f}, {3, 1, -1}}));
    for (float v : x.grad()) CHECK(std::isfinite(v));
    float row = 0;
    for (int j = 0; j < 3; ++j) row += x.grad()(0, j);
    CHECK(std::fabs(row) < 1e-5f);
  }
}

TEST_CASE("softmax backward over large rows and columns matches the formula",
          "[autograd][softmax]") {
  et::manual_seed(23);
  // Long rows (SIMD tails, several threads) and wide columns (more than one column tile).
  for (auto shape : {et::Shape{64, 1031}, et::Shape{3, 7, 2500}, et::Shape{5, 3000}}) {
    for (std::int64_t dim : {0, -1}) {
      for (bool log : {false, true}) {
        INFO("shape " << shape << " dim " << dim << (log ? " log_softmax" : " softmax"));
        VarD x(et::randn<double>(shape) * 4.0, true);
        const VarD y = log ? et::log_softmax(x, dim) : et::softmax(x, dim);
        const auto g = et::randn<double>(shape);
        y.backward(g);
        ETNA_CHECK_CLOSE(x.grad(), reference_grad(y.value(), g, dim, log), 1e-10, 1e-13);
      }
    }
  }
  // float: the SIMD width doubles; compare against the same formula.
  et::Var<float> xf(et::randn<float>({9, 37}), true);
  const auto yf = et::softmax(xf, 1);
  const auto gf = et::randn<float>({9, 37});
  yf.backward(gf);
  const et::Tensor<float> ref(yf.value() * (gf - et::sum(gf * yf.value(), {1}, true)));
  ETNA_CHECK_CLOSE(xf.grad(), ref, 1e-4, 1e-6);
}

TEST_CASE("softmax of a Var expression: a fused node, then the softmax node",
          "[autograd][softmax]") {
  et::manual_seed(24);
  const VarD x(et::randn<double>({4, 6}), true), b(et::randn<double>({6}), true);
  const VarD y = et::log_softmax(x * 2.0 + b, 1);
  CHECK(y.grad_fn_name() == "LogSoftmaxBackward");
  CHECK(et::softmax(x, 0).grad_fn_name() == "SoftmaxBackward");
  std::vector<std::shared_ptr<et::autograd::NodeBase>> next;
  y.impl_ptr()->grad_fn->next_nodes(next);
  REQUIRE(next.size() == 1);
  CHECK(std::string(next[0]->name()).rfind("FusedBackward", 0) == 0);
  // A typical loss: -mean(log_softmax picked at the targets) via a one-hot mask.
  const auto onehot = et::tensor<double>(
      {{1, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 1}, {0, 1, 0, 0, 0, 0}});
  const auto r = et::gradcheck(
      [&](const auto& in) { return -et::mean(et::log_softmax(in[0] * 2.0 + in[1], 1) * onehot); },
      {x, b});
  INFO(r.report);
  CHECK(r);
  {
    et::NoGradGuard ng;
    CHECK_FALSE(et::softmax(x, 1).requires_grad());
  }
  CHECK_THROWS_AS(et::softmax(x, 2), et::error);
  CHECK_THROWS_AS(et::log_softmax(x, -3), et::error);
}
