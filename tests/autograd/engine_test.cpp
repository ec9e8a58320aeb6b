// The graph and the engine: accumulation, retain_graph, lifetime of graphs, diamonds, dynamic
// control flow, very long chains (backward and teardown), grad mode guards and their threads.
#include <pthread.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using VarD = et::Var<double>;

namespace {
VarD leaf(std::initializer_list<double> values) {
  return VarD(et::tensor<double>(std::vector<double>(values), {std::int64_t(values.size())}), true);
}

// Runs f on a thread with a small stack, so unbounded recursion fails loudly in the test.
void run_with_stack(std::size_t bytes, const std::function<void()>& f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t thread;
  auto call = [](void* p) -> void* {
    (*static_cast<const std::function<void()>*>(p))();
    return nullptr;
  };
  REQUIRE(pthread_create(&thread, &attr, call, const_cast<std::function<void()>*>(&f)) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}
}  // namespace

TEST_CASE("engine: gradients accumulate across backward calls", "[autograd][engine]") {
  VarD x = leaf({1., 2.});
  et::sum(x * x).backward();
  et::sum(x * x).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({4., 8.}));
}

TEST_CASE("engine: a Var used by several ops sums its gradients", "[autograd][engine]") {
  VarD x = leaf({1., 2.});
  VarD a = x * 2.0;                         // one node
  VarD b = et::exp(x);                      // another node
  auto c = et::sum(x);                      // a reduction node
  VarD m = et::matmul(x, x);                // matmul node, x on both sides
  VarD(et::sum(a + b) + c + m).backward();  // the scalar sum is one more fused node
  const auto expected = 2.0 + et::exp(x.value()) + 1.0 + 2.0 * x.value();
  ETNA_CHECK_CLOSE(x.grad(), expected);
}

TEST_CASE("engine: retain_graph allows a second backward", "[autograd][engine]") {
  VarD x = leaf({1., 2.});
  auto s = et::sum(et::sin(x) * x);
  s.backward(/*retain_graph=*/true);
  const et::Tensor<double> first = x.grad().clone();
  s.backward(true);
  ETNA_CHECK_CLOSE(x.grad(), first * 2.0);
  s.backward();  // frees
  ETNA_CHECK_CLOSE(x.grad(), first * 3.0);
  CHECK_THROWS_AS(s.backward(), et::error);
}

TEST_CASE("engine: graphs are freed when unreachable", "[autograd][engine]") {
  VarD x = leaf({1., 2., 3.});
  std::weak_ptr<et::autograd::NodeBase> node;
  std::weak_ptr<et::autograd::VarImpl<double, et::cpu>> mid_impl;
  {
    VarD mid = et::exp(x);
    VarD y = mid * 2.0;
    node = y.impl_ptr()->grad_fn;
    mid_impl = mid.impl_ptr();
    auto s = et::sum(y);
    CHECK_FALSE(node.expired());
  }
  CHECK(node.expired());
  CHECK(mid_impl.expired());

  // backward without retain_graph drops the saved inputs at once, even while the root lives.
  VarD mid = et::exp(x);
  mid_impl = mid.impl_ptr();
  auto s = et::sum(mid * 2.0);
  mid = VarD();
  CHECK_FALSE(mid_impl.expired());
  s.backward();
  CHECK(mid_impl.expired());
}

TEST_CASE("engine: diamond graphs run each node once, after all its consumers",
          "[autograd][engine]") {
  VarD x = leaf({0.3, -0.7, 1.1});
  VarD a = x * 2.0;
  VarD b = et::exp(a), c = et::sin(a);
  auto d = et::sum(b * c);
  d.backward();
  const auto e = et::exp(x.value() * 2.0);
  const auto expected = 2.0 * (e * et::sin(x.value() * 2.0) + e * et::cos(x.value() * 2.0));
  ETNA_CHECK_CLOSE(x.grad(), expected, 1e-12, 1e-12);

  // Two paths of different lengths to the same node.
  VarD y = leaf({0.5, 2.0});
  VarD p = y * y;
  VarD q = et::exp(et::Var<double>(et::tanh(p)));
  et::sum(q + p).backward();
  const auto t = et::tanh(y.value() * y.value());
  const auto dp = et::exp(t) * (1.0 - t * t) + 1.0;
  ETNA_CHECK_CLOSE(y.grad(), dp * 2.0 * y.value(), 1e-12, 1e-12);
}

TEST_CASE("engine: dynamic control flow builds a new graph per call", "[autograd][engine]") {
  SECTION("a data-dependent loop") {
    // Doubles until the value exceeds 10: x = 0.7 takes 4 steps, x = 3 takes 2.
    for (auto [x0, steps] : {std::pair{0.7, 4}, std::pair{3.0, 2}}) {
      VarD x = leaf({x0});
      VarD h = x;
      int taken = 0;
      while (h.item() <= 10) {
        h = h * 2.0;
        ++taken;
      }
      CHECK(taken == steps);
      et::sum(h).backward();
      CHECK(x.grad().item() == std::pow(2.0, steps));
    }
  }
  SECTION("branches") {
    for (double x0 : {-1.5, 0.8}) {
      VarD x = leaf({x0});
      VarD y = x.item() > 0 ? VarD(et::sin(x) * x) : VarD(et::exp(x));
      y.backward(et::ones<double>({1}));
      const double expected = x0 > 0 ? std::cos(x0) * x0 + std::sin(x0) : std::exp(x0);
      CHECK(x.grad().item() == Approx(expected).epsilon(1e-14));
    }
  }
  SECTION("recursion") {
    // f(x, n) = x * f(x, n - 1), f(x, 0) = 1: x^n, df/dx = n x^(n-1).
    std::function<VarD(const VarD&, int)> power = [&](const VarD& x, int n) -> VarD {
      if (n == 1) return x;
      return x * power(x, n - 1);
    };
    for (int n : {1, 3, 6}) {
      VarD x = leaf({1.3});
      et::sum(power(x, n)).backward();
      CHECK(x.grad().item() == Approx(n * std::pow(1.3, n - 1)).epsilon(1e-13));
    }
  }
}

TEST_CASE("engine: a 10,000-node chain runs backward and is destroyed", "[autograd][engine]") {
  constexpr int n = 10000;
  VarD x = leaf({1., 2.});
  {
    VarD h = x;
    for (int i = 0; i < n; ++i) h = h * 1.0001 + 0.5;
    et::sum(h).backward();
  }
  ETNA_CHECK_CLOSE(x.grad(), et::full<double>({2}, std::pow(1.0001, n)), 1e-10);
  {
    VarD h = x;
    for (int i = 0; i < n; ++i) h = et::sum(h * 1.0001, 0, true);
    h.backward(et::ones<double>({1}));
  }
}

TEST_CASE("engine: destroying a long chain never recurses per node", "[autograd][engine]") {
  // 50,000 links on a 256 KiB stack: a recursive teardown would need several MiB.
  bool done = false;
  run_with_stack(256 * 1024, [&] {
    VarD x(et::ones<double>({1}), true);
    VarD h = x;
    for (int i = 0; i < 50000; ++i) h = h * 1.5;
    VarD w(et::ones<double>({1, 1}), true);
    VarD m = w;
    for (int i = 0; i < 20000; ++i) m = et::matmul(m, w);  // heavy-op nodes too
    h = VarD();
    m = VarD();
    done = true;
  });
  CHECK(done);
}

TEST_CASE("engine: NoGradGuard records nothing and restores the mode", "[autograd][grad_mode]") {
  VarD x = leaf({1., 2.});
  CHECK(et::is_grad_enabled());
  {
    et::NoGradGuard guard;
    CHECK_FALSE(et::is_grad_enabled());
    VarD y = x * 2.0;
    auto s = et::sum(y);
    auto m = et::matmul(x, x);
    for (const VarD* v : {&y, &s, &m}) {
      CHECK_FALSE(v->requires_grad());
      CHECK(v->impl_ptr()->grad_fn == nullptr);  // no node was allocated
    }
    {
      et::NoGradGuard nested;
      CHECK_FALSE(et::is_grad_enabled());
    }
    CHECK_FALSE(et::is_grad_enabled());
    {
      et::EnableGradGuard enable;
      VarD z = x * 2.0;
      CHECK(z.requires_grad());
      CHECK_FALSE(z.is_leaf());
    }
    CHECK_FALSE(et::is_grad_enabled());
  }
  CHECK(et::is_grad_enabled());

  auto r = et::no_grad([&] { return VarD(et::exp(x)); });
  CHECK_FALSE(r.requires_grad());
  CHECK(et::is_grad_enabled());
  et::set_grad_enabled(false);
  CHECK_FALSE(VarD(x * x).requires_grad());
  et::set_grad_enabled(true);
  CHECK(VarD(x * x).requires_grad());
}

TEST_CASE("engine: InferenceModeGuard cannot be re-enabled inside", "[autograd][grad_mode]") {
  VarD x = leaf({1., 2.});
  {
    et::InferenceModeGuard inference;
    CHECK(et::is_inference_mode_enabled());
    CHECK_FALSE(et::is_grad_enabled());
    et::EnableGradGuard enable;
    CHECK(et::is_grad_enabled());
    VarD y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.impl_ptr()->grad_fn == nullptr);
    CHECK_FALSE(et::sum(x).requires_grad());
    CHECK_FALSE(et::matmul(x, x).requires_grad());
  }
  CHECK_FALSE(et::is_inference_mode_enabled());
  CHECK(et::is_grad_enabled());
  CHECK(VarD(x * 2.0).requires_grad());
}

TEST_CASE("engine: grad mode is thread-local", "[autograd][grad_mode]") {
  VarD x = leaf({1., 2.});
  et::NoGradGuard guard;
  bool other_enabled = false, other_records = false;
  std::thread([&] {
    other_enabled = et::is_grad_enabled();
    other_records = VarD(x * 3.0).requires_grad();
  }).join();
  CHECK(other_enabled);
  CHECK(other_records);
  CHECK_FALSE(VarD(x * 3.0).requires_grad());

  bool inside_disabled = false;
  {
    et::EnableGradGuard enable;
    std::thread([&] {
      et::NoGradGuard off;
      inside_disabled = !et::is_grad_enabled();
    }).join();
    CHECK(et::is_grad_enabled());  // the other thread's guard did not touch this one
  }
  CHECK(inside_disabled);
}

TEST_CASE("engine: separate graphs backpropagate concurrently", "[autograd][engine]") {
  auto work = [](double x0, double* out) {
    VarD x(et::full<double>({64}, x0), true);
    VarD h = x;
    for (int i = 0; i < 200; ++i) h = et::tanh(h) * 1.01 + 0.01;
    et::sum(h).backward();
    *out = x.grad().data()[0];
  };
  double a = 0, b = 0, a_serial = 0, b_serial = 0;
  work(0.3, &a_serial);
  work(-0.2, &b_serial);
  std::thread ta(work, 0.3, &a), tb(work, -0.2, &b);
  ta.join();
  tb.join();
  CHECK(a == a_serial);
  CHECK(b == b_serial);
}
