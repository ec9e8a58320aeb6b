// Convolution benchmarks: one forward + backward (gradients of input, weight and bias) of a
// conv2d layer, etna's F::conv2d against libtorch's torch::conv2d (oneDNN / its own im2col on
// CPU), one thread each, same inputs.
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "etna/etna.hpp"
#include "etna/nn/functional/conv.hpp"
#include "gemm_openblas.hpp"

namespace {

namespace et = etna;
namespace eb = etna_bench;
namespace F = etna::nn::functional;
using I = std::int64_t;

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

torch::Tensor as_torch(const et::Tensor<float>& t) {
  std::vector<int64_t> sizes(t.shape().begin(), t.shape().end());
  return torch::from_blob(const_cast<float*>(t.data()), sizes).clone();
}

double max_abs_diff(const et::Tensor<float>& a, const torch::Tensor& b) {
  const torch::Tensor c = b.contiguous();
  const float* pb = c.data_ptr<float>();
  const et::Tensor<float> ac = a.contiguous();
  double worst = 0;
  for (I i = 0; i < ac.numel(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(ac.data()[i]) - pb[i]));
  return worst;
}

// Forward + backward of conv2d(x [n, c, hw, hw], w [o, c / groups, k, k], b [o]) with padding
// k / 2. Each step starts from fresh leaves (no gradient accumulation on either side): etna
// wraps the same tensors in new Vars, libtorch asks autograd::grad for the three gradients.
void fwd_bwd_case(const std::string& name, I n, I c, I o, I hw, I k, I groups, double target,
                  const std::string& what) {
  et::manual_seed(1);
  const et::Tensor<float> xt = et::randn<float>({n, c, hw, hw});
  const et::Tensor<float> wt = et::randn<float>({o, c / groups, k, k}) * 0.1f;
  const et::Tensor<float> bt = et::randn<float>({o});
  const et::Tensor<float> gt = et::randn<float>({n, o, hw, hw});
  const I pad = k / 2;
  et::Tensor<float> etna_gx;
  auto etna_step = [&] {
    const et::Var<float> x(xt, true), w(wt, true), b(bt, true);
    const et::Var<float> y = F::conv2d(x, w, b, 1, pad, 1, groups);
    y.backward(gt);
    etna_gx = x.grad();
  };
  const torch::Tensor tx = as_torch(xt).requires_grad_(), tw = as_torch(wt).requires_grad_();
  const torch::Tensor tb = as_torch(bt).requires_grad_(), tg = as_torch(gt);
  torch::Tensor ref_gx;
  auto ref_step = [&] {
    const torch::Tensor y = torch::conv2d(tx, tw, tb, 1, pad, 1, groups);
    ref_gx = torch::autograd::grad({y}, {tx, tw, tb}, {tg})[0];
  };
  etna_step();
  ref_step();
  const double diff = max_abs_diff(etna_gx, ref_gx);
  eb::TimingOptions opt;
  opt.rounds = 9;
  const auto s = eb::time_interleaved({etna_step, ref_step}, opt);
  const double ratio = s[0].median_us / s[1].median_us;
  const double flops = 3 * 2.0 * n * o * hw * hw * (c / groups) * k * k;  // fwd + 2 bwd GEMMs
  eb::comparison(name, s[0].median_us, ref_name(), s[1].median_us, 1)
      .num("target_ratio", target, "%.3f")
      .boolean("meets_target", ratio <= target)
      .num("etna_p10_us", s[0].p10_us, "%.1f")
      .num("ref_p10_us", s[1].p10_us, "%.1f")
      .num("ratio_p10", s[0].p10_us / s[1].p10_us, "%.3f")
      .num("etna_gflops", flops / s[0].median_us * 1e-3, "%.1f")
      .num("ref_gflops", flops / s[1].median_us * 1e-3, "%.1f")  // run.sh's table prints both
      .num("grad_x_max_abs_diff", diff, "%.2g")
      .str("note", what + "; spread etna +-" + eb::fmt_num("%.0f", 100 * s[0].spread()) +
                       "% ref +-" + eb::fmt_num("%.0f", 100 * s[1].spread()) + "%")
      .print();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  et::set_num_threads(1);
  torch::set_num_threads(1);
  openblas_set_num_threads(1);
  const auto run = [&](const char* name) { return eb::selected(filter, name); };
  if (run("cpu/conv/conv3x3_64_32x32_b32_fwd_bwd"))
    fwd_bwd_case("cpu/conv/conv3x3_64_32x32_b32_fwd_bwd", 32, 64, 64, 32, 3, 1, 1.0,
                 "conv2d 3x3 64->64 padding 1 on [32, 64, 32, 32]: forward, then grads of x, w, b");
  if (run("cpu/conv/dw3x3_128_32x32_b32_fwd_bwd"))
    fwd_bwd_case("cpu/conv/dw3x3_128_32x32_b32_fwd_bwd", 32, 128, 128, 32, 3, 128, 1.0,
                 "depthwise conv2d 3x3 (groups 128) padding 1 on [32, 128, 32, 32]: forward, then "
                 "grads of x, w, b");
  if (run("cpu/conv/lenet_conv2_b64_fwd_bwd"))
    fwd_bwd_case("cpu/conv/lenet_conv2_b64_fwd_bwd", 64, 6, 16, 14, 5, 1, 1.0,
                 "LeNet-like conv2d 5x5 6->16 padding 2 on [64, 6, 14, 14]: forward, then grads "
                 "of x, w, b");
  return 0;
}
