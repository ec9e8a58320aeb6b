// prune::compress: gives every Linear of a network whose weight is sparse enough a CSR copy of
// that weight, which its forward uses while no gradient is recorded (sparse/compressed_weight.hpp).
#pragma once

#include <cstdint>
#include <iomanip>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/nn/module.hpp"
#include "etna/sparse/compressed_weight.hpp"

namespace etna::prune {

struct CompressOptions {
  // Fraction of zeros from which a layer takes the sparse path. -1: the measured crossover
  // (sparse::crossover_sparsity), decided per forward from the batch size; a value in [0, 1]
  // forces that threshold for every batch (0: every Linear runs sparse, 1: only all-zero ones).
  double min_sparsity = -1;
};

struct CompressReport {
  struct Layer {
    std::string name;  // the weight's path in the network ("2.weight")
    std::int64_t numel = 0, zeros = 0;
    double sparsity = 0;
    sparse::Format format = sparse::Format::dense;
    std::string batches;  // for which batch sizes the sparse path runs: "all", "none", "<= 4"...
    std::int64_t bytes_before = 0, bytes_after = 0;  // weight storage: dense, and dense or CSR
  };
  std::vector<Layer> layers;

  std::int64_t bytes_before() const {
    std::int64_t s = 0;
    for (const auto& l : layers) s += l.bytes_before;
    return s;
  }
  std::int64_t bytes_after() const {
    std::int64_t s = 0;
    for (const auto& l : layers) s += l.bytes_after;
    return s;
  }
  std::int64_t compressed_layers() const {
    std::int64_t n = 0;
    for (const auto& l : layers) n += l.format == sparse::Format::csr;
    return n;
  }
};

inline std::ostream& operator<<(std::ostream& os, const CompressReport& r) {
  os << std::left << std::setw(20) << "weight" << std::right << std::setw(10) << "sparsity"
     << std::setw(8) << "format" << std::setw(14) << "sparse batch" << std::setw(12) << "bytes"
     << std::setw(12) << "compressed"
     << "\n";
  for (const auto& l : r.layers)
    os << std::left << std::setw(20) << l.name << std::right << std::setw(9) << std::fixed
       << std::setprecision(1) << 100 * l.sparsity << "%" << std::setw(8)
       << sparse::format_name(l.format) << std::setw(14) << l.batches << std::setw(12)
       << l.bytes_before << std::setw(12) << l.bytes_after << "\n";
  os << std::left << std::setw(52) << "total" << std::right << std::setw(12) << r.bytes_before()
     << std::setw(12) << r.bytes_after() << "\n";
  return os;
}

namespace detail {

// "all", "none", "<= 4", ">= 5": the batch sizes (up to 4096) for which c takes the sparse path,
// assuming one contiguous range, which holds for a fixed threshold and for per-regime ones.
template <class T, class D>
std::string sparse_batches(const sparse::CompressedWeight<T, D>& c) {
  constexpr std::int64_t kMax = 4096;
  std::int64_t first = 0, last = 0;
  for (std::int64_t b = 1; b <= kMax; ++b)
    if (c.sparse_for_batch(b)) {
      if (first == 0) first = b;
      last = b;
    }
  if (first == 0) return "none";
  if (first == 1 && last == kMax) return "all";
  if (first == 1) return "<= " + std::to_string(last);
  if (last == kMax) return ">= " + std::to_string(first);
  return std::to_string(first) + ".." + std::to_string(last);
}

template <class T, class D>
std::int64_t count_zeros(const Tensor<T, D>& w) {
  const Tensor<T> h = w.template to<cpu>().contiguous();
  std::int64_t z = 0;
  for (std::int64_t i = 0; i < h.numel(); ++i) z += h.data()[i] == T(0);
  return z;
}

}  // namespace detail

// For each nn::Linear in `net` (typed or AnySequential, cpu or cuda, pruned with a mask or
// just holding zeros): counts the zeros of its weight and, when the sparse path pays off for some
// batch size (or options.min_sparsity says so), stores the CSR form in the weight's
// VarImpl::inference_cache. Layers keep their dense weight: training, saving and the grad-mode
// forward are unchanged. An optimizer step or io::load drops the cache; so does
// decompress(net). Changing a weight's values by hand leaves a stale cache: compress again.
template <class Net>
CompressReport compress(Net& net, const CompressOptions& options = {}) {
  if (!(options.min_sparsity == -1 || (options.min_sparsity >= 0 && options.min_sparsity <= 1)))
    throw value_error(
        etna::detail::str("prune::compress: min_sparsity must be -1 (measured "
                          "crossover) or in [0, 1], got ",
                          options.min_sparsity));
  CompressReport report;
  for (auto& [name, ref] : net.named_modules()) {
    if (ref.type_name() != "Linear") continue;
    using V = nn::detail::param_var_t<Net>;
    using T = typename V::value_type;
    using D = typename V::device_type;
    struct Grab : nn::StateVisitor<T, D> {
      std::string wanted;
      V weight;
      void parameter(const std::string& pname, V& p) override {
        if (pname == wanted) weight = p;
      }
      bool module(const std::string&, const nn::ModuleRef<T, D>&) override { return false; }
    } grab;
    const std::string prefix = name.empty() ? "" : name + ".";
    grab.wanted = prefix + "weight";
    ref.visit(prefix, grab);
    if (!grab.weight.defined() || grab.weight.dim() != 2) continue;
    const V& w = grab.weight;
    CompressReport::Layer layer;
    layer.name = grab.wanted;
    layer.numel = w.numel();
    layer.zeros = detail::count_zeros(w.value());
    layer.sparsity = layer.numel == 0 ? 0.0 : double(layer.zeros) / double(layer.numel);
    layer.bytes_before = layer.numel * std::int64_t(sizeof(T));
    auto c = std::make_shared<sparse::CompressedWeight<T, D>>();
    c->sparsity = layer.sparsity;
    c->min_sparsity = options.min_sparsity;
    c->format = sparse::Format::csr;  // provisional: asks sparse_for_batch whether it would pay
    layer.batches = detail::sparse_batches(*c);
    if (layer.batches == "none") {
      c->format = sparse::Format::dense;
      layer.bytes_after = layer.bytes_before;
    } else {
      c->csr = sparse::to_csr(w.value());
      layer.bytes_after = c->csr.bytes();
    }
    layer.format = c->format;
    sparse::store_compressed(w,
                             std::shared_ptr<const sparse::CompressedWeight<T, D>>(std::move(c)));
    report.layers.push_back(std::move(layer));
  }
  return report;
}

// Drops every inference cache of `net`'s parameters: all Linears back on the dense GEMM.
template <class Net>
void decompress(Net& net) {
  for (auto& [name, p] : net.named_parameters()) p.impl_ptr()->inference_cache.reset();
}

}  // namespace etna::prune
