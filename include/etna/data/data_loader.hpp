// DataLoader: batches of a Dataset, one epoch per begin(), shuffled from a seed; background
// worker threads may load batches ahead, delivered in order so results match num_workers = 0.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"
#include "etna/data/collate.hpp"
#include "etna/data/dataset.hpp"
#include "etna/data/sampler.hpp"

namespace etna::data {

struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  // Seed of the shuffle and of the per-batch seeds. Default: drawn from etna's default generator
  // when the loader is built, so et::manual_seed(s) beforehand makes a run reproducible.
  std::optional<std::uint64_t> seed = std::nullopt;
  int num_workers = 0;      // loading threads; 0 loads each batch in the consuming thread
  int prefetch_factor = 2;  // batches loaded ahead per worker
};

// Seeds for random augmentation, derived only from (loader seed, epoch, batch index[, position
// in the batch]) so results do not depend on which thread loads what.
inline std::uint64_t batch_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t batch) {
  return sampler_detail::random_word(seed, epoch, sampler_detail::Stream::batch_seed, batch);
}
inline std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t batch,
                                 std::uint64_t position) {
  return sampler_detail::random_word(batch_seed(seed, epoch, batch), 0,
                                     sampler_detail::Stream::sample_seed, position);
}

// What the loader is doing while it calls dataset.get(i) in this thread. A dataset wrapper that
// augments randomly seeds an etna::Generator with sample_seed() so that the same loader seed
// gives the same augmented batches for any num_workers.
struct LoadContext {
  std::uint64_t seed = 0;  // the loader's seed
  std::uint64_t epoch = 0;
  std::size_t batch_index = 0;  // batch number within the epoch
  std::size_t position = 0;     // example number within the batch
  std::size_t index = 0;        // the dataset index being loaded
  int worker_id = -1;           // -1: loading in the consuming thread
  int num_workers = 0;
  std::uint64_t batch_seed() const { return data::batch_seed(seed, epoch, batch_index); }
  std::uint64_t sample_seed() const {
    return data::sample_seed(seed, epoch, batch_index, position);
  }
};

namespace loader_detail {
inline const LoadContext*& context_slot() {
  thread_local const LoadContext* current = nullptr;
  return current;
}
struct ContextScope {
  explicit ContextScope(const LoadContext* c) : saved(context_slot()) { context_slot() = c; }
  ~ContextScope() { context_slot() = saved; }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;
  const LoadContext* saved;
};
}  // namespace loader_detail

// The context of the dataset.get(i) call running in this thread; nullptr outside a DataLoader.
inline const LoadContext* current_load_context() { return loader_detail::context_slot(); }

namespace loader_detail {

// One pass over the data: its index order, the consumer's position and batch, and the workers.
// Worker w claims the next unclaimed batch k only while k < consumed + capacity, loads it
// without holding the lock and leaves it (or its exception) in slot k % capacity; the consumer
// takes slots strictly in order. Batch k's content depends only on k, hence the determinism.
template <class DS>
class Epoch {
 public:
  using example_type = example_t<DS>;
  using batch_type = collated_t<example_type>;

  Epoch(std::shared_ptr<const DS> dataset, std::vector<std::size_t> indices,
        const DataLoaderOptions& o, std::uint64_t seed, std::uint64_t epoch)
      : dataset_(std::move(dataset)),
        indices_(std::move(indices)),
        batch_size_(static_cast<std::size_t>(o.batch_size)),
        num_batches_(o.drop_last ? indices_.size() / batch_size_
                                 : (indices_.size() + batch_size_ - 1) / batch_size_),
        seed_(seed),
        epoch_(epoch),
        num_workers_(o.num_workers),
        capacity_(static_cast<std::size_t>(o.num_workers) *
                  static_cast<std::size_t>(o.prefetch_factor)),
        slots_(capacity_) {}
  ~Epoch() { stop(); }
  Epoch(const Epoch&) = delete;
  Epoch& operator=(const Epoch&) = delete;

  // Starts the workers and makes batch 0 current.
  void start() {
    if (num_batches_ == 0) return;
    const auto threads = std::min(static_cast<std::size_t>(num_workers_), num_batches_);
    try {
      for (std::size_t w = 0; w < threads; ++w)
        workers_.emplace_back([this, w] { work(static_cast<int>(w)); });
    } catch (...) {
      stop();
      throw;
    }
    fetch();
  }

  bool at_end() const { return position_ >= num_batches_; }
  std::size_t position() const { return position_; }
  std::uint64_t epoch() const { return epoch_; }
  std::uint64_t seed() const { return seed_; }
  batch_type& current() { return *current_; }

  void advance() {
    if (cancelled_)
      throw value_error(
          "DataLoader: this iterator's epoch was ended by a later begin() or by destroying "
          "the loader; iterate one epoch at a time");
    if (at_end()) return;
    if (++position_ == num_batches_) {
      current_.reset();
      stop();
      return;
    }
    fetch();
  }

  // Ends the epoch early (a later begin() or the loader's destruction): joins the workers.
  void cancel() {
    cancelled_ = true;
    stop();
  }

 private:
  struct Slot {
    bool ready = false;
    std::optional<batch_type> batch;
    std::exception_ptr error;
  };

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    space_.notify_all();
    for (auto& t : workers_)
      if (t.joinable()) t.join();
  }

  batch_type load(std::size_t k, int worker) const {
    const std::size_t first = k * batch_size_;
    const std::size_t last = std::min(indices_.size(), first + batch_size_);
    LoadContext ctx;
    ctx.seed = seed_;
    ctx.epoch = epoch_;
    ctx.batch_index = k;
    ctx.worker_id = worker;
    ctx.num_workers = num_workers_;
    const ContextScope scope(&ctx);
    std::vector<example_type> examples;
    examples.reserve(last - first);
    for (std::size_t p = first; p < last; ++p) {
      ctx.position = p - first;
      ctx.index = indices_[p];
      examples.push_back(dataset_->get(indices_[p]));
    }
    return collate(examples);
  }

  // Makes batch position_ current; a failed batch ends the epoch and rethrows here.
  void fetch() {
    try {
      if (workers_.empty()) {
        current_.emplace(load(position_, -1));
        return;
      }
      Slot slot;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        Slot& s = slots_[position_ % capacity_];
        ready_.wait(lock, [&] { return s.ready; });
        slot = std::move(s);
        s = Slot{};
        consumed_ = position_ + 1;
      }
      space_.notify_all();
      if (slot.error) std::rethrow_exception(slot.error);
      current_ = std::move(slot.batch);
    } catch (...) {
      position_ = num_batches_;
      current_.reset();
      stop();
      throw;
    }
  }

  void work(int worker) {
    for (;;) {
      std::size_t k;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [&] {
          return stopping_ || claimed_ >= num_batches_ || claimed_ < consumed_ + capacity_;
        });
        if (stopping_ || claimed_ >= num_batches_) return;
        k = claimed_++;
      }
      Slot slot;
      try {
        slot.batch.emplace(load(k, worker));
      } catch (...) {
        slot.error = std::current_exception();
      }
      slot.ready = true;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slots_[k % capacity_] = std::move(slot);
      }
      ready_.notify_one();
    }
  }

  std::shared_ptr<const DS> dataset_;
  std::vector<std::size_t> indices_;
  std::size_t batch_size_, num_batches_;
  std::uint64_t seed_, epoch_;
  int num_workers_;
  std::size_t capacity_;

  // Consumer side (the iterating thread only).
  std::size_t position_ = 0;
  std::optional<batch_type> current_;
  bool cancelled_ = false;

  // Shared with the workers, under mutex_.
  std::mutex mutex_;
  std::condition_variable ready_, space_;  // a slot was filled / a claim may be possible
  std::vector<Slot> slots_;
  std::size_t claimed_ = 0, consumed_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace loader_detail

// Batches of a dataset, PyTorch's DataLoader for map-style datasets:
//
//   et::data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (auto& [xb, yb] : loader) { ... }   // xb: Tensor [64, ...], yb: Tensor<int64_t> [64]
//
// Ownership: an lvalue dataset is held by reference (DataLoader<D&>; it must outlive the
// loader), an rvalue is moved into the loader (DataLoader<D>). Each begin() starts the next
// epoch (0, 1, 2, ...; set_epoch changes which); with shuffle the order is a function of
// (seed, epoch) only. Only one epoch runs at a time: begin() ends the previous one, and
// advancing an iterator of an ended epoch throws. Destroying the loader, or the iterator of an
// unfinished epoch (a `break`), stops and joins the workers.
template <class D>
  requires Dataset<std::remove_cvref_t<D>>
class DataLoader {
 public:
  using dataset_type = std::remove_cvref_t<D>;
  using example_type = example_t<dataset_type>;
  static_assert(Collatable<example_type>,
                "etna::data::DataLoader: dataset.get(i) must return an Example whose fields are "
                "Tensors or arithmetic values (or one such value); see etna/data/collate.hpp");
  using batch_type = collated_t<example_type>;
  class iterator;

  explicit DataLoader(D&& dataset, DataLoaderOptions options = {})
      : DataLoader(hold(std::forward<D>(dataset)), options, nullptr) {}

  // Visits the indices a sampler yields (set_epoch(e) is called before epoch e), e.g. a
  // DistributedSampler. shuffle must stay false: the sampler decides the order.
  template <Sampler S>
  DataLoader(D&& dataset, S sampler, DataLoaderOptions options = {})
      : DataLoader(hold(std::forward<D>(dataset)), options, &sampler) {}

  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  DataLoader(DataLoader&&) noexcept = default;
  DataLoader& operator=(DataLoader&& other) noexcept {
    if (this != &other) {
      end_epoch();
      dataset_ = std::move(other.dataset_);
      options_ = other.options_;
      seed_ = other.seed_;
      epoch_ = other.epoch_;
      num_indices_ = other.num_indices_;
      index_source_ = std::move(other.index_source_);
      active_ = std::move(other.active_);
    }
    return *this;
  }
  ~DataLoader() { end_epoch(); }

  // Starts the next epoch and returns an iterator at its first batch.
  iterator begin() {
    end_epoch();
    const std::uint64_t e = epoch_++;
    std::vector<std::size_t> indices = index_source_(e);
    const std::size_t n = dataset_->size();
    for (std::size_t i : indices)
      if (i >= n)
        throw index_error(
            etna::detail::str("DataLoader: the sampler yielded index ", i, " for a dataset of size ", n));
    auto epoch = std::make_shared<Epoch>(dataset_, std::move(indices), options_, seed_, e);
    active_ = epoch;
    epoch->start();
    return iterator(std::move(epoch));
  }
  std::default_sentinel_t end() const { return {}; }

  // Batches per epoch.
  std::size_t size() const {
    const auto b = static_cast<std::size_t>(options_.batch_size);
    return options_.drop_last ? num_indices_ / b : (num_indices_ + b - 1) / b;
  }
  // The epoch the next begin() starts; set_epoch(e) makes it e (to resume a run, say).
  std::uint64_t epoch() const { return epoch_; }
  void set_epoch(std::uint64_t e) { epoch_ = e; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t batch_seed(std::uint64_t epoch, std::size_t batch) const {
    return data::batch_seed(seed_, epoch, batch);
  }
  const DataLoaderOptions& options() const { return options_; }
  const dataset_type& dataset() const { return *dataset_; }

 private:
  using Epoch = loader_detail::Epoch<dataset_type>;
  using IndexSource = std::function<std::vector<std::size_t>(std::uint64_t)>;

  // A reference is held through a non-owning shared_ptr, so both cases share one code path and
  // an epoch keeps an owned dataset alive however long its iterator lives.
  static std::shared_ptr<const dataset_type> hold(D&& dataset) {
    if constexpr (std::is_lvalue_reference_v<D>)
      return std::shared_ptr<const dataset_type>(std::shared_ptr<const dataset_type>(), &dataset);
    else
      return std::make_shared<const dataset_type>(std::move(dataset));
  }

  // `sampler` is nullptr (shuffle or sequential order from the options) or a Sampler*.
  template <class P>
  DataLoader(std::shared_ptr<const dataset_type> dataset, DataLoaderOptions options, P sampler)
      : dataset_(std::move(dataset)), options_(options) {
    if (options_.batch_size < 1)
      throw value_error(
          etna::detail::str("DataLoader: batch_size must be at least 1, got ", options_.batch_size));
    if (options_.num_workers < 0)
      throw value_error(
          etna::detail::str("DataLoader: num_workers must be non-negative, got ", options_.num_workers));
    if (options_.prefetch_factor < 1)
      throw value_error(etna::detail::str("DataLoader: prefetch_factor must be at least 1, got ",
                                    options_.prefetch_factor));
    seed_ = options_.seed ? *options_.seed : sampler_detail::draw_seed();
    if constexpr (std::is_same_v<P, std::nullptr_t>) {
      num_indices_ = dataset_->size();
      if (options_.shuffle)
        index_source_ =
            [s = RandomSampler(num_indices_, {.seed = seed_})](std::uint64_t e) mutable {
              s.set_epoch(e);
              return s.indices();
            };
      else
        index_source_ = [s = SequentialSampler(num_indices_)](std::uint64_t) {
          return s.indices();
        };
    } else {
      if (options_.shuffle)
        throw value_error(
            "DataLoader: shuffle = true cannot be combined with a sampler (the sampler decides "
            "the order; use a RandomSampler to shuffle)");
      num_indices_ = static_cast<std::size_t>(sampler->size());
      index_source_ = [s = std::move(*sampler)](std::uint64_t e) mutable {
        s.set_epoch(e);
        return std::vector<std::size_t>(s.indices());
      };
    }
  }

  void end_epoch() {
    if (auto e = active_.lock()) e->cancel();
  }

  std::shared_ptr<const dataset_type> dataset_;
  DataLoaderOptions options_;
  std::uint64_t seed_ = 0, epoch_ = 0;
  std::size_t num_indices_ = 0;
  IndexSource index_source_;
  std::weak_ptr<Epoch> active_;  // the iterator owns the epoch; a `break` ends it at once
};

// An input iterator over one epoch's batches; copies share the position. *it is the current
// batch, valid until the next ++it (copy the Example, or its tensors, to keep it longer).
template <class D>
  requires Dataset<std::remove_cvref_t<D>>
class DataLoader<D>::iterator {
 public:
  using value_type = batch_type;
  using reference = batch_type&;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  iterator() = default;
  batch_type& operator*() const { return epoch_->current(); }
  batch_type* operator->() const { return &epoch_->current(); }
  iterator& operator++() {
    epoch_->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const iterator& it, std::default_sentinel_t) {
    return !it.epoch_ || it.epoch_->at_end();
  }

  std::uint64_t epoch() const { return epoch_->epoch(); }
  std::size_t batch_index() const { return epoch_->position(); }
  // The seed of the current batch: data::batch_seed(loader seed, epoch, batch_index).
  std::uint64_t batch_seed() const {
    return data::batch_seed(epoch_->seed(), epoch_->epoch(), epoch_->position());
  }

 private:
  friend class DataLoader;
  explicit iterator(std::shared_ptr<Epoch> epoch) : epoch_(std::move(epoch)) {}
  std::shared_ptr<Epoch> epoch_;
};

// `DataLoader loader(ds, {...})` holds an lvalue ds by reference and takes an rvalue by move.
template <class D>
DataLoader(D&&) -> DataLoader<D>;
template <class D>
DataLoader(D&&, DataLoaderOptions) -> DataLoader<D>;
template <class D, Sampler S>
DataLoader(D&&, S) -> DataLoader<D>;
template <class D, Sampler S>
DataLoader(D&&, S, DataLoaderOptions) -> DataLoader<D>;

}  // namespace etna::data
