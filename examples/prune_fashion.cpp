// Pruning the demo MLP (784-256-256-10, examples/fashion_mnist.cpp's) on Fashion-MNIST: train
// it, prune its Linear weights in steps to 90% sparsity (global magnitude pruning) with a
// fine-tuning epoch after each step, and report per step the test accuracy, the parameters left
// and the sparsity per layer; then the file sizes (dense, with masks, CSR) and the inference
// latency dense vs sparse (prune::compress), batch 1 and 64. Ends with the accuracy lost at 90%.
//
//   prune_fashion [--epochs 5] [--finetune-epochs 1] [--steps 0.5,0.7,0.8,0.9] [--seed 42]
//                 [--threads 1] [--data DIR] [--out DIR] [--quick]
//
// --quick trains on 10,000 images for 2 epochs and fine-tunes on them (the ctest run).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <etna/data.hpp>
#include <etna/etna.hpp>
#include <etna/prune.hpp>
#include <etna/train.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;
namespace prune = et::prune;

namespace {

struct Options {
  int epochs = 5;
  int finetune_epochs = 1;
  std::vector<double> steps = {0.5, 0.7, 0.8, 0.9};
  std::uint64_t seed = 42;
  int threads = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/prune_fashion";
  bool quick = false;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "prune_fashion: " << problem << "\n\n";
  std::cerr << "usage: prune_fashion [--epochs N] [--finetune-epochs N] [--steps 0.5,0.7,0.8,0.9]\n"
               "                     [--seed N] [--threads N] [--data DIR] [--out DIR] [--quick]\n";
  std::exit(problem.empty() ? 0 : 2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("");
    if (flag == "--quick") {
      o.quick = true;
      o.epochs = 2;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + flag);
    const std::string value = argv[++i];
    try {
      if (flag == "--epochs")
        o.epochs = std::stoi(value);
      else if (flag == "--finetune-epochs")
        o.finetune_epochs = std::stoi(value);
      else if (flag == "--seed")
        o.seed = std::stoull(value);
      else if (flag == "--threads")
        o.threads = std::stoi(value);
      else if (flag == "--data")
        o.data = value;
      else if (flag == "--out")
        o.out = value;
      else if (flag == "--steps") {
        o.steps.clear();
        std::stringstream in(value);
        for (std::string item; std::getline(in, item, ',');) o.steps.push_back(std::stod(item));
      } else
        usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.epochs < 1 || o.finetune_epochs < 0 || o.threads < 1 || o.steps.empty())
    usage("epochs and threads must be positive, fine-tuning epochs non-negative, steps given");
  for (std::size_t i = 0; i < o.steps.size(); ++i)
    if (!(o.steps[i] > 0 && o.steps[i] < 1) || (i > 0 && o.steps[i] <= o.steps[i - 1]))
      usage("--steps: increasing sparsities in (0, 1)");
  return o;
}

// The demo's MLP (examples/fashion_mnist.cpp), on the CPU.
using Mlp = nn::Sequential<nn::Flatten, nn::Linear<784, 256>, nn::ReLU, nn::Linear<256, 256>,
                           nn::ReLU, nn::Linear<256, 10>>;
const std::vector<std::string> kWeights = {"1.weight", "3.weight", "5.weight"};

template <class Loader>
double accuracy(Mlp& net, Loader& test) {
  net.eval();
  et::NoGradGuard no_grad;
  std::int64_t right = 0, total = 0;
  for (auto& [x, y] : test) {
    const auto pred = et::argmax(net(x).value(), 1);
    for (std::int64_t i = 0; i < y.numel(); ++i) right += pred.data()[i] == y.data()[i];
    total += y.numel();
  }
  return static_cast<double>(right) / static_cast<double>(total);
}

// Adam under a one-cycle learning rate, as the demo trains; label smoothing 0.1.
template <class Loader>
void train(Mlp& net, Loader& loader, int epochs, double lr) {
  et::optim::Adam adam(net.parameters(), {.lr = lr});
  et::optim::OneCycleLR schedule(adam, {.max_lr = lr,
                                        .total_steps = static_cast<std::int64_t>(epochs) *
                                                       static_cast<std::int64_t>(loader.size())});
  et::train::fit(net, adam, nn::CrossEntropyLoss{.label_smoothing = 0.1}, loader,
                 {.epochs = epochs,
                  .callbacks = {et::train::LRSchedulerCallback::per_batch(schedule)},
                  .verbose = 2});
}

// The pruned weights in CSR (values F32, column indices I32, row pointers I64: sparse::to_csr's
// arrays as they are) and every other tensor dense: what a sparse deployment stores.
void save_csr(const Mlp& net, const std::string& path) {
  et::io::SafeTensorsWriter w;
  w.set_metadata("format", "etna.csr");
  for (const auto& [name, p] : net.named_parameters()) {
    if (std::find(kWeights.begin(), kWeights.end(), name) == kWeights.end()) {
      w.add(name, p.value());
      continue;
    }
    const auto csr = et::sparse::to_csr(p.value());
    w.add(name + ".values", csr.values);
    w.add(name + ".col_idx", csr.col_idx);
    w.add(name + ".row_ptr", csr.row_ptr);
  }
  w.save(path);
}

// Seconds per forward of `x` without gradients: the best of 5 timed runs of `reps` calls (the
// least disturbed by other processes).
double latency(Mlp& net, const et::Tensor<float>& x, int reps) {
  net.eval();
  et::NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) (void)net(x);
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) (void)net(x);
    runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                   reps);
  }
  return *std::min_element(runs.begin(), runs.end());
}

double max_abs_diff(const et::Tensor<float>& a, const et::Tensor<float>& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, static_cast<double>(std::fabs(a.data()[i] - b.data()[i])));
  return m;
}

int run(const Options& opt) {
  const auto normalize = et::data::Normalize({0.2860f}, {0.3530f});
  et::data::FashionMNIST train_raw(opt.data, et::data::Split::train);
  et::data::FashionMNIST test_raw(opt.data, et::data::Split::test);
  auto train_full = et::data::transformed(train_raw, normalize, opt.seed);
  auto test_set = et::data::transformed(test_raw, normalize, opt.seed);
  std::vector<std::size_t> indices(opt.quick ? 10000 : train_full.size());
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  et::data::Subset train_set(train_full, indices);
  et::data::DataLoader train_loader(
      train_set, {.batch_size = 64, .shuffle = true, .seed = opt.seed, .num_workers = 1});
  et::data::DataLoader test_loader(test_set, {.batch_size = 1000, .num_workers = 1});

  Mlp net;
  std::cout << "training the dense MLP: " << opt.epochs << " epoch(s) on " << train_set.size()
            << " images\n";
  train(net, train_loader, opt.epochs, 2e-3);
  const double dense_acc = accuracy(net, test_loader);
  const std::int64_t total = net.num_parameters();
  std::cout << std::fixed << "dense: test accuracy " << std::setprecision(4) << dense_acc
            << ", parameters " << total << "\n\n";

  Mlp dense = net.clone();  // for the latency and file-size comparison
  double last_acc = dense_acc;
  for (std::size_t s = 0; s < opt.steps.size(); ++s) {
    prune::prune_to_sparsity(net, kWeights, opt.steps[s]);
    const double pruned_acc = accuracy(net, test_loader);
    if (opt.finetune_epochs > 0) train(net, train_loader, opt.finetune_epochs, 5e-4);
    last_acc = accuracy(net, test_loader);
    const auto report = prune::sparsity_report(net);
    std::cout << "step " << s + 1 << ": " << std::setprecision(1) << 100 * opt.steps[s]
              << "% of the Linear weights pruned (global magnitude); test accuracy "
              << std::setprecision(4) << pruned_acc << " after pruning, " << last_acc
              << " after fine-tuning (" << std::showpos << std::setprecision(2)
              << 100 * (last_acc - dense_acc) << std::noshowpos << " points); parameters "
              << report.total_nonzero() << " / " << total << " nonzero\n"
              << report << '\n';
  }

  // Files: the dense model, the pruned one as io::save writes it (effective weights + masks),
  // the pruned one without masks (prune::remove: a plain state_dict) and in CSR.
  std::filesystem::create_directories(opt.out);
  const auto file = [&](const std::string& name) {
    return (std::filesystem::path(opt.out) / name).string();
  };
  et::io::save(dense, file("dense.safetensors"));
  et::io::save(net, file("pruned_with_masks.safetensors"));
  Mlp baked = net.clone();
  for (const auto& name : kWeights) prune::remove(baked, name);
  et::io::save(baked, file("pruned_removed.safetensors"));
  save_csr(baked, file("pruned_csr.safetensors"));
  std::cout << "files:\n";
  for (const char* name : {"dense.safetensors", "pruned_with_masks.safetensors",
                           "pruned_removed.safetensors", "pruned_csr.safetensors"})
    std::cout << "  " << std::left << std::setw(32) << name << std::right << std::setw(10)
              << std::filesystem::file_size(file(name)) << " bytes\n";

  // Latency: the dense model, then the pruned one compressed (CSR where it pays off).
  et::Tensor<float> x64;
  for (auto& [x, y] : test_loader) {
    x64 = x.slice(0, 0, 64).contiguous();
    break;
  }
  const et::Tensor<float> x1 = x64.slice(0, 0, 1).contiguous();
  const int reps1 = opt.quick ? 200 : 2000, reps64 = opt.quick ? 20 : 200;
  const double dense1 = latency(dense, x1, reps1), dense64 = latency(dense, x64, reps64);
  et::Tensor<float> before;
  {
    et::NoGradGuard no_grad;
    before = net(x64).value().clone();
  }
  const auto compressed = prune::compress(net);
  std::cout << "\nprune::compress:\n" << compressed;
  et::Tensor<float> after;
  {
    et::NoGradGuard no_grad;
    after = net(x64).value().clone();
  }
  const double sparse1 = latency(net, x1, reps1), sparse64 = latency(net, x64, reps64);
  std::cout << "sparse vs dense output of the pruned model: max |difference| " << std::scientific
            << std::setprecision(2) << max_abs_diff(after, before) << std::fixed
            << "\nlatency per forward (" << et::get_num_threads() << " thread(s)):\n"
            << std::setprecision(1) << "  batch 1:  dense " << dense1 * 1e6 << " us, sparse "
            << sparse1 * 1e6 << " us (x" << std::setprecision(2) << dense1 / sparse1 << ")\n"
            << std::setprecision(1) << "  batch 64: dense " << dense64 * 1e6 << " us, sparse "
            << sparse64 * 1e6 << " us (x" << std::setprecision(2) << dense64 / sparse64 << ")\n";

  const auto final_report = prune::sparsity_report(net, kWeights);
  std::cout << "\ndense accuracy " << std::setprecision(4) << dense_acc << ", at "
            << std::setprecision(1) << 100 * final_report.global_sparsity() << "% sparsity "
            << std::setprecision(4) << last_acc << " (target: at most 1.5 "
            << "points lost at 90%)\n"
            << "accuracy_lost_points=" << std::setprecision(2) << 100 * (dense_acc - last_acc)
            << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  return run(opt);
} catch (const et::error& e) {
  std::cerr << "prune_fashion: " << e.what() << '\n';
  return 1;
}
