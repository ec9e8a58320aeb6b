// Repeat, Residual and Parallel (etna/nn/repeat.hpp, residual.hpp, parallel.hpp): parameter
// names, compile-time sizes inside Sequential, forward values against the hand-written
// composition, gradients by gradcheck in double, and the run-time shape errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "etna/autograd.hpp"
#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/activation.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/parallel.hpp"
#include "etna/nn/repeat.hpp"
#include "etna/nn/residual.hpp"
#include "etna/nn/sequential.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using VarD = et::Var<double>;
using Strings = std::vector<std::string>;

namespace {

template <class M>
Strings parameter_names(const M& m) {
  Strings out;
  for (const auto& [name, p] : m.named_parameters()) out.push_back(name);
  return out;
}

// gradcheck with respect to the input and every parameter of `m`.
template <class M>
void check_gradients(M& m, const et::Shape& input_shape) {
  std::vector<VarD> inputs{VarD(et::randn<double>(input_shape), true)};
  for (auto& p : m.parameters()) inputs.push_back(p);
  const auto result = et::gradcheck([&](const std::vector<VarD>& in) { return m(in[0]); }, inputs);
  INFO(result.report);
  CHECK(result);
}

using Block8 = nn::Sequential<nn::Linear<8, 8>, nn::ReLU>;

}  // namespace

// Sizes as Sequential sees them (compile time).
static_assert(nn::Repeat<3, Block8>::static_in_features == 8);
static_assert(nn::Repeat<3, Block8>::static_out_features == 8);
static_assert(nn::Repeat<1, nn::Linear<4, 2>>::static_out_features == 2);  // N = 1 may resize
static_assert(nn::Repeat<2, nn::ReLU>::static_out_features == nn::kSameFeatures);
static_assert(nn::Residual<nn::Linear<6, 6>>::static_in_features == 6);
static_assert(nn::Residual<nn::Linear<6, 6>>::static_out_features == 6);
static_assert(nn::Residual<nn::Tanh>::static_out_features == nn::kSameFeatures);
static_assert(nn::Parallel<nn::Linear<8, 4>, nn::Linear<8, 6>, nn::Concat>::static_out_features ==
              10);
static_assert(nn::Parallel<nn::Linear<8, 4>, nn::Linear<8, 4>>::static_out_features == 4);
static_assert(nn::Parallel<nn::Identity, nn::Linear<5, 3>, nn::Concat>::static_out_features == 8);
static_assert(nn::Parallel<nn::Linear<>, nn::Linear<5, 3>, nn::Concat>::static_out_features == 0);

TEST_CASE("Repeat: N copies named 0..N-1, chained", "[nn][composition]") {
  et::manual_seed(10);
  nn::Repeat<3, Block8> rep;
  CHECK(parameter_names(rep) == Strings{"0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias",
                                        "2.0.weight", "2.0.bias"});
  CHECK(rep.size() == 3);
  // Default construction initialises each copy on its own.
  CHECK_FALSE(et::test::mismatch(rep.get<0>().get<0>().weight.value(),
                                 rep.get<1>().get<0>().weight.value(), 0.0, 0.0)
                  .empty());
  const auto x = et::randn<float>({5, 8});
  const et::Var<float> y = rep(x);
  const et::Var<float> expected = rep[2](rep[1](rep[0](x)));
  ETNA_CHECK_CLOSE(y.value(), expected.value(), 1e-6, 1e-6);
  CHECK(rep.repr().rfind("Repeat(\n  (0): Sequential(\n    (0): Linear(in_features=8", 0) == 0);
  CHECK_THROWS_AS(rep[3], std::out_of_range);
}

TEST_CASE("Repeat: from a prototype, deep copies", "[nn][composition]") {
  nn::Linear<> proto(4, 4);
  nn::Repeat<2, nn::Linear<>> rep(proto);
  for (std::size_t i = 0; i < 2; ++i) {
    ETNA_CHECK_CLOSE(rep[i].weight.value(), proto.weight.value(), 0.0, 0.0);
    CHECK(rep[i].weight.value().data() != proto.weight.value().data());
  }
  CHECK(rep[0].weight.value().data() != rep[1].weight.value().data());
  CHECK(rep.num_parameters() == 2 * (16 + 4));
}

TEST_CASE("Repeat: inside Sequential, gradients", "[nn][composition]") {
  et::manual_seed(11);
  nn::Sequential<nn::Linear<6, 8>, nn::Repeat<2, Block8>, nn::Linear<8, 2>> net;
  CHECK(parameter_names(net)[2] == "1.0.0.weight");
  CHECK(et::Var<float>(net(et::randn<float>({3, 6}))).shape() == et::Shape{3, 2});

  nn::Repeat<3, nn::Sequential<nn::Linear<4, 4, double>, nn::Tanh>> rep;
  check_gradients(rep, {3, 4});
}

TEST_CASE("Residual: x + block(x), child named block", "[nn][composition]") {
  et::manual_seed(12);
  nn::Residual<nn::Sequential<nn::Linear<6, 6>, nn::Tanh>> res;
  CHECK(parameter_names(res) == Strings{"block.0.weight", "block.0.bias"});
  const auto x = et::randn<float>({4, 6});
  const et::Var<float> y = res(x);
  const et::Var<float> inner = res.block(x);
  ETNA_CHECK_CLOSE(y.value(), x + inner.value(), 1e-6, 1e-6);
  CHECK(res.repr() ==
        "Residual(\n"
        "  (block): Sequential(\n"
        "    (0): Linear(in_features=6, out_features=6, bias=True)\n"
        "    (1): Tanh()\n"
        "  )\n"
        ")");

  nn::Residual<nn::Sequential<nn::Linear<5, 5, double>, nn::Tanh>> resd;
  check_gradients(resd, {3, 5});

  // A runtime-sized block that changes the size fails with both shapes.
  nn::Residual<nn::Linear<>> bad(nn::Linear<>(4, 3));
  CHECK_THROWS_WITH(bad(et::randn<float>({2, 4})),
                    "Residual: the block's output shape [2, 3] differs from its input shape "
                    "[2, 4] (x + block(x) needs equal shapes)");
}

TEST_CASE("Parallel: Sum and Concat merges", "[nn][composition]") {
  et::manual_seed(13);
  nn::Parallel<nn::Linear<8, 4>, nn::Linear<8, 4>> sum;
  nn::Parallel<nn::Linear<8, 4>, nn::Sequential<nn::Linear<8, 6>, nn::ReLU>, nn::Concat> cat;
  CHECK(parameter_names(sum) == Strings{"0.weight", "0.bias", "1.weight", "1.bias"});
  CHECK(parameter_names(cat) == Strings{"0.weight", "0.bias", "1.0.weight", "1.0.bias"});
  const auto x = et::randn<float>({3, 8});

  const et::Var<float> s = sum(x);
  const et::Var<float> a = sum.get<0>()(x), b = sum.get<1>()(x);
  ETNA_CHECK_CLOSE(s.value(), a.value() + b.value(), 1e-6, 1e-6);

  const et::Var<float> c = cat(x);
  REQUIRE(c.shape() == et::Shape{3, 10});
  const et::Var<float> ca = cat.get<0>()(x), cb = cat.get<1>()(x);
  ETNA_CHECK_CLOSE(c.value().slice(1, 0, 4), ca.value(), 0.0, 0.0);
  ETNA_CHECK_CLOSE(c.value().slice(1, 4, 10), cb.value(), 0.0, 0.0);

  CHECK(sum.repr() ==
        "Parallel(\n"
        "  merge=sum\n"
        "  (0): Linear(in_features=8, out_features=4, bias=True)\n"
        "  (1): Linear(in_features=8, out_features=4, bias=True)\n"
        ")");
  // In a typed chain, Concat's output size feeds the next layer's check.
  nn::Sequential<decltype(cat), nn::Linear<10, 1>> head;
  CHECK(et::Var<float>(head(x)).shape() == et::Shape{3, 1});
  // Tensor in, tensor branches: the tensor path of concat.
  nn::Parallel<nn::ReLU, nn::Tanh, nn::Concat> stateless;
  CHECK(et::Tensor<float>(stateless(x)).shape() == et::Shape{3, 16});
}

TEST_CASE("Parallel: gradients through both merges", "[nn][composition]") {
  et::manual_seed(14);
  nn::Parallel<nn::Linear<5, 3, double>, nn::Sequential<nn::Linear<5, 3, double>, nn::Tanh>> sum;
  check_gradients(sum, {4, 5});
  nn::Parallel<nn::Linear<5, 2, double>, nn::Sequential<nn::Linear<5, 3, double>, nn::Tanh>,
               nn::Concat>
      cat;
  check_gradients(cat, {4, 5});
}

TEST_CASE("Parallel: Sum of different shapes is an error", "[nn][composition]") {
  nn::Parallel<nn::Linear<>, nn::Linear<>> p(nn::Linear<>(4, 3), nn::Linear<>(4, 2));
  CHECK_THROWS_WITH(p(et::randn<float>({2, 4})),
                    "Parallel (merge=sum): the branches' output shapes differ: [2, 3] and [2, 2]");
}
