// GradientTape: the TensorFlow-style interface over the same graph as backward(). Same
// gradients, persistent tapes, watch, stop_recording, summed targets, unconnected sources.
#include <catch2/catch.hpp>
#include <vector>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using VarD = et::Var<double>;

namespace {
struct Mlp {
  VarD x{et::Tensor<double>(et::linspace<double>(-1, 1, 12).reshape({4, 3}))};
  VarD w{et::Tensor<double>(et::linspace<double>(-0.5, 0.7, 6).reshape({3, 2})), true};
  VarD b{et::tensor<double>({0.1, -0.2}), true};
  VarD loss() const { return et::mean(et::square(et::tanh(et::matmul(x, w) + b) - 0.3)); }
};
}  // namespace

TEST_CASE("tape: same gradients as backward()", "[autograd][tape]") {
  Mlp m;
  std::vector<et::Tensor<double>> grads;
  {
    et::GradientTape tape;
    grads = tape.gradient(m.loss(), {m.w, m.b});
  }
  CHECK_FALSE(m.w.grad().defined());  // the tape leaves .grad alone
  CHECK_FALSE(m.b.grad().defined());
  m.loss().backward();
  REQUIRE(grads.size() == 2);
  ETNA_CHECK_CLOSE(grads[0], m.w.grad(), 0, 0);
  ETNA_CHECK_CLOSE(grads[1], m.b.grad(), 0, 0);
}

TEST_CASE("tape: .grad is untouched even when it already holds a value", "[autograd][tape]") {
  Mlp m;
  m.loss().backward();
  const et::Tensor<double> before = m.w.grad().clone();
  et::GradientTape tape;
  auto g = tape.gradient(m.loss(), {m.w});
  ETNA_CHECK_CLOSE(m.w.grad(), before, 0, 0);
  ETNA_CHECK_CLOSE(g[0], before, 0, 0);
}

TEST_CASE("tape: non-persistent tapes allow one gradient call", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  et::GradientTape tape;
  VarD y = x * x;
  tape.gradient(y, {x});
  CHECK_THROWS_WITH(tape.gradient(y, {x}),
                    "GradientTape.gradient can only be called once on non-persistent tapes; "
                    "construct GradientTape(true) to call it several times");
}

TEST_CASE("tape: persistent tapes keep the graph for several calls", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  et::GradientTape tape(/*persistent=*/true);
  VarD y = x * x;
  VarD z = et::exp(y);
  const auto g1 = tape.gradient(y, {x});
  const auto g2 = tape.gradient(y, {x});
  const auto gz = tape.gradient(z, {x, y});
  ETNA_CHECK_CLOSE(g1[0], et::tensor<double>({2., 4.}));
  ETNA_CHECK_CLOSE(g2[0], g1[0], 0, 0);
  ETNA_CHECK_CLOSE(gz[0], 2.0 * x.value() * et::exp(x.value() * x.value()), 1e-14);
  ETNA_CHECK_CLOSE(gz[1], et::exp(y.value()), 1e-14);  // an intermediate as a source
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(y.grad().defined());
}

TEST_CASE("tape: watch makes a constant trainable", "[autograd][tape]") {
  VarD c(et::tensor<double>({3., -1.}));
  et::GradientTape tape;
  tape.watch(c);
  CHECK(c.requires_grad());
  VarD y = c * c * c;
  const auto g = tape.gradient(y, {c});
  ETNA_CHECK_CLOSE(g[0], et::tensor<double>({27., 3.}));
}

TEST_CASE("tape: stop_recording pauses the tape", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  et::GradientTape tape(true);
  VarD y = x * 2.0;
  VarD frozen;
  {
    auto pause = tape.stop_recording();
    frozen = x * 5.0;
    CHECK_FALSE(et::is_grad_enabled());
  }
  CHECK(et::is_grad_enabled());
  CHECK_FALSE(frozen.requires_grad());
  const auto g = tape.gradient(VarD(y + frozen), {x});
  ETNA_CHECK_CLOSE(g[0], et::full<double>({2}, 2.0));
  const auto none = tape.gradient(frozen, {x});
  CHECK_FALSE(none[0].defined());
}

TEST_CASE("tape: non-scalar targets are summed; output_gradient weights them", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2., 3.}), true);
  et::GradientTape tape(true);
  VarD y = x * x;
  ETNA_CHECK_CLOSE(tape.gradient(y, {x})[0], et::tensor<double>({2., 4., 6.}));
  // A Var expression as the target is recorded by the tape too.
  ETNA_CHECK_CLOSE(tape.gradient(x * x * x, {x})[0], et::tensor<double>({3., 12., 27.}));
  const auto w = et::tensor<double>({1., 0., -2.});
  ETNA_CHECK_CLOSE(tape.gradient(y, {x}, w)[0], et::tensor<double>({2., 0., -12.}));
  CHECK_THROWS_AS(tape.gradient(y, {x}, et::ones<double>({2})), et::shape_error);
  CHECK_THROWS_WITH(tape.gradient(y, {x}, et::ones<double>({2})),
                    "GradientTape.gradient: output_gradient of shape [2] does not match the "
                    "target's shape [3]");
}

TEST_CASE("tape: unconnected sources give undefined tensors or zeros", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true), u(et::tensor<double>({5., 6., 7.}), true);
  et::GradientTape tape(true);
  VarD y = x * 3.0;
  const auto g = tape.gradient(y, {x, u});
  ETNA_CHECK_CLOSE(g[0], et::full<double>({2}, 3.0));
  CHECK_FALSE(g[1].defined());
  const auto z = tape.gradient(y, {x, u}, {}, /*unconnected_zero=*/true);
  ETNA_CHECK_CLOSE(z[1], et::zeros<double>({3}));
  // A target that does not require grad at all.
  VarD c(et::tensor<double>({1.}));
  const auto none = tape.gradient(c, {x}, {}, true);
  ETNA_CHECK_CLOSE(none[0], et::zeros<double>({2}));
}

TEST_CASE("tape: a source listed twice gets its gradient in both slots", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  et::GradientTape tape;
  const auto g = tape.gradient(VarD(x * x), {x, x});
  ETNA_CHECK_CLOSE(g[0], et::tensor<double>({2., 4.}));
  ETNA_CHECK_CLOSE(g[1], g[0], 0, 0);
}

TEST_CASE("tape: records inside a NoGradGuard and restores the mode", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  et::NoGradGuard no_grad;
  {
    et::GradientTape tape;
    CHECK(et::is_grad_enabled());
    VarD y = et::sin(x);
    ETNA_CHECK_CLOSE(tape.gradient(y, {x})[0], et::cos(x.value()));
  }
  CHECK_FALSE(et::is_grad_enabled());
}

TEST_CASE("tape: a failing backward leaves no capture behind", "[autograd][tape]") {
  VarD x(et::tensor<double>({1., 2.}), true);
  VarD y = x * x;
  auto s = et::sum(y);
  s.backward();  // frees the graph
  et::GradientTape tape;
  CHECK_THROWS_AS(tape.gradient(s, {x}), et::error);
  // Capture slots were cleared: the next backward writes .grad again.
  x.zero_grad();
  et::sum(x * 2.0).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::full<double>({2}, 2.0));
}

// gradcheck is built on the tape: its own behaviour is checked here.
TEST_CASE("gradcheck: passes correct gradients, reports wrong ones readably",
          "[autograd][gradcheck]") {
  VarD x(et::Tensor<double>(et::linspace<double>(0.5, 2.0, 12).reshape({3, 4})), true);
  const auto good = et::gradcheck([](const VarD& v) { return et::exp(v) * v; }, x);
  CHECK(good.ok);
  CHECK(good.report.empty());

  // Detaching one factor hides half of d(x*x)/dx: analytic x, numeric 2x.
  const auto bad = et::gradcheck([](const VarD& v) { return v * v.detach(); }, x);
  CHECK_FALSE(bad.ok);
  CHECK_FALSE(static_cast<bool>(bad));
  INFO(bad.report);
  // L = sum(f(x) * r) with a fixed random r, so the figures are those of r * x vs r * 2x.
  CHECK_THAT(bad.report,
             Catch::StartsWith("gradcheck: source 0 (shape [3, 4]), element 0 (row-major): "
                               "analytic -0.41093288 vs numeric -0.82186575 (|diff| "
                               "0.41093288)\n"));
  CHECK_THAT(bad.report, Catch::EndsWith("... and 7 more mismatching elements\n"));

  // Inputs that do not require grad are not checked; unused ones must have zero gradient.
  VarD c(et::tensor<double>({1., 2., 3., 4.})), unused(et::tensor<double>({3.}), true);
  const auto multi =
      et::gradcheck([](const std::vector<VarD>& in) { return et::sin(in[0]) * in[1]; },
                    std::vector<VarD>{x, c, unused});
  CHECK(multi.ok);
}
