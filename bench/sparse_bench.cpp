// Sparse inference: the 784-256-256-10 MLP of the Fashion-MNIST demo, its weights pruned at
// random (unstructured) to 50-95%, run dense and compressed (prune::compress, CSR) under
// NoGradGuard at batch 1 and 64, with libtorch's dense forward of the same weights alongside;
// then single layers swept over sparsity to find where the sparse kernel starts to win.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "etna/etna.hpp"
#include "etna/prune/compress.hpp"
#include "gemm_openblas.hpp"

namespace {

namespace et = etna;
namespace eb = etna_bench;
namespace nn = etna::nn;
using I = std::int64_t;

using Mlp = nn::Sequential<nn::Linear<784, 256>, nn::ReLU, nn::Linear<256, 256>, nn::ReLU,
                           nn::Linear<256, 10>>;

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

// Random unstructured pruning of every weight to `sparsity` (exactly round(sparsity * numel)
// zeros per weight, the places drawn at random): what prune::random_unstructured does, kept local
// so the benchmark does not depend on the pruning API.
void prune_at_random(et::Var<float>& w, double sparsity) {
  const I n = w.numel(), zeros = std::llround(sparsity * double(n));
  const et::Tensor<float> u = et::rand<float>({n});
  std::vector<I> order(static_cast<std::size_t>(n));
  for (I i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [&](I a, I b) { return u.data()[a] < u.data()[b]; });
  for (I i = 0; i < zeros; ++i) w.value().data()[order[static_cast<std::size_t>(i)]] = 0.f;
}

eb::TimingOptions timing(int rounds, double sample_seconds) {
  eb::TimingOptions opt;
  opt.rounds = rounds;
  opt.round_seconds = 0.15;
  opt.min_sample_seconds = sample_seconds;
  return opt;
}

// One MLP case: etna compressed (all three layers forced onto CSR) vs etna dense vs libtorch.
void mlp_case(const std::string& name, double sparsity, I batch) {
  et::manual_seed(11);
  Mlp net;
  for (auto& p : net.parameters())
    if (p.dim() == 2) prune_at_random(p, sparsity);
  torch::nn::Sequential tnet(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                             torch::nn::Linear(256, 256), torch::nn::ReLU(),
                             torch::nn::Linear(256, 10));
  {
    torch::NoGradGuard no_grad;
    const auto ep = net.parameters();
    auto tp = tnet->parameters();
    for (std::size_t i = 0; i < ep.size(); ++i)
      tp[i].copy_(torch::from_blob(const_cast<float*>(ep[i].value().data()), tp[i].sizes()));
  }
  const et::Tensor<float> x = et::randn<float>({batch, 784});
  const torch::Tensor tx = torch::from_blob(const_cast<float*>(x.data()), {batch, 784}).clone();
  et::Tensor<float> y_sparse, y_dense;
  auto dense = [&] {
    et::NoGradGuard no_grad;
    y_dense = net(x).value();
  };
  dense();
  et::prune::compress(net, {.min_sparsity = 0});
  auto sparse = [&] {
    et::NoGradGuard no_grad;
    y_sparse = net(x).value();
  };
  sparse();
  double diff = 0;
  for (I i = 0; i < y_dense.numel(); ++i)
    diff = std::max(diff, double(std::abs(y_dense.data()[i] - y_sparse.data()[i])));
  // The dense contender must not pay for compress: time it on a second copy without a cache.
  Mlp dense_net = net.clone();
  et::prune::decompress(dense_net);
  auto dense_only = [&] {
    et::NoGradGuard no_grad;
    y_dense = dense_net(x).value();
  };
  auto torch_fn = [&] {
    torch::NoGradGuard no_grad;
    const auto y = tnet->forward(tx);
    (void)y;
  };
  const auto s = eb::time_interleaved({sparse, dense_only, torch_fn}, timing(7, 5e-4));
  eb::comparison(name, s[0].median_us, "etna-dense", s[1].median_us, 1)
      .num("sparsity", sparsity, "%.2f")
      .integer("batch", batch)
      .num("torch_us", s[2].median_us, "%.1f")
      .str("torch", ref_name())
      .num("speedup_vs_dense", s[1].median_us / s[0].median_us, "%.2f")
      .num("speedup_vs_torch", s[2].median_us / s[0].median_us, "%.2f")
      .num("max_abs_diff_dense", diff, "%.2g")
      .str("note",
           "784-256-256-10 ReLU MLP forward under NoGradGuard, every weight pruned at "
           "random to the sparsity; etna_us: compressed (CSR), ref: etna's dense GEMM, "
           "torch_us: libtorch dense; spread +-" +
               eb::fmt_num("%.0f", 100 * s[0].spread()) + "% / +-" +
               eb::fmt_num("%.0f", 100 * s[1].spread()) + "%")
      .print();
}

// One Linear [out, in] swept over sparsity: the lowest sparsity of the sweep from which the CSR
// kernel is faster than the dense GEMM at every higher sparsity (the crossover).
void crossover_case(const std::string& name, I in, I out, I batch) {
  et::manual_seed(12);
  const et::Tensor<float> x = et::randn<float>({batch, in});
  std::string sweep;
  double crossover = 1.0;
  bool sparse_won_above = true;
  const std::vector<double> levels = {0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6,
                                      0.55, 0.5, 0.4,  0.3, 0.2,  0.1, 0.0};
  for (double sp : levels) {  // downwards: stop refining once dense wins
    nn::Linear<> fc(in, out);
    prune_at_random(fc.weight, sp);
    const auto csr = et::sparse::to_csr(fc.weight.value());
    const et::Tensor<float> b = fc.bias.value();
    auto sparse = [&] { (void)et::sparse::linear(x, csr, b); };
    auto dense = [&] {
      et::NoGradGuard no_grad;
      (void)fc(x);
    };
    const auto s = eb::time_interleaved({sparse, dense}, timing(5, 3e-4));
    const double ratio = s[0].median_us / s[1].median_us;
    // Appended piece by piece: GCC 12's -Wrestrict misfires on `" " + std::string`.
    if (!sweep.empty()) sweep.append(" ");
    sweep.append(eb::fmt_num("%.2f", sp)).append(":").append(eb::fmt_num("%.2f", ratio));
    if (ratio < 1 && sparse_won_above)
      crossover = sp;
    else
      sparse_won_above = false;
    if (!sparse_won_above && sp < 0.5) break;
  }
  eb::JsonLine()
      .str("case", name)
      .integer("in", in)
      .integer("out", out)
      .integer("batch", batch)
      .num("crossover_sparsity", crossover, "%.2f")
      .integer("threads", 1)
      .str("machine", eb::machine_name())
      .str("note", "sparse/dense time ratio per sparsity (below 1: CSR faster): " + sweep)
      .print();
}

// The two CPU kernels on the same 784x256 weight at 90% for a few small batches: where the
// row-wise kernel stops paying (cpu_kernels.hpp's kRowKernelMaxBatch).
void kernel_case(const std::string& name, I batch) {
  et::manual_seed(13);
  nn::Linear<> fc(784, 256);
  prune_at_random(fc.weight, 0.9);
  const auto csr = et::sparse::to_csr(fc.weight.value());
  const et::sparse::cpu_kernels::CsrView<float> w{256, 784, csr.row_ptr.data(), csr.col_idx.data(),
                                                  csr.values.data()};
  const et::Tensor<float> x = et::randn<float>({batch, 784});
  const et::Tensor<float> b = fc.bias.value();
  et::Tensor<float> y = et::empty<float>({batch, 256});
  constexpr I W = xsimd::batch<float>::size;
  const I np = (batch + W - 1) / W * W;
  float* xt = et::sparse::cpu_kernels::transpose_scratch<float>(784 * np);
  auto row = [&] {
    et::sparse::cpu_kernels::rowwise(w, x.data(), b.data(), y.data(), batch, 0, 256);
  };
  auto transposed = [&] {
    et::sparse::cpu_kernels::transpose_padded(x.data(), batch, I{784}, np, xt);
    et::sparse::cpu_kernels::transposed_axpy(w, xt, np, b.data(), y.data(), batch, 0, 256);
  };
  const auto s = eb::time_interleaved({row, transposed}, timing(5, 3e-4));
  eb::comparison(name, s[0].median_us, "transposed-kernel", s[1].median_us, 1)
      .integer("batch", batch)
      .str("note", "row-wise (gather) vs transposed (axpy) CSR kernel, 784x256 weight at 90%")
      .print();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  et::set_num_threads(1);
  torch::set_num_threads(1);
  openblas_set_num_threads(1);
  for (I batch : {1, 64})
    for (double sp : {0.5, 0.8, 0.9, 0.95}) {
      const std::string name = "cpu/sparse/mlp784_b" + std::to_string(batch) + "_s" +
                               std::to_string(int(std::lround(sp * 100)));
      if (eb::selected(filter, name)) mlp_case(name, sp, batch);
    }
  for (I batch : {1, 2, 4}) {
    const std::string name = "cpu/sparse/kernel_b" + std::to_string(batch);
    if (eb::selected(filter, name)) kernel_case(name, batch);
  }
  for (I batch : {1, 4, 8, 16, 64, 256})
    for (auto [in, out] : {std::pair<I, I>{784, 256}, {256, 256}}) {
      const std::string name = "cpu/sparse/crossover_" + std::to_string(in) + "x" +
                               std::to_string(out) + "_b" + std::to_string(batch);
      if (eb::selected(filter, name)) crossover_case(name, in, out, batch);
    }
  return 0;
}
