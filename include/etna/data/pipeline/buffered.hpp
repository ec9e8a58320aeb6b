// Pipeline stages that hold elements: shuffle(buffer, seed) (tf.data's buffer shuffle),
// batch(n, drop_remainder) (collated with etna::data::collate) and cache() (first pass kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"
#include "etna/data/collate.hpp"
#include "etna/data/pipeline/stage.hpp"

namespace etna::data {

namespace pipeline_detail {

// tf.data's shuffle: fill a buffer with the first `capacity` elements; then each output is a
// uniformly chosen buffer slot, refilled from upstream (or dropped once upstream is done).
// Pass p draws from Philox keyed by the seed with counter (k, p): reproducible, and different
// on each pass. A buffer of 1 keeps the order; a buffer >= the data size is a full shuffle.
template <Stage S>
class ShuffleStage {
 public:
  using element_type = typename S::element_type;

  ShuffleStage(S upstream, std::size_t capacity, std::uint64_t seed)
      : upstream_(std::move(upstream)), capacity_(capacity), seed_(seed) {}

  std::optional<element_type> next() {
    begun_ = true;
    if (!filled_) {
      buffer_.reserve(capacity_);
      while (buffer_.size() < capacity_ && pull()) {
      }
      filled_ = true;
    }
    if (buffer_.empty()) return std::nullopt;
    const std::size_t j = draw(buffer_.size());
    std::optional<element_type> out(std::move(buffer_[j]));
    if (!upstream_done_) {
      if (auto e = upstream_.next()) {
        buffer_[j] = std::move(*e);
        return out;
      }
      upstream_done_ = true;
    }
    if (j + 1 != buffer_.size()) buffer_[j] = std::move(buffer_.back());
    buffer_.pop_back();
    return out;
  }

  void reset() {
    if (begun_) ++pass_;
    begun_ = filled_ = upstream_done_ = false;
    buffer_.clear();
    draws_ = 0;
    upstream_.reset();
  }

 private:
  bool pull() {
    if (auto e = upstream_.next()) {
      buffer_.push_back(std::move(*e));
      return true;
    }
    upstream_done_ = true;
    return false;
  }
  std::size_t draw(std::size_t range) {
    const auto r = Philox4x32::generate(seed_, draws_++, pass_);
    const std::uint64_t bits = std::uint64_t{r.v[0]} << 32 | r.v[1];
    return static_cast<std::size_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
  }

  S upstream_;
  std::size_t capacity_;
  std::uint64_t seed_, pass_ = 0, draws_ = 0;
  std::vector<element_type> buffer_;
  bool begun_ = false, filled_ = false, upstream_done_ = false;
};

template <Stage S>
class BatchStage {
 public:
  using example_type = typename S::element_type;
  static_assert(Collatable<example_type>,
                "etna: batch(n) needs elements that collate (Tensors, arithmetic values, or "
                "Examples of them); see etna/data/collate.hpp");
  using element_type = collated_t<example_type>;

  BatchStage(S upstream, std::size_t size, bool drop_remainder)
      : upstream_(std::move(upstream)), size_(size), drop_remainder_(drop_remainder) {}

  std::optional<element_type> next() {
    std::vector<example_type> items;
    items.reserve(size_);
    while (items.size() < size_) {
      auto e = upstream_.next();
      if (!e) break;
      items.push_back(std::move(*e));
    }
    if (items.empty() || (drop_remainder_ && items.size() < size_)) return std::nullopt;
    return collate(items);
  }
  void reset() { upstream_.reset(); }

 private:
  S upstream_;
  std::size_t size_;
  bool drop_remainder_;
};

// The first complete pass is recorded; later passes replay it without touching upstream. A
// pass cut short (take, break) is discarded and the next pass reads upstream again, as tf.data.
// Replayed elements share tensor storage with the cache: do not write into them in place.
template <Stage S>
class CacheStage {
 public:
  using element_type = typename S::element_type;

  explicit CacheStage(S upstream) : upstream_(std::move(upstream)) {}

  std::optional<element_type> next() {
    if (replaying_) {
      if (position_ < cache_.size()) return cache_[position_++];
      return std::nullopt;
    }
    auto e = upstream_.next();
    if (e)
      cache_.push_back(*e);
    else
      complete_ = true;
    return e;
  }
  void reset() {
    position_ = 0;
    if (complete_) {
      replaying_ = true;
      return;
    }
    cache_.clear();
    upstream_.reset();
  }

 private:
  S upstream_;
  std::vector<element_type> cache_;
  std::size_t position_ = 0;
  bool complete_ = false, replaying_ = false;
};

struct ShuffleAdaptor {
  using pipeline_adaptor = void;
  std::size_t capacity;
  std::uint64_t seed;
  template <Stage S>
  auto apply(S upstream) const {
    return ShuffleStage<S>(std::move(upstream), capacity, seed);
  }
};

struct BatchAdaptor {
  using pipeline_adaptor = void;
  std::size_t size;
  bool drop_remainder;
  template <Stage S>
  auto apply(S upstream) const {
    return BatchStage<S>(std::move(upstream), size, drop_remainder);
  }
};

struct CacheAdaptor {
  using pipeline_adaptor = void;
  template <Stage S>
  auto apply(S upstream) const {
    return CacheStage<S>(std::move(upstream));
  }
};

}  // namespace pipeline_detail

// Shuffles through a buffer of `buffer_size` elements (see ShuffleStage). Without a seed, one
// is drawn from etna's default generator now, so et::manual_seed(s) beforehand reproduces it.
inline auto shuffle(std::int64_t buffer_size, std::optional<std::uint64_t> seed = std::nullopt) {
  if (buffer_size < 1)
    throw value_error(
        etna::detail::str("shuffle: buffer_size must be at least 1, got ", buffer_size));
  if (!seed) {
    const RandomStream s = default_generator().reserve(1);
    const auto r = Philox4x32::generate(s.seed, s.offset);
    seed = std::uint64_t{r.v[0]} << 32 | r.v[1];
  }
  return pipeline_detail::ShuffleAdaptor{static_cast<std::size_t>(buffer_size), *seed};
}

// Groups n consecutive elements into one collated batch (Tensors stacked along a new dim 0,
// scalars gathered into 1-d tensors); the last batch may be smaller unless drop_remainder.
inline auto batch(std::int64_t n, bool drop_remainder = false) {
  if (n < 1) throw value_error(etna::detail::str("batch: batch size must be at least 1, got ", n));
  return pipeline_detail::BatchAdaptor{static_cast<std::size_t>(n), drop_remainder};
}

// Keeps the elements of the first complete pass in memory and replays them afterwards.
inline auto cache() { return pipeline_detail::CacheAdaptor{}; }

}  // namespace etna::data
