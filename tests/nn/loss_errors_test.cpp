// Every loss error: its type and its exact message.
#include <catch2/catch.hpp>
#include <cstdint>

#include "etna/nn/loss.hpp"

namespace et = etna;
namespace nn = etna::nn;

TEST_CASE("cross_entropy and nll_loss: label range, shape, dtype and option errors", "[nn][loss]") {
  const et::Var<float> x(et::randn<float>({4, 10}), true);
  CHECK_THROWS_MATCHES(nn::cross_entropy(x, et::tensor<std::int64_t>({1, 12, 0, 3})),
                       et::index_error,
                       Catch::Message("cross_entropy: target 12 is out of range for 10 classes"));
  CHECK_THROWS_MATCHES(nn::cross_entropy(x, et::tensor<std::int32_t>({1, -1, 0, 3})),
                       et::index_error,
                       Catch::Message("cross_entropy: target -1 is out of range for 10 classes"));
  CHECK_THROWS_MATCHES(nn::nll_loss(x, et::tensor<std::int64_t>({1, 10, 0, 3})), et::index_error,
                       Catch::Message("nll_loss: target 10 is out of range for 10 classes"));
  CHECK_THROWS_MATCHES(
      nn::cross_entropy(x, et::tensor<std::int64_t>({1, 2, 0})), et::shape_error,
      Catch::Message("cross_entropy: target shape [3] does not match the input's batch shape [4] "
                     "(input shape [4, 10])"));
  CHECK_THROWS_MATCHES(
      nn::cross_entropy(x, et::zeros<float>({4})), et::shape_error,
      Catch::Message("cross_entropy: a floating-point target holds class probabilities and must "
                     "have the input's shape [4, 10], got [4]; pass class indices as an int64 or "
                     "int32 tensor"));
  CHECK_THROWS_MATCHES(
      nn::cross_entropy(x, et::zeros<std::int64_t>({4}), {.weight = et::ones<float>({3})}),
      et::shape_error,
      Catch::Message("cross_entropy: weight must have one element per class (10), got shape [3]"));
  CHECK_THROWS_MATCHES(nn::cross_entropy(x, et::zeros<std::int64_t>({4}), {.label_smoothing = 1.5}),
                       et::value_error,
                       Catch::Message("cross_entropy: label_smoothing must be in [0, 1], got 1.5"));
  CHECK_THROWS_MATCHES(
      nn::cross_entropy(x, et::zeros<std::int64_t>({4}), {.reduction = nn::Reduction::batchmean}),
      et::value_error,
      Catch::Message("cross_entropy: reduction batchmean is only valid for kl_div"));
  CHECK_THROWS_MATCHES(
      nn::cross_entropy(et::tensor<float>(1.f), et::tensor<std::int64_t>(0)), et::shape_error,
      Catch::Message("cross_entropy: input must have a class dimension, got a scalar"));
  // ignore_index may lie outside the class range
  CHECK_NOTHROW(nn::cross_entropy(x, et::tensor<std::int64_t>({1, -100, 0, 3})));
}

TEST_CASE("element-wise losses: shape, reduction and option errors", "[nn][loss]") {
  const et::Var<float> x(et::randn<float>({2, 3}), true);
  CHECK_THROWS_MATCHES(
      nn::mse_loss(x, et::zeros<float>({3})), et::shape_error,
      Catch::Message("mse_loss: target shape [3] does not match input shape [2, 3]"));
  CHECK_THROWS_MATCHES(nn::l1_loss(x, x, static_cast<nn::Reduction>(7)), et::value_error,
                       Catch::Message("l1_loss: invalid reduction value 7"));
  CHECK_THROWS_MATCHES(nn::parse_reduction("avg"), et::value_error,
                       Catch::Message("loss: 'avg' is not a valid reduction (expected none, mean, "
                                      "sum or batchmean)"));
  CHECK(nn::parse_reduction("sum") == nn::Reduction::sum);
  CHECK_THROWS_MATCHES(nn::huber_loss(x, x, nn::Reduction::mean, 0.0), et::value_error,
                       Catch::Message("huber_loss: delta must be positive, got 0"));
  CHECK_THROWS_MATCHES(nn::smooth_l1_loss(x, x, nn::Reduction::mean, -1.0), et::value_error,
                       Catch::Message("smooth_l1_loss: beta must be non-negative, got -1"));
  CHECK_THROWS_MATCHES(
      nn::binary_cross_entropy(et::tensor<float>({0.5f, 1.5f}), et::tensor<float>({0.f, 1.f})),
      et::value_error,
      Catch::Message("binary_cross_entropy: input values must lie in [0, 1] "
                     "(probabilities), got 1.5"));
  CHECK_THROWS_MATCHES(
      nn::cosine_embedding_loss(x, x, et::tensor<std::int64_t>({1, -1, 1})), et::shape_error,
      Catch::Message("cosine_embedding_loss: target shape [3] does not match the inputs' batch "
                     "shape [2]"));
}
