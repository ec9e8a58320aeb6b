// Convolutions on the GPU: conv2d (groups, depthwise, dilation, stride, same padding, 1x1,
// unbatched), conv1d and conv_transpose2d on Var<float, cuda>, the forward value and every
// gradient compared with the CPU backend on the same inputs.
#include "cuda/support.hpp"
#include "etna/nn/functional/conv.hpp"
#include "etna/nn/functional/conv_transpose.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

template <class T>
et::Var<T, gpu> on_gpu(const et::Var<T>& v) {
  return et::Var<T, gpu>(v.value().template to<gpu>(), v.requires_grad());
}

// Runs op on the cpu and on the gpu with the same random x, w (and b unless has_bias is false)
// and an upstream gradient; compares the outputs and the three gradients. wtol: the weight
// gradient sums N * Ho * Wo products in float, in another order than the CPU's GEMM, so a large
// batch of large images needs a looser bound.
template <class Op>
void check_conv(const et::Shape& xs, const et::Shape& ws, std::int64_t bias_size, Op op,
                double wtol = 1e-5) {
  INFO("x " << xs << " w " << ws);
  const et::Var<float> x(et::randn<float>(xs), true), w(et::randn<float>(ws), true);
  const et::Var<float> b =
      bias_size > 0 ? et::Var<float>(et::randn<float>({bias_size}), true) : et::Var<float>();
  const auto dx = on_gpu(x), dw = on_gpu(w);
  const et::Var<float, gpu> db = bias_size > 0 ? on_gpu(b) : et::Var<float, gpu>();
  const et::Var<float> y = op(x, w, b);
  const et::Var<float, gpu> dy = op(dx, dw, db);
  ETNA_REQUIRE_MATCHES_CPU(dy.value(), y.value(), 1e-5);
  const auto g = et::randn<float>(y.shape());
  y.backward(g);
  dy.backward(g.to<gpu>());
  ETNA_REQUIRE_MATCHES_CPU(dx.grad(), x.grad(), 1e-5);
  ETNA_REQUIRE_MATCHES_CPU(dw.grad(), w.grad(), wtol);
  if (bias_size > 0) ETNA_REQUIRE_MATCHES_CPU(db.grad(), b.grad(), 1e-5);
}

}  // namespace

TEST_CASE("cuda conv2d matches the cpu: stride, padding, dilation, groups, same, 1x1") {
  et::manual_seed(21);
  check_conv({2, 3, 9, 9}, {4, 3, 3, 3}, 4,
             [](const auto& x, const auto& w, const auto& b) { return F::conv2d(x, w, b); });
  check_conv({3, 3, 10, 9}, {5, 3, 3, 2}, 5, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 2, {1, 2});
  });
  check_conv({2, 4, 11, 11}, {6, 4, 3, 3}, 0, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 1, 2, 2);
  });
  check_conv({2, 4, 8, 8}, {6, 2, 3, 3}, 6, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 2, 1, 1, 2);
  });
  check_conv({2, 3, 7, 6}, {4, 3, 4, 3}, 4, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 1, nn::same, {2, 1});
  });
  check_conv({2, 4, 6, 6}, {3, 4, 1, 1}, 3,
             [](const auto& x, const auto& w, const auto& b) { return F::conv2d(x, w, b); });
  check_conv({3, 5, 5}, {2, 3, 3, 3}, 2, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 1, 1);  // unbatched
  });
  check_conv(
      {8, 1, 28, 28}, {6, 1, 5, 5}, 6,
      [](const auto& x, const auto& w, const auto& b) {
        return F::conv2d(x, w, b, 1, 2);  // LeNet's first layer: dW sums 6272 products
      },
      1e-4);
}

TEST_CASE("cuda depthwise convolutions match the cpu") {
  et::manual_seed(22);
  check_conv({2, 6, 9, 9}, {6, 1, 3, 3}, 6, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 1, 1, 1, 6);
  });
  check_conv({2, 3, 10, 10}, {6, 1, 3, 3}, 0, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, 2, 2, 2, 3);  // channel multiplier 2, stride, dilation
  });
  check_conv({1, 2, 7, 5}, {6, 1, 3, 2}, 6, [](const auto& x, const auto& w, const auto& b) {
    return F::conv2d(x, w, b, {2, 1}, {1, 0}, 1, 2);  // multiplier 3: the cpu's GEMM path
  });
  check_conv({2, 4, 5, 5}, {4, 1, 3, 3}, 4, [](const auto& x, const auto& w, const auto& b) {
    return F::conv_transpose2d(x, w, b, 2, 1, 1, 4);  // a depthwise transposed convolution
  });
}

TEST_CASE("cuda conv1d matches the cpu") {
  et::manual_seed(23);
  check_conv({2, 4, 17}, {6, 2, 3}, 6, [](const auto& x, const auto& w, const auto& b) {
    return F::conv1d(x, w, b, 2, 1, 1, 2);
  });
  check_conv({3, 12}, {2, 3, 4}, 2, [](const auto& x, const auto& w, const auto& b) {
    return F::conv1d(x, w, b, 1, nn::same, 2);
  });
}

TEST_CASE("cuda conv_transpose2d matches the cpu") {
  et::manual_seed(24);
  check_conv({2, 4, 5, 5}, {4, 3, 3, 3}, 3, [](const auto& x, const auto& w, const auto& b) {
    return F::conv_transpose2d(x, w, b, 2, 1, 1);
  });
  check_conv({2, 4, 4, 4}, {4, 2, 3, 3}, 4, [](const auto& x, const auto& w, const auto& b) {
    return F::conv_transpose2d(x, w, b, 1, 0, 0, 2);  // groups
  });
  check_conv({2, 3, 4, 5}, {3, 2, 3, 3}, 0, [](const auto& x, const auto& w, const auto& b) {
    return F::conv_transpose2d(x, w, b, 2, 1, 1, 1, 2);  // dilation
  });
}

TEST_CASE("cuda conv2d errors are the cpu's") {
  const et::Var<float, gpu> x(et::zeros<float>({8, 1, 28, 28}).to<gpu>());
  const et::Var<float, gpu> w(et::zeros<float>({16, 3, 3, 3}).to<gpu>());
  CHECK_THROWS_WITH(F::conv2d(x, w),
                    Catch::Contains("conv2d: expected input[8, 1, 28, 28] to have 3 channels"));
}
