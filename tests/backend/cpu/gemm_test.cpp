// Tests etna::cpu_backend::gemm against the naive gemm_reference oracle over shapes, layouts
// (all transposition combos via strides, non-unit column strides), alpha/beta and threads.
#include "etna/backend/cpu/gemm.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

namespace {

using etna::cpu_backend::gemm;
using etna::cpu_backend::gemm_reference;
using I = std::int64_t;

// An M x N matrix embedded in a larger buffer: element (i, j) at data[off + i*rs + j*cs].
template <class T>
struct Strided {
  std::vector<T> data;
  I rs, cs;
  T* ptr() { return data.data(); }
};

// Layout 0: row-major, 1: column-major (the transposed case), 2: row-major with column
// stride 2 and padded rows, 3: column-major with row stride 3.
template <class T>
Strided<T> make_matrix(I rows, I cols, int layout, std::mt19937& rng) {
  Strided<T> m;
  switch (layout) {
    case 0:
      m.rs = cols;
      m.cs = 1;
      break;
    case 1:
      m.rs = 1;
      m.cs = rows;
      break;
    case 2:
      m.rs = 2 * cols + 3;
      m.cs = 2;
      break;
    default:
      m.rs = 3;
      m.cs = 3 * rows + 1;
      break;
  }
  const I size = rows == 0 || cols == 0 ? 1 : (rows - 1) * m.rs + (cols - 1) * m.cs + 1;
  m.data.resize(static_cast<std::size_t>(size));
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (auto& x : m.data) x = static_cast<T>(dist(rng));
  return m;
}

template <class T>
void check_case(I M, I N, I K, int la, int lb, int lc, T alpha, T beta, std::mt19937& rng) {
  auto A = make_matrix<T>(M, K, la, rng);
  auto B = make_matrix<T>(K, N, lb, rng);
  auto C = make_matrix<T>(M, N, lc, rng);
  if (beta == T(0)) {  // beta == 0 must not read C
    for (I i = 0; i < M; ++i)
      for (I j = 0; j < N; ++j) C.data[i * C.rs + j * C.cs] = std::numeric_limits<T>::quiet_NaN();
  }
  auto expected = C;
  gemm(M, N, K, alpha, A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs, beta, C.ptr(), C.rs, C.cs);
  gemm_reference(M, N, K, alpha, A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs, beta, expected.ptr(),
                 expected.rs, expected.cs);
  // Rounding error of a K-term dot product of values in [-1, 1] grows like sqrt(K) * eps.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 8.0 * eps * (std::sqrt(static_cast<double>(K)) + 1.0) *
                     (std::abs(static_cast<double>(alpha)) * 2.0 + std::abs(double(beta)));
  I bad = 0;
  for (std::size_t idx = 0; idx < C.data.size(); ++idx) {
    const double got = static_cast<double>(C.data[idx]);
    const double want = static_cast<double>(expected.data[idx]);
    // Elements outside the matrix must be untouched (both copies started equal).
    if (!(std::abs(got - want) <= tol * (1.0 + std::abs(want)))) ++bad;
  }
  INFO("M=" << M << " N=" << N << " K=" << K << " layouts " << la << lb << lc << " alpha=" << alpha
            << " beta=" << beta);
  CHECK(bad == 0);
}

template <class T>
void check_shapes(int threads) {
  etna::set_num_threads(threads);
  std::mt19937 rng(1234u + static_cast<unsigned>(threads));
  const I sizes[] = {1, 7, 13, 31, 33, 65, 100};
  for (I M : sizes)
    for (I N : sizes)
      for (I K : {I{1}, I{13}, I{65}}) check_case<T>(M, N, K, 0, 0, 0, T(1), T(0), rng);
  // Blocking boundaries: K above KC, M above MC, N above one thread's panel split.
  check_case<T>(257, 300, 600, 0, 0, 0, T(1), T(0), rng);
  check_case<T>(400, 129, 257, 0, 1, 0, T(0.5), T(1), rng);
  check_case<T>(64, 256, 784, 0, 1, 0, T(1), T(0), rng);    // X * W^T (MLP forward)
  check_case<T>(256, 784, 64, 1, 0, 0, T(1), T(0), rng);    // dY^T * X (MLP weight grad)
  check_case<T>(64, 10, 256, 0, 1, 0, T(1), T(0.25), rng);  // narrow N
  check_case<T>(20, 1100, 30, 0, 0, 0, T(1), T(0), rng);    // N above one NC panel
  etna::set_num_threads(1);
}

}  // namespace

TEMPLATE_TEST_CASE("gemm matches the reference over edge shapes", "[gemm]", float, double) {
  SECTION("one thread") { check_shapes<TestType>(1); }
  SECTION("two threads") { check_shapes<TestType>(2); }
}

TEMPLATE_TEST_CASE("gemm handles every operand layout", "[gemm]", float, double) {
  std::mt19937 rng(7);
  for (int threads : {1, 2}) {
    etna::set_num_threads(threads);
    for (int la = 0; la < 4; ++la)
      for (int lb = 0; lb < 4; ++lb)
        for (int lc = 0; lc < 4; ++lc) {
          check_case<TestType>(33, 65, 31, la, lb, lc, TestType(1), TestType(0), rng);
          check_case<TestType>(131, 97, 300, la, lb, lc, TestType(-0.75), TestType(0.5), rng);
        }
  }
  etna::set_num_threads(1);
}

TEMPLATE_TEST_CASE("gemm small-problem paths match the reference", "[gemm]", float, double) {
  // Below kSmallMaxMacs, layouts with B rows (or A columns) contiguous take the direct path
  // (row tiles of 1..MR rows, padded last column tile) and layouts with A rows and B columns
  // contiguous take the dot-product path (k tails, every partial register tile); the rest
  // fall back to the packed path.
  using T = TestType;
  std::mt19937 rng(29);
  const T alphas[] = {T(1), T(-0.75)};
  const T betas[] = {T(0), T(1), T(0.5)};
  int n = 0;
  for (int threads : {1, 2}) {
    etna::set_num_threads(threads);
    for (I small = 1; small <= 16; ++small)
      for (I other : {I{3}, I{10}, I{37}, I{64}})
        for (int swap = 0; swap < 2; ++swap)
          for (I K : {I{1}, I{2}, I{7}, I{16}, I{17}, I{20}, I{33}, I{259}})
            for (int la = 0; la < 4; ++la)
              for (int lb = 0; lb < 4; ++lb)
                for (int lc = 0; lc < 2; ++lc, ++n) {
                  const I M = swap ? other : small, N = swap ? small : other;
                  check_case<T>(M, N, K, la, lb, lc, alphas[n % 2], betas[n % 3], rng);
                }
  }
  // The MLP classifier layer and its gradients, batch 64 and 256.
  for (I b : {I{64}, I{256}}) {
    check_case<T>(b, 10, 256, 0, 1, 0, T(1), T(0), rng);   // X W^T
    check_case<T>(b, 256, 10, 0, 0, 0, T(1), T(0), rng);   // dY W
    check_case<T>(10, 256, b, 1, 0, 0, T(1), T(1), rng);   // dY^T X, accumulating
  }
  etna::set_num_threads(1);
}

TEMPLATE_TEST_CASE("gemm applies alpha and beta", "[gemm]", float, double) {
  using T = TestType;
  std::mt19937 rng(11);
  for (T alpha : {T(1), T(-2), T(0.5)})
    for (T beta : {T(0), T(1), T(-1), T(0.3)}) check_case<T>(45, 70, 40, 0, 0, 0, alpha, beta, rng);
}

TEMPLATE_TEST_CASE("gemm degenerate sizes", "[gemm]", float, double) {
  using T = TestType;
  std::vector<T> a(12, T(1)), b(12, T(1)), c(12, T(3));
  SECTION("K == 0 scales C by beta") {
    gemm<T>(3, 4, 0, T(1), a.data(), 0, 1, b.data(), 4, 1, T(2), c.data(), 4, 1);
    for (T x : c) CHECK(x == T(6));
  }
  SECTION("K == 0 with beta == 0 overwrites NaN") {
    for (auto& x : c) x = std::numeric_limits<T>::quiet_NaN();
    gemm<T>(3, 4, 0, T(1), a.data(), 0, 1, b.data(), 4, 1, T(0), c.data(), 4, 1);
    for (T x : c) CHECK(x == T(0));
  }
  SECTION("alpha == 0 scales C by beta") {
    gemm<T>(3, 4, 2, T(0), a.data(), 2, 1, b.data(), 4, 1, T(0.5), c.data(), 4, 1);
    for (T x : c) CHECK(x == T(1.5));
  }
  SECTION("M == 0 or N == 0 touches nothing") {
    gemm<T>(0, 4, 3, T(1), a.data(), 3, 1, b.data(), 4, 1, T(0), c.data(), 4, 1);
    gemm<T>(3, 0, 3, T(1), a.data(), 3, 1, b.data(), 4, 1, T(0), c.data(), 4, 1);
    for (T x : c) CHECK(x == T(3));
  }
}

TEST_CASE("gemm on int32 and int64 is exact", "[gemm]") {
  std::vector<std::int32_t> a(6 * 5), b(5 * 4), c(6 * 4, 7);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::int32_t>(i % 7) - 3;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::int32_t>(i % 5) - 2;
  auto expected = c;
  gemm<std::int32_t>(6, 4, 5, 2, a.data(), 5, 1, b.data(), 1, 5, 1, c.data(), 4, 1);
  gemm_reference<std::int32_t>(6, 4, 5, 2, a.data(), 5, 1, b.data(), 1, 5, 1, expected.data(), 4,
                               1);
  CHECK(c == expected);
  std::vector<std::int64_t> a64(a.begin(), a.end()), b64(b.begin(), b.end()), c64(24, 0);
  gemm<std::int64_t>(6, 4, 5, 1, a64.data(), 5, 1, b64.data(), 4, 1, 0, c64.data(), 4, 1);
  std::int64_t want = 0;
  for (int k = 0; k < 5; ++k)
    want += a64[static_cast<std::size_t>(k)] * b64[static_cast<std::size_t>(k * 4)];
  CHECK(c64[0] == want);
}

TEST_CASE("gemm from two user threads at once", "[gemm]") {
  // Per-thread packing buffers: concurrent calls must not share scratch memory.
  std::mt19937 rng(3);
  auto run = [](unsigned seed) {
    std::mt19937 r(seed);
    for (int rep = 0; rep < 5; ++rep) check_case<float>(150, 140, 300, 0, 1, 0, 1.f, 0.f, r);
  };
  std::thread t1(run, 1u), t2(run, 2u);
  t1.join();
  t2.join();
  (void)rng;
}
