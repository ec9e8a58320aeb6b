// A character-level language model trained on the King James Version of the Bible (Debian
// package bible-kjv; public domain, see scripts/get-text.sh, which writes the plain text), an
// LSTM or a causal Transformer encoder. Prints the training and validation loss (nats per
// character, and bits per character) after each epoch, then text sampled with a temperature;
// the last line is `val_loss=...`.
//
//   char_lm [--model lstm|transformer] [--text PATH] [--max-chars 300000] [--epochs 5]
//           [--seq-len 64] [--batch 32] [--max-steps 0] [--lr 3e-3] [--dropout 0]
//           [--temperature 0.8] [--sample-chars 400] [--prompt TEXT] [--seed 42] [--threads 1]
//
// The first --max-chars characters of the text are used (0: all 4.1 MB), the last 10% of them
// for validation. An epoch cuts the training part into windows of --seq-len characters from a
// random offset and visits them in random order, --batch windows per step; --max-steps bounds
// the whole run (0: no bound).
#include <etna/etna.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace et = etna;
namespace nn = et::nn;

namespace {

struct Options {
  std::string model = "lstm";
#if defined(ETNA_KJV_TEXT)
  std::string text = ETNA_KJV_TEXT;  // <build>/data/kjv.txt, written by scripts/get-text.sh
#else
  std::string text = "build/data/kjv.txt";
#endif
  std::int64_t max_chars = 300000;
  int epochs = 5;
  std::int64_t seq_len = 64;
  std::int64_t batch = 32;
  std::int64_t max_steps = 0;
  double lr = 3e-3;
  double dropout = 0;  // between the LSTM's layers; in the Transformer's layers and positions
  double temperature = 0.8;
  int sample_chars = 400;
  std::string prompt = "And God said";
  std::uint64_t seed = 42;
  int threads = 1;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "char_lm: " << problem << "\n\n";
  std::cerr << "usage: char_lm [--model lstm|transformer] [--text PATH] [--max-chars N] "
               "[--epochs N]\n"
               "               [--seq-len N] [--batch N] [--max-steps N] [--lr X] "
               "[--dropout X]\n"
               "               [--temperature X] [--sample-chars N] [--prompt TEXT] [--seed N]\n"
               "               [--threads N]\n";
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
      else if (flag == "--text") o.text = value;
      else if (flag == "--max-chars") o.max_chars = std::stoll(value);
      else if (flag == "--epochs") o.epochs = std::stoi(value);
      else if (flag == "--seq-len") o.seq_len = std::stoll(value);
      else if (flag == "--batch") o.batch = std::stoll(value);
      else if (flag == "--max-steps") o.max_steps = std::stoll(value);
      else if (flag == "--lr") o.lr = std::stod(value);
      else if (flag == "--dropout") o.dropout = std::stod(value);
      else if (flag == "--temperature") o.temperature = std::stod(value);
      else if (flag == "--sample-chars") o.sample_chars = std::stoi(value);
      else if (flag == "--prompt") o.prompt = value;
      else if (flag == "--seed") o.seed = std::stoull(value);
      else if (flag == "--threads") o.threads = std::stoi(value);
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (o.model != "lstm" && o.model != "transformer")
    usage("--model " + o.model + ": choose lstm or transformer");
  if (o.epochs < 1 || o.seq_len < 2 || o.batch < 1 || o.lr <= 0 || o.threads < 1 ||
      o.temperature <= 0 || o.max_chars < 0 || o.max_steps < 0 || o.sample_chars < 0)
    usage("epochs, batch, lr, temperature and threads must be positive, seq-len at least 2, "
          "max-chars, max-steps and sample-chars non-negative");
  if (o.dropout < 0 || o.dropout >= 1) usage("--dropout must be in [0, 1)");
  if (o.prompt.empty()) usage("--prompt must not be empty");
  return o;
}

// ---- the text --------------------------------------------------------------------------------
struct Corpus {
  std::string vocab;  // the distinct characters, sorted: id i is vocab[i]
  std::vector<std::int64_t> train, val;
  std::int64_t id(char c) const {
    const auto it = std::lower_bound(vocab.begin(), vocab.end(), c);
    return it != vocab.end() && *it == c ? it - vocab.begin() : -1;
  }
};

Corpus load_corpus(const Options& opt) {
  std::ifstream in(opt.text, std::ios::binary);
  if (!in) {
    std::cerr << "char_lm: cannot read the text " << opt.text
              << "\n  make it with: scripts/get-text.sh " << opt.text
              << "\n  (it needs the Debian package bible-kjv; scripts/install-deps.sh installs it)"
                 "\n  or give another plain text with --text PATH\n";
    std::exit(1);
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (opt.max_chars > 0 && static_cast<std::int64_t>(text.size()) > opt.max_chars)
    text.resize(static_cast<std::size_t>(opt.max_chars));
  const auto n = static_cast<std::int64_t>(text.size());
  const std::int64_t n_val = n / 10;
  if (n - n_val < opt.seq_len + 1 + opt.batch * opt.seq_len || n_val < opt.seq_len + 1) {
    std::cerr << "char_lm: " << opt.text << " has " << n << " characters (after --max-chars), "
              << "too few for --batch " << opt.batch << " windows of --seq-len " << opt.seq_len
              << " plus 10% for validation\n";
    std::exit(1);
  }
  Corpus c;
  c.vocab = text;
  std::sort(c.vocab.begin(), c.vocab.end());
  c.vocab.erase(std::unique(c.vocab.begin(), c.vocab.end()), c.vocab.end());
  std::vector<std::int64_t> ids(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) ids[i] = c.id(text[i]);
  c.train.assign(ids.begin(), ids.end() - n_val);
  c.val.assign(ids.end() - n_val, ids.end());
  return c;
}

// Windows at `starts` of `ids`, time-major as the layers take them: inputs [L, B] and the
// targets (each next character) flattened to [L * B], row t * B + b.
std::pair<et::Tensor<std::int64_t>, et::Tensor<std::int64_t>> make_batch(
    const std::vector<std::int64_t>& ids, const std::int64_t* starts, std::int64_t b,
    std::int64_t len) {
  std::vector<std::int64_t> x(static_cast<std::size_t>(len * b)), y(x.size());
  for (std::int64_t t = 0; t < len; ++t)
    for (std::int64_t j = 0; j < b; ++j) {
      x[t * b + j] = ids[starts[j] + t];
      y[t * b + j] = ids[starts[j] + t + 1];
    }
  return {et::tensor<std::int64_t>(x, {len, b}), et::tensor<std::int64_t>(y, {len * b})};
}

// ---- the models --------------------------------------------------------------------------------
// Embedding (64), a 2-layer LSTM with 256 units and a linear read-out: 0.88 M parameters.
// Dropout between the layers is off by default: in these short runs it only slows learning
// (validation loss after 2 epochs 1.551 without, 1.576 with 0.1).
struct LstmLm : nn::Module<LstmLm> {
  nn::Embedding<> embed;
  nn::LSTM<> lstm;
  nn::Linear<> head;
  LstmLm(std::int64_t vocab, double dropout)
      : embed(vocab, 64), lstm(64, 256, {.num_layers = 2, .dropout = dropout}), head(256, vocab) {}
  ETNA_MODULE(embed, lstm, head)

  // x [L, N] -> logits [L, N, vocab].
  et::Var<float> forward(const et::Tensor<std::int64_t>& x) {
    auto [out, h_n, c_n] = lstm(embed(x));
    return head(out);
  }
};

// GPT style: token embedding plus sinusoidal positions, 2 pre-norm encoder layers (d 128, 4
// heads, feed-forward 512, GELU) under a causal mask, a final LayerNorm and a linear read-out.
// Dropout is off by default: in these short runs it only slows learning (validation loss after
// 2 epochs 1.70 without, 1.79 with 0.1).
struct TransformerLm : nn::Module<TransformerLm> {
  static constexpr std::int64_t d_model = 128;
  nn::Embedding<> embed;
  nn::SinusoidalPositionalEncoding<> pos;
  nn::TransformerEncoder<> encoder;
  nn::Linear<> head;
  TransformerLm(std::int64_t vocab, std::int64_t max_len, double dropout)
      : embed(vocab, d_model),
        pos(d_model, max_len, dropout),
        encoder(nn::TransformerEncoderLayer<>(d_model, 4,
                                              {.dim_feedforward = 512, .dropout = dropout,
                                               .activation = "gelu", .norm_first = true}),
                2, /*final_norm=*/true),
        head(d_model, vocab) {}
  ETNA_MODULE(embed, pos, encoder, head)

  et::Var<float> forward(const et::Tensor<std::int64_t>& x) {
    const auto mask = nn::generate_square_subsequent_mask<float>(x.size(0));
    // The embedding is N(0, 1) as PyTorch's; the positions are in [-1, 1], so no sqrt(d) scale.
    return head(encoder(pos(embed(x)), {.mask = mask, .is_causal = true}));
  }
};

// ---- training and evaluation ----------------------------------------------------------------
template <class Net>
et::Var<float> batch_loss(Net& net, const et::Tensor<std::int64_t>& x,
                          const et::Tensor<std::int64_t>& y, std::int64_t vocab) {
  return nn::cross_entropy(et::reshape(net(x), {y.numel(), vocab}), y);
}

// Mean cross-entropy (nats per character) over the validation text in consecutive windows.
template <class Net>
double evaluate(Net& net, const Corpus& c, const Options& opt) {
  net.eval();
  et::NoGradGuard no_grad;
  std::vector<std::int64_t> starts;
  for (std::int64_t s = 0; s + opt.seq_len + 1 <= static_cast<std::int64_t>(c.val.size());
       s += opt.seq_len)
    starts.push_back(s);
  double total = 0;
  for (std::size_t i = 0; i < starts.size(); i += static_cast<std::size_t>(opt.batch)) {
    const auto b = std::min<std::int64_t>(opt.batch, static_cast<std::int64_t>(starts.size() - i));
    auto [x, y] = make_batch(c.val, starts.data() + i, b, opt.seq_len);
    total += static_cast<double>(batch_loss(net, x, y, std::ssize(c.vocab)).item()) *
             static_cast<double>(b);
  }
  net.train();
  return total / static_cast<double>(starts.size());
}

// Draws the next character from logits / temperature.
std::int64_t draw(const et::Tensor<float>& logits, double temperature, std::mt19937_64& rng) {
  const et::Tensor<float> row = logits.contiguous();
  std::vector<double> w(static_cast<std::size_t>(row.numel()));
  const double top = *std::max_element(row.data(), row.data() + row.numel());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::exp((row.data()[i] - top) / temperature);
  return std::discrete_distribution<std::int64_t>(w.begin(), w.end())(rng);
}

et::Tensor<std::int64_t> column(const std::vector<std::int64_t>& ids) {
  return et::tensor<std::int64_t>(ids, {std::ssize(ids), 1});
}

// The LSTM carries its state from character to character: the prompt once, then one step each.
std::string generate(LstmLm& net, std::vector<std::int64_t> ids, const Corpus& c,
                     const Options& opt, std::mt19937_64& rng) {
  std::string out;
  auto [o, h, cell] = net.lstm(net.embed(column(ids)));
  for (int i = 0; i < opt.sample_chars; ++i) {
    const auto logits = net.head(et::select(o, 0, o.size(0) - 1)).value().select(0, 0);
    const std::int64_t next = draw(logits, opt.temperature, rng);
    out += c.vocab[static_cast<std::size_t>(next)];
    auto step = net.lstm(net.embed(column({next})), nn::LSTMState<float>{h, cell});
    o = step.output;
    h = step.h_n;
    cell = step.c_n;
  }
  return out;
}

// The Transformer reads the last seq_len characters again for each new one.
std::string generate(TransformerLm& net, std::vector<std::int64_t> ids, const Corpus& c,
                     const Options& opt, std::mt19937_64& rng) {
  std::string out;
  for (int i = 0; i < opt.sample_chars; ++i) {
    const auto first =
        ids.size() > static_cast<std::size_t>(opt.seq_len) ? ids.end() - opt.seq_len : ids.begin();
    const auto logits = net(column({first, ids.end()}));
    const std::int64_t next =
        draw(logits.value().select(0, logits.size(0) - 1).select(0, 0), opt.temperature, rng);
    out += c.vocab[static_cast<std::size_t>(next)];
    ids.push_back(next);
  }
  return out;
}

template <class Net>
int run(Net& net, const Corpus& c, const Options& opt) {
  const auto vocab = std::ssize(c.vocab);
  std::cout << opt.model << " model, " << net.num_parameters() << " parameters; " << vocab
            << " characters; " << c.train.size() << " training and " << c.val.size()
            << " validation characters\n";
  et::optim::Adam adam(net.parameters(), {.lr = opt.lr});
  std::mt19937_64 rng(opt.seed);
  const double ln2 = std::log(2.0);
  auto report = [&](const std::string& head, double val) {
    std::cout << head << "val_loss=" << std::fixed << std::setprecision(4) << val << " ("
              << std::setprecision(3) << val / ln2 << " bits per char)";
  };
  report("before training: ", evaluate(net, c, opt));
  std::cout << std::endl;

  double val = 0;
  std::int64_t step = 0;
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::int64_t> starts;
    const auto n = static_cast<std::int64_t>(c.train.size());
    for (auto s = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(opt.seq_len));
         s + opt.seq_len + 1 <= n; s += opt.seq_len)
      starts.push_back(s);
    std::shuffle(starts.begin(), starts.end(), rng);
    double train_sum = 0;
    std::int64_t batches = 0;
    for (std::size_t i = 0; i + static_cast<std::size_t>(opt.batch) <= starts.size();
         i += static_cast<std::size_t>(opt.batch)) {
      if (opt.max_steps > 0 && step >= opt.max_steps) break;
      auto [x, y] = make_batch(c.train, starts.data() + i, opt.batch, opt.seq_len);
      auto loss = batch_loss(net, x, y, vocab);
      adam.zero_grad();
      loss.backward();
      et::optim::clip_grad_norm_(net.parameters(), 1.0);
      adam.step();
      train_sum += static_cast<double>(loss.item());
      ++batches;
      ++step;
    }
    val = evaluate(net, c, opt);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "epoch " << epoch << " train_loss=" << std::fixed << std::setprecision(4)
              << train_sum / static_cast<double>(std::max<std::int64_t>(batches, 1)) << ' ';
    report("", val);
    std::cout << ' ' << batches << " steps " << std::setprecision(1) << seconds << " s"
              << std::endl;
    if (opt.max_steps > 0 && step >= opt.max_steps) break;
  }

  std::vector<std::int64_t> prompt;
  for (const char ch : opt.prompt)
    if (c.id(ch) >= 0) prompt.push_back(c.id(ch));
  if (prompt.empty()) prompt.push_back(0);
  net.eval();
  et::NoGradGuard no_grad;
  std::cout << "\nsample (temperature " << opt.temperature << "):\n"
            << opt.prompt << generate(net, prompt, c, opt, rng) << "\n\n";
  std::cout << "val_loss=" << std::setprecision(4) << val << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  et::manual_seed(opt.seed);
  et::set_num_threads(opt.threads);
  const Corpus corpus = load_corpus(opt);
  if (opt.model == "lstm") {
    LstmLm net(std::ssize(corpus.vocab), opt.dropout);
    return run(net, corpus, opt);
  }
  TransformerLm net(std::ssize(corpus.vocab), opt.seq_len, opt.dropout);
  return run(net, corpus, opt);
} catch (const et::error& e) {
  std::cerr << "char_lm: " << e.what() << '\n';
  return 1;
}
