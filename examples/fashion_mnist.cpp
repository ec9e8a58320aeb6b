// The main demo: trains a classifier on Fashion-MNIST (Debian package dataset-fashion-mnist),
// prints progress and a confusion matrix, writes history.csv, TensorBoard logs and curves.svg,
// ends with `test_accuracy=...`.
//
//   fashion_mnist [--model mlp|cnn|lenet] [--epochs 5] [--batch-size 64] [--lr X] [--seed 42]
//                 [--threads 1] [--workers 1] [--data DIR] [--out DIR] [--device cpu|cuda]
//
// The same source is built by nvcc as fashion_mnist_gpu (examples/fashion_mnist_gpu.cu), where
// `--device cuda` trains on the GPU: the network type takes the device as a parameter, the
// loaders' batches are copied ahead by to_device, and the rest of the program is unchanged.
#include <etna/data.hpp>
#include <etna/etna.hpp>
#include <etna/log/plot.hpp>
#include <etna/train.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  std::string model = "mlp";
  int epochs = 5;
  int batch_size = 64;
  double lr = 0;  // 0: the model's default, 2e-3 for the MLP and 5e-3 for the CNNs
  std::uint64_t seed = 42;
  int threads = 1;
  int workers = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/fashion_mnist";
  std::string device = "cpu";
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "fashion_mnist: " << problem << "\n\n";
  std::cerr << "usage: fashion_mnist [--model mlp|cnn|lenet] [--epochs N] [--batch-size N] [--lr X]\n"
               "                     [--seed N] [--threads N] [--workers N] [--data DIR] "
               "[--out DIR]\n"
               "                     [--device cpu|cuda]   (cuda: the fashion_mnist_gpu build)\n";
  std::exit(problem.empty() ? 0 : 2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("");
    if (i + 1 >= argc) usage("missing value after " + flag);
    const std::string value = argv[++i];
    try {
      if (flag == "--model") o.model = value;
      else if (flag == "--epochs") o.epochs = std::stoi(value);
      else if (flag == "--batch-size") o.batch_size = std::stoi(value);
      else if (flag == "--lr") o.lr = std::stod(value);
      else if (flag == "--seed") o.seed = std::stoull(value);
      else if (flag == "--threads") o.threads = std::stoi(value);
      else if (flag == "--workers") o.workers = std::stoi(value);
      else if (flag == "--data") o.data = value;
      else if (flag == "--out") o.out = value;
      else if (flag == "--device") o.device = value;
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.model != "mlp" && o.model != "cnn" && o.model != "lenet")
    usage("--model " + o.model + ": choose mlp, cnn or lenet");
#if defined(ETNA_DEMO_WITH_CUDA)
  if (o.device != "cpu" && o.device != "cuda") usage("--device must be cpu or cuda");
#else
  if (o.device != "cpu")
    usage("--device " + o.device + ": this build is CPU-only; build fashion_mnist_gpu with nvcc "
          "for --device cuda");
#endif
  if (o.lr == 0) o.lr = o.model == "mlp" ? 2e-3 : 5e-3;
  if (o.epochs < 1 || o.batch_size < 1 || o.lr <= 0 || o.threads < 1 || o.workers < 0)
    usage("epochs, batch size, lr and threads must be positive, workers non-negative");
  return o;
}

// The MLP: sizes checked at compile time; the same network as bench/reference/
// fashion_mnist_torch.py, so the epoch-time comparison is like for like.
template <class D>
using Mlp = nn::Sequential<nn::Flatten, nn::Linear<784, 256, float, D>, nn::ReLU,
                           nn::Linear<256, 256, float, D>, nn::ReLU, nn::Linear<256, 10, float, D>>;

// The small CNN (--model cnn): two 3x3 convolutions with batch norm and max pooling, then a
// dense head. Every sample shape is checked at compile time from the Input<1, 28, 28> on.
template <class D>
using Cnn = nn::Sequential<
    nn::Input<1, 28, 28>,
    nn::Conv2d<1, 16, 3, nn::Conv2dOptions{.padding = 1, .bias = false}, float, D>,
    nn::BatchNorm2d<16, float, D>, nn::ReLU, nn::MaxPool2d<2>,  // 16x14x14
    nn::Conv2d<16, 32, 3, nn::Conv2dOptions{.padding = 1, .bias = false}, float, D>,
    nn::BatchNorm2d<32, float, D>, nn::ReLU, nn::MaxPool2d<2>,  // 32x7x7
    nn::Flatten, nn::Linear<32 * 7 * 7, 128, float, D>, nn::ReLU, nn::Dropout,
    nn::Linear<128, 10, float, D>>;

// Adds the epoch's wall time to the logs (and so to history.csv).
struct EpochTimer {
  std::chrono::steady_clock::time_point start;
  void on_epoch_begin(int) { start = std::chrono::steady_clock::now(); }
  void on_epoch_end(int, et::train::Logs& logs) {
    logs["epoch_time_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

// The loader itself on the CPU; on the GPU a view of it whose batches are copied ahead.
template <class D, class Loader>
decltype(auto) on_device(Loader& loader) {
#if defined(ETNA_DEMO_WITH_CUDA)
  if constexpr (std::is_same_v<D, et::cuda>) return et::data::to_device<et::cuda>(loader);
  else return (loader);
#else
  return (loader);
#endif
}

template <class D, class Net>
int run(const Options& opt) {
  // Pixels in [0, 1], normalised with the training set's mean and standard deviation.
  const auto normalize = et::data::Normalize({0.2860f}, {0.3530f});
  et::data::FashionMNIST train_raw(opt.data, et::data::Split::train);
  et::data::FashionMNIST test_raw(opt.data, et::data::Split::test);
  auto train_set = et::data::transformed(train_raw, normalize, opt.seed);
  auto test_set = et::data::transformed(test_raw, normalize, opt.seed);
  et::data::DataLoader train_loader(train_set, {.batch_size = opt.batch_size, .shuffle = true,
                                                .seed = opt.seed, .num_workers = opt.workers});
  et::data::DataLoader test_loader(test_set, {.batch_size = 1000, .num_workers = opt.workers});

  Net net;
  std::cout << net.summary(et::Shape{opt.batch_size, 1, 28, 28}) << '\n';

  et::optim::Adam adam(net.parameters(), {.lr = opt.lr});
  et::optim::OneCycleLR schedule(
      adam, {.max_lr = opt.lr,
             .total_steps = static_cast<std::int64_t>(opt.epochs) *
                            static_cast<std::int64_t>(train_loader.size())});
  const auto history_path = (std::filesystem::path(opt.out) / "history.csv").string();
  // TensorBoard logs (train/ and validation/ runs) and the SVG curves, both fed by the same
  // per-epoch logs as history.csv. A new run replaces the previous run's logs, as it does the CSV.
  const auto tensorboard_dir = (std::filesystem::path(opt.out) / "tensorboard").string();
  const auto curves_path = (std::filesystem::path(opt.out) / "curves.svg").string();
  std::filesystem::remove_all(tensorboard_dir);
  // Label smoothing 0.1: about +0.3 points of test accuracy after 5 epochs over seeds 1-42.
  auto&& train_batches = on_device<D>(train_loader);
  auto&& test_batches = on_device<D>(test_loader);
  const auto history =
      et::train::fit(net, adam, nn::CrossEntropyLoss{.label_smoothing = 0.1}, train_batches,
                     {.epochs = opt.epochs,
                      .val = &test_batches,
                      .callbacks = {EpochTimer{},
                                    et::train::LRSchedulerCallback::per_batch(schedule),
                                    et::train::CSVLogger{.path = history_path},
                                    et::train::TensorBoard{.log_dir = tensorboard_dir,
                                                           .histogram_freq = 1}}});
  et::logging::plot_history(history, curves_path);

  // Final evaluation: confusion matrix over the test set, then the accuracy as the last line.
  const auto classes = et::data::FashionMNIST::classes();
  et::train::ConfusionMatrix confusion(10, {classes.begin(), classes.end()});
  net.eval();
  {
    et::NoGradGuard no_grad;
    for (auto& [x, y] : test_batches) confusion.update(net(x).value(), y);
  }
  std::cout << "\nconfusion matrix (rows: true class, columns: predicted)\n" << confusion << '\n'
            << "history: " << history_path << '\n'
            << "curves: " << curves_path << '\n'
            << "tensorboard: " << tensorboard_dir << "  (tensorboard --logdir " << tensorboard_dir
            << ")\n"
            << "test_accuracy=" << std::fixed << std::setprecision(4) << confusion.accuracy()
            << '\n';
  return 0;
}

template <class D>
int run_on(const Options& opt) {
  if (opt.model == "cnn") return run<D, Cnn<D>>(opt);
  if (opt.model == "lenet") return run<D, nn::models::LeNet5<float, D>>(opt);
  return run<D, Mlp<D>>(opt);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  std::filesystem::create_directories(opt.out);
#if defined(ETNA_DEMO_WITH_CUDA)
  if (opt.device == "cuda") return run_on<et::cuda>(opt);
#endif
  return run_on<et::cpu>(opt);
} catch (const et::error& e) {
  std::cerr << "fashion_mnist: " << e.what() << '\n';
  return 1;
}
