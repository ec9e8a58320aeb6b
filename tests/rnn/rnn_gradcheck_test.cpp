// Finite-difference gradient checks (double) of every recurrent kind with respect to the input,
// the initial states and every parameter, including bidirectional layers with lengths.
#include <catch2/catch.hpp>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/rnn.hpp"

namespace et = etna;
namespace nn = etna::nn;
using V = et::Var<double>;

namespace {

// Everything the module returns, flattened into one vector for gradcheck.
V flat(std::initializer_list<V> parts) {
  std::vector<V> pieces;
  for (const auto& p : parts)
    if (p.defined()) pieces.push_back(p.reshape({-1}));
  return et::cat(pieces, 0);
}

template <class M, class Run>
void check_module(M& m, const std::vector<V>& extra, Run run) {
  std::vector<V> inputs = extra;
  for (auto& p : m.parameters()) inputs.push_back(p);
  const auto result = et::gradcheck([&](const std::vector<V>&) { return run(); }, inputs);
  INFO(result.report);
  CHECK(result.ok);
}

V rand_var(const et::Shape& shape) { return V(et::randn<double>(shape), true); }

}  // namespace

TEST_CASE("gradcheck: RNN tanh and relu, two layers, bidirectional", "[rnn][gradcheck]") {
  et::manual_seed(1);
  for (std::string nl : {"tanh", "relu"}) {
    nn::RNN<double> m(3, 4, {.num_layers = 2, .bidirectional = true, .nonlinearity = nl});
    const V x = rand_var({4, 2, 3}), h0 = rand_var({4, 2, 4});
    check_module(m, {x, h0}, [&] {
      auto [out, h_n] = m(x, h0);
      return flat({out, h_n});
    });
  }
}

TEST_CASE("gradcheck: LSTM two layers with initial states", "[rnn][lstm][gradcheck]") {
  et::manual_seed(2);
  nn::LSTM<double> m(3, 4, {.num_layers = 2});
  const V x = rand_var({4, 2, 3}), h0 = rand_var({2, 2, 4}), c0 = rand_var({2, 2, 4});
  check_module(m, {x, h0, c0}, [&] {
    auto [out, h_n, c_n] = m(x, nn::LSTMState<double>{h0, c0});
    return flat({out, h_n, c_n});
  });
}

TEST_CASE("gradcheck: GRU bidirectional batch_first", "[rnn][gru][gradcheck]") {
  et::manual_seed(3);
  nn::GRU<double> m(3, 4, {.batch_first = true, .bidirectional = true});
  const V x = rand_var({2, 4, 3}), h0 = rand_var({2, 2, 4});
  check_module(m, {x, h0}, [&] {
    auto [out, h_n] = m(x, h0);
    return flat({out, h_n});
  });
}

TEST_CASE("gradcheck: bidirectional with lengths, every kind", "[rnn][lengths][gradcheck]") {
  et::manual_seed(4);
  const std::vector<std::int64_t> lengths{2, 4, 1};
  const V x = rand_var({4, 3, 3}), h0 = rand_var({2, 3, 4}), c0 = rand_var({2, 3, 4});
  SECTION("LSTM") {
    nn::LSTM<double> m(3, 4, {.bidirectional = true});
    check_module(m, {x, h0, c0}, [&] {
      auto [out, h_n, c_n] = m(x, nn::LSTMState<double>{h0, c0}, lengths);
      return flat({out, h_n, c_n});
    });
  }
  SECTION("GRU") {
    nn::GRU<double> m(3, 4, {.bidirectional = true});
    check_module(m, {x, h0}, [&] {
      auto [out, h_n] = m(x, h0, lengths);
      return flat({out, h_n});
    });
  }
  SECTION("RNN") {
    nn::RNN<double> m(3, 4, {.bidirectional = true});
    check_module(m, {x, h0}, [&] {
      auto [out, h_n] = m(x, h0, lengths);
      return flat({out, h_n});
    });
  }
}

TEST_CASE("gradcheck: cells", "[rnn][cell][gradcheck]") {
  et::manual_seed(5);
  const V x = rand_var({2, 3}), h = rand_var({2, 4}), c = rand_var({2, 4});
  SECTION("RNNCell") {
    nn::RNNCell<double> m(3, 4);
    check_module(m, {x, h}, [&] { return m(x, h); });
  }
  SECTION("LSTMCell") {
    nn::LSTMCell<double> m(3, 4);
    check_module(m, {x, h, c}, [&] {
      auto [h1, c1] = m(x, nn::LSTMState<double>{h, c});
      return flat({h1, c1});
    });
  }
  SECTION("GRUCell") {
    nn::GRUCell<double> m(3, 4);
    check_module(m, {x, h}, [&] { return m(x, h); });
  }
}
