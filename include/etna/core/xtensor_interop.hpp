// Conversion between etna tensors and xtensor containers: copies both ways, and adapt(), an
// xtensor view over a tensor's memory (no copy, strides kept) for xtensor's algorithms.
#pragma once

#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xstrided_view.hpp>

#include "etna/core/factory.hpp"

namespace etna {

// An xtensor view of the tensor's elements (no copy, strides kept): writes through it change
// the tensor. It is a strided view over a flat adaptor of the memory the tensor spans, because
// an xarray_adaptor needs exactly numel() elements of buffer, which a stepped slice lacks.
template <Scalar T>
auto adapt(const Tensor<T>& t) {
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<std::ptrdiff_t> strides(t.strides().begin(), t.strides().end());
  std::size_t extent = 1;  // elements spanned from data(), so the flat buffer covers them
  for (int i = 0; i < t.dim(); ++i)
    extent += static_cast<std::size_t>(t.strides()[i] * (t.shape()[i] - 1));
  if (t.numel() == 0) extent = 0;
  auto flat = xt::adapt(t.data(), extent, xt::no_ownership(), std::vector<std::size_t>{extent});
  return xt::strided_view(std::move(flat), std::move(shape), std::move(strides), 0,
                          xt::layout_type::dynamic);
}

// A copy of the tensor as an xt::xarray.
template <Scalar T>
xt::xarray<T> to_xarray(const Tensor<T>& t) {
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  std::copy(t.begin(), t.end(), out.begin());
  return out;
}

// A new tensor holding the value of any xtensor expression.
template <class E>
auto from_xtensor(const xt::xexpression<E>& expression) {
  using T = typename E::value_type;
  static_assert(Scalar<T>, "etna: from_xtensor needs float, double, int32, int64 or bool values");
  xt::xarray<T> value = expression.derived_cast();
  Shape shape;
  for (auto d : value.shape()) shape.push_back(static_cast<std::int64_t>(d));
  auto t = empty<T>(shape);
  std::copy(value.begin(), value.end(), t.data());
  return t;
}

}  // namespace etna
