// Var's public API: flags, leaves and non-leaves, detach, retain_grad, zero_grad/set_grad,
// grad_fn names, printing, and the exact text of every error a user can trigger.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;

namespace {
et::Tensor<double> vec3() { return et::tensor<double>({1., 2., 3.}); }
}  // namespace

TEST_CASE("Var: requires_grad defaults to false and leaves are leaves", "[autograd][var]") {
  et::Var<double> c(vec3());
  CHECK_FALSE(c.requires_grad());
  CHECK(c.is_leaf());
  CHECK(c.grad_fn_name().empty());
  et::Var<double> w(vec3(), true);
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
  CHECK_FALSE(w.grad().defined());
  CHECK(w.shape() == et::Shape{3});
  CHECK(w.numel() == 3);
  CHECK(w.dim() == 1);

  // Deduction guide and an expression evaluated into the leaf.
  et::Var v(et::tensor<double>({1., 2.}) * 2.0, true);
  ETNA_CHECK_CLOSE(v.value(), et::tensor<double>({2., 4.}));
}

TEST_CASE("Var: a tensor is shared by handle, an expression evaluated", "[autograd][var]") {
  auto t = vec3();
  et::Var<double> x(t, true);
  CHECK(x.value().data() == t.data());
  t.data()[0] = 10;  // in-place updates (an optimizer step) are seen by the Var
  CHECK(x.value().data()[0] == 10);
}

TEST_CASE("Var: computed Vars are non-leaves that follow their inputs", "[autograd][var]") {
  et::Var<double> w(vec3(), true), c(vec3());
  et::Var<double> y = w * c + 1.0;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn_name() == "FusedBackward[add(mul(var, var), const)]");
  et::Var<double> z = c * c;  // no input requires grad: a leaf that does not require grad
  CHECK_FALSE(z.requires_grad());
  CHECK(z.is_leaf());
  CHECK(et::sum(w).grad_fn_name() == "SumBackward");
  CHECK(et::mean(w).grad_fn_name() == "MeanBackward");
  CHECK(et::matmul(w, c).grad_fn_name() == "MatmulBackward");
}

TEST_CASE("Var: requires_grad(bool) only on leaves, only for floating types", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  et::Var<double> y = w * 2.0;
  CHECK_THROWS_WITH(y.requires_grad(false),
                    "requires_grad: you can only change requires_grad flags of leaf Vars; use "
                    "detach() to get a leaf from a computed Var");
  et::Var<double> c(vec3());
  c.requires_grad(true).requires_grad(false);
  CHECK_FALSE(c.requires_grad());
  et::Var<std::int64_t> i(et::tensor<std::int64_t>({1, 2}));
  CHECK_THROWS_WITH(i.requires_grad(true),
                    "requires_grad: only floating-point Vars can require grad, got int64");
}

TEST_CASE("Var: detach shares the value and cuts the graph", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  et::Var<double> y = w * w;
  et::Var<double> d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  CHECK(d.value().data() == y.value().data());
  // Gradient flows through the live path only: d(w*w + stop(w*w)) / dw = 2w.
  et::sum(y + d).backward();
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({2., 4., 6.}));
}

TEST_CASE("Var: retain_grad keeps a non-leaf gradient", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  et::Var<double> kept = w * 3.0, dropped = w * 3.0;
  kept.retain_grad();
  et::sum(kept * kept + dropped).backward();
  ETNA_CHECK_CLOSE(kept.grad(), et::tensor<double>({6., 12., 18.}));
  CHECK_FALSE(dropped.grad().defined());
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({21., 39., 57.}));  // 3 * (2*3w + 1)
  et::Var<double> c(vec3());
  CHECK_THROWS_WITH(c.retain_grad(),
                    "retain_grad: cannot retain the gradient of a Var that does not require grad");
}

TEST_CASE("Var: zero_grad and set_grad", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  et::sum(w * 2.0).backward();
  ETNA_CHECK_CLOSE(w.grad(), et::full<double>({3}, 2.0));
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  et::sum(w * 2.0).backward();  // starts from zero again
  ETNA_CHECK_CLOSE(w.grad(), et::full<double>({3}, 2.0));

  w.set_grad(et::full<double>({3}, 5.0));
  et::sum(w).backward();  // accumulates onto the gradient that was set
  ETNA_CHECK_CLOSE(w.grad(), et::full<double>({3}, 6.0));
  CHECK_THROWS_AS(w.set_grad(et::zeros<double>({2})), et::shape_error);
  CHECK_THROWS_WITH(w.set_grad(et::zeros<double>({2})),
                    "set_grad: gradient of shape [2] does not match the Var's shape [3]");
  w.set_grad(et::Tensor<double>());  // an undefined gradient clears it
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("Var: accumulation never writes into a tensor the user holds", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  const auto seed = et::full<double>({3}, 1.0);
  w.backward(seed);  // a leaf root receives the seed itself
  const et::Tensor<double> held = w.grad();
  w.backward(seed);
  ETNA_CHECK_CLOSE(seed, et::full<double>({3}, 1.0));
  ETNA_CHECK_CLOSE(held, et::full<double>({3}, 1.0));
  ETNA_CHECK_CLOSE(w.grad(), et::full<double>({3}, 2.0));
}

TEST_CASE("Var: printing follows PyTorch's suffixes", "[autograd][var]") {
  auto text = [](const auto& v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  et::Var<double> c(vec3()), w(vec3(), true);
  CHECK(text(c) == "tensor([1., 2., 3.], dtype=float64)");
  CHECK(text(w) == "tensor([1., 2., 3.], dtype=float64, requires_grad=True)");
  CHECK(text(et::Var<double>(w * w)) ==
        "tensor([1., 4., 9.], dtype=float64, grad_fn=<FusedBackward[mul(var, var)]>)");
  CHECK(text(et::sum(w)) == "tensor(6., dtype=float64, grad_fn=<SumBackward>)");
  et::Var<float> f(et::tensor<float>({1.5f}), true);
  CHECK(text(f) == "tensor([1.5000], requires_grad=True)");
}

TEST_CASE("Var: error messages", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  SECTION("backward on a non-scalar without a gradient") {
    et::Var<double> y = w * 2.0;
    CHECK_THROWS_WITH(y.backward(),
                      "backward: grad can be implicitly created only for outputs with one "
                      "element, got shape [3]; pass the output gradient explicitly");
  }
  SECTION("backward through a freed graph") {
    et::Var<double> y = w * w;
    auto s = et::sum(y);
    s.backward();
    CHECK_THROWS_WITH(s.backward(),
                      "backward: trying to backward through the graph a second time "
                      "(SumBackward's saved tensors were freed by the first backward); pass "
                      "retain_graph = true to the first backward if you need to call it twice");
    // A new root over the freed fused node reaches it and says which node it was.
    CHECK_THROWS_WITH(et::sum(y * 1.0).backward(),
                      "backward: trying to backward through the graph a second time "
                      "(FusedBackward[mul(var, var)]'s saved tensors were freed by the first "
                      "backward); pass retain_graph = true to the first backward if you need to "
                      "call it twice");
  }
  SECTION("backward on a Var that does not require grad") {
    et::Var<double> c(et::tensor<double>({1.}));
    CHECK_THROWS_WITH(c.backward(),
                      "backward: this Var does not require grad and has no grad_fn (did any "
                      "input have requires_grad = true, and was grad mode enabled?)");
  }
  SECTION("gradient shape mismatch") {
    et::Var<double> y = w * 2.0;
    CHECK_THROWS_AS(y.backward(et::ones<double>({2})), et::shape_error);
    CHECK_THROWS_WITH(y.backward(et::ones<double>({2})),
                      "backward: gradient of shape [2] does not match the output's shape [3]");
  }
  SECTION("an undefined Var") {
    et::Var<double> u;
    CHECK_FALSE(u.defined());
    CHECK_THROWS_WITH(u.value(), "Var: use of an undefined Var (default-constructed)");
    CHECK_THROWS_WITH(u.zero_grad(), "Var: use of an undefined Var (default-constructed)");
    CHECK_THROWS_WITH(et::Var<double>(u * 2.0),
                      "Var: use of an undefined Var (default-constructed)");
  }
}

TEST_CASE("Var: backward with an explicit gradient on a non-scalar output", "[autograd][var]") {
  et::Var<double> w(vec3(), true);
  et::Var<double> y = w * w;
  const auto seed = et::tensor<double>({1., 0.5, -1.});
  y.backward(seed);
  ETNA_CHECK_CLOSE(w.grad(), et::tensor<double>({2., 2., -6.}));
  ETNA_CHECK_CLOSE(seed, et::tensor<double>({1., 0.5, -1.}));  // the caller's buffer is kept
  CHECK(et::sum(w).item() == 6.0);
}
