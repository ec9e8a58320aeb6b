// Sparse inference on the device: to_csr / to_dense of cuda tensors, the CSR linear kernel
// against the CPU kernels (float and double, batch 1 and 64, odd sizes, empty rows), and a
// compressed Linear of a cuda network under NoGradGuard against its dense forward.
#include "cuda/support.hpp"
#include "etna/prune/compress.hpp"

namespace et = etna;
namespace nn = etna::nn;
using et::test::gpu;

namespace {

// A [rows, cols] weight with about `density` nonzeros and row `empty_row` all zero.
template <class T>
et::Tensor<T> random_sparse(std::int64_t rows, std::int64_t cols, double density,
                            std::int64_t empty_row) {
  et::Tensor<T> w = et::uniform<T>({rows, cols}, -1.0, 1.0);
  const et::Tensor<T> keep = et::rand<T>({rows, cols});
  for (std::int64_t i = 0; i < w.numel(); ++i)
    if (keep.data()[i] >= T(density) || i / cols == empty_row) w.data()[i] = T(0);
  return w;
}

template <class T>
void check_device_linear(std::int64_t batch, std::int64_t in, std::int64_t out, double density) {
  INFO("batch " << batch << " in " << in << " out " << out << " density " << density);
  const et::Tensor<T> w = random_sparse<T>(out, in, density, 1);
  const et::Tensor<T> b = et::randn<T>({out});
  const et::Tensor<T> x = et::randn<T>({batch, in});
  const auto csr = et::sparse::to_csr(w);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const auto dcsr = et::sparse::to_csr(w.template to<gpu>());
  CHECK(dcsr.nnz() == csr.nnz());
  ETNA_REQUIRE_MATCHES_CPU(et::sparse::to_dense(dcsr), w, 1e-30);  // exact
  const et::Tensor<T, gpu> y = et::sparse::linear(x.template to<gpu>(), dcsr, b.template to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(y, et::sparse::linear(x, csr, b), tol);
  const et::Tensor<T, gpu> y0 = et::sparse::linear(x.template to<gpu>(), dcsr);
  ETNA_REQUIRE_MATCHES_CPU(y0, et::sparse::linear(x, csr), tol);
}

}  // namespace

TEST_CASE("cuda CSR linear matches the cpu kernels") {
  et::manual_seed(21);
  for (std::int64_t batch : {1, 3, 64})
    for (double density : {0.0, 0.1, 0.5, 1.0}) {
      check_device_linear<float>(batch, 37, 19, density);
      check_device_linear<double>(batch, 37, 19, density);
    }
  check_device_linear<float>(64, 784, 256, 0.1);
  check_device_linear<float>(1, 784, 256, 0.1);
}

TEST_CASE("a compressed cuda Linear gives its dense output under NoGradGuard") {
  et::manual_seed(22);
  using Mlp =
      nn::Sequential<nn::Linear<37, 29, float, gpu>, nn::ReLU, nn::Linear<29, 5, float, gpu>>;
  Mlp net;
  for (auto& p : net.parameters())
    if (p.dim() == 2) {
      et::Tensor<float> w = p.value().to<et::cpu>();
      const et::Tensor<float> u = et::rand<float>(w.shape());
      for (std::int64_t i = 0; i < w.numel(); ++i)
        if (u.data()[i] < 0.8f) w.data()[i] = 0.f;
      p.value().assign(w.to<gpu>());
    }
  const et::Tensor<float, gpu> x = et::randn<float>({64, 37}).to<gpu>();
  et::NoGradGuard no_grad;
  const et::Tensor<float> dense = net(x).value().to<et::cpu>();
  // Not measured on a GPU: the automatic crossover never picks the sparse path on cuda.
  CHECK(et::prune::compress(net).compressed_layers() == 0);
  const auto report = et::prune::compress(net, {.min_sparsity = 0.5});
  CHECK(report.compressed_layers() == 2);
  CHECK(et::sparse::compressed_of(net.get<0>().weight)->sparse_for_batch(64));
  ETNA_REQUIRE_MATCHES_CPU(net(x).value(), dense, 1e-5);
}
