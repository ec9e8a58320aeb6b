// Tests etna/autograd/ops/views.hpp: every view on Vars (members and free functions) shares the
// input's storage and passes gradcheck, including negative dims, non-contiguous inputs,
// broadcasting through expand and fused expressions; gradients match PyTorch's.
#include "etna/autograd/ops/views.hpp"

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

// Runs f on the fixture's x, backpropagates the fixture's upstream gradient and compares
// x's gradient with torch's.
template <class F>
void check_against_torch(const std::string& name, F f) {
  V x(fx().tensor<double>(name + "_x"), true);
  f(x).backward(fx().tensor<double>(name + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor<double>(name + "_grad_x"), 0, 0);
}

}  // namespace

TEST_CASE("reshape, view, flatten, squeeze and unsqueeze are views with gradients",
          "[autograd][views]") {
  auto x = leaf({2, 3, 4}, 1);
  auto r = x.reshape({4, -1});
  CHECK(r.shape() == et::Shape{4, 6});
  CHECK(r.value().data() == x.value().data());  // shares storage
  CHECK(r.grad_fn_name() == "ReshapeBackward");
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return in[0].reshape({-1}); },
           [](const Vs& in) { return in[0].view({3, 8}); },
           [](const Vs& in) { return in[0].flatten(); },
           [](const Vs& in) { return in[0].flatten(-2, -1); },
           [](const Vs& in) { return in[0].unsqueeze(-1).unsqueeze(0); },
           [](const Vs& in) { return in[0].unsqueeze(1).squeeze(); },
           [](const Vs& in) { return in[0].unsqueeze(2).squeeze(-3); },
           [](const Vs& in) { return et::flatten(in[0], 1); },
           [](const Vs& in) { return et::reshape(in[0], {6, 4}); },
           [](const Vs& in) { return et::squeeze(et::unsqueeze(in[0], -2), 2); },
           [](const Vs& in) { return et::squeeze(et::unsqueeze(in[0], 3)); },
       }) {
    auto r2 = et::gradcheck(f, {x});
    INFO(r2.report);
    CHECK(r2);
  }
}

TEST_CASE("reshape of a non-contiguous Var copies and still backpropagates",
          "[autograd][views]") {
  auto x = leaf({3, 4}, 2);
  auto y = x.t().reshape({2, 6});  // the transposed layout cannot be viewed as [2, 6]
  CHECK(y.value().data() != x.value().data());
  auto r = et::gradcheck([](const Vs& in) { return in[0].t().reshape({2, 6}); }, {x});
  INFO(r.report);
  CHECK(r);
  CHECK_THROWS_AS(x.t().view({12}), et::shape_error);  // view never copies
}

TEST_CASE("transpose, t and permute with negative dims", "[autograd][views]") {
  auto x = leaf({2, 3, 4}, 3);
  auto y = x.transpose(0, -1);
  CHECK(y.shape() == et::Shape{4, 3, 2});
  CHECK(y.value().data() == x.value().data());
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return in[0].transpose(-1, -3); },
           [](const Vs& in) { return et::transpose(in[0], 1, 2); },
           [](const Vs& in) { return in[0].permute({2, 0, 1}); },
           [](const Vs& in) { return in[0].permute({-1, -3, -2}); },
           [](const Vs& in) { return et::permute(in[0], {1, 2, 0}).permute({2, 1, 0}); },
           [](const Vs& in) { return in[0].select(0, 1).t(); },
           [](const Vs& in) { return in[0][1].transpose(); },
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
  // A leaf's gradient is dense even though it came back through a transposed view.
  x.permute({2, 0, 1}).backward(et::ones<double>({4, 2, 3}));
  CHECK(x.grad().is_contiguous());
  CHECK(x.grad().shape() == x.shape());
}

TEST_CASE("slice, narrow, select and indexing send the gradient to their region",
          "[autograd][views]") {
  auto x = leaf({4, 5}, 4);
  auto s = x.slice(1, 1, 5, 2);
  CHECK(s.shape() == et::Shape{4, 2});
  CHECK(s.value().data() == x.value().data() + 1);
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return in[0].slice(1, 1, 5, 2); },
           [](const Vs& in) { return in[0].slice(-1, -3, 100); },  // Python clamping
           [](const Vs& in) { return in[0].slice(0, 3, 1); },      // empty
           [](const Vs& in) { return in[0].narrow(0, -3, 2); },
           [](const Vs& in) { return et::narrow(in[0], 1, 2, 3); },
           [](const Vs& in) { return in[0].select(1, -1); },
           [](const Vs& in) { return et::select(in[0], 0, 2); },
           [](const Vs& in) { return in[0][3]; },
           [](const Vs& in) { return in[0].t().slice(0, 1, 3).select(1, 2); },  // non-contiguous
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
  // The same region read twice accumulates.
  auto y = x[1] * 2.0 + x.select(0, 1);
  et::sum(y).backward();
  CHECK(x.grad()(1, 0) == 3.0);
  CHECK(x.grad()(0, 0) == 0.0);
}

TEST_CASE("expand and broadcast_to sum the gradient over broadcast dimensions",
          "[autograd][views]") {
  auto x = leaf({3, 1}, 5);
  auto e = x.expand({2, 3, 4});
  CHECK(e.value().strides()[0] == 0);
  CHECK(e.value().data() == x.value().data());
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return in[0].expand({2, 3, 4}); },
           [](const Vs& in) { return in[0].expand({-1, 5}); },
           [](const Vs& in) { return in[0].broadcast_to({3, 3}); },
           [](const Vs& in) { return et::broadcast_to(in[0].t(), {2, 3}); },
           [](const Vs& in) { return in[0].expand({2, 3, 4}).transpose(0, 2).contiguous(); },
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
  CHECK_THROWS_AS(x.expand({2, 2}), et::shape_error);
}

TEST_CASE("views composed with fused element-wise expressions", "[autograd][views]") {
  auto x = leaf({4, 3}, 6);
  auto w = leaf({2, 4}, 7);
  auto r = et::gradcheck(
      [](const Vs& in) { return et::sum(et::square(in[0].t().slice(0, 1, 3)) * in[1]); }, {x, w});
  INFO(r.report);
  CHECK(r);
  // Var expressions as arguments of the free functions, views of views, and a second use of x.
  auto r2 = et::gradcheck(
      [](const Vs& in) {
        auto h = et::reshape(et::tanh(in[0]) * 2.0, {3, 4});
        return et::flatten(et::transpose(h * in[1].t().reshape({8}).slice(0, 0, 4), 0, 1)) + in[0].flatten();
      },
      {x, w});
  INFO(r2.report);
  CHECK(r2);
  auto r3 = et::gradcheck(
      [](const Vs& in) {
        return et::sum(et::squeeze(et::unsqueeze(in[0] + 1.0, 0)).permute({1, 0}).expand({2, 3, 4}) *
                       et::exp(in[1].slice(1, 0, 4).narrow(0, 0, 1).unsqueeze(0)));
      },
      {x, w});
  INFO(r3.report);
  CHECK(r3);
}

TEST_CASE("contiguous and clone copy with an identity gradient", "[autograd][views]") {
  auto x = leaf({3, 4}, 8);
  auto c = x.contiguous();
  CHECK(c.impl_ptr() == x.impl_ptr());  // already contiguous: the same Var
  auto ct = x.t().contiguous();
  CHECK(ct.value().is_contiguous());
  CHECK(ct.value().data() != x.value().data());
  auto k = x.clone();
  CHECK(k.value().data() != x.value().data());
  CHECK(k.grad_fn_name() == "CloneBackward");
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return in[0].t().contiguous(); },
           [](const Vs& in) { return et::clone(in[0] * in[0]).t(); },
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
}

TEST_CASE("views record nothing without grad and keep tensor errors", "[autograd][views]") {
  auto x = leaf({2, 3}, 9);
  {
    et::NoGradGuard guard;
    auto y = x.t().reshape({6});
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  V c(et::ones<double>({2, 3}));
  CHECK_FALSE(c.t().requires_grad());
  auto zero_d = V(et::tensor<double>(2.5), true).reshape({1}).reshape({});
  CHECK(zero_d.dim() == 0);
  CHECK_THROWS_AS(x.reshape({4, -1}), et::shape_error);
  CHECK_THROWS_AS(x.transpose(0, 2), et::index_error);
  CHECK_THROWS_AS(x.unsqueeze(0).t(), et::shape_error);
  CHECK_THROWS_AS(x.permute({0, 0}), et::index_error);
  CHECK_THROWS_AS(x.select(1, 3), et::index_error);
  CHECK_THROWS_AS(x[-3], et::index_error);
  CHECK_THROWS_AS(x.slice(0, 0, 1, 0), et::value_error);
  CHECK_THROWS_AS(x.narrow(1, 2, 2), et::index_error);
  CHECK_THROWS_AS(et::flatten(x, 1, 0), et::index_error);
}

TEST_CASE("view gradients match PyTorch", "[autograd][views][torch]") {
  check_against_torch("view_chain", [](const V& x) {
    return x.transpose(0, 2).slice(0, 1, 4, 2).reshape({-1, 3}).unsqueeze(0).expand({2, 4, 3});
  });
  check_against_torch("view_select", [](const V& x) {
    return x[1].t().narrow(0, 1, 2).select(-1, -1).unsqueeze(1).squeeze();
  });
  check_against_torch("view_permute", [](const V& x) { return x.permute({2, 0, 1}).flatten(1); });
}
