// nn::BatchNorm1d/2d/3d and nn::LayerNorm: the normalisation layers over functional::batch_norm
// and layer_norm, with PyTorch's parameters, buffers (running statistics), defaults and repr.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>

#include "etna/autograd/function.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/functional/normalization.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"

namespace etna::nn {
namespace detail {

// BatchNorm over C channels for inputs of Rank spatial dimensions: [N, C] or [N, C, L] (Rank 1),
// [N, C, H, W] (2), [N, C, D, H, W] (3). Self is the named layer (BatchNorm1d...) so that it
// prints and registers under PyTorch's class name.
template <class Self, int Rank, std::int64_t C, FloatingScalar T, Device D>
class BatchNormBase : public Module<Self> {
  static_assert(C >= 0, "et::nn::BatchNorm<C>: the channel count must be positive");

 public:
  static constexpr std::int64_t static_in_features = C;
  static constexpr std::int64_t static_out_features = kSameFeatures;

  Var<T, D> weight;  // [C], ones; undefined without affine
  Var<T, D> bias;    // [C], zeros; undefined without affine
  // Undefined without track_running_stats (then eval mode normalises with batch statistics).
  Tensor<T, D> running_mean;                    // [C], zeros
  Tensor<T, D> running_var;                     // [C], ones
  Tensor<std::int64_t, D> num_batches_tracked;  // 0-d, training forward passes so far
  double eps = 1e-5;
  // The running statistics' update weight; std::nullopt (PyTorch's None) gives the cumulative
  // average of all batches, weight 1 / num_batches_tracked.
  std::optional<double> momentum = 0.1;

  // Typed layer: BatchNorm1d<64> bn;
  BatchNormBase() requires(C > 0) : BatchNormBase(C) {}
  // BatchNorm1d<> bn(64); BatchNorm1d<> bn(64, 1e-3, std::nullopt, false, false);
  explicit BatchNormBase(std::int64_t num_features, double eps_ = 1e-5,
                         std::optional<double> momentum_ = 0.1, bool affine = true,
                         bool track_running_stats = true)
      : eps(eps_), momentum(momentum_) {
    const std::string name = type_name_of<Self>();
    if (num_features <= 0)
      throw value_error(
          etna::detail::str(name, ": num_features must be positive, got ", num_features));
    if (C > 0 && num_features != C)
      throw value_error(
          etna::detail::str(name, "<", C, ">: constructed with num_features=", num_features));
    num_features_ = num_features;
    if (affine) {
      weight = Var<T, D>(ones<T, D>({num_features}), true);
      bias = Var<T, D>(zeros<T, D>({num_features}), true);
    }
    if (track_running_stats) {
      running_mean = zeros<T, D>({num_features});
      running_var = ones<T, D>({num_features});
      num_batches_tracked = zeros<std::int64_t, D>(Shape{});
    }
  }

  // The same layer on another device (net.to<D2>() builds it with this): every setting and the
  // parameters, running statistics and batch counter copied. Rank tells 1d, 2d and 3d apart.
  template <class S1, Device D1>
  BatchNormBase(const BatchNormBase<S1, Rank, C, T, D1>& other, DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        running_mean(copy.tensor(other.running_mean)),
        running_var(copy.tensor(other.running_var)),
        num_batches_tracked(copy.tensor(other.num_batches_tracked)),
        eps(other.eps),
        momentum(other.momentum),
        num_features_(other.num_features()) {}

  std::int64_t num_features() const { return num_features_; }
  bool affine() const { return weight.defined(); }
  bool track_running_stats() const { return running_mean.defined(); }

  // PyTorch's reset_running_stats(): zero means, unit variances, no batches seen.
  void reset_running_stats() {
    if (!track_running_stats()) return;
    running_mean.fill(T(0));
    running_var.fill(T(1));
    num_batches_tracked.fill(0);
  }

  // x: [N, C, *] with Rank trailing dimensions (BatchNorm1d also takes [N, C]); returns a Var.
  // Training: normalises with the batch's statistics and updates the running ones; eval: with
  // the running ones (the batch's when the layer tracks none), as PyTorch's _BatchNorm.
  template <class X>
  Var<T, D> forward(const X& input) {
    const Var<T, D> x = as_var(input);
    check_input(x.shape());
    const bool training = this->is_training();
    double factor = 0.0;
    if (training && track_running_stats()) {
      if constexpr (std::is_same_v<D, cpu>) {
        num_batches_tracked.data()[0] += 1;
        factor = momentum ? *momentum : 1.0 / static_cast<double>(num_batches_tracked.data()[0]);
      } else {  // the counter stays on the device; only a cumulative average reads it back
        num_batches_tracked.assign(num_batches_tracked + std::int64_t{1});
        factor = momentum ? *momentum : 1.0 / static_cast<double>(num_batches_tracked.item());
      }
    }
    const bool batch_stats = training || !track_running_stats();
    return functional::batch_norm(x, running_mean, running_var, weight, bias, batch_stats, factor,
                                  eps);
  }

  std::string extra_repr() const {
    return etna::detail::str(num_features_, ", eps=", python_float(eps), ", momentum=",
                             momentum ? python_float(*momentum) : std::string("None"),
                             ", affine=", python_bool(affine()),
                             ", track_running_stats=", python_bool(track_running_stats()));
  }

  ETNA_MODULE(weight, bias, running_mean, running_var, num_batches_tracked)

 private:
  void check_input(const Shape& s) const {
    const bool rank_ok = s.size() == Rank + 2 || (Rank == 1 && s.size() == 2);
    if (!rank_ok)
      throw shape_error(etna::detail::str(
          type_name_of<Self>(), ": expected ",
          Rank == 1 ? "a 2-d [N, C] or 3-d [N, C, L]"
                    : (Rank == 2 ? "a 4-d [N, C, H, W]" : "a 5-d [N, C, D, H, W]"),
          " input, got shape ", s));
    if (s[1] != num_features_)
      throw shape_error(etna::detail::str(type_name_of<Self>(), ": expected ", num_features_,
                                          " features (channels, dimension 1) but the input has ",
                                          s[1], " (input shape ", s, ")"));
  }

  std::int64_t num_features_ = 0;
};

}  // namespace detail

// Batch normalisation of [N, C] or [N, C, L] per channel: BatchNorm1d<64> (typed) or
// BatchNorm1d<>(64, eps, momentum, affine, track_running_stats) (runtime), PyTorch's defaults.
template <std::int64_t C = 0, FloatingScalar T = float, Device D = cpu>
class BatchNorm1d : public detail::BatchNormBase<BatchNorm1d<C, T, D>, 1, C, T, D> {
  using Base = detail::BatchNormBase<BatchNorm1d<C, T, D>, 1, C, T, D>;

 public:
  using Base::Base;
  template <class D2>
  using on_device = BatchNorm1d<C, T, D2>;
};

// The same on images [N, C, H, W].
template <std::int64_t C = 0, FloatingScalar T = float, Device D = cpu>
class BatchNorm2d : public detail::BatchNormBase<BatchNorm2d<C, T, D>, 2, C, T, D> {
  using Base = detail::BatchNormBase<BatchNorm2d<C, T, D>, 2, C, T, D>;

 public:
  using Base::Base;
  template <class D2>
  using on_device = BatchNorm2d<C, T, D2>;
};

// The same on volumes [N, C, D, H, W].
template <std::int64_t C = 0, FloatingScalar T = float, Device D = cpu>
class BatchNorm3d : public detail::BatchNormBase<BatchNorm3d<C, T, D>, 3, C, T, D> {
  using Base = detail::BatchNormBase<BatchNorm3d<C, T, D>, 3, C, T, D>;

 public:
  using Base::Base;
  template <class D2>
  using on_device = BatchNorm3d<C, T, D2>;
};

// Layer normalisation over the trailing normalized_shape of each sample, with per-element affine
// weight (ones) and bias (zeros). LayerNorm<512> is typed (normalized_shape {512}); LayerNorm<>
// takes normalized_shape ({512} or {4, 5}), eps, elementwise_affine and bias at run time.
template <std::int64_t N = 0, FloatingScalar T = float, Device D = cpu>
class LayerNorm : public Module<LayerNorm<N, T, D>> {
  static_assert(N >= 0, "et::nn::LayerNorm<N>: the normalised size must be positive");

 public:
  static constexpr std::int64_t static_in_features = N;
  static constexpr std::int64_t static_out_features = kSameFeatures;

  Var<T, D> weight;  // normalized_shape, ones; undefined without elementwise_affine
  Var<T, D> bias;    // normalized_shape, zeros; undefined without elementwise_affine or bias
  double eps = 1e-5;

  LayerNorm() requires(N > 0) : LayerNorm(Shape{N}) {}
  explicit LayerNorm(Shape normalized_shape, double eps_ = 1e-5, bool elementwise_affine = true,
                     bool with_bias = true)
      : eps(eps_), normalized_shape_(normalized_shape) {
    if (normalized_shape.empty())
      throw value_error("LayerNorm: normalized_shape must have at least one dimension");
    for (auto d : normalized_shape)
      if (d <= 0)
        throw value_error(etna::detail::str(
            "LayerNorm: normalized_shape must have positive sizes, got ", normalized_shape));
    if (N > 0 && !(normalized_shape == Shape{N}))
      throw value_error(etna::detail::str("LayerNorm<", N, ">: constructed with normalized_shape ",
                                          normalized_shape));
    if (elementwise_affine) {
      weight = Var<T, D>(ones<T, D>(normalized_shape), true);
      if (with_bias) bias = Var<T, D>(zeros<T, D>(normalized_shape), true);
    }
  }
  // LayerNorm<> ln({4, 5}): an exact match for a braced list, which would otherwise be as good
  // a conversion to Shape as to a temporary LayerNorm(4, 5.0) for the move constructor.
  explicit LayerNorm(std::initializer_list<std::int64_t> normalized_shape, double eps_ = 1e-5,
                     bool elementwise_affine = true, bool with_bias = true)
      : LayerNorm(Shape(normalized_shape), eps_, elementwise_affine, with_bias) {}
  // LayerNorm<> ln(512, ...): the last dimension only.
  explicit LayerNorm(std::int64_t normalized_size, double eps_ = 1e-5,
                     bool elementwise_affine = true, bool with_bias = true)
      : LayerNorm(Shape{normalized_size}, eps_, elementwise_affine, with_bias) {}

  // The same layer on device D2 (net.to<D2>() builds it with this constructor).
  template <class D2>
  using on_device = LayerNorm<N, T, D2>;
  template <Device D1>
  LayerNorm(const LayerNorm<N, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        eps(other.eps),
        normalized_shape_(other.normalized_shape()) {}

  const Shape& normalized_shape() const { return normalized_shape_; }
  bool elementwise_affine() const { return weight.defined(); }

  // x: [..., *normalized_shape]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& input) {
    return functional::layer_norm(Var<T, D>(as_var(input)), normalized_shape_, weight, bias, eps);
  }

  // PyTorch prints neither the bias flag nor the types, only these three.
  std::string extra_repr() const {
    return etna::detail::str(detail::python_tuple(normalized_shape_),
                             ", eps=", detail::python_float(eps),
                             ", elementwise_affine=", detail::python_bool(elementwise_affine()));
  }

  ETNA_MODULE(weight, bias)

 private:
  Shape normalized_shape_;
};

}  // namespace etna::nn
