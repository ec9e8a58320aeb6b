// Runs one case of tests/reference/fixtures/rnn*.json (written by make_rnn.py) through etna's
// recurrent modules with PyTorch's weights and compares outputs, final states and gradients.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "etna/nn/rnn.hpp"
#include "support/fixtures.hpp"

namespace etna::test {

namespace et = ::etna;

// Checks the names (order included) against PyTorch's named_parameters() and copies the
// fixture's values into the module's parameters.
template <class M>
void load_rnn_parameters(M& m, const Fixtures& f, const std::string& p) {
  std::vector<std::string> names, expected = f.value<std::vector<std::string>>(p + "names");
  for (auto& [name, v] : m.named_parameters()) {
    names.push_back(name);
    const auto value = f.tensor<double>(p + "param." + name);
    REQUIRE(v.shape() == value.shape());
    v.value().assign(value);
  }
  CHECK(names == expected);
}

template <class M>
void check_rnn_gradients(M& m, const Fixtures& f, const std::string& p, const Var<double>& x,
                         const Var<double>& h0, const Var<double>& c0) {
  ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>(p + "x.grad"), 1e-9, 1e-11);
  if (h0.defined()) ETNA_CHECK_CLOSE(h0.grad(), f.tensor<double>(p + "h0.grad"), 1e-9, 1e-11);
  if (c0.defined()) ETNA_CHECK_CLOSE(c0.grad(), f.tensor<double>(p + "c0.grad"), 1e-9, 1e-11);
  for (auto& [name, v] : m.named_parameters()) {
    INFO(p << "grad." << name);
    ETNA_CHECK_CLOSE(v.grad(), f.tensor<double>(p + "grad." + name), 1e-9, 1e-11);
  }
}

// A sequence module case (RNN, LSTM or GRU) named `name` in fixture file `file`.
inline void check_sequence_case(const std::string& file, const std::string& name) {
  INFO("case " << name);
  const Fixtures f(file);
  const std::string p = name + ".";
  const auto& cfg = f.json().at(p + "config");
  const std::string kind = cfg.at("kind");
  nn::RNNOptions opt;
  opt.num_layers = cfg.at("num_layers");
  opt.bidirectional = cfg.at("bidirectional");
  opt.batch_first = cfg.at("batch_first");
  opt.bias = cfg.at("bias");
  opt.nonlinearity = cfg.at("nonlinearity");
  std::vector<std::int64_t> lengths;
  const bool has_lengths = !cfg.at("lengths").is_null();
  if (has_lengths) lengths = cfg.at("lengths").get<std::vector<std::int64_t>>();
  const Var<double> x(f.tensor<double>(p + "x"), true);
  Var<double> h0, c0;
  if (f.contains(p + "h0")) h0 = Var<double>(f.tensor<double>(p + "h0"), true);
  if (f.contains(p + "c0")) c0 = Var<double>(f.tensor<double>(p + "c0"), true);
  const std::int64_t in = x.size(-1), hidden = f.tensor<double>(p + "h_n").size(-1);

  auto run = [&](auto& m) {
    load_rnn_parameters(m, f, p);
    Var<double> out, h_n, c_n;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(m)>, nn::LSTM<double>>) {
      const nn::LSTMState<double> state{h0, c0};
      auto r = has_lengths ? m(x, state, lengths) : m(x, state);
      out = r.output;
      h_n = r.h_n;
      c_n = r.c_n;
    } else {
      auto r = has_lengths ? m(x, h0, lengths) : m(x, h0);
      out = r.output;
      h_n = r.h_n;
    }
    ETNA_CHECK_CLOSE(out.value(), f.tensor<double>(p + "output"), 1e-9, 1e-11);
    ETNA_CHECK_CLOSE(h_n.value(), f.tensor<double>(p + "h_n"), 1e-9, 1e-11);
    auto loss =
        et::sum(out * f.tensor<double>(p + "r_out")) + et::sum(h_n * f.tensor<double>(p + "r_h"));
    if (c_n.defined()) {
      ETNA_CHECK_CLOSE(c_n.value(), f.tensor<double>(p + "c_n"), 1e-9, 1e-11);
      Var<double>(loss + et::sum(c_n * f.tensor<double>(p + "r_c"))).backward();
    } else {
      Var<double>(loss).backward();
    }
    check_rnn_gradients(m, f, p, x, h0, c0);
  };
  if (kind == "lstm") {
    nn::LSTM<double> m(in, hidden, opt);
    run(m);
  } else if (kind == "gru") {
    nn::GRU<double> m(in, hidden, opt);
    run(m);
  } else {
    nn::RNN<double> m(in, hidden, opt);
    run(m);
  }
}

// A cell case (RNNCell, LSTMCell, GRUCell).
inline void check_cell_case(const std::string& file, const std::string& name) {
  INFO("case " << name);
  const Fixtures f(file);
  const std::string p = name + ".";
  const auto& cfg = f.json().at(p + "config");
  const std::string kind = cfg.at("kind");
  const bool bias = cfg.at("bias");
  const Var<double> x(f.tensor<double>(p + "x"), true), h0(f.tensor<double>(p + "h0"), true);
  Var<double> c0;
  if (f.contains(p + "c0")) c0 = Var<double>(f.tensor<double>(p + "c0"), true);
  const std::int64_t in = x.size(-1), hidden = h0.size(-1);
  auto finish = [&](auto& m, const Var<double>& h, const Var<double>& c) {
    ETNA_CHECK_CLOSE(h.value(), f.tensor<double>(p + "h_n"), 1e-9, 1e-11);
    auto loss = et::sum(h * f.tensor<double>(p + "r_h"));
    if (c.defined()) {
      ETNA_CHECK_CLOSE(c.value(), f.tensor<double>(p + "c_n"), 1e-9, 1e-11);
      Var<double>(loss + et::sum(c * f.tensor<double>(p + "r_c"))).backward();
    } else {
      Var<double>(loss).backward();
    }
    check_rnn_gradients(m, f, p, x, h0, c0);
  };
  if (kind == "lstm") {
    nn::LSTMCell<double> m(in, hidden, bias);
    load_rnn_parameters(m, f, p);
    auto [h, c] = m(x, nn::LSTMState<double>{h0, c0});
    finish(m, h, c);
  } else if (kind == "gru") {
    nn::GRUCell<double> m(in, hidden, bias);
    load_rnn_parameters(m, f, p);
    finish(m, m(x, h0), Var<double>());
  } else {
    nn::RNNCell<double> m(in, hidden, bias, cfg.at("nonlinearity").get<std::string>());
    load_rnn_parameters(m, f, p);
    finish(m, m(x, h0), Var<double>());
  }
}

}  // namespace etna::test
