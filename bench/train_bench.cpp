// Training-step and inference benchmarks: whole MLP steps (zero_grad, forward, loss, backward,
// optimizer step) and no-grad forwards, etna written as a user writes it against libtorch's nn.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "etna/etna.hpp"
#include "gemm_openblas.hpp"

namespace {

namespace et = etna;
namespace eb = etna_bench;
using I = std::int64_t;

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

// The two networks of PERFORMANCE.md, as typed etna chains and as torch::nn::Sequential.
using Mlp784 = et::nn::Sequential<et::nn::Linear<784, 256>, et::nn::ReLU, et::nn::Linear<256, 256>,
                                  et::nn::ReLU, et::nn::Linear<256, 10>>;
using TinyMlp = et::nn::Sequential<et::nn::Linear<2, 64>, et::nn::Tanh, et::nn::Linear<64, 64>,
                                   et::nn::Tanh, et::nn::Linear<64, 1>>;

torch::nn::Sequential torch_mlp784() {
  return torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 10));
}
// LeNet-5 as et::nn::models::LeNet5 defines it (padding 2, ReLU, max pooling).
using LeNet = et::nn::models::LeNet5<>;
torch::nn::Sequential torch_lenet() {
  namespace tn = torch::nn;
  return tn::Sequential(tn::Conv2d(tn::Conv2dOptions(1, 6, 5).padding(2)), tn::ReLU(),
                        tn::MaxPool2d(tn::MaxPool2dOptions(2)), tn::Conv2d(6, 16, 5), tn::ReLU(),
                        tn::MaxPool2d(tn::MaxPool2dOptions(2)), tn::Flatten(),
                        tn::Linear(400, 120), tn::ReLU(), tn::Linear(120, 84), tn::ReLU(),
                        tn::Linear(84, 10));
}
torch::nn::Sequential torch_tiny_mlp() {
  return torch::nn::Sequential(torch::nn::Linear(2, 64), torch::nn::Tanh(),
                               torch::nn::Linear(64, 64), torch::nn::Tanh(),
                               torch::nn::Linear(64, 1));
}

// Both networks start from etna's initial weights (same parameter order: 0.weight, 0.bias,
// 2.weight, ...), so the first losses must agree: a check that both run the same computation.
template <class Net>
void copy_params(Net& net, torch::nn::Sequential& tnet) {
  const auto ep = net.parameters();
  auto tp = tnet->parameters();
  if (ep.size() != tp.size()) throw std::runtime_error("parameter counts differ");
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < ep.size(); ++i) {
    const et::Tensor<float> v = ep[i].value().contiguous();
    tp[i].copy_(torch::from_blob(const_cast<float*>(v.data()), tp[i].sizes()));
  }
}

torch::Tensor as_torch(const et::Tensor<float>& t, std::vector<int64_t> sizes) {
  return torch::from_blob(const_cast<float*>(t.data()), sizes).clone();
}

std::string spread_note(const std::vector<eb::Stats>& s) {
  return "spread etna +-" + eb::fmt_num("%.0f", 100 * s[0].spread()) + "% ref +-" +
         eb::fmt_num("%.0f", 100 * s[1].spread()) + "%";
}

void report(const std::string& name, const std::vector<eb::Stats>& s, double target,
            double loss_diff, const std::string& what) {
  const double ratio = s[0].median_us / s[1].median_us;
  // The 10th percentiles are the least disturbed samples of each side: under background load
  // libtorch's fresh temporaries page-fault and its median swings far more than etna's, which
  // flatters the median ratio, so the p10 ratio is the steadier one when the load is high.
  eb::comparison(name, s[0].median_us, ref_name(), s[1].median_us, 1)
      .num("target_ratio", target, "%.3f")
      .boolean("meets_target", ratio <= target)
      .num("etna_p10_us", s[0].p10_us, "%.1f")
      .num("ref_p10_us", s[1].p10_us, "%.1f")
      .num("ratio_p10", s[0].p10_us / s[1].p10_us, "%.3f")
      .num("first_loss_abs_diff", loss_diff, "%.2g")
      .str("note", what + "; " + spread_note(s))
      .print();
}

// More rounds and shorter samples than the default: the machine is shared, and a 2 ms sample
// of short calls is often cut by a time slice of another process; 0.5 ms samples leave most
// samples whole, and nine interleaved rounds give both contenders the same slices of load.
eb::TimingOptions timing() {
  eb::TimingOptions opt;
  opt.rounds = 9;
  opt.min_sample_seconds = 5e-4;
  return opt;
}

enum class Opt { sgd, adam };

// One training step per call on a fixed batch of samples of shape `sample` (the network's input
// features when empty). The MLP 784 and LeNet cases use cross-entropy on random labels, the tiny
// ones MSE on random targets. Gradients are cleared as each library's user
// clears them by default: etna's zero_grad() sets them to none (PyTorch 2 semantics),
// libtorch 1.13's Optimizer::zero_grad() zeroes them in place.
template <class Net>
void train_case(const std::string& name, I batch, Opt which, double target, bool classify,
                torch::nn::Sequential tnet, std::vector<I> sample = {},
                const std::string& what = "") {
  et::manual_seed(1);
  Net net;
  copy_params(net, tnet);
  const I out = Net::static_out_features;
  if (sample.empty()) sample = {Net::static_in_features};
  std::vector<I> x_shape{batch};
  x_shape.insert(x_shape.end(), sample.begin(), sample.end());
  const et::Tensor<float> x = et::randn<float>(et::Shape(x_shape.begin(), x_shape.end()));
  const et::Tensor<std::int64_t> labels = et::randint(0, out, {batch});
  const et::Tensor<float> y = et::randn<float>({batch, out});
  const torch::Tensor tx = as_torch(x, x_shape);
  const torch::Tensor ty = as_torch(y, {batch, out});
  const torch::Tensor tlabels =
      torch::from_blob(const_cast<std::int64_t*>(labels.data()), {batch}, torch::kLong).clone();

  const double lr = which == Opt::sgd ? 0.01 : 1e-3;
  std::unique_ptr<et::optim::SGD<float>> sgd;
  std::unique_ptr<et::optim::Adam<float>> adam;
  std::unique_ptr<torch::optim::Optimizer> topt;
  if (which == Opt::sgd) {
    sgd = std::make_unique<et::optim::SGD<float>>(net.parameters(), et::optim::SGDOptions{.lr = lr});
    topt = std::make_unique<torch::optim::SGD>(tnet->parameters(), torch::optim::SGDOptions(lr));
  } else {
    adam = std::make_unique<et::optim::Adam<float>>(net.parameters(),
                                                    et::optim::AdamOptions{.lr = lr});
    topt = std::make_unique<torch::optim::Adam>(tnet->parameters(), torch::optim::AdamOptions(lr));
  }

  float etna_loss = 0, ref_loss = 0;
  auto etna_step = [&] {
    if (sgd) sgd->zero_grad();
    else adam->zero_grad();
    auto loss = classify ? et::nn::cross_entropy(net(x), labels) : et::nn::mse_loss(net(x), y);
    loss.backward();
    if (sgd) sgd->step();
    else adam->step();
    etna_loss = loss.item();
  };
  auto ref_step = [&] {
    topt->zero_grad();
    auto loss = classify ? torch::nn::functional::cross_entropy(tnet->forward(tx), tlabels)
                         : torch::nn::functional::mse_loss(tnet->forward(tx), ty);
    loss.backward();
    topt->step();
    ref_loss = loss.item<float>();
  };
  etna_step();  // from identical weights
  ref_step();
  const double diff = std::abs(etna_loss - ref_loss);
  const auto s = eb::time_interleaved({etna_step, ref_step}, timing());
  report(name, s, target, diff,
         (!what.empty() ? what
                         : classify ? "MLP 784-256-256-10 ReLU, cross-entropy on random labels"
                                    : "MLP 2-64-64-1 tanh, MSE on random targets") +
             ", batch " + std::to_string(batch) + ", " +
             (which == Opt::sgd ? "SGD lr 0.01" : "Adam lr 1e-3") +
             "; one call = zero_grad + forward + loss + backward + step (etna: typed "
             "Sequential, grads set to none; libtorch: nn::Sequential, grads zeroed)");
}

// Forward only, batch 1, no graph: etna under et::NoGradGuard, libtorch under torch::NoGradGuard.
template <class Net>
void infer_case(const std::string& name, double target, torch::nn::Sequential tnet) {
  et::manual_seed(2);
  Net net;
  copy_params(net, tnet);
  const I in = Net::static_in_features, out = Net::static_out_features;
  const et::Tensor<float> x = et::randn<float>({1, in});
  const torch::Tensor tx = as_torch(x, {1, in});
  float etna_first = 0, ref_first = 0;
  auto etna_fn = [&] {
    et::NoGradGuard no_grad;
    const auto yhat = net(x);
    etna_first = yhat.value().data()[0];
  };
  auto ref_fn = [&] {
    torch::NoGradGuard no_grad;
    const auto yhat = tnet->forward(tx);
    ref_first = yhat.data_ptr<float>()[0];
  };
  etna_fn();
  ref_fn();
  const double diff = std::abs(etna_first - ref_first);
  const auto s = eb::time_interleaved({etna_fn, ref_fn}, timing());
  report(name, s, target, diff,
         "forward of the " + std::string(in == 784 ? "784-256-256-10 ReLU" : "2-64-64-1 tanh") +
             " MLP on one sample [1, " + std::to_string(in) + "] -> [1, " + std::to_string(out) +
             "], no grad recorded (first_loss_abs_diff: first output element)");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  // One thread everywhere: etna's pool, libtorch's intra-op pool and the OpenBLAS it calls
  // (run.sh also sets OPENBLAS_NUM_THREADS=1; this holds when the binary runs on its own).
  et::set_num_threads(1);
  torch::set_num_threads(1);
  openblas_set_num_threads(1);
  const auto run = [&](const char* name) { return eb::selected(filter, name); };
  if (run("cpu/train/mlp784_b64_sgd"))
    train_case<Mlp784>("cpu/train/mlp784_b64_sgd", 64, Opt::sgd, 0.85, true, torch_mlp784());
  if (run("cpu/train/mlp784_b64_adam"))
    train_case<Mlp784>("cpu/train/mlp784_b64_adam", 64, Opt::adam, 0.5, true, torch_mlp784());
  if (run("cpu/train/mlp784_b256_sgd"))
    train_case<Mlp784>("cpu/train/mlp784_b256_sgd", 256, Opt::sgd, 0.85, true, torch_mlp784());
  if (run("cpu/train/tiny_mlp_b32_sgd"))
    train_case<TinyMlp>("cpu/train/tiny_mlp_b32_sgd", 32, Opt::sgd, 0.12, false, torch_tiny_mlp());
  if (run("cpu/train/tiny_mlp_b32_adam"))
    train_case<TinyMlp>("cpu/train/tiny_mlp_b32_adam", 32, Opt::adam, 0.1, false, torch_tiny_mlp());
  if (run("cpu/train/lenet_b64_sgd"))
    train_case<LeNet>("cpu/train/lenet_b64_sgd", 64, Opt::sgd, 0.6, true, torch_lenet(),
                      {1, 28, 28},
                      "LeNet-5 (conv 1-6 5x5 pad 2, ReLU, maxpool 2, conv 6-16 5x5, ReLU, maxpool "
                      "2, 400-120-84-10 ReLU) on [64, 1, 28, 28], cross-entropy on random labels");
  if (run("cpu/infer/mlp784_b1")) infer_case<Mlp784>("cpu/infer/mlp784_b1", 0.65, torch_mlp784());
  if (run("cpu/infer/tiny_mlp_b1"))
    infer_case<TinyMlp>("cpu/infer/tiny_mlp_b1", 0.05, torch_tiny_mlp());
  return 0;
}
