// matmul with torch.matmul's semantics: dot, matrix-vector, matrix-matrix and broadcast
// batched products. Strided (e.g. transposed) operands go to the GEMM without copies.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "etna/backend/cpu/gemm.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_blas.hpp"
#include "etna/core/factory.hpp"
#include "etna/expr/operators.hpp"

namespace etna {
namespace detail {

// out[M, N] = alpha * a[M, K] b[K, N] + beta * out, all three 2-D strided views.
template <class T, class D>
void gemm_2d(const Tensor<T, D>& a, const Tensor<T, D>& b, const Tensor<T, D>& out,
             T alpha = T(1), T beta = T(0)) {
  if constexpr (std::is_same_v<D, cpu>) {
    cpu_backend::gemm<T>(a.shape()[0], b.shape()[1], a.shape()[1], alpha, a.data(),
                         a.strides()[0], a.strides()[1], b.data(), b.strides()[0],
                         b.strides()[1], beta, out.data(), out.strides()[0], out.strides()[1]);
  } else {
    cuda_backend::gemm_batched<T>(1, a.shape()[0], b.shape()[1], a.shape()[1], alpha, a.data(),
                                  a.strides()[0], a.strides()[1], 0, b.data(), b.strides()[0],
                                  b.strides()[1], 0, beta, out.data(), out.strides()[0],
                                  out.strides()[1], 0);
  }
}

// out[j] = sum_i g[i, j] of a contiguous [M, N] matrix: the bias gradient of a GEMM layer
// (Linear, the recurrent layers). Row order on the CPU; deterministic blocked sums on CUDA
// (backend/cuda/column_reduce.hpp).
template <class T, class D>
Tensor<T, D> column_sum_2d(const Tensor<T, D>& g) {
  const std::int64_t m = g.shape()[0], n = g.shape()[1];
  if constexpr (std::is_same_v<D, cpu>) {
    auto out = zeros<T, D>({n});
    T* po = out.data();
    const T* pg = g.data();
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) po[j] += pg[i * n + j];
    return out;
  } else {
    auto out = Tensor<T, D>::allocate({n});
    cuda_backend::column_sum<T>(g.data(), m, n, out.data());
    return out;
  }
}

// The device side of batched_matmul: batch dimensions over which both operands' offsets grow
// linearly (including stride-0 broadcasts) become one strided-batched GEMM; the rest, if any,
// are a host loop of such calls (pointer arithmetic only, nothing is read on the host).
template <class T, class D>
void device_batched_matmul(const Tensor<T, D>& a, const Tensor<T, D>& b, const Tensor<T, D>& out,
                           const Shape& batch, const Shape& a_batch, const Shape& b_batch) {
  const int r = a.dim();
  const std::int64_t M = a.shape()[r - 2], K = a.shape()[r - 1], N = b.shape()[r - 1];
  std::vector<std::int64_t> extent, sa, sb;  // batch dimensions of extent > 1
  for (int d = 0; d < static_cast<int>(batch.size()); ++d) {
    if (batch[d] == 1) continue;
    extent.push_back(batch[d]);
    sa.push_back(a_batch[d] == 1 ? 0 : a.strides()[d]);
    sb.push_back(b_batch[d] == 1 ? 0 : b.strides()[d]);
  }
  const int nb = static_cast<int>(extent.size());
  int d0 = nb == 0 ? 0 : nb - 1;
  while (d0 > 0 && sa[d0 - 1] == sa[d0] * extent[d0] && sb[d0 - 1] == sb[d0] * extent[d0]) --d0;
  std::int64_t inner = 1, outer = 1;
  for (int d = 0; d < nb; ++d) (d < d0 ? outer : inner) *= extent[d];
  const std::int64_t bs_a = nb == 0 ? 0 : sa[nb - 1], bs_b = nb == 0 ? 0 : sb[nb - 1];
  for (std::int64_t o = 0; o < outer; ++o) {
    std::int64_t rest = o, off_a = 0, off_b = 0;
    for (int d = d0 - 1; d >= 0; --d) {
      const std::int64_t k = rest % extent[d];
      rest /= extent[d];
      off_a += k * sa[d];
      off_b += k * sb[d];
    }
    cuda_backend::gemm_batched<T>(inner, M, N, K, T(1), a.data() + off_a, a.strides()[r - 2],
                                  a.strides()[r - 1], bs_a, b.data() + off_b, b.strides()[r - 2],
                                  b.strides()[r - 1], bs_b, T(0), out.data() + o * inner * M * N,
                                  N, 1, M * N);
  }
}

// Product of two operands already shaped [batch..., M, K] and [batch..., K, N] (same rank).
template <class T, class D>
Tensor<T, D> batched_matmul(const Tensor<T, D>& a, const Tensor<T, D>& b,
                            const Shape& a_shape_for_error, const Shape& b_shape_for_error) {
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
  auto out = Tensor<T, D>::allocate(out_shape);
  const std::int64_t batches = batch.numel();
  if (out.numel() == 0) return out;
  if constexpr (!std::is_same_v<D, cpu>) {
    device_batched_matmul(a, b, out, batch, a_batch, b_batch);
  } else {
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
    const std::int64_t grain =
        std::max<std::int64_t>(1, (1 << 18) / std::max<std::int64_t>(flops, 1));
    if (batches > 1) cpu_backend::parallel_for(0, batches, grain, run);
    else run(0, 1);
  }
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
  const auto a = eval(a_in);
  const auto b = eval(b_in);
  using D = typename decltype(a)::device_type;
  static_assert(std::is_same_v<D, typename decltype(b)::device_type>,
                "etna: matmul operands live on different devices; move one with .to<Device>()");
  if (a.dim() == 0 || b.dim() == 0)
    throw shape_error(detail::str("matmul: both arguments need at least 1 dimension, got shapes ",
                                  a.shape(), " and ", b.shape()));
  if (a.dim() == 2 && b.dim() == 2) {
    if (a.shape()[1] != b.shape()[0])
      throw shape_error(detail::str("matmul: inner dimensions differ: ", a.shape(), " x ",
                                    b.shape()));
    auto out = Tensor<T, D>::allocate({a.shape()[0], b.shape()[1]});
    detail::gemm_2d(a, b, out);
    return out;
  }
  const Tensor<T, D> a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Tensor<T, D> b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  // Bring both to the same rank by adding leading 1s (broadcast batch dimensions).
  Tensor<T, D> a3 = a2, b3 = b2;
  while (a3.dim() < b3.dim()) a3 = a3.unsqueeze(0);
  while (b3.dim() < a3.dim()) b3 = b3.unsqueeze(0);
  Tensor<T, D> out = detail::batched_matmul(a3, b3, a.shape(), b.shape());
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
