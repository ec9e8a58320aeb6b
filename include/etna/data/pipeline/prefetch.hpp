// prefetch(k): runs the upstream stages in a background thread that keeps up to k elements
// ready in a bounded queue; stops and joins cleanly on reset, early exit or destruction.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/data/pipeline/stage.hpp"

namespace etna::data {

namespace pipeline_detail {

// The producer thread is started by the first next() of a pass. Upstream runs only on the
// producer thread while it lives, and only on the consumer's thread (reset) otherwise. An
// exception thrown upstream reaches the consumer's next() after the elements before it.
template <Stage S>
class PrefetchStage {
 public:
  using element_type = typename S::element_type;

  PrefetchStage(S upstream, std::size_t capacity)
      : state_(std::make_unique<State>(std::move(upstream), capacity)) {}
  PrefetchStage(PrefetchStage&&) noexcept = default;  // the thread refers to *state_ only
  PrefetchStage& operator=(PrefetchStage&& other) noexcept {
    if (this != &other) {
      if (state_) state_->stop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~PrefetchStage() {
    if (state_) state_->stop();
  }

  std::optional<element_type> next() { return state_->pop(); }
  void reset() {
    state_->stop();
    state_->upstream.reset();
  }

 private:
  struct State {
    State(S up, std::size_t cap) : upstream(std::move(up)), capacity(cap) {}

    // Consumer side.
    std::optional<element_type> pop() {
      if (finished) return std::nullopt;
      if (!producer.joinable()) {
        stopping = false;
        producer = std::thread([this] { produce(); });
      }
      std::unique_lock<std::mutex> lock(mutex);
      not_empty.wait(lock, [&] { return !queue.empty(); });
      std::optional<element_type> e = std::move(queue.front());
      queue.pop_front();
      if (!e) {  // the end of the pass, or an upstream exception
        finished = true;
        std::exception_ptr failure = std::exchange(error, nullptr);
        lock.unlock();
        producer.join();
        if (failure) std::rethrow_exception(failure);
        return std::nullopt;
      }
      lock.unlock();
      not_full.notify_one();
      return e;
    }

    // Ends the pass: wakes a producer blocked on a full queue and joins it. A producer busy
    // inside upstream.next() finishes that element first.
    void stop() {
      if (producer.joinable()) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          stopping = true;
        }
        not_full.notify_all();
        producer.join();
      }
      queue.clear();
      error = nullptr;
      finished = false;
    }

    // Producer side: an empty optional in the queue marks the end of the pass.
    void produce() {
      try {
        for (;;) {
          std::optional<element_type> e = upstream.next();
          const bool end = !e.has_value();
          std::unique_lock<std::mutex> lock(mutex);
          not_full.wait(lock, [&] { return stopping || queue.size() < capacity; });
          if (stopping) return;
          queue.push_back(std::move(e));
          lock.unlock();
          not_empty.notify_one();
          if (end) return;
        }
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          error = std::current_exception();
          queue.emplace_back();  // may exceed capacity by one: it is the last entry
        }
        not_empty.notify_one();
      }
    }

    S upstream;
    const std::size_t capacity;
    std::mutex mutex;
    std::condition_variable not_empty, not_full;
    std::deque<std::optional<element_type>> queue;  // guarded by mutex
    std::exception_ptr error;                       // guarded by mutex
    bool stopping = false;                          // guarded by mutex
    bool finished = false;                          // consumer thread only
    std::thread producer;                           // consumer thread only
  };

  std::unique_ptr<State> state_;
};

struct PrefetchAdaptor {
  using pipeline_adaptor = void;
  std::size_t capacity;
  template <Stage S>
  auto apply(S upstream) const {
    return PrefetchStage<S>(std::move(upstream), capacity);
  }
};

}  // namespace pipeline_detail

// Loads up to k elements ahead in a background thread (k >= 1), overlapping the upstream work
// (reading, decoding, augmenting, batching) with the consumer's.
inline auto prefetch(std::int64_t k) {
  if (k < 1)
    throw value_error(etna::detail::str("prefetch: buffer size must be at least 1, got ", k));
  return pipeline_detail::PrefetchAdaptor{static_cast<std::size_t>(k)};
}

}  // namespace etna::data
