// View operations of Tensor (reshape, transpose, slice, expand...) and the copies that go with
// them. Views share storage and only rewrite shape, strides and the data pointer.
#pragma once

#include <numeric>
#include <vector>

#include "etna/core/tensor.hpp"

namespace etna {
namespace detail {

// Resolves a single -1 in a requested shape and checks the element count.
inline Shape infer_shape(Shape shape, std::int64_t numel, std::string_view op,
                         const Shape& from) {
  int infer = -1;
  std::int64_t known = 1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw shape_error(str(op, ": only one dimension can be -1, got ", shape));
      infer = i;
    } else if (shape[i] < 0) {
      throw shape_error(str(op, ": invalid size ", shape[i], " in ", shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw shape_error(str(op, ": shape ", shape, " is invalid for input of size ", numel,
                            " (shape ", from, ")"));
    shape[infer] = numel / known;
  } else if (known != numel) {
    throw shape_error(str(op, ": shape ", shape, " is invalid for input of size ", numel,
                          " (shape ", from, ")"));
  }
  return shape;
}

// Strides that view a tensor of (shape, strides) as new_shape without copying, if possible
// (PyTorch's computeStride): each group of old dims merged or split must be contiguous.
inline bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                         Shape& out) {
  out = Shape(new_shape.size(), 1);
  if (shape.numel() == 0 || shape.empty()) {  // nothing to preserve: empty or 0-d
    out = contiguous_strides(new_shape);
    return true;
  }
  int view_d = new_shape.size() - 1;
  std::int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (int tensor_d = shape.size() - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= shape[tensor_d];
    if (tensor_d == 0 ||
        (shape[tensor_d - 1] != 1 && strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (tensor_d > 0) {
        chunk_base_stride = strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace detail

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::view(Shape shape) const {
  if (shape == shape_) return *this;  // the common no-op (e.g. a 2-d input to linear)
  shape = detail::infer_shape(shape, numel_, "view", shape_);
  Shape strides;
  if (!detail::view_strides(shape_, strides_, shape, strides))
    throw shape_error(detail::str("view: shape ", shape, " is not compatible with the strides ",
                                  strides_, " of a tensor of shape ", shape_,
                                  "; use reshape() (which copies) or contiguous() first"));
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::reshape(Shape shape) const {
  if (shape == shape_) return *this;  // the common no-op (e.g. a 2-d input to linear)
  shape = detail::infer_shape(shape, numel_, "reshape", shape_);
  Shape strides;
  if (detail::view_strides(shape_, strides_, shape, strides))
    return Tensor(storage_, data_, shape, strides);
  return clone().view(shape);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int s = normalize_dim(start_dim, dim(), "flatten");
  const int e = normalize_dim(end_dim, dim(), "flatten");
  if (s > e)
    throw index_error(detail::str("flatten: start_dim ", start_dim, " comes after end_dim ",
                                  end_dim, " for shape ", shape_));
  Shape out;
  for (int i = 0; i < s; ++i) out.push_back(shape_[i]);
  std::int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= shape_[i];
  out.push_back(merged);
  for (int i = e + 1; i < dim(); ++i) out.push_back(shape_[i]);
  return reshape(out);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::transpose(std::int64_t d0, std::int64_t d1) const {
  const int a = normalize_dim(d0, dim(), "transpose"), b = normalize_dim(d1, dim(), "transpose");
  Shape shape = shape_, strides = strides_;
  if (dim() > 0) {
    std::swap(shape[a], shape[b]);
    std::swap(strides[a], strides[b]);
  }
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::transpose() const {
  if (dim() > 2)
    throw shape_error(detail::str("transpose: t() expects a tensor with at most 2 dimensions, "
                                  "got shape ",
                                  shape_, "; use transpose(d0, d1) or permute"));
  return dim() < 2 ? *this : transpose(0, 1);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::permute(const std::vector<std::int64_t>& dims) const {
  if (static_cast<int>(dims.size()) != dim())
    throw shape_error(detail::str("permute: ", dims.size(), " dimensions given for a tensor of "
                                  "shape ",
                                  shape_));
  Shape shape(dim()), strides(dim());
  std::vector<bool> seen(dim(), false);
  for (int i = 0; i < dim(); ++i) {
    const int d = normalize_dim(dims[i], dim(), "permute");
    if (seen[d]) throw index_error(detail::str("permute: dimension ", dims[i], " repeated"));
    seen[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::slice(std::int64_t dim_, std::int64_t start, std::int64_t end,
                                 std::int64_t step) const {
  const int d = normalize_dim(dim_, dim(), "slice");
  if (dim() == 0) throw index_error("slice: cannot slice a 0-d tensor");
  if (step <= 0) throw value_error(detail::str("slice: step must be positive, got ", step));
  const std::int64_t n = shape_[d];
  // Python slice semantics: negative indices count from the end, out-of-range ones clamp.
  auto clamp_index = [n](std::int64_t i) {
    if (i < 0) i += n;
    return std::clamp<std::int64_t>(i, 0, n);
  };
  start = clamp_index(start);
  end = std::max(start, clamp_index(end));
  Shape shape = shape_, strides = strides_;
  shape[d] = (end - start + step - 1) / step;
  strides[d] = strides_[d] * step;
  return Tensor(storage_, data_ + start * strides_[d], shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::narrow(std::int64_t dim_, std::int64_t start,
                                  std::int64_t length) const {
  const int d = normalize_dim(dim_, dim(), "narrow");
  const std::int64_t s = start < 0 ? start + shape_[d] : start;
  if (s < 0 || length < 0 || s + length > shape_[d])
    throw index_error(detail::str("narrow: start ", start, " and length ", length,
                                  " exceed dimension ", d, " of size ", shape_[d]));
  return slice(d, s, s + length);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::select(std::int64_t dim_, std::int64_t index) const {
  if (dim() == 0) throw index_error("select: cannot index a 0-d tensor");
  const int d = normalize_dim(dim_, dim(), "select");
  const std::int64_t i = index < 0 ? index + shape_[d] : index;
  if (i < 0 || i >= shape_[d])
    throw index_error(detail::str("select: index ", index, " is out of bounds for dimension ", d,
                                  " with size ", shape_[d]));
  Shape shape = shape_, strides = strides_;
  shape.erase(d);
  strides.erase(d);
  return Tensor(storage_, data_ + i * strides_[d], shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::squeeze() const {
  Shape shape, strides;
  for (int i = 0; i < dim(); ++i)
    if (shape_[i] != 1) {
      shape.push_back(shape_[i]);
      strides.push_back(strides_[i]);
    }
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::squeeze(std::int64_t dim_) const {
  if (dim() == 0) return *this;
  const int d = normalize_dim(dim_, dim(), "squeeze");
  if (shape_[d] != 1) return *this;  // as PyTorch: squeezing a non-1 dimension is a no-op
  Shape shape = shape_, strides = strides_;
  shape.erase(d);
  strides.erase(d);
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::unsqueeze(std::int64_t dim_) const {
  const int d = normalize_dim(dim_, dim() + 1, "unsqueeze");
  Shape shape = shape_, strides = strides_;
  const std::int64_t stride = d < dim() ? shape_[d] * strides_[d] : 1;
  shape.insert(d, 1);
  strides.insert(d, stride);
  return Tensor(storage_, data_, shape, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::expand(Shape target) const {
  if (target.size() < dim())
    throw shape_error(detail::str("expand: cannot expand shape ", shape_, " to ", target,
                                  " with fewer dimensions"));
  Shape strides(target.size(), 0);
  const int lead = target.size() - dim();
  for (int i = 0; i < target.size(); ++i) {
    const int j = i - lead;
    if (j < 0) {
      if (target[i] < 0)
        throw shape_error(detail::str("expand: -1 is not allowed for a new leading dimension in ",
                                      target));
      continue;
    }
    if (target[i] == -1) target[i] = shape_[j];
    if (target[i] < 0)
      throw shape_error(detail::str("expand: invalid size ", target[i], " in ", target));
    if (shape_[j] == target[i]) {
      strides[i] = strides_[j];
    } else if (shape_[j] != 1) {
      throw shape_error(detail::str("expand: shape ", shape_, " cannot be expanded to ", target,
                                    " (dimension ", i, ": ", shape_[j], " vs ", target[i], ")"));
    }
  }
  return Tensor(storage_, data_, target, strides);
}

template <Scalar T, Device D>
Tensor<T, D> Tensor<T, D>::clone() const {
  Tensor out = allocate(shape_);
  detail::assign_expression(out, *this);
  return out;
}

template <Scalar T, Device D>
const Tensor<T, D>& Tensor<T, D>::fill(T value) const {
  detail::assign_expression(*this, value);
  return *this;
}

template <Scalar T, Device D>
template <class U>
auto Tensor<T, D>::to() const {
  if constexpr (std::is_same_v<U, D>) {
    return *this;
  } else if constexpr (Device<U>) {
    // A device move: one contiguous copy (pinned staging on the host side, see backend/cuda).
    const Tensor src = contiguous();
    auto out = Tensor<T, U>::allocate(shape_);
    const std::size_t bytes = static_cast<std::size_t>(numel_) * sizeof(T);
    if (bytes == 0) return out;
    if constexpr (std::is_same_v<U, cuda>) cuda_backend::copy_to_device(out.data(), src.data(), bytes);
    else cuda_backend::copy_to_host(out.data(), src.data(), bytes);
    return out;
  } else {
    static_assert(Scalar<U>, "etna: to<U>() takes an element type (float, double, int32_t, "
                             "int64_t, bool) or a device tag (etna::cpu, etna::cuda)");
    if constexpr (std::is_same_v<U, T>) {
      return *this;
    } else if constexpr (std::is_same_v<D, cpu>) {
      auto out = Tensor<U, D>::allocate(shape_);
      auto src = begin();
      for (U* p = out.data(); p != out.data() + numel_; ++p, ++src) *p = static_cast<U>(*src);
      return out;
    } else {
      return cuda_backend::convert<U>(*this);
    }
  }
}

}  // namespace etna
