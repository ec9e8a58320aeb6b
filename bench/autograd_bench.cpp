// Autograd benchmarks: forward + backward of a fused element-wise chain (bandwidth), and the
// per-node cost of a long tape of tiny ops (overhead), both against libtorch autograd.
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common.hpp"
#include "etna/autograd.hpp"
#include "etna/etna.hpp"

namespace {

using I = std::int64_t;
namespace eb = etna_bench;
using VarF = etna::Var<float>;

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

etna::Tensor<float> uniform_tensor(I n, float lo, float hi, unsigned seed) {
  auto t = etna::empty<float>({n});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (I i = 0; i < n; ++i) t.data()[i] = dist(rng);
  return t;
}

float max_abs_diff(const etna::Tensor<float>& e, const torch::Tensor& t) {
  const float* p = t.data_ptr<float>();
  float m = 0;
  for (I i = 0; i < e.numel(); ++i) m = std::max(m, std::abs(e.data()[i] - p[i]));
  return m;
}

// y = sum(a*b + exp(c)*2); loss.backward() gives every input's gradient. Gradients are reset
// to none before each call (PyTorch's zero_grad(set_to_none=True)), so both sides allocate them.
void chain_fwd_bwd(I n) {
  std::vector<etna::Tensor<float>> in;
  std::vector<torch::Tensor> tin;
  for (int k = 0; k < 3; ++k) {
    in.push_back(uniform_tensor(n, k == 2 ? -2.f : -1.f, k == 2 ? 2.f : 1.f, 99u + k));
    // The reference reads the same memory: same pages, same values.
    tin.push_back(torch::from_blob(in.back().data(), {n}, torch::kFloat).requires_grad_(true));
  }
  VarF a(in[0], true), b(in[1], true), c(in[2], true);
  auto etna_fn = [&] {
    a.zero_grad();
    b.zero_grad();
    c.zero_grad();
    etna::sum(a * b + etna::exp(c) * 2.f).backward();
  };
  auto ref_fn = [&] {
    for (auto& t : tin) t.mutable_grad().reset();
    (tin[0] * tin[1] + torch::exp(tin[2]) * 2).sum().backward();
  };
  const auto s = eb::time_interleaved({etna_fn, ref_fn});
  etna_fn();
  ref_fn();
  float diff = 0;
  diff = std::max(diff, max_abs_diff(a.grad(), tin[0].grad()));
  diff = std::max(diff, max_abs_diff(b.grad(), tin[1].grad()));
  diff = std::max(diff, max_abs_diff(c.grad(), tin[2].grad()));

  // The least any implementation must move: 3 inputs read and 3 gradients written.
  const double bytes = 6.0 * 4.0 * static_cast<double>(n);
  const double etna_gbs = eb::gbs(bytes, s[0].median_us), ref_gbs = eb::gbs(bytes, s[1].median_us);
  std::string note =
      "loss = sum(a*b + exp(c)*2), forward + backward, grads reset to none each call; etna: one "
      "fused node + SumBackward; libtorch: 5 autograd nodes; bytes = 6 arrays x n x 4 "
      "(3 inputs read, 3 gradients written); spread etna +-" +
      eb::fmt_num("%.0f", 100 * s[0].spread()) + "% ref +-" +
      eb::fmt_num("%.0f", 100 * s[1].spread()) + "%";
  eb::comparison("cpu/autograd/chain_fwd_bwd_16M", s[0].median_us, ref_name(), s[1].median_us, 1)
      .num("etna_gbs", etna_gbs, "%.2f")
      .num("ref_gbs", ref_gbs, "%.2f")
      .num("target_ratio", 0.125, "%.3f")
      .num("max_abs_diff_ref", diff, "%.2g")
      .str("note", note)
      .print();
}

// 1000 materialised ops on 8 floats: x = x * 1.001 + 0.001, each step a Var (one node), then
// sum and backward. Measures what one recorded node costs, forward and backward.
void tape_nodes(int steps) {
  constexpr I n = 8;
  VarF x(etna::full<float>({n}, 0.5f), true);
  torch::Tensor tx = torch::full({n}, 0.5f).requires_grad_(true);
  auto etna_fn = [&] {
    x.zero_grad();
    VarF h = x;
    for (int i = 0; i < steps; ++i) h = h * 1.001f + 0.001f;
    etna::sum(h).backward();
  };
  auto ref_fn = [&] {
    tx.mutable_grad().reset();
    torch::Tensor h = tx;
    for (int i = 0; i < steps; ++i) h = h * 1.001f + 0.001f;
    h.sum().backward();
  };
  eb::TimingOptions opt;
  opt.min_sample_seconds = 5e-3;
  const auto s = eb::time_interleaved({etna_fn, ref_fn}, opt);
  etna_fn();
  ref_fn();
  const float diff = max_abs_diff(x.grad(), tx.grad());
  std::string note = std::to_string(steps) +
                     " steps of h = h*1.001 + 0.001 on 8 floats (etna: one fused node "
                     "per step; libtorch: mul and add nodes), then sum().backward(); etna " +
                     eb::fmt_num("%.2f", s[0].median_us * 1e3 / steps) + " ns/step, libtorch " +
                     eb::fmt_num("%.2f", s[1].median_us * 1e3 / steps) +
                     " ns/step; spread etna +-" + eb::fmt_num("%.0f", 100 * s[0].spread()) +
                     "% ref +-" + eb::fmt_num("%.0f", 100 * s[1].spread()) + "%";
  eb::comparison("cpu/autograd/tape_1000_nodes", s[0].median_us, ref_name(), s[1].median_us, 1)
      .num("target_ratio", 0.2, "%.3f")
      .num("max_abs_diff_ref", diff, "%.2g")
      .str("note", note)
      .print();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  etna::set_num_threads(1);
  torch::set_num_threads(1);
  if (eb::selected(filter, "cpu/autograd/chain_fwd_bwd_16M")) chain_fwd_bwd(I{1} << 24);
  if (eb::selected(filter, "cpu/autograd/tape_1000_nodes")) tape_nodes(1000);
  return 0;
}
