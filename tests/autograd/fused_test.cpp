// Fused element-wise nodes: a finite-difference check of every differentiable function and
// operator on Var<double>, broadcasting, repeated and mixed operands, multi-threaded sweeps.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using VarD = et::Var<double>;
using Inputs = std::vector<VarD>;

namespace {

// Values away from every kink (0 for abs/relu/..., the clamp bounds, softplus' threshold).
et::Tensor<double> mixed() {
  return et::tensor<double>({-1.7, -1.2, -0.8, -0.45, -0.3, -0.15, 0.2, 0.35, 0.55, 0.9, 1.3, 1.9},
                            {3, 4});
}
et::Tensor<double> positive() {
  return et::tensor<double>({0.2, 0.35, 0.5, 0.7, 0.9, 1.1, 1.3, 1.6, 1.9, 2.2, 2.6, 3.1}, {3, 4});
}
et::Tensor<double> other() {  // never equal to mixed() (no ties for maximum/minimum)
  return et::tensor<double>({0.4, -1.5, 1.1, -0.2, 0.7, -0.9, 1.6, 0.1, -0.3, 1.2, -0.6, 0.8},
                            {3, 4});
}

template <class F>
void check_unary(const std::string& name, F f, const et::Tensor<double>& x0) {
  VarD x(x0.clone(), true);
  const auto r = et::gradcheck([&](const Inputs& in) { return f(in[0]); }, Inputs{x});
  INFO(name << ": " << r.report);
  CHECK(r.ok);
}

template <class F>
void check_binary(const std::string& name, F f, const et::Tensor<double>& a0,
                  const et::Tensor<double>& b0) {
  VarD a(a0.clone(), true), b(b0.clone(), true);
  const auto r = et::gradcheck([&](const Inputs& in) { return f(in[0], in[1]); }, Inputs{a, b});
  INFO(name << ": " << r.report);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("fused: gradcheck of every unary function", "[autograd][fused]") {
  const auto m = mixed(), p = positive();
  check_unary(
      "neg", [](const auto& x) { return et::neg(x); }, m);
  check_unary(
      "operator-", [](const auto& x) { return -x; }, m);
  check_unary(
      "abs", [](const auto& x) { return et::abs(x); }, m);
  check_unary(
      "sign", [](const auto& x) { return et::sign(x) * x; }, m);
  check_unary(
      "exp", [](const auto& x) { return et::exp(x); }, m);
  check_unary(
      "expm1", [](const auto& x) { return et::expm1(x); }, m);
  check_unary(
      "log", [](const auto& x) { return et::log(x); }, p);
  check_unary(
      "log1p", [](const auto& x) { return et::log1p(x); }, p);
  check_unary(
      "sqrt", [](const auto& x) { return et::sqrt(x); }, p);
  check_unary(
      "rsqrt", [](const auto& x) { return et::rsqrt(x); }, p);
  check_unary(
      "reciprocal", [](const auto& x) { return et::reciprocal(x); }, m);
  check_unary(
      "square", [](const auto& x) { return et::square(x); }, m);
  check_unary(
      "sin", [](const auto& x) { return et::sin(x); }, m);
  check_unary(
      "cos", [](const auto& x) { return et::cos(x); }, m);
  check_unary(
      "tanh", [](const auto& x) { return et::tanh(x); }, m);
  check_unary(
      "sigmoid", [](const auto& x) { return et::sigmoid(x); }, m);
  check_unary(
      "relu", [](const auto& x) { return et::relu(x); }, m);
  check_unary(
      "leaky_relu", [](const auto& x) { return et::leaky_relu(x); }, m);
  check_unary(
      "leaky_relu 0.2", [](const auto& x) { return et::leaky_relu(x, 0.2); }, m);
  check_unary(
      "elu", [](const auto& x) { return et::elu(x); }, m);
  check_unary(
      "elu 1.3", [](const auto& x) { return et::elu(x, 1.3); }, m);
  check_unary(
      "gelu", [](const auto& x) { return et::gelu(x); }, m);
  check_unary(
      "gelu tanh", [](const auto& x) { return et::gelu(x, "tanh"); }, m);
  check_unary(
      "silu", [](const auto& x) { return et::silu(x); }, m);
  check_unary(
      "softplus", [](const auto& x) { return et::softplus(x); }, m);
  // beta 2, threshold 2: linear above x = 1 (1.3 and 1.9 take that branch).
  check_unary(
      "softplus beta", [](const auto& x) { return et::softplus(x, 2.0, 2.0); }, m);
  check_unary(
      "clamp", [](const auto& x) { return et::clamp(x, -0.5, 0.6); }, m);
  check_unary(
      "clamp_min", [](const auto& x) { return et::clamp_min(x, -0.5); }, m);
  check_unary(
      "clamp_max", [](const auto& x) { return et::clamp_max(x, 0.6); }, m);
  check_unary(
      "pow scalar exponent", [](const auto& x) { return et::pow(x, 2.5); }, p);
  check_unary(
      "pow scalar base", [](const auto& x) { return et::pow(1.7, x); }, m);
}

TEST_CASE("fused: gradcheck of every binary operator and function", "[autograd][fused]") {
  const auto m = mixed(), o = other(), p = positive();
  check_binary(
      "add", [](const auto& a, const auto& b) { return a + b; }, m, o);
  check_binary(
      "sub", [](const auto& a, const auto& b) { return a - b; }, m, o);
  check_binary(
      "mul", [](const auto& a, const auto& b) { return a * b; }, m, o);
  check_binary(
      "div", [](const auto& a, const auto& b) { return a / b; }, o, m);
  check_binary(
      "pow", [](const auto& a, const auto& b) { return et::pow(a, b); }, p, m);
  check_binary(
      "maximum", [](const auto& a, const auto& b) { return et::maximum(a, b); }, m, o);
  check_binary(
      "minimum", [](const auto& a, const auto& b) { return et::minimum(a, b); }, m, o);
  check_unary(
      "scalar operands", [](const auto& x) { return (2.0 - x) * 3.0 + 1.5 / (x + 4.0) - x / 2.0; },
      m);
}

TEST_CASE("fused: where routes the gradient by the mask", "[autograd][fused]") {
  const auto m = mixed(), o = other();
  const et::Tensor<bool> mask = o > 0.0;
  check_binary(
      "where tensor mask",
      [&](const auto& a, const auto& b) { return et::where(mask, et::exp(a), b * b); }, m, o);
  check_unary(
      "where scalar branch", [&](const auto& x) { return et::where(mask, x, 0.5); }, m);
  // A mask computed from the Var itself carries no gradient; only the branches do.
  check_unary(
      "where var mask", [](const auto& x) { return et::where(x > 0.0, et::sin(x), x * 3.0); }, m);
  VarD x(m.clone(), true);
  et::sum(VarD(et::where(x > 0.0, x, x * 3.0))).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::where(m > 0.0, 1.0, 3.0));
  // Only the mask reads x: nothing to differentiate, so nothing is recorded (as PyTorch).
  VarD masked = et::where(x > 0.0, m, o);
  CHECK_FALSE(masked.requires_grad());
}

TEST_CASE("fused: a Var inside a mask never receives an uninitialised buffer",
          "[autograd][fused]") {
  // Recycle heap blocks full of a marker value, so an unwritten gradient buffer would show it.
  for (int i = 0; i < 50; ++i) et::full<double>({3, 4}, 1e300);
  VarD x(mixed(), true), y(other(), true);
  et::sum(VarD(et::where(x > 0.0, y, y * 2.0) + x * 0.0)).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::zeros<double>({3, 4}));
  ETNA_CHECK_CLOSE(y.grad(), et::where(mixed() > 0.0, 1.0, 2.0));
}

TEST_CASE("fused: cast stops the gradient", "[autograd][fused]") {
  VarD x(mixed(), true);
  et::sum(VarD(x * 2.0 + et::cast<double>(x))).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::full<double>({3, 4}, 2.0));
  et::Var<float> f(et::tensor<float>({1.f, 2.f}), true);
  VarD d(et::tensor<double>({3., 4.}), true);
  et::Var<float> y = f * et::cast<float>(d);
  et::sum(y).backward();
  ETNA_CHECK_CLOSE(f.grad(), et::tensor<float>({3.f, 4.f}));
  CHECK_FALSE(d.grad().defined());
}

TEST_CASE("fused: broadcast operands get gradients reduced to their shapes", "[autograd][fused]") {
  VarD a(et::tensor<double>({0.5, -1.0, 2.0}, {3, 1}), true);
  VarD b(et::tensor<double>({1.0, 2.0, -0.5, 0.25}, {1, 4}), true);
  et::sum(VarD(a * b)).backward();
  CHECK(a.grad().shape() == et::Shape{3, 1});
  CHECK(b.grad().shape() == et::Shape{1, 4});
  ETNA_CHECK_CLOSE(a.grad(), et::full<double>({3, 1}, 2.75));
  ETNA_CHECK_CLOSE(b.grad(), et::full<double>({1, 4}, 1.5));
  check_binary(
      "[3,1] * [1,4]", [](const auto& u, const auto& v) { return et::tanh(u * v) + u; }, a.value(),
      b.value());

  VarD s(et::full<double>({}, 1.5), true);  // 0-d
  VarD lead(et::tensor<double>({0.1, 0.2, 0.3, 0.4}), true);
  VarD big(et::Tensor<double>(et::linspace<double>(-1, 1, 24).reshape({2, 3, 4})), true);
  et::sum(VarD(big * lead * s + et::exp(s))).backward();
  CHECK(s.grad().shape() == et::Shape{});
  CHECK(lead.grad().shape() == et::Shape{4});
  CHECK(big.grad().shape() == et::Shape{2, 3, 4});
  const double ds =
      24 * std::exp(1.5) + et::Tensor<double>(et::sum(big.value() * lead.value())).item();
  ETNA_CHECK_CLOSE(s.grad(), et::full<double>({}, ds), 1e-12);
  const auto r =
      et::gradcheck([](const Inputs& in) { return et::sin(in[0] * in[1]) * in[2] + in[2] / in[1]; },
                    Inputs{big, lead, s});
  INFO(r.report);
  CHECK(r.ok);
}

TEST_CASE("fused: one Var used several times in one expression", "[autograd][fused]") {
  VarD x(mixed(), true);
  et::sum(VarD(x * x * x + et::sin(x) * x)).backward();
  const auto v = mixed();
  ETNA_CHECK_CLOSE(x.grad(), 3.0 * v * v + et::cos(v) * v + et::sin(v), 1e-12, 1e-12);
  check_unary(
      "x appears five times", [](const auto& u) { return u * u * et::exp(u) / (u * u + 1.0) - u; },
      mixed());
}

TEST_CASE("fused: tensors and constant Vars in a Var expression get nothing", "[autograd][fused]") {
  const auto t = other();
  VarD x(mixed(), true), c(positive());
  et::sum(VarD(x * t + et::exp(t) * c + x * c)).backward();
  ETNA_CHECK_CLOSE(x.grad(), t + positive());
  CHECK_FALSE(c.grad().defined());
  ETNA_CHECK_CLOSE(t, other());
}

TEST_CASE("fused: an expression records exactly one node", "[autograd][fused]") {
  VarD a(mixed(), true), b(other(), true), c(positive(), true);
  VarD y = a * b + et::exp(c) * 2.0;
  CHECK(y.grad_fn_name() == "FusedBackward[add(mul(var, var), mul(exp(var), const))]");
  const auto order = et::autograd::topological_order(y.impl_ptr()->grad_fn);
  CHECK(order.size() == 1);
  std::vector<std::shared_ptr<et::autograd::NodeBase>> next;
  order[0]->next_nodes(next);
  CHECK(next.empty());       // its inputs are leaves: no further nodes
  VarD z = et::tanh(y) * a;  // a fused node over a non-leaf: two nodes in all
  CHECK(et::autograd::topological_order(z.impl_ptr()->grad_fn).size() == 2);
  CHECK(z.grad_fn_name() == "FusedBackward[mul(tanh(var), var)]");
}

TEST_CASE("fused: empty tensors backpropagate", "[autograd][fused]") {
  VarD x(et::zeros<double>({0, 3}), true);
  et::sum(VarD(x * 2.0)).backward();
  CHECK(x.grad().shape() == et::Shape{0, 3});
}

TEST_CASE("fused: multi-threaded backward equals the single-thread result", "[autograd][fused]") {
  const int saved = et::get_num_threads();
  const std::int64_t rows = 1201, cols = 1003;  // > 1M elements, odd sizes (SIMD tails)
  et::Generator gen(7);
  const auto a0 = et::randn<double>({rows, cols}, gen), b0 = et::randn<double>({cols}, gen);
  const auto c0 = et::randn<double>({rows * cols}, gen);
  auto run = [&](int threads) {
    et::set_num_threads(threads);
    VarD a(a0, true), b(b0, true), c(c0, true);
    // A 2-D broadcast case (rows split over threads) and a flat one (one row split).
    et::sum(VarD(et::tanh(a * b) + et::exp(a * 0.1) * b)).backward();
    et::sum(VarD(et::sigmoid(c) * c)).backward();
    return std::vector<et::Tensor<double>>{a.grad(), b.grad(), c.grad()};
  };
  const auto one = run(1), two = run(2), four = run(4);
  et::set_num_threads(saved);
  for (std::size_t k = 0; k < one.size(); ++k) {
    // Element-wise gradients match to rounding (a lane may take the scalar tail in one split
    // and SIMD in another); the broadcast operand's reduction may sum in another order.
    ETNA_CHECK_CLOSE(two[k], one[k], 1e-12, 1e-12);
    ETNA_CHECK_CLOSE(four[k], one[k], 1e-12, 1e-12);
  }
  ETNA_CHECK_CLOSE(one[2], et::sigmoid(c0) * (1.0 + c0 * (1.0 - et::sigmoid(c0))), 1e-12, 1e-12);
}
