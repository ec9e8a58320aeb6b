// GPU benchmarks of etna (the cases of PERFORMANCE.md "GPU references"): the fused element-wise
// chain's bandwidth and whole training steps (zero_grad, forward, loss, backward, optimizer
// step), eager and captured as a CUDA graph. Prints one JSON object per case with etna's time;
// bench/gpu/torch_ref.py measures PyTorch on the same card and bench/gpu/check.sh joins them.
// Usage: etna_gpu_bench [filter]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include <etna/cuda.hpp>
#include <etna/nn/rnn.hpp>
#include <etna/nn/transformer.hpp>

namespace {

namespace et = etna;
namespace nn = etna::nn;
using gpu = et::cuda;
using I = std::int64_t;

std::string device_name() {
#if ETNA_CUDA_REAL
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) return prop.name;
#endif
  return "unknown";
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median over 7 repetitions of `iters` calls, in microseconds per call (the GPU is drained
// before and after each repetition, so asynchronous launches are fully counted).
template <class F>
double time_us(F&& f, int iters) {
  for (int i = 0; i < 10; ++i) f();  // warm-up: allocator pool, cuBLAS handles, caches
  gpu::synchronize();
  std::vector<double> reps;
  for (int r = 0; r < 7; ++r) {
    const double t0 = now();
    for (int i = 0; i < iters; ++i) f();
    gpu::synchronize();
    reps.push_back((now() - t0) / iters * 1e6);
  }
  std::sort(reps.begin(), reps.end());
  return reps[reps.size() / 2];
}

void print_case(const std::string& name, double us, const std::string& extra = "") {
  std::printf("{\"case\": \"%s\", \"etna_us\": %.2f, \"device\": \"%s\"%s}\n", name.c_str(), us,
              device_name().c_str(), extra.c_str());
  std::fflush(stdout);
}

// A string as a JSON string literal's contents.
std::string json_escape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned>(ch));
      out += code;
    } else {
      out += ch;
    }
  }
  return out;
}

// Runs one case; an exception becomes {"case": name, "error": ...} and the next case runs.
template <class F>
void guarded(const std::string& name, F&& run_case) {
  try {
    run_case();
  } catch (const std::exception& e) {
    std::printf("{\"case\": \"%s\", \"error\": \"%s\"}\n", name.c_str(),
                json_escape(e.what()).c_str());
    std::fflush(stdout);
  }
}

void chain_body(const std::string& name) {
  const I n = I{64} << 20;
  auto a = et::rand<float, gpu>({n}), b = et::rand<float, gpu>({n}), c = et::rand<float, gpu>({n});
  auto y = et::empty<float, gpu>({n});
  const double us = time_us([&] { y.assign(a * b + et::exp(c) * 2.f); }, 20);
  const double gbs = 4.0 * n * sizeof(float) / (us * 1e-6) / 1e9;
  char extra[64];
  std::snprintf(extra, sizeof extra, ", \"etna_gbs\": %.1f", gbs);
  print_case(name, us, extra);
}

void chain(const std::string& filter) {
  const std::string name = "gpu/eltwise/chain_64M";
  if (!filter.empty() && name.find(filter) == std::string::npos) return;
  guarded(name, [&] { chain_body(name); });
}

using Mlp784 = nn::Sequential<nn::Linear<784, 256, float, gpu>, nn::ReLU,
                              nn::Linear<256, 256, float, gpu>, nn::ReLU,
                              nn::Linear<256, 10, float, gpu>>;
using TinyMlp = nn::Sequential<nn::Linear<2, 64, float, gpu>, nn::Tanh,
                               nn::Linear<64, 64, float, gpu>, nn::Tanh,
                               nn::Linear<64, 1, float, gpu>>;
// tiny-cuda-nn style: 64 wide, 4 hidden layers, ReLU, MSE.
using WideMlp = nn::Sequential<nn::Linear<64, 64, float, gpu>, nn::ReLU,
                               nn::Linear<64, 64, float, gpu>, nn::ReLU,
                               nn::Linear<64, 64, float, gpu>, nn::ReLU,
                               nn::Linear<64, 64, float, gpu>, nn::ReLU,
                               nn::Linear<64, 64, float, gpu>>;

using LeNet = nn::models::LeNet5<float, gpu>;

// A batch's input shape: LeNet takes images [N, 1, 28, 28] (its Input<1, 28, 28> layer; its
// static_sample_shape is that of its output), the MLPs feature rows [N, in].
template <class Net>
et::Shape input_shape(I batch) {
  if constexpr (std::is_same_v<Net, LeNet>)
    return et::Shape{batch, 1, 28, 28};
  else
    return et::Shape{batch, Net::static_in_features};
}

enum class Opt { sgd, adam };
enum class Mode { eager, graph };

// Times a whole training step: eagerly, or captured once as a CUDA graph and replayed.
template <class Step>
void time_step(const std::string& name, Step& step, Mode mode, int iters) {
  if (mode == Mode::eager) {
    print_case(name, time_us(step, iters));
  } else {
    for (int i = 0; i < 3; ++i) step();  // eager warm-up outside the capture
    gpu::synchronize();
    gpu::Graph g = gpu::capture(step);
    print_case(name, time_us([&] { g.replay(); }, iters));
  }
}

template <class Net>
void train_body(const std::string& name, I batch, Opt which, Mode mode, bool classify) {
  et::manual_seed(1);
  Net net;
  const I out = Net::static_out_features;
  const auto x = et::randn<float, gpu>(input_shape<Net>(batch));
  const auto labels = et::randint(0, out, {batch}).template to<gpu>();
  const auto y = et::randn<float, gpu>({batch, out});
  const float lr = which == Opt::sgd ? 0.01f : 1e-3f;
  et::optim::SGD<float, gpu> sgd(net.parameters(), {.lr = lr});
  et::optim::Adam<float, gpu> adam(net.parameters(), {.lr = lr});
  auto step = [&] {
    if (which == Opt::sgd) sgd.zero_grad();
    else adam.zero_grad();
    auto loss = classify ? et::nn::cross_entropy(net(x), labels) : et::nn::mse_loss(net(x), y);
    loss.backward();
    if (which == Opt::sgd) sgd.step();
    else adam.step();
  };
  time_step(name, step, mode, batch >= 4096 ? 200 : 500);
}

template <class Net>
void train_case(const std::string& filter, const std::string& name, I batch, Opt which, Mode mode,
                bool classify) {
  if (!filter.empty() && name.find(filter) == std::string::npos) return;
  guarded(name, [&] { train_body<Net>(name, batch, which, mode, classify); });
}

// The output sequence: an LSTM returns {output, h_n, c_n}, an encoder layer the output alone.
template <class Net>
et::Var<float, gpu> sequence_output(Net& net, const et::Tensor<float, gpu>& x) {
  if constexpr (requires { net(x).output; }) return net(x).output;
  else return net(x);
}

// Sequence models (PERFORMANCE.md): MSE of the output against a fixed random target, SGD lr
// 0.01, the same step as the MLP cases. LSTM: input 32, hidden 128, one layer, x [32, 32, 32]
// (seq, batch, in). Transformer encoder layer: d_model 128, 4 heads, feed-forward 512, dropout
// 0.1 in train mode, src [64, 16, 128] (seq, batch, d). A captured step replays the dropout
// masks drawn at capture time (etna draws on the host's generator state), PyTorch's graph draws
// new ones per replay; the kernels launched are the same.
template <class Net>
void seq_body(const std::string& name, Net& net, const et::Shape& in, const et::Shape& out,
              Mode mode) {
  const auto x = et::randn<float, gpu>(in);
  const auto y = et::randn<float, gpu>(out);
  et::optim::SGD<float, gpu> sgd(net.parameters(), {.lr = 0.01});
  auto step = [&] {
    sgd.zero_grad();
    auto loss = et::nn::mse_loss(sequence_output(net, x), y);
    loss.backward();
    sgd.step();
  };
  time_step(name, step, mode, 200);
}

void lstm_case(const std::string& filter, const std::string& name, Mode mode) {
  if (!filter.empty() && name.find(filter) == std::string::npos) return;
  guarded(name, [&] {
    et::manual_seed(1);
    nn::LSTM<float, gpu> net(32, 128);
    seq_body(name, net, et::Shape{32, 32, 32}, et::Shape{32, 32, 128}, mode);
  });
}

void transformer_case(const std::string& filter, const std::string& name, Mode mode) {
  if (!filter.empty() && name.find(filter) == std::string::npos) return;
  guarded(name, [&] {
    et::manual_seed(1);
    nn::TransformerEncoderLayer<float, gpu> net(
        128, 4, nn::TransformerLayerOptions{.dim_feedforward = 512, .dropout = 0.1});
    seq_body(name, net, et::Shape{64, 16, 128}, et::Shape{64, 16, 128}, mode);
  });
}

void infer_body(const std::string& name) {
  et::manual_seed(1);
  Mlp784 net;
  net.eval();
  const auto x = et::randn<float, gpu>({1, 784});
  et::Tensor<float, gpu> logits;
  print_case(name, time_us([&] {
               et::NoGradGuard guard;
               logits = et::Tensor<float, gpu>(net(x).value());
             }, 2000));
}

void infer_case(const std::string& filter) {
  const std::string name = "gpu/infer/mlp784_b1";
  if (!filter.empty() && name.find(filter) == std::string::npos) return;
  guarded(name, [&] { infer_body(name); });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  if (!gpu::is_available()) {
    std::printf("{\"case\": \"gpu/*\", \"note\": \"skipped: no CUDA device\"}\n");
    return 0;
  }
  chain(filter);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b64_sgd_eager", 64, Opt::sgd, Mode::eager, true);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b64_sgd_graph", 64, Opt::sgd, Mode::graph, true);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b256_adam_eager", 256, Opt::adam, Mode::eager, true);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b256_adam_graph", 256, Opt::adam, Mode::graph, true);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b4096_sgd_eager", 4096, Opt::sgd, Mode::eager, true);
  train_case<Mlp784>(filter, "gpu/train/mlp784_b4096_sgd_graph", 4096, Opt::sgd, Mode::graph, true);
  train_case<LeNet>(filter, "gpu/train/lenet_b64_sgd_eager", 64, Opt::sgd, Mode::eager, true);
  train_case<LeNet>(filter, "gpu/train/lenet_b64_sgd_graph", 64, Opt::sgd, Mode::graph, true);
  train_case<TinyMlp>(filter, "gpu/train/tiny_mlp_b32_sgd_eager", 32, Opt::sgd, Mode::eager, false);
  train_case<TinyMlp>(filter, "gpu/train/tiny_mlp_b32_sgd_graph", 32, Opt::sgd, Mode::graph, false);
  train_case<WideMlp>(filter, "gpu/train/wide_mlp_64x4_b65536", 65536, Opt::sgd, Mode::graph, false);
  train_case<WideMlp>(filter, "gpu/train/wide_mlp_64x4_b65536_eager", 65536, Opt::sgd, Mode::eager, false);
  lstm_case(filter, "gpu/train/lstm_h128_seq32_b32_eager", Mode::eager);
  lstm_case(filter, "gpu/train/lstm_h128_seq32_b32_graph", Mode::graph);
  transformer_case(filter, "gpu/train/transformer_enc_d128_seq64_b16_eager", Mode::eager);
  transformer_case(filter, "gpu/train/transformer_enc_d128_seq64_b16_graph", Mode::graph);
  infer_case(filter);
  return 0;
}
