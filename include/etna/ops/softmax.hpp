// softmax and log_softmax along one dimension, numerically stable (the maximum is subtracted
// first). A lazy expression argument is evaluated straight into the result's storage.
// cuda tensors and expressions run the CUDA kernels (backend/cuda/softmax.hpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "etna/backend/cpu/softmax.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/node.hpp"

namespace etna {
namespace detail {

template <class X>
auto softmax_impl(const X& x, std::int64_t dim, bool log, const char* op) {
  using T = value_type_of<X>;
  using D = typename expr_t<X>::device_type;
  static_assert(FloatingScalar<T>,
                "etna: softmax and log_softmax need a floating-point tensor (float or double); "
                "convert with .to<float>() or etna::cast<float>(x)");
  const Shape& shape = x.shape();
  const int d = normalize_dim(dim, shape.size(), op);
  auto out = Tensor<T, D>::allocate(shape);
  // The kernel reads contiguous memory: a contiguous tensor directly, anything else (a view,
  // an expression) after one fused pass into `out`, which the kernel then rewrites in place.
  const T* in = out.data();
  if constexpr (TensorType<X>) {
    if (x.is_contiguous()) in = x.data();
    else out.assign(x);
  } else {
    out.assign(x);
  }
  std::int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= shape[i];
  for (int i = d + 1; i < shape.size(); ++i) inner *= shape[i];
  const std::int64_t n = shape.size() == 0 ? 1 : shape[d];
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::softmax(in, out.data(), outer, n, inner, log);
  else
    cuda_backend::softmax(in, out.data(), outer, n, inner, log);
  return out;
}

}  // namespace detail

// exp(x) / sum(exp(x)) along dim (negative dims count from the end).
template <TensorLike X>
auto softmax(const X& x, std::int64_t dim) {
  return detail::softmax_impl(x, dim, false, "softmax");
}

// x - log(sum(exp(x))) along dim: the log of softmax without its underflow.
template <TensorLike X>
auto log_softmax(const X& x, std::int64_t dim) {
  return detail::softmax_impl(x, dim, true, "log_softmax");
}

}  // namespace etna
