// Where a pipeline starts: from_dataset(ds) reads a Dataset in index order; from_range(r) reads
// any forward range (a vector of examples, std::views::iota, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "etna/data/dataset.hpp"
#include "etna/data/pipeline/stage.hpp"

namespace etna::data {

namespace pipeline_detail {

// D is the dataset type, or an lvalue reference to it (see from_dataset).
template <class D>
class DatasetSource {
 public:
  using element_type = example_t<std::remove_cvref_t<D>>;

  explicit DatasetSource(D dataset) : dataset_(std::forward<D>(dataset)) {}

  std::optional<element_type> next() {
    begun_ = true;
    if (index_ >= static_cast<std::size_t>(dataset_.size())) return std::nullopt;
    return dataset_.get(index_++);
  }

  // A new pass over a dataset with set_epoch() and epoch() (transformed() gives one) moves it
  // to the next epoch, so each pass draws fresh augmentation, reproducibly.
  void reset() {
    if constexpr (requires(std::remove_reference_t<D> & d) { d.set_epoch(d.epoch() + 1); }) {
      if (begun_) dataset_.set_epoch(dataset_.epoch() + 1);
    }
    index_ = 0;
    begun_ = false;
  }

 private:
  D dataset_;
  std::size_t index_ = 0;
  bool begun_ = false;
};

// R is a view (std::views::all of what from_range was given).
template <std::ranges::forward_range R>
class RangeSource {
 public:
  using element_type = std::ranges::range_value_t<R>;

  explicit RangeSource(R range) : range_(std::move(range)) {}
  // Iterators point into range_, so a copy or move starts its own pass from scratch.
  RangeSource(const RangeSource& other) : range_(other.range_) {}
  RangeSource(RangeSource&& other) noexcept(std::is_nothrow_move_constructible_v<R>)
      : range_(std::move(other.range_)) {}

  std::optional<element_type> next() {
    if (!it_) it_.emplace(std::ranges::begin(range_));
    if (*it_ == std::ranges::end(range_)) return std::nullopt;
    std::optional<element_type> e(std::in_place, **it_);
    ++*it_;
    return e;
  }
  void reset() { it_.reset(); }

 private:
  R range_;
  std::optional<std::ranges::iterator_t<R>> it_;
};

}  // namespace pipeline_detail

// A pipeline over ds.get(0), ds.get(1), ... An rvalue dataset is moved into the pipeline; an
// lvalue is referenced (it must outlive the pipeline), as std::views::all does. Each pass after
// the first calls ds.set_epoch(ds.epoch() + 1) when the dataset has both.
template <class D>
  requires Dataset<std::remove_cvref_t<D>>
auto from_dataset(D&& dataset) {
  using Stored = std::conditional_t<std::is_lvalue_reference_v<D>, D, std::remove_cvref_t<D>>;
  return Pipeline(pipeline_detail::DatasetSource<Stored>(std::forward<D>(dataset)));
}

// A pipeline over the elements of a forward range (copied out one at a time). An lvalue range
// is referenced, an rvalue one moved in.
template <std::ranges::viewable_range R>
  requires std::ranges::forward_range<std::views::all_t<R>>
auto from_range(R&& range) {
  using View = std::views::all_t<R>;
  return Pipeline(pipeline_detail::RangeSource<View>(std::views::all(std::forward<R>(range))));
}

}  // namespace etna::data
