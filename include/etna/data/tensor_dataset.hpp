// In-memory datasets and dataset wrappers: TensorDataset (rows of a tensor with their targets),
// Subset (a dataset seen through an index list), ConcatDataset, and seeded random_split.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"
#include "etna/core/tensor.hpp"
#include "etna/data/dataset.hpp"

namespace etna::data {

namespace detail {
inline void check_index(const char* who, std::size_t i, std::size_t size) {
  if (i >= size)
    throw index_error(
        etna::detail::str(who, ": index ", i, " is out of range for a dataset of size ", size));
}
}  // namespace detail

// Row i of `data` [N, ...] with target i of `targets` [N] (PyTorch's TensorDataset).
// get(i) returns a view of the row, sharing storage as PyTorch does: clone() it before writing
// to it in place. Copying a TensorDataset shares its tensors too, so it is cheap.
template <Scalar T = float, Scalar Target = std::int64_t>
class TensorDataset {
 public:
  TensorDataset(Tensor<T> data, Tensor<Target> targets)
      : data_(data.contiguous()), targets_(targets.contiguous()) {
    if (data_.dim() < 1)
      throw shape_error("TensorDataset: data must have at least one dimension (the rows)");
    if (targets_.dim() != 1)
      throw shape_error(etna::detail::str("TensorDataset: targets must be 1-d [N], got shape ",
                                          targets_.shape()));
    if (data_.size(0) != targets_.size(0))
      throw shape_error(etna::detail::str("TensorDataset: data has ", data_.size(0),
                                          " rows (shape ", data_.shape(), ") but targets has ",
                                          targets_.size(0)));
  }

  std::size_t size() const { return static_cast<std::size_t>(targets_.numel()); }

  Example<Tensor<T>, Target> get(std::size_t i) const {
    detail::check_index("TensorDataset::get", i, size());
    const auto row = static_cast<std::int64_t>(i);
    return {data_.select(0, row), targets_.data()[row]};
  }

  const Tensor<T>& data() const { return data_; }
  const Tensor<Target>& targets() const { return targets_; }

 private:
  Tensor<T> data_;
  Tensor<Target> targets_;
};

// The examples of a dataset at the given indices, in that order (PyTorch's Subset). The
// dataset is shared, not copied, so the pieces of a random_split cost one index list each.
template <Dataset D>
class Subset {
 public:
  Subset(std::shared_ptr<const D> dataset, std::vector<std::size_t> indices)
      : dataset_(std::move(dataset)), indices_(std::move(indices)) {
    const std::size_t n = dataset_->size();
    for (std::size_t k = 0; k < indices_.size(); ++k)
      if (indices_[k] >= n)
        throw index_error(etna::detail::str("Subset: index ", indices_[k], " (entry ", k,
                                            ") is out of range for a dataset of size ", n));
  }
  Subset(D dataset, std::vector<std::size_t> indices)
      : Subset(std::make_shared<const D>(std::move(dataset)), std::move(indices)) {}

  std::size_t size() const { return indices_.size(); }
  example_t<D> get(std::size_t i) const {
    detail::check_index("Subset::get", i, size());
    return dataset_->get(indices_[i]);
  }

  const std::vector<std::size_t>& indices() const { return indices_; }
  const D& dataset() const { return *dataset_; }

 private:
  std::shared_ptr<const D> dataset_;
  std::vector<std::size_t> indices_;
};

// Several datasets of one type, one after another (PyTorch's ConcatDataset).
template <Dataset D>
class ConcatDataset {
 public:
  explicit ConcatDataset(std::vector<D> datasets) : datasets_(std::move(datasets)) {
    std::size_t total = 0;
    for (const auto& d : datasets_) ends_.push_back(total += d.size());
  }
  ConcatDataset(std::initializer_list<D> datasets) : ConcatDataset(std::vector<D>(datasets)) {}

  std::size_t size() const { return ends_.empty() ? 0 : ends_.back(); }
  example_t<D> get(std::size_t i) const {
    detail::check_index("ConcatDataset::get", i, size());
    // The first dataset whose end lies past i holds it.
    const auto k =
        static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), i) - ends_.begin());
    return datasets_[k].get(i - (k == 0 ? 0 : ends_[k - 1]));
  }

  const std::vector<D>& datasets() const { return datasets_; }

 private:
  std::vector<D> datasets_;
  std::vector<std::size_t> ends_;  // cumulative sizes: dataset k covers [ends_[k-1], ends_[k])
};

namespace detail {
// 0, ..., n-1 in a Fisher-Yates order drawn from Philox with this seed: the same on every
// platform and thread count.
inline std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  if (n < 2) return order;
  Generator gen(seed);
  const RandomStream stream = gen.reserve((n + 1) / 2);  // integer_at uses two words per draw
  std::uint64_t draw = 0;
  for (std::size_t i = n - 1; i > 0; --i) {
    const auto j = random_detail::integer_at(stream, draw++, i + 1);
    std::swap(order[i], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

// Without an explicit seed, one is drawn from the default generator, so manual_seed() makes
// the split reproducible, as torch.manual_seed does for torch.utils.data.random_split.
inline std::uint64_t split_seed(std::optional<std::uint64_t> seed) {
  if (seed) return *seed;
  const RandomStream s = default_generator().reserve(1);
  const auto r = Philox4x32::generate(s.seed, s.offset);
  return std::uint64_t{r.v[0]} << 32 | r.v[1];
}

// PyTorch's rule for fractions: floor(f * n) each, then the remainder one at a time,
// round-robin from the first piece.
inline std::vector<std::size_t> lengths_from_fractions(const std::vector<double>& fractions,
                                                       std::size_t n) {
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0 && f <= 1))
      throw value_error(etna::detail::str("random_split: fraction ", f, " is not between 0 and 1"));
    sum += f;
  }
  if (std::abs(sum - 1) > 1e-6)
    throw value_error(etna::detail::str("random_split: fractions sum to ", sum, ", not 1"));
  std::vector<std::size_t> lengths;
  std::size_t assigned = 0;
  for (double f : fractions) {
    lengths.push_back(static_cast<std::size_t>(std::floor(f * static_cast<double>(n))));
    assigned += lengths.back();
  }
  for (std::size_t k = 0; assigned < n; k = (k + 1) % lengths.size(), ++assigned) ++lengths[k];
  return lengths;
}
}  // namespace detail

// Splits a dataset into disjoint random pieces of the given lengths (which must sum to its
// size). The same seed gives the same split everywhere.
template <Dataset D>
std::vector<Subset<D>> random_split(D dataset, const std::vector<std::size_t>& lengths,
                                    std::optional<std::uint64_t> seed = std::nullopt) {
  const std::size_t n = dataset.size();
  std::size_t sum = 0;
  for (auto len : lengths) sum += len;
  if (sum != n) {
    std::string listed;
    for (auto len : lengths) listed += (listed.empty() ? "" : ", ") + std::to_string(len);
    throw value_error(etna::detail::str("random_split: lengths [", listed, "] sum to ", sum,
                                        " but the dataset has ", n, " examples"));
  }
  const auto order = detail::shuffled_indices(n, detail::split_seed(seed));
  const auto shared = std::make_shared<const D>(std::move(dataset));
  std::vector<Subset<D>> pieces;
  std::size_t start = 0;
  for (auto len : lengths) {
    pieces.emplace_back(
        shared, std::vector<std::size_t>(order.begin() + static_cast<std::ptrdiff_t>(start),
                                         order.begin() + static_cast<std::ptrdiff_t>(start + len)));
    start += len;
  }
  return pieces;
}

// Fractions summing to 1: each piece gets floor(f * size), and the remainder goes one example
// at a time to the pieces in order (as PyTorch).
template <Dataset D>
std::vector<Subset<D>> random_split(D dataset, const std::vector<double>& fractions,
                                    std::optional<std::uint64_t> seed = std::nullopt) {
  const auto lengths = detail::lengths_from_fractions(fractions, dataset.size());
  return random_split(std::move(dataset), lengths, seed);
}

// A braced list, random_split(ds, {50000, 10000}, 42) or random_split(ds, {0.8, 0.2}, 42):
// values summing to 1 are fractions, otherwise whole lengths (PyTorch's rule).
template <Dataset D>
std::vector<Subset<D>> random_split(D dataset, std::initializer_list<double> values,
                                    std::optional<std::uint64_t> seed = std::nullopt) {
  const std::vector<double> v(values);
  double sum = 0;
  for (double x : v) sum += x;
  if (std::abs(sum - 1) <= 1e-6) return random_split(std::move(dataset), v, seed);
  std::vector<std::size_t> lengths;
  for (double x : v) {
    if (!(x >= 0) || x != std::floor(x))
      throw value_error(etna::detail::str("random_split: ", x, " is neither a whole length nor ",
                                          "one of fractions summing to 1 (they sum to ", sum, ")"));
    lengths.push_back(static_cast<std::size_t>(x));
  }
  return random_split(std::move(dataset), lengths, seed);
}

}  // namespace etna::data
