// softmax and log_softmax on Vars: forward through the tensor kernels, backward fused per row
// from the saved output y: softmax dx = y * (g - sum(g * y)); log_softmax dx = g - exp(y) * sum(g).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/core/shape.hpp"
#include "etna/ops/softmax.hpp"

namespace etna::autograd {
namespace softmax_detail {

inline constexpr std::int64_t kGrain = 1 << 14;  // elements per thread, at least
inline constexpr std::int64_t kTile = 1024;      // columns of the strided kernel

// One row of n contiguous elements: the row's sum (of g * y, or of g for log_softmax), then
// the gradient written while the row is still in cache.
template <class T>
void backward_row(const T* y, const T* g, T* out, std::int64_t n, bool log) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  B acc(T(0));
  std::int64_t j = 0;
  for (; j + W <= n; j += W) {
    const B gb = B::load_unaligned(g + j);
    acc += log ? gb : gb * B::load_unaligned(y + j);
  }
  T s = xsimd::hadd(acc);
  for (; j < n; ++j) s += log ? g[j] : g[j] * y[j];
  const B sb(s);
  j = 0;
  if (log) {
    for (; j + W <= n; j += W)
      (B::load_unaligned(g + j) - xsimd::exp(B::load_unaligned(y + j)) * sb)
          .store_unaligned(out + j);
    for (; j < n; ++j) out[j] = g[j] - std::exp(y[j]) * s;
  } else {
    for (; j + W <= n; j += W)
      (B::load_unaligned(y + j) * (B::load_unaligned(g + j) - sb)).store_unaligned(out + j);
    for (; j < n; ++j) out[j] = y[j] * (g[j] - s);
  }
}

// Columns [c0, c1) of one [n, inner] slab, softmax taken down each column: the row of sums
// stays in L1 while the n rows stream past, SIMD across the contiguous columns.
template <class T>
void backward_columns(const T* y, const T* g, T* out, std::int64_t n, std::int64_t inner,
                      std::int64_t c0, std::int64_t c1, T* sum, bool log) {
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = B::size;
  const std::int64_t w = c1 - c0;
  std::fill_n(sum, w, T(0));
  for (std::int64_t i = 0; i < n; ++i) {
    const T* yr = y + i * inner + c0;
    const T* gr = g + i * inner + c0;
    std::int64_t c = 0;
    for (; c + W <= w; c += W) {
      const B gb = B::load_unaligned(gr + c);
      (B::load_unaligned(sum + c) + (log ? gb : gb * B::load_unaligned(yr + c)))
          .store_unaligned(sum + c);
    }
    for (; c < w; ++c) sum[c] += log ? gr[c] : gr[c] * yr[c];
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const T* yr = y + i * inner + c0;
    const T* gr = g + i * inner + c0;
    T* orow = out + i * inner + c0;
    std::int64_t c = 0;
    if (log) {
      for (; c + W <= w; c += W)
        (B::load_unaligned(gr + c) -
         xsimd::exp(B::load_unaligned(yr + c)) * B::load_unaligned(sum + c))
            .store_unaligned(orow + c);
      for (; c < w; ++c) orow[c] = gr[c] - std::exp(yr[c]) * sum[c];
    } else {
      for (; c + W <= w; c += W)
        (B::load_unaligned(yr + c) * (B::load_unaligned(gr + c) - B::load_unaligned(sum + c)))
            .store_unaligned(orow + c);
      for (; c < w; ++c) orow[c] = yr[c] * (gr[c] - sum[c]);
    }
  }
}

// The input gradient over contiguous [outer, n, inner] data, along n.
template <class T>
void backward(const T* y, const T* g, T* out, std::int64_t outer, std::int64_t n,
              std::int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    const std::int64_t grain = std::max<std::int64_t>(1, kGrain / n);
    cpu_backend::parallel_for(0, outer, grain, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r)
        backward_row(y + r * n, g + r * n, out + r * n, n, log);
    });
    return;
  }
  const std::int64_t tiles = (inner + kTile - 1) / kTile;
  const std::int64_t width = std::min(inner, kTile);
  const std::int64_t grain = std::max<std::int64_t>(1, kGrain / (n * width));
  cpu_backend::parallel_for(0, outer * tiles, grain, [&](std::int64_t i0, std::int64_t i1) {
    std::vector<T> sum(static_cast<std::size_t>(width));
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t o = i / tiles, c0 = i % tiles * kTile;
      backward_columns(y + o * n * inner, g + o * n * inner, out + o * n * inner, n, inner, c0,
                       std::min(inner, c0 + kTile), sum.data(), log);
    }
  });
}

}  // namespace softmax_detail

// Saves only the output y (the gradient needs nothing else).
template <class T, class D>
class SoftmaxNode final : public Node<T, D> {
 public:
  SoftmaxNode(std::shared_ptr<VarImpl<T, D>> input, Tensor<T, D> y, int dim, bool log)
      : input_(std::move(input)), y_(std::move(y)), dim_(dim), log_(log) {}
  const char* name() const override { return log_ ? "LogSoftmaxBackward" : "SoftmaxBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous(), y = y_.contiguous();
    const Shape& shape = y.shape();
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < dim_; ++i) outer *= shape[i];
    for (int i = dim_ + 1; i < shape.size(); ++i) inner *= shape[i];
    const std::int64_t n = shape.size() == 0 ? 1 : shape[dim_];
    auto dx = Tensor<T, D>::allocate(shape);
    if constexpr (std::is_same_v<D, cpu>)
      softmax_detail::backward(y.data(), g.data(), dx.data(), outer, n, inner, log_);
    else
      cuda_backend::softmax_backward(y.data(), g.data(), dx.data(), outer, n, inner, log_);
    propagate(input_, dx);
  }
  void release_saved() override {
    input_.reset();
    y_ = Tensor<T, D>();
  }

 private:
  std::shared_ptr<VarImpl<T, D>> input_;
  Tensor<T, D> y_;
  int dim_;
  bool log_;
};

template <class T, class D>
Var<T, D> softmax_var(const Var<T, D>& x, std::int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  const int d = normalize_dim(dim, x.dim(), op);
  Tensor<T, D> y = etna::detail::softmax_impl(x.value(), d, log, op);
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x)) node = std::make_shared<SoftmaxNode<T, D>>(x.impl_ptr(), y, d, log);
  return make_result(std::move(y), std::move(node));
}

}  // namespace etna::autograd

namespace etna {

// softmax of a Var or Var expression along dim (negative dims count from the end).
template <VarLike X>
auto softmax(const X& x, std::int64_t dim) {
  return autograd::softmax_var(as_var(x), dim, false);
}

// log_softmax along dim: its gradient g - softmax * sum(g) never forms exp of the input.
template <VarLike X>
auto log_softmax(const X& x, std::int64_t dim) {
  return autograd::softmax_var(as_var(x), dim, true);
}

}  // namespace etna
