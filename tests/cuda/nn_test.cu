// nn on the GPU: normalisation, dropout, losses and initialisers on Var<float, cuda>, each
// forward value and gradient compared with the CPU backend on the same inputs.
#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

template <class T>
et::Var<T, gpu> on_gpu(const et::Var<T>& v) {
  return et::Var<T, gpu>(v.value().template to<gpu>(), v.requires_grad());
}

// Both Vars' gradients match, or neither has one.
template <class T>
void require_same_grad(const et::Var<T, gpu>& d, const et::Var<T>& h, double tol = 1e-5) {
  REQUIRE(d.grad().defined() == h.grad().defined());
  if (h.grad().defined()) ETNA_REQUIRE_MATCHES_CPU(d.grad(), h.grad(), tol);
}

template <class T>
void clear_grads(et::Var<T, gpu> d, et::Var<T> h) {  // handles: the copies share the gradients
  d.zero_grad();
  h.zero_grad();
}

}  // namespace

TEST_CASE("cuda batch_norm matches the cpu in training and eval, running stats included") {
  et::manual_seed(11);
  const et::Var<float> x(et::randn<float>({8, 3, 5}) * 2.f + 1.f, true);
  const et::Var<float> w(et::rand<float>({3}) + 0.5f, true), b(et::randn<float>({3}), true);
  const auto g = et::randn<float>({8, 3, 5});
  auto rm = et::zeros<float>({3}), rv = et::ones<float>({3});
  auto drm = rm.to<gpu>(), drv = rv.to<gpu>();
  const auto dx = on_gpu(x), dw = on_gpu(w), db = on_gpu(b);
  for (bool training : {true, false}) {
    INFO("training " << training);
    const et::Var<float> y = F::batch_norm(x, rm, rv, w, b, training, 0.2);
    const et::Var<float, gpu> dy = F::batch_norm(dx, drm, drv, dw, db, training, 0.2);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(drm, rm, 1e-5);
    ETNA_REQUIRE_MATCHES_CPU(drv, rv, 1e-5);
    y.backward(g);
    dy.backward(g.to<gpu>());
    require_same_grad(dx, x);
    require_same_grad(dw, w);
    require_same_grad(db, b);
  }
  CHECK_THROWS_WITH(
      F::batch_norm(dx, drm, drv, on_gpu(et::Var<float>(et::ones<float>({4}))), db, true),
      Catch::Contains("batch_norm: weight has shape [4] but expected [3]"));
  SECTION("no affine parameters, 2-d input") {
    const et::Var<float> x2(et::randn<float>({16, 4}), true);
    const auto dx2 = on_gpu(x2);
    const et::Var<float> y = F::batch_norm(x2, {}, {}, {}, {}, true);
    const et::Var<float, gpu> dy = F::batch_norm(dx2, {}, {}, {}, {}, true);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
    const auto g2 = et::randn<float>({16, 4});
    y.backward(g2);
    dy.backward(g2.to<gpu>());
    require_same_grad(dx2, x2);
  }
}

TEST_CASE("cuda BatchNorm layers track running statistics as on the cpu") {
  et::manual_seed(12);
  nn::BatchNorm2d<> bn(4, 1e-5, 0.1);
  nn::BatchNorm2d<0, float, gpu> dbn(4, 1e-5, 0.1);
  nn::BatchNorm1d<> cma(4, 1e-5, std::nullopt);
  nn::BatchNorm1d<0, float, gpu> dcma(4, 1e-5, std::nullopt);
  for (int step = 0; step < 3; ++step) {
    const et::Tensor<float> x = et::randn<float>({5, 4, 3, 3}) + static_cast<float>(step);
    (void)bn(x);
    (void)dbn(x.to<gpu>());
    const et::Tensor<float> x1 = et::randn<float>({6, 4}) * 3.f;
    (void)cma(x1);
    (void)dcma(x1.to<gpu>());
  }
  ETNA_REQUIRE_MATCHES_CPU(dbn.running_mean, bn.running_mean, 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dbn.running_var, bn.running_var, 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dcma.running_mean, cma.running_mean, 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dcma.running_var, cma.running_var, 1e-5);
  CHECK(dbn.num_batches_tracked.item() == 3);
  bn.eval();
  dbn.eval();
  const auto x = et::randn<float>({2, 4, 3, 3});
  const et::Var<float> y = bn(x);
  const et::Var<float, gpu> dy = dbn(x.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  CHECK(dbn.num_batches_tracked.item() == 3);  // eval leaves the count alone
}

TEST_CASE("cuda layer_norm matches the cpu") {
  et::manual_seed(13);
  const et::Var<float> x(et::randn<float>({6, 4, 5}) + 3.f, true);
  const et::Var<float> w(et::randn<float>({4, 5}), true), b(et::randn<float>({4, 5}), true);
  const auto g = et::randn<float>({6, 4, 5});
  const auto dx = on_gpu(x), dw = on_gpu(w), db = on_gpu(b);
  const et::Var<float> y = F::layer_norm(x, {4, 5}, w, b);
  const et::Var<float, gpu> dy = F::layer_norm(dx, {4, 5}, dw, db);
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  y.backward(g);
  dy.backward(g.to<gpu>());
  require_same_grad(dx, x);
  require_same_grad(dw, w);
  require_same_grad(db, b);
  SECTION("without affine parameters") {
    const et::Var<float> x2(et::randn<float>({3, 7}), true);
    const auto dx2 = on_gpu(x2);
    const et::Var<float> y2 = F::layer_norm(x2, {7});
    const et::Var<float, gpu> dy2 = F::layer_norm(dx2, {7});
    ETNA_REQUIRE_MATCHES_CPU(dy2.value(), y2.value(), 1e-5);
    const auto g2 = et::randn<float>({3, 7});
    y2.backward(g2);
    dy2.backward(g2.to<gpu>());
    require_same_grad(dx2, x2);
  }
}

TEST_CASE("cuda cross_entropy with class indices matches the cpu") {
  et::manual_seed(14);
  const std::int64_t n = 9, c = 6;
  auto labels = et::randint<std::int64_t>(0, c, {n});
  labels.data()[2] = -100;  // an ignored row
  const et::Tensor<float> weight = et::rand<float>({c}) + 0.5f;
  for (nn::Reduction r : {nn::Reduction::mean, nn::Reduction::sum, nn::Reduction::none})
    for (double smoothing : {0.0, 0.2})
      for (bool weighted : {false, true}) {
        INFO("reduction " << nn::reduction_name(r) << " smoothing " << smoothing << " weighted "
                          << weighted);
        nn::CrossEntropyLoss options{.reduction = r, .label_smoothing = smoothing};
        if (weighted) options.weight = weight;
        const et::Var<float> x(et::randn<float>({n, c}) * 3.f, true);
        const auto dx = on_gpu(x);
        const et::Var<float> loss = F::cross_entropy(x, labels, options);
        const et::Var<float, gpu> dloss = F::cross_entropy(dx, labels.to<gpu>(), options);
        ETNA_REQUIRE_MATCHES_CPU(dloss.value(), loss.value(), 1e-5);
        const et::Tensor<float> g = et::rand<float>(loss.shape()) + 0.5f;
        loss.backward(g);
        dloss.backward(g.to<gpu>());
        require_same_grad(dx, x);
      }
}

TEST_CASE("cuda cross_entropy with class probabilities differentiates both sides") {
  et::manual_seed(15);
  const et::Var<float> x(et::randn<float>({7, 5}), true);
  const et::Var<float> t(et::softmax(et::randn<float>({7, 5}), 1), true);
  const auto dx = on_gpu(x), dt = on_gpu(t);
  for (nn::Reduction r : {nn::Reduction::mean, nn::Reduction::none}) {
    const nn::CrossEntropyLoss options{
        .weight = et::rand<float>({5}) + 0.5f, .reduction = r, .label_smoothing = 0.1};
    const et::Var<float> loss = F::cross_entropy(x, t, options);
    const et::Var<float, gpu> dloss = F::cross_entropy(dx, dt, options);
    ETNA_REQUIRE_MATCHES_CPU(dloss.value(), loss.value(), 1e-5);
    const et::Tensor<float> g = et::rand<float>(loss.shape()) + 0.5f;
    loss.backward(g);
    dloss.backward(g.to<gpu>());
    require_same_grad(dx, x);
    require_same_grad(dt, t);
  }
}

TEST_CASE("cuda nll_loss matches the cpu") {
  et::manual_seed(16);
  auto labels = et::randint<std::int64_t>(0, 4, {10});
  labels.data()[0] = 1;
  labels.data()[3] = 7;  // ignore_index below
  for (nn::Reduction r : {nn::Reduction::mean, nn::Reduction::sum, nn::Reduction::none}) {
    const nn::NLLLoss options{
        .weight = et::rand<float>({4}) + 0.5f, .ignore_index = 7, .reduction = r};
    const et::Var<float> x(et::randn<float>({10, 4}), true);
    const auto dx = on_gpu(x);
    const et::Var<float> loss = F::nll_loss(x, labels, options);
    const et::Var<float, gpu> dloss = F::nll_loss(dx, labels.to<gpu>(), options);
    ETNA_REQUIRE_MATCHES_CPU(dloss.value(), loss.value(), 1e-5);
    const et::Tensor<float> g = et::rand<float>(loss.shape()) + 0.5f;
    loss.backward(g);
    dloss.backward(g.to<gpu>());
    require_same_grad(dx, x);
  }
}

TEST_CASE("cuda class losses reject bad labels with the cpu's messages") {
  const auto x = et::randn<float>({3, 4}).to<gpu>();
  const auto bad = et::Tensor<std::int64_t>(et::arange<std::int64_t>(2, 5)).to<gpu>();
  CHECK_THROWS_WITH(F::cross_entropy(x, bad),
                    Catch::Contains("target 4 is out of range for 4 classes"));
  CHECK_THROWS_WITH(F::nll_loss(x, et::zeros<std::int64_t, gpu>({2})),
                    Catch::Contains("does not match the input's batch shape"));
}

TEST_CASE("cuda dropout draws the cpu's mask on the device and keeps 1 - p of the elements") {
  const auto ones = et::ones<float>({64, 257});
  for (double p : {0.2, 0.5}) {
    INFO("p " << p);
    et::Generator gen(3), dgen(3);
    const et::Var<float> y = F::dropout(et::Var<float>(ones), p, true, gen);
    const et::Var<float, gpu> dy = F::dropout(et::Var<float, gpu>(ones.to<gpu>()), p, true, dgen);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-12);  // the same mask, bit for bit
    const auto host = dy.value().to<et::cpu>();
    std::int64_t kept = 0;
    for (float v : host) {
      if (v != 0.f) {
        ++kept;
        REQUIRE(v == static_cast<float>(1.0 / (1.0 - p)));
      }
    }
    const double rate = static_cast<double>(kept) / static_cast<double>(host.numel());
    CHECK(std::abs(rate - (1 - p)) < 0.01);  // about 5 standard deviations
  }
  SECTION("eval mode is the identity; the gradient is the scaled mask") {
    const et::Tensor<float, gpu> x = et::randn<float>({5, 6}).to<gpu>();
    const et::Var<float, gpu> y = F::dropout(et::Var<float, gpu>(x), 0.5, false);
    ETNA_REQUIRE_MATCHES_CPU(y.value(), x.to<et::cpu>(), 1e-12);
    et::Generator gen(5), dgen(5);
    const et::Var<float> hx(x.to<et::cpu>(), true);
    const et::Var<float, gpu> dx(x, true);
    const et::Var<float> hy = F::dropout(hx, 0.3, true, gen);
    const et::Var<float, gpu> dy = F::dropout(dx, 0.3, true, dgen);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), hy.value(), 1e-6);
    const auto g = et::randn<float>({5, 6});
    hy.backward(g);
    dy.backward(g.to<gpu>());
    require_same_grad(dx, hx);
  }
  SECTION("alpha_dropout and the Dropout layer") {
    et::Generator gen(9), dgen(9);
    const et::Tensor<float> x = et::randn<float>({33, 17});
    const et::Var<float> y = F::alpha_dropout(et::Var<float>(x), 0.25, true, gen);
    const et::Var<float, gpu> dy =
        F::alpha_dropout(et::Var<float, gpu>(x.to<gpu>()), 0.25, true, dgen);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-6);
    nn::Dropout layer{0.4};
    layer.eval();
    ETNA_REQUIRE_MATCHES_CPU(layer(x.to<gpu>()).value(), x, 1e-12);
  }
}

namespace {

// 0/1 (or -1/+1) values drawn on the host element by element.
et::Tensor<float> coin_flips(const et::Shape& shape, float heads, float tails) {
  const auto u = et::rand<float>(shape);
  auto out = et::empty<float>(shape);
  for (std::int64_t i = 0; i < out.numel(); ++i) out.data()[i] = u.data()[i] > 0.5f ? heads : tails;
  return out;
}

// The operands of the element-wise losses on both devices, and the comparison of a loss's value
// and its inputs' gradients.
struct LossCase {
  et::Var<float> x{et::randn<float>({6, 5}), true}, y{et::randn<float>({6, 5}), true};
  et::Var<float> p{et::Tensor<float>(et::rand<float>({6, 5}) * 0.98f + 0.01f), true};
  et::Var<float> logq{et::log_softmax(et::randn<float>({6, 5}), 1), true};
  et::Tensor<float> labels = coin_flips({6, 5}, 1.f, 0.f), sign = coin_flips({6}, 1.f, -1.f);
  et::Tensor<float> w = et::rand<float>({5}) + 0.5f;
  et::Tensor<float> target_p = et::softmax(et::randn<float>({6, 5}), 1);
  et::Var<float, gpu> dx = on_gpu(x), dy = on_gpu(y), dp = on_gpu(p), dlogq = on_gpu(logq);
  et::Tensor<float, gpu> dlabels = labels.to<gpu>(), dsign = sign.to<gpu>();
  et::Tensor<float, gpu> dtarget_p = target_p.to<gpu>();

  template <class... P>
  void check(const char* what, const et::Var<float>& loss, const et::Var<float, gpu>& dloss,
             const P&... inputs) const {
    INFO(what);
    ETNA_REQUIRE_MATCHES_CPU(dloss.value(), loss.value(), 1e-5);
    const et::Tensor<float> g = et::rand<float>(loss.shape()) + 0.5f;
    loss.backward(g);
    dloss.backward(g.to<gpu>());
    (require_same_grad(inputs.first, inputs.second), ...);
    (clear_grads(inputs.first, inputs.second), ...);
  }
};

}  // namespace

TEST_CASE("cuda mse, bce with logits and kl_div match the cpu, values and gradients") {
  et::manual_seed(17);
  const LossCase c;
  using R = nn::Reduction;
  for (R r : {R::mean, R::sum, R::none}) {
    INFO("reduction " << nn::reduction_name(r));
    c.check("mse", nn::mse_loss(c.x, c.y, r), nn::mse_loss(c.dx, c.dy, r), std::pair(c.dx, c.x),
            std::pair(c.dy, c.y));
    const nn::BCEWithLogitsLoss bce{.weight = c.w, .reduction = r, .pos_weight = c.w};
    c.check("bce_with_logits", bce(c.x, c.labels), bce(c.dx, c.dlabels), std::pair(c.dx, c.x));
    c.check("kl_div", nn::kl_div(c.logq, c.target_p, {.reduction = r}),
            nn::kl_div(c.dlogq, c.dtarget_p, {.reduction = r}), std::pair(c.dlogq, c.logq));
  }
  const nn::KLDivLoss kl{.reduction = R::batchmean, .log_target = true};
  c.check("kl_div batchmean log_target", kl(c.logq, c.y), kl(c.dlogq, c.dy),
          std::pair(c.dlogq, c.logq), std::pair(c.dy, c.y));
}

TEST_CASE("cuda l1, smooth_l1, huber, bce and cosine_embedding losses match the cpu") {
  et::manual_seed(18);
  const LossCase c;
  using R = nn::Reduction;
  for (R r : {R::mean, R::sum, R::none}) {
    INFO("reduction " << nn::reduction_name(r));
    c.check("l1", nn::l1_loss(c.x, c.y, r), nn::l1_loss(c.dx, c.dy, r), std::pair(c.dx, c.x));
    c.check("smooth_l1", nn::smooth_l1_loss(c.x, c.y, r, 0.5),
            nn::smooth_l1_loss(c.dx, c.dy, r, 0.5), std::pair(c.dx, c.x));
    c.check("huber", nn::huber_loss(c.x, c.y, r, 0.7), nn::huber_loss(c.dx, c.dy, r, 0.7),
            std::pair(c.dx, c.x), std::pair(c.dy, c.y));
    const nn::BCELoss bce{.weight = c.w, .reduction = r};
    c.check("bce", bce(c.p, c.labels), bce(c.dp, c.dlabels), std::pair(c.dp, c.p));
  }
  CHECK_THROWS_WITH(nn::binary_cross_entropy(c.dx, c.dlabels),
                    Catch::Contains("input values must lie in [0, 1]"));
  c.check("cosine_embedding", nn::cosine_embedding_loss(c.x, c.y, c.sign, {.margin = 0.1}),
          nn::cosine_embedding_loss(c.dx, c.dy, c.dsign, {.margin = 0.1}), std::pair(c.dx, c.x),
          std::pair(c.dy, c.y));
}

TEST_CASE("cuda initialisers give the cpu's numbers for the same seed") {
  const et::Shape shape{16, 8, 3};
  auto same = [&](const char* what, auto init) {
    INFO(what);
    auto host = et::zeros<float>(shape);
    auto dev = et::zeros<float, gpu>(shape);
    et::Generator gen(21), dgen(21);
    init(host, gen);
    init(dev, dgen);
    ETNA_REQUIRE_MATCHES_CPU(dev, host, 1e-6);
  };
  namespace init = nn::init;
  same("uniform_", [](const auto& t, et::Generator& g) { init::uniform_(t, -2, 3, g); });
  same("normal_", [](const auto& t, et::Generator& g) { init::normal_(t, 1, 2, g); });
  same("xavier_uniform_", [](const auto& t, et::Generator& g) { init::xavier_uniform_(t, 1, g); });
  same("xavier_normal_", [](const auto& t, et::Generator& g) { init::xavier_normal_(t, 1, g); });
  same("kaiming_uniform_", [](const auto& t, et::Generator& g) {
    init::kaiming_uniform_(t, 0, init::FanMode::fan_in, "relu", g);
  });
  same("kaiming_normal_", [](const auto& t, et::Generator& g) {
    init::kaiming_normal_(t, 0, init::FanMode::fan_out, "relu", g);
  });
  same("trunc_normal_",
       [](const auto& t, et::Generator& g) { init::trunc_normal_(t, 0, 1, -1, 1, g); });
  same("orthogonal_", [](const auto& t, et::Generator& g) { init::orthogonal_(t, 2, g); });
  same("constant_", [](const auto& t, et::Generator&) { init::constant_(t, 0.25); });
  same("a strided view",
       [](const auto& t, et::Generator& g) { init::normal_(t.transpose(0, 2), 0, 1, g); });
  same("reset_linear_ on Vars", [](const auto& t, et::Generator& g) {
    using V = et::Var<float, typename std::decay_t<decltype(t)>::device_type>;
    const V w(t, true);
    init::reset_linear_(w, g);
  });
  auto eye = et::zeros<float, gpu>({3, 5});
  nn::init::eye_(eye);
  auto host_eye = et::zeros<float>({3, 5});
  nn::init::eye_(host_eye);
  ETNA_REQUIRE_MATCHES_CPU(eye, host_eye, 1e-12);
}

TEST_CASE("cuda norms and cross_entropy at sizes that fill whole warps and blocks") {
  et::manual_seed(23);
  SECTION("batch_norm, many elements per channel, double") {
    const et::Var<double> x(et::randn<double>({64, 7, 33}) * 3.0 + 2.0, true);
    const et::Var<double> w(et::randn<double>({7}), true);
    const auto dx = on_gpu(x), dw = on_gpu(w);
    auto rm = et::zeros<double>({7}), rv = et::ones<double>({7});
    auto drm = rm.to<gpu>(), drv = rv.to<gpu>();
    const et::Var<double> y = F::batch_norm(x, rm, rv, w, {}, true);
    const et::Var<double, gpu> dy = F::batch_norm(dx, drm, drv, dw, {}, true);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-12);
    ETNA_REQUIRE_MATCHES_CPU(drv, rv, 1e-12);
    const auto g = et::randn<double>({64, 7, 33});
    y.backward(g);
    dy.backward(g.to<gpu>());
    require_same_grad(dx, x, 1e-12);
    require_same_grad(dw, w, 1e-12);
  }
  SECTION("layer_norm over 1000 features") {
    const et::Var<float> x(et::randn<float>({37, 1000}), true);
    const et::Var<float> w(et::randn<float>({1000}), true), b(et::randn<float>({1000}), true);
    const auto dx = on_gpu(x), dw = on_gpu(w), db = on_gpu(b);
    const et::Var<float> y = F::layer_norm(x, {1000}, w, b);
    const et::Var<float, gpu> dy = F::layer_norm(dx, {1000}, dw, db);
    ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
    const auto g = et::randn<float>({37, 1000});
    y.backward(g);
    dy.backward(g.to<gpu>());
    require_same_grad(dx, x);
    require_same_grad(dw, w);
    require_same_grad(db, b);
  }
  SECTION("cross_entropy over 1000 classes, [N, C, d] input") {
    const et::Var<float> x(et::randn<float>({30, 1000, 3}) * 4.f, true);
    const auto labels = et::randint<std::int64_t>(0, 1000, {30, 3});
    const auto dx = on_gpu(x);
    const nn::CrossEntropyLoss options{.label_smoothing = 0.05};
    const et::Var<float> loss = F::cross_entropy(x, labels, options);
    const et::Var<float, gpu> dloss = F::cross_entropy(dx, labels.to<gpu>(), options);
    ETNA_REQUIRE_MATCHES_CPU(dloss.value(), loss.value(), 1e-5);
    loss.backward();
    dloss.backward();
    require_same_grad(dx, x);
  }
}
