// matmul with torch.matmul's semantics: dot, matrix-vector, matrix-matrix and broadcast
// batched products. Strided (e.g. transposed) operands go to the GEMM without copies.
#pragma once

#include <cstdint>

#include "etna/backend/cpu/gemm.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/factory.hpp"
#include "etna/expr/operators.hpp"

namespace etna {
namespace detail {

// out[M, N] = alpha * a[M, K] b[K, N] + beta * out, all three 2-D strided views.
template <class T>
void gemm_2d(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& out, T alpha = T(1),
             T beta = T(0)) {
  cpu_backend::gemm<T>(a.shape()[0], b.shape()[1], a.shape()[1], alpha, a.data(),
                       a.strides()[0], a.strides()[1], b.data(), b.strides()[0], b.strides()[1],
                       beta, out.data(), out.strides()[0], out.strides()[1]);
}

// Product of two operands already shaped [batch..., M, K] and [batch..., K, N] (same rank).
template <class T>
Tensor<T> batched_matmul(const Tensor<T>& a, const Tensor<T>& b, const Shape& a_shape_for_error,
                         const Shape& b_shape_for_error) {
  const int r = a.dim();
  const std::int64_t M = a.shape()[r - 2], K = a.shape()[r - 1], N = b.shape()[r - 1];
  if (b.shape()[r - 2] != K)
    throw shape_error(str("matmul: inner dimensions differ: ", a_shape_for_error, " x ",
                          b_shape_for_error));
  Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shape(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  auto out = Tensor<T>::allocate(out_shape);
  const std::int64_t batches = batch.numel();
  if (out.numel() == 0) return out;

  auto run = [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t i = b0; i < b1; ++i) {
      std::int64_t rest = i, off_a = 0, off_b = 0;
      for (int d = batch.size() - 1; d >= 0; --d) {
        const std::int64_t k = rest % batch[d];
        rest /= batch[d];
        if (a_batch[d] != 1) off_a += k * a.strides()[d];
        if (b_batch[d] != 1) off_b += k * b.strides()[d];
      }
      cpu_backend::gemm<T>(M, N, K, T(1), a.data() + off_a, a.strides()[r - 2],
                           a.strides()[r - 1], b.data() + off_b, b.strides()[r - 2],
                           b.strides()[r - 1], T(0), out.data() + i * M * N, N, 1);
    }
  };
  // Many small products: one thread per group of batches (GEMM stays serial inside).
  const std::int64_t flops = M * N * K;
  const std::int64_t grain = std::max<std::int64_t>(1, (1 << 18) / std::max<std::int64_t>(flops, 1));
  if (batches > 1) cpu_backend::parallel_for(0, batches, grain, run);
  else run(0, 1);
  return out;
}

}  // namespace detail

// torch.matmul: 1-D x 1-D is a dot product (0-d result); 2-D x 2-D a matrix product; a 1-D
// operand is treated as a row (left) or column (right) vector and that dimension is dropped;
// higher ranks are batches of matrices with NumPy broadcasting of the batch dimensions.
template <TensorLike A, TensorLike B>
auto matmul(const A& a_in, const B& b_in) {
  using T = value_type_of<A>;
  static_assert(std::is_same_v<T, value_type_of<B>>,
                "etna: matmul operands have different element types; convert one with .to<T>()");
  static_assert(!std::is_same_v<T, bool>, "etna: matmul is not defined for bool tensors");
  const Tensor<T> a = eval(a_in);
  const Tensor<T> b = eval(b_in);
  if (a.dim() == 0 || b.dim() == 0)
    throw shape_error(detail::str("matmul: both arguments need at least 1 dimension, got shapes ",
                                  a.shape(), " and ", b.shape()));
  if (a.dim() == 2 && b.dim() == 2) {
    if (a.shape()[1] != b.shape()[0])
      throw shape_error(detail::str("matmul: inner dimensions differ: ", a.shape(), " x ",
                                    b.shape()));
    auto out = Tensor<T>::allocate({a.shape()[0], b.shape()[1]});
    detail::gemm_2d(a, b, out);
    return out;
  }
  const Tensor<T> a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Tensor<T> b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  // Bring both to the same rank by adding leading 1s (broadcast batch dimensions).
  Tensor<T> a3 = a2, b3 = b2;
  while (a3.dim() < b3.dim()) a3 = a3.unsqueeze(0);
  while (b3.dim() < a3.dim()) b3 = b3.unsqueeze(0);
  Tensor<T> out = detail::batched_matmul(a3, b3, a.shape(), b.shape());
  if (a.dim() == 1) out = out.squeeze(-2);
  if (b.dim() == 1) out = out.squeeze(-1);
  return out;
}

// Explicitly 2-D and batched 3-D products (PyTorch's mm and bmm), with their shape checks.
template <TensorLike A, TensorLike B>
auto mm(const A& a, const B& b) {
  const auto ea = eval(a);
  const auto eb = eval(b);
  if (ea.dim() != 2 || eb.dim() != 2)
    throw shape_error(detail::str("mm: expected two 2-d tensors, got shapes ", ea.shape(),
                                  " and ", eb.shape()));
  return matmul(ea, eb);
}
template <TensorLike A, TensorLike B>
auto bmm(const A& a, const B& b) {
  const auto ea = eval(a);
  const auto eb = eval(b);
  if (ea.dim() != 3 || eb.dim() != 3 || ea.shape()[0] != eb.shape()[0])
    throw shape_error(detail::str("bmm: expected two 3-d tensors with the same batch size, got "
                                  "shapes ",
                                  ea.shape(), " and ", eb.shape()));
  return matmul(ea, eb);
}

// Found by argument-dependent lookup from Tensor::matmul, so core/ does not include ops/.
template <class T, class D, class W>
auto tensor_matmul(const Tensor<T, D>& a, const W& w) {
  return etna::matmul(a, w);
}

}  // namespace etna
