// Finite-difference checks of every loss (double), on both sides where the target is
// differentiated, plus stability at extreme inputs and the no-grad paths.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "etna/autograd/ops/softmax.hpp"
#include "etna/nn/loss.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using VarD = et::Var<double>;
using In = std::vector<VarD>;

namespace {
void check(const et::GradcheckResult& r) {
  INFO(r.report);
  CHECK(r);
}
}  // namespace

TEST_CASE("losses: gradcheck of the regression losses on input and target", "[nn][loss]") {
  et::manual_seed(11);
  const VarD x(et::randn<double>({3, 4}) * 2.0, true), t(et::randn<double>({3, 4}), true);
  for (auto r : {nn::Reduction::none, nn::Reduction::mean, nn::Reduction::sum}) {
    check(et::gradcheck([&](const In& v) { return nn::mse_loss(v[0], v[1], r); }, {x, t}));
    check(et::gradcheck([&](const In& v) { return nn::l1_loss(v[0], v[1], r); }, {x, t}));
    check(
        et::gradcheck([&](const In& v) { return nn::smooth_l1_loss(v[0], v[1], r, 0.7); }, {x, t}));
    check(et::gradcheck([&](const In& v) { return nn::huber_loss(v[0], v[1], r, 1.3); }, {x, t}));
  }
}

TEST_CASE("losses: gradcheck of cross_entropy and nll_loss with every option", "[nn][loss]") {
  et::manual_seed(12);
  const VarD x(et::randn<double>({5, 4}) * 2.0, true);
  const VarD x3(et::randn<double>({2, 4, 3}), true);
  const auto y = et::tensor<std::int64_t>({1, 0, -100, 3, 2});
  const auto y3 = et::tensor<std::int32_t>({{0, 3, 1}, {2, 2, 0}});  // int32 labels too
  const VarD p(et::softmax(et::randn<double>({5, 4}), 1), true);
  const auto w = et::tensor<double>({0.5, 2.0, 1.0, 0.25});
  for (auto r : {nn::Reduction::none, nn::Reduction::mean, nn::Reduction::sum}) {
    const nn::CrossEntropyLoss ce{.weight = w, .reduction = r, .label_smoothing = 0.15};
    check(et::gradcheck([&](const In& v) { return ce(v[0], y); }, {x}));
    check(et::gradcheck([&](const In& v) { return ce(v[0], y3); }, {x3}));
    check(et::gradcheck([&](const In& v) { return ce(v[0], v[1]); }, {x, p}));
    check(et::gradcheck([&](const In& v) { return nn::cross_entropy(v[0] * 3.0, y); }, {x}));
    const nn::NLLLoss nll{.weight = w, .reduction = r};
    check(et::gradcheck([&](const In& v) { return nll(et::log_softmax(v[0], 1), y); }, {x}));
    check(et::gradcheck([&](const In& v) { return nll(v[0], y3); }, {x3}));
  }
}

TEST_CASE("losses: gradcheck of the binary, divergence and embedding losses", "[nn][loss]") {
  et::manual_seed(13);
  const VarD z(et::randn<double>({3, 4}) * 3.0, true), t(et::rand<double>({3, 4}), true);
  const VarD x1(et::randn<double>({4, 5}), true), x2(et::randn<double>({4, 5}), true);
  const auto ey = et::tensor<std::int64_t>({1, -1, -1, 1});
  const auto pw = et::tensor<double>({2.0, 0.5, 1.0, 3.0});
  for (auto r : {nn::Reduction::none, nn::Reduction::mean, nn::Reduction::sum}) {
    const nn::BCELoss bce{.weight = pw, .reduction = r};
    check(et::gradcheck([&](const In& v) { return bce(et::sigmoid(v[0]), v[1]); }, {z, t}));
    const nn::BCEWithLogitsLoss bcel{.weight = pw, .reduction = r, .pos_weight = pw};
    check(et::gradcheck([&](const In& v) { return bcel(v[0], v[1]); }, {z, t}));
    check(et::gradcheck([&](const In& v) { return nn::kl_div(v[0], v[1], {.reduction = r}); },
                        {z, t}));
    check(et::gradcheck(
        [&](const In& v) { return nn::kl_div(v[0], v[1], {.reduction = r, .log_target = true}); },
        {z, t}));
    const nn::CosineEmbeddingLoss cel{.margin = -0.2, .reduction = r};
    check(et::gradcheck([&](const In& v) { return cel(v[0], v[1], ey); }, {x1, x2}));
  }
}

TEST_CASE("losses: extreme logits stay finite and exact", "[nn][loss]") {
  const VarD x(et::tensor<double>({{1000.0, -1000.0, 0.0}, {-800.0, -790.0, -800.0}}), true);
  const auto y = et::tensor<std::int64_t>({0, 1});
  const VarD l = nn::cross_entropy(x, y, {.reduction = nn::Reduction::none});
  CHECK(l.value()(0) == 0.0);
  CHECK(l.value()(1) == Approx(std::log1p(2 * std::exp(-10.0))));
  const VarD b = nn::binary_cross_entropy_with_logits(
      x, et::tensor<double>({{1.0, 0.0, 1.0}, {0.0, 1.0, 0.0}}), {.reduction = nn::Reduction::sum});
  CHECK(std::isfinite(b.item()));
  b.backward();
  CHECK(x.grad()(0, 2) == Approx(-0.5));  // sigmoid(0) - 1, exact at the kink of |x|
  // probabilities 0 and 1: each log is clamped at -100, as PyTorch
  const auto bce =
      nn::binary_cross_entropy(et::tensor<double>({0.0, 1.0}), et::tensor<double>({1.0, 0.0}));
  CHECK(bce.item() == Approx(100.0));
  // a logit of -inf (a masked class) is a probability of 0, not a NaN
  const double inf = std::numeric_limits<double>::infinity();
  const VarD m(et::tensor<double>({{0.0, -inf, 1.0}}), true);
  const VarD lm = nn::cross_entropy(m, et::tensor<std::int64_t>({2}));
  CHECK(lm.item() == Approx(std::log1p(std::exp(-1.0))));
  lm.backward();
  CHECK(m.grad()(0, 1) == 0.0);
}

TEST_CASE("losses: tensors in give a Var without grad, and no_grad records nothing", "[nn][loss]") {
  const auto x = et::randn<float>({4, 3});
  const auto y = et::tensor<std::int64_t>({0, 2, 1, 1});
  const auto l = nn::cross_entropy(x, y);
  CHECK_FALSE(l.requires_grad());
  const et::Var<float> v(x, true);
  {
    et::NoGradGuard ng;
    CHECK_FALSE(nn::cross_entropy(v, y).requires_grad());
    CHECK_FALSE(nn::mse_loss(v, x).requires_grad());
  }
  const auto lv = nn::cross_entropy(v, y);
  CHECK(lv.grad_fn_name() == "CrossEntropyLossBackward");
  CHECK(lv.item() == Approx(l.item()));
  // float and double agree
  const auto ld =
      nn::cross_entropy(et::Tensor<double>(et::cast<double>(x)), y, {.label_smoothing = 0.1});
  CHECK(nn::cross_entropy(x, y, {.label_smoothing = 0.1}).item() ==
        Approx(ld.item()).epsilon(1e-6));
}
