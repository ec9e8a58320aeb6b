// Sinusoidal and learned positional encodings: the table against the PyTorch tutorial's formula
// (tests/reference/make_attention.py), forward for seq-first, batch_first and unbatched inputs,
// gradients, dropout, names, init and errors.
#include "etna/nn/positional_encoding.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("attention.json");
  return f;
}
template <class M>
std::vector<std::string> names(const M& m) {
  std::vector<std::string> out;
  for (auto& [n, p] : m.named_parameters()) out.push_back(n);
  for (auto& [n, b] : m.named_buffers()) out.push_back(n);
  return out;
}
}  // namespace

TEST_CASE("SinusoidalPositionalEncoding table equals the PyTorch tutorial's", "[posenc]") {
  nn::SinusoidalPositionalEncoding<double> a(6, 10);
  ETNA_CHECK_CLOSE(a.pe, fx().tensor<double>("pe_10_6"), 1e-12, 1e-12);
  nn::SinusoidalPositionalEncoding<double> b(5, 7);  // odd d_model: last column a sine
  ETNA_CHECK_CLOSE(b.pe, fx().tensor<double>("pe_7_5"), 1e-12, 1e-12);
  nn::SinusoidalPositionalEncoding<float> c(16);
  CHECK(c.pe.shape() == et::Shape{5000, 16});
  CHECK(names(c) == std::vector<std::string>{"pe"});
  CHECK(c.repr() == "SinusoidalPositionalEncoding(d_model=16, max_len=5000, dropout=0.0)");
}

TEST_CASE("SinusoidalPositionalEncoding forward adds pe[:L] in every layout", "[posenc]") {
  nn::SinusoidalPositionalEncoding<double> seq(4, 10), bf(4, 10, 0.0, true);
  const auto pe = seq.pe;
  et::Var<double> x(et::randn<double>({3, 2, 4}), true);
  auto y = seq(x).value();
  auto xb = et::randn<double>({2, 3, 4});
  auto yb = bf(xb).value();
  auto xu = et::randn<double>({5, 4});
  auto yu = seq(xu).value();
  for (int l = 0; l < 3; ++l)
    for (int n = 0; n < 2; ++n)
      for (int d = 0; d < 4; ++d) {
        CHECK(y(l, n, d) == Approx(x.value()(l, n, d) + pe(l, d)));
        CHECK(yb(n, l, d) == Approx(xb(n, l, d) + pe(l, d)));
      }
  for (int l = 0; l < 5; ++l)
    for (int d = 0; d < 4; ++d) CHECK(yu(l, d) == Approx(xu(l, d) + pe(l, d)));
  auto out = seq(x);
  out.backward(et::ones<double>(out.shape()));
  for (double g : x.grad()) CHECK(g == 1.0);
}

TEST_CASE("LearnedPositionalEncoding: names, init, forward and gradients", "[posenc]") {
  et::manual_seed(11);
  nn::LearnedPositionalEncoding<double> m(64, 32);
  CHECK(names(m) == std::vector<std::string>{"weight"});
  CHECK(m.weight.shape() == et::Shape{64, 32});
  double s = 0, s2 = 0;
  for (double w : m.weight.value()) {
    s += w;
    s2 += w * w;
  }
  const double n = 64 * 32, mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  CHECK(mean == Approx(0).margin(0.002));
  CHECK(sd == Approx(0.02).epsilon(0.05));
  CHECK(m.repr() == "LearnedPositionalEncoding(max_len=64, d_model=32, dropout=0.0)");
  nn::LearnedPositionalEncoding<double> b(8, 4, 0.0, true);
  et::Var<double> x(et::randn<double>({2, 3, 4}), true);  // [N, L, d]
  auto y = b(x);
  for (int n2 = 0; n2 < 2; ++n2)
    for (int l = 0; l < 3; ++l)
      for (int d = 0; d < 4; ++d)
        CHECK(y.value()(n2, l, d) == Approx(x.value()(n2, l, d) + b.weight.value()(l, d)));
  y.backward(et::ones<double>(y.shape()));
  // Each used row gets one gradient per batch entry; rows past L get none.
  for (int l = 0; l < 8; ++l)
    for (int d = 0; d < 4; ++d) CHECK(b.weight.grad()(l, d) == (l < 3 ? 2.0 : 0.0));
}

TEST_CASE("positional encodings: dropout in training only", "[posenc]") {
  et::manual_seed(2);
  nn::SinusoidalPositionalEncoding<float> m(8, 100, 0.5);
  auto x = et::zeros<float>({50, 4, 8});
  auto t = m(x).value();
  std::int64_t zeros = 0;
  for (float v : t) zeros += v == 0.0f;
  // about half of the (mostly non-zero) entries dropped
  CHECK(static_cast<double>(zeros) / t.numel() == Approx(0.5).margin(0.08));
  m.eval();
  ETNA_CHECK_CLOSE(m(x).value(), m.pe.narrow(0, 0, 50).unsqueeze(1).expand({50, 4, 8}), 0, 0);
}

TEST_CASE("positional encodings: errors name the sizes", "[posenc]") {
  nn::SinusoidalPositionalEncoding<float> m(8, 10);
  CHECK_THROWS_WITH(m(et::zeros<float>({12, 2, 8})),
                    "SinusoidalPositionalEncoding: sequence length 12 exceeds max_len 10 (input "
                    "shape [12, 2, 8])");
  CHECK_THROWS_WITH(m(et::zeros<float>({4, 2, 6})),
                    "SinusoidalPositionalEncoding: input must be [L, N, 8] ([N, L, 8] with "
                    "batch_first) or [L, 8], got [4, 2, 6]");
  nn::LearnedPositionalEncoding<float> l(10, 8, 0.0, true);
  CHECK_THROWS_WITH(l(et::zeros<float>({2, 11, 8})),
                    "LearnedPositionalEncoding: sequence length 11 exceeds max_len 10 (input shape "
                    "[2, 11, 8])");
}
