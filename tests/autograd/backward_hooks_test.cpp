// The engine's hooks for pruning and distributed training: a leaf's post-accumulate hook, the
// gradient mask, queue_callback, and what an optimizer step does to masked parameters and to a
// parameter's inference cache.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "etna/autograd.hpp"
#include "etna/optim.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using VarD = et::Var<double>;

namespace {
VarD leaf(std::vector<double> values) {
  const auto n = static_cast<std::int64_t>(values.size());
  return VarD(et::tensor<double>(std::move(values), {n}), true);
}
std::vector<double> host(const et::Tensor<double>& t) {
  const auto c = t.contiguous();
  return {c.data(), c.data() + c.numel()};
}
}  // namespace

TEST_CASE("hooks: post_accumulate_hook runs once per gradient reaching .grad",
          "[autograd][hooks]") {
  auto x = leaf({1, 2, 3});
  std::vector<std::vector<double>> seen;
  x.impl_ptr()->post_accumulate_hook = [&](et::autograd::VarImpl<double, et::cpu>& impl) {
    seen.push_back(host(impl.grad));
  };
  VarD a = x * 2.0;  // two separate nodes: x receives two contributions
  VarD b = x * 3.0;
  et::sum(a + b).backward();
  REQUIRE(seen.size() == 2);
  // The second call sees the sum of both contributions, whichever came first.
  CHECK(seen[1] == std::vector<double>{5, 5, 5});
  CHECK((seen[0] == std::vector<double>{2, 2, 2} || seen[0] == std::vector<double>{3, 3, 3}));
}

TEST_CASE("hooks: a GradientTape capture does not call the hook", "[autograd][hooks]") {
  auto x = leaf({1, 2});
  int calls = 0;
  x.impl_ptr()->post_accumulate_hook = [&](auto&) { ++calls; };
  et::GradientTape tape;
  VarD y = et::sum(x * x);
  auto g = tape.gradient(y, {x})[0];
  CHECK(host(g) == std::vector<double>{2, 4});
  CHECK(calls == 0);
  CHECK(!x.grad().defined());
}

TEST_CASE("hooks: queue_callback runs after the whole backward", "[autograd][hooks]") {
  auto x = leaf({1, 2});
  auto w = leaf({3, 4});
  std::vector<double> x_grad_at_end, w_grad_at_end;
  int queued = 0;
  // Queued from inside the backward (at x's first gradient): runs when every leaf has its grad.
  x.impl_ptr()->post_accumulate_hook = [&](auto&) {
    if (queued++ > 0) return;
    et::autograd::queue_callback([&] {
      x_grad_at_end = host(x.grad());
      w_grad_at_end = host(w.grad());
    });
  };
  VarD y = x * w;
  VarD z = y * y;
  et::sum(z).backward();
  CHECK(queued == 1);
  CHECK(x_grad_at_end == std::vector<double>{2 * 3 * 3 * 1, 2 * 4 * 4 * 2});
  CHECK(w_grad_at_end == std::vector<double>{2 * 1 * 1 * 3, 2 * 2 * 2 * 4});

  // Outside a backward a callback runs at once, and nothing is left over for the next one.
  bool ran = false;
  et::autograd::queue_callback([&] { ran = true; });
  CHECK(ran);
  x.impl_ptr()->post_accumulate_hook = nullptr;
  x_grad_at_end.clear();
  et::sum(x * w).backward();
  CHECK(x_grad_at_end.empty());
}

TEST_CASE("hooks: a mask zeroes the gradient that reaches .grad", "[autograd][hooks]") {
  auto x = leaf({1, 2, 3});
  x.impl_ptr()->mask = et::tensor<double>({1, 0, 1}, {3});
  et::sum(x * x).backward();
  CHECK(host(x.grad()) == std::vector<double>{2, 0, 6});
}

TEST_CASE("hooks: optimizer steps keep masked values at zero and drop the inference cache",
          "[optim][hooks]") {
  auto p = leaf({1, 0, -2, 0});
  p.impl_ptr()->mask = et::tensor<double>({1, 0, 1, 0}, {4});
  et::optim::SGD<double> sgd({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  // A gradient set by hand bypasses the mask; the step must still leave pruned values at 0.
  p.set_grad(et::tensor<double>({1, 1, 1, 1}, {4}));
  p.impl_ptr()->inference_cache = std::make_shared<et::autograd::InferenceCacheEntry>();
  sgd.step();
  const auto v = host(p.value());
  CHECK(v[1] == 0.0);
  CHECK(v[3] == 0.0);
  CHECK(v[0] == Approx(1 - 0.1 * (1 + 0.1 * 1)));
  CHECK(v[2] == Approx(-2 - 0.1 * (1 + 0.1 * -2)));
  CHECK(p.impl_ptr()->inference_cache == nullptr);

  // Adam: masked values stay exactly 0 over several steps.
  et::optim::Adam<double> adam({p}, {.lr = 0.5});
  for (int i = 0; i < 3; ++i) {
    p.zero_grad();
    et::sum(p * p * 3.0 + p).backward();
    adam.step();
  }
  const auto a = host(p.value());
  CHECK(a[1] == 0.0);
  CHECK(a[3] == 0.0);
  CHECK(a[0] != v[0]);
}
