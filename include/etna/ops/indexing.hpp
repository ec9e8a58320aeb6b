// Integer-index ops with PyTorch semantics: index_select, gather, scatter_add, index_add and
// one_hot. All return new tensors; scatter_add and index_add are the adjoints of the first two.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "etna/backend/cpu/indexing.hpp"
#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna {
namespace detail {

// Every index must lie in [0, size): like PyTorch, negative indices are errors here, not
// counted from the end. Checked before any write so a failed call leaves nothing half-done.
// `index` is contiguous. On cuda the check runs on the device and only the position of the
// first bad index comes back (then its value, for the message), so the error is the CPU's.
template <class D>
void check_indices(std::string_view op, const Tensor<std::int64_t, D>& index, int dim,
                   std::int64_t size) {
  const std::int64_t* p = index.data();
  if constexpr (std::is_same_v<D, cpu>) {
    for (std::int64_t i = 0; i < index.numel(); ++i)
      if (p[i] < 0 || p[i] >= size)
        throw index_error(
            str(op, ": index ", p[i], " is out of range for dimension ", dim, " with size ", size));
  } else {
    const std::int64_t bad = cuda_backend::first_bad_index(p, index.numel(), size);
    if (bad >= 0)
      throw index_error(str(op, ": index ", cuda_backend::index_at(p, bad),
                            " is out of range for dimension ", dim, " with size ", size));
  }
}

// index_select and index_add take a list of indices: a 0-d or 1-d tensor.
template <class D>
Tensor<std::int64_t, D> index_vector(std::string_view op, const Tensor<std::int64_t, D>& index) {
  if (index.dim() > 1)
    throw shape_error(str(op, ": index must be 0-d or 1-d, got shape ", index.shape()));
  return index.contiguous();
}

// Outside `dim`, the index may be smaller than `other` but never larger (gather, scatter_add).
inline void check_index_fits(std::string_view op, const Shape& index, const Shape& other,
                             std::string_view other_name, int dim) {
  for (int d = 0; d < index.size(); ++d)
    if (d != dim && index[d] > other[d])
      throw shape_error(str(op, ": index of shape ", index, " is larger than ", other_name,
                            " of shape ", other, " in dimension ", d, " (only dimension ", dim,
                            " may be larger)"));
}

}  // namespace detail

// ---- index_select ----------------------------------------------------------------------
// The slices of `t` at positions `index` along `dim`: shape of t with dim replaced by
// index.numel(). Contiguous blocks are copied with memcpy.
template <Scalar T, Device D>
Tensor<T, D> index_select(const Tensor<T, D>& t, std::int64_t dim,
                          const std::type_identity_t<Tensor<std::int64_t, D>>& index) {
  const int d = normalize_dim(dim, t.dim(), "index_select");
  const auto idx = detail::index_vector("index_select", index);
  if (t.dim() == 0) {  // PyTorch treats a 0-d input as one element that index 0 selects
    detail::check_indices("index_select", idx, 0, 1);
    return t.clone();
  }
  detail::check_indices("index_select", idx, d, t.size(d));
  const Tensor<T, D> in = t.contiguous();
  Shape out_shape = t.shape();
  out_shape[d] = idx.numel();
  auto out = empty<T, D>(out_shape);
  const std::int64_t outer = cpu_backend::detail::leading_product(t.shape(), d);
  const std::int64_t inner = t.numel() == 0 ? 0 : t.numel() / (outer * t.size(d));
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::index_select(in.data(), outer, t.size(d), inner, idx.data(), idx.numel(),
                              out.data());
  else
    cuda_backend::index_select(in.data(), outer, t.size(d), inner, idx.data(), idx.numel(),
                               out.data());
  return out;
}
template <ExpressionNode E>
  requires TensorLike<E>
auto index_select(const E& e, std::int64_t dim,
                  const Tensor<std::int64_t, typename E::device_type>& index) {
  return index_select(eval(e), dim, index);
}

// ---- gather ------------------------------------------------------------------------------
// out[i][j][k] = t[i][index[i][j][k]][k] for dim = 1: the output has the index's shape, and
// the index may be smaller than t outside dim. Reads t through its strides (no copy).
template <Scalar T, Device D>
Tensor<T, D> gather(const Tensor<T, D>& t, std::int64_t dim,
                    const std::type_identity_t<Tensor<std::int64_t, D>>& index) {
  const int d = normalize_dim(dim, t.dim(), "gather");
  if (index.dim() != t.dim())
    throw shape_error(detail::str("gather: index of shape ", index.shape(),
                                  " must have as many dimensions as the input of shape ",
                                  t.shape()));
  if (t.dim() == 0) return gather(t.reshape({1}), 0, index.reshape({1})).reshape({});
  detail::check_index_fits("gather", index.shape(), t.shape(), "the input", d);
  const auto idx = index.contiguous();
  detail::check_indices("gather", idx, d, t.size(d));
  auto out = empty<T, D>(index.shape());
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::gather(t.data(), t.strides(), d, idx.data(), idx.shape(), out.data());
  else
    cuda_backend::gather(t.data(), t.shape(), t.strides(), d, idx.data(), idx.shape(), out.data());
  return out;
}
template <ExpressionNode E>
  requires TensorLike<E>
auto gather(const E& e, std::int64_t dim,
            const Tensor<std::int64_t, typename E::device_type>& index) {
  return gather(eval(e), dim, index);
}

// ---- scatter_add -------------------------------------------------------------------------
// Out-of-place: a copy of t with out[i][index[i][j][k]][k] += src[i][j][k] (dim = 1);
// duplicate indices accumulate. The gradient of gather. src may be larger than the index.
namespace detail {
// check_index = false skips the range check of the indices: autograd's backward passes indices
// that its forward checked already, which on cuda saves a round trip to the device.
template <Scalar T, Device D>
Tensor<T, D> scatter_add(const Tensor<T, D>& t, std::int64_t dim,
                         const Tensor<std::int64_t, D>& index, const Tensor<T, D>& src,
                         bool check_index) {
  const int d = normalize_dim(dim, t.dim(), "scatter_add");
  if (index.dim() != t.dim() || src.dim() != t.dim())
    throw shape_error(str("scatter_add: index of shape ", index.shape(), ", src of shape ",
                          src.shape(), " and the input of shape ", t.shape(),
                          " must have the same number of dimensions"));
  if (t.dim() == 0)
    return scatter_add(t.reshape({1}), 0, index.reshape({1}), src.reshape({1}), check_index)
        .reshape({});
  for (int k = 0; k < index.dim(); ++k)
    if (index.size(k) > src.size(k))
      throw shape_error(str("scatter_add: index of shape ", index.shape(),
                            " is larger than src of shape ", src.shape(), " in dimension ", k));
  check_index_fits("scatter_add", index.shape(), t.shape(), "the input", d);
  const auto idx = index.contiguous();
  if (check_index) check_indices("scatter_add", idx, d, t.size(d));
  auto out = t.clone();
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::scatter_add(out.data(), out.shape(), d, idx.data(), idx.shape(), src.data(),
                             src.strides());
  else
    cuda_backend::scatter_add(out.data(), out.shape(), d, idx.data(), idx.shape(), src.data(),
                              src.strides());
  return out;
}
}  // namespace detail
template <Scalar T, Device D>
Tensor<T, D> scatter_add(const Tensor<T, D>& t, std::int64_t dim,
                         const std::type_identity_t<Tensor<std::int64_t, D>>& index,
                         const std::type_identity_t<Tensor<T, D>>& src) {
  return detail::scatter_add(t, dim, index, src, true);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto scatter_add(const E& e, std::int64_t dim,
                 const Tensor<std::int64_t, typename E::device_type>& index,
                 const Tensor<typename E::value_type, typename E::device_type>& src) {
  return scatter_add(eval(e), dim, index, src);
}

// ---- index_add ---------------------------------------------------------------------------
// Out-of-place: a copy of t with out.select(dim, index[k]) += alpha * src.select(dim, k);
// duplicate indices accumulate. The gradient of index_select. src must have t's shape with
// dimension dim replaced by index.numel() (PyTorch's documented contract; etna does not
// broadcast src).
namespace detail {
template <Scalar T, Device D>
Tensor<T, D> index_add(const Tensor<T, D>& t, std::int64_t dim,
                       const Tensor<std::int64_t, D>& index, const Tensor<T, D>& src, T alpha,
                       bool check_index) {
  const int d = normalize_dim(dim, t.dim(), "index_add");
  const auto idx = index_vector("index_add", index);
  if (t.dim() == 0) {
    if (src.numel() != idx.numel())
      throw shape_error(str("index_add: src of shape ", src.shape(),
                            " must hold one "
                            "value per index (",
                            idx.numel(), ") for a 0-d input"));
    return index_add(t.reshape({1}), 0, idx.reshape({-1}), src.reshape({-1}), alpha, check_index)
        .reshape({});
  }
  Shape expected = t.shape();
  expected[d] = idx.numel();
  if (!(src.shape() == expected))
    throw shape_error(str("index_add: src of shape ", src.shape(), " must have shape ", expected,
                          " (the input's shape ", t.shape(), " with dimension ", d,
                          " replaced by the ", idx.numel(), " indices)"));
  if (check_index) check_indices("index_add", idx, d, t.size(d));
  auto out = t.clone();
  const Tensor<T, D> s = src.contiguous();
  const std::int64_t outer = cpu_backend::detail::leading_product(t.shape(), d);
  const std::int64_t inner = t.numel() == 0 ? 0 : t.numel() / (outer * t.size(d));
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::index_add(out.data(), outer, t.size(d), inner, idx.data(), idx.numel(), s.data(),
                           alpha);
  else
    cuda_backend::index_add(out.data(), outer, t.size(d), inner, idx.data(), idx.numel(), s.data(),
                            alpha);
  return out;
}
}  // namespace detail
template <Scalar T, Device D>
Tensor<T, D> index_add(const Tensor<T, D>& t, std::int64_t dim,
                       const std::type_identity_t<Tensor<std::int64_t, D>>& index,
                       const std::type_identity_t<Tensor<T, D>>& src,
                       std::type_identity_t<T> alpha = T(1)) {
  return detail::index_add(t, dim, index, src, alpha, true);
}
template <ExpressionNode E>
  requires TensorLike<E>
auto index_add(const E& e, std::int64_t dim,
               const Tensor<std::int64_t, typename E::device_type>& index,
               const Tensor<typename E::value_type, typename E::device_type>& src,
               typename E::value_type alpha = typename E::value_type(1)) {
  return index_add(eval(e), dim, index, src, alpha);
}

// ---- one_hot -----------------------------------------------------------------------------
// labels of shape S -> shape S + [num_classes] with a 1 at each label. num_classes = -1 uses
// max(labels) + 1. The element type is int64 as in PyTorch; one_hot<float>(...) gives floats.
// On cuda (the overload below) the labels are checked and encoded on the host, as the checks
// and the inferred num_classes read every label anyway, and the result is copied back.
template <Scalar U = std::int64_t>
Tensor<U> one_hot(const Tensor<std::int64_t>& labels, std::int64_t num_classes = -1) {
  if (num_classes < -1)
    throw value_error(
        detail::str("one_hot: num_classes must be -1 (infer) or non-negative, got ", num_classes));
  const auto lab = labels.contiguous();
  const std::int64_t* p = lab.data();
  const std::int64_t n = lab.numel();
  for (std::int64_t i = 0; i < n; ++i)
    if (p[i] < 0)
      throw index_error(detail::str("one_hot: class values must be non-negative, got ", p[i]));
  if (num_classes == -1) {
    if (n == 0)
      throw value_error(
          "one_hot: cannot infer num_classes from an empty tensor; pass it "
          "explicitly");
    num_classes = *std::max_element(p, p + n) + 1;
  }
  for (std::int64_t i = 0; i < n; ++i)
    if (p[i] >= num_classes)
      throw index_error(detail::str("one_hot: class value ", p[i],
                                    " is out of range for num_classes ", num_classes));
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  auto out = zeros<U>(shape);
  U* o = out.data();
  for (std::int64_t i = 0; i < n; ++i) o[i * num_classes + p[i]] = U(1);
  return out;
}

template <Scalar U = std::int64_t, Device D>
  requires(!std::is_same_v<D, cpu>)
Tensor<U, D> one_hot(const Tensor<std::int64_t, D>& labels, std::int64_t num_classes = -1) {
  return one_hot<U>(labels.template to<cpu>(), num_classes).template to<D>();
}

}  // namespace etna
