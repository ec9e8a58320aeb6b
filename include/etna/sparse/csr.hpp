// sparse::CsrMatrix: a 2-D matrix in compressed sparse row form (scipy's / PyTorch's CSR), the
// format of pruned Linear weights at inference, and the conversions to and from dense tensors.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"

namespace etna::sparse {

// Row r holds the nonzeros values[row_ptr[r] .. row_ptr[r + 1]) in columns col_idx[same range],
// columns increasing within a row. Column indices are int32 (half the index traffic of int64:
// the kernels are bound by memory reads); row_ptr is int64 so nnz may exceed 2^31.
// On cuda the three arrays live on the device.
template <class T, class D = cpu>
struct CsrMatrix {
  std::int64_t rows = 0, cols = 0;
  Tensor<std::int64_t, D> row_ptr;  // [rows + 1]
  Tensor<std::int32_t, D> col_idx;  // [nnz]
  Tensor<T, D> values;              // [nnz]

  std::int64_t nnz() const { return values.defined() ? values.numel() : 0; }
  // Fraction of zeros, as prune::sparsity_report counts them (an empty matrix counts as dense).
  double sparsity() const {
    const std::int64_t n = rows * cols;
    return n == 0 ? 0.0 : 1.0 - static_cast<double>(nnz()) / static_cast<double>(n);
  }
  // Memory of the three arrays (the figure CompressReport compares with the dense weight).
  std::int64_t bytes() const {
    return (rows + 1) * std::int64_t(sizeof(std::int64_t)) +
           nnz() * std::int64_t(sizeof(std::int32_t) + sizeof(T));
  }

  // The same matrix on device D2 (three host/device copies).
  template <Device D2>
  CsrMatrix<T, D2> to() const {
    return {rows, cols, row_ptr.template to<D2>(), col_idx.template to<D2>(),
            values.template to<D2>()};
  }
};

// Keeps the exact nonzeros of a dense [rows, cols] tensor (a NaN counts as nonzero, -0.0 as
// zero). On cuda the conversion runs on the host (one copy each way): it happens once, when a
// model is compressed, never per forward.
template <class T, class D>
CsrMatrix<T, D> to_csr(const Tensor<T, D>& dense) {
  static_assert(std::is_floating_point_v<T>, "sparse::to_csr: float or double matrices only");
  if (!dense.defined() || dense.dim() != 2)
    throw shape_error(etna::detail::str("sparse::to_csr: expects a 2-d tensor [rows, cols], got ",
                                        dense.defined() ? dense.dim() : 0, " dimensions"));
  const std::int64_t rows = dense.size(0), cols = dense.size(1);
  if (cols > std::numeric_limits<std::int32_t>::max())
    throw value_error(etna::detail::str("sparse::to_csr: ", cols,
                                        " columns do not fit the int32 column indices"));
  const Tensor<T> host = dense.template to<cpu>().contiguous();
  const T* a = host.data();
  auto row_ptr = Tensor<std::int64_t>::allocate({rows + 1});
  std::int64_t nnz = 0;
  row_ptr.data()[0] = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) nnz += a[r * cols + c] != T(0);
    row_ptr.data()[r + 1] = nnz;
  }
  auto col_idx = Tensor<std::int32_t>::allocate({nnz});
  auto values = Tensor<T>::allocate({nnz});
  std::int64_t k = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      if (const T v = a[r * cols + c]; v != T(0)) {
        col_idx.data()[k] = static_cast<std::int32_t>(c);
        values.data()[k++] = v;
      }
  return CsrMatrix<T, cpu>{rows, cols, std::move(row_ptr), std::move(col_idx), std::move(values)}
      .template to<D>();
}

// The dense [rows, cols] matrix, zeros where nothing is stored. Checks the arrays' consistency
// (a hand-built CsrMatrix may be wrong): value_error naming the first bad entry.
template <class T, class D>
Tensor<T, D> to_dense(const CsrMatrix<T, D>& m) {
  const CsrMatrix<T, cpu> h = m.template to<cpu>();
  auto out = zeros<T>({m.rows, m.cols});
  if (!h.row_ptr.defined() || h.row_ptr.numel() != m.rows + 1)
    throw value_error(etna::detail::str(
        "sparse::to_dense: row_ptr must have rows + 1 = ", m.rows + 1, " entries"));
  const std::int64_t* rp = h.row_ptr.data();
  if (rp[0] != 0 || rp[m.rows] != h.nnz())
    throw value_error(etna::detail::str("sparse::to_dense: row_ptr must run from 0 to nnz = ",
                                        h.nnz(), ", got ", rp[0], " .. ", rp[m.rows]));
  for (std::int64_t r = 0; r < m.rows; ++r) {
    if (rp[r + 1] < rp[r])
      throw value_error(etna::detail::str("sparse::to_dense: row_ptr decreases at row ", r));
    for (std::int64_t k = rp[r]; k < rp[r + 1]; ++k) {
      const std::int64_t c = h.col_idx.data()[k];
      if (c < 0 || c >= m.cols)
        throw value_error(etna::detail::str("sparse::to_dense: column index ", c, " of row ", r,
                                            " is outside [0, ", m.cols, ")"));
      out.data()[r * m.cols + c] += h.values.data()[k];
    }
  }
  return etna::detail::on_device<D>(std::move(out));
}

}  // namespace etna::sparse
