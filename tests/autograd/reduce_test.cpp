#include "etna/autograd/ops/reduce.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <concepts>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using nlohmann::json;
using VarD = et::Var<double>;
using Dims = std::vector<std::int64_t>;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Each op as a callable, so one helper can try its overloads (all, dim, dims).
#define ETNA_OP(name) \
  [](const auto& x, auto&&... a) -> decltype(et::name(x, a...)) { return et::name(x, a...); }

// A leaf Var whose value is a non-contiguous view of t (transposed), as a view of a Var
// would be: the reductions read it through its strides.
VarD transposed_leaf(const et::Tensor<double>& t) {
  auto impl = std::make_shared<et::autograd::VarImpl<double, et::cpu>>();
  impl->value = t.transpose(0, -1);
  impl->requires_grad = true;
  return VarD(impl);
}

// gradcheck of op over every way of calling a reduction: all elements, one dim, a negative
// dim, dim lists (unordered, {} = all), keepdim both ways, a non-contiguous input and a Var
// expression input (gradients into both of its Vars).
template <class Op>
void gradcheck_reduction(Op op, const et::Tensor<double>& base) {
  const VarD x(base, true);
  const VarD xt = transposed_leaf(base.transpose(0, -1).contiguous());
  const VarD b(et::randn<double>({base.size(-1)}) * 0.1 + 1.0, true);
  std::vector<std::pair<std::string, std::function<VarD(const std::vector<VarD>&)>>> configs = {
      {"dim 1", [&](const auto& in) { return op(in[0], 1); }},
      {"dim -1 keepdim", [&](const auto& in) { return op(in[0], -1, true); }},
      {"dims {0, 2}",
       [&](const auto& in) {
         return op(in[0], Dims{0, 2});
       }},
      {"dims {2, 0} keepdim",
       [&](const auto& in) {
         return op(in[0], Dims{2, 0}, true);
       }},
      {"dims {} (all)", [&](const auto& in) { return op(in[0], Dims{}); }},
      {"dims {0, 1, 2} keepdim",
       [&](const auto& in) {
         return op(in[0], Dims{0, 1, 2}, true);
       }},
      {"dims {-1}", [&](const auto& in) { return op(in[0], Dims{-1}); }},
  };
  if constexpr (std::invocable<Op, const VarD&>)  // logsumexp takes dims
    configs.push_back({"all", [&](const auto& in) { return op(in[0]); }});
  for (const auto& [what, f] : configs) {
    INFO(what);
    const auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
  {
    INFO("non-contiguous input, dim 0 and dims {0, 2} keepdim");
    auto r = et::gradcheck([&](const auto& in) { return op(in[0], 0); }, {xt});
    INFO(r.report);
    CHECK(r);
    r = et::gradcheck([&](const auto& in) { return op(in[0], Dims{0, 2}, true); }, {xt});
    INFO(r.report);
    CHECK(r);
  }
  {
    INFO("Var expression input x * b + 0.25, dim 1");
    const auto r =
        et::gradcheck([&](const auto& in) { return op(in[0] * in[1] + 0.25, 1); }, {x, b});
    INFO(r.report);
    CHECK(r);
  }
}

et::Tensor<double> random_input(double shift = 0, double scale = 1) {
  return et::Tensor<double>(et::randn<double>({3, 4, 5}) * scale + shift);
}

// Calls op with the fixture case's dims, keepdim and argument on x (a Var or expression).
enum class Args { plain, correction, p };

template <Args kind, class X, class Fn>
VarD call_case(const X& x, const json& c, Fn fn) {
  const bool keepdim = c.value("keepdim", false);
  const json& dims = c["dims"];
  if constexpr (kind == Args::correction) {
    const double corr = c["arg"].get<double>();
    if (dims.is_null()) return corr == 1 ? fn(x) : fn(x, Dims{}, false, corr);
    if (dims.is_number()) return fn(x, dims.get<std::int64_t>(), keepdim, corr);
    return fn(x, dims.get<Dims>(), keepdim, corr);
  } else if constexpr (kind == Args::p) {
    const double p = c["arg"].is_string() ? kInf : c["arg"].get<double>();
    if (dims.is_null()) return fn(x, p);
    if (dims.is_number()) return fn(x, p, dims.get<std::int64_t>(), keepdim);
    return fn(x, p, dims.get<Dims>(), keepdim);
  } else {
    if constexpr (requires { fn(x); }) {
      if (dims.is_null()) return fn(x);
    }
    if (dims.is_array()) return fn(x, dims.get<Dims>(), keepdim);
    return fn(x, dims.get<std::int64_t>(), keepdim);
  }
}

template <class X>
VarD dispatch(const X& x, const json& c) {
  const std::string op = c["op"];
  if (op == "sum") return call_case<Args::plain>(x, c, ETNA_OP(sum));
  if (op == "mean") return call_case<Args::plain>(x, c, ETNA_OP(mean));
  if (op == "prod") return call_case<Args::plain>(x, c, ETNA_OP(prod));
  if (op == "max") return call_case<Args::plain>(x, c, ETNA_OP(max));
  if (op == "min") return call_case<Args::plain>(x, c, ETNA_OP(min));
  if (op == "amax") return call_case<Args::plain>(x, c, ETNA_OP(amax));
  if (op == "amin") return call_case<Args::plain>(x, c, ETNA_OP(amin));
  if (op == "logsumexp") return call_case<Args::plain>(x, c, ETNA_OP(logsumexp));
  if (op == "var") return call_case<Args::correction>(x, c, ETNA_OP(var));
  if (op == "std") return call_case<Args::correction>(x, c, ETNA_OP(std));
  if (op == "norm") return call_case<Args::p>(x, c, ETNA_OP(norm));
  FAIL("unknown op " << op);
  return {};
}

}  // namespace

TEST_CASE("reduction gradients match PyTorch (dims, keepdim, views, ties, zeros)",
          "[autograd][reduce]") {
  et::test::Fixtures f("autograd_reduce.json");
  int checked = 0;
  for (const json& c : f.json()["cases"]) {
    if (c["op"] == "softmax" || c["op"] == "log_softmax") continue;
    INFO(c.dump());
    const auto input = f.tensor<double>(c["input"].get<std::string>());
    const auto g = f.tensor<double>(c["g"].get<std::string>());
    const auto expected = f.tensor<double>(c["grad"].get<std::string>());
    const std::string view = c.value("view", "plain");
    const VarD x = view == "transposed" ? transposed_leaf(input) : VarD(input, true);
    const VarD y = view == "expr" ? dispatch(x * 2.0 - 1.0, c) : dispatch(x, c);
    REQUIRE(y.shape() == g.shape());
    y.backward(g);
    ETNA_CHECK_CLOSE(x.grad(), view == "transposed" ? expected.transpose(0, -1) : expected, 1e-9,
                     1e-10);
    ++checked;
  }
  CHECK(checked > 380);
}

TEST_CASE("sum and mean: finite differences agree", "[autograd][reduce]") {
  et::manual_seed(1);
  gradcheck_reduction(ETNA_OP(sum), random_input());
  gradcheck_reduction(ETNA_OP(mean), random_input());
}

TEST_CASE("prod: finite differences agree, zeros handled exactly", "[autograd][reduce]") {
  et::manual_seed(2);
  gradcheck_reduction(ETNA_OP(prod), random_input(1.0, 0.3));
  // One zero: its gradient is the product of the others; two zeros: all gradients are 0.
  VarD x(et::tensor<double>({{0, 2, 3}, {0, 0, 5}, {1, 2, 4}}), true);
  et::sum(et::prod(x, 1)).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{6, 0, 0}, {0, 0, 0}, {8, 4, 2}}), 0, 0);
}

TEST_CASE("max, min, amax, amin: finite differences agree away from ties", "[autograd][reduce]") {
  et::manual_seed(3);
  gradcheck_reduction(ETNA_OP(max), random_input());
  gradcheck_reduction(ETNA_OP(min), random_input());
  gradcheck_reduction(ETNA_OP(amax), random_input());
  gradcheck_reduction(ETNA_OP(amin), random_input());
}

TEST_CASE("max/min ties: split over all elements, first one per dim, amax always splits",
          "[autograd][reduce]") {
  const auto t = et::tensor<double>({{1, 5, 5, 0}, {2, 2, 2, 2}});
  VarD x(t, true);
  et::max(x).backward();  // the maximum 5 appears twice
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{0, 0.5, 0.5, 0}, {0, 0, 0, 0}}), 0, 0);
  x.zero_grad();
  et::sum(et::max(x, 1)).backward();  // the first maximum of each row, as argmax
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{0, 1, 0, 0}, {1, 0, 0, 0}}), 0, 0);
  CHECK(et::argmax(x, 1)(0) == 1);
  x.zero_grad();
  et::sum(et::amax(x, 1)).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{0, 0.5, 0.5, 0}, {.25, .25, .25, .25}}), 0, 0);
  x.zero_grad();
  et::sum(et::min(x, Dims{0, 1}, true)).backward();  // a list of dims: the first minimum
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{0, 0, 0, 1}, {0, 0, 0, 0}}), 0, 0);
  // A NaN is the maximum, and takes the gradient.
  VarD n(et::tensor<double>({1, std::nan(""), 3}), true);
  et::max(n).backward();
  ETNA_CHECK_CLOSE(n.grad(), et::tensor<double>({0, 1, 0}), 0, 0);
}

TEST_CASE("var and std: finite differences agree for each correction", "[autograd][reduce]") {
  et::manual_seed(4);
  gradcheck_reduction(ETNA_OP(var), random_input());
  gradcheck_reduction(ETNA_OP(std), random_input());
  const VarD x(random_input(), true);
  for (double corr : {0.0, 2.0, 0.5}) {
    INFO("correction " << corr);
    auto r = et::gradcheck(
        [&](const auto& in) {
          return et::var(in[0], Dims{0, 2}, true, corr);
        },
        {x});
    INFO(r.report);
    CHECK(r);
    r = et::gradcheck([&](const auto& in) { return et::std(in[0], 1, false, corr); }, {x});
    INFO(r.report);
    CHECK(r);
  }
  // std of a constant row: gradient 0 (not NaN), as PyTorch.
  VarD c(et::tensor<double>({{2, 2, 2}, {1, 2, 4}}), true);
  et::sum(et::std(c, 1)).backward();
  CHECK(c.grad()(0, 0) == 0);
  CHECK(std::isfinite(c.grad()(1, 0)));
  // One element with correction 1: the value and the gradient are NaN (0 / 0), as PyTorch.
  VarD one(et::tensor<double>({3.0}), true);
  const VarD v1 = et::var(one);
  CHECK(std::isnan(v1.item()));
  v1.backward();
  CHECK(std::isnan(one.grad()(0)));
}

TEST_CASE("logsumexp: finite differences agree; large magnitudes stay finite",
          "[autograd][reduce]") {
  et::manual_seed(5);
  gradcheck_reduction(ETNA_OP(logsumexp), random_input());
  VarD big(et::tensor<double>({{1000, 1001, -1000}, {-1000, -1001, -1002}}), true);
  const VarD l = et::logsumexp(big, 1);
  CHECK(std::isfinite(l.value()(0)));
  et::sum(l).backward();
  for (double v : big.grad()) CHECK(std::isfinite(v));
  // The gradient is the softmax of each row: it sums to 1.
  CHECK(big.grad()(0, 0) + big.grad()(0, 1) + big.grad()(0, 2) == Approx(1.0));
  et::Var<float> bigf(et::tensor<float>({1000.f, 1000.f, 999.f}), true);
  et::logsumexp(bigf, 0).backward();
  for (float v : bigf.grad()) CHECK(std::isfinite(v));
}

TEST_CASE("norm: finite differences agree for p = 1, 2, 3, 1.5, 0.5, inf; 0 at 0",
          "[autograd][reduce]") {
  et::manual_seed(6);
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, kInf}) {
    INFO("p = " << p);
    gradcheck_reduction([p](const auto& x, auto&&... a) { return et::norm(x, p, a...); },
                        random_input());
  }
  // The subgradient at 0 is 0 for every p (PyTorch's choice), never NaN.
  for (double p : {2.0, 1.0, 3.0, 0.5, kInf}) {
    INFO("p = " << p);
    VarD z(et::tensor<double>({{0, 0, 0}, {0, 3, -4}}), true);
    et::sum(et::norm(z, p, 1)).backward();
    CHECK(z.grad()(0, 0) == 0);
    CHECK(z.grad()(0, 1) == 0);
    CHECK(z.grad()(1, 0) == 0);
    CHECK(std::isfinite(z.grad()(1, 1)));
  }
  // p = 2 on the row (0, 3, -4): x / ||x||.
  VarD w(et::tensor<double>({0, 3, -4}), true);
  et::norm(w).backward();
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({0, 0.6, -0.8}), 1e-15, 0);
}

TEST_CASE("a Var expression is recorded as one fused node, then the reduction node",
          "[autograd][reduce]") {
  et::manual_seed(7);
  const VarD x(et::randn<double>({4, 6}), true), b(et::randn<double>({6}), true);
  const VarD l = et::logsumexp(x * 2.0 + b, 1);
  CHECK(l.grad_fn_name() == "LogsumexpBackward");
  std::vector<std::shared_ptr<et::autograd::NodeBase>> next;
  l.impl_ptr()->grad_fn->next_nodes(next);
  REQUIRE(next.size() == 1);
  CHECK(std::string(next[0]->name()).rfind("FusedBackward", 0) == 0);
  const auto r =
      et::gradcheck([](const auto& in) { return et::logsumexp(in[0] * 2.0 + in[1], 1); }, {x, b});
  INFO(r.report);
  CHECK(r);
  CHECK(et::prod(x, 0).grad_fn_name() == "ProdBackward");
  CHECK(et::max(x).grad_fn_name() == "MaxBackward");
  CHECK(et::amin(x, 1).grad_fn_name() == "AminBackward");
  CHECK(et::std(x).grad_fn_name() == "StdBackward");
  CHECK(et::var(x, 0).grad_fn_name() == "VarBackward");
  CHECK(et::norm(x, 3.0).grad_fn_name() == "NormBackward");
}

TEST_CASE("sum/mean of a fused expression backpropagate as the unfused computation",
          "[autograd][reduce]") {
  et::manual_seed(8);
  const auto xt = et::randn<double>({5, 7}), yt = et::randn<double>({7});
  VarD x(xt, true), y(yt, true);
  et::mean(x * y + et::exp(x) - et::tanh(y) / 3.0, 0).backward(et::ones<double>({7}));
  et::sum(et::square(x - y)).backward();
  VarD x2(xt, true), y2(yt, true);
  const VarD xy = x2 * y2, ex = et::exp(x2), ty = et::tanh(y2);  // one node per operation
  const VarD a = xy + ex, d = ty / 3.0, e = a - d;
  et::mean(e, 0).backward(et::ones<double>({7}));
  const VarD diff = x2 - y2, sq = et::square(diff);
  et::sum(sq).backward();
  ETNA_CHECK_CLOSE(x.grad(), x2.grad(), 1e-13, 1e-14);
  ETNA_CHECK_CLOSE(y.grad(), y2.grad(), 1e-13, 1e-14);
}

TEST_CASE("argmax/argmin of Vars: int64 indices, nothing recorded", "[autograd][reduce]") {
  const VarD x(et::tensor<double>({{1, 7, 7}, {-2, -5, -5}}), true);
  STATIC_REQUIRE(std::is_same_v<decltype(et::argmax(x)), et::Tensor<std::int64_t>>);
  CHECK(et::argmax(x).item() == 1);
  CHECK(et::argmin(x).item() == 4);
  ETNA_CHECK_CLOSE(et::argmax(x, 1), et::tensor<std::int64_t>({1, 0}), 0, 0);
  ETNA_CHECK_CLOSE(et::argmin(x, -1, true), et::tensor<std::int64_t>({{0}, {1}}), 0, 0);
  CHECK(et::argmax(x * -1.0, 0)(0) == 1);  // a Var expression: evaluated, not recorded
}

TEST_CASE("grad mode, float Vars, released graphs and bad arguments", "[autograd][reduce]") {
  const VarD x(et::tensor<double>({{1, 2}, {3, 4}}), true);
  {
    et::NoGradGuard ng;
    CHECK_FALSE(et::prod(x).requires_grad());
    CHECK_FALSE(et::norm(x, 1.0, 0).requires_grad());
  }
  CHECK_FALSE(et::max(VarD(et::ones<double>({3}))).requires_grad());
  const VarD s = et::var(x, 0);
  et::sum(s).backward(true);
  et::sum(s).backward();  // graph retained once: the gradients accumulate
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({{-4, -4}, {4, 4}}), 1e-15, 0);
  const VarD p = et::prod(x);
  p.backward();
  CHECK_THROWS_AS(p.backward(), et::error);  // saved tensors were freed

  et::Var<float> xf(et::tensor<float>({{1, 2}, {3, 4}}), true);
  et::sum(et::std(xf, 1)).backward();
  CHECK(xf.grad()(0, 0) == Approx(-std::sqrt(0.5f)));
  CHECK_THROWS_AS(et::max(x, 2), et::error);
  CHECK_THROWS_AS(et::sum(x, Dims{0, 0}), et::error);
  CHECK_THROWS_AS(et::norm(x, -1.0), et::error);
  CHECK_THROWS_AS(et::max(VarD(et::zeros<double>({0, 2}), true)), et::error);
}
