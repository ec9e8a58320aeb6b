// The CPU's SIMD gate kernels (nn/rnn/cpu_gates.hpp) against the expression path (the one CUDA
// runs) at hidden sizes that give full vector batches plus a scalar tail on AVX2 and AVX-512,
// with gate rows at unaligned offsets: forward, final states and every gradient. The fixtures'
// small hidden sizes only reach the scalar tail of the kernels.
#include <catch2/catch.hpp>
#include <etna/etna.hpp>

namespace et = etna;
namespace nn = etna::nn;

namespace {

struct GenericGates {
  GenericGates() { nn::detail::rnn_use_generic_gates() = true; }
  ~GenericGates() { nn::detail::rnn_use_generic_gates() = false; }
};

template <class T>
struct Run {
  std::vector<et::Tensor<T>> values;  // output, h_n (, c_n), input grad, parameter grads
};

template <class M, class T>
Run<T> run_once(M& model, const et::Tensor<T>& x_value, const std::vector<std::int64_t>& lengths) {
  model.zero_grad();
  et::Var<T> x(x_value.clone(), true);
  Run<T> r;
  auto out = model(x, lengths);
  if constexpr (requires { out.c_n; }) {
    et::Var<T>(et::sum(out.output * out.output) + et::sum(out.h_n) + et::sum(out.c_n * T(0.5)))
        .backward();
    r.values = {out.output.value().clone(), out.h_n.value().clone(), out.c_n.value().clone()};
  } else {
    et::Var<T>(et::sum(out.output * out.output) + et::sum(out.h_n)).backward();
    r.values = {out.output.value().clone(), out.h_n.value().clone()};
  }
  r.values.push_back(x.grad().clone());
  for (auto& [name, p] : model.named_parameters()) r.values.push_back(p.grad().clone());
  return r;
}

template <class M, class T>
void check_paths(M& model, std::int64_t L, std::int64_t N, std::int64_t In, double tol) {
  const auto x = et::randn<T>({L, N, In});
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(N), L);
  lengths[1] = L - 2;  // one shorter sequence exercises the mask path
  for (const auto& lens : {std::vector<std::int64_t>(static_cast<std::size_t>(N), L), lengths}) {
    const Run<T> simd = run_once(model, x, lens);
    Run<T> generic;
    {
      GenericGates g;
      generic = run_once(model, x, lens);
    }
    REQUIRE(simd.values.size() == generic.values.size());
    for (std::size_t i = 0; i < simd.values.size(); ++i) {
      INFO("value " << i);
      const auto& a = simd.values[i];
      const auto& b = generic.values[i];
      REQUIRE(a.shape() == b.shape());
      for (std::int64_t k = 0; k < a.numel(); ++k)
        REQUIRE(a.data()[k] == Approx(b.data()[k]).epsilon(tol).margin(tol));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("SIMD gate kernels equal the expression path at odd hidden sizes", "[rnn][simd]",
                   float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-11;
  et::manual_seed(11);
  for (std::int64_t H : {19, 37}) {
    INFO("hidden " << H);
    nn::LSTM<T> lstm(7, H, {.bidirectional = true});
    check_paths<decltype(lstm), T>(lstm, 6, 3, 7, tol);
    nn::GRU<T> gru(7, H, {.num_layers = 2});
    check_paths<decltype(gru), T>(gru, 6, 3, 7, tol);
    nn::RNN<T> rnn_tanh(7, H, {.bidirectional = true});
    check_paths<decltype(rnn_tanh), T>(rnn_tanh, 6, 3, 7, tol);
    nn::RNN<T> rnn_relu(7, H, {.nonlinearity = "relu"});
    check_paths<decltype(rnn_relu), T>(rnn_relu, 6, 3, 7, tol);
  }
}
