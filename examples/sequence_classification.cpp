// Sequence classification on a synthetic task with a known answer: does a sequence of tokens
// 1-8 (length 6 to 32) contain the pattern 3 1 4 (consecutive)? Half the sequences do; the
// others contain a rearrangement of it (1 3 4, 4 1 3...), so counting tokens is no help and only
// the order tells the classes apart. A GRU (variable lengths through its lengths argument) or a
// Transformer encoder (padding through src_key_padding_mask, max pooling over the positions)
// learns it from fresh random batches. Training stops once at most 2 of the 1000 validation
// sequences are wrong (or after --max-steps); the last line is `test_accuracy=...` on 4000 new
// sequences.
//
//   sequence_classification [--model gru|transformer] [--max-steps 4000] [--batch 64] [--lr X]
//                           [--eval-every 100] [--seed 42] [--threads 1]
#include <etna/etna.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  std::string model = "gru";
  std::int64_t max_steps = 4000;
  std::int64_t batch = 64;
  double lr = 0;  // 0: the model's default, 3e-3 for the GRU and 1e-3 for the Transformer
  std::int64_t eval_every = 100;
  std::uint64_t seed = 42;
  int threads = 1;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "sequence_classification: " << problem << "\n\n";
  std::cerr << "usage: sequence_classification [--model gru|transformer] [--max-steps N] "
               "[--batch N] [--lr X]\n"
               "                               [--eval-every N] [--seed N] [--threads N]\n";
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
      else if (flag == "--max-steps") o.max_steps = std::stoll(value);
      else if (flag == "--batch") o.batch = std::stoll(value);
      else if (flag == "--lr") o.lr = std::stod(value);
      else if (flag == "--eval-every") o.eval_every = std::stoll(value);
      else if (flag == "--seed") o.seed = std::stoull(value);
      else if (flag == "--threads") o.threads = std::stoi(value);
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.model != "gru" && o.model != "transformer")
    usage("--model " + o.model + ": choose gru or transformer");
  if (o.lr == 0) o.lr = o.model == "gru" ? 3e-3 : 1e-3;
  if (o.max_steps < 1 || o.batch < 1 || o.lr <= 0 || o.eval_every < 1 || o.threads < 1)
    usage("max-steps, batch, lr, eval-every and threads must be positive");
  return o;
}

// ---- the task ------------------------------------------------------------------------------
constexpr std::int64_t pad = 0;  // token 0 pads; the sequences use tokens 1..8
constexpr std::int64_t vocab = 9;
constexpr std::int64_t min_len = 6, max_len = 32;
constexpr std::array<std::int64_t, 3> pattern = {3, 1, 4};

bool contains_pattern(const std::vector<std::int64_t>& s) {
  return std::search(s.begin(), s.end(), pattern.begin(), pattern.end()) != s.end();
}

// A positive sequence holds the pattern somewhere; a negative one holds one of its other five
// orders instead and nowhere the pattern itself (redrawn until so).
std::vector<std::int64_t> make_sequence(bool positive, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> length(min_len, max_len), token(1, 8);
  for (;;) {
    std::vector<std::int64_t> s(static_cast<std::size_t>(length(rng)));
    for (auto& t : s) t = token(rng);
    std::array<std::int64_t, 3> planted = pattern;
    while (!positive && planted == pattern) std::shuffle(planted.begin(), planted.end(), rng);
    const auto at = std::uniform_int_distribution<std::size_t>(0, s.size() - 3)(rng);
    std::copy(planted.begin(), planted.end(), s.begin() + static_cast<std::ptrdiff_t>(at));
    if (positive || !contains_pattern(s)) return s;
  }
}

struct Batch {
  std::vector<std::vector<std::int64_t>> seqs;
  et::Tensor<std::int64_t> labels;  // [N], 1 = contains the pattern
};

Batch make_batch(std::int64_t n, std::mt19937_64& rng) {
  Batch b;
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool positive = rng() % 2 == 1;
    b.seqs.push_back(make_sequence(positive, rng));
    labels.push_back(positive ? 1 : 0);
  }
  b.labels = et::tensor<std::int64_t>(labels, {n});
  return b;
}

// ---- the models ------------------------------------------------------------------------------
// Embedding, a one-layer GRU with 64 units whose state at each sequence's own last token
// (lengths) goes to a linear classifier.
struct GruClassifier : nn::Module<GruClassifier> {
  nn::Embedding<> embed{vocab, 32, pad};
  nn::GRU<> gru{32, 64};
  nn::Linear<> head{64, 2};
  ETNA_MODULE(embed, gru, head)

  et::Var<float> forward(const Batch& b) {
    const auto n = std::ssize(b.seqs);
    std::vector<std::int64_t> lengths;
    for (const auto& s : b.seqs) lengths.push_back(std::ssize(s));
    const std::int64_t len = *std::max_element(lengths.begin(), lengths.end());
    std::vector<std::int64_t> x(static_cast<std::size_t>(len * n), pad);  // time-major [L, N]
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t t = 0; t < lengths[j]; ++t) x[t * n + j] = b.seqs[j][t];
    auto [out, h_n] = gru(embed(et::tensor<std::int64_t>(x, {len, n})), lengths);
    return head(et::select(h_n, 0, 0));  // h_n [1, N, 64]
  }
};

// Tokens embedded with sinusoidal positions, 2 encoder layers (d 64, 4 heads, feed-forward 128,
// batch_first) that skip the padding, then the maximum over each sequence's own positions (the
// pattern is found at one place; max pooling hands that place's features to the classifier).
struct TransformerClassifier : nn::Module<TransformerClassifier> {
  static constexpr std::int64_t d_model = 64;
  nn::Embedding<> embed{vocab, d_model, pad};
  nn::SinusoidalPositionalEncoding<> pos{d_model, max_len, 0.0, /*batch_first=*/true};
  nn::TransformerEncoder<> encoder{
      nn::TransformerEncoderLayer<>(
          d_model, 4,
          {.dim_feedforward = 128, .dropout = 0.0, .batch_first = true, .norm_first = true}),
      2, /*final_norm=*/true};
  nn::Linear<> head{d_model, 2};
  ETNA_MODULE(embed, pos, encoder, head)

  et::Var<float> forward(const Batch& b) {
    const auto n = std::ssize(b.seqs);
    std::int64_t len = 0;
    for (const auto& s : b.seqs) len = std::max(len, std::ssize(s));
    std::vector<std::int64_t> x(static_cast<std::size_t>(n * len), pad);  // [N, L]
    auto padding = et::zeros<bool>({n, len});  // true = a padding position, not attended to
    auto exclude = et::zeros<float>({n, len, 1});  // -1e4 at padding: never the maximum
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t t = 0; t < len; ++t)
        if (t < std::ssize(b.seqs[j])) {
          x[j * len + t] = b.seqs[j][t];
        } else {
          padding.data()[j * len + t] = true;
          exclude.data()[j * len + t] = -1e4f;
        }
    auto h = encoder(pos(embed(et::tensor<std::int64_t>(x, {n, len}))),
                     {.src_key_padding_mask = padding});
    return head(et::max(h + exclude, 1));
  }
};

template <class Net>
double accuracy(Net& net, const std::vector<Batch>& set) {
  net.eval();
  et::NoGradGuard no_grad;
  std::int64_t right = 0, total = 0;
  for (const auto& b : set) {
    const et::Tensor<std::int64_t> predicted = et::argmax(net(b).value(), 1);
    for (std::int64_t i = 0; i < b.labels.numel(); ++i)
      right += predicted.data()[i] == b.labels.data()[i];
    total += b.labels.numel();
  }
  net.train();
  return static_cast<double>(right) / static_cast<double>(total);
}

template <class Net>
int run(const Options& opt) {
  std::mt19937_64 rng(opt.seed);
  std::vector<Batch> val, test;
  for (int i = 0; i < 4; ++i) val.push_back(make_batch(250, rng));    // 1000 sequences
  for (int i = 0; i < 16; ++i) test.push_back(make_batch(250, rng));  // 4000 sequences

  Net net;
  std::cout << opt.model << " classifier, " << net.num_parameters() << " parameters\n";
  et::optim::Adam adam(net.parameters(), {.lr = opt.lr});
  const auto start = std::chrono::steady_clock::now();
  double loss_sum = 0;
  for (std::int64_t step = 1; step <= opt.max_steps; ++step) {
    const Batch b = make_batch(opt.batch, rng);  // fresh sequences every step
    auto loss = nn::cross_entropy(net(b), b.labels);
    adam.zero_grad();
    loss.backward();
    et::optim::clip_grad_norm_(net.parameters(), 1.0);
    adam.step();
    loss_sum += static_cast<double>(loss.item());
    if (step % opt.eval_every == 0 || step == opt.max_steps) {
      const double val_accuracy = accuracy(net, val);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "step " << step << " train_loss=" << std::fixed << std::setprecision(4)
                << loss_sum / static_cast<double>((step - 1) % opt.eval_every + 1)
                << " val_accuracy=" << val_accuracy << ' ' << std::setprecision(1) << seconds
                << " s" << std::endl;
      loss_sum = 0;
      if (val_accuracy >= 0.998) break;  // at most 2 of the 1000 wrong
    }
  }
  std::cout << "test_accuracy=" << std::fixed << std::setprecision(4) << accuracy(net, test)
            << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  if (opt.model == "gru") return run<GruClassifier>(opt);
  return run<TransformerClassifier>(opt);
} catch (const et::error& e) {
  std::cerr << "sequence_classification: " << e.what() << '\n';
  return 1;
}
