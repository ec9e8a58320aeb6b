// Pipeline stages that work one element at a time: map(f), filter(pred), take(n), skip(n) and
// repeat(count). Each is lazy: it pulls from upstream only when asked for an element.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/data/pipeline/stage.hpp"

namespace etna::data {

namespace pipeline_detail {

template <Stage S, class F>
class MapStage {
 public:
  using element_type = std::remove_cvref_t<std::invoke_result_t<F&, typename S::element_type&&>>;
  static_assert(!std::is_void_v<element_type>, "etna: map(f): f must return the new element");

  MapStage(S upstream, F f) : upstream_(std::move(upstream)), f_(std::move(f)) {}

  std::optional<element_type> next() {
    auto e = upstream_.next();
    if (!e) return std::nullopt;
    return std::invoke(f_, std::move(*e));
  }
  void reset() { upstream_.reset(); }

 private:
  S upstream_;
  F f_;
};

template <Stage S, class P>
class FilterStage {
 public:
  using element_type = typename S::element_type;

  FilterStage(S upstream, P pred) : upstream_(std::move(upstream)), pred_(std::move(pred)) {}

  std::optional<element_type> next() {
    for (auto e = upstream_.next(); e; e = upstream_.next())
      if (std::invoke(pred_, std::as_const(*e))) return e;
    return std::nullopt;
  }
  void reset() { upstream_.reset(); }

 private:
  S upstream_;
  P pred_;
};

template <Stage S>
class TakeStage {
 public:
  using element_type = typename S::element_type;

  TakeStage(S upstream, std::int64_t count) : upstream_(std::move(upstream)), count_(count) {}

  // Stops pulling once `count` elements went out, so upstream work beyond them never runs.
  std::optional<element_type> next() {
    if (taken_ >= count_) return std::nullopt;
    auto e = upstream_.next();
    if (e) ++taken_;
    return e;
  }
  void reset() {
    taken_ = 0;
    upstream_.reset();
  }

 private:
  S upstream_;
  std::int64_t count_, taken_ = 0;
};

template <Stage S>
class SkipStage {
 public:
  using element_type = typename S::element_type;

  SkipStage(S upstream, std::int64_t count) : upstream_(std::move(upstream)), count_(count) {}

  std::optional<element_type> next() {
    for (; skipped_ < count_; ++skipped_)
      if (!upstream_.next()) {
        skipped_ = count_;
        return std::nullopt;
      }
    return upstream_.next();
  }
  void reset() {
    skipped_ = 0;
    upstream_.reset();
  }

 private:
  S upstream_;
  std::int64_t count_, skipped_ = 0;
};

// count < 0 repeats forever. An upstream pass that yields nothing ends the repetition (it
// would otherwise spin forever).
template <Stage S>
class RepeatStage {
 public:
  using element_type = typename S::element_type;

  RepeatStage(S upstream, std::int64_t count) : upstream_(std::move(upstream)), count_(count) {}

  std::optional<element_type> next() {
    while (!finished()) {
      auto e = upstream_.next();
      if (e) {
        pass_yielded_ = true;
        return e;
      }
      ++passes_;
      if (!pass_yielded_) empty_ = true;
      if (finished()) break;
      upstream_.reset();
      pass_yielded_ = false;
    }
    return std::nullopt;
  }
  void reset() {
    passes_ = 0;
    pass_yielded_ = empty_ = false;
    upstream_.reset();
  }

 private:
  bool finished() const { return empty_ || (count_ >= 0 && passes_ >= count_); }

  S upstream_;
  std::int64_t count_, passes_ = 0;
  bool pass_yielded_ = false, empty_ = false;
};

template <template <class> class StageT>
struct CountAdaptor {
  using pipeline_adaptor = void;
  std::int64_t count;
  template <Stage S>
  auto apply(S upstream) const {
    return StageT<S>(std::move(upstream), count);
  }
};

template <class F>
struct MapAdaptor {
  using pipeline_adaptor = void;
  F f;
  template <Stage S>
  auto apply(S upstream) const {
    return MapStage<S, F>(std::move(upstream), f);
  }
};

template <class P>
struct FilterAdaptor {
  using pipeline_adaptor = void;
  P pred;
  template <Stage S>
  auto apply(S upstream) const {
    return FilterStage<S, P>(std::move(upstream), pred);
  }
};

inline std::int64_t check_count(std::int64_t n, const char* op) {
  if (n < 0) throw value_error(etna::detail::str(op, ": count must be non-negative, got ", n));
  return n;
}

}  // namespace pipeline_detail

// Each element e becomes f(e) (f takes the element by value or reference; it may be stateful).
template <class F>
auto map(F f) {
  return pipeline_detail::MapAdaptor<F>{std::move(f)};
}
// Keeps the elements for which pred(e) is true.
template <class P>
auto filter(P pred) {
  return pipeline_detail::FilterAdaptor<P>{std::move(pred)};
}
// The first n elements of each pass (n >= 0).
inline auto take(std::int64_t n) {
  return pipeline_detail::CountAdaptor<pipeline_detail::TakeStage>{
      pipeline_detail::check_count(n, "take")};
}
// All but the first n elements of each pass (n >= 0).
inline auto skip(std::int64_t n) {
  return pipeline_detail::CountAdaptor<pipeline_detail::SkipStage>{
      pipeline_detail::check_count(n, "skip")};
}
// `count` passes over upstream back to back (resetting it in between); -1 repeats forever.
inline auto repeat(std::int64_t count = -1) {
  if (count < -1)
    throw value_error(
        etna::detail::str("repeat: count must be -1 (forever) or non-negative, got ", count));
  return pipeline_detail::CountAdaptor<pipeline_detail::RepeatStage>{count};
}

}  // namespace etna::data
