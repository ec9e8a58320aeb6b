// nn::Embedding: a lookup table of num_embeddings vectors of embedding_dim, with PyTorch's
// weight name, N(0, 1) initialisation, padding_idx (a zero row that never learns) and repr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/functional/embedding.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {

// Embedding<10000, 128> is typed, Embedding<>(10000, 128) runtime; same code. forward takes
// int64 indices of any shape and returns a Var of shape indices.shape + [embedding_dim].
template <std::int64_t Num = 0, std::int64_t Dim = 0, FloatingScalar T = float, Device D = cpu>
class Embedding : public Module<Embedding<Num, Dim, T, D>> {
  static_assert((Num == 0) == (Dim == 0),
                "et::nn::Embedding<Num, Dim>: give both sizes (typed layer) or neither "
                "(Embedding<> with sizes given to the constructor)");
  static_assert(Num >= 0 && Dim >= 0, "et::nn::Embedding<Num, Dim>: sizes must be positive");

 public:
  static constexpr std::int64_t static_out_features = Dim;

  Var<T, D> weight;  // [num_embeddings, embedding_dim]

  // Typed layer: Embedding<10000, 128> emb; or emb(/*padding_idx=*/0).
  Embedding() requires(Num > 0) : Embedding(Num, Dim) {}
  explicit Embedding(std::optional<std::int64_t> padding_idx) requires(Num > 0)
      : Embedding(Num, Dim, padding_idx) {}
  // padding_idx as PyTorch's: none by default; a negative index counts from the end
  // (-1 is the last row) and is stored as the equivalent non-negative one.
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
            std::optional<std::int64_t> padding_idx = std::nullopt) {
    if (num_embeddings <= 0 || embedding_dim <= 0)
      throw value_error(etna::detail::str("Embedding: sizes must be positive, got num_embeddings=",
                                          num_embeddings, ", embedding_dim=", embedding_dim));
    if (Num > 0 && (num_embeddings != Num || embedding_dim != Dim))
      throw value_error(etna::detail::str("Embedding<", Num, ", ", Dim,
                                          ">: constructed with sizes ", num_embeddings, " and ",
                                          embedding_dim));
    if (padding_idx) {
      if (*padding_idx >= num_embeddings || *padding_idx < -num_embeddings)
        throw index_error(etna::detail::str(
            "Embedding: padding_idx ", *padding_idx, " is out of range for ", num_embeddings,
            " embeddings (valid: ", -num_embeddings, " to ", num_embeddings - 1, ")"));
      padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
    }
    weight = Var<T, D>(empty<T, D>({num_embeddings, embedding_dim}), true);
    reset_parameters();
  }

  // The same layer on device D2 (net.to<D2>() builds it with this constructor).
  template <class D2>
  using on_device = Embedding<Num, Dim, T, D2>;
  template <Device D1>
  Embedding(const Embedding<Num, Dim, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)), padding_idx_(other.padding_idx()) {}

  std::int64_t num_embeddings() const { return weight.size(0); }
  std::int64_t embedding_dim() const { return weight.size(1); }
  std::optional<std::int64_t> padding_idx() const { return padding_idx_; }

  // PyTorch's reset_parameters(): N(0, 1), then the padding row zeroed.
  void reset_parameters() {
    init::reset_embedding_(weight);
    if (padding_idx_) weight.value().select(0, *padding_idx_).fill(T(0));
  }

  // indices: int64 of any shape, each in [0, num_embeddings) (else an index_error naming it).
  Var<T, D> forward(const Tensor<std::int64_t, D>& indices) {
    return functional::embedding(indices, weight, padding_idx_ ? *padding_idx_ : -1);
  }

  std::string extra_repr() const {
    std::string s = etna::detail::str(num_embeddings(), ", ", embedding_dim());
    if (padding_idx_) s += etna::detail::str(", padding_idx=", *padding_idx_);
    return s;
  }

  ETNA_MODULE(weight)

 private:
  std::optional<std::int64_t> padding_idx_;
};

}  // namespace etna::nn
