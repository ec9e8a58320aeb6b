// prune::compress and nn::Linear's sparse inference path: same outputs as the dense forward under
// NoGradGuard, the cache dropped by optimizer steps, the dense path (and correct gradients) with
// grad mode on, per-layer decisions and the report.
#include "etna/prune/compress.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "etna/etna.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using Catch::Contains;

namespace {

using Mlp =
    nn::Sequential<nn::Linear<37, 29>, nn::ReLU, nn::Linear<29, 29>, nn::ReLU, nn::Linear<29, 5>>;

// Zeros about `sparsity` of w's entries (a local mask: the test does not depend on prune's API).
template <class T>
void zero_fraction(et::Var<T>& w, double sparsity) {
  const et::Tensor<T> u = et::rand<T>(w.shape());
  for (std::int64_t i = 0; i < w.numel(); ++i)
    if (u.data()[i] < T(sparsity)) w.value().data()[i] = T(0);
}

template <class Net>
et::Tensor<float> infer(Net& net, const et::Tensor<float>& x) {
  et::NoGradGuard no_grad;
  return net(x).value().contiguous();
}

}  // namespace

TEST_CASE("a compressed Linear inside a Sequential gives the dense output", "[sparse][compress]") {
  et::manual_seed(5);
  Mlp net;
  zero_fraction(net.get<0>().weight, 0.9);
  zero_fraction(net.get<2>().weight, 0.95);
  zero_fraction(net.get<4>().weight, 0.2);
  for (std::int64_t batch : {1, 3, 64, 70}) {
    INFO("batch " << batch);
    const et::Tensor<float> x = et::randn<float>({batch, 37});
    const et::Tensor<float> dense = infer(net, x);
    const auto report = et::prune::compress(net, {.min_sparsity = 0.5});
    REQUIRE(report.layers.size() == 3);
    CHECK(report.layers[0].name == "0.weight");
    CHECK(report.layers[0].format == et::sparse::Format::csr);
    CHECK(report.layers[1].name == "2.weight");
    CHECK(report.layers[2].format == et::sparse::Format::dense);  // 20% < 50%
    CHECK(report.layers[2].batches == "none");
    CHECK(report.layers[0].batches == "all");
    CHECK(report.layers[0].bytes_after < report.layers[0].bytes_before);
    CHECK(et::sparse::compressed_of(net.get<0>().weight)->sparse_for_batch(batch));
    ETNA_CHECK_CLOSE(infer(net, x), dense, 1e-5, 1e-6);
    // A one-sample input without a batch dimension.
    const et::Tensor<float> x1 = et::randn<float>({37});
    et::prune::decompress(net);
    const et::Tensor<float> d1 = infer(net, x1);
    et::prune::compress(net, {.min_sparsity = 0.5});
    ETNA_CHECK_CLOSE(infer(net, x1), d1, 1e-5, 1e-6);
  }
  std::ostringstream table;
  table << et::prune::compress(net);
  CHECK_THAT(table.str(), Contains("0.weight") && Contains("total"));
}

TEST_CASE("compress counts zeros and decides by the measured crossover", "[sparse][compress]") {
  et::manual_seed(6);
  nn::AnySequential<> net(nn::Linear<>(40, 30), nn::ReLU{}, nn::Linear<>(30, 4));
  zero_fraction(net.parameters()[0], 0.99);
  const auto report = et::prune::compress(net);
  REQUIRE(report.layers.size() == 2);
  CHECK(report.layers[0].sparsity > 0.95);
  // 99% zeros is above every batch regime's crossover; no zeros is below all of them.
  CHECK(report.layers[0].format == et::sparse::Format::csr);
  CHECK(report.layers[0].batches == "all");
  CHECK(report.layers[1].format == et::sparse::Format::dense);
  CHECK(report.layers[1].batches == "none");
  CHECK(report.compressed_layers() == 1);
  // Per call: the sparse path exactly for the batches whose crossover the sparsity reaches.
  const auto* c = et::sparse::compressed_of(net.parameters()[0]);
  for (std::int64_t batch : {1, 4, 5, 16, 17, 64, 1000})
    CHECK(c->sparse_for_batch(batch) ==
          (c->sparsity >= et::sparse::crossover_sparsity<float>(batch)));
  const et::Tensor<float> x = et::randn<float>({8, 40});
  et::prune::decompress(net);
  const et::Tensor<float> dense = infer(net, x);
  et::prune::compress(net);
  ETNA_CHECK_CLOSE(infer(net, x), dense, 1e-5, 1e-6);
  CHECK_THROWS_WITH(et::prune::compress(net, {.min_sparsity = 1.5}), Contains("min_sparsity"));
}

TEST_CASE("an optimizer step drops the compressed weight", "[sparse][compress]") {
  et::manual_seed(7);
  Mlp net;
  zero_fraction(net.get<0>().weight, 0.9);
  et::prune::compress(net, {.min_sparsity = 0});
  REQUIRE(net.get<0>().weight.impl_ptr()->inference_cache);
  const et::Tensor<float> x = et::randn<float>({4, 37});
  const et::Tensor<std::int64_t> labels = et::tensor<std::int64_t>({0, 1, 2, 3}, {4});
  et::optim::SGD opt(net.parameters(), {.lr = 0.5});
  opt.zero_grad();
  nn::functional::cross_entropy(net(x), labels).backward();
  opt.step();
  CHECK_FALSE(net.get<0>().weight.impl_ptr()->inference_cache);
  CHECK_FALSE(net.get<2>().weight.impl_ptr()->inference_cache);
  // The output follows the new weights: the dense forward of a fresh copy of them.
  Mlp fresh;
  const auto src = net.parameters();
  const auto dst = fresh.parameters();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].value().assign(src[i].value());
  ETNA_CHECK_CLOSE(infer(net, x), infer(fresh, x), 1e-6, 1e-7);
}

TEST_CASE("with grad mode on the compressed Linear runs dense and its gradients are right",
          "[sparse][compress]") {
  et::manual_seed(8);
  nn::Linear<0, 0, double> fc(7, 5);
  zero_fraction(fc.weight, 0.8);
  et::prune::compress(fc, {.min_sparsity = 0});
  REQUIRE(et::sparse::compressed_of(fc.weight)->format == et::sparse::Format::csr);
  const et::Var<double> x(et::randn<double>({3, 7}), true);
  const et::Var<double> y = fc(x);
  REQUIRE(y.requires_grad());  // recorded: the dense path
  y.backward(et::ones<double>({3, 5}));
  // d(sum y)/dW[o, i] = sum_s x[s, i]; d/dx[s, i] = sum_o W[o, i]; d/db = batch.
  const et::Tensor<double> gw = et::sum(x.value(), 0).unsqueeze(0).expand({5, 7});
  ETNA_CHECK_CLOSE(fc.weight.grad(), gw, 1e-12, 1e-12);
  ETNA_CHECK_CLOSE(x.grad(), et::sum(fc.weight.value(), 0).unsqueeze(0).expand({3, 7}), 1e-12,
                   1e-12);
  ETNA_CHECK_CLOSE(fc.bias.grad(), et::full<double>({5}, 3.0), 1e-12, 1e-12);
  // Under NoGradGuard the same layer takes the sparse path and matches the dense value.
  et::NoGradGuard no_grad;
  const et::Var<double> ys = fc(x);
  CHECK_FALSE(ys.requires_grad());
  ETNA_CHECK_CLOSE(ys.value(), y.value(), 1e-12, 1e-12);
}
