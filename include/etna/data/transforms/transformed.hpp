// transformed(dataset, transform, seed): a Dataset whose get(i) applies a transform to the
// example's data with a Generator derived from (seed, epoch, i), so results never depend on
// which loader thread asks, or in what order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "etna/data/data_loader.hpp"
#include "etna/data/dataset.hpp"
#include "etna/data/transforms/transform.hpp"

namespace etna::data {

namespace transform_detail {
template <class T>
struct is_tensor : std::false_type {};
template <class T, class D>
struct is_tensor<Tensor<T, D>> : std::true_type {};
}  // namespace transform_detail

// D is the wrapped dataset's type, or an lvalue reference to it when transformed() was given
// an lvalue (as std::views::all: an rvalue is moved in and owned, an lvalue is referenced and
// must outlive this object). get(i) is const and thread-safe when D::get is.
template <class D, Transform Tf>
  requires Dataset<std::remove_cvref_t<D>>
class TransformedDataset {
 public:
  TransformedDataset(D dataset, Tf transform, std::uint64_t seed)
      : dataset_(std::forward<D>(dataset)), transform_(std::move(transform)), seed_(seed) {}
  TransformedDataset(const TransformedDataset& other)
      : dataset_(other.dataset_),
        transform_(other.transform_),
        seed_(other.seed_),
        epoch_(other.epoch()) {}
  TransformedDataset(TransformedDataset&& other) noexcept(
      std::is_nothrow_move_constructible_v<D> && std::is_nothrow_move_constructible_v<Tf>)
      : dataset_(std::forward<D>(other.dataset_)),
        transform_(std::move(other.transform_)),
        seed_(other.seed_),
        epoch_(other.epoch()) {}

  std::size_t size() const { return static_cast<std::size_t>(dataset_.size()); }

  // The example with its data transformed. Data that is a tensor of another element type
  // (uint8-valued readers give int32 or int64) is converted to float first.
  auto get(std::size_t i) const {
    auto example = dataset_.get(i);
    static_assert(requires { example.data; example.target; },
                  "etna: transformed() needs a dataset whose get(i) returns an Example "
                  "(fields data and target)");
    using data_t = std::remove_cvref_t<decltype(example.data)>;
    static_assert(transform_detail::is_tensor<data_t>::value,
                  "etna: transformed() applies image transforms: the example's data must be a "
                  "Tensor");
    Generator gen(item_seed(i));
    if constexpr (std::is_same_v<data_t, Tensor<float>>) {
      example.data = transform_(example.data, gen);
      return example;
    } else {
      using target_t = std::remove_cvref_t<decltype(example.target)>;
      return Example<Tensor<float>, target_t>{transform_(example.data.template to<float>(), gen),
                                              std::move(example.target)};
    }
  }

  // The epoch whose random draws get() uses outside a DataLoader: call set_epoch(e) before
  // epoch e for fresh augmentation each epoch (a pipeline's from_dataset does it on each new
  // pass). Inside a DataLoader's get(i) the loader's own epoch is used instead, so a dataset
  // moved into a loader still changes its augmentation every epoch.
  void set_epoch(std::uint64_t epoch) { epoch_.store(epoch, std::memory_order_relaxed); }
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }
  std::uint64_t seed() const { return seed_; }

  const std::remove_cvref_t<D>& dataset() const { return dataset_; }
  const Tf& transform() const { return transform_; }

  // The seed of item i's generator: Philox keyed by the seed, counter (i, epoch). Counter-based,
  // so every (seed, epoch, i) gets an independent, well-mixed stream.
  std::uint64_t item_seed(std::size_t i) const {
    const LoadContext* loading = current_load_context();
    const std::uint64_t epoch = loading ? loading->epoch : this->epoch();
    const auto r = Philox4x32::generate(seed_, static_cast<std::uint64_t>(i), epoch);
    return std::uint64_t{r.v[0]} << 32 | r.v[1];
  }

 private:
  D dataset_;
  Tf transform_;
  std::uint64_t seed_;
  std::atomic<std::uint64_t> epoch_{0};
};

// The one way to apply a transform to a dataset's examples (see TransformedDataset).
template <class D, Transform Tf>
  requires Dataset<std::remove_cvref_t<D>>
auto transformed(D&& dataset, Tf transform, std::uint64_t seed) {
  using Stored = std::conditional_t<std::is_lvalue_reference_v<D>, D, std::remove_cvref_t<D>>;
  return TransformedDataset<Stored, Tf>(std::forward<D>(dataset), std::move(transform), seed);
}

}  // namespace etna::data
