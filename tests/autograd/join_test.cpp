// Tests etna/autograd/ops/join.hpp: concat/cat and stack send each input its slab of the
// gradient; split/chunk pieces are views whose gradients meet in the input, used or not.
#include "etna/autograd/ops/join.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "etna/autograd.hpp"
#include "support/autograd_shape_ops.hpp"

namespace {

namespace et = etna;
using V = et::Var<double>;
using Vs = std::vector<V>;

using et::test::fx;
using et::test::leaf;

}  // namespace

TEST_CASE("concat and cat backpropagate each input's slab", "[autograd][join]") {
  auto a = leaf({2, 3}, 1), b = leaf({2, 4}, 2), c = leaf({1, 3}, 3);
  auto y = et::cat({a, b}, -1);
  CHECK(y.shape() == et::Shape{2, 7});
  CHECK(y.grad_fn_name() == "CatBackward");
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return et::cat({in[0], in[1]}, 1); },
           [](const Vs& in) { return et::concat({in[0], in[2], in[0]}); },  // a used twice
           [](const Vs& in) { return et::cat({in[0].t(), in[1].t()}, 0); },   // non-contiguous
           [](const Vs& in) { return et::concat(Vs{in[2], in[0] * 2.0}, -2); },
           [](const Vs& in) { return et::cat({in[1], in[0]}, 1).t().slice(0, 2, 6); },
       }) {
    auto r = et::gradcheck(f, {a, b, c});
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("concat mixes Vars, constant tensors and Var expressions", "[autograd][join]") {
  auto a = leaf({2, 3}, 4);
  const auto t = et::ones<double>({1, 3});
  auto r = et::gradcheck(
      [&](const Vs& in) { return et::sum(et::square(et::cat(Vs{in[0], t, et::exp(in[0])}, 0))); },
      {a});
  INFO(r.report);
  CHECK(r);
  // Only the Var part receives a gradient; a list of constants records nothing.
  auto y = et::cat(Vs{V(t), V(t)}, 1);
  CHECK_FALSE(y.requires_grad());
  // A legacy empty [0] Var is skipped, as torch.cat does, and gets a zero gradient.
  V empty(et::zeros<double>({0}), true);
  auto z = et::cat({empty, a}, 1);
  CHECK(z.shape() == a.shape());
  et::sum(z).backward();
  CHECK(empty.grad().shape() == et::Shape{0});
  CHECK(a.grad()(1, 2) == 1.0);
}

TEST_CASE("stack backpropagates along the new dimension", "[autograd][join]") {
  auto a = leaf({2, 3}, 5), b = leaf({2, 3}, 6);
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return et::stack({in[0], in[1]}); },
           [](const Vs& in) { return et::stack({in[0], in[1], in[0]}, -1); },
           [](const Vs& in) { return et::stack({in[0].t(), in[1].t()}, 1); },
           [](const Vs& in) { return et::stack(Vs{in[0], et::sigmoid(in[1])}, -3); },
       }) {
    auto r = et::gradcheck(f, {a, b});
    INFO(r.report);
    CHECK(r);
  }
  CHECK(et::stack({a, b}, 2).grad_fn_name() == "StackBackward");
}

TEST_CASE("split and chunk pieces are views used independently or not at all",
          "[autograd][join]") {
  auto x = leaf({5, 4}, 7);
  auto pieces = et::split(x, 2);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[1].value().data() == x.value().data() + 8);  // views of x
  CHECK(pieces[2].shape() == et::Shape{1, 4});
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return et::split(in[0], 2)[1]; },  // one piece only
           [](const Vs& in) {
             auto p = et::split(in[0], {1, 2, 1}, -1);
             return et::cat(Vs{p[2], p[0] * p[0]}, 1);  // middle piece unused
           },
           [](const Vs& in) {
             auto p = et::chunk(in[0], 3, 0);
             return V(et::sum(p[0]) * 2.0 + et::sum(et::square(p[2])) + et::sum(p[0]));
           },
           [](const Vs& in) {
             auto p = et::chunk(in[0].t(), 2, 1);  // pieces of a non-contiguous view
             return et::stack({p[1].slice(1, 0, 2), p[0].slice(1, 0, 2)});
           },
           [](const Vs& in) {
             auto p = et::split(et::tanh(in[0]) * 3.0, 3, 1);  // Var expressions
             auto q = et::chunk(in[0] * in[0], 2, -1);
             return V(p[0] + p[1].slice(1, 0, 1) + q[1].slice(1, 1, 2));
           },
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("split pieces can be backpropagated one at a time", "[autograd][join]") {
  auto x = leaf({4, 2}, 8);
  auto p = et::split(x, 1);
  // The pieces share one backward node, so, as for any node, a second backward through it
  // needs the first to retain the graph.
  et::sum(p[3] * 2.0).backward(/*retain_graph=*/true);
  CHECK(x.grad()(3, 1) == 2.0);
  CHECK(x.grad()(0, 0) == 0.0);
  et::sum(p[0]).backward();  // another graph through the same split
  CHECK(x.grad()(0, 0) == 1.0);
  CHECK(x.grad()(3, 1) == 2.0);
  CHECK(p[0].grad_fn_name() == "SplitBackward");
  CHECK_THROWS_AS(et::sum(p[1]).backward(), et::error);  // released by the second backward
  {
    et::NoGradGuard guard;
    CHECK_FALSE(et::chunk(x, 2)[0].requires_grad());
  }
}

TEST_CASE("join errors of the tensor ops surface for Vars", "[autograd][join]") {
  auto a = leaf({2, 3}, 9), b = leaf({3, 3}, 10);
  CHECK_THROWS_AS(et::cat({a, b}, 1), et::shape_error);
  CHECK_THROWS_AS(et::cat(Vs{}, 0), et::value_error);
  CHECK_THROWS_AS(et::stack({a, b}), et::shape_error);
  CHECK_THROWS_AS(et::stack({a}, 3), et::index_error);
  CHECK_THROWS_AS(et::split(a, {1, 2}, 0), et::shape_error);
  CHECK_THROWS_AS(et::split(a, -1, 0), et::value_error);
  CHECK_THROWS_AS(et::chunk(a, 0, 0), et::value_error);
}

TEST_CASE("join gradients match PyTorch", "[autograd][join][torch]") {
  const auto& f = fx();
  {
    V a(f.tensor<double>("cat_a"), true), b(f.tensor<double>("cat_b"), true);
    et::cat({a, b.t()}, -1).backward(f.tensor<double>("cat_g"));
    ETNA_CHECK_CLOSE(a.grad(), f.tensor<double>("cat_grad_a"), 0, 0);
    ETNA_CHECK_CLOSE(b.grad(), f.tensor<double>("cat_grad_b"), 0, 0);
  }
  {
    V a(f.tensor<double>("stack_a"), true), c(f.tensor<double>("stack_c"), true);
    et::stack({a, c, a}, 1).backward(f.tensor<double>("stack_g"));
    ETNA_CHECK_CLOSE(a.grad(), f.tensor<double>("stack_grad_a"), 0, 0);
    ETNA_CHECK_CLOSE(c.grad(), f.tensor<double>("stack_grad_c"), 0, 0);
  }
  {
    V x(f.tensor<double>("split_partial_x"), true);
    auto p = et::split(x, {1, 2, 1}, 1);
    V(et::cat({p[0], p[2]}, 1) * 3.0).backward(f.tensor<double>("split_partial_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>("split_partial_grad_x"), 0, 0);
  }
  {
    V x(f.tensor<double>("chunk_x"), true);
    et::chunk(x, 3, 0)[2].backward(f.tensor<double>("chunk_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>("chunk_grad_x"), 0, 0);
  }
}
