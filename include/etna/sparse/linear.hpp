// sparse::linear: y = x W^T + b with a CSR weight [out, in], on tensors (no autograd: it is the
// inference path of pruned Linear layers). CPU kernels in cpu_kernels.hpp, CUDA ones in
// backend/cuda/sparse.hpp.
#pragma once

#include <cstdint>
#include <type_traits>

#include "etna/backend/cuda/fwd_sparse.hpp"
#include "etna/core/error.hpp"
#include "etna/core/tensor.hpp"
#include "etna/sparse/cpu_kernels.hpp"
#include "etna/sparse/csr.hpp"

namespace etna::sparse {

// x: [..., in] (a single sample [in] gives [out]); w: CSR [out, in]; bias: [out] or an
// undefined tensor. Same result as nn::functional::linear up to the order of the sums (the
// kernels add the nonzeros of a row in column order). The CSR arrays are trusted: build them
// with to_csr (to_dense checks a hand-built one).
template <class T, class D>
Tensor<T, D> linear(const Tensor<T, D>& x, const CsrMatrix<T, D>& w,
                    const Tensor<T, D>& bias = {}) {
  static_assert(std::is_floating_point_v<T>, "sparse::linear: float or double only");
  const std::int64_t out_f = w.rows, in_f = w.cols;
  if (!w.row_ptr.defined() || w.row_ptr.numel() != out_f + 1 || !w.col_idx.defined() ||
      !w.values.defined() || w.col_idx.numel() != w.values.numel())
    throw value_error(etna::detail::str(
        "sparse::linear: the CSR weight [", out_f, ", ", in_f,
        "] is malformed (row_ptr needs rows + 1 entries, col_idx and values nnz each)"));
  if (!x.defined() || x.dim() == 0 || x.size(-1) != in_f)
    throw shape_error(etna::detail::str(
        "sparse::linear: input has ", x.defined() && x.dim() > 0 ? x.size(-1) : std::int64_t{0},
        " features but the weight expects ", in_f, " (weight [", out_f, ", ", in_f,
        "], input shape ", x.defined() ? x.shape() : Shape{}, ")"));
  if (bias.defined() && !(bias.dim() == 1 && bias.size(0) == out_f))
    throw shape_error(etna::detail::str("sparse::linear: bias of shape ", bias.shape(),
                                        " does not match the weight's ", out_f,
                                        " output features (expected [", out_f, "])"));
  std::int64_t n = 1;  // samples: the product of the leading dims (also right when in_f == 0)
  for (int d = 0; d + 1 < x.dim(); ++d) n *= x.size(d);
  const Tensor<T, D> xc = x.contiguous();
  const Tensor<T, D> bc = bias.defined() ? bias.contiguous() : Tensor<T, D>();
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_f;
  auto y = Tensor<T, D>::allocate(out_shape);
  if (n == 0 || out_f == 0) return y;
  const T* b = bc.defined() ? bc.data() : nullptr;
  if constexpr (std::is_same_v<D, cpu>) {
    const cpu_kernels::CsrView<T> view{out_f, in_f, w.row_ptr.data(), w.col_idx.data(),
                                       w.values.data()};
    cpu_kernels::csr_linear(view, xc.data(), b, y.data(), n);
  } else {
    cuda_backend::csr_linear<T>(w.row_ptr.data(), w.col_idx.data(), w.values.data(), out_f, in_f,
                                xc.data(), b, y.data(), n);
  }
  return y;
}

}  // namespace etna::sparse
