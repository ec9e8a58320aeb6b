// Column sums over many rows on the GPU (column_reduce.hpp): the bias gradients of linear and
// conv2d and the layer-norm affine gradients. Tall inputs are summed block-wise in float, so
// they are checked against a double reference with a bound for float sums, and for giving the
// same bits on every run.
#include <cmath>
#include <cstdint>
#include <vector>

#include "cuda/support.hpp"
#include "etna/nn/functional/conv.hpp"

namespace et = etna;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

// |got[j] - sum_i g[i][j]| <= rel * sum_i |g[i][j]| for each column j, the sum in double. The
// float sums of 64-row blocks and their partials have a worst-case error of a few hundred ulps
// of sum |g|; rel = 1e-5 leaves room while catching a wrong or missing block (>= 1 / m).
void require_column_sums(const et::Tensor<float, gpu>& got, const et::Tensor<float>& g,
                         double rel = 1e-5) {
  const std::int64_t m = g.size(0), n = g.size(1);
  REQUIRE(got.shape() == et::Shape{n});
  const auto h = got.to<et::cpu>();
  std::vector<double> sum(n, 0.0), abs_sum(n, 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      sum[j] += g.data()[i * n + j];
      abs_sum[j] += std::abs(g.data()[i * n + j]);
    }
  for (std::int64_t j = 0; j < n; ++j) {
    INFO("m " << m << " n " << n << " column " << j << " got " << h.data()[j] << " want "
              << sum[j]);
    REQUIRE(std::abs(h.data()[j] - sum[j]) <= rel * abs_sum[j] + 1e-30);
  }
}

et::Tensor<float, gpu> column_sum(const et::Tensor<float, gpu>& g) {
  auto out = et::Tensor<float, gpu>::allocate({g.size(1)});
  et::cuda_backend::column_sum<float>(g.data(), g.size(0), g.size(1), out.data());
  return out;
}

bool same_bits(const et::Tensor<float, gpu>& a, const et::Tensor<float, gpu>& b) {
  const auto ha = a.to<et::cpu>(), hb = b.to<et::cpu>();
  for (std::int64_t i = 0; i < ha.numel(); ++i)
    if (ha.data()[i] != hb.data()[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("cuda column_sum of short and tall matrices matches a double reference") {
  et::manual_seed(81);
  for (std::int64_t m : {0, 1, 64, 256, 257, 1000, 4097, 65536, 100003})
    for (std::int64_t n : {1, 3, 64}) {
      const et::Tensor<float> g = et::randn<float>({m, n}) + 0.25f;  // an offset: sums that do not cancel
      const auto dg = g.to<gpu>();
      const auto got = column_sum(dg);
      require_column_sums(got, g);
      CHECK(same_bits(got, column_sum(dg)));  // deterministic: the same bits on every run
    }
}

TEST_CASE("cuda linear's bias gradient over 65536 rows matches a double reference") {
  et::manual_seed(82);
  const std::int64_t m = 65536, in = 16, out = 64;
  const et::Var<float, gpu> x(et::randn<float, gpu>({m, in}), true);
  const et::Var<float, gpu> w(et::randn<float, gpu>({out, in}), true);
  const et::Var<float, gpu> b(et::randn<float, gpu>({out}), true);
  const et::Tensor<float> g = et::randn<float>({m, out}) - 0.5f;
  const et::Var<float, gpu> y = F::linear(x, w, b);
  y.backward(g.to<gpu>());
  require_column_sums(b.grad(), g);
}

TEST_CASE("cuda layer_norm's affine gradients over many rows match the cpu") {
  et::manual_seed(83);
  const et::Var<float> x(et::randn<float>({6000, 3, 8}), true), w(et::randn<float>({8}), true),
      b(et::randn<float>({8}), true);
  const et::Var<float, gpu> dx(x.value().to<gpu>(), true), dw(w.value().to<gpu>(), true),
      db(b.value().to<gpu>(), true);
  const et::Var<float> y = F::layer_norm(x, {8}, w, b);
  const et::Var<float, gpu> dy = F::layer_norm(dx, {8}, dw, db);
  const auto g = et::randn<float>(y.shape());
  y.backward(g);
  dy.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(dx.grad(), x.grad(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dw.grad(), w.grad(), 1e-5);  // both sum in double
  ETNA_REQUIRE_MATCHES_CPU(db.grad(), b.grad(), 1e-5);
}

TEST_CASE("cuda conv2d's bias gradient over a large batch matches a double reference") {
  et::manual_seed(84);
  const std::int64_t n = 3000, c = 5;
  const et::Var<float, gpu> x(et::randn<float, gpu>({n, 2, 4, 4}), true);
  const et::Var<float, gpu> w(et::randn<float, gpu>({c, 2, 3, 3}), true);
  const et::Var<float, gpu> b(et::randn<float, gpu>({c}), true);
  const et::Var<float, gpu> y = F::conv2d(x, w, b);  // [n, c, 2, 2]
  const et::Tensor<float> g = et::randn<float>(y.shape()) + 0.25f;
  y.backward(g.to<gpu>());
  // The bias gradient is the column sums of g viewed as [n, c, 4] -> [n * 4 rows per channel].
  auto rows = et::Tensor<float>::allocate({n * 4, c});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t p = 0; p < 4; ++p)
        rows.data()[(i * 4 + p) * c + ch] = g.data()[(i * c + ch) * 4 + p];
  require_column_sums(b.grad(), rows);
}

TEST_CASE("cuda depthwise conv2d's gradients over a large batch match the cpu") {
  et::manual_seed(85);
  const et::Var<float> x(et::randn<float>({1500, 3, 5, 5}), true),
      w(et::randn<float>({3, 1, 3, 3}), true), b(et::randn<float>({3}), true);
  const et::Var<float, gpu> dx(x.value().to<gpu>(), true), dw(w.value().to<gpu>(), true),
      db(b.value().to<gpu>(), true);
  const et::Var<float> y = F::conv2d(x, w, b, 1, 1, 1, 3);  // groups = channels: depthwise
  const et::Var<float, gpu> dy = F::conv2d(dx, dw, db, 1, 1, 1, 3);
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  const et::Tensor<float> g = et::randn<float>(y.shape());
  y.backward(g);
  dy.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(dx.grad(), x.grad(), 1e-5);
  // Sums of 1500 * 25 products in float, in another order than the CPU's.
  ETNA_REQUIRE_MATCHES_CPU(dw.grad(), w.grad(), 1e-4);
  ETNA_REQUIRE_MATCHES_CPU(db.grad(), b.grad(), 1e-4);
}
