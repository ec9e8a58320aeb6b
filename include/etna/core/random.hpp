// Counter-based random numbers (Philox4x32-10): element i of a draw depends only on the seed,
// the draw's starting offset and i, so results are identical on every backend and thread count.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "etna/core/macros.hpp"

namespace etna {

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
struct Philox4x32 {
  std::uint32_t v[4];

  ETNA_HD static Philox4x32 generate(std::uint64_t key, std::uint64_t counter_lo,
                                     std::uint64_t counter_hi = 0) {
    std::uint32_t c0 = static_cast<std::uint32_t>(counter_lo);
    std::uint32_t c1 = static_cast<std::uint32_t>(counter_lo >> 32);
    std::uint32_t c2 = static_cast<std::uint32_t>(counter_hi);
    std::uint32_t c3 = static_cast<std::uint32_t>(counter_hi >> 32);
    std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c0;
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c2;
      const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return {{c0, c1, c2, c3}};
  }
};

// Uniform [0, 1) from 24 (float) or 53 (double) random bits.
ETNA_HD inline float uniform_float(std::uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}
ETNA_HD inline double uniform_double(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (std::uint64_t{hi} << 32 | lo) >> 11;
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

// Where a draw starts in the stream: the seed (Philox key) and the first 128-bit block.
struct RandomStream {
  std::uint64_t seed;
  std::uint64_t offset;
};

// A generator is a seed plus a block counter; each draw reserves the blocks it uses.
// The default generator is process-wide and thread-safe, like PyTorch's.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x853c49e6748fea9bULL) : seed_(seed), offset_(0) {}

  void manual_seed(std::uint64_t seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
    offset_.store(0);
  }
  std::uint64_t seed() const { return seed_; }

  // Reserves `blocks` Philox blocks and returns where they start.
  RandomStream reserve(std::uint64_t blocks) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::uint64_t start = offset_.fetch_add(blocks);
    return {seed_, start};
  }

  // State for checkpoints: restoring it continues the exact same sequence.
  RandomStream get_state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {seed_, offset_.load()};
  }
  void set_state(RandomStream s) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = s.seed;
    offset_.store(s.offset);
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t seed_;
  std::atomic<std::uint64_t> offset_;
};

inline Generator& default_generator() {
  static Generator g;
  return g;
}

// Seeds the default generator: randn/rand/randint, dropout and shuffling become reproducible.
inline void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

namespace random_detail {

// The i-th value of a draw, for each distribution. Floats use one 32-bit word per uniform
// (4 per block); doubles use two words (2 per block); normals pair uniforms by Box-Muller.
template <class T>
ETNA_HD T uniform_at(RandomStream s, std::uint64_t i) {
  if constexpr (sizeof(T) == 4) {
    const auto r = Philox4x32::generate(s.seed, s.offset + i / 4);
    return uniform_float(r.v[i % 4]);
  } else {
    const auto r = Philox4x32::generate(s.seed, s.offset + i / 2);
    const unsigned w = static_cast<unsigned>(i % 2) * 2;
    return uniform_double(r.v[w], r.v[w + 1]);
  }
}

template <class T>
ETNA_HD T normal_at(RandomStream s, std::uint64_t i) {
  constexpr T two_pi = T(6.283185307179586476925);
  T u1, u2;
  if constexpr (sizeof(T) == 4) {
    const auto r = Philox4x32::generate(s.seed, s.offset + i / 4);
    const unsigned w = static_cast<unsigned>(i % 4) / 2 * 2;
    u1 = uniform_float(r.v[w]);
    u2 = uniform_float(r.v[w + 1]);
  } else {
    const auto r = Philox4x32::generate(s.seed, s.offset + i / 2);
    u1 = uniform_double(r.v[0], r.v[1]);
    u2 = uniform_double(r.v[2], r.v[3]);
  }
  const T radius = std::sqrt(T(-2) * std::log(T(1) - u1));  // 1 - u1 is in (0, 1]
  const T angle = two_pi * u2;
  return i % 2 == 0 ? radius * std::cos(angle) : radius * std::sin(angle);
}

// Uniform integer in [0, range) from 64 random bits (bias below 2^-32 for ranges < 2^32).
ETNA_HD inline std::uint64_t integer_at(RandomStream s, std::uint64_t i, std::uint64_t range) {
  const auto r = Philox4x32::generate(s.seed, s.offset + i / 2);
  const unsigned w = static_cast<unsigned>(i % 2) * 2;
  const std::uint64_t bits = std::uint64_t{r.v[w]} << 32 | r.v[w + 1];
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
}

// Blocks a draw of n values uses, per distribution and element size.
template <class T>
constexpr std::uint64_t blocks_for(std::uint64_t n) {
  return sizeof(T) == 4 ? (n + 3) / 4 : (n + 1) / 2;
}

}  // namespace random_detail
}  // namespace etna
