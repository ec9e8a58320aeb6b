// Tensor<T, Device>: a handle to shared storage with a shape, strides and an offset.
// Copying a Tensor shares its storage (as in PyTorch); clone() deep-copies. Views live here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "etna/backend/cuda/fwd.hpp"
#include "etna/core/device.hpp"
#include "etna/core/dtype.hpp"
#include "etna/core/error.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/storage.hpp"

namespace etna {

// Every lazy expression node derives from expr_tag; Tensor converts from any of them.
struct expr_tag {};
template <class E>
concept ExpressionNode = std::derived_from<std::remove_cvref_t<E>, expr_tag>;
// Whether an expression reads a Var (specialised in expr/node.hpp and autograd/): such an
// expression becomes a Var, never silently a Tensor that drops its gradient.
template <class E>
struct contains_var : std::false_type {};

template <Scalar T, Device D = cpu>
class Tensor;

#define ETNA_HOST_ONLY_ACCESS                                                                   \
  "etna: element access reads host memory; a cuda tensor's elements live on the GPU: copy it " \
  "with .to<etna::cpu>() first (item() works on both)"

namespace detail {
// Defined by the backend (etna/backend/cpu/evaluate.hpp): writes expression `e` into `dst`.
template <class T, class D, class E>
void assign_expression(const Tensor<T, D>& dst, const E& e);
}  // namespace detail

template <Scalar T, Device D>
class Tensor {
  static_assert(backend_available<D>::value,
                "etna: Tensor<T, cuda> needs the CUDA backend: include <etna/cuda.hpp> from a .cu "
                "file compiled by nvcc");

 public:
  using value_type = T;
  using device_type = D;

  // An empty tensor of shape [0] with no storage.
  Tensor() : shape_({0}), strides_({1}) {}

  // Wraps existing storage; `data` points at element (0, ..., 0) inside `storage`.
  Tensor(std::shared_ptr<T> storage, T* data, Shape shape, Shape strides)
      : storage_(std::move(storage)),
        data_(data),
        shape_(shape),
        strides_(strides),
        numel_(shape.numel()) {}

  // Materialises a lazy expression into new contiguous storage (one fused pass).
  template <ExpressionNode E>
    requires std::is_same_v<typename E::value_type, T> && (!contains_var<E>::value)
  Tensor(const E& e) : Tensor(allocate(e.shape())) {  // NOLINT: implicit on purpose
    detail::assign_expression(*this, e);
  }

  // `t = expr` rebinds t to the expression's value like Python assignment; when t is the only
  // handle to contiguous storage of the right shape, the storage is reused (no allocation).
  template <ExpressionNode E>
    requires std::is_same_v<typename E::value_type, T> && (!contains_var<E>::value)
  Tensor& operator=(const E& e) {
    if (storage_ && storage_.use_count() == 1 && is_contiguous() && shape_ == e.shape())
      detail::assign_expression(*this, e);
    else
      *this = Tensor(e);
    return *this;
  }

  // In-place write of an expression (or tensor) into this tensor's storage, broadcasting the
  // source to this shape. Reading the destination element-for-element is safe; any other
  // overlap with the destination goes through a temporary.
  template <class E>
  const Tensor& assign(const E& e) const {
    detail::assign_expression(*this, e);
    return *this;
  }
  const Tensor& fill(T value) const;

  // ---- properties ----------------------------------------------------------------
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int dim() const { return shape_.size(); }
  std::int64_t numel() const { return numel_; }
  std::int64_t size(std::int64_t d) const { return shape_[normalize_dim(d, dim(), "size")]; }
  T* data() const { return data_; }
  bool defined() const { return storage_ != nullptr; }
  const std::shared_ptr<T>& storage() const { return storage_; }
  bool is_contiguous() const {
    std::int64_t expected = 1;
    for (int i = dim() - 1; i >= 0; --i) {
      if (shape_[i] != 1 && strides_[i] != expected) return false;
      expected *= shape_[i];
    }
    return true;
  }

  // ---- element access (handle semantics: a const Tensor still refers to mutable data) ----
  // Host tensors only: a cuda tensor's elements live in GPU memory (copy it with to<cpu>()).
  template <std::integral... I>
  T& operator()(I... idx) const {
    static_assert(std::is_same_v<D, cpu>, ETNA_HOST_ONLY_ACCESS);
    const std::int64_t index[] = {static_cast<std::int64_t>(idx)..., 0};
    return data_[offset_of(index, sizeof...(I))];
  }
  T& at(std::initializer_list<std::int64_t> idx) const {
    static_assert(std::is_same_v<D, cpu>, ETNA_HOST_ONLY_ACCESS);
    return data_[offset_of(idx.begin(), static_cast<int>(idx.size()))];
  }
  T item() const {
    if (numel_ != 1)
      throw value_error(detail::str("item: a tensor with ", numel_, " elements (shape ", shape_,
                                    ") cannot be converted to a scalar"));
    if constexpr (std::is_same_v<D, cpu>) {
      return *data_;
    } else {
      T value;
      cuda_backend::copy_to_host(&value, data_, sizeof(T));
      return value;
    }
  }

  class iterator;
  iterator begin() const;
  iterator end() const;

  // ---- views (share storage) ------------------------------------------------------
  Tensor view(Shape shape) const;
  Tensor reshape(Shape shape) const;  // a view when the layout allows it, else a copy
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;
  Tensor transpose() const;  // reverses the dimensions of a tensor with at most 2 of them
  Tensor t() const { return transpose(); }
  Tensor permute(std::initializer_list<std::int64_t> dims) const {
    return permute(std::vector<std::int64_t>(dims));
  }
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end,
               std::int64_t step = 1) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor expand(Shape shape) const;  // -1 keeps a dimension; broadcast dims get stride 0
  Tensor broadcast_to(Shape shape) const { return expand(shape); }

  // Matrix product, as etna::matmul(*this, w) (needs <etna/ops/matmul.hpp>).
  template <class W>
  auto matmul(const W& w) const {
    return tensor_matmul(*this, w);
  }

  // ---- copies -----------------------------------------------------------------------
  Tensor contiguous() const { return is_contiguous() ? *this : clone(); }
  Tensor clone() const;
  // Element-type conversion (t.to<double>()) or device move (t.to<cpu>()).
  template <class U>
  auto to() const;

  static Tensor allocate(const Shape& shape) {
    auto storage = [&] {
      if constexpr (std::is_same_v<D, cpu>) return detail::allocate_storage<T>(shape.numel());
      else return cuda_backend::allocate<T>(shape.numel());
    }();
    T* p = storage.get();
    return Tensor(std::move(storage), p, shape, contiguous_strides(shape));
  }

 private:
  std::int64_t offset_of(const std::int64_t* idx, int n) const {
    if (n != dim())
      throw index_error(detail::str("index: ", n, " indices given for a ", dim(),
                                    "-d tensor of shape ", shape_));
    std::int64_t off = 0;
    for (int i = 0; i < n; ++i) {
      std::int64_t k = idx[i] < 0 ? idx[i] + shape_[i] : idx[i];
      if (k < 0 || k >= shape_[i])
        throw index_error(detail::str("index: index ", idx[i], " is out of bounds for dimension ",
                                      i, " with size ", shape_[i], " (shape ", shape_, ")"));
      off += k * strides_[i];
    }
    return off;
  }

  std::shared_ptr<T> storage_;
  T* data_ = nullptr;
  Shape shape_, strides_;
  std::int64_t numel_ = 0;
};

// Iterates the elements in logical (row-major) order, whatever the strides.
template <Scalar T, Device D>
class Tensor<T, D>::iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using reference = T&;

  iterator() = default;
  iterator(const Tensor* t, std::int64_t pos) : t_(t), pos_(pos), index_(t->dim(), 0) {
    if (pos_ < t_->numel() && pos_ > 0) {
      std::int64_t rest = pos_;
      for (int d = t_->dim() - 1; d >= 0; --d) {
        index_[d] = rest % t_->shape()[d];
        rest /= t_->shape()[d];
      }
    }
    for (int d = 0; d < t_->dim(); ++d) offset_ += index_[d] * t_->strides()[d];
  }
  T& operator*() const { return t_->data()[offset_]; }
  iterator& operator++() {
    ++pos_;
    for (int d = t_->dim() - 1; d >= 0; --d) {
      offset_ += t_->strides()[d];
      if (++index_[d] < t_->shape()[d]) break;
      offset_ -= index_[d] * t_->strides()[d];
      index_[d] = 0;
    }
    return *this;
  }
  iterator operator++(int) {
    iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }

 private:
  const Tensor* t_ = nullptr;
  std::int64_t pos_ = 0, offset_ = 0;
  Shape index_;
};

template <Scalar T, Device D>
typename Tensor<T, D>::iterator Tensor<T, D>::begin() const {
  static_assert(std::is_same_v<D, cpu>, ETNA_HOST_ONLY_ACCESS);
  return iterator(this, 0);
}
template <Scalar T, Device D>
typename Tensor<T, D>::iterator Tensor<T, D>::end() const {
  return iterator(this, numel_);
}
#undef ETNA_HOST_ONLY_ACCESS

}  // namespace etna

// Views, then the expression nodes, which include the evaluator that defines
// detail::assign_expression at their end. This order lets any one of these headers be included
// first (node.hpp needs the complete Tensor; the evaluator needs the complete nodes).
#include "etna/core/tensor_views.hpp"
#include "etna/expr/node.hpp"
