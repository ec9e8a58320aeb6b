// Random numbers (etna/core/random.hpp, random factories in core/factory.hpp): Philox4x32-10
// against the Random123 known-answer vectors, seeding, thread-count independence, the moments
// of each distribution, randint's range, and generator state save/restore.
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

namespace {
struct ThreadCount {
  int saved = et::get_num_threads();
  ~ThreadCount() { et::set_num_threads(saved); }
};

template <class T>
std::vector<T> values(const et::Tensor<T>& t) {
  return std::vector<T>(t.begin(), t.end());
}

template <class T>
std::pair<double, double> mean_var(const et::Tensor<T>& t) {
  double sum = 0, sq = 0;
  for (T v : t) sum += static_cast<double>(v);
  const double mean = sum / static_cast<double>(t.numel());
  for (T v : t) sq += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  return {mean, sq / static_cast<double>(t.numel() - 1)};
}
}  // namespace

// Random123's kat_vectors, "philox4x32 10" lines: counter words c0..c3, key words k0, k1.
// generate(key, counter_lo, counter_hi) takes c0 | c1 << 32, c2 | c3 << 32 and k0 | k1 << 32.
TEST_CASE("Philox4x32-10 reproduces the Random123 known-answer vectors", "[core][random]") {
  struct Kat {
    std::uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    const std::uint64_t key = std::uint64_t{k.key[1]} << 32 | k.key[0];
    const std::uint64_t lo = std::uint64_t{k.ctr[1]} << 32 | k.ctr[0];
    const std::uint64_t hi = std::uint64_t{k.ctr[3]} << 32 | k.ctr[2];
    const auto r = et::Philox4x32::generate(key, lo, hi);
    for (int w = 0; w < 4; ++w) {
      INFO("vector with key " << std::hex << key << ", word " << w);
      CHECK(r.v[w] == k.out[w]);
    }
  }
}

TEST_CASE("uniform bit conversions", "[core][random]") {
  CHECK(et::uniform_float(0) == 0.f);
  CHECK(et::uniform_float(0xffffffffu) < 1.f);
  CHECK(et::uniform_float(0xffffffffu) == 1.f - 1.f / 16777216.f);
  CHECK(et::uniform_double(0, 0) == 0.0);
  CHECK(et::uniform_double(0xffffffffu, 0xffffffffu) < 1.0);
  CHECK(et::uniform_double(0xffffffffu, 0xffffffffu) == 1.0 - 1.0 / 9007199254740992.0);
}

TEST_CASE("manual_seed makes draws reproducible", "[core][random]") {
  et::manual_seed(42);
  const auto a = et::randn<float>({100});
  const auto b = et::rand<double>({7, 3});
  const auto c = et::randint(0, 10, {50});
  et::manual_seed(42);
  CHECK(values(et::randn<float>({100})) == values(a));
  CHECK(values(et::rand<double>({7, 3})) == values(b));
  CHECK(values(et::randint(0, 10, {50})) == values(c));
  et::manual_seed(43);
  CHECK(values(et::randn<float>({100})) != values(a));
  // consecutive draws continue the stream instead of repeating it
  et::manual_seed(42);
  const auto first = et::randn<float>({100});
  CHECK(values(et::randn<float>({100})) != values(first));
  // a separate generator does not disturb the default one
  et::manual_seed(42);
  et::Generator g(42);
  CHECK(values(et::randn<float>({100}, g)) == values(a));
  CHECK(values(et::randn<float>({100})) == values(a));
  CHECK(g.seed() == 42);
}

TEST_CASE("the same numbers with 1 and 2 threads", "[core][random][threads]") {
  ThreadCount restore;
  const et::Shape shape{1000, 1001};  // > 1M elements: split across threads when allowed
  auto draw = [&](int threads) {
    et::set_num_threads(threads);
    et::manual_seed(2024);
    return std::vector<std::vector<double>>{
        [](auto t) { return std::vector<double>(t.begin(), t.end()); }(et::randn<float>(shape)),
        [](auto t) { return std::vector<double>(t.begin(), t.end()); }(et::rand<double>(shape)),
        [](auto t) { return std::vector<double>(t.begin(), t.end()); }(et::randint(-5, 5, shape)),
        [](auto t) { return std::vector<double>(t.begin(), t.end()); }(et::normal<double>(shape, 1, 2))};
  };
  const auto one = draw(1), two = draw(2);
  for (std::size_t k = 0; k < one.size(); ++k) {
    INFO("draw " << k);
    CHECK(one[k] == two[k]);
  }
}

TEST_CASE("distribution moments on 1M samples", "[core][random]") {
  et::manual_seed(123);
  const std::int64_t n = 1 << 20;
  const double sn = std::sqrt(static_cast<double>(n));
  // bounds: 6 standard errors of the estimate
  {
    const auto [m, v] = mean_var(et::randn<float>({n}));
    CHECK(std::fabs(m) < 6 / sn);
    CHECK(std::fabs(v - 1) < 6 * std::sqrt(2.0) / sn);
  }
  {
    const auto [m, v] = mean_var(et::randn<double>({n}));
    CHECK(std::fabs(m) < 6 / sn);
    CHECK(std::fabs(v - 1) < 6 * std::sqrt(2.0) / sn);
  }
  {
    const auto [m, v] = mean_var(et::normal<float>({n}, 3, 0.5));
    CHECK(std::fabs(m - 3) < 6 * 0.5 / sn);
    CHECK(std::fabs(v - 0.25) < 6 * 0.25 * std::sqrt(2.0) / sn);
  }
  for (int dtype = 0; dtype < 2; ++dtype) {
    const auto t = dtype == 0 ? et::rand<float>({n}).to<double>() : et::rand<double>({n});
    const auto [m, v] = mean_var(t);
    CHECK(std::fabs(m - 0.5) < 6 * std::sqrt(1.0 / 12) / sn);
    CHECK(std::fabs(v - 1.0 / 12) < 6 * std::sqrt(1.0 / 180) / sn);  // var of (u - 1/2)^2
    double lo = 1, hi = 0;
    for (double x : t) lo = std::min(lo, x), hi = std::max(hi, x);
    CHECK(lo >= 0);
    CHECK(hi < 1);
    CHECK(lo < 1e-4);
    CHECK(hi > 1 - 1e-4);
  }
  {
    const auto u = et::uniform<double>({n}, -2, 6);
    const auto [m, v] = mean_var(u);
    CHECK(std::fabs(m - 2) < 6 * 8 * std::sqrt(1.0 / 12) / sn);
    CHECK(std::fabs(v - 64.0 / 12) < 6 * 64 * std::sqrt(1.0 / 180) / sn);
  }
  // a normal sample's tails: P(|x| > 3) = 0.0027
  const auto z = et::randn<double>({n});
  std::int64_t beyond3 = 0;
  for (double x : z) beyond3 += std::fabs(x) > 3;
  const double expected = 0.0026997960632601866 * static_cast<double>(n);
  CHECK(std::fabs(static_cast<double>(beyond3) - expected) < 6 * std::sqrt(expected));
  CHECK_THROWS_WITH(et::normal<float>({2}, 0, -1), "normal: std must be non-negative, got -1");
}

TEST_CASE("randint stays in the half-open range low..high and covers it evenly", "[core][random]") {
  et::manual_seed(5);
  const std::int64_t n = 600000;
  const auto r = et::randint(-3, 3, {n});
  static_assert(std::is_same_v<decltype(r), const et::Tensor<std::int64_t>>);
  std::map<std::int64_t, std::int64_t> counts;
  for (auto v : r) ++counts[v];
  REQUIRE(counts.size() == 6);
  CHECK(counts.begin()->first == -3);
  CHECK(counts.rbegin()->first == 2);
  double chi2 = 0;
  for (const auto& [v, c] : counts) chi2 += std::pow(static_cast<double>(c) - n / 6.0, 2) / (n / 6.0);
  CHECK(chi2 < 30);  // 5 degrees of freedom: P(chi2 > 30) < 2e-5
  const auto big = et::randint<std::int32_t>(0, 1000000007, {1000});
  for (auto v : big) REQUIRE((v >= 0 && v < 1000000007));
  CHECK(values(et::randint(7, 8, {10})) == std::vector<std::int64_t>(10, 7));
  CHECK_THROWS_WITH(et::randint(3, 3, {2}), "randint: high (3) must be greater than low (3)");
}

TEST_CASE("get_state and set_state continue the exact sequence", "[core][random]") {
  auto& g = et::default_generator();
  et::manual_seed(99);
  (void)et::randn<float>({13});  // move off the start, by an odd number of values
  const auto state = g.get_state();
  CHECK(state.seed == 99);
  CHECK(state.offset == 4);  // 13 floats use 4 Philox blocks of 4 words
  const auto a = et::randn<float>({10});
  const auto b = et::rand<double>({5});
  g.set_state(state);
  CHECK(values(et::randn<float>({10})) == values(a));
  CHECK(values(et::rand<double>({5})) == values(b));
  // restoring into another generator continues the same stream
  et::Generator other(1);
  other.set_state(state);
  CHECK(values(et::randn<float>({10}, other)) == values(a));
  // manual_seed resets the offset
  et::manual_seed(99);
  CHECK(g.get_state().offset == 0);
}
