// The recurrent modules as modules: PyTorch's parameter names and order, repr, initialisation
// bounds, clone/freeze, loading a PyTorch state_dict, dropout between layers, readable errors.
#include <catch2/catch.hpp>

#include "etna/io.hpp"
#include "etna/nn/rnn.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {
template <class M>
std::vector<std::string> names_of(const M& m) {
  std::vector<std::string> out;
  for (auto& [name, p] : m.named_parameters()) out.push_back(name);
  return out;
}
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}
}  // namespace

TEST_CASE("named_parameters follow PyTorch's names, order and shapes", "[rnn][module]") {
  nn::LSTM<> lstm(3, 5, {.num_layers = 2, .bidirectional = true});
  CHECK(names_of(lstm) == std::vector<std::string>{
                              "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                              "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                              "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1",
                              "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                              "bias_ih_l1_reverse", "bias_hh_l1_reverse"});
  CHECK(lstm.params_["weight_ih_l0"].shape() == et::Shape{20, 3});
  CHECK(lstm.params_["weight_ih_l1_reverse"].shape() == et::Shape{20, 10});
  CHECK(lstm.params_["bias_hh_l1"].shape() == et::Shape{20});
  nn::GRU<> gru(3, 5, {.bias = false});
  CHECK(names_of(gru) == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"});
  CHECK(gru.params_["weight_hh_l0"].shape() == et::Shape{15, 5});
  nn::LSTMCell<> cell(3, 5);
  CHECK(names_of(cell) == std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  CHECK(cell.weight_ih.shape() == et::Shape{20, 3});
  CHECK(lstm.num_parameters() == 2 * (20 * 3 + 20 * 5 + 40) + 2 * (20 * 10 + 20 * 5 + 40));
  CHECK(lstm.input_size() == 3);
  CHECK(lstm.hidden_size() == 5);
  CHECK(lstm.num_layers() == 2);
  CHECK(lstm.bidirectional());
  CHECK_FALSE(lstm.batch_first());
}

TEST_CASE("initialisation is U(-1/sqrt(H), 1/sqrt(H)) for every parameter", "[rnn][module]") {
  nn::GRU<> gru(8, 16, {.num_layers = 2});
  for (auto& [name, p] : gru.named_parameters()) {
    INFO(name);
    const auto v = p.value();
    float lo = 1, hi = -1;
    for (float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
    CHECK(lo >= -0.25f);
    CHECK(hi <= 0.25f);
    CHECK(hi - lo > 0.3f);  // spread over the range, not constant
  }
}

TEST_CASE("repr matches PyTorch's", "[rnn][module]") {
  CHECK(nn::LSTM<>(3, 4, {.num_layers = 2, .bidirectional = true}).repr() ==
        "LSTM(3, 4, num_layers=2, bidirectional=True)");
  CHECK(nn::GRU<>(3, 4, {.bias = false, .batch_first = true, .dropout = 0.5}).repr() ==
        "GRU(3, 4, bias=False, batch_first=True, dropout=0.5)");
  CHECK(nn::RNN<>(3, 4, {.nonlinearity = "relu"}).repr() == "RNN(3, 4, nonlinearity=relu)");
  CHECK(nn::RNNCell<>(3, 4, false, "relu").repr() ==
        "RNNCell(3, 4, bias=False, nonlinearity=relu)");
  CHECK(nn::LSTMCell<>(3, 4).repr() == "LSTMCell(3, 4)");
  CHECK(nn::GRUCell<>(3, 4).repr() == "GRUCell(3, 4)");
}

TEST_CASE("a PyTorch state_dict loads unchanged through et::io::load", "[rnn][module][io]") {
  // tests/reference/make_rnn.py saved the state_dict of its case lstm_bi_bf.
  nn::LSTM<double> m(3, 4, {.batch_first = true, .bidirectional = true});
  et::io::load(m, std::string(ETNA_TEST_DATA_DIR) + "/rnn_lstm_bi_state_dict.safetensors");
  const et::test::Fixtures f("rnn.json");
  for (auto& [name, p] : m.named_parameters())
    ETNA_CHECK_CLOSE(p.value(), f.tensor<double>("lstm_bi_bf.param." + name), 0, 0);
  auto [out, h_n, c_n] = m(
      f.tensor<double>("lstm_bi_bf.x"),
      nn::LSTMState<double>{f.tensor<double>("lstm_bi_bf.h0"), f.tensor<double>("lstm_bi_bf.c0")});
  ETNA_CHECK_CLOSE(out.value(), f.tensor<double>("lstm_bi_bf.output"), 1e-9, 1e-11);
  ETNA_CHECK_CLOSE(c_n.value(), f.tensor<double>("lstm_bi_bf.c_n"), 1e-9, 1e-11);
}

TEST_CASE("save/load round trip, clone and freeze", "[rnn][module][io]") {
  et::manual_seed(3);
  nn::GRU<> a(3, 4, {.num_layers = 2, .bidirectional = true});
  nn::GRU<> b(3, 4, {.num_layers = 2, .bidirectional = true});
  const std::string path = "/tmp/etna_rnn_roundtrip_test.safetensors";
  et::io::save(a, path);
  et::io::load(b, path);
  const auto x = et::randn<float>({5, 2, 3});
  ETNA_CHECK_CLOSE(b(x).output.value(), a(x).output.value(), 0, 0);

  auto c = a.clone();
  CHECK(c.params_["weight_ih_l1"].value().data() != a.params_["weight_ih_l1"].value().data());
  c.params_["weight_ih_l1"].value().fill(0.f);
  CHECK(a.params_["weight_ih_l1"].value()(0, 0) != 0.f);
  CHECK(names_of(c) == names_of(a));

  a.freeze("*_reverse");
  for (auto& [name, p] : a.named_parameters())
    CHECK(p.requires_grad() == (name.find("_reverse") == std::string::npos));
}

TEST_CASE("dropout between layers: training only, never after the last layer", "[rnn][dropout]") {
  et::manual_seed(7);
  nn::LSTM<double> m(3, 4, {.num_layers = 2, .dropout = 0.5});
  nn::LSTM<double> plain(3, 4, {.num_layers = 2});
  for (auto& [name, p] : plain.named_parameters()) p.value().assign(m.params_[name].value());
  const auto x = et::randn<double>({6, 4, 3});
  m.eval();
  const auto e1 = m(x).output.value(), e2 = m(x).output.value();
  ETNA_CHECK_CLOSE(e1, e2, 0, 0);
  ETNA_CHECK_CLOSE(e1, plain(x).output.value(), 0, 0);  // eval: dropout is the identity

  m.train();
  const auto t1 = m(x).output.value(), t2 = m(x).output.value();
  CHECK(!et::test::mismatch(t1, t2, 0, 0).empty());  // a new mask each call
  CHECK(!et::test::mismatch(t1, e1, 0, 0).empty());

  // p = 1 drops the whole first layer's output: the second layer sees zeros whatever x is.
  nn::LSTM<double> all(3, 4, {.num_layers = 2, .dropout = 1.0});
  const auto y1 = all(x).output.value(), y2 = all(et::randn<double>({6, 4, 3})).output.value();
  ETNA_CHECK_CLOSE(y1, y2, 0, 0);
  // One layer: nothing to drop, training or not.
  nn::GRU<double> one(3, 4, {.dropout = 1.0});
  const auto o_train = one(x).output.value();
  one.eval();
  ETNA_CHECK_CLOSE(o_train, one(x).output.value(), 0, 0);
}

TEST_CASE("dropout between layers keeps its expectation", "[rnn][dropout]") {
  // One step, relu layers, and a large second-layer bias that keeps every pre-activation
  // positive: the second layer is then linear in the dropped-out first-layer output, so the
  // mean over many training draws must approach the eval-mode output (inverted dropout).
  et::manual_seed(11);
  nn::RNN<double> m(2, 64, {.num_layers = 2, .dropout = 0.25, .nonlinearity = "relu"});
  m.params_["bias_ih_l1"].value().fill(100.0);
  const auto x = et::randn<double>({1, 256, 2});
  const double offset = 100.0 * 256 * 64;
  m.eval();
  const double eval_sum = et::sum(m(x).output.value()).item() - offset;
  m.train();
  double train_sum = 0;
  const int draws = 200;
  for (int i = 0; i < draws; ++i) train_sum += et::sum(m(x).output.value()).item() - offset;
  CHECK(train_sum / draws == Approx(eval_sum).epsilon(0.02));
  CHECK(std::abs(eval_sum) > 10.0);  // a meaningful comparison
}

TEST_CASE("bad options name the layer and the value", "[rnn][errors]") {
  CHECK(message_of([] { nn::LSTM<>(3, 4, {.num_layers = 0}); }) ==
        "LSTM: num_layers must be at least 1, got 0");
  CHECK(message_of([] { nn::GRU<>(3, 4, {.dropout = 1.5}); }) ==
        "GRU: dropout must be a probability in [0, 1], got 1.5");
  CHECK(message_of([] { nn::RNN<>(3, 4, {.dropout = -0.1}); }) ==
        "RNN: dropout must be a probability in [0, 1], got -0.1");
  CHECK(message_of([] { nn::RNN<>(3, 4, {.nonlinearity = "gelu"}); }) ==
        "RNN: unknown nonlinearity 'gelu' (expected 'tanh' or 'relu')");
  CHECK(message_of([] { nn::RNNCell<>(3, 4, true, "sigmoid"); }) ==
        "RNNCell: unknown nonlinearity 'sigmoid' (expected 'tanh' or 'relu')");
  CHECK(message_of([] { nn::LSTM<>(0, 4); }) ==
        "LSTM: input_size and hidden_size must be positive, got input_size=0, hidden_size=4");
  CHECK(message_of([] { nn::GRUCell<>(3, -1); }) ==
        "GRUCell: input_size and hidden_size must be positive, got input_size=3, hidden_size=-1");
  CHECK_THROWS_AS(nn::LSTM<>(3, 4, {.num_layers = 0}), et::value_error);
}

TEST_CASE("bad inputs, states and lengths get readable shape errors", "[rnn][errors]") {
  nn::LSTM<> lstm(3, 4, {.num_layers = 2});
  nn::GRU<> gru(3, 4, {.batch_first = true, .bidirectional = true});
  const auto x = et::zeros<float>({5, 2, 3});
  CHECK(message_of([&] {
          lstm(et::zeros<float>({5, 2, 7}));
        }) == "LSTM: input has 7 features but input_size is 3 (input shape [5, 2, 7])");
  CHECK(message_of([&] {
          lstm(et::zeros<float>({5, 2, 3, 1}));
        }) ==
        "LSTM: expected a 3-d input [L, N, input_size] (or 2-d [L, input_size] unbatched), got "
        "shape [5, 2, 3, 1]");
  CHECK(message_of([&] { gru(et::zeros<float>({3})); }) ==
        "GRU: expected a 3-d input [L, N, input_size] ([N, L, input_size] with batch_first, or "
        "2-d [L, input_size] unbatched), got shape [3]");
  CHECK(message_of([&] {
          lstm(et::zeros<float>({0, 2, 3}));
        }) == "LSTM: the input sequence is empty (shape [0, 2, 3])");
  CHECK(message_of([&] {
          lstm(x, nn::LSTMState<>{et::zeros<float>({1, 2, 4}), et::Var<float>()});
        }) == "LSTM: expected h0 of shape [2, 2, 4], got [1, 2, 4]");
  CHECK(message_of([&] {
          lstm(x, nn::LSTMState<>{et::Var<float>(), et::zeros<float>({2, 3, 4})});
        }) == "LSTM: expected c0 of shape [2, 2, 4], got [2, 3, 4]");
  CHECK(message_of([&] {
          gru(et::zeros<float>({2, 5, 3}), et::zeros<float>({2, 4}));
        }) == "GRU: expected h0 of shape [2, 2, 4], got [2, 4]");
  CHECK(message_of([&] {
          lstm(x, std::vector<std::int64_t>{5, 0});
        }) == "LSTM: lengths[1] = 0 is outside [1, 5] (the padded sequence length)");
  CHECK(message_of([&] {
          lstm(x, std::vector<std::int64_t>{6, 2});
        }) == "LSTM: lengths[0] = 6 is outside [1, 5] (the padded sequence length)");
  CHECK(message_of([&] {
          lstm(x, std::vector<std::int64_t>{5, 2, 1});
        }) == "LSTM: lengths has 3 entries but the batch has 2 sequences");
  CHECK_THROWS_AS(lstm(x, std::vector<std::int64_t>{5, 0}), et::value_error);
  CHECK_THROWS_AS(lstm(et::zeros<float>({5, 2, 7})), et::shape_error);

  nn::LSTMCell<> cell(3, 4);
  CHECK(message_of([&] {
          cell(et::zeros<float>({2, 5}));
        }) == "LSTMCell: input has 5 features but input_size is 3 (input shape [2, 5])");
  CHECK(message_of([&] {
          cell(et::zeros<float>({2, 3}), nn::LSTMState<>{et::zeros<float>({3, 4}), {}});
        }) == "LSTMCell: expected hx of shape [2, 4], got [3, 4]");
}

TEST_CASE("lengths all equal to L give the plain result; outputs past the end are zero",
          "[rnn][lengths]") {
  et::manual_seed(5);
  nn::GRU<> gru(3, 4, {.bidirectional = true});
  const auto x = et::randn<float>({5, 3, 3});
  ETNA_CHECK_CLOSE(gru(x, std::vector<std::int64_t>{5, 5, 5}).output.value(), gru(x).output.value(),
                   0, 0);
  auto [out, h_n] = gru(x, std::vector<std::int64_t>{2, 5, 1});
  for (std::int64_t t = 2; t < 5; ++t) CHECK(et::sum(et::abs(out.value()[t][0])).item() == 0.f);
  // A sequence of length l gives the same as running it alone, cut to l.
  auto [alone, h_alone] = gru(x.narrow(0, 0, 2).narrow(1, 0, 1));
  ETNA_CHECK_CLOSE(out.value().narrow(0, 0, 2).narrow(1, 0, 1), alone.value(), 1e-6, 1e-6);
  ETNA_CHECK_CLOSE(h_n.value().narrow(1, 0, 1), h_alone.value(), 1e-6, 1e-6);
}

TEST_CASE("no graph is recorded under no_grad; a step-by-step cell loop equals the layer",
          "[rnn][cell]") {
  et::manual_seed(9);
  nn::LSTM<double> lstm(3, 4);
  nn::LSTMCell<double> cell(3, 4);
  for (auto& [name, p] : cell.named_parameters())
    p.value().assign(lstm.params_[name + "_l0"].value());
  const auto x = et::randn<double>({6, 2, 3});
  nn::LSTMState<double> s;
  for (std::int64_t t = 0; t < 6; ++t) s = cell(x[t], s);
  auto [out, h_n, c_n] = lstm(x);
  ETNA_CHECK_CLOSE(s.h.value(), h_n.value()[0], 1e-12, 1e-12);
  ETNA_CHECK_CLOSE(s.c.value(), c_n.value()[0], 1e-12, 1e-12);
  {
    et::NoGradGuard guard;
    CHECK_FALSE(lstm(x).output.requires_grad());
  }
  CHECK(lstm(x).output.requires_grad());
}
