// The data layer's vocabulary: an Example (input and target) and the Dataset concept every
// reader, wrapper, sampler and loader in etna::data is written against.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "etna/core/tensor.hpp"

namespace etna::data {

// One training example. An aggregate, so `auto [x, y] = ds.get(i);` works. A DataLoader's
// batch is an Example too: the same fields, stacked along a new first dimension.
template <class Data = Tensor<float>, class Target = std::int64_t>
struct Example {
  Data data;
  Target target;
};

// A dataset: a size and random access by index (PyTorch's map-style Dataset). get(i) may be
// called from several loader threads at once, so it must not mutate shared state.
template <class D>
concept Dataset = requires(const D& d, std::size_t i) {
  { d.size() } -> std::convertible_to<std::size_t>;
  d.get(i);
};

// What ds.get(i) returns.
template <Dataset D>
using example_t = std::remove_cvref_t<decltype(std::declval<const D&>().get(std::size_t{0}))>;

}  // namespace etna::data
