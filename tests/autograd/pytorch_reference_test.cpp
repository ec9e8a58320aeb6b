// etna's gradients against torch.autograd on compositions of element-wise ops, matmul, sum
// and mean in double precision (fixtures from tests/reference/make_autograd.py).
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using VarD = et::Var<double>;

namespace {

const et::test::Fixtures& fixtures() {
  static const et::test::Fixtures f("autograd.json");
  return f;
}

// Loads the inputs of a case as Vars requiring grad, runs the loss, checks loss and gradients.
template <class F>
void check_case(const std::string& name, const std::vector<std::string>& inputs, F loss_fn) {
  std::map<std::string, VarD> v;
  for (const auto& k : inputs) v.emplace(k, VarD(fixtures().tensor<double>(name + "." + k), true));
  const VarD loss = loss_fn(v);
  ETNA_CHECK_CLOSE(loss.value(), fixtures().tensor<double>(name + ".loss"), 1e-10, 1e-12);
  loss.backward();
  for (const auto& k : inputs) {
    INFO(name << ": gradient of " << k);
    REQUIRE(v.at(k).grad().defined());
    ETNA_CHECK_CLOSE(v.at(k).grad(), fixtures().tensor<double>(name + ".grad_" + k), 1e-6, 1e-10);
  }
}

}  // namespace

TEST_CASE("pytorch reference: 2-layer MLP loss", "[autograd][reference]") {
  check_case("mlp", {"x", "w1", "b1", "w2", "b2", "t"}, [](auto& v) {
    VarD h = et::tanh(et::matmul(v.at("x"), v.at("w1")) + v.at("b1"));
    return et::mean(et::square(et::matmul(h, v.at("w2")) + v.at("b2") - v.at("t")));
  });
}

TEST_CASE("pytorch reference: GELU/softplus/tanh chain with broadcasting",
          "[autograd][reference]") {
  check_case("gelu_chain", {"a", "b", "c"}, [](auto& v) {
    const VarD &a = v.at("a"), &b = v.at("b"), &c = v.at("c");
    return VarD(et::sum(et::gelu(a * b + c) * et::softplus(b - a) + et::tanh(c * a)) / 7.0);
  });
}

TEST_CASE("pytorch reference: logistic regression (BCE)", "[autograd][reference]") {
  check_case("bce", {"x", "w", "t"}, [](auto& v) {
    const VarD& t = v.at("t");
    VarD p = et::sigmoid(et::matmul(v.at("x"), v.at("w")));
    return VarD(-et::mean(t * et::log(p) + (1.0 - t) * et::log(1.0 - p)));
  });
}

TEST_CASE("pytorch reference: reductions over dims inside a chain", "[autograd][reference]") {
  check_case("reduce_mix", {"a", "b"}, [](auto& v) {
    const VarD &a = v.at("a"), &b = v.at("b");
    VarD s = et::sum(et::exp(-a * a) * et::sin(b), 1);
    VarD m = et::sum(et::mean(a * b, std::vector<std::int64_t>{0, 2}, true));
    return et::mean(et::square(s) + m);
  });
}

TEST_CASE("pytorch reference: activations, pow and maximum around a batched matmul",
          "[autograd][reference]") {
  check_case("act_chain", {"a", "w", "e"}, [](auto& v) {
    VarD aw = et::matmul(v.at("a"), v.at("w"));
    return et::sum(et::pow(et::abs(et::silu(aw)) + 0.5, v.at("e")) *
                       et::maximum(et::elu(aw), et::leaky_relu(aw, 0.1)) +
                   et::gelu(aw, "tanh") - et::sqrt(et::clamp(aw, -1.0, 1.0) + 2.0));
  });
}
