// Var<T, cuda>: the fused element-wise node's device backward against the CPU's on identical
// inputs (every functor, broadcasting, strided leaves, saved-output roots), accumulation,
// zero_grad/detach/retain_grad, Var::to, printing and a finite-difference gradcheck on cuda.
#include "cuda/support.hpp"

#include <string>
#include <vector>

namespace et = etna;
using et::test::gpu;

namespace {

// Runs f on cpu Vars and on cuda Vars built from the same host tensors, backpropagates the same
// random output gradient through both and compares every input's gradient.
template <class F>
void require_same_gradients(F f, const std::vector<et::Tensor<float>>& inputs,
                            const std::string& name) {
  INFO(name);
  std::vector<et::Var<float>> host;
  std::vector<et::Var<float, gpu>> dev;
  for (const auto& t : inputs) {
    host.emplace_back(t.clone(), true);
    dev.emplace_back(t.to<gpu>(), true);
  }
  const et::Var<float> y = f(host);
  const et::Var<float, gpu> yd = f(dev);
  ETNA_REQUIRE_MATCHES_CPU(yd.value(), y.value(), 1e-5);
  et::Generator gen(11);
  const auto g = et::randn<float>(y.shape(), gen);
  y.backward(g);
  yd.backward(g.to<gpu>());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    INFO("input " << k);
    REQUIRE(dev[k].grad().defined());
    ETNA_REQUIRE_MATCHES_CPU(dev[k].grad(), host[k].grad(), 1e-5);
  }
}

template <class F>
void unary(const std::string& name, F f, const et::Tensor<float>& x) {
  require_same_gradients([&](const auto& in) { return f(in[0]); }, {x}, name);
}

template <class F>
void binary(const std::string& name, F f, const et::Tensor<float>& a, const et::Tensor<float>& b) {
  require_same_gradients([&](const auto& in) { return f(in[0], in[1]); }, {a, b}, name);
}

}  // namespace

TEST_CASE("cuda fused backward of every unary functor matches the cpu") {
  et::manual_seed(3);
  const auto m = et::randn<float>({17, 33});
  const auto p = et::uniform<float>({17, 33}, 0.2, 3.0);
  unary("neg", [](const auto& x) { return -x; }, m);
  unary("exp", [](const auto& x) { return et::exp(x); }, m);
  unary("expm1", [](const auto& x) { return et::expm1(x); }, m);
  unary("log", [](const auto& x) { return et::log(x); }, p);
  unary("log1p", [](const auto& x) { return et::log1p(x); }, p);
  unary("sqrt", [](const auto& x) { return et::sqrt(x); }, p);
  unary("rsqrt", [](const auto& x) { return et::rsqrt(x); }, p);
  unary("reciprocal", [](const auto& x) { return et::reciprocal(x); }, p);
  unary("square", [](const auto& x) { return et::square(x); }, m);
  unary("sin", [](const auto& x) { return et::sin(x); }, m);
  unary("cos", [](const auto& x) { return et::cos(x); }, m);
  unary("tanh", [](const auto& x) { return et::tanh(x); }, m);
  unary("sigmoid", [](const auto& x) { return et::sigmoid(x); }, m);
  unary("relu", [](const auto& x) { return et::relu(x); }, m);
  unary("leaky_relu", [](const auto& x) { return et::leaky_relu(x, 0.2); }, m);
  unary("elu", [](const auto& x) { return et::elu(x, 1.3); }, m);
  unary("scalar operands", [](const auto& x) { return (2.f - x) * 3.f + 1.5f / (x + 4.f) - x / 2.f; }, p);
  unary("deep chain", [](const auto& x) { return et::tanh(et::exp(x * 0.3f) * x + et::sin(x)) * x; }, m);
  unary("repeated operand", [](const auto& x) { return x * x * x + x; }, m);
  unary("abs", [](const auto& x) { return et::abs(x); }, m);
  unary("sign", [](const auto& x) { return et::sign(x) * x; }, m);
  unary("gelu", [](const auto& x) { return et::gelu(x); }, m);
  unary("gelu tanh", [](const auto& x) { return et::gelu(x, "tanh"); }, m);
  unary("silu", [](const auto& x) { return et::silu(x); }, m);
  unary("softplus", [](const auto& x) { return et::softplus(x, 2.0, 2.0); }, m);
  unary("clamp", [](const auto& x) { return et::clamp(x, -0.5, 0.6); }, m);
  unary("pow scalar exponent", [](const auto& x) {
          using T = typename std::remove_cvref_t<decltype(x)>::value_type;
          return et::pow(x, T(2.5));
        }, p);
  unary("pow scalar base", [](const auto& x) {
          using T = typename std::remove_cvref_t<decltype(x)>::value_type;
          return et::pow(T(1.7), x);
        }, m);
}

TEST_CASE("cuda fused backward of binary functors, where and masks matches the cpu") {
  et::manual_seed(4);
  const auto a = et::randn<float>({9, 31});
  const auto b = et::randn<float>({9, 31});
  const auto p = et::uniform<float>({9, 31}, 0.5, 2.0);
  binary("add", [](const auto& x, const auto& y) { return x + y; }, a, b);
  binary("sub", [](const auto& x, const auto& y) { return x - y; }, a, b);
  binary("mul", [](const auto& x, const auto& y) { return x * y; }, a, b);
  binary("div", [](const auto& x, const auto& y) { return x / y; }, a, p);
  binary("pow", [](const auto& x, const auto& y) { return et::pow(x, y); }, p, a);
  binary("maximum", [](const auto& x, const auto& y) { return et::maximum(x, y); }, a, b);
  binary("minimum", [](const auto& x, const auto& y) { return et::minimum(x, y); }, a, b);
  binary("where", [](const auto& x, const auto& y) { return et::where(x > y, x * 2.f, et::exp(y)); }, a, b);
  binary("sigmoid root over two Vars", [](const auto& x, const auto& y) { return et::sigmoid(x * y); }, a, b);
}

TEST_CASE("cuda fused backward with strided leaves and plain tensor operands") {
  et::manual_seed(5);
  const auto a = et::randn<float>({12, 20});
  const auto w = et::randn<float>({20, 12});
  et::Var<float> x(a.clone(), true);
  et::Var<float, gpu> xd(a.to<gpu>(), true);
  // A transposed tensor operand keeps the iteration space 2-d (the device's non-flat path).
  const et::Var<float> y = et::tanh(x * w.t() + 1.f);
  const et::Var<float, gpu> yd = et::tanh(xd * w.to<gpu>().t() + 1.f);
  const auto g = et::randn<float>({12, 20});
  y.backward(g);
  yd.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(xd.grad(), x.grad(), 1e-5);
  // A Var whose value is a transposed view.
  et::Var<float> v(w.t(), true);
  et::Var<float, gpu> vd(w.to<gpu>().t(), true);
  et::Var<float> z = v * v + et::sin(v);
  et::Var<float, gpu> zd = vd * vd + et::sin(vd);
  z.backward(g);
  zd.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(vd.grad(), v.grad(), 1e-5);
  CHECK(vd.grad().shape() == et::Shape{12, 20});
}

TEST_CASE("cuda fused backward sums broadcast gradients back to each operand") {
  et::manual_seed(6);
  const auto a = et::randn<float>({4, 5, 6});
  const auto b = et::randn<float>({5, 1});
  const auto c = et::randn<float>({6});
  require_same_gradients(
      [](const auto& in) { return et::sigmoid(in[0] * in[1] + in[2]) * in[2]; }, {a, b, c},
      "three-way broadcast");
  require_same_gradients([](const auto& in) { return in[0] * in[1]; },
                         {et::randn<float>({1, 7}), et::randn<float>({3, 1})}, "outer product");
}

TEST_CASE("cuda gradients accumulate, and zero_grad, detach and retain_grad behave as on cpu") {
  et::manual_seed(8);
  const auto a = et::randn<float>({3, 4});
  const auto ga = et::randn<float>({3, 4});
  et::Var<float, gpu> x(a.to<gpu>(), true);
  et::Var<float> xh(a.clone(), true);
  for (int round = 0; round < 2; ++round) {  // two backward calls add up
    et::Var<float, gpu> y = x * x + 1.f;
    et::Var<float> yh = xh * xh + 1.f;
    y.backward(ga.to<gpu>());
    yh.backward(ga);
  }
  ETNA_REQUIRE_MATCHES_CPU(x.grad(), xh.grad(), 1e-6);
  et::Tensor<float> twice = ga * a * 4.f;
  ETNA_REQUIRE_MATCHES_CPU(x.grad(), twice, 1e-6);

  x.zero_grad();
  CHECK_FALSE(x.grad().defined());

  // retain_grad keeps an intermediate's gradient; retain_graph lets a second backward run.
  et::Var<float, gpu> h = et::exp(x);
  h.retain_grad();
  et::Var<float, gpu> out = h * 3.f;
  out.backward(ga.to<gpu>(), /*retain_graph=*/true);
  et::Tensor<float> three = ga * 3.f;
  ETNA_REQUIRE_MATCHES_CPU(h.grad(), three, 1e-6);
  et::Tensor<float> expected = ga * 3.f * et::exp(a);
  ETNA_REQUIRE_MATCHES_CPU(x.grad(), expected, 1e-5);
  out.backward(ga.to<gpu>());
  et::Tensor<float> doubled = expected * 2.f;
  ETNA_REQUIRE_MATCHES_CPU(x.grad(), doubled, 1e-5);

  // detach: shares the value, records nothing.
  et::Var<float, gpu> d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.value().data() == x.value().data());
  et::Var<float, gpu> dd = d * 2.f;
  CHECK_FALSE(dd.requires_grad());
}

TEST_CASE("cuda backward from a one-element Var and errors for bad gradients") {
  et::Var<float, gpu> x(et::tensor<float>({1.5f, -2.f}).to<gpu>(), true);
  et::Var<float, gpu> s = et::Var<float, gpu>(x * x).reshape({2}).slice(0, 1, 2).reshape({});
  s.backward();
  const auto g = x.grad().to<et::cpu>();
  CHECK(g(0) == 0.f);
  CHECK(g(1) == -4.f);
  et::Var<float, gpu> y = x * 2.f;
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("grad can be implicitly created only for outputs "
                                                  "with one element"));
  CHECK_THROWS_WITH(y.backward(et::ones<float, gpu>({3})),
                    Catch::Contains("backward: gradient of shape [3] does not match"));
}

TEST_CASE("cuda Var::to moves values and sends gradients back across devices") {
  const auto a = et::tensor<float>({{1.f, 2.f}, {3.f, 4.f}});
  et::Var<float> x(a.clone(), true);
  et::Var<float, gpu> xd = x.to<gpu>();
  CHECK(xd.requires_grad());
  CHECK(xd.grad_fn_name() == "ToCopyBackward0");
  et::Var<float, gpu> y = xd * xd;
  et::Var<float> back = y.to<et::cpu>();
  back.backward(et::ones<float>({2, 2}));
  et::Tensor<float> expected = a * 2.f;
  CHECK(std::equal(expected.begin(), expected.end(), x.grad().begin()));
  // Same device: the Var itself.
  CHECK(xd.to<gpu>().impl_ptr() == xd.impl_ptr());
}

TEST_CASE("cuda Vars print like PyTorch's cuda tensors") {
  et::Var<float, gpu> x(et::tensor<float>({1.f, 2.f}).to<gpu>(), true);
  std::ostringstream s;
  s << x;
  CHECK(s.str() == "tensor([1., 2.], device='cuda:0', requires_grad=True)");
  et::Var<float, gpu> y = x * 2.f;
  std::ostringstream s2;
  s2 << y;
  CHECK(s2.str() == "tensor([2., 4.], device='cuda:0', grad_fn=<FusedBackward[mul(var, const)]>)");
}

TEST_CASE("cuda gradcheck of fused expressions in double") {
  et::manual_seed(9);
  et::Var<double, gpu> a(et::uniform<double, gpu>({3, 4}, 0.5, 1.5), true);
  et::Var<double, gpu> b(et::randn<double, gpu>({4}), true);
  const auto r = et::gradcheck(
      [](const std::vector<et::Var<double, gpu>>& in) {
        return et::Var<double, gpu>(et::tanh(in[0] * in[1]) + et::log(in[0]) * et::exp(in[1]));
      },
      std::vector<et::Var<double, gpu>>{a, b});
  INFO(r.report);
  CHECK(r.ok);
  const auto single = et::gradcheck([](const auto& x) { return et::sigmoid(x) * x; }, a);
  INFO(single.report);
  CHECK(single.ok);
}
