// A DCGAN on Fashion-MNIST (Radford et al., 2015, scaled to 28x28): a generator of transposed
// convolutions against a convolutional discriminator, Adam(2e-4, betas 0.5/0.999), one-sided
// label smoothing. Each epoch writes an 8x8 grid of the generator's images of one fixed noise
// batch (PNG, and TensorBoard with --logdir). With --ema-decay > 0 the images come from an
// exponential moving average of the generator's weights (Yazici et al., 2019) instead (off by
// default: it did not raise the measured figure, see docs/gan.md). Then a classifier trained
// on the real images labels generated ones; the share it labels with confidence >= 0.9 is
// printed last.
//
//   dcgan_fashion [--epochs 5] [--train-images 0 (all)] [--width 64] [--batch-size 64]
//                 [--lr 2e-4] [--real-label 0.9] [--ema-decay 0] [--samples 1000]
//                 [--classifier-epochs 25]
//                 [--seed 1] [--threads 1] [--data DIR] [--out DIR] [--logdir DIR]
//                 [--generator FILE] [--judge FILE] [--sample-mode eval|train]
// The sampled generator (the averaged one with --ema-decay > 0) and the judge are saved to
// <out>/generator.safetensors and judge.safetensors;
// --generator / --judge load them instead of training (to study the quality check alone).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <etna/etna.hpp>
#include <etna/log.hpp>
#include <etna/utils.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  int epochs = 5;
  std::int64_t train_images = 0;  // 0: the whole training set
  std::int64_t width = 64;        // channels: discriminator w, 2w; generator 2w, w (DCGAN widths)
  std::int64_t batch_size = 64;
  double lr = 2e-4;
  double real_label = 0.9;  // one-sided label smoothing: the discriminator's target for real
  double ema_decay = 0;  // generator weight averaging (e.g. 0.999); 0: sample the raw generator
  std::int64_t samples = 1000;
  int classifier_epochs = 25;
  std::uint64_t seed = 1;
  int threads = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/dcgan_fashion";
  std::string logdir;
  std::string generator;           // a saved generator: skip the GAN training
  std::string judge;               // a saved classifier: skip its training
  bool sample_train_mode = false;  // sample with batch statistics instead of running ones
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "dcgan_fashion: " << problem << "\n\n";
  std::cerr
      << "usage: dcgan_fashion [--epochs N] [--train-images N] [--width N] [--batch-size N]\n"
         "                     [--lr X] [--real-label X] [--ema-decay X] [--samples N]\n"
         "                     [--classifier-epochs N]\n"
         "                     [--seed N] [--threads N] [--data DIR] [--out DIR] "
         "[--logdir DIR]\n"
         "                     [--generator FILE] [--judge FILE] [--sample-mode eval|train]\n";
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
      if (flag == "--epochs")
        o.epochs = std::stoi(value);
      else if (flag == "--train-images")
        o.train_images = std::stoll(value);
      else if (flag == "--width")
        o.width = std::stoll(value);
      else if (flag == "--batch-size")
        o.batch_size = std::stoll(value);
      else if (flag == "--lr")
        o.lr = std::stod(value);
      else if (flag == "--real-label")
        o.real_label = std::stod(value);
      else if (flag == "--ema-decay")
        o.ema_decay = std::stod(value);
      else if (flag == "--samples")
        o.samples = std::stoll(value);
      else if (flag == "--classifier-epochs")
        o.classifier_epochs = std::stoi(value);
      else if (flag == "--seed")
        o.seed = std::stoull(value);
      else if (flag == "--threads")
        o.threads = std::stoi(value);
      else if (flag == "--data")
        o.data = value;
      else if (flag == "--out")
        o.out = value;
      else if (flag == "--logdir")
        o.logdir = value;
      else if (flag == "--generator")
        o.generator = value;
      else if (flag == "--judge")
        o.judge = value;
      else if (flag == "--sample-mode")
        o.sample_train_mode = value == "train";
      else
        usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.epochs < 1 || o.width < 1 || o.batch_size < 2 || o.lr <= 0 || o.samples < 1 ||
      o.classifier_epochs < 1 || o.threads < 1 || o.train_images < 0)
    usage("epochs, width, samples, classifier epochs, threads must be positive, batch size >= 2");
  if (o.real_label <= 0 || o.real_label > 1) usage("--real-label must lie in (0, 1]");
  if (o.ema_decay < 0 || o.ema_decay >= 1) usage("--ema-decay must lie in [0, 1)");
  return o;
}

constexpr std::int64_t kNoise = 64;
using Size2 = nn::Size2;
constexpr nn::ConvTranspose2dOptions kUp{.stride = 2, .padding = 1, .bias = false};
constexpr nn::Conv2dOptions kDown{.stride = 2, .padding = 1};

// z [N, 64] -> Linear -> [N, 2w*7*7] -> BN, ReLU -> [N, 2w, 7, 7] -> ConvT 4/2 -> [N, w, 14, 14]
// -> BN, ReLU -> ConvT 4/2 -> [N, 1, 28, 28] -> tanh (images scaled to [-1, 1]).
template <class D>
struct Generator : nn::Module<Generator<D>> {
  std::int64_t w;
  nn::Linear<0, 0, float, D> fc;
  nn::BatchNorm1d<0, float, D> bn0;
  nn::Unflatten unflatten;
  nn::ConvTranspose2d<0, 0, Size2{}, nn::ConvTranspose2dOptions{}, float, D> up1;
  nn::BatchNorm2d<0, float, D> bn1;
  nn::ConvTranspose2d<0, 0, Size2{}, nn::ConvTranspose2dOptions{}, float, D> up2;
  explicit Generator(std::int64_t width)
      : w(width),
        fc(kNoise, 2 * w * 49, false),
        bn0(2 * w * 49),
        unflatten(1, {2 * w, 7, 7}),
        up1(2 * w, w, 4, kUp),
        bn1(w),
        up2(w, 1, 4, {.stride = 2, .padding = 1}) {}
  ETNA_MODULE(fc, bn0, unflatten, up1, bn1, up2)
  template <class X>
  et::Var<float, D> forward(const X& z) {
    auto h = unflatten(et::relu(bn0(fc(z))));
    return et::tanh(up2(et::relu(bn1(up1(h)))));
  }
};

// x [N, 1, 28, 28] -> Conv 4/2 -> [N, w, 14, 14] -> LeakyReLU(0.2) -> Conv 4/2 -> [N, 2w, 7, 7]
// -> BN, LeakyReLU(0.2) -> Linear -> [N, 1] logits (no sigmoid: BCE-with-logits).
template <class D>
struct Discriminator : nn::Module<Discriminator<D>> {
  nn::Conv2d<0, 0, Size2{}, nn::Conv2dOptions{}, float, D> conv1, conv2;
  nn::BatchNorm2d<0, float, D> bn2;
  nn::LeakyReLU act{0.2};
  nn::Linear<0, 0, float, D> fc;
  explicit Discriminator(std::int64_t w)
      : conv1(1, w, 4, kDown),
        conv2(w, 2 * w, 4, {.stride = 2, .padding = 1, .bias = false}),
        bn2(2 * w),
        fc(2 * w * 49, 1) {}
  ETNA_MODULE(conv1, conv2, bn2, act, fc)
  template <class X>
  et::Var<float, D> forward(const X& x) {
    return fc(et::flatten(act(bn2(conv2(act(conv1(x))))), 1));
  }
};

// DCGAN's initialisation: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
template <class Net>
void dcgan_init(Net& net) {
  for (auto& [name, p] : net.named_parameters()) {
    const bool norm_scale = name.starts_with("bn") && name.ends_with(".weight");
    if (name.ends_with(".bias"))
      p.value().fill(0.f);
    else
      nn::init::normal_(p, norm_scale ? 1.0 : 0.0, 0.02);
  }
}

// The judge: the demo's small CNN (examples/fashion_mnist.cpp --model cnn), about 90% on the
// test set after 2 epochs.
using Classifier =
    nn::Sequential<nn::Input<1, 28, 28>,
                   nn::Conv2d<1, 16, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>,
                   nn::BatchNorm2d<16>, nn::ReLU, nn::MaxPool2d<2>,
                   nn::Conv2d<16, 32, 3, nn::Conv2dOptions{.padding = 1, .bias = false}>,
                   nn::BatchNorm2d<32>, nn::ReLU, nn::MaxPool2d<2>, nn::Flatten,
                   nn::Linear<32 * 7 * 7, 128>, nn::ReLU, nn::Linear<128, 10>>;

// order[begin, end) as an index tensor (a shuffled batch's rows).
et::Tensor<std::int64_t> batch_index(const std::vector<std::int64_t>& order, std::size_t begin,
                                     std::size_t end) {
  auto index = et::empty<std::int64_t>({static_cast<std::int64_t>(end - begin)});
  std::copy(order.begin() + static_cast<std::ptrdiff_t>(begin),
            order.begin() + static_cast<std::ptrdiff_t>(end), index.data());
  return index;
}

// Trains the judge on the real images in [0, 1]: Adam(2e-3) with the lr annealed along half a
// cosine to 0 over all steps. The annealing lets the last epochs settle into a minimum, which
// makes the judge both more accurate and more decided on real images than a constant lr does.
void train_classifier(Classifier& net, const et::Tensor<float>& images,
                      const et::Tensor<std::int64_t>& labels, const Options& opt,
                      std::mt19937_64& rng) {
  et::optim::Adam adam(net.parameters(), {.lr = 2e-3});
  std::vector<std::int64_t> order(static_cast<std::size_t>(images.size(0)));
  std::iota(order.begin(), order.end(), 0);
  const std::size_t batch = 64;
  const auto steps = static_cast<std::int64_t>(order.size() / batch) * opt.classifier_epochs;
  et::optim::CosineAnnealingLR schedule(adam, {.T_max = steps});
  net.train();
  for (int epoch = 0; epoch < opt.classifier_epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t b = 0; b + batch <= order.size(); b += batch) {
      const auto index = batch_index(order, b, b + batch);
      auto x = et::index_select(images, 0, index);
      auto y = et::index_select(labels, 0, index);
      auto loss = nn::cross_entropy(net(x), y);
      adam.zero_grad();
      loss.backward();
      adam.step();
      schedule.step();
    }
  }
}

// Generator weight averaging: ema = decay * ema + (1 - decay) * g after every generator step.
// The decay starts low ((1 + t) / (10 + t), as TensorFlow's ExponentialMovingAverage with
// num_updates) so the average forgets the random initialisation within the first epoch. The
// batch-norm running statistics are not averaged: recalibrate_bn() measures the average's own.
template <class D>
void update_ema(Generator<D>& ema, const Generator<D>& g, double decay, std::int64_t step) {
  et::NoGradGuard no_grad;
  const double t = static_cast<double>(step);
  const auto d = static_cast<float>(std::min(decay, (1 + t) / (10 + t)));
  const auto avg = ema.named_parameters();
  const auto live = g.named_parameters();
  for (std::size_t i = 0; i < avg.size(); ++i)
    avg[i].second.value().assign(avg[i].second.value() * d + live[i].second.value() * (1 - d));
}

// The averaged weights produce other activations than the live ones, so the live generator's
// batch-norm statistics do not fit them: run 100 noise batches through the average in train
// mode (momentum 0.1 replaces all but 0.9^100 of the old statistics), then back to eval mode.
template <class D>
void recalibrate_bn(Generator<D>& ema, std::int64_t batch) {
  et::NoGradGuard no_grad;
  ema.train();
  for (int i = 0; i < 100; ++i) ema(et::randn<float, D>({batch, kNoise}));
  ema.eval();
}

// The judge on the real test set: its accuracy, and the share of images it labels with
// confidence >= 0.9 (the figure generated images are held to, measured on real ones).
struct JudgeScore {
  double accuracy = 0, confident = 0;
};
JudgeScore score_judge(Classifier& net, const et::Tensor<float>& test_x,
                       const et::Tensor<std::int64_t>& test_y) {
  net.eval();
  et::NoGradGuard no_grad;
  std::int64_t correct = 0, confident = 0;
  for (std::int64_t b = 0; b < test_x.size(0); b += 1000) {
    const std::int64_t m = std::min<std::int64_t>(1000, test_x.size(0) - b);
    const auto probs = et::softmax(net(test_x.narrow(0, b, m)).value(), 1);
    const auto predicted = et::argmax(probs, 1);
    const auto best = et::max(probs, 1);
    for (std::int64_t i = 0; i < m; ++i) {
      correct += predicted.data()[i] == test_y.data()[b + i];
      confident += best.data()[i] >= 0.9f;
    }
  }
  const auto n = static_cast<double>(test_y.numel());
  return {static_cast<double>(correct) / n, static_cast<double>(confident) / n};
}

}  // namespace

namespace {

// One epoch of the GAN over `order`'s batches of `real` (images in [-1, 1]). The two steps of
// every batch are PyTorch's DCGAN loop: the discriminator on real images (target real_label)
// and on detached fakes (target 0), then the generator through a frozen discriminator (target
// 1, the non-saturating loss). Returns the mean losses.
template <class D>
std::pair<double, double> train_epoch(Generator<D>& g, Generator<D>& ema, std::int64_t& ema_steps,
                                      Discriminator<D>& d,
                                      et::optim::Adam<float, D>& opt_g,
                                      et::optim::Adam<float, D>& opt_d,
                                      const et::Tensor<float>& real,
                                      const std::vector<std::int64_t>& order, const Options& opt,
                                      int epoch) {
  const auto n = static_cast<std::int64_t>(opt.batch_size);
  const auto real_target = et::full<float, D>({n, 1}, static_cast<float>(opt.real_label));
  const auto fake_target = et::zeros<float, D>({n, 1});
  const auto ones = et::ones<float, D>({n, 1});
  double loss_d_sum = 0, loss_g_sum = 0;
  std::int64_t steps = 0;
  const auto start = std::chrono::steady_clock::now();
  const std::size_t batch = static_cast<std::size_t>(n);
  const std::size_t total = order.size() / batch;
  for (std::size_t b = 0; b + batch <= order.size(); b += batch) {
    const auto x = et::index_select(real, 0, batch_index(order, b, b + batch)).to<D>();
    // Discriminator step: fakes are detached, so no gradient reaches the generator.
    const auto fake = g(et::randn<float, D>({n, kNoise}));
    auto loss_d = nn::binary_cross_entropy_with_logits(d(x), real_target) +
                  nn::binary_cross_entropy_with_logits(d(fake.detach()), fake_target);
    opt_d.zero_grad();
    et::Var<float, D> loss_d_var = loss_d;
    loss_d_var.backward();
    opt_d.step();
    // Generator step: the discriminator is frozen (requires_grad(false)), so the backward
    // computes gradients for the generator only and the discriminator keeps its weights.
    d.requires_grad(false);
    auto loss_g = nn::binary_cross_entropy_with_logits(d(fake), ones);
    opt_g.zero_grad();
    loss_g.backward();
    opt_g.step();
    d.requires_grad(true);
    if (opt.ema_decay > 0) update_ema(ema, g, opt.ema_decay, ema_steps++);

    loss_d_sum += loss_d_var.value().item();
    loss_g_sum += loss_g.value().item();
    ++steps;
    if (epoch == 0 && steps == 20) {
      const double per_step =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 20;
      std::cout << "  (" << std::fixed << std::setprecision(3) << per_step
                << " s/step; epoch estimate " << std::setprecision(0)
                << per_step * static_cast<double>(total) << " s)\n"
                << std::flush;
    }
  }
  return {loss_d_sum / static_cast<double>(steps), loss_g_sum / static_cast<double>(steps)};
}

template <class D>
int run(const Options& opt) {
  std::mt19937_64 rng(opt.seed);
  et::data::FashionMNIST train_raw(opt.data, et::data::Split::train);
  et::data::FashionMNIST test_raw(opt.data, et::data::Split::test);
  const auto images01 = train_raw.images_as_tensor();  // [60000, 1, 28, 28] in [0, 1]
  const auto labels = train_raw.labels_as_tensor();
  const std::int64_t n_train =
      opt.train_images > 0 ? std::min(opt.train_images, images01.size(0)) : images01.size(0);
  const et::Tensor<float> real = images01 * 2.f - 1.f;  // the generator's tanh range
  if (n_train < opt.batch_size) usage("--train-images must be at least one batch");

  Generator<D> g(opt.width);
  Discriminator<D> d(opt.width);
  dcgan_init(g);
  dcgan_init(d);
  Generator<D> ema = g.clone();  // the averaged weights (what is sampled, with --ema-decay > 0)
  std::int64_t ema_steps = 0;
  // What the grids, the saved file and the quality check sample from.
  Generator<D>& sampler = opt.ema_decay > 0 ? ema : g;
  et::optim::Adam opt_g(g.parameters(), {.lr = opt.lr, .betas = {0.5, 0.999}});
  et::optim::Adam opt_d(d.parameters(), {.lr = opt.lr, .betas = {0.5, 0.999}});
  std::cout << "generator: " << g.num_parameters()
            << " parameters, discriminator: " << d.num_parameters() << "; " << n_train
            << " training images, batch " << opt.batch_size << "\n";

  // The fixed noise batch: the same 64 latent points every epoch, so the grids show progress.
  const auto fixed_noise = et::randn<float, D>({64, kNoise});
  std::filesystem::create_directories(opt.out);
  std::optional<et::logging::SummaryWriter> writer;
  if (!opt.logdir.empty()) writer.emplace(opt.logdir);

  std::vector<std::int64_t> order(static_cast<std::size_t>(n_train));
  std::iota(order.begin(), order.end(), 0);
  const auto out_path = [&](const std::string& name) {
    return (std::filesystem::path(opt.out) / name).string();
  };
  if (!opt.generator.empty()) et::io::load(sampler, opt.generator);
  for (int epoch = 0; opt.generator.empty() && epoch < opt.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    std::shuffle(order.begin(), order.end(), rng);
    g.train();
    d.train();
    const auto [loss_d, loss_g] =
        train_epoch(g, ema, ema_steps, d, opt_g, opt_d, real, order, opt, epoch);
    g.eval();
    if (opt.ema_decay > 0) recalibrate_bn(ema, opt.batch_size);
    et::Tensor<float, D> samples;
    {
      et::NoGradGuard no_grad;
      samples = sampler(fixed_noise).value();
    }
    const auto grid = et::utils::make_grid(
        samples, {.nrow = 8, .normalize = true, .value_range = std::pair{-1.0, 1.0}});
    const auto png = out_path("samples_epoch" + std::to_string(epoch + 1) + ".png");
    et::utils::save_image(grid, png);
    et::io::save(sampler, out_path("generator.safetensors"));
    if (writer) {
      writer->add_image("samples", grid, epoch + 1);
      writer->add_scalar("loss/discriminator", loss_d, epoch + 1);
      writer->add_scalar("loss/generator", loss_g, epoch + 1);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "epoch " << epoch + 1 << "/" << opt.epochs << "  loss_d " << std::fixed
              << std::setprecision(4) << loss_d << "  loss_g " << loss_g << "  "
              << std::setprecision(1) << seconds << " s  " << png << "\n"
              << std::flush;
  }

  // The judge, trained on the real images in [0, 1] (the generator's training images).
  Classifier judge;
  if (opt.judge.empty()) {
    train_classifier(judge, images01.narrow(0, 0, n_train),
                     labels.narrow(0, 0, n_train).contiguous(), opt, rng);
    et::io::save(judge, out_path("judge.safetensors"));
  } else {
    et::io::load(judge, opt.judge);
  }
  const JudgeScore judged =
      score_judge(judge, test_raw.images_as_tensor(), test_raw.labels_as_tensor());
  std::cout << "classifier (trained on " << n_train << " real images): test accuracy " << std::fixed
            << std::setprecision(4) << judged.accuracy
            << ", real test images labelled with confidence >= 0.9: " << judged.confident << "\n";

  // Generated images, mapped back to [0, 1], labelled by the judge.
  std::int64_t confident = 0;
  std::vector<std::int64_t> per_class(10, 0);
  if (opt.sample_train_mode)
    sampler.train();
  else
    sampler.eval();
  judge.eval();
  {
    et::NoGradGuard no_grad;
    for (std::int64_t done = 0; done < opt.samples; done += 100) {
      const std::int64_t m = std::min<std::int64_t>(100, opt.samples - done);
      const auto fake =
          sampler(et::randn<float, D>({m, kNoise})).value().template to<et::cpu>();
      const et::Tensor<float> unit = (fake + 1.f) * 0.5f;
      const auto probs = et::softmax(judge(unit).value(), 1);
      const auto best = et::max(probs, 1);
      const auto label = et::argmax(probs, 1);
      for (std::int64_t i = 0; i < m; ++i) {
        if (best.data()[i] >= 0.9f) ++confident;
        ++per_class[static_cast<std::size_t>(label.data()[i])];
      }
    }
  }
  std::cout << "generated samples by predicted class:";
  for (std::size_t c = 0; c < 10; ++c)
    std::cout << " " << et::data::FashionMNIST::classes()[c] << "=" << per_class[c];
  const double share = static_cast<double>(confident) / static_cast<double>(opt.samples);
  std::cout << "\nclassifier_accuracy=" << std::setprecision(4) << judged.accuracy << "\n"
            << "confident_share=" << share << "  (" << confident << " of " << opt.samples
            << " generated samples labelled with confidence >= 0.9; target >= 0.70)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  return run<et::cpu>(opt);
} catch (const et::error& e) {
  std::cerr << "dcgan_fashion: " << e.what() << '\n';
  return 1;
}
