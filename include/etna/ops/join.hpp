// Joining and splitting along one dimension: concat (alias cat) and stack copy into a new
// tensor; split and chunk return views that share the input's storage, as in PyTorch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna {
namespace detail {

// "[2, 3, 1]" for a list of sizes of any length (Shape holds at most kMaxDims values).
inline std::string size_list_str(const std::vector<std::int64_t>& sizes) {
  std::string s = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// PyTorch's cat skips legacy empty 1-d tensors (shape [0]) whatever the other shapes are. A
// default-constructed Tensor is one, so `acc = cat({acc, x})` can start from nothing.
template <class T, class D>
bool skipped_by_concat(const Tensor<T, D>& t) {
  return t.dim() == 1 && t.numel() == 0;
}

// Copies the parts into the contiguous `out` along dimension d (CPU). Viewed as [outer, row],
// each output row is the parts' blocks side by side. Contiguous parts are copied block by block:
// with one row (d = 0) the flat output is split into ranges across the pool, so one big part
// is copied by several threads; with many rows the rows are split. Strided parts go through
// the fused evaluator into a slice of the output.
template <class T>
void concat_into_host(const Tensor<T>& out, const std::vector<Tensor<T>>& parts, int d) {
  const std::int64_t total = out.numel();
  if (total == 0) return;
  std::int64_t outer = 1;
  for (int k = 0; k < d; ++k) outer *= out.shape()[k];
  const std::int64_t row = total / outer;
  const std::size_t n = parts.size();
  std::vector<std::int64_t> start(n), block(n);  // within a row
  std::int64_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    start[i] = pos;
    block[i] = parts[i].numel() / outer;
    pos += block[i];
  }
  T* dst = out.data();
  if (outer == 1) {
    cpu_backend::parallel_for(
        0, total, cpu_backend::kParallelGrain, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t k = b; k < e;) {
            // The last part starting at or before k; empty parts share a start with the next one.
            const auto i = static_cast<std::size_t>(
                std::upper_bound(start.begin(), start.end(), k) - start.begin() - 1);
            const std::int64_t len = std::min(e, start[i] + block[i]) - k;
            if (parts[i].is_contiguous())
              std::memcpy(dst + k, parts[i].data() + (k - start[i]),
                          static_cast<std::size_t>(len) * sizeof(T));
            k += len;
          }
        });
  } else {
    cpu_backend::parallel_for(
        0, outer, std::max<std::int64_t>(1, cpu_backend::kParallelGrain / row),
        [&](std::int64_t o0, std::int64_t o1) {
          for (std::size_t i = 0; i < n; ++i) {
            if (!parts[i].is_contiguous() || block[i] == 0) continue;
            const T* src = parts[i].data() + o0 * block[i];
            T* o = dst + o0 * row + start[i];
            if (block[i] == 1) {  // stack along the last dimension: a strided scatter
              for (std::int64_t r = 0; r < o1 - o0; ++r) o[r * row] = src[r];
            } else {
              for (std::int64_t r = 0; r < o1 - o0; ++r)
                std::memcpy(o + r * row, src + r * block[i],
                            static_cast<std::size_t>(block[i]) * sizeof(T));
            }
          }
        });
  }
  std::int64_t offset = 0;
  for (const auto& p : parts) {
    if (!p.is_contiguous()) out.slice(d, offset, offset + p.size(d)).assign(p);
    offset += p.size(d);
  }
}

// The same on any device: the GPU copies each part with one kernel (backend/cuda/shape_ops.hpp).
template <class T, class D>
void concat_into(const Tensor<T, D>& out, const std::vector<Tensor<T, D>>& parts, int d) {
  if constexpr (std::is_same_v<D, cpu>)
    concat_into_host(out, parts, d);
  else
    cuda_backend::concat_into(out, parts, d);
}

}  // namespace detail

// ---- concat / cat --------------------------------------------------------------------------
// Joins tensors along an existing dimension; all other sizes must match. Always a new
// contiguous tensor. Legacy empty 1-d tensors (shape [0]) are skipped, as in PyTorch.
template <Scalar T, Device D>
Tensor<T, D> concat(const std::vector<Tensor<T, D>>& tensors, std::int64_t dim = 0) {
  if (tensors.empty()) throw value_error("concat: expected a non-empty list of tensors");
  std::vector<Tensor<T, D>> parts;
  std::vector<std::size_t> original;  // index in `tensors`, for messages
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (!detail::skipped_by_concat(tensors[i])) {
      parts.push_back(tensors[i]);
      original.push_back(i);
    }
  if (parts.empty()) return empty<T, D>({0});
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (parts[i].dim() == 0)
      throw shape_error(detail::str("concat: tensor ", original[i],
                                    " is 0-d and cannot be concatenated; use stack, or "
                                    "unsqueeze it first"));
  const int d = normalize_dim(dim, parts[0].dim(), "concat");
  Shape out_shape = parts[0].shape();
  out_shape[d] = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      const Shape& a = parts[0].shape();
      const Shape& b = parts[i].shape();
      bool ok = a.size() == b.size();
      for (int k = 0; ok && k < a.size(); ++k)
        if (k != d && a[k] != b[k]) ok = false;
      if (!ok)
        throw shape_error(detail::str("concat: tensor ", original[i], " has shape ", b,
                                      " but tensor ", original[0], " has shape ", a,
                                      "; sizes must match except in dimension ", d));
    }
    out_shape[d] += parts[i].size(d);
  }
  auto out = empty<T, D>(out_shape);
  detail::concat_into(out, parts, d);
  return out;
}
template <Scalar T, Device D>
Tensor<T, D> concat(std::initializer_list<Tensor<T, D>> tensors, std::int64_t dim = 0) {
  return concat(std::vector<Tensor<T, D>>(tensors), dim);
}
template <Scalar T, Device D>
Tensor<T, D> cat(const std::vector<Tensor<T, D>>& tensors, std::int64_t dim = 0) {
  return concat(tensors, dim);
}
template <Scalar T, Device D>
Tensor<T, D> cat(std::initializer_list<Tensor<T, D>> tensors, std::int64_t dim = 0) {
  return concat(std::vector<Tensor<T, D>>(tensors), dim);
}

// ---- stack -------------------------------------------------------------------------------
// Joins same-shape tensors along a new dimension `dim` (in [-(rank+1), rank]).
template <Scalar T, Device D>
Tensor<T, D> stack(const std::vector<Tensor<T, D>>& tensors, std::int64_t dim = 0) {
  if (tensors.empty()) throw value_error("stack: expected a non-empty list of tensors");
  const int d = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor<T, D>> parts;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!(tensors[i].shape() == tensors[0].shape()))
      throw shape_error(detail::str("stack: tensor ", i, " has shape ", tensors[i].shape(),
                                    " but tensor 0 has shape ", tensors[0].shape(),
                                    "; all tensors must have the same shape"));
    parts.push_back(tensors[i].unsqueeze(d));
  }
  Shape out_shape = parts[0].shape();
  out_shape[d] = static_cast<std::int64_t>(parts.size());
  auto out = empty<T, D>(out_shape);
  detail::concat_into(out, parts, d);
  return out;
}
template <Scalar T, Device D>
Tensor<T, D> stack(std::initializer_list<Tensor<T, D>> tensors, std::int64_t dim = 0) {
  return stack(std::vector<Tensor<T, D>>(tensors), dim);
}

// ---- split / chunk (views) -----------------------------------------------------------------
// Pieces of `split_size` along dim (the last may be smaller). Views: writing through a piece
// writes into t.
template <Scalar T, Device D>
std::vector<Tensor<T, D>> split(const Tensor<T, D>& t, std::int64_t split_size,
                                std::int64_t dim = 0) {
  if (t.dim() == 0) throw shape_error("split: expected at least a 1-d tensor, got a 0-d tensor");
  const int d = normalize_dim(dim, t.dim(), "split");
  const std::int64_t n = t.size(d);
  if (split_size < 0)
    throw value_error(detail::str("split: split_size must be non-negative, got ", split_size));
  if (split_size == 0 && n != 0)
    throw value_error(detail::str("split: split_size can only be 0 if dimension ", d,
                                  " has size 0, but it has size ", n));
  std::vector<Tensor<T, D>> pieces;
  if (split_size == 0 || n == 0) {  // one empty piece, as PyTorch
    pieces.push_back(t.slice(d, 0, 0));
    return pieces;
  }
  for (std::int64_t s = 0; s < n; s += split_size)
    pieces.push_back(t.slice(d, s, std::min(n, s + split_size)));
  return pieces;
}

// Pieces of the given sizes along dim; the sizes must be non-negative and sum to t.size(dim).
template <Scalar T, Device D>
std::vector<Tensor<T, D>> split(const Tensor<T, D>& t, const std::vector<std::int64_t>& sizes,
                                std::int64_t dim = 0) {
  if (t.dim() == 0) throw shape_error("split: expected at least a 1-d tensor, got a 0-d tensor");
  const int d = normalize_dim(dim, t.dim(), "split");
  std::int64_t sum = 0;
  for (auto s : sizes) {
    if (s < 0)
      throw value_error(
          detail::str("split: sizes must be non-negative, got ", detail::size_list_str(sizes)));
    sum += s;
  }
  if (sum != t.size(d))
    throw shape_error(detail::str("split: sizes ", detail::size_list_str(sizes), " sum to ", sum,
                                  " but dimension ", d, " of the input of shape ", t.shape(),
                                  " has size ", t.size(d)));
  std::vector<Tensor<T, D>> pieces;
  std::int64_t start = 0;
  for (auto s : sizes) {
    pieces.push_back(t.slice(d, start, start + s));
    start += s;
  }
  return pieces;
}
// A braced list means sizes, as in PyTorch: split(t, {2}) is one piece of size 2.
template <Scalar T, Device D>
std::vector<Tensor<T, D>> split(const Tensor<T, D>& t, std::initializer_list<std::int64_t> sizes,
                                std::int64_t dim = 0) {
  return split(t, std::vector<std::int64_t>(sizes), dim);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto split(const E& e, std::int64_t split_size, std::int64_t dim = 0) {
  return split(eval(e), split_size, dim);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto split(const E& e, std::initializer_list<std::int64_t> sizes, std::int64_t dim = 0) {
  return split(eval(e), std::vector<std::int64_t>(sizes), dim);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto split(const E& e, const std::vector<std::int64_t>& sizes, std::int64_t dim = 0) {
  return split(eval(e), sizes, dim);
}

// `chunks` pieces of ceil(size / chunks) along dim (PyTorch's rule, so fewer pieces may come
// back, e.g. 6 elements in 4 chunks gives 3 pieces of 2). Views, like split.
template <Scalar T, Device D>
std::vector<Tensor<T, D>> chunk(const Tensor<T, D>& t, std::int64_t chunks, std::int64_t dim = 0) {
  if (t.dim() == 0) throw shape_error("chunk: expected at least a 1-d tensor, got a 0-d tensor");
  if (chunks <= 0)
    throw value_error(detail::str("chunk: chunks must be greater than 0, got ", chunks));
  const int d = normalize_dim(dim, t.dim(), "chunk");
  const std::int64_t n = t.size(d);
  if (n == 0)  // PyTorch keeps the requested number of (empty) pieces here
    return split(t, std::vector<std::int64_t>(static_cast<std::size_t>(chunks), 0), d);
  return split(t, (n + chunks - 1) / chunks, d);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto chunk(const E& e, std::int64_t chunks, std::int64_t dim = 0) {
  return chunk(eval(e), chunks, dim);
}

}  // namespace etna
