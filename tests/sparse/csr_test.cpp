// sparse::CsrMatrix, to_csr / to_dense and sparse::linear against a naive dense product: float
// and double, sizes that are not multiples of the SIMD width, both CPU kernels (batch 1: row
// kernel, larger batches the transposed one), empty rows, fully dense and all-zero weights.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/core/random.hpp"
#include "etna/sparse/linear.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
using Catch::Contains;

namespace {

// A [rows, cols] weight with about `density` of its entries nonzero (uniform in [-1, 1]); row
// `empty_row` (when >= 0) entirely zero.
template <class T>
et::Tensor<T> random_sparse(std::int64_t rows, std::int64_t cols, double density,
                            std::int64_t empty_row = -1) {
  et::Tensor<T> w = et::uniform<T>({rows, cols}, -1.0, 1.0);
  const et::Tensor<T> keep = et::rand<T>({rows, cols});
  for (std::int64_t i = 0; i < w.numel(); ++i)
    if (keep.data()[i] >= T(density) || i / cols == empty_row) w.data()[i] = T(0);
  return w;
}

// y = x W^T + b computed in long double, the oracle.
template <class T>
et::Tensor<T> naive_linear(const et::Tensor<T>& x2, const et::Tensor<T>& w,
                           const et::Tensor<T>& b) {
  const std::int64_t n = x2.size(0), in = w.size(1), out = w.size(0);
  auto y = et::empty<T>({n, out});
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t o = 0; o < out; ++o) {
      long double acc = b.defined() ? b.data()[o] : 0;
      for (std::int64_t i = 0; i < in; ++i)
        acc += static_cast<long double>(x2.data()[s * in + i]) * w.data()[o * in + i];
      y.data()[s * out + o] = static_cast<T>(acc);
    }
  return y;
}

template <class T>
void check_linear(std::int64_t batch, std::int64_t in, std::int64_t out, double density,
                  bool with_bias, std::int64_t empty_row = -1) {
  INFO("batch " << batch << " in " << in << " out " << out << " density " << density
                << (with_bias ? " bias" : " no bias"));
  const et::Tensor<T> w = random_sparse<T>(out, in, density, empty_row);
  const et::Tensor<T> b = with_bias ? et::randn<T>({out}) : et::Tensor<T>();
  const et::Tensor<T> x = et::randn<T>({batch, in});
  const auto csr = et::sparse::to_csr(w);
  const et::Tensor<T> y = et::sparse::linear(x, csr, b);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  ETNA_CHECK_CLOSE(y, naive_linear(x, w, b), tol, tol);
}

}  // namespace

TEST_CASE("to_csr keeps exactly the nonzeros and to_dense restores the matrix", "[sparse][csr]") {
  et::manual_seed(1);
  const et::Tensor<float> w = random_sparse<float>(7, 13, 0.3, 2);
  const auto csr = et::sparse::to_csr(w);
  CHECK(csr.rows == 7);
  CHECK(csr.cols == 13);
  std::int64_t nz = 0;
  for (float v : w) nz += v != 0;
  CHECK(csr.nnz() == nz);
  CHECK(csr.row_ptr.data()[2] == csr.row_ptr.data()[3]);  // the empty row
  for (std::int64_t r = 0; r < 7; ++r)
    for (std::int64_t k = csr.row_ptr.data()[r] + 1; k < csr.row_ptr.data()[r + 1]; ++k)
      CHECK(csr.col_idx.data()[k - 1] < csr.col_idx.data()[k]);  // columns increase in a row
  CHECK(csr.sparsity() == Approx(1.0 - double(nz) / 91));
  ETNA_CHECK_CLOSE(et::sparse::to_dense(csr), w, 0, 0);

  const auto zero = et::sparse::to_csr(et::zeros<double>({3, 4}));
  CHECK(zero.nnz() == 0);
  CHECK(zero.sparsity() == 1.0);
  ETNA_CHECK_CLOSE(et::sparse::to_dense(zero), et::zeros<double>({3, 4}), 0, 0);

  // A transposed view is read in its logical order.
  const et::Tensor<float> wt = w.t();
  ETNA_CHECK_CLOSE(et::sparse::to_dense(et::sparse::to_csr(wt)), wt, 0, 0);
}

TEST_CASE("to_csr and to_dense reject bad input with readable errors", "[sparse][csr]") {
  CHECK_THROWS_WITH(et::sparse::to_csr(et::zeros<float>({2, 3, 4})), Contains("2-d"));
  auto csr = et::sparse::to_csr(et::ones<float>({2, 3}));
  csr.col_idx.data()[4] = 7;
  CHECK_THROWS_WITH(et::sparse::to_dense(csr), Contains("column index 7 of row 1"));
}

TEMPLATE_TEST_CASE("sparse::linear equals x W^T + b", "[sparse][linear]", float, double) {
  et::manual_seed(2);
  // Row kernel (batch 1) and transposed kernel (batch > 1), odd sizes, several densities.
  for (std::int64_t batch : {1, 2, 3, 4, 5, 7, 17, 64, 65, 130})
    for (double density : {0.05, 0.5, 1.0})
      check_linear<TestType>(batch, 37, 19, density, batch % 2 == 1, 3);
  check_linear<TestType>(1, 784, 256, 0.1, true);
  check_linear<TestType>(64, 784, 256, 0.1, true);
  check_linear<TestType>(64, 256, 10, 0.2, true);
  check_linear<TestType>(64, 1, 1, 1.0, true);
  check_linear<TestType>(9, 5, 3, 0.0, true);  // all-zero weight: the bias
  check_linear<TestType>(9, 5, 3, 0.0, false);
}

TEST_CASE("sparse::linear takes [in] and [..., in] inputs", "[sparse][linear]") {
  et::manual_seed(3);
  const et::Tensor<float> w = random_sparse<float>(6, 11, 0.4);
  const et::Tensor<float> b = et::randn<float>({6});
  const auto csr = et::sparse::to_csr(w);
  const et::Tensor<float> x1 = et::randn<float>({11});
  const et::Tensor<float> y1 = et::sparse::linear(x1, csr, b);
  REQUIRE(y1.shape() == et::Shape{6});
  ETNA_CHECK_CLOSE(y1, naive_linear(x1.reshape({1, 11}), w, b).reshape({6}));
  const et::Tensor<float> x3 = et::randn<float>({2, 5, 11});
  const et::Tensor<float> y3 = et::sparse::linear(x3, csr, b);
  REQUIRE(y3.shape() == et::Shape{2, 5, 6});
  ETNA_CHECK_CLOSE(y3, naive_linear(x3.reshape({10, 11}), w, b).reshape({2, 5, 6}));
  // A non-contiguous input is read in its logical order.
  const et::Tensor<float> xt = et::randn<float>({11, 8}).t();
  ETNA_CHECK_CLOSE(et::sparse::linear(xt, csr, b), naive_linear(xt.contiguous(), w, b));
  // Empty batch; no input features (the output is the bias, as the dense layer gives).
  CHECK(et::sparse::linear(et::zeros<float>({0, 11}), csr, b).shape() == et::Shape{0, 6});
  const auto none = et::sparse::to_csr(et::zeros<float>({6, 0}));
  ETNA_CHECK_CLOSE(et::sparse::linear(et::zeros<float>({3, 0}), none, b),
                   b.unsqueeze(0).expand({3, 6}), 0, 0);
  ETNA_CHECK_CLOSE(et::sparse::linear(et::zeros<float>({1, 0}), none, b),
                   b.unsqueeze(0).expand({1, 6}), 0, 0);
}

TEST_CASE("sparse::linear reports shape mismatches", "[sparse][linear]") {
  const auto csr = et::sparse::to_csr(et::ones<float>({4, 3}));
  CHECK_THROWS_WITH(et::sparse::linear(et::zeros<float>({2, 5}), csr),
                    Contains("input has 5 features but the weight expects 3"));
  CHECK_THROWS_WITH(et::sparse::linear(et::zeros<float>({2, 3}), csr, et::zeros<float>({5})),
                    Contains("bias of shape [5]"));
}

TEST_CASE("sparse::linear follows etna::set_num_threads", "[sparse][linear]") {
  et::manual_seed(4);
  const int before = et::get_num_threads();
  et::set_num_threads(2);
  check_linear<float>(64, 300, 200, 0.2, true);
  check_linear<float>(1, 300, 200, 0.2, true);
  et::set_num_threads(before);
}

TEST_CASE("the row-wise and transposed CPU kernels agree at every small batch",
          "[sparse][linear]") {
  et::manual_seed(9);
  namespace k = et::sparse::cpu_kernels;
  const et::Tensor<float> w = random_sparse<float>(21, 45, 0.3, 4);
  const et::Tensor<float> b = et::randn<float>({21});
  const auto csr = et::sparse::to_csr(w);
  const k::CsrView<float> view{21, 45, csr.row_ptr.data(), csr.col_idx.data(), csr.values.data()};
  for (std::int64_t n : {1, 2, 3, 5, 16, 33}) {
    INFO("batch " << n);
    const et::Tensor<float> x = et::randn<float>({n, 45});
    auto y_row = et::empty<float>({n, 21}), y_tr = et::empty<float>({n, 21});
    k::rowwise(view, x.data(), b.data(), y_row.data(), n, 0, 21);
    constexpr std::int64_t W = xsimd::batch<float>::size;
    const std::int64_t np = (n + W - 1) / W * W;
    float* xt = k::transpose_scratch<float>(45 * np);
    k::transpose_padded(x.data(), n, std::int64_t{45}, np, xt);
    k::transposed_axpy(view, xt, np, b.data(), y_tr.data(), n, 0, 21);
    const et::Tensor<float> ref = naive_linear(x, w, b);
    ETNA_CHECK_CLOSE(y_row, ref, 1e-5, 1e-5);
    ETNA_CHECK_CLOSE(y_tr, ref, 1e-5, 1e-5);
  }
}
