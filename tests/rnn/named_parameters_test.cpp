// nn::NamedParameters: runtime-named parameters registered with ETNA_MODULE appear directly
// under the parent's prefix, and every traversal (named_parameters, clone, io, freeze) sees them.
#include <catch2/catch.hpp>

#include "etna/io.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/rnn.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

// A user layer with a run-time number of parameters ("w0", "w1"...).
struct Bank : nn::Module<Bank> {
  nn::NamedParameters<float> params;
  explicit Bank(int n = 2) {
    for (int i = 0; i < n; ++i)
      params.add(et::detail::str("w", i), et::Var<float>(et::full<float>({2}, float(i)), true));
  }
  ETNA_MODULE(params)
};

struct Net : nn::Module<Net> {
  nn::Linear<> fc{3, 4};
  nn::LSTM<> lstm{4, 2};
  Bank bank;
  ETNA_MODULE(fc, lstm, bank)
};

std::vector<std::string> names_of(const auto& m) {
  std::vector<std::string> out;
  for (auto& [name, p] : m.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("NamedParameters contribute their own names under the parent's prefix",
          "[rnn][named_parameters]") {
  Net net;
  CHECK(names_of(net) == std::vector<std::string>{"fc.weight", "fc.bias", "lstm.weight_ih_l0",
                                                  "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                                  "lstm.bias_hh_l0", "bank.w0", "bank.w1"});
  CHECK(names_of(Bank(3)) == std::vector<std::string>{"w0", "w1", "w2"});
  CHECK(net.bank.params.size() == 2);
  CHECK(net.bank.params["w1"].value()(0) == 1.f);
  CHECK(net.bank.params.contains("w0"));
  CHECK_FALSE(net.bank.params.contains("w7"));
}

TEST_CASE("NamedParameters: clone, freeze and io round trip", "[rnn][named_parameters]") {
  Net net;
  auto copy = net.clone();
  copy.bank.params["w0"].value().fill(5.f);
  CHECK(net.bank.params["w0"].value()(0) == 0.f);
  CHECK(names_of(copy) == names_of(net));

  const std::string path = "/tmp/etna_named_parameters_test.safetensors";
  et::io::save(copy, path);
  Net loaded;
  et::io::load(loaded, path);
  CHECK(loaded.bank.params["w0"].value()(1) == 5.f);

  net.freeze("bank.*");
  CHECK_FALSE(net.bank.params["w1"].requires_grad());
  CHECK(net.lstm.params_["weight_ih_l0"].requires_grad());
  net.lstm.freeze();
  CHECK_FALSE(net.lstm.params_["bias_hh_l0"].requires_grad());
  auto same = net.to<et::cpu>();  // same device: shares the parameters
  CHECK(same.bank.params["w1"].value().data() == net.bank.params["w1"].value().data());
}

TEST_CASE("NamedParameters errors name the parameter", "[rnn][named_parameters][errors]") {
  nn::NamedParameters<float> p;
  p.add("a", et::Var<float>(et::zeros<float>({1}), true));
  p.add("b", et::Var<float>(et::zeros<float>({1}), true));
  CHECK_THROWS_WITH(p.add("a", et::Var<float>(et::zeros<float>({1}))),
                    "NamedParameters::add: the name 'a' is already registered");
  CHECK_THROWS_WITH(p["c"], "NamedParameters: no parameter named 'c' (registered: a, b)");
}
