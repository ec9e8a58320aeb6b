// Tests etna/autograd/ops/indexing.hpp: index_select, gather and scatter_add on Vars pass
// gradcheck (duplicate indices accumulate, negative dims, non-contiguous inputs, Var
// expressions, tensor operands as constants) and match PyTorch's gradients.
#include "etna/autograd/ops/indexing.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "etna/autograd.hpp"
#include "support/autograd_shape_ops.hpp"

namespace {

namespace et = etna;
using V = et::Var<double>;
using Vs = std::vector<V>;
using Index = et::Tensor<std::int64_t>;

using et::test::fx;
using et::test::leaf;

}  // namespace

TEST_CASE("index_select accumulates the gradient of repeated indices", "[autograd][indexing]") {
  auto x = leaf({4, 5}, 1);
  const Index rows = et::tensor<std::int64_t>({3, 0, 3, 3});
  const Index cols = et::tensor<std::int64_t>({4, 4, 1});
  auto y = et::index_select(x, 0, rows);
  CHECK(y.shape() == et::Shape{4, 5});
  CHECK(y.grad_fn_name() == "IndexSelectBackward");
  et::sum(y).backward();
  CHECK(x.grad()(3, 2) == 3.0);
  CHECK(x.grad()(1, 2) == 0.0);
  auto checks = std::vector<et::GradcheckResult>{
      et::gradcheck([&](const Vs& in) { return et::index_select(in[0], 0, rows); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::index_select(in[0], -1, cols); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::index_select(in[0].t(), 1, rows); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::index_select(et::exp(in[0]) * 2.0, 1, cols); },
                    {x}),
      et::gradcheck(
          [&](const Vs& in) { return et::index_select(in[0][2], 0, et::tensor<std::int64_t>(1)); },
          {x}),
  };
  for (const auto& r : checks) {
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("gather scatters its gradient back, accumulating duplicates", "[autograd][indexing]") {
  auto x = leaf({3, 4}, 2);
  const Index idx1 = et::tensor<std::int64_t>({{0, 0, 3}, {2, 1, 2}, {3, 3, 3}});
  const Index idx0 = et::tensor<std::int64_t>({{2, 2, 0, 1}});  // smaller than x outside dim
  auto checks = std::vector<et::GradcheckResult>{
      et::gradcheck([&](const Vs& in) { return et::gather(in[0], 1, idx1); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::gather(in[0], -2, idx0); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::gather(in[0].t(), 0, idx1.t()); }, {x}),
      et::gradcheck([&](const Vs& in) { return et::gather(et::square(in[0]), 1, idx1); }, {x}),
      et::gradcheck(
          [&](const Vs& in) {
            return et::sum(et::gather(in[0], 1, idx1) * in[0].slice(1, 0, 3));
          },
          {x}),
  };
  for (const auto& r : checks) {
    INFO(r.report);
    CHECK(r);
  }
  V s(et::tensor<double>(1.5), true);  // 0-d
  auto r0 = et::gradcheck([](const Vs& in) { return et::gather(in[0], 0, Index(et::tensor<std::int64_t>(0))); },
                          {s});
  INFO(r0.report);
  CHECK(r0);
}

TEST_CASE("scatter_add sends gradients to the input and to src", "[autograd][indexing]") {
  auto x = leaf({3, 5}, 3), src = leaf({2, 4}, 4);
  const Index idx = et::tensor<std::int64_t>({{4, 4, 0}, {1, 2, 1}});  // src larger than index
  const Index full = et::tensor<std::int64_t>({{0, 2, 2, 0}, {1, 1, 0, 2}});
  auto checks = std::vector<et::GradcheckResult>{
      et::gradcheck([&](const Vs& in) { return et::scatter_add(in[0], 1, idx, in[1]); }, {x, src}),
      et::gradcheck([&](const Vs& in) { return et::scatter_add(in[0].t(), -2, full.t(), in[1].t()); },
                    {x, src}),
      // A tensor operand is a constant; a Var expression is recorded first.
      et::gradcheck(
          [&](const Vs& in) { return et::scatter_add(in[0] * 2.0, 1, idx, et::ones<double>({2, 3})); },
          {x}),
      et::gradcheck(
          [&](const Vs& in) { return et::scatter_add(et::zeros<double>({3, 5}), 1, idx, et::tanh(in[0])); },
          {src}),
  };
  for (const auto& r : checks) {
    INFO(r.report);
    CHECK(r);
  }
  // Gathering back what scatter_add placed: the composition that makes them adjoints.
  auto r = et::gradcheck(
      [&](const Vs& in) { return et::gather(et::scatter_add(in[0], 0, full, in[1]), 0, full); },
      {x, src});
  INFO(r.report);
  CHECK(r);
}

TEST_CASE("indexing errors of the tensor ops surface for Vars", "[autograd][indexing]") {
  auto x = leaf({3, 4}, 5);
  CHECK_THROWS_AS(et::index_select(x, 0, et::tensor<std::int64_t>({3})), et::index_error);
  CHECK_THROWS_AS(et::index_select(x, 2, et::tensor<std::int64_t>({0})), et::index_error);
  CHECK_THROWS_AS(et::index_select(x, 0, et::zeros<std::int64_t>({1, 1})), et::shape_error);
  CHECK_THROWS_AS(et::gather(x, 1, et::tensor<std::int64_t>({0})), et::shape_error);
  CHECK_THROWS_AS(et::gather(x, 1, et::tensor<std::int64_t>({{-1}})), et::index_error);
  CHECK_THROWS_AS(et::scatter_add(x, 1, et::zeros<std::int64_t>({4, 1}), x), et::shape_error);
  {
    et::NoGradGuard guard;
    CHECK_FALSE(et::gather(x, 0, et::zeros<std::int64_t>({1, 4})).requires_grad());
  }
}

TEST_CASE("indexing gradients match PyTorch", "[autograd][indexing][torch]") {
  const auto& f = fx();
  {
    V x(f.tensor<double>("index_select_x"), true);
    et::index_select(x, 1, f.tensor<std::int64_t>("index_select_index"))
        .backward(f.tensor<double>("index_select_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>("index_select_grad_x"), 0, 0);
  }
  {
    V x(f.tensor<double>("gather_x"), true);
    et::gather(x, 0, f.tensor<std::int64_t>("gather_index")).backward(f.tensor<double>("gather_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>("gather_grad_x"), 0, 0);
  }
  {
    V x(f.tensor<double>("scatter_add_x"), true), src(f.tensor<double>("scatter_add_src"), true);
    et::scatter_add(x, 1, f.tensor<std::int64_t>("scatter_add_index"), src)
        .backward(f.tensor<double>("scatter_add_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>("scatter_add_grad_x"), 0, 0);
    ETNA_CHECK_CLOSE(src.grad(), f.tensor<double>("scatter_add_grad_src"), 0, 0);
  }
}
