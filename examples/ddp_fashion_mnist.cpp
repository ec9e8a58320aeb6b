// The demo's MLP (examples/fashion_mnist.cpp) trained data-parallel: one process per rank under
// mpirun, each on its DistributedSampler shard of Fashion-MNIST, gradients averaged by
// DistributedDataParallel, so every rank holds the same model after every step. Only rank 0
// prints progress, writes history.csv and saves the checkpoint; the last line is
// `test_accuracy=...` (rank 0, on the whole test set).
//
//   mpirun -np 2 ddp_fashion_mnist [--epochs 3] [--batch-size 64] [--lr X] [--seed 42]
//                                  [--threads 1] [--workers 1] [--train-samples N]
//                                  [--data DIR] [--out DIR] [--device cpu|cuda]
//
// --batch-size is per rank (as in PyTorch): the job's batch is world_size times larger.
// Without mpirun it runs as a world of one. See docs/distributed.md for several machines.
// The same source built by nvcc is ddp_fashion_mnist_gpu (examples/ddp_fashion_mnist_gpu.cu):
// with --device cuda each rank trains on the GPU of its local rank and DDP reduces the
// gradients with NCCL; MPI stays the default group (logs, sampler-free host collectives).
#include <etna/data.hpp>
#include <etna/dist.hpp>
#include <etna/etna.hpp>
#include <etna/io.hpp>
#include <etna/train.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;
namespace dist = et::dist;

namespace {

struct Options {
  int epochs = 3;
  int batch_size = 64;
  double lr = 2e-3;
  std::uint64_t seed = 42;
  int threads = 1;
  int workers = 1;
  std::int64_t train_samples = 0;  // 0: the whole training set (a prefix, for quick runs)
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/ddp_fashion_mnist";
  std::string device = "cpu";
};

[[noreturn]] void usage(const std::string& problem) {
  if (dist::is_main_process()) {
    if (!problem.empty()) std::cerr << "ddp_fashion_mnist: " << problem << "\n\n";
    std::cerr << "usage: mpirun -np N ddp_fashion_mnist [--epochs N] [--batch-size N (per rank)]\n"
                 "         [--lr X] [--seed N] [--threads N] [--workers N] [--train-samples N]\n"
                 "         [--data DIR] [--out DIR] [--device cpu|cuda (the _gpu build)]\n";
  }
  dist::finalize();
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
      if (flag == "--epochs") o.epochs = std::stoi(value);
      else if (flag == "--batch-size") o.batch_size = std::stoi(value);
      else if (flag == "--lr") o.lr = std::stod(value);
      else if (flag == "--seed") o.seed = std::stoull(value);
      else if (flag == "--threads") o.threads = std::stoi(value);
      else if (flag == "--workers") o.workers = std::stoi(value);
      else if (flag == "--train-samples") o.train_samples = std::stoll(value);
      else if (flag == "--data") o.data = value;
      else if (flag == "--out") o.out = value;
      else if (flag == "--device") o.device = value;
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.epochs < 1 || o.batch_size < 1 || o.lr <= 0 || o.threads < 1 || o.workers < 0 ||
      o.train_samples < 0)
    usage("epochs, batch size, lr and threads must be positive, workers and samples "
          "non-negative");
#if defined(ETNA_DEMO_WITH_CUDA)
  if (o.device != "cpu" && o.device != "cuda") usage("--device must be cpu or cuda");
#else
  if (o.device != "cpu")
    usage("--device " + o.device + ": this build is CPU-only; build ddp_fashion_mnist_gpu with "
          "nvcc for --device cuda");
#endif
  return o;
}

// The demo's MLP, as in examples/fashion_mnist.cpp.
template <class D>
using Mlp = nn::Sequential<nn::Flatten, nn::Linear<784, 256, float, D>, nn::ReLU,
                           nn::Linear<256, 256, float, D>, nn::ReLU, nn::Linear<256, 10, float, D>>;

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

// The epoch's wall time (the same on every rank: the ranks meet in every backward).
struct EpochTimer {
  std::chrono::steady_clock::time_point start;
  void on_epoch_begin(int) { start = std::chrono::steady_clock::now(); }
  void on_epoch_end(int, et::train::Logs& logs) {
    logs["epoch_time_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

// Rank 0's line per epoch with the job-wide values (after dist::SyncLogs averaged them).
struct JobLine {
  int epochs;
  void on_epoch_end(int epoch, et::train::Logs& logs) {
    std::cout << "epoch " << epoch + 1 << '/' << epochs << " (all ranks):";
    for (const auto& [key, value] : logs) std::cout << ' ' << key << '=' << value;
    std::cout << std::endl;
  }
};

std::vector<std::size_t> first(std::size_t n) {
  std::vector<std::size_t> indices(n);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  return indices;
}

// `group`: the group DDP reduces over (NCCL for cuda); null = the default (MPI) group.
template <class D>
int train(const Options& opt, std::shared_ptr<dist::ProcessGroup> group) {
  const int rank = dist::rank(), world = dist::world_size();
  // Each rank draws its own initial weights: DistributedDataParallel replaces them by rank 0's.
  et::manual_seed(opt.seed + static_cast<std::uint64_t>(rank));

  const auto normalize = et::data::Normalize({0.2860f}, {0.3530f});
  et::data::FashionMNIST train_raw(opt.data, et::data::Split::train);
  et::data::FashionMNIST test_raw(opt.data, et::data::Split::test);
  auto train_all = et::data::transformed(train_raw, normalize, opt.seed);
  auto test_set = et::data::transformed(test_raw, normalize, opt.seed);
  const std::size_t n_train =
      opt.train_samples > 0
          ? std::min(train_all.size(), static_cast<std::size_t>(opt.train_samples))
          : train_all.size();
  et::data::Subset train_set(train_all, first(n_train));

  // Each rank its shard: the sampler reshuffles per epoch (the loader calls its set_epoch(e)
  // before epoch e), with the same seed on every rank so the shards stay disjoint.
  et::data::DistributedSampler train_shard(train_set.size(), rank, world,
                                           {.shuffle = true, .seed = opt.seed});
  et::data::DataLoader train_loader(train_set, train_shard,
                                    {.batch_size = opt.batch_size, .seed = opt.seed,
                                     .num_workers = opt.workers});
  // Validation sharded too; SyncLogs averages the ranks' values (equal shards: the exact mean).
  et::data::DistributedSampler test_shard(test_set.size(), rank, world, {.shuffle = false});
  et::data::DataLoader val_loader(test_set, test_shard,
                                  {.batch_size = 1000, .num_workers = opt.workers});

  dist::run_on_main([&] { std::filesystem::create_directories(opt.out); });
  Mlp<D> net;
  dist::DistributedDataParallel ddp(net, {.group = group});
  if (dist::is_main_process())
    std::cout << net.summary(et::Shape{opt.batch_size, 1, 28, 28}) << '\n'
              << world << " ranks x " << opt.threads << " threads on " << D::name << " ("
              << ddp.process_group().backend() << "), " << train_loader.size()
              << " steps of " << opt.batch_size << " samples per rank and epoch\n";

  et::optim::Adam adam(ddp.parameters(), {.lr = opt.lr});
  et::optim::OneCycleLR schedule(
      adam, {.max_lr = opt.lr,
             .total_steps = static_cast<std::int64_t>(opt.epochs) *
                            static_cast<std::int64_t>(train_loader.size())});
  const auto history_path = (std::filesystem::path(opt.out) / "history.csv").string();
  // Every rank takes the same steps (same schedule, nothing that stops early on one rank);
  // the writers (progress, epoch line, CSV) are rank 0's alone.
  auto&& train_batches = on_device<D>(train_loader);
  auto&& val_batches = on_device<D>(val_loader);
  et::train::fit(ddp, adam, nn::CrossEntropyLoss{.label_smoothing = 0.1}, train_batches,
                 dist::fit_options_for_rank(
                     {.epochs = opt.epochs,
                      .val = &val_batches,
                      .callbacks = {EpochTimer{}, dist::SyncLogs{},
                                    et::train::LRSchedulerCallback::per_batch(schedule),
                                    dist::main_process_only(JobLine{opt.epochs}),
                                    dist::main_process_only(
                                        et::train::CSVLogger{.path = history_path})}}));

  const auto steps = static_cast<std::int64_t>(opt.epochs) *
                     static_cast<std::int64_t>(train_loader.size());
  const std::int64_t model_bytes = net.num_parameters() * std::int64_t(sizeof(float));
  dist::run_on_main([&] {
    const auto checkpoint = (std::filesystem::path(opt.out) / "mlp.safetensors").string();
    et::io::save(net, checkpoint);  // loads into a plain Mlp, on any world size
    et::data::DataLoader test_loader(test_set, {.batch_size = 1000});
    const auto test =
        et::train::evaluate(net, nn::CrossEntropyLoss{}, on_device<D>(test_loader));
    std::cout << "history: " << history_path << "\ncheckpoint: " << checkpoint << '\n'
              << "model_bytes=" << model_bytes << " bytes_per_step="
              << (steps > 0 ? ddp.bytes_communicated() / steps : 0) << '\n'
              << "test_accuracy=" << std::fixed << std::setprecision(4) << test.at("accuracy")
              << std::endl;
  });
  return 0;
}

int run(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  et::set_num_threads(opt.threads);
#if defined(ETNA_DEMO_WITH_CUDA)
  // One process per GPU: the local rank's device, selected before the first cuda tensor.
  if (opt.device == "cuda")
    return train<et::cuda>(opt, dist::NcclProcessGroup::create(*dist::default_group(),
                                                               dist::local_device()));
#endif
  return train<et::cpu>(opt, nullptr);
}

}  // namespace

// dist::launch: init from mpirun's environment, finalize at the end; an exception on any rank
// prints "rank R: <what>" and aborts the whole job instead of leaving the others waiting.
int main(int argc, char** argv) { return dist::launch(argc, argv, run); }
