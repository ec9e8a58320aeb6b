// CUDA kernels behind concat/stack, index_select, gather, scatter_add, index_add, pad and the
// embedding backward: one thread per output (or source) element through for_each_index, strided
// operands through fixed arrays of kMaxDims strides, and atomic adds where indices may repeat.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/core/macros.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/ops/pad.hpp"

namespace etna::cuda_backend {
namespace shape_detail {

inline void copy_strides(std::int64_t (&dst)[kMaxDims], const Shape& s) {
  for (int d = 0; d < kMaxDims; ++d) dst[d] = d < s.size() ? s[d] : 0;
}

// *p += v, safe against other threads adding to the same element. atomicAdd covers float,
// double and int32; int64 adds as unsigned long long (two's complement); bool only ever turns
// true, which a plain store does race-free. The host pass (emulation runs kernels one element
// at a time) adds plainly.
template <class T>
ETNA_HD inline void atomic_add(T* p, T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, bool>) {
    if (v) *p = true;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else {
    atomicAdd(p, v);
  }
#else
  *p = static_cast<T>(*p + v);
#endif
}

// An int64 index list in [0, n) fits an unsigned 64-bit atomicMin.
ETNA_HD inline void atomic_min(std::int64_t* p, std::int64_t v) {
#if defined(__CUDA_ARCH__)
  atomicMin(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
#else
  if (v < *p) *p = v;
#endif
}

// concat copies up to kConcatBatch parts per kernel: each thread finds its part among the
// batch's starts along dim and reads it through the part's own strides (any layout).
inline constexpr int kConcatBatch = 8;
template <class T>
struct ConcatKernel {
  T* out;  // at the batch's first position along dim
  int rank, dim, parts;
  std::int64_t size[kMaxDims];         // the batch's region of the output
  std::int64_t out_strides[kMaxDims];  // the (contiguous) output's strides
  const T* base[kConcatBatch];
  std::int64_t start[kConcatBatch];  // along dim, from the batch's first position
  std::int64_t strides[kConcatBatch][kMaxDims];
  ETNA_HD void operator()(std::int64_t i) const {
    std::int64_t c[kMaxDims] = {};
    std::int64_t rest = i;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d >= rank) continue;
      c[d] = rest % size[d];
      rest /= size[d];
    }
    int p = 0;
    while (p + 1 < parts && c[dim] >= start[p + 1]) ++p;
    std::int64_t o = 0, s = 0;
    for (int d = 0; d < kMaxDims; ++d) {
      if (d >= rank) continue;
      o += c[d] * out_strides[d];
      s += (d == dim ? c[d] - start[p] : c[d]) * strides[p][d];
    }
    out[o] = base[p][s];
  }
};

struct SetValue {
  std::int64_t* p;
  std::int64_t v;
  ETNA_HD void operator()(std::int64_t) const { *p = v; }
};

struct FirstBadIndexKernel {
  const std::int64_t* idx;
  std::int64_t size;
  std::int64_t* first;
  bool has_allowed;      // whether `allowed` is accepted besides [0, size) (an ignore_index)
  std::int64_t allowed;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t v = idx[i];
    if ((v < 0 || v >= size) && !(has_allowed && v == allowed)) atomic_min(first, i);
  }
};

template <class T>
struct IndexSelectKernel {
  const T* in;
  const std::int64_t* idx;
  T* out;
  std::int64_t n, inner, K;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t j = i % inner, b = i / inner, k = b % K, o = b / K;
    const std::int64_t s = idx[k];
    out[i] = (s >= 0 && s < n) ? in[(o * n + s) * inner + j] : T(0);
  }
};

template <class T>
struct GatherKernel {
  const T* in;
  const std::int64_t* idx;
  T* out;
  int rank, dim;
  std::int64_t size[kMaxDims], in_strides[kMaxDims];
  std::int64_t limit;  // the input's size along dim
  ETNA_HD void operator()(std::int64_t i) const {
    std::int64_t rest = i, off = 0;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d >= rank) continue;
      const std::int64_t c = rest % size[d];
      rest /= size[d];
      if (d != dim) off += c * in_strides[d];
    }
    const std::int64_t s = idx[i];
    out[i] = (s >= 0 && s < limit) ? in[off + s * in_strides[dim]] : T(0);
  }
};

template <class T>
struct ScatterAddKernel {
  T* out;
  const std::int64_t* idx;
  const T* src;
  int rank, dim;
  std::int64_t size[kMaxDims], out_strides[kMaxDims], src_strides[kMaxDims];
  std::int64_t limit;  // the output's size along dim
  ETNA_HD void operator()(std::int64_t i) const {
    std::int64_t rest = i, o = 0, s = 0;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d >= rank) continue;
      const std::int64_t c = rest % size[d];
      rest /= size[d];
      if (d != dim) o += c * out_strides[d];
      s += c * src_strides[d];
    }
    const std::int64_t k = idx[i];
    if (k >= 0 && k < limit) atomic_add(out + o + k * out_strides[dim], src[s]);
  }
};

template <class T>
struct IndexAddKernel {
  T* out;
  const std::int64_t* idx;
  const T* src;
  std::int64_t n, inner, K;
  T alpha;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t j = i % inner, b = i / inner, k = b % K, o = b / K;
    const std::int64_t t = idx[k];
    if (t < 0 || t >= n) return;
    const T v = alpha == T(1) ? src[i] : static_cast<T>(alpha * src[i]);
    atomic_add(out + (o * n + t) * inner + j, v);
  }
};

template <class T>
struct PadKernel {
  const T* in;
  T* out;
  int rank, mode;
  T fill;
  std::int64_t out_size[kMaxDims], in_size[kMaxDims], in_strides[kMaxDims];
  std::int64_t before[kMaxDims], after[kMaxDims];
  ETNA_HD void operator()(std::int64_t i) const {
    std::int64_t rest = i, off = 0;
    bool filled = false;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d >= rank) continue;
      const std::int64_t j = rest % out_size[d];
      rest /= out_size[d];
      const std::int64_t s = etna::detail::pad_source(static_cast<etna::detail::PadMode>(mode), j,
                                                      before[d], after[d], in_size[d]);
      if (s < 0)
        filled = true;
      else
        off += s * in_strides[d];
    }
    out[i] = filled ? fill : in[off];
  }
};

template <class T>
struct EmbeddingBackwardKernel {
  T* gw;
  const std::int64_t* idx;
  const T* g;
  std::int64_t num, dim, padding_idx;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t row = idx[i / dim];
    if (row == padding_idx || row < 0 || row >= num) return;
    atomic_add(gw + row * dim + i % dim, g[i]);
  }
};

}  // namespace shape_detail

template <class T>
void concat_into(const Tensor<T, cuda>& out, const std::vector<Tensor<T, cuda>>& parts, int d) {
  if (out.numel() == 0) return;
  const Shape& out_strides = out.strides();
  std::int64_t offset = 0;  // along d, where the next batch starts in the output
  std::size_t next = 0;
  while (next < parts.size()) {
    shape_detail::ConcatKernel<T> k{};
    k.rank = out.dim();
    k.dim = d;
    std::int64_t len = 0;
    for (; next < parts.size() && k.parts < shape_detail::kConcatBatch; ++next) {
      const auto& p = parts[next];
      if (p.size(d) == 0) continue;
      k.base[k.parts] = p.data();
      k.start[k.parts] = len;
      shape_detail::copy_strides(k.strides[k.parts], p.strides());
      len += p.size(d);
      ++k.parts;
    }
    if (k.parts == 0) break;
    Shape region = out.shape();
    region[d] = len;
    shape_detail::copy_strides(k.size, region);
    shape_detail::copy_strides(k.out_strides, out_strides);
    k.out = out.data() + offset * out_strides[d];
    for_each_index(region.numel(), k);
    offset += len;
  }
}

namespace shape_detail {
inline std::int64_t first_bad(const std::int64_t* idx, std::int64_t n, std::int64_t size,
                              bool has_allowed, std::int64_t allowed) {
  if (n <= 0) return -1;
  if (capturing()) return -1;  // nothing can be read back while a graph is being captured
  require_device();
  const auto first = allocate<std::int64_t>(1);
  for_each_index(1, SetValue{first.get(), n});
  for_each_index(n, FirstBadIndexKernel{idx, size, first.get(), has_allowed, allowed});
  std::int64_t pos = n;
  copy_to_host(&pos, first.get(), sizeof pos);
  return pos < n ? pos : -1;
}
}  // namespace shape_detail

inline std::int64_t first_bad_index(const std::int64_t* idx, std::int64_t n, std::int64_t size) {
  return shape_detail::first_bad(idx, n, size, false, 0);
}

inline std::int64_t first_bad_label(const std::int64_t* idx, std::int64_t n, std::int64_t size,
                                    std::int64_t ignore_index) {
  return shape_detail::first_bad(idx, n, size, true, ignore_index);
}

inline std::int64_t index_at(const std::int64_t* idx, std::int64_t pos) {
  std::int64_t v = 0;
  copy_to_host(&v, idx + pos, sizeof v);
  return v;
}

template <class T>
void index_select(const T* in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  const std::int64_t* idx, std::int64_t K, T* out) {
  const std::int64_t total = outer * K * inner;
  if (total == 0) return;
  for_each_index(total, shape_detail::IndexSelectKernel<T>{in, idx, out, n, inner, K});
}

template <class T>
void gather(const T* in, const Shape& in_shape, const Shape& in_strides, int dim,
            const std::int64_t* idx, const Shape& idx_shape, T* out) {
  const std::int64_t total = idx_shape.numel();
  if (total == 0) return;
  shape_detail::GatherKernel<T> k{in, idx, out, idx_shape.size(), dim, {}, {}, in_shape[dim]};
  shape_detail::copy_strides(k.size, idx_shape);
  shape_detail::copy_strides(k.in_strides, in_strides);
  for_each_index(total, k);
}

template <class T>
void scatter_add(T* out, const Shape& out_shape, int dim, const std::int64_t* idx,
                 const Shape& idx_shape, const T* src, const Shape& src_strides) {
  const std::int64_t total = idx_shape.numel();
  if (total == 0) return;
  shape_detail::ScatterAddKernel<T> k{out, idx, src, idx_shape.size(), dim,
                                      {},  {},  {},  out_shape[dim]};
  shape_detail::copy_strides(k.size, idx_shape);
  shape_detail::copy_strides(k.out_strides, contiguous_strides(out_shape));
  shape_detail::copy_strides(k.src_strides, src_strides);
  for_each_index(total, k);
}

template <class T>
void index_add(T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
               const std::int64_t* idx, std::int64_t K, const T* src, T alpha) {
  const std::int64_t total = outer * K * inner;
  if (total == 0) return;
  for_each_index(total, shape_detail::IndexAddKernel<T>{out, idx, src, n, inner, K, alpha});
}

template <class T>
void pad(const Tensor<T, cuda>& in, const Tensor<T, cuda>& out, int mode,
         const std::vector<std::int64_t>& before, const std::vector<std::int64_t>& after, T fill) {
  const std::int64_t total = out.numel();
  if (total == 0) return;
  shape_detail::PadKernel<T> k{in.data(), out.data(), in.dim(), mode, fill, {}, {}, {}, {}, {}};
  shape_detail::copy_strides(k.out_size, out.shape());
  shape_detail::copy_strides(k.in_size, in.shape());
  shape_detail::copy_strides(k.in_strides, in.strides());
  for (int d = 0; d < in.dim(); ++d) {
    k.before[d] = before[d];
    k.after[d] = after[d];
  }
  for_each_index(total, k);
}

template <class T>
void embedding_backward(T* gw, std::int64_t num, std::int64_t dim, const std::int64_t* idx,
                        std::int64_t n, const T* g, std::int64_t padding_idx) {
  if (n == 0 || dim == 0) return;
  for_each_index(n * dim,
                 shape_detail::EmbeddingBackwardKernel<T>{gw, idx, g, num, dim, padding_idx});
}

}  // namespace etna::cuda_backend
