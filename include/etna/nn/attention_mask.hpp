// nn::AttentionMask: a mask argument of the attention layers that is either a bool tensor
// (PyTorch's nn.MultiheadAttention meaning: true = NOT allowed / ignore) or a float tensor added
// to the scores, so `.attn_mask = m` takes either, as PyTorch's attn_mask does. Also
// generate_square_subsequent_mask, PyTorch's causal float mask.
#pragma once

#include <cstdint>
#include <limits>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna::nn {

template <class T = float, class D = cpu>
class AttentionMask {
 public:
  AttentionMask() = default;
  AttentionMask(Tensor<bool, D> mask) : bool_(std::move(mask)) {}  // NOLINT: implicit on purpose
  AttentionMask(Tensor<T, D> mask) : float_(std::move(mask)) {}    // NOLINT: implicit on purpose

  bool defined() const { return bool_.defined() || float_.defined(); }
  bool is_bool() const { return bool_.defined(); }
  const Tensor<bool, D>& bool_mask() const { return bool_; }  // true = not allowed
  const Tensor<T, D>& float_mask() const { return float_; }   // added to the scores
  const Shape& shape() const { return is_bool() ? bool_.shape() : float_.shape(); }
  int dim() const { return is_bool() ? bool_.dim() : float_.dim(); }

  // The same mask with another shape (a view where the layout allows it).
  AttentionMask reshape(const Shape& s) const {
    if (is_bool()) return AttentionMask(bool_.reshape(s));
    if (float_.defined()) return AttentionMask(float_.reshape(s));
    return {};
  }
  // The additive form: 0 where allowed, -inf where a bool mask forbids.
  Tensor<T, D> additive() const {
    if (!is_bool()) return float_;
    return eval(where(bool_, -std::numeric_limits<T>::infinity(), T(0)));
  }

 private:
  Tensor<bool, D> bool_;
  Tensor<T, D> float_;
};

// PyTorch's nn.Transformer.generate_square_subsequent_mask: [L, L] float, -inf above the
// diagonal (future positions), 0 elsewhere.
template <class T = float, class D = cpu>
Tensor<T, D> generate_square_subsequent_mask(std::int64_t length) {
  if (length < 0)
    throw value_error(
        etna::detail::str("generate_square_subsequent_mask: length must be "
                          "non-negative, got ",
                          length));
  auto m = zeros<T>({length, length});
  for (std::int64_t i = 0; i < length; ++i)
    for (std::int64_t j = i + 1; j < length; ++j)
      m.data()[i * length + j] = -std::numeric_limits<T>::infinity();
  if constexpr (std::is_same_v<D, cpu>)
    return m;
  else
    return m.template to<D>();
}

}  // namespace etna::nn
