// Transfer learning on Fashion-MNIST: pretrain a small CNN on classes 0-4 (T-shirt to Coat),
// save it, load its convolutional backbone into a new network with a fresh 5-class head, freeze
// the backbone and train the head on only 500 images of classes 5-9 (Sandal to Ankle boot), then
// fine-tune everything with a small learning rate for the backbone and a larger one for the head
// (Keras's and ULMFiT's recipe); compare with the same network trained from scratch on those 500
// images for as many epochs. Then load a model trained in PyTorch
// (tests/reference/make_transfer_model.py) and check that etna reproduces its outputs.
// The last line is `transfer_accuracy=... scratch_accuracy=...`; the exit status is 1 when
// transfer does not win or the PyTorch model's outputs differ by more than 1e-4.
//
//   transfer_learning [--pretrain-epochs 6] [--head-epochs 20] [--finetune-epochs 5]
//                     [--samples 500] [--seed 42] [--threads 1] [--data DIR] [--out DIR]
//                     [--pytorch-model DIR]
#include <etna/data.hpp>
#include <etna/etna.hpp>
#include <etna/io.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  int pretrain_epochs = 6;
  int head_epochs = 20;     // frozen backbone, new head only
  int finetune_epochs = 5;  // then everything, backbone lr 1e-4 and head lr 1e-3
  int samples = 500;
  std::uint64_t seed = 42;
  int threads = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/transfer_learning";
#if defined(ETNA_TRANSFER_FIXTURES)
  std::string pytorch_model = ETNA_TRANSFER_FIXTURES;  // the source tree's tests/reference/fixtures
#else
  std::string pytorch_model = "tests/reference/fixtures";
#endif
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "transfer_learning: " << problem << "\n\n";
  std::cerr << "usage: transfer_learning [--pretrain-epochs N] [--head-epochs N] "
               "[--finetune-epochs N]\n"
               "                         [--samples N] [--seed N] [--threads N] [--data DIR] "
               "[--out DIR]\n"
               "                         [--pytorch-model DIR]\n";
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
      if (flag == "--pretrain-epochs") o.pretrain_epochs = std::stoi(value);
      else if (flag == "--head-epochs") o.head_epochs = std::stoi(value);
      else if (flag == "--finetune-epochs") o.finetune_epochs = std::stoi(value);
      else if (flag == "--samples") o.samples = std::stoi(value);
      else if (flag == "--seed") o.seed = std::stoull(value);
      else if (flag == "--threads") o.threads = std::stoi(value);
      else if (flag == "--data") o.data = value;
      else if (flag == "--out") o.out = value;
      else if (flag == "--pytorch-model") o.pytorch_model = value;
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.pretrain_epochs < 1 || o.head_epochs < 1 || o.finetune_epochs < 0 || o.samples < 5 ||
      o.threads < 1)
    usage("epochs (but --finetune-epochs, which may be 0) and threads must be positive, "
          "samples at least 5");
  return o;
}

// ---- the networks ------------------------------------------------------------------------
// The pretraining CNN, one flat chain as the demo's (examples/fashion_mnist.cpp): layers 0-9
// are the convolutional backbone, 10-12 the classifier of classes 0-4.
using PretrainCnn = nn::Sequential<
    nn::Input<1, 28, 28>, nn::Conv2d<1, 16, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>,
    nn::BatchNorm2d<16>, nn::ReLU, nn::MaxPool2d<2>,  // 16x14x14
    nn::Conv2d<16, 32, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>, nn::BatchNorm2d<32>,
    nn::ReLU, nn::MaxPool2d<2>, nn::Flatten,  // 32*7*7
    nn::Linear<32 * 7 * 7, 64>, nn::ReLU, nn::Linear<64, 5>>;

// The new network, as torchvision's models: a backbone `features` (the same layers 0-9) and a
// fresh head `classifier`; its parameters are "features.1.weight"... "classifier.2.bias".
using Features = nn::Sequential<
    nn::Input<1, 28, 28>, nn::Conv2d<1, 16, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>,
    nn::BatchNorm2d<16>, nn::ReLU, nn::MaxPool2d<2>,
    nn::Conv2d<16, 32, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>, nn::BatchNorm2d<32>,
    nn::ReLU, nn::MaxPool2d<2>, nn::Flatten>;
struct TransferNet : nn::Module<TransferNet> {
  Features features;
  nn::Sequential<nn::Linear<32 * 7 * 7, 64>, nn::ReLU, nn::Linear<64, 5>> classifier;
  ETNA_MODULE(features, classifier)
  template <class X>
  auto forward(const X& x) {
    return classifier(features(x));
  }
};

// Layer for layer the torch.nn.Sequential of tests/reference/make_transfer_model.py.
using TorchCnn = nn::Sequential<
    nn::Conv2d<1, 4, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<4>, nn::ReLU,
    nn::MaxPool2d<2>, nn::Conv2d<4, 8, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<8>,
    nn::ReLU, nn::MaxPool2d<2>, nn::Flatten, nn::Linear<8 * 7 * 7, 10>>;

// ---- data ---------------------------------------------------------------------------------
using Set = et::data::TensorDataset<float, std::int64_t>;

// The images of classes [first, first + 5), normalised, with labels shifted to 0-4.
Set five_classes(const et::data::FashionMNIST& raw, std::int64_t first) {
  const auto labels = raw.labels_as_tensor();
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    if (labels.data()[i] >= first && labels.data()[i] < first + 5) rows.push_back(i);
  const auto index = et::tensor<std::int64_t>(rows, {static_cast<std::int64_t>(rows.size())});
  et::Tensor<float> x = (et::index_select(raw.images_as_tensor(), 0, index) - 0.2860f) / 0.3530f;
  et::Tensor<std::int64_t> y = et::index_select(labels, 0, index) - first;
  return Set(x, y);
}

template <class Net>
double accuracy(Net& net, const Set& test) {
  net.eval();
  et::NoGradGuard no_grad;
  const std::int64_t n = test.data().size(0);
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b < n; b += 1000) {
    const std::int64_t e = std::min(n, b + 1000);
    const et::Tensor<std::int64_t> predicted = et::argmax(net(test.data().slice(0, b, e)).value(), 1);
    for (std::int64_t i = 0; i < e - b; ++i)
      correct += predicted.data()[i] == test.targets().data()[b + i];
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

// Cross-entropy training over the loader; returns the last epoch's mean loss.
template <class Net, class Loader, class Opt>
double train(Net& net, Loader& loader, Opt& opt, int epochs) {
  double mean = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    net.train();
    double total = 0;
    std::int64_t batches = 0;
    for (auto& [x, y] : loader) {
      auto loss = nn::cross_entropy(net(x), y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item();
      ++batches;
    }
    mean = total / static_cast<double>(batches);
  }
  return mean;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_keys(const char* what, const std::vector<std::string>& keys) {
  std::cout << "  " << what << " (" << keys.size() << "):";
  for (const auto& k : keys) std::cout << ' ' << k;
  std::cout << '\n';
}

// Loads the PyTorch-trained CNN and returns the largest absolute difference between its outputs
// and PyTorch's on the saved batch (a missing or damaged file is an io_error).
float check_pytorch_model(const std::string& dir) {
  const auto model = std::filesystem::path(dir) / "transfer_model.safetensors";
  const auto io = std::filesystem::path(dir) / "transfer_model_io.safetensors";
  TorchCnn net;
  et::io::load(net, model.string());  // strict: every key of both sides must match
  net.eval();
  const et::io::SafeTensorsFile batch(io.string());
  const auto x = batch.tensor<float>("input");
  const auto expected = batch.tensor<float>("output");
  et::NoGradGuard no_grad;
  const et::Tensor<float> y = net(x).value();
  const et::Tensor<float> diff = et::abs(y - expected);
  return et::max(diff).item();
}

int run(const Options& opt) {
  const auto start = std::chrono::steady_clock::now();
  const et::data::FashionMNIST train_raw(opt.data, et::data::Split::train);
  const et::data::FashionMNIST test_raw(opt.data, et::data::Split::test);
  const Set source = five_classes(train_raw, 0), target_all = five_classes(train_raw, 5),
            target_test = five_classes(test_raw, 5);
  const auto few = static_cast<std::size_t>(opt.samples);
  auto pieces = et::data::random_split(
      target_all, std::vector<std::size_t>{few, target_all.size() - few}, opt.seed);
  const auto& target = pieces[0];

  // 1. Pretrain on classes 0-4 and save.
  et::data::DataLoader source_loader(source, {.batch_size = 64, .shuffle = true, .seed = opt.seed});
  PretrainCnn pretrained;
  et::optim::Adam adam(pretrained.parameters(), {.lr = 2e-3});
  const double source_loss = train(pretrained, source_loader, adam, opt.pretrain_epochs);
  const Set source_test = five_classes(test_raw, 0);
  std::cout << "pretrained on classes 0-4 (" << source.size() << " images, "
            << opt.pretrain_epochs << " epoch(s)): loss " << std::setprecision(4) << source_loss
            << ", test accuracy " << accuracy(pretrained, source_test) << "  ["
            << std::setprecision(3) << seconds_since(start) << " s]\n";
  std::filesystem::create_directories(opt.out);
  const auto saved = (std::filesystem::path(opt.out) / "pretrained.safetensors").string();
  et::io::save(pretrained, saved, {{"classes", "0-4"}});
  std::cout << "saved " << saved << '\n';

  // 2. A new network: the file's layers 0-9 go under "features." (prefix_map), the new
  //    classifier keeps its fresh initialisation, the old head's keys are left over.
  et::manual_seed(opt.seed + 1);
  TransferNet net;
  const auto loaded =
      et::io::load(net, saved, {.strict = false, .prefix_map = {{"", "features."}}});
  std::cout << "loaded the backbone into TransferNet:\n";
  print_keys("missing keys (the new head)", loaded.missing_keys);
  print_keys("unexpected keys (the old head)", loaded.unexpected_keys);
  for (const auto& key : loaded.missing_keys)  // non-strict loading must not hide a lost backbone
    if (!key.starts_with("classifier."))
      throw et::value_error("transfer_learning: the backbone's " + key + " was not loaded");

  // 3. Freeze the backbone's weights and train the new head on the few target images. Its
  //    batch norm stays in training mode, so its statistics adapt to the new classes (shoes and
  //    bags look nothing like tops): a few tenths of a point over keeping them frozen.
  net.freeze("features.*");
  et::data::DataLoader target_loader(target, {.batch_size = 32, .shuffle = true, .seed = opt.seed});
  et::optim::Adam head_opt(nn::trainable_parameters(net), {.lr = 2e-3});
  const double head_loss =
      train(net, target_loader, head_opt, opt.head_epochs);
  const double frozen_accuracy = accuracy(net, target_test);
  std::cout << "transfer, step 1: frozen backbone, head trained on " << target.size()
            << " images of classes 5-9 (" << opt.head_epochs << " epochs, "
            << net.num_parameters(true) << " of " << net.num_parameters()
            << " parameters trainable): loss " << std::setprecision(4) << head_loss
            << ", test accuracy " << frozen_accuracy << "  [" << std::setprecision(3)
            << seconds_since(start) << " s]\n";

  // 4. Unfreeze and fine-tune everything with two parameter groups: a small learning rate for
  //    the backbone, a larger one for the head.
  net.unfreeze();
  et::optim::Adam groups(nn::parameters_matching(net, "features.*"), {.lr = 1e-4});
  groups.add_param_group(nn::parameters_matching(net, "classifier.*"), {.lr = 1e-3});
  const double all_loss = train(net, target_loader, groups, opt.finetune_epochs);
  const double transfer_accuracy = accuracy(net, target_test);
  std::cout << "transfer, step 2: everything fine-tuned (" << opt.finetune_epochs
            << " epochs, backbone lr 1e-4, head lr 1e-3): loss " << std::setprecision(4)
            << all_loss << ", test accuracy " << transfer_accuracy << "  ["
            << std::setprecision(3) << seconds_since(start) << " s]\n";

  // 5. The same network from scratch on the same images, for as many epochs.
  et::manual_seed(opt.seed + 2);
  TransferNet scratch;
  et::optim::Adam scratch_opt(scratch.parameters(), {.lr = 2e-3});
  const int scratch_epochs = opt.head_epochs + opt.finetune_epochs;
  const double scratch_loss = train(scratch, target_loader, scratch_opt, scratch_epochs);
  const double scratch_accuracy = accuracy(scratch, target_test);
  std::cout << "scratch: the same network trained on the same " << target.size() << " images ("
            << scratch_epochs << " epochs): loss " << std::setprecision(4) << scratch_loss
            << ", test accuracy " << scratch_accuracy << "  [" << std::setprecision(3)
            << seconds_since(start) << " s]\n";

  // 6. A model trained in PyTorch gives PyTorch's outputs here.
  const float diff = check_pytorch_model(opt.pytorch_model);
  std::cout << "PyTorch-trained CNN (" << opt.pytorch_model << "/transfer_model.safetensors): "
            << "max |etna - torch| = " << std::scientific << std::setprecision(3) << diff
            << std::defaultfloat << '\n';
  if (!(diff <= 1e-4f)) {
    std::cerr << "transfer_learning: the PyTorch model's outputs differ by " << diff
              << " (more than 1e-4)\n";
    return 1;
  }
  std::cout << "total time " << std::setprecision(3) << seconds_since(start) << " s\n"
            << std::fixed << std::setprecision(4) << "transfer_accuracy=" << transfer_accuracy
            << " scratch_accuracy=" << scratch_accuracy << '\n';
  return transfer_accuracy > scratch_accuracy ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  return run(opt);
} catch (const et::error& e) {
  std::cerr << "transfer_learning: " << e.what() << '\n';
  return 1;
}
