// CPU evaluation of element-wise expression trees: one fused pass per materialisation, SIMD
// (xsimd) over contiguous rows, a strided/broadcast path otherwise, split over the thread pool.
// Also assign_expression, the entry point for every device (it dispatches to the CUDA backend).
#pragma once

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/macros.hpp"
#include "etna/expr/node.hpp"

namespace etna::cpu_backend {

// A tree runs on SIMD batches when every node has the same floating element type.
template <class E>
struct simd_type {
  using type = void;
};
template <FloatingScalar T, class D>
struct simd_type<expr::Leaf<T, D>> {
  using type = T;
};
template <FloatingScalar T>
struct simd_type<expr::Const<T>> {
  using type = T;
};
template <class Op, class... Args>
struct simd_type<expr::Apply<Op, Args...>> {
  using V = typename expr::Apply<Op, Args...>::value_type;
  static constexpr bool uniform =
      FloatingScalar<V> && (std::is_same_v<typename simd_type<Args>::type, V> && ...);
  using type = std::conditional_t<uniform, V, void>;
};
template <class E>
inline constexpr bool simd_eligible = !std::is_void_v<typename simd_type<E>::type>;

// The stride lists of an expression's leaves (and its output), gathered for collapse_dims:
// held inline up to 16 entries, so evaluating a small expression does not touch the heap.
class StrideList {
 public:
  void push_back(Shape* s) {
    if (n_ < kInline) {
      inline_[n_++] = s;
      return;
    }
    if (more_.empty()) more_.assign(inline_, inline_ + kInline);
    more_.push_back(s);
    ++n_;
  }
  std::size_t size() const { return static_cast<std::size_t>(n_); }
  Shape* const* begin() const { return n_ <= kInline ? inline_ : more_.data(); }
  Shape* const* end() const { return begin() + n_; }
  Shape* operator[](std::size_t i) const { return begin()[i]; }

 private:
  static constexpr int kInline = 16;
  Shape* inline_[kInline];
  std::vector<Shape*> more_;
  int n_ = 0;
};

// Evaluators are the bound form of an expression: leaves hold raw pointers and strides
// aligned to the output's (collapsed) iteration space, and a row pointer set by seek().
template <class E>
struct Evaluator;

template <class T, class D>
struct Evaluator<expr::Leaf<T, D>> {
  const T* base;
  const T* row = nullptr;
  std::int64_t inner = 0;
  Shape strides;

  Evaluator(const expr::Leaf<T, D>& leaf, const Shape& out_shape) : base(leaf.tensor.data()) {
    const Shape& s = leaf.tensor.shape();
    const Shape& st = leaf.tensor.strides();
    const int lead = out_shape.size() - s.size();
    strides = Shape(out_shape.size(), 0);
    for (int i = 0; i < s.size(); ++i)
      strides[lead + i] = (s[i] == 1) ? 0 : st[i];
  }
  void collect(StrideList& out) { out.push_back(&strides); }
  void seek(const std::int64_t* idx, int rank) {
    row = base;
    for (int d = 0; d + 1 < rank; ++d) row += idx[d] * strides[d];
    inner = rank > 0 ? strides[rank - 1] : 0;
  }
  ETNA_INLINE T scalar(std::int64_t j) const { return row[j * inner]; }
  template <class B, bool Contiguous>
  ETNA_INLINE B batch(std::int64_t j) const {
    if constexpr (Contiguous) {
      return B::load_unaligned(row + j);
    } else {
      if (inner == 1) return B::load_unaligned(row + j);
      if (inner == 0) return B(row[0]);
      alignas(64) T lanes[B::size];
      for (std::size_t k = 0; k < B::size; ++k) lanes[k] = row[(j + k) * inner];
      return B::load_aligned(lanes);
    }
  }
};

template <class T>
struct Evaluator<expr::Const<T>> {
  T value;
  Evaluator(const expr::Const<T>& c, const Shape&) : value(c.value) {}
  void collect(StrideList&) {}
  void seek(const std::int64_t*, int) {}
  ETNA_INLINE T scalar(std::int64_t) const { return value; }
  template <class B, bool Contiguous>
  ETNA_INLINE B batch(std::int64_t) const {
    return B(value);
  }
};

template <class Op, class... Args>
struct Evaluator<expr::Apply<Op, Args...>> {
  Op op;
  std::tuple<Evaluator<Args>...> args;

  Evaluator(const expr::Apply<Op, Args...>& node, const Shape& out_shape)
      : op(node.op),
        args(std::apply(
            [&](const auto&... a) {
              return std::tuple<Evaluator<Args>...>(Evaluator<Args>(a, out_shape)...);
            },
            node.args)) {}
  void collect(StrideList& out) {
    std::apply([&](auto&... a) { (a.collect(out), ...); }, args);
  }
  void seek(const std::int64_t* idx, int rank) {
    std::apply([&](auto&... a) { (a.seek(idx, rank), ...); }, args);
  }
  ETNA_INLINE auto scalar(std::int64_t j) const {
    return std::apply([&](const auto&... a) { return op(a.scalar(j)...); }, args);
  }
  template <class B, bool Contiguous>
  ETNA_INLINE B batch(std::int64_t j) const {
    return std::apply(
        [&](const auto&... a) { return op(a.template batch<B, Contiguous>(j)...); }, args);
  }
};

namespace detail {

// Drops size-1 dimensions and merges neighbours that are contiguous in every operand, so a
// same-shape contiguous expression becomes one flat loop and bias broadcasts become rows.
inline void collapse_dims(Shape& shape, const StrideList& strides) {
  Shape out_shape;
  constexpr std::size_t kInline = 8;
  Shape inline_out[kInline];
  std::vector<Shape> heap_out(strides.size() > kInline ? strides.size() : 0);
  Shape* const out = strides.size() > kInline ? heap_out.data() : inline_out;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    if (merge) {
      for (std::size_t k = 0; k < strides.size(); ++k)
        if (out[k].back() != (*strides[k])[d] * shape[d]) {
          merge = false;
          break;
        }
    }
    if (merge) {
      out_shape[out_shape.size() - 1] *= shape[d];
      for (std::size_t k = 0; k < strides.size(); ++k)
        out[k][out[k].size() - 1] = (*strides[k])[d];
    } else {
      out_shape.push_back(shape[d]);
      for (std::size_t k = 0; k < strides.size(); ++k) out[k].push_back((*strides[k])[d]);
    }
  }
  shape = out_shape;
  for (std::size_t k = 0; k < strides.size(); ++k) *strides[k] = out[k];
}

// Evaluates elements [j0, j1) of the current row into out (stride out_inner).
template <bool Contiguous, class E, class Ev, class T>
ETNA_INLINE void run_row(const Ev& ev, T* out, std::int64_t out_inner, std::int64_t j0,
                         std::int64_t j1) {
  std::int64_t j = j0;
  if constexpr (simd_eligible<E> && std::is_same_v<typename simd_type<E>::type, T>) {
    using B = xsimd::batch<T>;
    constexpr std::int64_t W = B::size;
    if (Contiguous || out_inner == 1) {
      for (; j + W <= j1; j += W) ev.template batch<B, Contiguous>(j).store_unaligned(out + j);
    } else {
      alignas(64) T lanes[W];
      for (; j + W <= j1; j += W) {
        ev.template batch<B, false>(j).store_aligned(lanes);
        for (std::int64_t k = 0; k < W; ++k) out[(j + k) * out_inner] = lanes[k];
      }
    }
  }
  for (; j < j1; ++j) out[j * out_inner] = static_cast<T>(ev.scalar(j));
}

}  // namespace detail

// Minimum elements per thread before a materialisation is split across threads.
inline constexpr std::int64_t kParallelGrain = 1 << 16;

// Writes expression e (already broadcast-compatible with out_shape) into the strided output.
template <class T, class E>
void evaluate(T* out, Shape out_strides, const Shape& out_shape, const E& e) {
  const std::int64_t total = out_shape.numel();
  if (total == 0) return;
  Evaluator<E> ev(e, out_shape);
  StrideList strides;
  ev.collect(strides);
  strides.push_back(&out_strides);
  Shape shape = out_shape;
  detail::collapse_dims(shape, strides);
  const int rank = shape.size();
  const std::int64_t inner_n = rank > 0 ? shape[rank - 1] : 1;
  const std::int64_t outer_n = total / inner_n;
  bool contiguous = true;
  for (Shape* s : strides)
    if (rank > 0 && (*s)[rank - 1] != 1) contiguous = false;

  auto run_rows = [&](std::int64_t r0, std::int64_t r1, std::int64_t j0, std::int64_t j1) {
    Evaluator<E> local = ev;
    Shape idx(std::max(rank - 1, 0), 0);
    for (std::int64_t r = r0; r < r1; ++r) {
      std::int64_t rest = r;
      for (int d = rank - 2; d >= 0; --d) {
        idx[d] = rest % shape[d];
        rest /= shape[d];
      }
      local.seek(idx.data(), rank);
      T* row_out = out;
      for (int d = 0; d + 1 < rank; ++d) row_out += idx[d] * out_strides[d];
      const std::int64_t out_inner = rank > 0 ? out_strides[rank - 1] : 0;
      if (contiguous)
        detail::run_row<true, E>(local, row_out, out_inner, j0, j1);
      else
        detail::run_row<false, E>(local, row_out, out_inner, j0, j1);
    }
  };

  if (outer_n == 1) {  // one long row: split the row itself
    // Chunks start at multiples of the SIMD width, so every element takes the same path (SIMD
    // body or scalar tail, whose results may differ in the last ulp) whatever the thread count.
    constexpr std::int64_t W = [] {
      if constexpr (simd_eligible<E> && std::is_same_v<typename simd_type<E>::type, T>)
        return static_cast<std::int64_t>(xsimd::batch<T>::size);
      else
        return std::int64_t{1};
    }();
    parallel_for(0, (inner_n + W - 1) / W, kParallelGrain / W,
                 [&](std::int64_t b, std::int64_t e2) {
                   run_rows(0, 1, b * W, std::min(e2 * W, inner_n));
                 });
  } else {
    const std::int64_t grain_rows = std::max<std::int64_t>(1, kParallelGrain / inner_n);
    parallel_for(0, outer_n, grain_rows,
                 [&](std::int64_t b, std::int64_t e2) { run_rows(b, e2, 0, inner_n); });
  }
}

}  // namespace etna::cpu_backend

namespace etna::detail {

template <class T, class D, class Src>
void assign_expression(const Tensor<T, D>& dst, const Src& src) {
  const auto e = [&] {
    if constexpr (std::is_arithmetic_v<Src>) return expr::Const<T>(static_cast<T>(src));
    else return as_expr(src);
  }();
  using E = std::remove_cvref_t<decltype(e)>;
  static_assert(std::is_same_v<typename E::value_type, T>,
                "etna: assign() source has a different element type than the destination; "
                "convert it with etna::cast<T>(x)");
  if (broadcast_shape(e.shape(), dst.shape(), "assign") != dst.shape())
    throw shape_error(str("assign: cannot write a value of shape ", e.shape(),
                          " into a tensor of shape ", dst.shape()));
  if (dst.numel() == 0) return;
  for (int i = 0; i < dst.dim(); ++i)
    if (dst.strides()[i] == 0 && dst.shape()[i] > 1)
      throw value_error(str("assign: the destination of shape ", dst.shape(),
                            " is an expanded view (stride 0): several elements share one memory "
                            "location; call contiguous() or clone() first"));
  // Aliasing: a leaf reading exactly the destination's elements is safe in one pass; any other
  // view of the same storage could be overwritten before it is read, so use a temporary.
  bool needs_temporary = false;
  expr::for_each_leaf(e, [&](const auto& leaf) {
    const auto& t = leaf.tensor;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(t)>, Tensor<T, D>>) {
      if (t.storage() && t.storage().get() == dst.storage().get()) {
        bool same_view = t.data() == dst.data() && t.shape() == dst.shape();
        for (int i = 0; same_view && i < dst.dim(); ++i)
          if (dst.shape()[i] != 1 && t.strides()[i] != dst.strides()[i]) same_view = false;
        if (!same_view) needs_temporary = true;
      }
    } else if (t.storage() &&
               static_cast<const void*>(t.storage().get()) ==
                   static_cast<const void*>(dst.storage().get())) {
      needs_temporary = true;
    }
  });
  // The device's evaluator: the CPU's SIMD loops, or one CUDA kernel (backend/cuda/evaluate).
  auto run = [](const Tensor<T, D>& out, const auto& ex) {
    if constexpr (std::is_same_v<D, cpu>)
      cpu_backend::evaluate(out.data(), out.strides(), out.shape(), ex);
    else
      cuda_backend::evaluate(out.data(), out.strides(), out.shape(), ex);
  };
  if (needs_temporary) {
    Tensor<T, D> tmp = Tensor<T, D>::allocate(e.shape());
    run(tmp, e);
    run(dst, expr::Leaf<T, D>(tmp));
    return;
  }
  run(dst, e);
}

}  // namespace etna::detail
