// nn::functional::conv2d / conv1d / conv_transpose2d against PyTorch (fixtures from
// tests/reference/make_conv.py: forward and the gradients of x, weight and bias over stride,
// padding incl. same/valid, dilation, groups, depthwise, unbatched inputs), in float and double;
// gradcheck of each variant, every error message, and multi-thread vs one-thread results.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "etna/nn/functional/conv.hpp"
#include "etna/nn/functional/conv_transpose.hpp"
#include "nn/layer_fixtures.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace F = etna::nn::functional;
using Catch::Contains;

namespace {

const et::test::Fixtures& conv_fx() {
  static const et::test::Fixtures fx("conv.json");
  return fx;
}

struct Args {
  std::string op;
  bool bias;
  nn::Size2 stride, dilation, output_padding;
  nn::Padding2 padding;
  std::int64_t groups;
};

nn::Size2 size2(const nlohmann::json& j) {
  return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>()};
}

Args args_of(const std::string& name) {
  const auto j = conv_fx().value<nlohmann::json>(name + "_args");
  Args a;
  a.op = j["op"].get<std::string>();
  a.bias = j["bias"].get<bool>();
  a.stride = size2(j["stride"]);
  a.dilation = size2(j["dilation"]);
  a.output_padding = size2(j["output_padding"]);
  a.groups = j["groups"].get<std::int64_t>();
  if (j["padding"].is_string())
    a.padding = j["padding"].get<std::string>() == "same" ? nn::Padding2(nn::same)
                                                          : nn::Padding2(nn::valid);
  else
    a.padding = nn::Padding2(size2(j["padding"]));
  return a;
}

// Runs the case's op on (x, w, b); b undefined means no bias.
template <class T>
et::Var<T> run(const Args& a, const et::Var<T>& x, const et::Var<T>& w, const et::Var<T>& b) {
  if (a.op == "conv2d") return F::conv2d(x, w, b, a.stride, a.padding, a.dilation, a.groups);
  if (a.op == "conv1d") {
    nn::Padding1 p(a.padding.size.w);
    if (a.padding.kind != nn::PaddingKind::explicit_sizes) p = nn::Padding1(a.padding.kind);
    return F::conv1d(x, w, b, a.stride.w, p, a.dilation.w, a.groups);
  }
  return F::conv_transpose2d(x, w, b, a.stride, a.padding.size, a.output_padding, a.groups,
                             a.dilation);
}

std::vector<std::string> case_names() { return conv_fx().value<std::vector<std::string>>("cases"); }

template <class T>
void check_case(const std::string& name, double tol) {
  INFO(name);
  const Args a = args_of(name);
  const et::Var<T> x(conv_fx().tensor<T>(name + "_x"), true);
  const et::Var<T> w(conv_fx().tensor<T>(name + "_w"), true);
  const et::Var<T> b = a.bias ? et::Var<T>(conv_fx().tensor<T>(name + "_b"), true) : et::Var<T>();
  const et::Var<T> y = run(a, x, w, b);
  ETNA_CHECK_CLOSE(y.value(), conv_fx().tensor<T>(name + "_y"), tol, tol);
  y.backward(conv_fx().tensor<T>(name + "_g"));
  ETNA_CHECK_CLOSE(x.grad(), conv_fx().tensor<T>(name + "_gx"), tol, tol);
  ETNA_CHECK_CLOSE(w.grad(), conv_fx().tensor<T>(name + "_gw"), tol, tol);
  if (a.bias) ETNA_CHECK_CLOSE(b.grad(), conv_fx().tensor<T>(name + "_gb"), tol, tol);
}

// Forces conv2d's path while alive: 1 the direct kernel wherever it applies (unit stride, one
// group), 2 im2col + GEMM; 0 is the measured rule.
struct PathGuard {
  explicit PathGuard(int mode) { et::cpu_backend::conv_detail::direct_conv_mode() = mode; }
  ~PathGuard() { et::cpu_backend::conv_detail::direct_conv_mode() = 0; }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;
};

}  // namespace

TEST_CASE("conv functional: every fixture case matches PyTorch in float and double", "[conv]") {
  const auto names = case_names();
  REQUIRE(names.size() >= 20);
  const int saved = et::get_num_threads();
  for (int mode : {0, 1, 2})
    for (int threads : {1, 2}) {  // one thread: the batch of 2 shares one GEMM
      INFO("path mode " << mode << ", threads " << threads);
      const PathGuard path(mode);
      et::set_num_threads(threads);
      for (const auto& name : names) {
        check_case<float>(name, 2e-5);
        check_case<double>(name, 1e-7);  // the fixture keeps 8 significant digits
      }
    }
  et::set_num_threads(saved);
}

TEST_CASE("conv functional: gradcheck of every variant in double", "[conv]") {
  for (int mode : {1, 2})
    for (const auto& name : case_names()) {
      INFO(name << ", path mode " << mode);
      const PathGuard path(mode);
      const Args a = args_of(name);
      const et::Var<double> x(conv_fx().tensor<double>(name + "_x"), true);
      const et::Var<double> w(conv_fx().tensor<double>(name + "_w"), true);
      std::vector<et::Var<double>> inputs{x, w};
      if (a.bias) inputs.emplace_back(conv_fx().tensor<double>(name + "_b"), true);
      et::test::check_gradcheck(et::gradcheck(
          [&](const std::vector<et::Var<double>>& in) {
            return run(a, in[0], in[1], a.bias ? in[2] : et::Var<double>());
          },
          inputs));
    }
}

TEST_CASE("conv functional: bias spellings, tensor operands and gradients only where needed",
          "[conv]") {
  et::manual_seed(3);
  const auto xt = et::randn<float>({2, 3, 5, 5});
  const auto wt = et::randn<float>({4, 3, 3, 3});
  const et::Var<float> w(wt, true);
  const et::Var<float> y1 = F::conv2d(xt, w, {}, 1, 1);
  const et::Var<float> y2 = F::conv2d(xt, w, nn::no_bias, 1, 1);
  const et::Var<float> y3 = F::conv2d(xt, w, et::Var<float>(), 1, 1);
  ETNA_CHECK_CLOSE(y1.value(), y2.value(), 0.0, 0.0);
  ETNA_CHECK_CLOSE(y1.value(), y3.value(), 0.0, 0.0);
  CHECK(y1.requires_grad());
  // A tensor bias is a constant: the same as adding it afterwards.
  const auto bt = et::randn<float>({4});
  const et::Var<float> yb = F::conv2d(xt, wt, bt, 1, 1);
  CHECK_FALSE(yb.requires_grad());
  ETNA_CHECK_CLOSE(yb.value(), y1.value() + bt.reshape({1, 4, 1, 1}), 1e-6, 1e-6);
  // Only the weight requires grad: backward computes dW alone.
  y1.backward(et::ones<float>({2, 4, 5, 5}));
  CHECK(w.grad().defined());
  // conv1d and conv_transpose2d accept the same spellings.
  const et::Var<float> z =
      F::conv1d(et::randn<float>({2, 3, 7}), et::Var<float>(et::randn<float>({2, 3, 3}), true));
  CHECK(z.shape() == et::Shape{2, 2, 5});
  const et::Var<float> t =
      F::conv_transpose2d(xt, et::Var<float>(et::randn<float>({3, 2, 3, 3}), true), {}, 2);
  CHECK(t.shape() == et::Shape{2, 2, 11, 11});
}

TEST_CASE("conv functional: errors name the shapes and arguments", "[conv]") {
  const auto x = et::zeros<float>({8, 1, 28, 28});
  const et::Var<float> w(et::zeros<float>({16, 3, 3, 3}), true);
  CHECK_THROWS_WITH(F::conv2d(x, w),
                    Contains("conv2d: expected input[8, 1, 28, 28] to have 3 channels (weight "
                             "[16, 3, 3, 3], groups=1), but got 1 channels"));
  CHECK_THROWS_AS(F::conv2d(x, w), et::shape_error);
  const auto x3 = et::zeros<float>({2, 3, 8, 8});
  CHECK_THROWS_WITH(F::conv2d(x3, et::zeros<float>({16, 3, 3})),
                    Contains("conv2d: weight must be 4-d, got shape [16, 3, 3]"));
  CHECK_THROWS_WITH(F::conv2d(et::zeros<float>({3, 8}), w),
                    Contains("conv2d: expected a 3-d (unbatched) or 4-d (batched) input, got "
                             "shape [3, 8]"));
  CHECK_THROWS_WITH(F::conv2d(x3, et::zeros<float>({4, 1, 3, 3}), {}, 1, 0, 1, 2),
                    Contains("conv2d: groups=2 must divide the input channels, but input[2, 3, "
                             "8, 8] has 3"));
  CHECK_THROWS_WITH(
      F::conv2d(et::zeros<float>({2, 4, 8, 8}), et::zeros<float>({3, 2, 3, 3}), {}, 1, 0, 1, 2),
      Contains("conv2d: groups=2 must divide the output channels, but the weight "
               "[3, 2, 3, 3] has 3"));
  CHECK_THROWS_AS(F::conv2d(x3, w, {}, 1, 0, 1, 0), et::value_error);
  CHECK_THROWS_WITH(F::conv2d(x3, w, {}, 1, 0, 1, 0),
                    Contains("conv2d: groups must be positive, got 0"));
  CHECK_THROWS_WITH(F::conv2d(x3, w, {}, {1, 0}),
                    Contains("conv2d: stride must be positive, got [1, 0]"));
  CHECK_THROWS_WITH(F::conv2d(x3, w, {}, 1, 0, -1),
                    Contains("conv2d: dilation must be positive, got [-1, -1]"));
  CHECK_THROWS_WITH(F::conv2d(x3, w, {}, 1, {-1, 0}),
                    Contains("conv2d: padding must be non-negative, got [-1, 0]"));
  CHECK_THROWS_AS(F::conv2d(x3, w, {}, 2, nn::same), et::value_error);
  CHECK_THROWS_WITH(F::conv2d(x3, w, {}, 2, nn::same),
                    Contains("conv2d: padding='same' is not supported for strided convolutions "
                             "(stride [2, 2])"));
  CHECK_THROWS_WITH(
      F::conv2d(et::zeros<float>({1, 3, 4, 4}), et::zeros<float>({2, 3, 3, 3}), {}, 1, 0, 2),
      Contains("conv2d: input of spatial size [4, 4] (padded [4, 4]) is smaller "
               "than the kernel [3, 3] at dilation [2, 2] (effective size [5, 5])"));
  CHECK_THROWS_WITH(F::conv2d(x3, w, et::zeros<float>({15})),
                    Contains("conv2d: bias of shape [15] does not match the 16 output channels "
                             "(expected [16])"));
  // conv1d names its own sizes.
  CHECK_THROWS_WITH(F::conv1d(et::zeros<float>({2, 3, 4}), et::zeros<float>({2, 2, 3})),
                    Contains("conv1d: expected input[2, 3, 4] to have 2 channels (weight [2, 2, "
                             "3], groups=1), but got 3 channels"));
  CHECK_THROWS_WITH(
      F::conv1d(et::zeros<float>({2, 3, 4}), et::zeros<float>({2, 3, 3}), {}, 1, 0, 3),
      Contains("conv1d: input of spatial size 4 (padded 4) is smaller than the "
               "kernel 3 at dilation 3 (effective size 7)"));
  CHECK_THROWS_WITH(F::conv1d(et::zeros<float>({2, 3, 4}), et::zeros<float>({2, 3, 3}), {}, 0),
                    Contains("conv1d: stride must be positive, got 0"));
  // conv_transpose2d: channels, output_padding, empty output.
  const auto xt = et::zeros<float>({2, 4, 5, 5});
  CHECK_THROWS_WITH(F::conv_transpose2d(xt, et::zeros<float>({3, 2, 3, 3})),
                    Contains("conv_transpose2d: expected input[2, 4, 5, 5] to have 3 channels "
                             "(weight [3, 2, 3, 3], groups=1), but got 4 channels"));
  CHECK_THROWS_WITH(F::conv_transpose2d(xt, et::zeros<float>({4, 2, 3, 3}), {}, 2, 0, 2),
                    Contains("conv_transpose2d: output_padding [2, 2] must be smaller than either "
                             "stride [2, 2] or dilation [1, 1]"));
  CHECK_THROWS_AS(F::conv_transpose2d(xt, et::zeros<float>({4, 2, 3, 3}), {}, 2, 0, 2),
                  et::value_error);
  CHECK_THROWS_WITH(F::conv_transpose2d(xt, et::zeros<float>({4, 2, 3, 3}), {}, 1, 4),
                    Contains("conv_transpose2d: input[2, 4, 5, 5] with kernel [3, 3], stride [1, "
                             "1], padding [4, 4] and dilation [1, 1] gives an empty output [-1, "
                             "-1]"));
  CHECK_THROWS_WITH(F::conv_transpose2d(xt, et::zeros<float>({4, 2, 3, 3}), {}, 1, 0, -1),
                    Contains("conv_transpose2d: output_padding must be non-negative, got [-1, "
                             "-1]"));
  CHECK_THROWS_WITH(F::conv_transpose2d(xt, et::zeros<float>({4, 2, 3, 3}), et::zeros<float>({4})),
                    Contains("conv_transpose2d: bias of shape [4] does not match the 2 output "
                             "channels (expected [2])"));
  CHECK_THROWS_WITH(F::conv_transpose2d(et::zeros<float>({2, 3, 5, 5}),
                                        et::zeros<float>({3, 2, 3, 3}), {}, 1, 0, 0, 2),
                    Contains("conv_transpose2d: groups=2 must divide the input channels, but the "
                             "weight [3, 2, 3, 3] has 3"));
}

TEST_CASE("conv functional: multi-threaded results equal one thread's and repeat exactly",
          "[conv]") {
  et::manual_seed(9);
  struct Shape4 {
    et::Shape x, w;
    std::int64_t groups;
  };
  // A batch larger than the thread count (batch split), a single image (the GEMM splits), small
  // images that share a GEMM, depthwise (direct kernel) and a pointwise convolution.
  for (const auto& s :
       {Shape4{{6, 8, 12, 12}, {16, 8, 3, 3}, 1}, Shape4{{1, 8, 20, 20}, {16, 8, 3, 3}, 1},
        Shape4{{16, 1, 28, 28}, {6, 1, 5, 5}, 1}, Shape4{{5, 8, 9, 37}, {8, 1, 3, 3}, 8},
        Shape4{{5, 8, 6, 6}, {12, 4, 1, 1}, 2}}) {
    INFO(s.x << " " << s.w);
    const auto xt = et::randn<double>(s.x);
    const auto wt = et::randn<double>(s.w);
    const auto bt = et::randn<double>({s.w[0]});
    auto once = [&](int threads) {
      const int saved = et::get_num_threads();
      et::set_num_threads(threads);
      const et::Var<double> x(xt, true), w(wt, true), b(bt, true);
      const et::Var<double> y = F::conv2d(x, w, b, 1, 1, 1, s.groups);
      y.backward(et::ones<double>(y.shape()) * 0.5 + y.value());
      et::set_num_threads(saved);
      return std::vector<et::Tensor<double>>{y.value().clone(), x.grad().clone(), w.grad().clone(),
                                             b.grad().clone()};
    };
    const auto one = once(1), two = once(2), two_again = once(2), four = once(4);
    for (std::size_t k = 0; k < one.size(); ++k) {
      ETNA_CHECK_CLOSE(two[k], one[k], 1e-12, 1e-12);
      ETNA_CHECK_CLOSE(four[k], one[k], 1e-12, 1e-12);
      ETNA_CHECK_CLOSE(two_again[k], two[k], 0.0, 0.0);  // deterministic for a thread count
    }
  }
}

namespace {

// Direct loops: y = conv(x, w) and, for an upstream gradient g, dx and dw (no bias).
struct Naive {
  et::Tensor<double> y, dx, dw;
};
Naive naive_conv(const et::Tensor<double>& x, const et::Tensor<double>& w,
                 const et::Tensor<double>& g, std::int64_t s, std::int64_t p) {
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const std::int64_t o = w.size(0), k = w.size(2);
  const std::int64_t ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1;
  Naive r{et::zeros<double>({n, o, ho, wo}), et::zeros<double>(x.shape()),
          et::zeros<double>(w.shape())};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t oc = 0; oc < o; ++oc)
      for (std::int64_t oy = 0; oy < ho; ++oy)
        for (std::int64_t ox = 0; ox < wo; ++ox)
          for (std::int64_t ci = 0; ci < c; ++ci)
            for (std::int64_t ky = 0; ky < k; ++ky)
              for (std::int64_t kx = 0; kx < k; ++kx) {
                const std::int64_t iy = oy * s - p + ky, ix = ox * s - p + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const std::int64_t xi = ((i * c + ci) * h + iy) * wd + ix;
                const std::int64_t wi = ((oc * c + ci) * k + ky) * k + kx;
                const std::int64_t yi = ((i * o + oc) * ho + oy) * wo + ox;
                r.y.data()[yi] += x.data()[xi] * w.data()[wi];
                r.dx.data()[xi] += g.data()[yi] * w.data()[wi];
                r.dw.data()[wi] += g.data()[yi] * x.data()[xi];
              }
  return r;
}

}  // namespace

TEST_CASE(
    "conv functional: row blocks of large images and GEMMs over several small images "
    "match direct loops",
    "[conv]") {
  et::manual_seed(10);
  // [2, 64, 23, 61]: 64 * 9 column rows per output position, so the column buffer holds a few
  // output rows and the forward, dW and dX GEMMs run block by block (the last block partial).
  // [7, 3, 6, 7]: several images per GEMM (one thread: all 7 share one).
  const int saved = et::get_num_threads();
  et::set_num_threads(1);
  for (const et::Shape& xs : {et::Shape{2, 64, 23, 61}, et::Shape{7, 3, 6, 7}})
    for (std::int64_t stride : {1, 2}) {
      INFO(xs << " stride " << stride);
      const auto xt = et::randn<double>(xs);
      const auto wt = et::randn<double>({5, xs[1], 3, 3});
      const et::Var<double> x(xt, true), w(wt, true);
      const et::Var<double> y = F::conv2d(x, w, {}, stride, 1);
      const auto g = et::randn<double>(y.shape());
      y.backward(g);
      const Naive r = naive_conv(xt, wt, g, stride, 1);
      ETNA_CHECK_CLOSE(y.value(), r.y, 1e-10, 1e-10);
      ETNA_CHECK_CLOSE(x.grad(), r.dx, 1e-10, 1e-10);
      ETNA_CHECK_CLOSE(w.grad(), r.dw, 1e-10, 1e-10);
    }
  et::set_num_threads(saved);
}

TEST_CASE(
    "conv functional: the direct kernel matches direct loops and im2col + GEMM, identically for "
    "any thread count",
    "[conv]") {
  et::manual_seed(11);
  struct Case {
    et::Shape x, w;
    std::int64_t pad;
  };
  // LeNet's two layers (1 -> 6 and 6 -> 16, 5x5), 7 output channels (a block of 4, then 3)
  // over 9 rows (row blocks plus a tail), and one output channel (single-channel blocks; dX
  // with 3 channels).
  for (const auto& c :
       {Case{{5, 1, 28, 28}, {6, 1, 5, 5}, 2}, Case{{4, 6, 14, 14}, {16, 6, 5, 5}, 0},
        Case{{3, 5, 9, 13}, {7, 5, 3, 3}, 1}, Case{{2, 3, 7, 7}, {1, 3, 3, 3}, 1},
        Case{{2, 2, 5, 40}, {2, 2, 3, 3}, 0}}) {
    INFO(c.x << " " << c.w << " padding " << c.pad);
    const auto xt = et::randn<double>(c.x);
    const auto wt = et::randn<double>(c.w);
    const auto bt = et::randn<double>({c.w[0]});
    auto once = [&](int mode, int threads) {
      const PathGuard path(mode);
      const int saved = et::get_num_threads();
      et::set_num_threads(threads);
      const et::Var<double> x(xt, true), w(wt, true), b(bt, true);
      const et::Var<double> y = F::conv2d(x, w, b, 1, c.pad);
      y.backward(et::ones<double>(y.shape()) * 0.5 + y.value());
      et::set_num_threads(saved);
      return std::vector<et::Tensor<double>>{y.value().clone(), x.grad().clone(), w.grad().clone(),
                                             b.grad().clone()};
    };
    const auto direct = once(1, 1), gemm = once(2, 1);
    const et::Tensor<double> g = et::ones<double>(direct[0].shape()) * 0.5 + direct[0];
    const et::Tensor<double> y_no_bias = direct[0] - bt.reshape({1, c.w[0], 1, 1});
    const Naive r = naive_conv(xt, wt, g, 1, c.pad);
    ETNA_CHECK_CLOSE(y_no_bias, r.y, 1e-10, 1e-10);
    ETNA_CHECK_CLOSE(direct[1], r.dx, 1e-10, 1e-10);
    ETNA_CHECK_CLOSE(direct[2], r.dw, 1e-10, 1e-10);
    for (std::size_t k = 0; k < direct.size(); ++k)
      ETNA_CHECK_CLOSE(direct[k], gemm[k], 1e-10, 1e-10);
    for (int threads : {2, 4}) {
      const auto t = once(1, threads);
      for (std::size_t k = 0; k < direct.size(); ++k) ETNA_CHECK_CLOSE(t[k], direct[k], 0.0, 0.0);
    }
    // float: the vector path of the other element type.
    const PathGuard path(1);
    const et::Var<float> xf(xt.to<float>(), true), wf(wt.to<float>(), true);
    const et::Var<float> yf = F::conv2d(xf, wf, {}, 1, c.pad);
    yf.backward(g.to<float>());
    ETNA_CHECK_CLOSE(yf.value(), y_no_bias.to<float>(), 1e-3, 1e-3);
    ETNA_CHECK_CLOSE(xf.grad(), r.dx.to<float>(), 1e-3, 1e-3);
    ETNA_CHECK_CLOSE(wf.grad(), r.dw.to<float>(), 1e-3, 1e-3);
  }
}
