// Sequence-model training steps: a one-layer LSTM and one Transformer encoder layer, etna's
// nn::LSTM / nn::TransformerEncoderLayer against libtorch's torch::nn twins, one thread each.
// Usage: seq_bench [filter]          the cases whose full name contains the filter
//        seq_bench --phases [filter] forward / backward / optimizer split of both sides
//        seq_bench --etna-only [filter] [seconds]   etna's step alone in a loop (for perf record)
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "etna/etna.hpp"
#include "etna/nn/rnn.hpp"
#include "etna/nn/transformer.hpp"
#include "gemm_openblas.hpp"

namespace {

namespace et = etna;
namespace eb = etna_bench;
using I = std::int64_t;

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

std::string shape_text(const std::vector<I>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// libtorch's initial weights copied into etna by parameter name (both follow PyTorch's
// state_dict names), so both sides start from the same point; a name or shape that does not
// match is an error rather than a silently different comparison.
template <class Net>
void copy_from_torch(Net& net, const torch::nn::Module& tnet) {
  const auto tparams = tnet.named_parameters();
  std::size_t copied = 0;
  for (auto& [name, p] : net.named_parameters()) {
    const torch::Tensor* t = tparams.find(name);
    if (t == nullptr) throw std::runtime_error("seq_bench: libtorch has no parameter " + name);
    const std::vector<I> es(p.shape().begin(), p.shape().end());
    if (es != t->sizes().vec())
      throw std::runtime_error("seq_bench: parameter " + name + " is " + shape_text(es) +
                               " in etna but " + shape_text(t->sizes().vec()) + " in libtorch");
    if (!p.value().is_contiguous())
      throw std::runtime_error("seq_bench: etna parameter " + name + " is not contiguous");
    const torch::Tensor c = t->detach().contiguous();
    std::copy_n(c.data_ptr<float>(), p.numel(), p.value().data());
    ++copied;
  }
  if (copied != tparams.size())
    throw std::runtime_error("seq_bench: etna has " + std::to_string(copied) +
                             " parameters, libtorch " + std::to_string(tparams.size()));
}

torch::Tensor as_torch(const et::Tensor<float>& t) {
  const et::Tensor<float> c = t.contiguous();
  std::vector<I> sizes(c.shape().begin(), c.shape().end());
  return torch::from_blob(const_cast<float*>(c.data()), sizes).clone();
}

// After one backward on each side: the largest |etna grad - libtorch grad| over every
// parameter, and the largest such difference relative to its parameter's largest |grad|.
struct GradDiff {
  double abs = 0, rel = 0;
};
template <class Net>
GradDiff grad_diff(const Net& net, const torch::nn::Module& tnet) {
  const auto tparams = tnet.named_parameters();
  GradDiff worst;
  for (const auto& [name, p] : net.named_parameters()) {
    const torch::Tensor tg = tparams[name].grad().contiguous();
    const et::Tensor<float> g = p.grad().contiguous();
    if (!g.defined() || !tg.defined())
      throw std::runtime_error("seq_bench: no gradient for " + name + " after backward");
    const float* pt = tg.data_ptr<float>();
    double diff = 0, scale = 0;
    for (I i = 0; i < g.numel(); ++i) {
      diff = std::max(diff, std::abs(static_cast<double>(g.data()[i]) - pt[i]));
      scale = std::max(scale, std::abs(static_cast<double>(pt[i])));
    }
    worst.abs = std::max(worst.abs, diff);
    if (scale > 0) worst.rel = std::max(worst.rel, diff / scale);
  }
  return worst;
}

// Timestamps of one step's phases: start, after forward + loss, after backward, after the
// optimizer (zero_grad + step). A null pointer skips them (the timed runs).
using Marks = double*;
inline void mark(Marks m, int i) {
  if (m) m[i] = eb::seconds_now();
}

// One case: both modules built and given the same weights, the same input and target, SGD lr
// 0.01 and MSE loss of the output; `etna_out` / `torch_out` run each side's forward.
struct SeqCase {
  std::string name, what;
  double target_ratio;
  std::function<et::Var<float>()> etna_out;
  std::function<torch::Tensor()> torch_out;
  std::function<void(bool)> set_train;  // both sides' train()/eval()
};

struct Steps {
  std::function<void(Marks)> etna, ref;
  double loss_diff = 0;
  GradDiff grads;
};

// Builds the step functions and checks, in eval mode (no dropout, so both sides draw nothing
// random), that the first loss and every parameter gradient agree.
template <class Net>
Steps make_steps(const SeqCase& c, Net& net, torch::nn::Module& tnet, const et::Tensor<float>& y,
                 const torch::Tensor& ty) {
  auto sgd =
      std::make_shared<et::optim::SGD<float>>(net.parameters(), et::optim::SGDOptions{.lr = 0.01});
  auto tsgd =
      std::make_shared<torch::optim::SGD>(tnet.parameters(), torch::optim::SGDOptions(0.01));
  Steps s;
  c.set_train(false);
  {
    auto loss = et::nn::mse_loss(c.etna_out(), y);
    loss.backward();
    torch::Tensor tloss = torch::nn::functional::mse_loss(c.torch_out(), ty);
    tloss.backward();
    s.loss_diff = std::abs(static_cast<double>(loss.item()) - tloss.item<float>());
    s.grads = grad_diff(net, tnet);
  }
  sgd->zero_grad();
  tsgd->zero_grad();
  c.set_train(true);
  // Gradients are cleared as each library's user clears them by default: etna's zero_grad()
  // sets them to none, libtorch 1.13's zeroes them in place.
  s.etna = [=](Marks m) {
    mark(m, 0);
    auto loss = et::nn::mse_loss(c.etna_out(), y);
    mark(m, 1);
    loss.backward();
    mark(m, 2);
    sgd->step();
    sgd->zero_grad();
    mark(m, 3);
  };
  s.ref = [=](Marks m) {
    mark(m, 0);
    auto loss = torch::nn::functional::mse_loss(c.torch_out(), ty);
    mark(m, 1);
    loss.backward();
    mark(m, 2);
    tsgd->step();
    tsgd->zero_grad();
    mark(m, 3);
  };
  return s;
}

eb::TimingOptions timing() {
  eb::TimingOptions opt;
  opt.rounds = 9;  // steps take milliseconds: 9 interleaved rounds share the load out fairly
  return opt;
}

void report(const SeqCase& c, const Steps& st) {
  const auto s =
      eb::time_interleaved({[&] { st.etna(nullptr); }, [&] { st.ref(nullptr); }}, timing());
  const double ratio = s[0].median_us / s[1].median_us;
  eb::comparison(c.name, s[0].median_us, ref_name(), s[1].median_us, 1)
      .num("target_ratio", c.target_ratio, "%.3f")
      .boolean("meets_target", ratio <= c.target_ratio)
      .num("etna_p10_us", s[0].p10_us, "%.1f")
      .num("ref_p10_us", s[1].p10_us, "%.1f")
      .num("ratio_p10", s[0].p10_us / s[1].p10_us, "%.3f")
      .num("first_loss_abs_diff", st.loss_diff, "%.2g")
      .num("grad_max_abs_diff", st.grads.abs, "%.2g")
      .num("grad_max_rel_diff", st.grads.rel, "%.2g")
      .str("note", c.what + "; spread etna +-" + eb::fmt_num("%.0f", 100 * s[0].spread()) +
                       "% ref +-" + eb::fmt_num("%.0f", 100 * s[1].spread()) + "%")
      .print();
}

// Median time of each phase over `steps` instrumented steps per side, alternating sides.
void phases(const SeqCase& c, const Steps& st, int steps = 60) {
  std::vector<double> parts[2][3];
  for (int i = 0; i < steps; ++i) {
    for (int side = 0; side < 2; ++side) {
      double m[4];
      (side == 0 ? st.etna : st.ref)(m);
      for (int p = 0; p < 3; ++p) parts[side][p].push_back((m[p + 1] - m[p]) * 1e6);
    }
  }
  std::printf("%s (median us over %d steps)\n%-28s %10s %10s %7s\n", c.name.c_str(), steps, "phase",
              "etna", "libtorch", "ratio");
  const char* names[3] = {"forward + loss", "backward", "sgd step + zero_grad"};
  double total[2] = {0, 0};
  for (int p = 0; p < 3; ++p) {
    const double e = eb::summarize(parts[0][p]).median_us, r = eb::summarize(parts[1][p]).median_us;
    total[0] += e;
    total[1] += r;
    std::printf("%-28s %10.1f %10.1f %7.3f\n", names[p], e, r, e / r);
  }
  std::printf("%-28s %10.1f %10.1f %7.3f\n\n", "sum of medians", total[0], total[1],
              total[0] / total[1]);
}

enum class Mode { compare, phases, etna_only };

void run(const SeqCase& c, const Steps& st, Mode mode, double seconds) {
  if (mode == Mode::compare) return report(c, st);
  if (mode == Mode::phases) return phases(c, st);
  const double end = eb::seconds_now() + seconds;
  long n = 0;
  while (eb::seconds_now() < end) {
    st.etna(nullptr);
    ++n;
  }
  std::printf("%s: %ld etna steps in %.1f s\n", c.name.c_str(), n, seconds);
}

// LSTM input 32, hidden 128, one layer, seq 32, batch 32 ([L, N, In], batch_first false).
void lstm_case(Mode mode, double seconds) {
  const I seq = 32, batch = 32, in = 32, hidden = 128;
  torch::manual_seed(1);
  torch::nn::LSTM tnet(torch::nn::LSTMOptions(in, hidden));
  et::nn::LSTM<float> net(in, hidden);
  copy_from_torch(net, *tnet);
  et::manual_seed(2);
  const et::Tensor<float> x = et::randn<float>({seq, batch, in});
  const et::Tensor<float> y = et::randn<float>({seq, batch, hidden});
  const torch::Tensor tx = as_torch(x), ty = as_torch(y);
  SeqCase c{"cpu/train/lstm_h128_seq32_b32",
            "nn::LSTM(32, 128), one layer, x [32, 32, 32] (seq, batch, in), MSE of the output "
            "[32, 32, 128] against a fixed random target, SGD lr 0.01; one call = forward + loss "
            "+ backward + step + zero_grad; libtorch's initial weights copied into etna by name "
            "(first_loss_abs_diff, grad_max_abs_diff, grad_max_rel_diff: the first step's loss and "
            "gradients)",
            0.7,
            [&net, x] { return net(x).output; },
            [tnet, tx]() mutable { return std::get<0>(tnet->forward(tx)); },
            [&net, tnet](bool on) mutable {
              net.train(on);
              tnet->train(on);
            }};
  run(c, make_steps(c, net, *tnet, y, ty), mode, seconds);
}

// TransformerEncoderLayer d_model 128, 4 heads, feed-forward 512, ReLU, post-norm, dropout 0.1
// (train mode in the timed steps), src [64, 16, 128] (seq, batch, d_model).
void transformer_case(Mode mode, double seconds) {
  const I seq = 64, batch = 16, d = 128, heads = 4, ff = 512;
  torch::manual_seed(1);
  torch::nn::TransformerEncoderLayer tnet(
      torch::nn::TransformerEncoderLayerOptions(d, heads).dim_feedforward(ff).dropout(0.1));
  et::nn::TransformerEncoderLayer<float> net(
      d, heads, et::nn::TransformerLayerOptions{.dim_feedforward = ff, .dropout = 0.1});
  copy_from_torch(net, *tnet);
  et::manual_seed(2);
  const et::Tensor<float> x = et::randn<float>({seq, batch, d});
  const et::Tensor<float> y = et::randn<float>({seq, batch, d});
  const torch::Tensor tx = as_torch(x), ty = as_torch(y);
  SeqCase c{"cpu/train/transformer_enc_d128_seq64_b16",
            "nn::TransformerEncoderLayer(d_model 128, nhead 4, dim_feedforward 512, dropout 0.1, "
            "relu, post-norm) in train mode (dropout on, each side its own masks), src [64, 16, "
            "128] (seq, batch, d), MSE against a fixed random target, SGD lr 0.01; one call = "
            "forward + loss + backward + step + zero_grad; libtorch's initial weights copied "
            "into etna by name, first_loss_abs_diff and grad_max_{abs,rel}_diff checked once in "
            "eval mode (no dropout)",
            0.8,
            [&net, x] { return net(x); },
            [tnet, tx]() mutable { return tnet->forward(tx); },
            [&net, tnet](bool on) mutable {
              net.train(on);
              tnet->train(on);
            }};
  run(c, make_steps(c, net, *tnet, y, ty), mode, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Mode mode = Mode::compare;
  int arg = 1;
  const std::string first = argc > 1 ? argv[1] : "";
  if (first == "--phases" || first == "--etna-only") {
    mode = first == "--phases" ? Mode::phases : Mode::etna_only;
    ++arg;
  }
  const std::string filter = argc > arg ? argv[arg] : "";
  const double seconds = argc > arg + 1 ? std::stod(argv[arg + 1]) : 10.0;
  // One thread everywhere: etna's pool, libtorch's intra-op pool and the OpenBLAS it calls
  // (run.sh also sets OPENBLAS_NUM_THREADS=1; this holds when the binary runs on its own).
  et::set_num_threads(1);
  torch::set_num_threads(1);
  openblas_set_num_threads(1);
  const auto guarded = [&](const std::string& name, void (*body)(Mode, double)) {
    if (!eb::selected(filter, name)) return;
    try {
      body(mode, seconds);
    } catch (const std::exception& e) {  // a line that says why, and the other case still runs
      eb::JsonLine().str("case", name).str("note", std::string("failed: ") + e.what()).print();
    }
  };
  guarded("cpu/train/lstm_h128_seq32_b32", lstm_case);
  guarded("cpu/train/transformer_enc_d128_seq64_b16", transformer_case);
  return 0;
}
