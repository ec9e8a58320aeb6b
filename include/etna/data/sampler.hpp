// Samplers: the order in which a loader visits a dataset, one index sequence per epoch.
// Sequential, Random (seeded Fisher-Yates), WeightedRandom, Batch, Distributed (as PyTorch).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"

namespace etna::data {

// A sampler yields the dataset indices of one epoch. set_epoch(e) selects the epoch; a random
// sampler's order is a pure function of (seed, epoch), so any process or thread that knows both
// gets the same sequence, and resuming at epoch e repeats it exactly.
template <class S>
concept Sampler = std::copy_constructible<S> && requires(S& s, const S& cs, std::uint64_t e) {
  { cs.size() } -> std::convertible_to<std::size_t>;  // indices per epoch
  { cs.indices() } -> std::convertible_to<std::vector<std::size_t>>;
  s.set_epoch(e);
};

namespace sampler_detail {

// Uses of one seed draw from disjoint Philox streams (the tag sits in the counter's top byte).
enum class Stream : std::uint64_t {
  permutation = 1,
  with_replacement = 2,
  weighted = 3,
  batch_seed = 4,
  sample_seed = 5,
  seed_draw = 6
};

// Random 64-bit word number i of stream (seed, epoch, tag): Philox keyed by the seed.
inline std::uint64_t random_word(std::uint64_t seed, std::uint64_t epoch, Stream tag,
                                 std::uint64_t i) {
  const std::uint64_t hi = (epoch & 0x00FFFFFFFFFFFFFFull) | static_cast<std::uint64_t>(tag) << 56;
  const auto r = Philox4x32::generate(seed, i / 2, hi);
  const unsigned w = static_cast<unsigned>(i % 2) * 2;
  return std::uint64_t{r.v[w]} << 32 | r.v[w + 1];
}
// Uniform in [0, range) (Lemire's multiply; bias below 2^-32 for ranges < 2^32).
inline std::uint64_t below(std::uint64_t word, std::uint64_t range) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(word) * range) >> 64);
}
// Uniform in [0, 1) with 53 bits.
inline double unit(std::uint64_t word) {
  return static_cast<double>(word >> 11) * (1.0 / 9007199254740992.0);
}

// A fresh seed from the default generator, so et::manual_seed makes "no seed given" reproducible.
inline std::uint64_t draw_seed() {
  const RandomStream s = default_generator().reserve(1);
  return random_word(s.seed, s.offset, Stream::seed_draw, 0);
}

// Fisher-Yates over 0..n-1; swap k uses word `first + k` of the stream.
inline void shuffle_into(std::vector<std::size_t>& out, std::size_t n, std::uint64_t seed,
                         std::uint64_t epoch, std::uint64_t first) {
  const std::size_t base = out.size();
  for (std::size_t i = 0; i < n; ++i) out.push_back(i);
  std::size_t* p = out.data() + base;
  for (std::size_t i = n; i > 1; --i) {
    const auto word = random_word(seed, epoch, Stream::permutation, first + (n - i));
    std::swap(p[i - 1], p[below(word, i)]);
  }
}

}  // namespace sampler_detail

// 0, 1, ..., n-1 every epoch.
class SequentialSampler {
 public:
  explicit SequentialSampler(std::size_t n) : n_(n) {}
  std::size_t size() const { return n_; }
  std::vector<std::size_t> indices() const {
    std::vector<std::size_t> out(n_);
    std::iota(out.begin(), out.end(), std::size_t{0});
    return out;
  }
  void set_epoch(std::uint64_t) {}

 private:
  std::size_t n_;
};

struct RandomSamplerOptions {
  bool replacement = false;
  std::size_t num_samples = 0;                       // 0: the dataset size
  std::optional<std::uint64_t> seed = std::nullopt;  // default: drawn from the default generator
};

// A random order of 0..n-1 (a Fisher-Yates shuffle), or num_samples uniform draws with
// replacement. Without replacement and num_samples > n, whole permutations are concatenated
// and the last one cut short, as PyTorch does. The order depends only on (seed, epoch).
class RandomSampler {
 public:
  explicit RandomSampler(std::size_t n, RandomSamplerOptions options = {})
      : n_(n),
        num_samples_(options.num_samples ? options.num_samples : n),
        replacement_(options.replacement),
        seed_(options.seed ? *options.seed : sampler_detail::draw_seed()) {
    if (n_ == 0 && num_samples_ > 0)
      throw value_error(etna::detail::str("RandomSampler: cannot draw ", num_samples_,
                                    " samples from an empty dataset"));
  }
  std::size_t size() const { return num_samples_; }
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  std::uint64_t epoch() const { return epoch_; }
  std::uint64_t seed() const { return seed_; }

  std::vector<std::size_t> indices() const {
    std::vector<std::size_t> out;
    out.reserve(num_samples_);
    if (replacement_) {
      for (std::size_t i = 0; i < num_samples_; ++i)
        out.push_back(static_cast<std::size_t>(sampler_detail::below(
            sampler_detail::random_word(seed_, epoch_, sampler_detail::Stream::with_replacement, i),
            n_)));
      return out;
    }
    for (std::size_t round = 0; out.size() < num_samples_; ++round)
      sampler_detail::shuffle_into(out, n_, seed_, epoch_, round * n_);
    out.resize(num_samples_);
    return out;
  }

 private:
  std::size_t n_, num_samples_;
  bool replacement_;
  std::uint64_t seed_, epoch_ = 0;
};

// Index i with probability proportional to weights[i] (PyTorch's WeightedRandomSampler).
// Without replacement it draws like torch.multinomial: each pick removes its index, through
// the equivalent one-pass Efraimidis-Spirakis keys log(u) / w (largest first).
class WeightedRandomSampler {
 public:
  WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples,
                        bool replacement = true, std::optional<std::uint64_t> seed = std::nullopt)
      : weights_(std::move(weights)),
        num_samples_(num_samples),
        replacement_(replacement),
        seed_(seed ? *seed : sampler_detail::draw_seed()) {
    if (weights_.empty())
      throw value_error("WeightedRandomSampler: expected at least one weight, got none");
    std::size_t nonzero = 0;
    double total = 0;
    cumulative_.reserve(weights_.size());
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      const double w = weights_[i];
      if (!std::isfinite(w) || w < 0)
        throw value_error(etna::detail::str("WeightedRandomSampler: weight ", i, " is ", w,
                                      "; weights must be finite and non-negative"));
      if (w > 0) {
        ++nonzero;
        last_positive_ = i;
      }
      total += w;
      cumulative_.push_back(total);
    }
    if (nonzero == 0)
      throw value_error("WeightedRandomSampler: all weights are zero; nothing can be drawn");
    if (!replacement_ && num_samples_ > nonzero)
      throw value_error(etna::detail::str("WeightedRandomSampler: cannot draw ", num_samples_,
                                    " samples without replacement from ", nonzero,
                                    " indices with a positive weight"));
  }
  std::size_t size() const { return num_samples_; }
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  std::uint64_t seed() const { return seed_; }
  const std::vector<double>& weights() const { return weights_; }

  std::vector<std::size_t> indices() const {
    using sampler_detail::random_word, sampler_detail::unit, sampler_detail::Stream;
    std::vector<std::size_t> out;
    out.reserve(num_samples_);
    if (replacement_) {
      const double total = cumulative_.back();
      for (std::size_t i = 0; i < num_samples_; ++i) {
        const double u = unit(random_word(seed_, epoch_, Stream::weighted, i)) * total;
        // The first index whose cumulative weight exceeds u: never a zero-weight index.
        auto k = static_cast<std::size_t>(
            std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
        out.push_back(std::min(k, last_positive_));  // u rounded up to the total
      }
      return out;
    }
    std::vector<std::pair<double, std::size_t>> keys;
    keys.reserve(weights_.size());
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      if (weights_[i] <= 0) continue;
      const double u = 1.0 - unit(random_word(seed_, epoch_, Stream::weighted, i));  // (0, 1]
      keys.emplace_back(std::log(u) / weights_[i], i);
    }
    std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(num_samples_),
                      keys.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = 0; i < num_samples_; ++i) out.push_back(keys[i].second);
    return out;
  }

 private:
  std::vector<double> weights_, cumulative_;
  std::size_t num_samples_, last_positive_ = 0;
  bool replacement_;
  std::uint64_t seed_, epoch_ = 0;
};

// Groups another sampler's indices into batches of batch_size (the last one smaller unless
// drop_last).
template <Sampler S>
class BatchSampler {
 public:
  BatchSampler(S sampler, std::int64_t batch_size, bool drop_last = false)
      : sampler_(std::move(sampler)), batch_size_(batch_size), drop_last_(drop_last) {
    if (batch_size_ < 1)
      throw value_error(
          etna::detail::str("BatchSampler: batch_size must be at least 1, got ", batch_size_));
  }
  // Number of batches per epoch.
  std::size_t size() const {
    const std::size_t n = sampler_.size(), b = static_cast<std::size_t>(batch_size_);
    return drop_last_ ? n / b : (n + b - 1) / b;
  }
  void set_epoch(std::uint64_t epoch) { sampler_.set_epoch(epoch); }
  std::vector<std::vector<std::size_t>> batches() const {
    const std::vector<std::size_t> all = sampler_.indices();
    const std::size_t b = static_cast<std::size_t>(batch_size_);
    std::vector<std::vector<std::size_t>> out;
    out.reserve(size());
    for (std::size_t start = 0; start < all.size(); start += b) {
      const std::size_t end = std::min(all.size(), start + b);
      if (drop_last_ && end - start < b) break;
      out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(start),
                       all.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return out;
  }
  const S& sampler() const { return sampler_; }
  std::int64_t batch_size() const { return batch_size_; }
  bool drop_last() const { return drop_last_; }

 private:
  S sampler_;
  std::int64_t batch_size_;
  bool drop_last_;
};

struct DistributedSamplerOptions {
  bool shuffle = true;
  std::uint64_t seed = 0;  // every rank must use the same seed, so no default draw (as PyTorch)
  bool drop_last = false;
};

// The share of one rank among `world` data-parallel processes (PyTorch's DistributedSampler).
// All ranks shuffle 0..n-1 identically from (seed, epoch); without drop_last the list is padded
// by wrapping around to a multiple of world, so every rank gets ceil(n / world) indices; with
// drop_last the tail is cut so every rank gets floor(n / world). Rank r takes every world-th
// index starting at r, so the shards are disjoint apart from the padding.
class DistributedSampler {
 public:
  DistributedSampler(std::size_t n, std::int64_t rank, std::int64_t world,
                     DistributedSamplerOptions options = {})
      : n_(n), rank_(rank), world_(world), options_(options) {
    if (world_ < 1)
      throw value_error(
          etna::detail::str("DistributedSampler: world size must be at least 1, got ", world_));
    if (rank_ < 0 || rank_ >= world_)
      throw value_error(etna::detail::str("DistributedSampler: rank ", rank_,
                                    " is out of range for world size ", world_,
                                    " (expected 0 <= rank < world)"));
    const auto w = static_cast<std::size_t>(world_);
    num_samples_ = options_.drop_last ? n_ / w : (n_ + w - 1) / w;
    total_size_ = num_samples_ * w;
  }
  std::size_t size() const { return num_samples_; }
  std::size_t total_size() const { return total_size_; }
  std::int64_t rank() const { return rank_; }
  std::int64_t world_size() const { return world_; }
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }

  std::vector<std::size_t> indices() const {
    std::vector<std::size_t> all;
    all.reserve(std::max(n_, total_size_));
    if (options_.shuffle)
      sampler_detail::shuffle_into(all, n_, options_.seed, epoch_, 0);
    else
      for (std::size_t i = 0; i < n_; ++i) all.push_back(i);
    if (all.size() < total_size_ && n_ > 0)  // pad by wrapping around, repeatedly if needed
      for (std::size_t i = 0; all.size() < total_size_; ++i) all.push_back(all[i % n_]);
    all.resize(total_size_);
    std::vector<std::size_t> out;
    out.reserve(num_samples_);
    for (std::size_t i = static_cast<std::size_t>(rank_); i < total_size_;
         i += static_cast<std::size_t>(world_))
      out.push_back(all[i]);
    return out;
  }

 private:
  std::size_t n_;
  std::int64_t rank_, world_;
  DistributedSamplerOptions options_;
  std::size_t num_samples_ = 0, total_size_ = 0;
  std::uint64_t epoch_ = 0;
};

}  // namespace etna::data
