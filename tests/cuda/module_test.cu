// net.to<cuda>() / net.to<cpu>(): typed networks and user networks templated on the device move
// between devices with every parameter, name, flag and mode; outputs on cuda equal the cpu's.
#include <string>
#include <vector>

#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::gpu;

namespace {

// A user network: a template on the device, default-constructible, members registered.
template <class D = et::cpu>
struct Net : nn::Module<Net<D>> {
  nn::Linear<4, 8, float, D> fc1;
  nn::Linear<8, 2, float, D> fc2;
  template <class X>
  auto forward(const X& x) {
    return fc2(et::relu(fc1(x)));
  }
  ETNA_MODULE(fc1, fc2)
};

// Every parameter of `a` (cuda) equals the one of the same name in `b` (cpu), in the same order.
template <class A, class B>
void require_same_parameters(const A& a, const B& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pb[i].first);
    CHECK(pa[i].first == pb[i].first);
    CHECK(pa[i].second.requires_grad() == pb[i].second.requires_grad());
    ETNA_REQUIRE_MATCHES_CPU(pa[i].second.value(), pb[i].second.value(), 1e-12);
  }
}

// Buffers (running statistics) and index buffers (num_batches_tracked) likewise.
template <class A, class B>
void require_same_buffers(const A& a, const B& b) {
  const auto ba = a.named_buffers();
  const auto bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i) {
    INFO(bb[i].first);
    CHECK(ba[i].first == bb[i].first);
    ETNA_REQUIRE_MATCHES_CPU(ba[i].second, bb[i].second, 1e-6);
  }
  const auto ia = a.named_index_buffers();
  const auto ib = b.named_index_buffers();
  REQUIRE(ia.size() == ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i) {
    INFO(ib[i].first);
    CHECK(ia[i].first == ib[i].first);
    ETNA_REQUIRE_MATCHES_CPU(ia[i].second, ib[i].second, 1e-12);
  }
}

// A user network with runtime-sized Embedding and LayerNorm (rebuilt by their device-copy
// constructors, since the default member initialisers cannot know the original's settings).
template <class D = et::cpu>
struct TextNet : nn::Module<TextNet<D>> {
  nn::Embedding<0, 0, float, D> emb{10, 6, 2};
  nn::LayerNorm<0, float, D> ln = nn::LayerNorm<0, float, D>(et::Shape{6}, 1e-3);
  nn::LayerNorm<6, float, D> typed_ln;
  nn::Embedding<10, 6, float, D> typed_emb;
  auto forward(const et::Tensor<std::int64_t, D>& ids) {
    return typed_ln(ln(emb(ids)) + typed_emb(ids));
  }
  ETNA_MODULE(emb, ln, typed_ln, typed_emb)
};

template <class Net>
et::Tensor<float> run_on_cpu(Net& net, const et::Tensor<float>& x) {
  et::NoGradGuard no_grad;
  return et::Tensor<float>(net(x).value());
}

}  // namespace

TEST_CASE("Sequential moves to cuda and back with every parameter") {
  et::manual_seed(1);
  nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 2>> net;
  net.template get<2>().bias.requires_grad(false);
  net.eval();
  auto dev = net.to<gpu>();
  static_assert(std::is_same_v<decltype(dev), nn::Sequential<nn::Linear<4, 8, float, gpu>, nn::ReLU,
                                                             nn::Linear<8, 2, float, gpu>>>);
  static_assert(std::is_same_v<nn::on_device_t<decltype(dev), et::cpu>, decltype(net)>);
  require_same_parameters(dev, net);
  CHECK(!dev.is_training());
  CHECK(!dev.template get<0>().is_training());
  // Independent storage: changing the copy leaves the original alone.
  dev.template get<0>().weight.value().fill(3.f);
  CHECK(net.template get<0>().weight.value()(0, 0) != 3.f);

  auto back = dev.to<et::cpu>();
  static_assert(std::is_same_v<decltype(back), decltype(net)>);
  require_same_parameters(dev, back);
  CHECK(back.template get<0>().weight.value()(1, 2) == 3.f);
  CHECK(!back.template get<2>().bias.requires_grad());
  CHECK(!back.is_training());

  // To the device a module is already on: a handle sharing its parameters.
  auto same = net.to<et::cpu>();
  CHECK(same.template get<0>().weight.value().data() ==
        net.template get<0>().weight.value().data());
}

TEST_CASE("a user network templated on the device moves to cuda and back") {
  et::manual_seed(2);
  Net<> net;
  auto dev = net.to<gpu>();
  static_assert(std::is_same_v<decltype(dev), Net<gpu>>);
  require_same_parameters(dev, net);
  const auto names = dev.named_parameters();
  CHECK(names[0].first == "fc1.weight");
  CHECK(names[3].first == "fc2.bias");
  auto back = dev.to<et::cpu>();
  require_same_parameters(dev, back);
  CHECK(back.is_training());
}

TEST_CASE("gradients and tied parameters survive the move") {
  et::manual_seed(3);
  nn::Sequential<nn::Linear<3, 3>, nn::Linear<3, 3>> net;
  net.template get<1>().weight = net.template get<0>().weight;  // tied
  net.template get<0>().bias.set_grad(et::ones<float>({3}));
  auto dev = net.to<gpu>();
  CHECK(dev.template get<0>().weight.value().data() == dev.template get<1>().weight.value().data());
  CHECK(dev.named_parameters().size() == net.named_parameters().size());
  ETNA_REQUIRE_MATCHES_CPU(dev.template get<0>().bias.grad(), et::ones<float>({3}), 1e-12);
}

TEST_CASE("composite layers move between devices") {
  et::manual_seed(4);
  nn::Sequential<nn::Residual<nn::Linear<5, 5>>, nn::Repeat<2, nn::Linear<5, 5>>,
                 nn::Parallel<nn::Linear<5, 3>, nn::Linear<5, 3>, nn::Concat>, nn::Flatten>
      net;
  auto dev = net.to<gpu>();
  require_same_parameters(dev, net);
  auto back = dev.to<et::cpu>();
  require_same_parameters(dev, back);
  CHECK(back.named_parameters()[2].first == "1.0.weight");
  // Runtime-sized layers have no default constructor: they are rebuilt from the original.
  nn::Sequential<nn::Linear<>, nn::Tanh, nn::Linear<>> runtime(nn::Linear<>(6, 4), nn::Tanh{},
                                                               nn::Linear<>(4, 1, false));
  auto dev_runtime = runtime.to<gpu>();
  require_same_parameters(dev_runtime, runtime);
  CHECK(!dev_runtime.template get<2>().bias.defined());
}

TEST_CASE("outputs of a moved network on cuda equal the cpu's") {
  et::manual_seed(5);
  nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 2>> net;
  Net<> user;
  const auto x = et::randn<float>({16, 4});
  auto dev = net.to<gpu>();
  auto dev_user = user.to<gpu>();
  et::NoGradGuard no_grad;
  ETNA_REQUIRE_MATCHES_CPU(dev(x.to<gpu>()).value(), run_on_cpu(net, x), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dev_user(x.to<gpu>()).value(), run_on_cpu(user, x), 1e-5);
}

TEST_CASE("a network with BatchNorm1d moves to cuda and back with its running statistics") {
  et::manual_seed(6);
  nn::Sequential<nn::Linear<4, 8>, nn::BatchNorm1d<8>, nn::ReLU, nn::Linear<8, 3>> net;
  {  // two training steps, so the running statistics and the counter are not the initial ones
    et::NoGradGuard no_grad;
    (void)net(et::randn<float>({16, 4}));
    (void)net(et::randn<float>({16, 4}));
  }
  net.template get<1>().weight.value().fill(1.5f);
  auto dev = net.to<gpu>();
  static_assert(std::is_same_v<nn::on_device_t<decltype(net), gpu>,
                               nn::Sequential<nn::Linear<4, 8, float, gpu>,
                                              nn::BatchNorm1d<8, float, gpu>, nn::ReLU,
                                              nn::Linear<8, 3, float, gpu>>>);
  require_same_parameters(dev, net);
  require_same_buffers(dev, net);
  CHECK(dev.named_buffers()[0].first == "1.running_mean");
  CHECK(dev.named_index_buffers()[0].first == "1.num_batches_tracked");
  CHECK(dev.template get<1>().num_batches_tracked.item() == 2);
  CHECK(dev.template get<1>().eps == net.template get<1>().eps);
  CHECK(dev.template get<1>().momentum == net.template get<1>().momentum);
  CHECK(dev.is_training());
  CHECK(dev.template get<1>().is_training());

  const auto x = et::randn<float>({16, 4});
  et::NoGradGuard no_grad;
  SECTION("train mode: batch statistics, running ones updated alike") {
    ETNA_REQUIRE_MATCHES_CPU(dev(x.to<gpu>()).value(), run_on_cpu(net, x), 1e-5);
    require_same_buffers(dev, net);
    CHECK(dev.template get<1>().num_batches_tracked.item() == 3);
  }
  SECTION("eval mode: running statistics; kept by the move both ways") {
    net.eval();
    auto dev_eval = net.to<gpu>();
    CHECK(!dev_eval.is_training());
    CHECK(!dev_eval.template get<1>().is_training());
    ETNA_REQUIRE_MATCHES_CPU(dev_eval(x.to<gpu>()).value(), run_on_cpu(net, x), 1e-5);
    require_same_buffers(dev_eval, net);
    auto back = dev_eval.to<et::cpu>();
    CHECK(!back.template get<1>().is_training());
    require_same_parameters(dev_eval, back);
    require_same_buffers(dev_eval, back);
    CHECK(back.template get<1>().num_batches_tracked.item() == 2);
  }
  SECTION("back to the cpu in train mode") {
    auto back = dev.to<et::cpu>();
    static_assert(std::is_same_v<decltype(back), decltype(net)>);
    CHECK(back.is_training());
    require_same_parameters(dev, back);
    require_same_buffers(dev, back);
  }
}

TEST_CASE("runtime-sized batch norms keep every setting on the move") {
  et::manual_seed(7);
  nn::Sequential<nn::BatchNorm1d<>, nn::BatchNorm2d<>, nn::BatchNorm3d<>> net(
      nn::BatchNorm1d<>(5, 1e-3, std::nullopt), nn::BatchNorm2d<>(5, 1e-4, 0.3, false),
      nn::BatchNorm3d<>(5, 1e-5, 0.1, true, false));
  auto dev = net.to<gpu>();
  static_assert(std::is_same_v<nn::on_device_t<nn::BatchNorm2d<>, gpu>,
                               nn::BatchNorm2d<0, float, gpu>>);
  require_same_parameters(dev, net);
  require_same_buffers(dev, net);
  auto& b1 = dev.template get<0>();
  auto& b2 = dev.template get<1>();
  auto& b3 = dev.template get<2>();
  CHECK(b1.num_features() == 5);
  CHECK(b1.eps == 1e-3);
  CHECK(!b1.momentum.has_value());
  CHECK(b1.affine());
  CHECK(b2.momentum == 0.3);
  CHECK(!b2.affine());
  CHECK(b2.track_running_stats());
  CHECK(b3.affine());
  CHECK(!b3.track_running_stats());
  CHECK(b3.repr() == net.template get<2>().repr());
  CHECK(dev.repr() == net.repr());
  // The cumulative average (momentum None) reads the counter on the device.
  const auto x = et::randn<float>({8, 5});
  et::NoGradGuard no_grad;
  for (int step = 0; step < 2; ++step) {
    ETNA_REQUIRE_MATCHES_CPU(b1(x.to<gpu>()).value(),
                             et::Tensor<float>(net.template get<0>()(x).value()), 1e-5);
  }
  require_same_buffers(b1, net.template get<0>());
  auto back = dev.to<et::cpu>();
  CHECK(back.repr() == net.repr());
  CHECK(back.template get<0>().num_batches_tracked.item() == 2);
}

TEST_CASE("a network with Embedding and LayerNorm moves to cuda and back") {
  et::manual_seed(8);
  TextNet<> net;
  net.typed_emb = nn::Embedding<10, 6>(/*padding_idx=*/-1);
  net.ln.weight.value().fill(0.5f);
  auto dev = net.to<gpu>();
  static_assert(std::is_same_v<decltype(dev), TextNet<gpu>>);
  require_same_parameters(dev, net);
  CHECK(dev.named_parameters()[0].first == "emb.weight");
  CHECK(dev.emb.padding_idx() == 2);
  CHECK(dev.typed_emb.padding_idx() == 9);
  CHECK(dev.ln.eps == 1e-3);
  CHECK(dev.ln.normalized_shape() == et::Shape{6});
  CHECK(dev.repr() == net.repr());
  const auto ids = et::randint(0, 10, {3, 4});  // padding rows 2 and 9 among them, likely
  for (bool training : {true, false}) {
    INFO("training " << training);
    net.train(training);
    dev.train(training);
    et::Var<float> y = net(ids);
    et::Var<float, gpu> yd = dev(ids.to<gpu>());
    ETNA_REQUIRE_MATCHES_CPU(yd.value(), et::Tensor<float>(y.value()), 1e-5);
  }
  auto back = dev.to<et::cpu>();
  require_same_parameters(dev, back);
  CHECK(!back.is_training());
  CHECK(back.emb.padding_idx() == 2);
  CHECK(back.ln.eps == 1e-3);
  // A LayerNorm without affine parameters, or without a bias, stays that way.
  nn::Sequential<nn::LayerNorm<>, nn::LayerNorm<>> plain(nn::LayerNorm<>({2, 3}, 1e-5, false),
                                                         nn::LayerNorm<>({2, 3}, 1e-5, true, false));
  auto dev_plain = plain.to<gpu>();
  CHECK(!dev_plain.template get<0>().elementwise_affine());
  CHECK(dev_plain.template get<1>().weight.defined());
  CHECK(!dev_plain.template get<1>().bias.defined());
  CHECK(dev_plain.template get<1>().normalized_shape() == et::Shape{2, 3});
}
