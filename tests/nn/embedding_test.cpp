// nn::Embedding against PyTorch: lookup with repeated indices and a padding row, weight gradient,
// names and repr (padding_idx as PyTorch stores it), N(0, 1) init, gradcheck, errors.
#include "etna/nn/embedding.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "nn/layer_fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using Catch::Contains;
using et::test::layer_fx;

TEST_CASE("Embedding: lookup and weight gradient match PyTorch, padding row gets none",
          "[nn][embedding]") {
  nn::Embedding<> emb(10, 3, 0);
  emb.weight.value().assign(layer_fx().tensor("emb_weight"));
  const auto idx = layer_fx().tensor<std::int64_t>("emb_idx");
  const et::Var<float> y = emb(idx);
  ETNA_CHECK_CLOSE(y.value(), layer_fx().tensor("emb_y"), 0, 0);
  y.backward(layer_fx().tensor("emb_g"));
  ETNA_CHECK_CLOSE(emb.weight.grad(), layer_fx().tensor("emb_gweight"), 1e-6, 1e-6);
  et::test::check_names_and_repr(emb, "emb");

  nn::Embedding<10, 3> typed(0);
  CHECK(typed.padding_idx() == 0);
  et::test::check_names_and_repr(typed, "emb");
  et::test::check_names_and_repr(nn::Embedding<>(10, 3), "emb_nopad");
  nn::Embedding<> last(10, 3, -1);  // counts from the end, stored as 9
  CHECK(last.padding_idx() == 9);
  et::test::check_names_and_repr(last, "emb_negpad");
  STATIC_REQUIRE(nn::Embedding<10, 3>::static_out_features == 3);
  STATIC_REQUIRE(nn::Embedding<>::static_out_features == 0);
}

TEST_CASE("Embedding: default init is N(0, 1) with the padding row zeroed", "[nn][embedding]") {
  et::manual_seed(2);
  nn::Embedding<> emb(1000, 16, 3);
  double sum = 0, sq = 0;
  for (float w : emb.weight.value()) {
    sum += w;
    sq += double(w) * w;
  }
  const double n = 1000.0 * 16 - 16, mean = sum / n;
  CHECK(mean == Approx(0).margin(0.03));
  CHECK(std::sqrt(sq / n - mean * mean) == Approx(1).margin(0.03));
  for (std::int64_t j = 0; j < 16; ++j) CHECK(emb.weight.value()(3, j) == 0.f);
  CHECK(emb.weight.requires_grad());
}

TEST_CASE("Embedding: gradcheck in double", "[nn][embedding]") {
  et::manual_seed(6);
  nn::Embedding<6, 4, double> emb;  // no padding row: its output is not differentiated
  const auto idx = et::tensor<std::int64_t>({{0, 1, 5}, {5, 2, 1}});
  et::test::check_gradcheck(
      et::gradcheck([&](const et::Var<double>&) { return emb(idx); }, emb.weight));
}

TEST_CASE("Embedding: errors name the index and the table size", "[nn][embedding]") {
  nn::Embedding<> emb(10, 3);
  CHECK_THROWS_AS(emb(et::tensor<std::int64_t>({1, 10})), et::index_error);
  CHECK_THROWS_WITH(emb(et::tensor<std::int64_t>({1, 10})),
                    Contains("index 10") && Contains("10 embeddings"));
  CHECK_THROWS_AS(emb(et::tensor<std::int64_t>({-1})), et::index_error);
  CHECK_THROWS_AS(nn::Embedding<>(10, 3, 10), et::index_error);
  CHECK_THROWS_AS(nn::Embedding<>(10, 3, -11), et::index_error);
  CHECK_THROWS_AS(nn::Embedding<>(0, 3), et::value_error);
}
