// Recurrent layers on cuda: the same model moved with to<cuda>() keeps its PyTorch parameter
// names and gives the cpu's outputs, final states and gradients (lengths, bidirectional,
// several layers, batch_first, cells).
#include <string>
#include <vector>

#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::gpu;

namespace {

using VC = et::Var<double>;
using VG = et::Var<double, gpu>;

VC leaf(const et::Shape& shape) { return VC(et::randn<double>(shape), true); }
VG on_gpu(const VC& v) { return VG(v.value().to<gpu>(), true); }

// Parameter names equal, and every gradient of the cuda model equals the cpu model's.
template <class MG, class MC>
void require_same_gradients(const MG& g, const MC& c) {
  const auto pg = g.named_parameters();
  const auto pc = c.named_parameters();
  REQUIRE(pg.size() == pc.size());
  for (std::size_t i = 0; i < pg.size(); ++i) {
    INFO(pc[i].first);
    CHECK(pg[i].first == pc[i].first);
    REQUIRE(pg[i].second.grad().defined());
    ETNA_REQUIRE_MATCHES_CPU(pg[i].second.grad(), pc[i].second.grad(), 1e-10);
  }
}

}  // namespace

TEST_CASE("LSTM on cuda: names, outputs, states and gradients with lengths", "[cuda][rnn]") {
  et::manual_seed(1);
  nn::LSTM<double> cpu_model(3, 5, {.num_layers = 2, .bidirectional = true});
  auto gpu_model = cpu_model.to<gpu>();
  static_assert(std::is_same_v<decltype(gpu_model), nn::LSTM<double, gpu>>);
  const std::vector<std::int64_t> lengths{4, 6, 1, 3};
  const VC x = leaf({6, 4, 3}), h0 = leaf({4, 4, 5}), c0 = leaf({4, 4, 5});
  const VG xg = on_gpu(x), h0g = on_gpu(h0), c0g = on_gpu(c0);
  auto rc = cpu_model(x, nn::LSTMState<double>{h0, c0}, lengths);
  auto rg = gpu_model(xg, nn::LSTMState<double, gpu>{h0g, c0g}, lengths);
  ETNA_REQUIRE_MATCHES_CPU(rg.output.value(), rc.output.value(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(rg.h_n.value(), rc.h_n.value(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(rg.c_n.value(), rc.c_n.value(), 1e-10);
  const auto r1 = et::randn<double>(rc.output.shape()), r2 = et::randn<double>(rc.c_n.shape());
  VC(et::sum(rc.output * r1) + et::sum(rc.c_n * r2)).backward();
  VG(et::sum(rg.output * r1.to<gpu>()) + et::sum(rg.c_n * r2.to<gpu>())).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), x.grad(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(h0g.grad(), h0.grad(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(c0g.grad(), c0.grad(), 1e-10);
  require_same_gradients(gpu_model, cpu_model);
}

TEST_CASE("GRU on cuda: bidirectional, batch_first", "[cuda][rnn]") {
  et::manual_seed(2);
  nn::GRU<double> cpu_model(3, 4, {.batch_first = true, .bidirectional = true});
  auto gpu_model = cpu_model.to<gpu>();
  const VC x = leaf({2, 5, 3}), h0 = leaf({2, 2, 4});
  const VG xg = on_gpu(x), h0g = on_gpu(h0);
  auto rc = cpu_model(x, h0);
  auto rg = gpu_model(xg, h0g);
  ETNA_REQUIRE_MATCHES_CPU(rg.output.value(), rc.output.value(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(rg.h_n.value(), rc.h_n.value(), 1e-10);
  const auto r = et::randn<double>(rc.output.shape());
  VC(et::sum(rc.output * r) + et::sum(rc.h_n)).backward();
  VG(et::sum(rg.output * r.to<gpu>()) + et::sum(rg.h_n)).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), x.grad(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(h0g.grad(), h0.grad(), 1e-10);
  require_same_gradients(gpu_model, cpu_model);
}

TEST_CASE("RNN relu on cuda: two layers, lengths, float", "[cuda][rnn]") {
  et::manual_seed(3);
  nn::RNN<float> cpu_model(3, 4, {.num_layers = 2, .nonlinearity = "relu"});
  auto gpu_model = cpu_model.to<gpu>();
  const et::Var<float> x(et::randn<float>({5, 3, 3}), true);
  const et::Var<float, gpu> xg(x.value().to<gpu>(), true);
  const std::vector<std::int64_t> lengths{5, 2, 3};
  auto rc = cpu_model(x, lengths);
  auto rg = gpu_model(xg, lengths);
  ETNA_REQUIRE_MATCHES_CPU(rg.output.value(), rc.output.value(), 1e-5);
  et::Var<float>(et::sum(rc.output) + et::sum(rc.h_n)).backward();
  et::Var<float, gpu>(et::sum(rg.output) + et::sum(rg.h_n)).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), x.grad(), 1e-5);
  const auto pg = gpu_model.named_parameters();
  const auto pc = cpu_model.named_parameters();
  REQUIRE(pg.size() == pc.size());
  for (std::size_t i = 0; i < pg.size(); ++i) {
    CHECK(pg[i].first == pc[i].first);
    ETNA_REQUIRE_MATCHES_CPU(pg[i].second.grad(), pc[i].second.grad(), 1e-5);
  }
}

TEST_CASE("cells on cuda", "[cuda][rnn]") {
  et::manual_seed(4);
  nn::LSTMCell<double> lstm(3, 4);
  nn::GRUCell<double> gru(3, 4);
  auto lstm_g = lstm.to<gpu>();
  auto gru_g = gru.to<gpu>();
  const VC x = leaf({2, 3}), h = leaf({2, 4}), c = leaf({2, 4});
  const VG xg = on_gpu(x), hg = on_gpu(h), cg = on_gpu(c);
  auto sc = lstm(x, nn::LSTMState<double>{h, c});
  auto sg = lstm_g(xg, nn::LSTMState<double, gpu>{hg, cg});
  ETNA_REQUIRE_MATCHES_CPU(sg.h.value(), sc.h.value(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(sg.c.value(), sc.c.value(), 1e-10);
  const VC hc = gru(x, sc.h);
  const VG hgpu = gru_g(xg, sg.h);
  ETNA_REQUIRE_MATCHES_CPU(hgpu.value(), hc.value(), 1e-10);
  VC(et::sum(hc) + et::sum(sc.c)).backward();
  VG(et::sum(hgpu) + et::sum(sg.c)).backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), x.grad(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(cg.grad(), c.grad(), 1e-10);
  require_same_gradients(lstm_g, lstm);
  require_same_gradients(gru_g, gru);
  // and back: names and values survive the round trip
  auto back = gru_g.to<et::cpu>();
  const auto pb = back.named_parameters();
  const auto pc = gru.named_parameters();
  for (std::size_t i = 0; i < pb.size(); ++i) {
    CHECK(pb[i].first == pc[i].first);
    CHECK(et::test::max_relative_error(pc[i].second.value().to<gpu>(), pb[i].second.value()) == 0);
  }
}

namespace {

template <class T, class D>
nn::LSTMState<T, D> lstm_state(const et::Var<T, D>& h, const et::Var<T, D>& c) {
  return {h, c};
}

// One bidirectional layer of hidden size 37 (not a multiple of any SIMD width) on the cpu and
// on cuda, with or without lengths: outputs, final states and every gradient agree.
template <class Model>
void check_fused_gates(Model& cpu_model, bool with_lengths) {
  constexpr bool lstm = std::is_same_v<Model, nn::LSTM<double>>;
  auto gpu_model = cpu_model.template to<gpu>();
  const std::vector<std::int64_t> lengths{5, 2, 4};
  const VC x = leaf({5, 3, 2}), h0 = leaf({2, 3, 37}), c0 = leaf({2, 3, 37});
  const VG xg = on_gpu(x), h0g = on_gpu(h0), c0g = on_gpu(c0);
  auto run = [&](auto& model, const auto& xv, const auto& h, const auto& c) {
    if constexpr (lstm) {
      return with_lengths ? model(xv, lstm_state(h, c), lengths) : model(xv, lstm_state(h, c));
    } else {
      (void)c;
      return with_lengths ? model(xv, h, lengths) : model(xv, h);
    }
  };
  auto rc = run(cpu_model, x, h0, c0);
  auto rg = run(gpu_model, xg, h0g, c0g);
  ETNA_REQUIRE_MATCHES_CPU(rg.output.value(), rc.output.value(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(rg.h_n.value(), rc.h_n.value(), 1e-10);
  const et::Tensor<double> r1 = et::randn<double>(rc.output.shape()),
                           r2 = et::randn<double>(rc.h_n.shape());
  VC lc(et::sum(rc.output * r1) + et::sum(rc.h_n * r2));
  VG lg(et::sum(rg.output * r1.to<gpu>()) + et::sum(rg.h_n * r2.to<gpu>()));
  if constexpr (lstm) {
    ETNA_REQUIRE_MATCHES_CPU(rg.c_n.value(), rc.c_n.value(), 1e-10);
    lc = VC(lc + et::sum(rc.c_n * r2));
    lg = VG(lg + et::sum(rg.c_n * r2.to<gpu>()));
  }
  lc.backward();
  lg.backward();
  ETNA_REQUIRE_MATCHES_CPU(xg.grad(), x.grad(), 1e-10);
  ETNA_REQUIRE_MATCHES_CPU(h0g.grad(), h0.grad(), 1e-10);
  if constexpr (lstm) ETNA_REQUIRE_MATCHES_CPU(c0g.grad(), c0.grad(), 1e-10);
  require_same_gradients(gpu_model, cpu_model);
}

}  // namespace

TEST_CASE("fused gate kernels on cuda: every kind, with and without lengths", "[cuda][rnn]") {
  for (const bool with_lengths : {false, true}) {
    INFO("lengths: " << with_lengths);
    et::manual_seed(5);
    nn::RNN<double> tanh_model(2, 37, {.bidirectional = true});
    check_fused_gates(tanh_model, with_lengths);
    nn::RNN<double> relu_model(2, 37, {.bidirectional = true, .nonlinearity = "relu"});
    check_fused_gates(relu_model, with_lengths);
    nn::LSTM<double> lstm_model(2, 37, {.bidirectional = true});
    check_fused_gates(lstm_model, with_lengths);
    nn::GRU<double> gru_model(2, 37, {.bidirectional = true});
    check_fused_gates(gru_model, with_lengths);
  }
}
