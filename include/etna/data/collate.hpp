// collate: turns a list of examples into one batch, stacking Tensor fields along a new first
// dimension and gathering scalar fields into 1-d tensors (what a DataLoader yields).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/data/dataset.hpp"

namespace etna::data {

// What a field of type F becomes in a batch of B examples:
//   Tensor<T> of shape S   -> Tensor<T> of shape [B, S...]
//   bool                   -> Tensor<bool> [B]
//   other integral types   -> Tensor<int64_t> [B]   (class labels, as PyTorch's collate)
//   floating-point types   -> Tensor<float> [B]     (the library's default dtype)
//   Example<A, B>          -> Example<collated A, collated B>, field by field
// Other field types are not Collatable; a loader over such a dataset fails to compile with a
// message naming the example type.
template <class F>
struct collated {};

template <Scalar T>
struct collated<Tensor<T>> {
  using type = Tensor<T>;
};
template <class F>
  requires std::is_arithmetic_v<F>
struct collated<F> {
  using type =
      Tensor<std::conditional_t<std::is_same_v<F, bool>, bool,
                                std::conditional_t<std::is_integral_v<F>, std::int64_t, float>>>;
};
template <class A, class B>
struct collated<Example<A, B>> {
  using type = Example<typename collated<A>::type, typename collated<B>::type>;
};

// Whether a list of F can be collated into a batch.
template <class F>
concept Collatable = requires {
  typename collated<F>::type;
};

template <Collatable F>
using collated_t = typename collated<F>::type;

namespace collate_detail {

template <class F>
struct is_example : std::false_type {};
template <class A, class B>
struct is_example<Example<A, B>> : std::true_type {};

// Gathers get(e) over the examples; `field` names it in messages ("data", "target.data").
// Tensors: one allocation for the batch, one memcpy per contiguous row (strided rows go
// through the fused evaluator into their slot).
template <class E, class Get>
auto collate_field(const std::vector<E>& examples, Get get, const std::string& field) {
  using F = std::remove_cvref_t<decltype(get(examples[0]))>;
  const auto batch = static_cast<std::int64_t>(examples.size());
  if constexpr (is_example<F>::value) {
    return collated_t<F>{collate_field(
                             examples, [&](const E& e) -> const auto& { return get(e).data; },
                             field.empty() ? "data" : field + ".data"),
                         collate_field(
                             examples, [&](const E& e) -> const auto& { return get(e).target; },
                             field.empty() ? "target" : field + ".target")};
  } else if constexpr (std::is_arithmetic_v<F>) {
    using Out = typename collated_t<F>::value_type;
    auto out = empty<Out>({batch});
    Out* dst = out.data();
    for (std::int64_t i = 0; i < batch; ++i)
      dst[i] = static_cast<Out>(get(examples[static_cast<std::size_t>(i)]));
    return out;
  } else {
    using T = typename F::value_type;
    const Shape& shape = get(examples[0]).shape();
    for (std::size_t i = 1; i < examples.size(); ++i) {
      const Shape& s = get(examples[i]).shape();
      if (!(s == shape))
        throw shape_error(
            etna::detail::str("collate: example ", i, " has ", field.empty() ? "a tensor" : field,
                        " of shape ", s, " but example 0 has shape ", shape,
                        "; tensors must have the same shape to be stacked into a batch"));
    }
    Shape out_shape = shape;
    out_shape.insert(0, batch);
    auto out = empty<T>(out_shape);
    const std::int64_t row = shape.numel();
    if (row == 0) return out;
    T* dst = out.data();
    for (std::int64_t i = 0; i < batch; ++i) {
      const auto& t = get(examples[static_cast<std::size_t>(i)]);
      if (t.is_contiguous())
        std::memcpy(dst + i * row, t.data(), static_cast<std::size_t>(row) * sizeof(T));
      else
        out.select(0, i).assign(t);
    }
    return out;
  }
}

}  // namespace collate_detail

// The batch of `examples` (at least one). Tensor fields must have equal shapes across the
// examples; a mismatch raises shape_error naming the example index and both shapes.
template <Collatable E>
collated_t<E> collate(const std::vector<E>& examples) {
  if (examples.empty()) throw value_error("collate: expected at least one example, got none");
  return collate_detail::collate_field(
      examples, [](const E& e) -> const E& { return e; }, std::string());
}

}  // namespace etna::data
