// Device evaluation of element-wise expression trees: the same expression types as on the CPU,
// bound to raw device pointers and strides and evaluated as ONE kernel per materialisation
// (one thread per output element, grid-stride). Shapes are first collapsed as on the CPU, so a
// same-shape contiguous expression (or one with scalar/whole-tensor broadcasts) takes the flat
// path, i * stride per leaf, and only true broadcasts pay for index arithmetic.
#pragma once

#include <cstdint>
#include <tuple>
#include <type_traits>

#include "etna/autograd/var_expr.hpp"
#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cuda/launch.hpp"

namespace etna::cuda_backend {

// Where one output element sits: its linear index and, on the general path, its coordinates
// in the collapsed iteration space.
template <bool Flat>
struct Pos {
  std::int64_t i;
  std::int64_t c[Flat ? 1 : kMaxDims];
};

// The collapsed iteration space (rank <= kMaxDims) with the output's strides.
struct Space {
  int rank = 0;
  std::int64_t shape[kMaxDims] = {};
  std::int64_t out_strides[kMaxDims] = {};

  template <bool Flat>
  ETNA_HD Pos<Flat> at(std::int64_t i) const {
    Pos<Flat> p{i, {}};
    if constexpr (!Flat) {
      std::int64_t rest = i;
      for (int d = kMaxDims - 1; d >= 0; --d) {
        if (d >= rank) continue;
        p.c[d] = rest % shape[d];
        rest /= shape[d];
      }
    }
    return p;
  }
  template <bool Flat>
  ETNA_HD std::int64_t out_offset(const Pos<Flat>& p) const {
    if constexpr (Flat) {
      return p.i * out_strides[0];
    } else {
      std::int64_t off = 0;
      for (int d = 0; d < kMaxDims; ++d)
        if (d < rank) off += p.c[d] * out_strides[d];
      return off;
    }
  }
};

// Four consecutive elements, loaded and stored as one vector access where aligned: the flat
// contiguous path moves 16 bytes per thread and instruction instead of 4 (fewer, wider memory
// transactions in flight per thread is what a bandwidth-bound kernel needs to approach the
// device's copy bandwidth).
inline constexpr int kLanes = 4;
template <class T>
struct alignas(kLanes * sizeof(T)) Lanes {
  T v[kLanes];
};

// Device evaluators mirror the CPU's: Leaf (pointer + strides), Const (value), Apply (functor +
// children). They are trivially copyable, passed to kernels by value. `strides` is host-side
// set-up only; `st` holds the collapsed strides the kernel reads.
template <class E>
struct DeviceEvaluator;

template <class T>
struct DeviceLeafEvaluator {
  const T* base = nullptr;
  std::int64_t st[kMaxDims] = {};
  ETNA_HD T scalar(const Pos<true>& p) const { return base[p.i * st[0]]; }
  ETNA_HD T scalar(const Pos<false>& p) const {
    std::int64_t off = 0;
    for (int d = 0; d < kMaxDims; ++d) off += p.c[d] * st[d];  // unused dims have stride 0
    return base[off];
  }
  // Elements i .. i + kLanes - 1 on the flat path (stride 1, aligned; or stride 0).
  ETNA_HD Lanes<T> lanes(std::int64_t i) const {
    if (st[0] == 0) return Lanes<T>{{base[0], base[0], base[0], base[0]}};
    return *reinterpret_cast<const Lanes<T>*>(base + i);
  }
  bool lanes_ok() const {
    return st[0] == 0 ||
           (st[0] == 1 && reinterpret_cast<std::uintptr_t>(base) % alignof(Lanes<T>) == 0);
  }
};

template <class T, class D>
struct DeviceEvaluator<expr::Leaf<T, D>> : DeviceLeafEvaluator<T> {};
template <class T, class D>
struct DeviceEvaluator<autograd::VarLeaf<T, D>> : DeviceLeafEvaluator<T> {};

template <class T>
struct DeviceEvaluator<expr::Const<T>> {
  T value;
  template <bool Flat>
  ETNA_HD T scalar(const Pos<Flat>&) const {
    return value;
  }
  ETNA_HD Lanes<T> lanes(std::int64_t) const { return Lanes<T>{{value, value, value, value}}; }
  bool lanes_ok() const { return true; }
};

template <class Op, class... Args>
struct DeviceEvaluator<expr::Apply<Op, Args...>> {
  Op op;
  std::tuple<DeviceEvaluator<Args>...> args;
  template <bool Flat>
  ETNA_HD auto scalar(const Pos<Flat>& p) const {
    return scalar_impl(p, std::index_sequence_for<Args...>{});
  }
  template <bool Flat, std::size_t... I>
  ETNA_HD auto scalar_impl(const Pos<Flat>& p, std::index_sequence<I...>) const {
    return op(std::get<I>(args).scalar(p)...);
  }
  using value_type = typename expr::Apply<Op, Args...>::value_type;
  ETNA_HD Lanes<value_type> lanes(std::int64_t i) const {
    return lanes_impl(i, std::index_sequence_for<Args...>{});
  }
  template <std::size_t... I>
  ETNA_HD Lanes<value_type> lanes_impl(std::int64_t i, std::index_sequence<I...>) const {
    return apply_lanes(std::get<I>(args).lanes(i)...);
  }
  template <class... L>
  ETNA_HD Lanes<value_type> apply_lanes(const L&... in) const {
    Lanes<value_type> r;
    for (int k = 0; k < kLanes; ++k) r.v[k] = op(in.v[k]...);
    return r;
  }
  bool lanes_ok() const {
    return std::apply([](const auto&... a) { return (a.lanes_ok() && ...); }, args);
  }
};

namespace detail {

template <class T>
const Tensor<T, cuda>& leaf_tensor(const expr::Leaf<T, cuda>& leaf) {
  return leaf.tensor;
}
template <class T>
const Tensor<T, cuda>& leaf_tensor(const autograd::VarLeaf<T, cuda>& leaf) {
  return leaf.impl->value;
}

// Binding, step 1: every leaf's strides aligned to the output shape (0 where broadcast).
template <class E>
struct Binder;
template <class L>
  requires requires(const L& l) { detail::leaf_tensor(l); }
struct Binder<L> {
  Shape strides;
  const void* base;
  Binder(const L& leaf, const Shape& out_shape) {
    const auto& t = leaf_tensor(leaf);
    base = t.data();
    const Shape& s = t.shape();
    const int lead = out_shape.size() - s.size();
    strides = Shape(out_shape.size(), 0);
    for (int i = 0; i < s.size(); ++i) strides[lead + i] = (s[i] == 1) ? 0 : t.strides()[i];
  }
  void collect(cpu_backend::StrideList& out) { out.push_back(&strides); }
  // Step 2: the kernel-side evaluator with the collapsed strides.
  template <class Ev>
  void bind(Ev& ev) const {
    ev.base = static_cast<decltype(ev.base)>(base);
    for (int d = 0; d < kMaxDims; ++d) ev.st[d] = d < strides.size() ? strides[d] : 0;
  }
};
template <class T>
struct Binder<expr::Const<T>> {
  T value;
  Binder(const expr::Const<T>& c, const Shape&) : value(c.value) {}
  void collect(cpu_backend::StrideList&) {}
  void bind(DeviceEvaluator<expr::Const<T>>& ev) const { ev.value = value; }
};
template <class Op, class... Args>
struct Binder<expr::Apply<Op, Args...>> {
  Op op;
  std::tuple<Binder<Args>...> args;
  Binder(const expr::Apply<Op, Args...>& node, const Shape& out_shape)
      : op(node.op),
        args(std::apply(
            [&](const auto&... a) { return std::tuple<Binder<Args>...>(Binder<Args>(a, out_shape)...); },
            node.args)) {}
  void collect(cpu_backend::StrideList& out) {
    std::apply([&](auto&... a) { (a.collect(out), ...); }, args);
  }
  void bind(DeviceEvaluator<expr::Apply<Op, Args...>>& ev) const {
    ev.op = op;
    bind_children(ev, std::index_sequence_for<Args...>{});
  }
  template <std::size_t... I>
  void bind_children(DeviceEvaluator<expr::Apply<Op, Args...>>& ev, std::index_sequence<I...>) const {
    (std::get<I>(args).bind(std::get<I>(ev.args)), ...);
  }
};

}  // namespace detail

// A bound expression tree: its evaluator, the collapsed space and whether the flat path applies.
// `extra` lists further strided tensors of the output's shape that the kernel reads or writes
// at the same positions (the fused backward's incoming gradient and outputs): they are
// collapsed together with the expression so one Pos serves all of them.
template <class E>
struct BoundExpression {
  DeviceEvaluator<E> ev{};
  Space space;
  bool flat = true;
};

template <class E, std::size_t N = 0>
BoundExpression<E> bind(const E& e, const Shape& out_shape, Shape out_strides,
                        std::array<Shape*, N> extra = {}) {
  detail::Binder<E> binder(e, out_shape);
  cpu_backend::StrideList strides;
  binder.collect(strides);
  for (Shape* s : extra) strides.push_back(s);
  strides.push_back(&out_strides);
  Shape shape = out_shape;
  cpu_backend::detail::collapse_dims(shape, strides);
  BoundExpression<E> b;
  binder.bind(b.ev);
  b.space.rank = shape.size();
  for (int d = 0; d < shape.size(); ++d) {
    b.space.shape[d] = shape[d];
    b.space.out_strides[d] = out_strides[d];
  }
  b.flat = shape.size() <= 1;
  if (shape.size() == 0) b.space.out_strides[0] = 0;
  return b;
}

template <class T, class Ev, bool Flat>
struct EvaluateKernel {
  T* out;
  Ev ev;
  Space space;
  ETNA_HD void operator()(std::int64_t i) const {
    const Pos<Flat> p = space.template at<Flat>(i);
    out[space.out_offset(p)] = static_cast<T>(ev.scalar(p));
  }
};

// The flat contiguous path with vector accesses: thread j < n / kLanes handles elements
// kLanes j .. kLanes j + kLanes - 1, the few threads after them one tail element each.
template <class T, class Ev>
struct LanesKernel {
  T* out;
  Ev ev;
  std::int64_t groups;  // n / kLanes
  ETNA_HD void operator()(std::int64_t j) const {
    if (j < groups) {
      const auto in = ev.lanes(j * kLanes);
      Lanes<T> r;
      for (int k = 0; k < kLanes; ++k) r.v[k] = static_cast<T>(in.v[k]);
      *reinterpret_cast<Lanes<T>*>(out + j * kLanes) = r;
    } else {
      const std::int64_t i = groups * kLanes + (j - groups);
      out[i] = static_cast<T>(ev.scalar(Pos<true>{i, {}}));
    }
  }
};

// Below this size a launch costs more than the memory traffic: the plain kernel serves.
inline constexpr std::int64_t kLanesMinElements = 1 << 14;

template <class T, class E>
void evaluate(T* out, Shape out_strides, const Shape& out_shape, const E& e) {
  const std::int64_t n = out_shape.numel();
  if (n == 0) return;
  require_device();
  const auto b = bind(e, out_shape, out_strides);
  if (b.flat && n >= kLanesMinElements && b.space.out_strides[0] == 1 &&
      reinterpret_cast<std::uintptr_t>(out) % alignof(Lanes<T>) == 0 && b.ev.lanes_ok()) {
    const std::int64_t groups = n / kLanes;
    for_each_index(groups + (n - groups * kLanes),
                   LanesKernel<T, DeviceEvaluator<E>>{out, b.ev, groups});
  } else if (b.flat)
    for_each_index(n, EvaluateKernel<T, DeviceEvaluator<E>, true>{out, b.ev, b.space});
  else
    for_each_index(n, EvaluateKernel<T, DeviceEvaluator<E>, false>{out, b.ev, b.space});
}

template <class U, class T>
Tensor<U, cuda> convert(const Tensor<T, cuda>& t) {
  return Tensor<U, cuda>(cast<U>(t));
}

}  // namespace etna::cuda_backend
