// The pipeline protocol: a Stage pulls elements one at a time (next) and starts a new pass
// (reset); Pipeline<S> makes a stage a range and composes it with adaptors through `|`.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

namespace etna::data {

// A pull-based stage. next() returns the next element of the current pass, or nothing once the
// pass is over (and keeps returning nothing until reset()). reset() ends the current pass and
// rewinds to the start of a new one; stages with randomness (shuffle, a transformed dataset)
// draw fresh numbers on each pass that was begun, deterministically in the pass number.
template <class S>
concept Stage = std::move_constructible<S> && requires(S& s) {
  typename S::element_type;
  { s.next() } -> std::same_as<std::optional<typename S::element_type>>;
  s.reset();
};

// A stage as a range: `for (auto& e : pipeline)` runs one pass (begin() calls reset()). Also a
// Stage itself, for manual pulling with next().
template <Stage S>
class Pipeline {
 public:
  using element_type = typename S::element_type;
  class iterator;

  explicit Pipeline(S stage) : stage_(std::move(stage)) {}

  std::optional<element_type> next() { return stage_.next(); }
  void reset() { stage_.reset(); }

  iterator begin() {
    stage_.reset();
    return iterator(stage_);
  }
  std::default_sentinel_t end() const { return {}; }

  S& stage() & { return stage_; }
  S&& stage() && { return std::move(stage_); }

 private:
  S stage_;
};

// An input iterator over one pass. *it is the current element, valid until the next ++it.
template <Stage S>
class Pipeline<S>::iterator {
 public:
  using value_type = element_type;
  using difference_type = std::ptrdiff_t;

  iterator() = default;
  explicit iterator(S& stage) : stage_(&stage), current_(stage.next()) {}

  value_type& operator*() const { return *current_; }
  value_type* operator->() const { return &*current_; }
  iterator& operator++() {
    current_ = stage_->next();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const iterator& it, std::default_sentinel_t) {
    return !it.current_.has_value();
  }

 private:
  S* stage_ = nullptr;
  mutable std::optional<value_type> current_;  // `mutable`: *it on a const iterator is T&
};

// What `pipeline | adaptor` accepts: map(f), batch(n), ... each turn a stage into a new one.
template <class A>
concept PipelineAdaptor = requires {
  typename std::remove_cvref_t<A>::pipeline_adaptor;
};

template <Stage S, PipelineAdaptor A>
auto operator|(Pipeline<S> pipeline, const A& adaptor) {
  return Pipeline(adaptor.apply(std::move(pipeline).stage()));
}

}  // namespace etna::data
