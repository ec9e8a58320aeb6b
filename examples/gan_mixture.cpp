// An MLP GAN on the 2-D ring of 8 Gaussians (Metz et al., "Unrolled GANs", 2016: radius 2,
// standard deviation 0.02), with PacGAN packing (Lin et al., 2018: the discriminator judges
// `pack` samples at once, which penalises a generator that collapses onto few modes). Reports
// the modes covered (a mode counts when >= 5% of 10,000 samples lie within 3 standard
// deviations of it) and the share of high-quality samples (within 3 standard deviations of some
// mode); target: 8 modes and >= 80% high quality. Exits 1 when the target is missed.
//
//   gan_mixture [--steps 10000] [--batch-size 256] [--pack 4] [--lr 1e-3] [--seed 1]
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <etna/etna.hpp>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  int steps = 10000;
  std::int64_t batch_size = 256;
  std::int64_t pack = 4;  // samples per discriminator input (1 = the plain GAN)
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "gan_mixture: " << problem << "\n\n";
  std::cerr << "usage: gan_mixture [--steps N] [--batch-size N] [--pack N] [--lr X] [--seed N]\n";
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
      if (flag == "--steps")
        o.steps = std::stoi(value);
      else if (flag == "--batch-size")
        o.batch_size = std::stoll(value);
      else if (flag == "--pack")
        o.pack = std::stoll(value);
      else if (flag == "--lr")
        o.lr = std::stod(value);
      else if (flag == "--seed")
        o.seed = std::stoull(value);
      else
        usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.steps < 1 || o.pack < 1 || o.batch_size < o.pack || o.batch_size % o.pack != 0 || o.lr <= 0)
    usage("steps, pack and lr must be positive and the batch size a multiple of pack");
  return o;
}

constexpr int kModes = 8;
constexpr double kRadius = 2.0, kStd = 0.02;
constexpr std::int64_t kNoise = 16, kHidden = 128;

double mode_x(int k) { return kRadius * std::cos(2 * std::numbers::pi * k / kModes); }
double mode_y(int k) { return kRadius * std::sin(2 * std::numbers::pi * k / kModes); }

// n points of the mixture: a uniformly chosen mode plus N(0, kStd^2) noise.
et::Tensor<float> sample_ring(std::int64_t n) {
  const auto mode = et::randint<std::int64_t>(0, kModes, {n});
  auto points = et::randn<float>({n, 2}) * static_cast<float>(kStd);
  et::Tensor<float> out = points;
  for (std::int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(mode.data()[i]);
    out.data()[2 * i] += static_cast<float>(mode_x(k));
    out.data()[2 * i + 1] += static_cast<float>(mode_y(k));
  }
  return out;
}

using Generator =
    nn::Sequential<nn::Linear<kNoise, kHidden>, nn::ReLU, nn::Linear<kHidden, kHidden>, nn::ReLU,
                   nn::Linear<kHidden, kHidden>, nn::ReLU, nn::Linear<kHidden, 2>>;

// The discriminator sees `pack` points at once: [N / pack, 2 * pack] -> one logit.
struct Discriminator : nn::Module<Discriminator> {
  std::int64_t pack;
  nn::Linear<> fc1, fc2, fc3;
  nn::LeakyReLU act{0.2};
  explicit Discriminator(std::int64_t p)
      : pack(p), fc1(2 * p, kHidden), fc2(kHidden, kHidden), fc3(kHidden, 1) {}
  ETNA_MODULE(fc1, fc2, fc3, act)
  template <class X>
  et::Var<float> forward(const X& points) {
    const auto x = et::as_var(points);
    return fc3(act(fc2(act(fc1(x.reshape({x.size(0) / pack, 2 * pack}))))));
  }
};

struct Coverage {
  int modes = 0;
  double high_quality = 0;
  std::vector<std::int64_t> per_mode;
};

// A sample is high quality within 3 standard deviations of its nearest mode.
Coverage coverage(const et::Tensor<float>& points) {
  Coverage c;
  c.per_mode.assign(kModes, 0);
  std::int64_t good = 0;
  for (std::int64_t i = 0; i < points.size(0); ++i) {
    const double x = points.data()[2 * i], y = points.data()[2 * i + 1];
    for (int k = 0; k < kModes; ++k) {
      if (std::hypot(x - mode_x(k), y - mode_y(k)) <= 3 * kStd) {
        ++c.per_mode[static_cast<std::size_t>(k)];
        ++good;
        break;
      }
    }
  }
  for (auto n : c.per_mode) c.modes += n >= points.size(0) / 20;  // >= 5% of the samples
  c.high_quality = static_cast<double>(good) / static_cast<double>(points.size(0));
  return c;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(1);  // tiny matrices: threads cost more than they give

  Generator g;
  Discriminator d(opt.pack);
  et::optim::Adam opt_g(g.parameters(), {.lr = opt.lr, .betas = {0.5, 0.999}});
  et::optim::Adam opt_d(d.parameters(), {.lr = opt.lr, .betas = {0.5, 0.999}});
  const std::int64_t n = opt.batch_size, groups = n / opt.pack;
  const auto real_target = et::ones<float>({groups, 1});
  const auto fake_target = et::zeros<float>({groups, 1});
  const auto fixed_noise = et::randn<float>({10000, kNoise});  // the evaluation's samples

  auto evaluate = [&] {
    et::NoGradGuard no_grad;
    return coverage(g(fixed_noise).value());
  };
  for (int step = 1; step <= opt.steps; ++step) {
    // The learning rate decays linearly to 0 over the second half: at a constant rate the two
    // players keep circling the equilibrium (modes drift in and out); decaying lets them settle.
    const double lr =
        opt.lr * std::min(1.0, 2.0 * (1.0 - static_cast<double>(step - 1) / opt.steps));
    opt_g.param_groups()[0].lr = lr;
    opt_d.param_groups()[0].lr = lr;
    // Discriminator: real points against detached generated ones.
    const auto fake = g(et::randn<float>({n, kNoise}));
    et::Var<float> loss_d = nn::binary_cross_entropy_with_logits(d(sample_ring(n)), real_target) +
                            nn::binary_cross_entropy_with_logits(d(fake.detach()), fake_target);
    opt_d.zero_grad();
    loss_d.backward();
    opt_d.step();
    // Generator: non-saturating loss through the frozen discriminator.
    d.requires_grad(false);
    auto loss_g = nn::binary_cross_entropy_with_logits(d(fake), real_target);
    opt_g.zero_grad();
    loss_g.backward();
    opt_g.step();
    d.requires_grad(true);
    if (step % 500 == 0 || step == opt.steps) {
      const Coverage c = evaluate();
      std::cout << "step " << std::setw(5) << step << "  loss_d " << std::fixed
                << std::setprecision(4) << loss_d.value().item() << "  loss_g "
                << loss_g.value().item() << "  modes " << c.modes << "/8  high_quality "
                << std::setprecision(3) << c.high_quality << "\n";
    }
  }
  const Coverage c = evaluate();
  std::cout << "samples per mode (within 3 std, of 10000):";
  for (auto k : c.per_mode) std::cout << " " << k;
  std::cout << "\nmodes_covered=" << c.modes << "/8\nhigh_quality=" << std::setprecision(4)
            << c.high_quality << "  (target: 8/8 modes and >= 0.80)\n";
  return c.modes == kModes && c.high_quality >= 0.8 ? 0 : 1;
} catch (const et::error& e) {
  std::cerr << "gan_mixture: " << e.what() << '\n';
  return 1;
}
