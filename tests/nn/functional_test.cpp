// et::nn::functional (linear, dropout, alpha_dropout, batch_norm, layer_norm, embedding and the
// activation aliases): forward and gradients against PyTorch (tests/reference/make_functional.py),
// gradcheck in double, dropout statistics and the exact error messages.
#include "etna/nn/functional.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using VarF = et::Var<float>;
using VarD = et::Var<double>;
using In = std::vector<VarD>;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("functional.json");
  return f;
}
VarF leaf(const std::string& name) { return VarF(fx().tensor(name), true); }
void check(const et::GradcheckResult& r) {
  INFO(r.report);
  CHECK(r);
}
}  // namespace

TEST_CASE("functional: linear matches PyTorch, with and without bias", "[nn][functional]") {
  const VarF x = leaf("linear_x"), w = leaf("linear_w"), b = leaf("linear_b");
  const VarF y = F::linear(x, w, b);
  ETNA_CHECK_CLOSE(y.value(), fx().tensor("linear_y"), 1e-5, 1e-5);
  y.backward(fx().tensor("linear_g"));
  ETNA_CHECK_CLOSE(x.grad(), fx().tensor("linear_gx"), 1e-5, 1e-5);
  ETNA_CHECK_CLOSE(w.grad(), fx().tensor("linear_gw"), 1e-5, 1e-5);
  ETNA_CHECK_CLOSE(b.grad(), fx().tensor("linear_gb"), 1e-5, 1e-5);
  CHECK(y.grad_fn_name() == "LinearBackward");

  const VarF x2 = leaf("linear_x"), w2 = leaf("linear_w");
  const VarF y2 = F::linear(x2, w2);
  ETNA_CHECK_CLOSE(y2.value(), fx().tensor("linear_nobias_y"), 1e-5, 1e-5);
  y2.backward(fx().tensor("linear_g"));
  ETNA_CHECK_CLOSE(x2.grad(), fx().tensor("linear_nobias_gx"), 1e-5, 1e-5);
  ETNA_CHECK_CLOSE(w2.grad(), fx().tensor("linear_nobias_gw"), 1e-5, 1e-5);

  // A constant (tensor) input: only the parameters get gradients; no grad mode: no node.
  const VarF w3 = leaf("linear_w");
  const VarF y3 = F::linear(fx().tensor("linear_x"), w3);
  CHECK(y3.requires_grad());
  et::NoGradGuard guard;
  CHECK_FALSE(F::linear(x, w, b).requires_grad());
}

TEST_CASE("functional: linear gradcheck (1-d, 2-d and 3-d inputs)", "[nn][functional]") {
  et::manual_seed(31);
  const VarD w(et::randn<double>({4, 3}), true), b(et::randn<double>({4}), true);
  for (const et::Shape& s : {et::Shape{3}, et::Shape{5, 3}, et::Shape{2, 2, 3}}) {
    const VarD x(et::randn<double>(s), true);
    check(et::gradcheck([](const In& v) { return F::linear(v[0], v[1], v[2]); }, {x, w, b}));
    check(et::gradcheck([](const In& v) { return F::linear(v[0], v[1]); }, {x, w}));
  }
}

TEST_CASE("functional: linear errors", "[nn][functional]") {
  const VarF w(et::zeros<float>({256, 784}), true), b(et::zeros<float>({256}), true);
  CHECK_THROWS_AS(F::linear(VarF(et::zeros<float>({2, 100})), w, b), et::shape_error);
  CHECK_THROWS_WITH(F::linear(VarF(et::zeros<float>({2, 100})), w, b),
                    "linear: input has 100 features but the weight expects 784 (weight shape "
                    "[256, 784], input shape [2, 100])");
  CHECK_THROWS_WITH(F::linear(VarF(et::zeros<float>({2, 784})), w, VarF(et::zeros<float>({10}))),
                    "linear: bias of shape [10] does not match the weight's 256 output features "
                    "(expected [256])");
  CHECK_THROWS_WITH(F::linear(VarF(et::zeros<float>({2, 784})), VarF(et::zeros<float>({784}))),
                    "linear: weight must be 2-d [out_features, in_features], got shape [784]");
}

TEST_CASE("functional: dropout statistics, scale, seeding and eval identity", "[nn][functional]") {
  const VarF x(et::ones<float>({200, 500}), true);
  et::Generator g1(7), g2(7);
  const VarF y = F::dropout(x, 0.3, true, g1);
  const et::Tensor<float> yv = y.value();
  std::int64_t zeros = 0;
  bool scaled = true;
  for (float v : yv) {
    if (v == 0.0f)
      ++zeros;
    else
      scaled = scaled && std::fabs(v - 1.0f / 0.7f) < 1e-6f;
  }
  CHECK(scaled);
  CHECK(std::fabs(static_cast<double>(zeros) / yv.numel() - 0.3) < 0.01);
  ETNA_CHECK_CLOSE(F::dropout(x, 0.3, true, g2).value(), yv, 0.0, 0.0);  // same seed, same mask
  et::Generator g3(8);
  CHECK_FALSE(et::test::mismatch(F::dropout(x, 0.3, true, g3).value(), yv).empty());
  y.backward(et::ones<float>({200, 500}));
  ETNA_CHECK_CLOSE(x.grad(), yv, 0.0, 0.0);  // the gradient is mask * scale

  CHECK(F::dropout(x, 0.3, false).impl_ptr() == x.impl_ptr());  // eval: the input itself
  CHECK(F::dropout(x, 0.0, true).impl_ptr() == x.impl_ptr());
  ETNA_CHECK_CLOSE(F::dropout(x, 1.0, true).value(), et::zeros<float>({200, 500}), 0.0, 0.0);
  CHECK_THROWS_AS(F::dropout(x, 1.5), et::value_error);
  CHECK_THROWS_WITH(F::dropout(x, -0.1),
                    "dropout: dropout probability has to be between 0 and 1, but got -0.1");
  CHECK_THROWS_WITH(F::alpha_dropout(x, 1.5),
                    "alpha_dropout: dropout probability has to be between 0 and 1, but got 1.5");
}

TEST_CASE("functional: alpha_dropout keeps zero mean and unit variance", "[nn][functional]") {
  et::Generator gen(3), noise(4);
  const double p = 0.2, alpha = 1.7580993408473766;
  const double a = 1.0 / std::sqrt((alpha * alpha * p + 1) * (1 - p));
  const VarD x(et::randn<double>({100000}, noise), true);
  const VarD y = F::alpha_dropout(x, p, true, gen);
  const et::Tensor<double> xv = x.value(), yv = y.value();
  double s = 0, ss = 0;
  std::int64_t dropped = 0;
  bool affine = true;
  for (std::int64_t i = 0; i < yv.numel(); ++i) {
    const double v = yv.data()[i];
    s += v;
    ss += v * v;
    const double dropped_value = alpha * a * (p - 1), kept_value = a * xv.data()[i] + alpha * a * p;
    if (std::fabs(v - dropped_value) < 1e-12)
      ++dropped;
    else
      affine = affine && std::fabs(v - kept_value) < 1e-12;
  }
  const double n = static_cast<double>(yv.numel()), mean = s / n;
  CHECK(affine);
  CHECK(std::fabs(dropped / n - p) < 0.01);
  CHECK(std::fabs(mean) < 0.02);
  CHECK(std::fabs(ss / n - mean * mean - 1.0) < 0.03);
  y.backward(et::ones<double>({100000}));
  const et::Tensor<double> gx = x.grad();
  bool grad_ok = true;
  for (std::int64_t i = 0; i < gx.numel(); ++i) {
    const bool was_dropped = std::fabs(yv.data()[i] - alpha * a * (p - 1)) < 1e-12;
    grad_ok = grad_ok && std::fabs(gx.data()[i] - (was_dropped ? 0.0 : a)) < 1e-12;
  }
  CHECK(grad_ok);
  CHECK(F::alpha_dropout(x, p, false).impl_ptr() == x.impl_ptr());
}

TEST_CASE("functional: dropout gradcheck with a fixed mask", "[nn][functional]") {
  et::manual_seed(32);
  const VarD x(et::randn<double>({4, 5}), true);
  check(et::gradcheck(
      [](const VarD& v) {
        et::Generator gen(5);  // the same mask on every call
        return F::dropout(v, 0.4, true, gen);
      },
      x));
  check(et::gradcheck(
      [](const VarD& v) {
        et::Generator gen(6);
        return F::alpha_dropout(v, 0.4, true, gen);
      },
      x));
}

TEST_CASE("functional: batch_norm matches PyTorch in training and eval", "[nn][functional]") {
  for (const std::string tag : {"bn2", "bn3"}) {
    INFO(tag);
    const auto t = [&](const std::string& k) { return fx().tensor(tag + "_" + k); };
    const VarF x = leaf(tag + "_x"), w = leaf(tag + "_w"), b = leaf(tag + "_b");
    const et::Tensor<float> rm = t("rm").clone(), rv = t("rv").clone();
    const VarF y = F::batch_norm(x, rm, rv, w, b, true, 0.2, 1e-5);
    ETNA_CHECK_CLOSE(y.value(), t("y"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(rm, t("rm_after"), 1e-5, 1e-6);
    ETNA_CHECK_CLOSE(rv, t("rv_after"), 1e-5, 1e-6);
    y.backward(t("g"));
    ETNA_CHECK_CLOSE(x.grad(), t("gx"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(w.grad(), t("gw"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(b.grad(), t("gb"), 1e-4, 1e-5);

    const VarF xe = leaf(tag + "_x"), we = leaf(tag + "_w"), be = leaf(tag + "_b");
    const et::Tensor<float> rm0 = t("rm"), rv0 = t("rv");
    const VarF ye = F::batch_norm(xe, rm0, rv0, we, be, false);
    ETNA_CHECK_CLOSE(ye.value(), t("eval_y"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(rm0, t("rm"), 0.0, 0.0);  // eval leaves the buffers alone
    ye.backward(t("g"));
    ETNA_CHECK_CLOSE(xe.grad(), t("eval_gx"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(we.grad(), t("eval_gw"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(be.grad(), t("eval_gb"), 1e-4, 1e-5);
  }
}

TEST_CASE("functional: batch_norm gradcheck (train, eval, no affine)", "[nn][functional]") {
  et::manual_seed(33);
  const VarD x(et::randn<double>({4, 3, 2}) * 2.0 + 1.0, true), x2(et::randn<double>({5, 3}), true);
  const VarD w(et::randn<double>({3}), true), b(et::randn<double>({3}), true);
  const et::Tensor<double> none;
  const et::Tensor<double> rm = et::randn<double>({3}), rv = et::rand<double>({3}) + 0.5;
  for (const VarD& in : {x, x2}) {
    check(et::gradcheck(
        [&](const In& v) { return F::batch_norm(v[0], none, none, v[1], v[2], true); },
        {in, w, b}));
    check(et::gradcheck([&](const In& v) { return F::batch_norm(v[0], rm, rv, v[1], v[2], false); },
                        {in, w, b}));
    check(et::gradcheck([&](const VarD& v) { return F::batch_norm(v, none, none, {}, {}, true); },
                        in));
  }
}

TEST_CASE("functional: batch_norm errors", "[nn][functional]") {
  const VarF x(et::zeros<float>({4, 3}));
  const et::Tensor<float> r3 = et::zeros<float>({3}), r2 = et::zeros<float>({2});
  CHECK_THROWS_WITH(F::batch_norm(VarF(et::zeros<float>({3})), r3, r3, {}, {}, true),
                    "batch_norm: expected an input of shape [N, C, ...] (2 or more dimensions), "
                    "got shape [3]");
  CHECK_THROWS_WITH(F::batch_norm(x, r2, r3, {}, {}, true),
                    "batch_norm: running_mean has shape [2] but expected [3]");
  CHECK_THROWS_WITH(F::batch_norm(x, r3, r3, VarF(r2), {}, true),
                    "batch_norm: weight has shape [2] but expected [3]");
  CHECK_THROWS_WITH(F::batch_norm(VarF(et::zeros<float>({1, 3})), r3, r3, {}, {}, true),
                    "batch_norm: expected more than 1 value per channel when training, got input "
                    "of shape [1, 3]");
  CHECK_THROWS_WITH(F::batch_norm(x, et::Tensor<float>(), r3, {}, {}, false),
                    "batch_norm: eval mode needs running_mean and running_var");
}

TEST_CASE("functional: layer_norm matches PyTorch over 1 and 2 trailing dims", "[nn][functional]") {
  for (const std::string tag : {"ln1", "ln2"}) {
    INFO(tag);
    const et::Shape shape = tag == "ln1" ? et::Shape{5} : et::Shape{4, 5};
    const VarF x = leaf("ln_x"), w = leaf(tag + "_w"), b = leaf(tag + "_b");
    const VarF y = F::layer_norm(x, shape, w, b);
    ETNA_CHECK_CLOSE(y.value(), fx().tensor(tag + "_y"), 1e-4, 1e-5);
    y.backward(fx().tensor("ln_g"));
    ETNA_CHECK_CLOSE(x.grad(), fx().tensor(tag + "_gx"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(w.grad(), fx().tensor(tag + "_gw"), 1e-4, 1e-5);
    ETNA_CHECK_CLOSE(b.grad(), fx().tensor(tag + "_gb"), 1e-4, 1e-5);
  }
}

TEST_CASE("functional: layer_norm gradcheck and errors", "[nn][functional]") {
  et::manual_seed(34);
  const VarD x(et::randn<double>({2, 3, 4}) * 1.5, true);
  const VarD w1(et::randn<double>({4}), true), b1(et::randn<double>({4}), true);
  const VarD w2(et::randn<double>({3, 4}), true), b2(et::randn<double>({3, 4}), true);
  check(
      et::gradcheck([](const In& v) { return F::layer_norm(v[0], {4}, v[1], v[2]); }, {x, w1, b1}));
  check(et::gradcheck(
      [](const In& v) {
        return F::layer_norm(v[0], {3, 4}, v[1], v[2]);
      },
      {x, w2, b2}));
  check(et::gradcheck([](const VarD& v) { return F::layer_norm(v, {3, 4}); }, x));
  check(et::gradcheck([](const VarD& v) { return F::layer_norm(v * v + 1.0, {4}); }, x));
  check(et::gradcheck(
      [](const VarD& v) { return F::batch_norm(et::tanh(v), {}, {}, {}, {}, true); }, x));
  CHECK_THROWS_AS(F::layer_norm(x, {5}), et::shape_error);
  CHECK_THROWS_WITH(F::layer_norm(x, {5}),
                    "layer_norm: input of shape [2, 3, 4] does not end with normalized_shape [5]");
  CHECK_THROWS_WITH(F::layer_norm(x, {4}, w2),
                    "layer_norm: weight has shape [3, 4] but expected [4]");
}

TEST_CASE("functional: embedding matches PyTorch, with padding_idx and repeats",
          "[nn][functional]") {
  const auto idx = fx().tensor<std::int64_t>("emb_idx");
  for (const std::string tag : {"emb", "emb_pad"}) {
    INFO(tag);
    const VarF w = leaf("emb_w");
    const VarF y = F::embedding(idx, w, tag == "emb" ? -1 : 1);
    ETNA_CHECK_CLOSE(y.value(), fx().tensor(tag + "_y"), 0.0, 0.0);
    y.backward(fx().tensor("emb_g"));
    ETNA_CHECK_CLOSE(w.grad(), fx().tensor(tag + "_gw"), 1e-6, 1e-6);
  }
}

TEST_CASE("functional: embedding gradcheck and errors", "[nn][functional]") {
  et::manual_seed(35);
  const VarD w(et::randn<double>({5, 3}), true);
  const auto idx = et::tensor<std::int64_t>({{4, 0, 4}, {2, 2, 1}});
  check(et::gradcheck([&](const VarD& v) { return F::embedding(idx, v); }, w));
  // With padding_idx the gradient is deliberately not the derivative on the padding row (0
  // there) and equals the plain one elsewhere.
  const VarD wp(w.value().clone(), true), wn(w.value().clone(), true);
  const auto g = et::randn<double>({2, 3, 3});
  F::embedding(idx, wp, 2).backward(g);
  F::embedding(idx, wn).backward(g);
  ETNA_CHECK_CLOSE(wp.grad().select(0, 2), et::zeros<double>({3}), 0.0, 0.0);
  ETNA_CHECK_CLOSE(wp.grad().narrow(0, 0, 2), wn.grad().narrow(0, 0, 2), 0.0, 0.0);
  ETNA_CHECK_CLOSE(wp.grad().narrow(0, 3, 2), wn.grad().narrow(0, 3, 2), 0.0, 0.0);
  CHECK(wn.grad().select(0, 2).at({0}) != 0.0);
  CHECK_THROWS_AS(F::embedding(et::tensor<std::int64_t>({0, 5}), w), et::index_error);
  CHECK_THROWS_WITH(F::embedding(et::tensor<std::int64_t>({0, 5}), w),
                    "embedding: index 5 (at flat position 1 of indices of shape [2]) is out of "
                    "range for 5 embeddings (valid: 0 to 4)");
  CHECK_THROWS_WITH(F::embedding(et::tensor<std::int64_t>({-1}), w),
                    "embedding: index -1 (at flat position 0 of indices of shape [1]) is out of "
                    "range for 5 embeddings (valid: 0 to 4)");
  CHECK_THROWS_WITH(F::embedding(idx, w, 7),
                    "embedding: padding_idx 7 is out of range for 5 "
                    "embeddings");
  CHECK_THROWS_WITH(F::embedding(idx, VarD(et::zeros<double>({5}))),
                    "embedding: weight must be 2-d [num_embeddings, embedding_dim], got shape [5]");
}

TEST_CASE("functional: activations are the etna functions under PyTorch's names",
          "[nn][functional]") {
  et::manual_seed(36);
  const VarD x(et::randn<double>({3, 4}), true);
  ETNA_CHECK_CLOSE(VarD(F::relu(x)).value(), et::relu(x.value()));
  ETNA_CHECK_CLOSE(VarD(F::leaky_relu(x, 0.2)).value(), et::leaky_relu(x.value(), 0.2));
  ETNA_CHECK_CLOSE(VarD(F::elu(x)).value(), et::elu(x.value()));
  ETNA_CHECK_CLOSE(VarD(F::gelu(x, "tanh")).value(), et::gelu(x.value(), "tanh"));
  ETNA_CHECK_CLOSE(VarD(F::silu(x)).value(), et::silu(x.value()));
  ETNA_CHECK_CLOSE(VarD(F::sigmoid(x)).value(), et::sigmoid(x.value()));
  ETNA_CHECK_CLOSE(VarD(F::tanh(x)).value(), et::tanh(x.value()));
  ETNA_CHECK_CLOSE(VarD(F::softplus(x)).value(), et::softplus(x.value()));
  ETNA_CHECK_CLOSE(F::softmax(x, 1).value(), et::softmax(x.value(), 1));
  ETNA_CHECK_CLOSE(F::log_softmax(x, -1).value(), et::log_softmax(x.value(), -1));
  check(et::gradcheck([](const VarD& v) { return F::log_softmax(F::gelu(v) * 2.0, 1); }, x));
  // A small MLP written only with F::, as a user would.
  const VarD w(et::randn<double>({2, 4}), true), b(et::randn<double>({2}), true);
  check(et::gradcheck(
      [](const In& v) {
        return F::linear(F::dropout(F::relu(F::layer_norm(v[0], {4})), 0.5, false), v[1], v[2]);
      },
      {x, w, b}));
}

TEST_CASE("functional: the norms give the same values on 1 and 4 threads", "[nn][functional]") {
  et::Generator gen(37);
  const auto xb = et::randn<float>({64, 8, 300}, gen), xl = et::randn<float>({400, 256}, gen);
  const auto gb = et::randn<float>({64, 8, 300}, gen), gl = et::randn<float>({400, 256}, gen);
  const auto run = [&](int threads) {
    et::set_num_threads(threads);
    const VarF x1(xb.clone(), true), w1(et::rand<float>({8}, gen), true),
        b1(et::zeros<float>({8}), true);
    const VarF x2(xl.clone(), true), w2(et::ones<float>({256}), true),
        b2(et::zeros<float>({256}), true);
    const et::Tensor<float> rm = et::zeros<float>({8}), rv = et::ones<float>({8});
    const VarF y1 = F::batch_norm(x1, rm, rv, w1, b1, true);
    const VarF y2 = F::layer_norm(x2, {256}, w2, b2);
    y1.backward(gb);
    y2.backward(gl);
    return std::vector<et::Tensor<float>>{y1.value(), x1.grad(), w1.grad(), rm,       rv,
                                          y2.value(), x2.grad(), w2.grad(), b2.grad()};
  };
  const int saved = et::get_num_threads();
  gen.manual_seed(1);
  const auto serial = run(1);
  gen.manual_seed(1);
  const auto parallel = run(4);
  et::set_num_threads(saved);
  for (std::size_t i = 0; i < serial.size(); ++i) {
    INFO(i);
    ETNA_CHECK_CLOSE(parallel[i], serial[i], 0.0, 0.0);
  }
  // And layer_norm is (x - mean) / sqrt(var + eps) computed with the tensor reductions.
  const auto ref = (xl - et::mean(xl, 1, true)) / et::sqrt(et::var(xl, 1, true, 0) + 1e-5f);
  ETNA_CHECK_CLOSE(serial[5], ref, 1e-4, 1e-4);
}
