// The CUDA backend's autograd kernels: the fused element-wise node's backward as ONE kernel that,
// per output element, runs the same forward/reverse sweep as the CPU (autograd/fused_node.hpp)
// over the device-bound expression and writes every leaf's gradient at once.
#pragma once

#include <array>
#include <cstdint>

#include "etna/autograd/fused_node.hpp"
#include "etna/backend/cuda/evaluate.hpp"
#include "etna/backend/cuda/fwd_autograd.hpp"

namespace etna::cuda_backend {

// The forward half of the sweep for one element at a device position: fused_node.hpp's forward
// functions for scalars (those are host-only, as their CPU instantiations hold xsimd batches).
// Each node's value is kept in the record for the shared, host-device reverse functions.
namespace device_sweep {

using autograd::sweep::ApplyRecord;
using autograd::sweep::LeafRecord;

template <class T, class D, class Ev, bool Flat>
ETNA_HD auto forward(const expr::Leaf<T, D>*, const Ev& ev, const Pos<Flat>& p) {
  return LeafRecord<decltype(ev.scalar(p))>{ev.scalar(p)};
}
template <class T, class D, class Ev, bool Flat>
ETNA_HD auto forward(const autograd::VarLeaf<T, D>*, const Ev& ev, const Pos<Flat>& p) {
  return LeafRecord<decltype(ev.scalar(p))>{ev.scalar(p)};
}
template <class T, class Ev, bool Flat>
ETNA_HD auto forward(const expr::Const<T>*, const Ev& ev, const Pos<Flat>& p) {
  return LeafRecord<decltype(ev.scalar(p))>{ev.scalar(p)};
}
template <class Op, class... Args, class Ev, bool Flat>
ETNA_HD auto forward(const expr::Apply<Op, Args...>*, const Ev& ev, const Pos<Flat>& p);

// Named functions rather than lambdas: nvcc compiles them for the device.
template <class... Args, class Ev, bool Flat, std::size_t... I>
ETNA_HD auto forward_children(const Ev& ev, const Pos<Flat>& p, std::index_sequence<I...>) {
  return std::make_tuple(forward(static_cast<const Args*>(nullptr), std::get<I>(ev.args), p)...);
}
template <class Op, class Children, std::size_t... I>
ETNA_HD auto apply_to_records(const Op& op, const Children& children, std::index_sequence<I...>) {
  return op(std::get<I>(children).v...);
}
template <class Op, class... Args, class Ev, bool Flat>
ETNA_HD auto forward(const expr::Apply<Op, Args...>*, const Ev& ev, const Pos<Flat>& p) {
  auto children = forward_children<Args...>(ev, p, std::index_sequence_for<Args...>{});
  auto y = apply_to_records(ev.op, children, std::index_sequence_for<Args...>{});
  return ApplyRecord<decltype(y), decltype(children)>{y, children};
}

template <class Op, class... Args, class Ev, bool Flat>
ETNA_HD auto root_children(const expr::Apply<Op, Args...>*, const Ev& ev, const Pos<Flat>& p) {
  return forward_children<Args...>(ev, p, std::index_sequence_for<Args...>{});
}

// The record of the whole expression E; the root's value comes from the saved output (yev)
// when E's root functor is partial_from_output, as on the CPU.
template <class E, class Ev, class YEv, bool Flat>
ETNA_HD auto forward_record(const Ev& ev, const YEv& yev, const Pos<Flat>& p) {
  if constexpr (autograd::sweep::root_uses_output<E>::value) {
    auto children = root_children(static_cast<const E*>(nullptr), ev, p);
    const auto y = yev.scalar(p);
    return ApplyRecord<decltype(y), decltype(children)>{y, children};
  } else {
    return forward(static_cast<const E*>(nullptr), ev, p);
  }
}

}  // namespace device_sweep

// The sweep's gradient sink on the device: every leaf gradient buffer is contiguous in the
// output's shape, so one offset (the element's) addresses all of them.
template <class T, int N>
struct DeviceSink {
  T* const* out;
  std::int64_t off;
  template <int P, class V>
  ETNA_HD void put(const V& g) {
    if (out[P]) out[P][off] = static_cast<T>(g);
  }
};

template <class T, class E, int N, bool Flat>
struct FusedBackwardKernel {
  DeviceEvaluator<E> ev;
  DeviceLeafEvaluator<T> gev;  // incoming gradient
  DeviceLeafEvaluator<T> yev;  // saved output (read only when E's root needs it)
  Space space;
  T* out[N];

  ETNA_HD void operator()(std::int64_t i) const {
    namespace sweep = autograd::sweep;
    const Pos<Flat> p = space.template at<Flat>(i);
    DeviceSink<T, N> sink{out, space.out_offset(p)};
    const auto rec = device_sweep::forward_record<E>(ev, yev, p);
    sweep::reverse<0>(static_cast<const E*>(nullptr), ev, rec, gev.scalar(p), sink);
  }
};

namespace detail {
// A leaf evaluator over tensor t, whose strides were collapsed together with the expression's.
template <class T>
DeviceLeafEvaluator<T> collapsed_leaf(const Tensor<T, cuda>& t, const Shape& strides) {
  DeviceLeafEvaluator<T> ev;
  ev.base = t.data();
  for (int d = 0; d < kMaxDims; ++d) ev.st[d] = d < strides.size() ? strides[d] : 0;
  return ev;
}
// Strides of a tensor of the output's shape, 0 along size-1 dimensions (as Binder aligns leaves).
template <class T>
Shape aligned_strides(const Tensor<T, cuda>& t) {
  Shape s = t.strides();
  for (int d = 0; d < s.size(); ++d)
    if (t.shape()[d] == 1) s[d] = 0;
  return s;
}
}  // namespace detail

template <class T, class E, int N>
void fused_backward(const E& e, const Tensor<T, cuda>& g, const Tensor<T, cuda>& y,
                    const std::array<T*, N>& out) {
  const Shape& shape = g.shape();
  const std::int64_t n = shape.numel();
  if (n == 0) return;
  require_device();
  // g and y are collapsed together with the expression's leaves so that one Pos indexes all.
  Shape g_strides = detail::aligned_strides(g), y_strides = detail::aligned_strides(y);
  const auto b = bind(e, shape, contiguous_strides(shape), std::array<Shape*, 2>{&g_strides, &y_strides});
  auto launch = [&](auto flat) {
    constexpr bool Flat = decltype(flat)::value;
    FusedBackwardKernel<T, E, N, Flat> k{b.ev, detail::collapsed_leaf(g, g_strides),
                                         detail::collapsed_leaf(y, y_strides), b.space, {}};
    for (int l = 0; l < N; ++l) k.out[l] = out[l];
    for_each_index(n, k);
  };
  if (b.flat) launch(std::true_type{});
  else launch(std::false_type{});
}

}  // namespace etna::cuda_backend
