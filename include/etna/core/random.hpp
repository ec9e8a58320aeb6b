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

  // Blocks counter_lo, counter_lo + 1, ... counter_lo + 15 at once (counter_hi = 0), the same
  // values as 16 generate() calls. Host only: the lanes are independent, so the compiler turns
  // each round into a few vector multiplies (vpmuludq) instead of 16 scalar chains.
  static constexpr int kLanes = 16;
  static void generate_lanes(std::uint64_t key, std::uint64_t counter_lo,
                             std::uint32_t (&out)[4][kLanes]) {
    std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const std::uint64_t c = counter_lo + static_cast<std::uint64_t>(l);
      c0[l] = static_cast<std::uint32_t>(c);
      c1[l] = static_cast<std::uint32_t>(c >> 32);
      c2[l] = 0;
      c3[l] = 0;
    }
    std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      for (int l = 0; l < kLanes; ++l) {
        const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c0[l];
        const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c2[l];
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
        c1[l] = static_cast<std::uint32_t>(p1);
        c3[l] = static_cast<std::uint32_t>(p0);
        c0[l] = n0;
        c2[l] = n2;
      }
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    for (int l = 0; l < kLanes; ++l) {
      out[0][l] = c0[l];
      out[1][l] = c1[l];
      out[2][l] = c2[l];
      out[3][l] = c3[l];
    }
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

// Box-Muller's log and sine/cosine from IEEE-exact operations only (+, -, *, /, fma, sqrt,
// frexp), never the platform's libm: glibc's and CUDA's log/sin/cos differ in the last bit, and
// a seed must give the same normals on the CPU and the GPU. Products that meet a sum go through
// std::fma so that no compiler contracts them differently. Accurate to a few double ulps.
namespace portable {
constexpr double inverse_factorial(int n) {
  double f = 1;
  for (int k = 2; k <= n; ++k) f *= k;
  return 1 / f;
}
// Horner steps p = p z + c_k for k = K down to 0, the coefficients c_k compile-time constants:
// atanh's 1 / (2k + 1), sine's (-1)^k / (2k + 1)!, cosine's (-1)^k / (2k)!.
enum class Series { atanh, sin, cos };
template <Series S, int K>
ETNA_HD inline double horner(double z, double p) {
  constexpr double sign = (S != Series::atanh && K % 2) ? -1.0 : 1.0;
  constexpr double c = S == Series::atanh ? 1.0 / (2 * K + 1)
                       : S == Series::sin ? sign * inverse_factorial(2 * K + 1)
                                          : sign * inverse_factorial(2 * K);
  p = std::fma(p, z, c);
  if constexpr (K > 0) return horner<S, K - 1>(z, p);
  else return p;
}
// log(x) for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s),
// s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^23.
ETNA_HD inline double log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1);
  const double p = horner<Series::atanh, 10>(s * s, 1.0 / 23);
  return std::fma(static_cast<double>(e), 0.69314718055994530942, 2 * s * p);
}
// sin and cos of 2 pi u for u in [0, 1): the quadrant from 4u (exact), then the Taylor series
// to t^23 of the angle t in [0, pi/2).
ETNA_HD inline void sincos_turns(double u, double& sin_out, double& cos_out) {
  const double q4 = u * 4;
  const int quadrant = static_cast<int>(q4);
  const double t = (q4 - quadrant) * 1.57079632679489661923;
  const double t2 = t * t;
  const double sin_t = t * horner<Series::sin, 10>(t2, inverse_factorial(23));
  const double cos_t = horner<Series::cos, 10>(t2, -inverse_factorial(22));
  switch (quadrant & 3) {
    case 0: sin_out = sin_t; cos_out = cos_t; break;
    case 1: sin_out = cos_t; cos_out = -sin_t; break;
    case 2: sin_out = -sin_t; cos_out = -cos_t; break;
    default: sin_out = -cos_t; cos_out = sin_t; break;
  }
}
}  // namespace portable

template <class T>
ETNA_HD T normal_at(RandomStream s, std::uint64_t i) {
  double u1, u2;
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
  const double radius = std::sqrt(-2 * portable::log(1 - u1));  // 1 - u1 is exact, in (0, 1]
  double sin_a, cos_a;
  portable::sincos_turns(u2, sin_a, cos_a);
  return static_cast<T>(i % 2 == 0 ? radius * cos_a : radius * sin_a);
}

// Uniform integer in [0, range) from 64 random bits (bias below 2^-32 for ranges < 2^32).
ETNA_HD inline std::uint64_t integer_at(RandomStream s, std::uint64_t i, std::uint64_t range) {
  const auto r = Philox4x32::generate(s.seed, s.offset + i / 2);
  const unsigned w = static_cast<unsigned>(i % 2) * 2;
  const std::uint64_t bits = std::uint64_t{r.v[w]} << 32 | r.v[w + 1];
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
}

// a * b + c rounded twice (never fused into one FMA), so that a draw scaled on the device gives
// the CPU's bits: nvcc contracts a * b + c by default, g++ does not under -std=c++20.
ETNA_HD inline double mul_add_unfused(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(__dmul_rn(a, b), c);
#else
  return a * b + c;
#endif
}

// The value of element i of each distribution's draw, as functors: they run in the CPU's
// parallel fill and in the device's fill kernel (backend/cuda/random.hpp) alike.
template <class T>
struct UniformDraw {
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const { return uniform_at<T>(s, i); }
};
template <class T>
struct UniformRangeDraw {  // uniform on [low, high)
  double low, high;
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const {
    return static_cast<T>(mul_add_unfused(high - low, uniform_at<T>(s, i), low));
  }
};
template <class T>
struct NormalDraw {
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const { return normal_at<T>(s, i); }
};
template <class T>
struct NormalScaledDraw {  // mean + std * N(0, 1)
  double mean, std;
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const {
    return static_cast<T>(mul_add_unfused(std, normal_at<T>(s, i), mean));
  }
};
template <class T>
struct IntegerDraw {  // uniform integers on [low, low + range)
  std::int64_t low;
  std::uint64_t range;
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const {
    return static_cast<T>(low + static_cast<std::int64_t>(integer_at(s, i, range)));
  }
};
template <class T>
struct BernoulliDraw {  // 1 with probability p, else 0
  double p;
  ETNA_HD T operator()(RandomStream s, std::uint64_t i) const {
    return uniform_at<double>(s, i) < p ? T(1) : T(0);
  }
};

// Blocks a draw of n values uses, per distribution and element size.
template <class T>
constexpr std::uint64_t blocks_for(std::uint64_t n) {
  return sizeof(T) == 4 ? (n + 3) / 4 : (n + 1) / 2;
}

}  // namespace random_detail
}  // namespace etna
