// The compressed form of a Linear weight kept in its VarImpl::inference_cache by prune::compress,
// and the forward nn::Linear runs with it when no gradient is recorded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "etna/autograd/var.hpp"
#include "etna/sparse/crossover.hpp"
#include "etna/sparse/csr.hpp"
#include "etna/sparse/linear.hpp"

namespace etna::sparse {

enum class Format { dense, csr };

inline const char* format_name(Format f) { return f == Format::csr ? "csr" : "dense"; }

// The base of every VarImpl::inference_cache entry (autograd/node.hpp).
using CacheEntry = autograd::InferenceCacheEntry;

// format dense: compress measured or was told that the dense GEMM wins for this weight; Linear
// keeps it (the entry still records the decision, so compress need not recount the zeros).
// format csr: `csr` holds the weight; min_sparsity < 0 means "decide per call by
// crossover_sparsity(batch)", otherwise the sparse path runs whenever sparsity >= min_sparsity.
template <class T, class D>
struct CompressedWeight final : CacheEntry {
  Format format = Format::dense;
  double sparsity = 0;
  double min_sparsity = -1;
  CsrMatrix<T, D> csr;

  bool sparse_for_batch(std::int64_t batch) const {
    if (format != Format::csr) return false;
    return sparsity >= (min_sparsity >= 0 ? min_sparsity : crossover_sparsity<T, D>(batch));
  }
};

template <class T, class D>
void store_compressed(const Var<T, D>& weight, std::shared_ptr<const CompressedWeight<T, D>> c) {
  weight.impl_ptr()->inference_cache = std::move(c);
}

// The entry of `weight`, or null when its cache is empty or holds something else.
template <class T, class D>
const CompressedWeight<T, D>* compressed_of(const Var<T, D>& weight) {
  if (!weight.defined()) return nullptr;
  const auto& cache = weight.impl_ptr()->inference_cache;
  if (!cache) return nullptr;
  return dynamic_cast<const CompressedWeight<T, D>*>(cache.get());
}

// Linear's inference path: x [..., in] -> [..., out] through the CSR weight when the weight is
// compressed and the sparse kernel pays off for this batch; nullopt means "run the dense GEMM".
template <class T, class D>
std::optional<Tensor<T, D>> compressed_linear(const Tensor<T, D>& x, const Var<T, D>& weight,
                                              const Var<T, D>& bias) {
  const CompressedWeight<T, D>* c = compressed_of(weight);
  if (!c || c->format != Format::csr || !x.defined() || x.dim() == 0) return std::nullopt;
  std::int64_t batch = 1;
  for (int d = 0; d + 1 < x.dim(); ++d) batch *= x.size(d);
  if (!c->sparse_for_batch(batch)) return std::nullopt;
  return linear(x, c->csr, bias.defined() ? bias.value() : Tensor<T, D>());
}

}  // namespace etna::sparse
