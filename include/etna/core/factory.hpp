// Tensor factories: zeros/ones/full/empty, arange/linspace/eye, random draws, tensor() from
// nested initializer lists, and from_blob over user memory (no copy).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <vector>

#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_random.hpp"
#include "etna/core/random.hpp"
#include "etna/core/tensor.hpp"

namespace etna {

template <Scalar T = float, Device D = cpu>
Tensor<T, D> empty(const Shape& shape) {
  for (auto d : shape)
    if (d < 0) throw shape_error(detail::str("empty: negative dimension in shape ", shape));
  return Tensor<T, D>::allocate(shape);
}
template <Scalar T = float, Device D = cpu>
Tensor<T, D> full(const Shape& shape, T value) {
  auto t = empty<T, D>(shape);
  t.fill(value);
  return t;
}
template <Scalar T = float, Device D = cpu>
Tensor<T, D> zeros(const Shape& shape) {
  return full<T, D>(shape, T(0));
}
template <Scalar T = float, Device D = cpu>
Tensor<T, D> ones(const Shape& shape) {
  return full<T, D>(shape, T(1));
}
template <class X> auto empty_like(const X& x) { return empty<typename X::value_type, typename X::device_type>(x.shape()); }
template <class X> auto zeros_like(const X& x) { return zeros<typename X::value_type, typename X::device_type>(x.shape()); }
template <class X> auto ones_like(const X& x) { return ones<typename X::value_type, typename X::device_type>(x.shape()); }
template <class X> auto full_like(const X& x, typename X::value_type v) { return full<typename X::value_type, typename X::device_type>(x.shape(), v); }

namespace detail {
// A host tensor moved to device D (factories computed on the host: arange, linspace, eye, tensor).
template <class D, class T>
Tensor<T, D> on_device(Tensor<T> t) {
  if constexpr (std::is_same_v<D, cpu>) return t;
  else return t.template to<D>();
}
}  // namespace detail

// Values start, start + step, ... below end (PyTorch's arange).
template <Scalar T = float, Device D = cpu>
Tensor<T, D> arange(double start, double end, double step = 1) {
  if (step == 0) throw value_error("arange: step must be nonzero");
  if ((end - start) * step < 0)
    throw value_error(detail::str("arange: upper bound ", end, " and lower bound ", start,
                                  " are inconsistent with step sign ", step));
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  auto t = empty<T>({n});
  for (std::int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(start + i * step);
  return detail::on_device<D>(std::move(t));
}
template <Scalar T = float, Device D = cpu>
Tensor<T, D> arange(double end) {
  return arange<T, D>(0, end, 1);
}

// `steps` evenly spaced values from start to end inclusive.
template <FloatingScalar T = float, Device D = cpu>
Tensor<T, D> linspace(double start, double end, std::int64_t steps) {
  if (steps < 0) throw value_error(detail::str("linspace: number of steps must be non-negative, got ", steps));
  auto t = empty<T>({steps});
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  // Fill both halves from their ends, as PyTorch does, so the last value is exactly `end`.
  const std::int64_t half = steps / 2;
  for (std::int64_t i = 0; i < steps; ++i)
    t.data()[i] = static_cast<T>(i < half ? start + step * i : end - step * (steps - 1 - i));
  if (steps == 1) t.data()[0] = static_cast<T>(start);  // one step is `start`, as PyTorch
  return detail::on_device<D>(std::move(t));
}

template <Scalar T = float, Device D = cpu>
Tensor<T, D> eye(std::int64_t n, std::int64_t m = -1) {
  if (m < 0) m = n;
  auto t = zeros<T>({n, m});
  for (std::int64_t i = 0; i < std::min(n, m); ++i) t.data()[i * m + i] = T(1);
  return detail::on_device<D>(std::move(t));
}

namespace detail {
// Fills a fresh tensor with value_at(stream, i), in parallel; the values depend only on i, so the
// device fill (value_at then a host-device functor, random_detail's draws) gives the same ones.
template <class T, class D = cpu, class F>
Tensor<T, D> random_fill(const Shape& shape, std::uint64_t blocks, Generator& gen, F value_at) {
  auto t = empty<T, D>(shape);
  const RandomStream stream = gen.reserve(blocks);
  T* p = t.data();
  if constexpr (std::is_same_v<D, cpu>) {
    cpu_backend::parallel_for(0, t.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) p[i] = value_at(stream, static_cast<std::uint64_t>(i));
    });
  } else {
    cuda_backend::random_fill(p, t.numel(), stream, value_at);
  }
  return t;
}

// The CPU fill for maps of one uniform per element (dropout masks): one Philox call per block
// gives 4 float (2 double) uniforms, and 16 blocks run side by side in vector registers, where
// random_fill's value_at would run a scalar Philox per element. Same values as
// value_at = map(uniform_at<T>(stream, i)).
template <class T, class Map>
Tensor<T, cpu> uniform_map_fill(const Shape& shape, Generator& gen, Map map) {
  auto t = empty<T, cpu>(shape);
  const std::int64_t n = t.numel();
  const RandomStream s = gen.reserve(random_detail::blocks_for<T>(static_cast<std::uint64_t>(n)));
  constexpr std::int64_t per_block = sizeof(T) == 4 ? 4 : 2, lanes = Philox4x32::kLanes;
  constexpr std::int64_t per_group = per_block * lanes;  // elements of one generate_lanes call
  T* p = t.data();
  cpu_backend::parallel_for(0, (n + per_group - 1) / per_group, 1 << 8,
                            [&](std::int64_t g0, std::int64_t g1) {
    std::uint32_t r[4][lanes];
    for (std::int64_t g = g0; g < g1; ++g) {
      Philox4x32::generate_lanes(s.seed, s.offset + static_cast<std::uint64_t>(g * lanes), r);
      const std::int64_t i0 = g * per_group;
      if (i0 + per_group <= n) {
        for (std::int64_t l = 0; l < lanes; ++l)
          for (std::int64_t w = 0; w < per_block; ++w) {
            if constexpr (per_block == 4)
              p[i0 + l * 4 + w] = map(uniform_float(r[w][l]));
            else
              p[i0 + l * 2 + w] = map(uniform_double(r[2 * w][l], r[2 * w + 1][l]));
          }
      } else {
        for (std::int64_t i = i0; i < n; ++i) {
          const std::int64_t l = (i - i0) / per_block, w = (i - i0) % per_block;
          if constexpr (per_block == 4)
            p[i] = map(uniform_float(r[w][l]));
          else
            p[i] = map(uniform_double(r[2 * w][l], r[2 * w + 1][l]));
        }
      }
    }
  });
  return t;
}
}  // namespace detail

// Uniform on [0, 1). With D = cuda the values are drawn on the device, bit-identical to the CPU's
// for the same generator state.
template <FloatingScalar T = float, Device D = cpu>
Tensor<T, D> rand(const Shape& shape, Generator& gen = default_generator()) {
  return detail::random_fill<T, D>(shape, random_detail::blocks_for<T>(shape.numel()), gen,
                                   random_detail::UniformDraw<T>{});
}
// Uniform on [low, high).
template <FloatingScalar T = float, Device D = cpu>
Tensor<T, D> uniform(const Shape& shape, double low, double high,
                     Generator& gen = default_generator()) {
  return detail::random_fill<T, D>(shape, random_detail::blocks_for<T>(shape.numel()), gen,
                                   random_detail::UniformRangeDraw<T>{low, high});
}
// Standard normal (or mean/std) samples.
template <FloatingScalar T = float, Device D = cpu>
Tensor<T, D> randn(const Shape& shape, Generator& gen = default_generator()) {
  return detail::random_fill<T, D>(shape, random_detail::blocks_for<T>(shape.numel()), gen,
                                   random_detail::NormalDraw<T>{});
}
template <FloatingScalar T = float, Device D = cpu>
Tensor<T, D> normal(const Shape& shape, double mean, double std,
                    Generator& gen = default_generator()) {
  if (std < 0) throw value_error(detail::str("normal: std must be non-negative, got ", std));
  return detail::random_fill<T, D>(shape, random_detail::blocks_for<T>(shape.numel()), gen,
                                   random_detail::NormalScaledDraw<T>{mean, std});
}
// Integers uniform on [low, high).
template <Scalar T = std::int64_t, Device D = cpu>
Tensor<T, D> randint(std::int64_t low, std::int64_t high, const Shape& shape,
                     Generator& gen = default_generator()) {
  if (high <= low)
    throw value_error(detail::str("randint: high (", high, ") must be greater than low (", low,
                                  ")"));
  const auto range = static_cast<std::uint64_t>(high - low);
  return detail::random_fill<T, D>(shape, (shape.numel() + 1) / 2, gen,
                                   random_detail::IntegerDraw<T>{low, range});
}
// 1 with probability p, else 0 (torch.bernoulli of a tensor full of p).
template <Scalar T = float, Device D = cpu>
Tensor<T, D> bernoulli(const Shape& shape, double p, Generator& gen = default_generator()) {
  if (!(p >= 0 && p <= 1))
    throw value_error(detail::str("bernoulli: probability must be in [0, 1], got ", p));
  return detail::random_fill<T, D>(shape, (shape.numel() + 1) / 2, gen,
                                   random_detail::BernoulliDraw<T>{p});
}
// Draws shaped like x, on x's device.
template <class X> auto rand_like(const X& x) { return rand<typename X::value_type, typename X::device_type>(x.shape()); }
template <class X> auto randn_like(const X& x) { return randn<typename X::value_type, typename X::device_type>(x.shape()); }

// ---- from data --------------------------------------------------------------------------
// A tensor over user memory; no copy. The memory must outlive every tensor sharing it, unless
// a deleter is given (then the last tensor calls it).
template <Scalar T>
Tensor<T> from_blob(T* data, const Shape& shape, const Shape& strides,
                    std::function<void(T*)> deleter = {}) {
  if (strides.size() != shape.size())
    throw shape_error(detail::str("from_blob: strides ", strides, " do not match shape ", shape));
  std::shared_ptr<T> owner = deleter ? std::shared_ptr<T>(data, std::move(deleter))
                                     : std::shared_ptr<T>(data, [](T*) {});
  return Tensor<T>(std::move(owner), data, shape, strides);
}
template <Scalar T>
Tensor<T> from_blob(T* data, const Shape& shape, std::function<void(T*)> deleter = {}) {
  return from_blob(data, shape, contiguous_strides(shape), std::move(deleter));
}

// Copies a flat vector into a tensor of the given shape.
template <Scalar T, Device D = cpu>
Tensor<T, D> tensor(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<std::int64_t>(values.size()) != shape.numel())
    throw shape_error(detail::str("tensor: ", values.size(), " values do not fill shape ", shape));
  auto t = empty<T>(shape);
  std::copy(values.begin(), values.end(), t.data());
  return detail::on_device<D>(std::move(t));
}

namespace detail {
// One level of a nested initializer list: a value or a list of levels. A single recursive
// type (rather than one overload per depth) keeps {{1}, {2}} unambiguous.
template <class T>
class NestedList {
 public:
  NestedList(T value) : value_(value), leaf_(true) {}  // NOLINT: implicit on purpose
  NestedList(std::initializer_list<NestedList> items) : items_(items) {}

  void flatten(int depth, Shape& shape, std::vector<T>& out, int& leaf_depth) const {
    if (leaf_) {
      if (leaf_depth < 0) leaf_depth = depth;
      if (depth != leaf_depth)
        throw shape_error(str("tensor: ragged nested list: a value at depth ", depth,
                              " where depth ", leaf_depth, " was expected"));
      out.push_back(value_);
      return;
    }
    const auto n = static_cast<std::int64_t>(items_.size());
    if (shape.size() == depth) shape.push_back(n);
    else if (shape.size() < depth || shape[depth] != n)
      throw shape_error(str("tensor: ragged nested list: expected ", shape[depth],
                            " elements at depth ", depth, ", got ", n));
    for (const auto& item : items_) item.flatten(depth + 1, shape, out, leaf_depth);
  }

 private:
  T value_{};
  bool leaf_ = false;
  std::vector<NestedList> items_;
};
}  // namespace detail

// tensor<float>({{1, 2}, {3, 4}}): any nesting depth; a plain value gives a 0-d tensor.
template <Scalar T = float, Device D = cpu>
Tensor<T, D> tensor(T value) {
  return tensor<T, D>(std::vector<T>{value}, Shape{});
}
template <Scalar T = float, Device D = cpu>
Tensor<T, D> tensor(std::initializer_list<detail::NestedList<T>> items) {
  Shape shape;
  std::vector<T> values;
  int leaf_depth = -1;
  detail::NestedList<T>(items).flatten(0, shape, values, leaf_depth);
  if (leaf_depth >= 0 && leaf_depth != shape.size())
    throw shape_error(detail::str("tensor: ragged nested list: values at depth ", leaf_depth,
                                  " but lists nested ", shape.size(), " deep"));
  return tensor<T, D>(values, shape);
}

}  // namespace etna
