// Shape: a small vector of extents (also used for strides) stored inline, so creating tensor
// views never allocates. Broadcasting and contiguous-stride rules live here too.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include "etna/core/error.hpp"

namespace etna {

// Tensors have at most this many dimensions; more raises shape_error.
inline constexpr int kMaxDims = 8;

class Shape {
 public:
  using value_type = std::int64_t;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;

  constexpr Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  template <class It>
    requires(!std::is_integral_v<It>)
  Shape(It first, It last) {
    assign(first, last);
  }
  explicit Shape(int n, std::int64_t fill = 0) {
    check_rank(n);
    size_ = n;
    std::fill_n(dims_.begin(), n, fill);
  }

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::int64_t& operator[](int i) { return dims_[i]; }
  std::int64_t operator[](int i) const { return dims_[i]; }
  std::int64_t back() const { return dims_[size_ - 1]; }
  iterator begin() { return dims_.data(); }
  iterator end() { return dims_.data() + size_; }
  const_iterator begin() const { return dims_.data(); }
  const_iterator end() const { return dims_.data() + size_; }
  const std::int64_t* data() const { return dims_.data(); }

  void push_back(std::int64_t d) {
    check_rank(size_ + 1);
    dims_[size_++] = d;
  }
  void insert(int pos, std::int64_t d) {
    check_rank(size_ + 1);
    for (int i = size_; i > pos; --i) dims_[i] = dims_[i - 1];
    dims_[pos] = d;
    ++size_;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < size_; ++i) dims_[i] = dims_[i + 1];
    --size_;
  }

  // Product of extents (1 for a 0-d shape).
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < size_; ++i) n *= dims_[i];
    return n;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < size_; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[i]);
    }
    return s + "]";
  }
  friend std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

 private:
  static void check_rank(int n) {
    if (n > kMaxDims)
      throw shape_error("etna: tensors have at most " + std::to_string(kMaxDims) +
                        " dimensions, got " + std::to_string(n));
  }
  template <class It>
  void assign(It first, It last) {
    const auto n = static_cast<int>(std::distance(first, last));
    check_rank(n);
    size_ = n;
    std::copy(first, last, dims_.begin());
  }

  std::array<std::int64_t, kMaxDims> dims_{};
  int size_ = 0;
};

// Strides of a row-major (C-contiguous) layout of `shape`, in elements.
inline Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  std::int64_t s = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

// NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
inline Shape broadcast_shape(const Shape& a, const Shape& b, std::string_view op = "broadcast") {
  const int n = std::max(a.size(), b.size());
  Shape out(n, 1);
  for (int i = 0; i < n; ++i) {
    const int ia = a.size() - n + i, ib = b.size() - n + i;
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw shape_error(detail::str(op, ": shapes ", a, " and ", b,
                                    " cannot be broadcast (dimension ", i, ": ", da, " vs ", db,
                                    ")"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Normalises a possibly negative dimension index against `rank` (PyTorch's dim=-1 rule).
inline int normalize_dim(std::int64_t dim, int rank, std::string_view op) {
  const int lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  if (dim < lo || dim > hi)
    throw index_error(detail::str(op, ": dimension ", dim, " out of range for a ", rank,
                                  "-d tensor (expected ", lo, " to ", hi, ")"));
  return static_cast<int>(dim < 0 ? dim + std::max(rank, 1) : dim);
}

}  // namespace etna
