// Positional encodings added to token embeddings before a Transformer:
// SinusoidalPositionalEncoding (the PyTorch tutorial's fixed table, buffer `pe`) and
// LearnedPositionalEncoding (a trained table, parameter `weight`, as BERT / GPT-2).
// Both take x [L, N, d] ([N, L, d] with batch_first, or unbatched [L, d]), add the first L
// rows of the table and apply dropout (training only).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "etna/autograd/ops/views.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"

namespace etna::nn {
namespace detail {

// The table's first L rows laid over x's shape (stride-0 over the batch): shape_error when the
// sequence is longer than the table or the feature size differs.
template <class X>
X positions_like(const X& table, const Shape& x, bool batch_first, const char* op) {
  const std::int64_t max_len = table.shape()[0], d = table.shape()[1];
  if ((x.size() != 2 && x.size() != 3) || x[x.size() - 1] != d)
    throw shape_error(etna::detail::str(op, ": input must be [L, N, ", d, "] ([N, L, ", d,
                                        "] with batch_first) or [L, ", d, "], got ", x));
  const bool seq_first = x.size() == 2 || !batch_first;
  const std::int64_t len = seq_first ? x[0] : x[1];
  if (len > max_len)
    throw shape_error(etna::detail::str(op, ": sequence length ", len, " exceeds max_len ", max_len,
                                        " (input shape ", x, ")"));
  const X rows = table.narrow(0, 0, len);  // [L, d]
  if (x.size() == 2) return rows;
  return (seq_first ? rows.unsqueeze(1) : rows.unsqueeze(0)).expand(x);
}

inline void check_encoding_sizes(const char* op, std::int64_t max_len, std::int64_t d_model) {
  if (max_len <= 0 || d_model <= 0)
    throw value_error(etna::detail::str(op, ": max_len and d_model must be positive, got max_len=",
                                        max_len, ", d_model=", d_model));
}

}  // namespace detail

template <FloatingScalar T = float, Device D = cpu>
class SinusoidalPositionalEncoding : public Module<SinusoidalPositionalEncoding<T, D>> {
 public:
  // [max_len, d_model]: pe[p, 2i] = sin(p w_i), pe[p, 2i + 1] = cos(p w_i),
  // w_i = exp(-2i ln(10000) / d_model) (odd d_model: the last column is a sine).
  Tensor<T, D> pe;
  double dropout = 0.0;
  bool batch_first = false;

  explicit SinusoidalPositionalEncoding(std::int64_t d_model, std::int64_t max_len = 5000,
                                        double dropout_p = 0.0, bool batch_first_ = false)
      : dropout(dropout_p), batch_first(batch_first_) {
    detail::check_encoding_sizes("SinusoidalPositionalEncoding", max_len, d_model);
    functional::detail::check_probability("SinusoidalPositionalEncoding", dropout_p);
    // Computed in double (as the tutorial's float table, but without float's rounding of p w).
    auto t = empty<T>({max_len, d_model});
    for (std::int64_t i = 0; i < d_model; i += 2) {
      const double w = std::exp(static_cast<double>(i) * (-std::log(10000.0) / d_model));
      for (std::int64_t p = 0; p < max_len; ++p) {
        t.data()[p * d_model + i] = static_cast<T>(std::sin(p * w));
        if (i + 1 < d_model) t.data()[p * d_model + i + 1] = static_cast<T>(std::cos(p * w));
      }
    }
    if constexpr (std::is_same_v<D, cpu>)
      pe = t;
    else
      pe = t.template to<D>();
  }

  template <class D2>
  using on_device = SinusoidalPositionalEncoding<T, D2>;
  template <Device D1>
  SinusoidalPositionalEncoding(const SinusoidalPositionalEncoding<T, D1>& other,
                               etna::nn::detail::DeviceCopy<D>& copy)
      : pe(copy.tensor(other.pe)), dropout(other.dropout), batch_first(other.batch_first) {}

  std::int64_t max_len() const { return pe.size(0); }
  std::int64_t d_model() const { return pe.size(1); }

  // x + pe[:L] (broadcast over the batch), then dropout; a Var.
  template <class X>
  auto forward(const X& input) const {
    const auto x = as_var(input);
    const Tensor<T, D> pos =
        detail::positions_like(pe, x.shape(), batch_first, "SinusoidalPositionalEncoding");
    return functional::dropout(x + pos, dropout, this->is_training());
  }

  std::string extra_repr() const {
    return etna::detail::str("d_model=", d_model(), ", max_len=", max_len(),
                             ", dropout=", detail::python_float(dropout));
  }

  ETNA_MODULE(pe)
};

namespace detail {
// The table is a buffer, not a parameter: this states the tree's element type and device (a
// module without parameters would otherwise count as Var<float, cpu>, and to<cuda>() fail).
template <class T, class D>
struct param_of<SinusoidalPositionalEncoding<T, D>> {
  using type = Var<T, D>;
};
}  // namespace detail

template <FloatingScalar T = float, Device D = cpu>
class LearnedPositionalEncoding : public Module<LearnedPositionalEncoding<T, D>> {
 public:
  Var<T, D> weight;  // [max_len, d_model] ~ N(0, 0.02^2), as BERT and GPT-2
  double dropout = 0.0;
  bool batch_first = false;

  LearnedPositionalEncoding(std::int64_t max_len, std::int64_t d_model, double dropout_p = 0.0,
                            bool batch_first_ = false)
      : dropout(dropout_p), batch_first(batch_first_) {
    detail::check_encoding_sizes("LearnedPositionalEncoding", max_len, d_model);
    functional::detail::check_probability("LearnedPositionalEncoding", dropout_p);
    weight = Var<T, D>(empty<T, D>({max_len, d_model}), true);
    init::normal_(weight, 0.0, 0.02);
  }

  template <class D2>
  using on_device = LearnedPositionalEncoding<T, D2>;
  template <Device D1>
  LearnedPositionalEncoding(const LearnedPositionalEncoding<T, D1>& other,
                            etna::nn::detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)), dropout(other.dropout), batch_first(other.batch_first) {}

  std::int64_t max_len() const { return weight.size(0); }
  std::int64_t d_model() const { return weight.size(1); }

  // x + weight[:L] (broadcast over the batch), then dropout; gradients reach both.
  template <class X>
  auto forward(const X& input) const {
    const auto x = as_var(input);
    const Var<T, D> pos =
        detail::positions_like(weight, x.shape(), batch_first, "LearnedPositionalEncoding");
    return functional::dropout(x + pos, dropout, this->is_training());
  }

  std::string extra_repr() const {
    return etna::detail::str("max_len=", max_len(), ", d_model=", d_model(),
                             ", dropout=", detail::python_float(dropout));
  }

  ETNA_MODULE(weight)
};

}  // namespace etna::nn
