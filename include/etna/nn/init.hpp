// In-place parameter initialisers (PyTorch's torch.nn.init): uniform_, normal_, xavier_*,
// kaiming_*, trunc_normal_, orthogonal_, their gain and fan helpers, and layers' default inits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/random.hpp"
#include "etna/core/tensor.hpp"

namespace etna::nn::init {

// What an initialiser writes into: a floating-point Tensor, or a Var (its value is written in
// place; nothing is recorded for autograd, as under PyTorch's torch.no_grad()), on the CPU or a
// GPU. GPU parameters receive the numbers the CPU would draw from the same generator state.
template <class X>
concept InitTarget =
    (std::is_same_v<X, Tensor<typename X::value_type, typename X::device_type>> ||
     std::is_same_v<X, Var<typename X::value_type,
                           typename X::device_type>>)&&FloatingScalar<typename X::value_type>;

// Which fan kaiming_* scales by: fan_in keeps the forward pass's variance, fan_out the backward's.
enum class FanMode { fan_in, fan_out };

struct Fans {
  std::int64_t fan_in;
  std::int64_t fan_out;
};

namespace detail {

template <class T, class D>
const Tensor<T, D>& target(const Tensor<T, D>& t) {
  return t;
}
template <class T, class D>
const Tensor<T, D>& target(const Var<T, D>& v) {
  return v.value();
}

// Writes value_at(stream, i) at the i-th element (row-major) of t; the values do not depend on
// t's strides, so a view and a contiguous tensor of the same shape receive the same numbers.
// A GPU tensor is drawn on the host from the same stream and copied once: parameters are
// initialised once, and the same seed then gives the same weights on every device.
template <class T, class D, class F>
void fill_random(const Tensor<T, D>& t, std::uint64_t blocks, Generator& gen, F value_at) {
  if constexpr (!std::is_same_v<D, cpu>) {
    t.assign(etna::detail::random_fill<T>(t.shape(), blocks, gen, value_at).template to<D>());
    return;
  } else {
    if (!t.is_contiguous()) {
      t.assign(etna::detail::random_fill<T>(t.shape(), blocks, gen, value_at));
      return;
    }
    const RandomStream stream = gen.reserve(blocks);
    T* p = t.data();
    cpu_backend::parallel_for(0, t.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) p[i] = value_at(stream, static_cast<std::uint64_t>(i));
    });
  }
}

inline double norm_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

// Inverse error function on [-1, 1]: Giles' single-precision approximation ("Approximating the
// erfinv function", 2010) refined by Newton steps on erf until they stop moving x.
inline double erfinv(double y) {
  if (y <= -1.0) return -std::numeric_limits<double>::infinity();
  if (y >= 1.0) return std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
    x = p * y;
  }
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int step = 0; step < 6; ++step) {  // two steps suffice except deep in the tails
    const double dx = (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
    x -= dx;
    if (std::fabs(dx) <= 1e-16 * std::fabs(x)) break;
  }
  return x;
}

// The Q factor of a (rows x cols, row-major, double) made unique as PyTorch's orthogonal_ makes
// it: Q of the reduced QR with R's diagonal made non-negative (Q's columns times sign(R_kk)).
// A wide matrix is factored transposed, so the result always has orthonormal rows or columns.
inline std::vector<double> orthogonal_factor(const std::vector<double>& a, std::int64_t rows,
                                             std::int64_t cols) {
  const bool wide = rows < cols;
  const std::int64_t m = wide ? cols : rows, n = wide ? rows : cols;  // m >= n
  std::vector<double> A(static_cast<std::size_t>(m * n));             // m x n, row-major
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      A[wide ? j * n + i : i * n + j] = a[static_cast<std::size_t>(i * cols + j)];
  // Householder: H_k = I - 2 v_k v_k^T zeroes column k below the diagonal.
  std::vector<std::vector<double>> vs(static_cast<std::size_t>(n));
  std::vector<double> r_diag(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    double norm = 0;
    for (std::int64_t i = k; i < m; ++i) norm += A[i * n + k] * A[i * n + k];
    norm = std::sqrt(norm);
    auto& v = vs[static_cast<std::size_t>(k)];
    v.assign(static_cast<std::size_t>(m - k), 0.0);
    if (norm == 0) {
      r_diag[static_cast<std::size_t>(k)] = 0;
      continue;
    }
    const double alpha = A[k * n + k] > 0 ? -norm : norm;  // avoids cancellation in v_0
    for (std::int64_t i = k; i < m; ++i) v[static_cast<std::size_t>(i - k)] = A[i * n + k];
    v[0] -= alpha;
    double vnorm = 0;
    for (double x : v) vnorm += x * x;
    vnorm = std::sqrt(vnorm);
    for (double& x : v) x /= vnorm;
    for (std::int64_t j = k; j < n; ++j) {
      double dot = 0;
      for (std::int64_t i = k; i < m; ++i) dot += v[static_cast<std::size_t>(i - k)] * A[i * n + j];
      for (std::int64_t i = k; i < m; ++i)
        A[i * n + j] -= 2 * dot * v[static_cast<std::size_t>(i - k)];
    }
    r_diag[static_cast<std::size_t>(k)] = alpha;
  }
  // Q = H_0 ... H_{n-1} applied to the first n columns of the identity.
  std::vector<double> Q(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i) Q[i * n + i] = 1;
  for (std::int64_t k = n - 1; k >= 0; --k) {
    const auto& v = vs[static_cast<std::size_t>(k)];
    for (std::int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (std::int64_t i = k; i < m; ++i) dot += v[static_cast<std::size_t>(i - k)] * Q[i * n + j];
      for (std::int64_t i = k; i < m; ++i)
        Q[i * n + j] -= 2 * dot * v[static_cast<std::size_t>(i - k)];
    }
  }
  // Sign correction (a zero diagonal, of probability zero for a normal draw, keeps its column).
  for (std::int64_t j = 0; j < n; ++j)
    if (r_diag[static_cast<std::size_t>(j)] < 0)
      for (std::int64_t i = 0; i < m; ++i) Q[i * n + j] = -Q[i * n + j];
  std::vector<double> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      out[static_cast<std::size_t>(i * cols + j)] = Q[wide ? j * n + i : i * n + j];
  return out;
}

}  // namespace detail

// ---- gains and fans -------------------------------------------------------------------------

// The recommended gain for a nonlinearity (PyTorch's calculate_gain); `param` is leaky_relu's
// negative slope (default 0.01).
inline double calculate_gain(std::string_view nonlinearity,
                             std::optional<double> param = std::nullopt) {
  for (std::string_view linear : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"})
    if (nonlinearity == linear) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  throw value_error(etna::detail::str(
      "calculate_gain: unsupported nonlinearity '", nonlinearity,
      "' (expected linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, "
      "conv_transpose3d, sigmoid, tanh, relu, leaky_relu or selu)"));
}

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, where the receptive
// field is the product of the dimensions after the first two (1 for a matrix).
inline Fans fan_in_and_fan_out(const Shape& shape) {
  if (shape.size() < 2)
    throw value_error(etna::detail::str(
        "fan_in_and_fan_out: fan in and fan out can not be computed for a tensor with fewer than "
        "2 dimensions (shape ",
        shape, ")"));
  std::int64_t receptive = 1;
  for (int d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

inline std::int64_t fan(const Shape& shape, FanMode mode) {
  const Fans f = fan_in_and_fan_out(shape);
  return mode == FanMode::fan_in ? f.fan_in : f.fan_out;
}

// The exact std (normal) and bound (uniform, on [-bound, bound]) each scaled initialiser uses.
inline double xavier_normal_std(const Shape& shape, double gain = 1.0) {
  const Fans f = fan_in_and_fan_out(shape);
  return gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out));
}
inline double xavier_uniform_bound(const Shape& shape, double gain = 1.0) {
  return std::sqrt(3.0) * xavier_normal_std(shape, gain);
}
inline double kaiming_normal_std(const Shape& shape, double a = 0, FanMode mode = FanMode::fan_in,
                                 std::string_view nonlinearity = "leaky_relu") {
  const double gain = calculate_gain(nonlinearity, a);
  return gain / std::sqrt(static_cast<double>(fan(shape, mode)));
}
inline double kaiming_uniform_bound(const Shape& shape, double a = 0,
                                    FanMode mode = FanMode::fan_in,
                                    std::string_view nonlinearity = "leaky_relu") {
  return std::sqrt(3.0) * kaiming_normal_std(shape, a, mode, nonlinearity);
}
// The bias bound of PyTorch's Linear and ConvNd: 1 / sqrt(fan_in) of the weight (0 if fan_in = 0).
inline double bias_bound(const Shape& weight_shape) {
  const std::int64_t f = fan_in_and_fan_out(weight_shape).fan_in;
  return f > 0 ? 1.0 / std::sqrt(static_cast<double>(f)) : 0.0;
}

// ---- basic fills ----------------------------------------------------------------------------

// Uniform on [a, b).
template <InitTarget X>
const X& uniform_(const X& x, double a = 0, double b = 1, Generator& gen = default_generator()) {
  using T = typename X::value_type;
  if (!(a <= b))
    throw value_error(etna::detail::str("uniform_: a must not exceed b, got a = ", a, ", b = ", b));
  const auto& t = detail::target(x);
  detail::fill_random(t, random_detail::blocks_for<T>(t.numel()), gen,
                      [=](RandomStream s, std::uint64_t i) {
                        return static_cast<T>(a + (b - a) * random_detail::uniform_at<T>(s, i));
                      });
  return x;
}

template <InitTarget X>
const X& normal_(const X& x, double mean = 0, double std = 1,
                 Generator& gen = default_generator()) {
  using T = typename X::value_type;
  if (!(std >= 0))
    throw value_error(etna::detail::str("normal_: std must be non-negative, got ", std));
  const auto& t = detail::target(x);
  detail::fill_random(t, random_detail::blocks_for<T>(t.numel()), gen,
                      [=](RandomStream s, std::uint64_t i) {
                        return static_cast<T>(mean + std * random_detail::normal_at<T>(s, i));
                      });
  return x;
}

template <InitTarget X>
const X& constant_(const X& x, double value) {
  detail::target(x).fill(static_cast<typename X::value_type>(value));
  return x;
}
template <InitTarget X>
const X& zeros_(const X& x) {
  return constant_(x, 0.0);
}
template <InitTarget X>
const X& ones_(const X& x) {
  return constant_(x, 1.0);
}

// The identity matrix (ones on the main diagonal of a rectangular matrix too).
template <InitTarget X>
const X& eye_(const X& x) {
  const auto& t = detail::target(x);
  if (t.dim() != 2)
    throw value_error(
        etna::detail::str("eye_: only 2-D tensors are supported, got shape ", t.shape()));
  using T = typename X::value_type;
  if constexpr (!std::is_same_v<typename X::device_type, cpu>) {
    const auto host = zeros<T>(t.shape());
    for (std::int64_t i = 0; i < std::min(t.size(0), t.size(1)); ++i) host(i, i) = 1;
    t.assign(host.template to<typename X::device_type>());
  } else {
    t.fill(0);
    for (std::int64_t i = 0; i < std::min(t.size(0), t.size(1)); ++i) t(i, i) = 1;
  }
  return x;
}

// ---- scaled initialisers --------------------------------------------------------------------

// Glorot: uniform on [-gain sqrt(6 / (fan_in + fan_out)), +...].
template <InitTarget X>
const X& xavier_uniform_(const X& x, double gain = 1.0, Generator& gen = default_generator()) {
  const double bound = xavier_uniform_bound(detail::target(x).shape(), gain);
  return uniform_(x, -bound, bound, gen);
}
// Glorot: normal with std gain sqrt(2 / (fan_in + fan_out)).
template <InitTarget X>
const X& xavier_normal_(const X& x, double gain = 1.0, Generator& gen = default_generator()) {
  return normal_(x, 0.0, xavier_normal_std(detail::target(x).shape(), gain), gen);
}

// He: uniform on [-bound, bound], bound = gain(nonlinearity, a) sqrt(3 / fan). A tensor with no
// elements is left as it is (PyTorch warns and does the same).
template <InitTarget X>
const X& kaiming_uniform_(const X& x, double a = 0, FanMode mode = FanMode::fan_in,
                          std::string_view nonlinearity = "leaky_relu",
                          Generator& gen = default_generator()) {
  const auto& t = detail::target(x);
  if (t.numel() == 0) return x;
  const double bound = kaiming_uniform_bound(t.shape(), a, mode, nonlinearity);
  return uniform_(x, -bound, bound, gen);
}
// He: normal with std gain(nonlinearity, a) / sqrt(fan).
template <InitTarget X>
const X& kaiming_normal_(const X& x, double a = 0, FanMode mode = FanMode::fan_in,
                         std::string_view nonlinearity = "leaky_relu",
                         Generator& gen = default_generator()) {
  const auto& t = detail::target(x);
  if (t.numel() == 0) return x;
  return normal_(x, 0.0, kaiming_normal_std(t.shape(), a, mode, nonlinearity), gen);
}

// Normal(mean, std) truncated to [a, b], by PyTorch's inverse-CDF method: u uniform on
// [2 Phi(alpha) - 1, 2 Phi(beta) - 1], x = mean + std sqrt(2) erfinv(u), clamped to [a, b].
template <InitTarget X>
const X& trunc_normal_(const X& x, double mean = 0, double std = 1, double a = -2, double b = 2,
                       Generator& gen = default_generator()) {
  using T = typename X::value_type;
  if (!(std >= 0))
    throw value_error(etna::detail::str("trunc_normal_: std must be non-negative, got ", std));
  if (!(a < b))
    throw value_error(
        etna::detail::str("trunc_normal_: a must be less than b, got a = ", a, ", b = ", b));
  const double lo = 2 * detail::norm_cdf((a - mean) / std) - 1;
  const double hi = 2 * detail::norm_cdf((b - mean) / std) - 1;
  const auto& t = detail::target(x);
  detail::fill_random(t, random_detail::blocks_for<T>(t.numel()), gen,
                      [=](RandomStream s, std::uint64_t i) {
                        const double u = lo + (hi - lo) * random_detail::uniform_at<T>(s, i);
                        const double v = mean + std * std::sqrt(2.0) * detail::erfinv(u);
                        return static_cast<T>(std::min(std::max(v, a), b));
                      });
  return x;
}

// A (semi-)orthogonal matrix times gain: the Q factor of a standard normal rows x cols draw
// (rows = size(0), cols = the product of the other dimensions), sign-corrected as PyTorch does.
template <InitTarget X>
const X& orthogonal_(const X& x, double gain = 1.0, Generator& gen = default_generator()) {
  using T = typename X::value_type;
  const auto& t = detail::target(x);
  if (t.dim() < 2)
    throw value_error(etna::detail::str(
        "orthogonal_: only tensors with 2 or more dimensions are supported, got shape ",
        t.shape()));
  if (t.numel() == 0) return x;
  const std::int64_t rows = t.size(0), cols = t.numel() / rows;
  const auto draw = randn<T>({rows, cols}, gen);
  std::vector<double> a(draw.data(), draw.data() + draw.numel());
  const std::vector<double> q = detail::orthogonal_factor(a, rows, cols);
  auto out = empty<T>(t.shape());
  for (std::int64_t i = 0; i < out.numel(); ++i)
    out.data()[i] = static_cast<T>(gain * q[static_cast<std::size_t>(i)]);
  t.assign(out.template to<typename X::device_type>());  // the QR runs on the host
  return x;
}

// ---- layers' default initialisation (PyTorch's reset_parameters) ---------------------------

// Linear and ConvNd: weight [out, in, ...] kaiming_uniform_ with a = sqrt(5) (uniform on
// [-1/sqrt(fan_in), 1/sqrt(fan_in)]), then bias uniform on the same bound. Weight is drawn first.
template <InitTarget X>
void reset_linear_(const X& weight, Generator& gen = default_generator()) {
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::fan_in, "leaky_relu", gen);
}
template <InitTarget X, InitTarget Y>
void reset_linear_(const X& weight, const Y& bias, Generator& gen = default_generator()) {
  reset_linear_(weight, gen);
  const double bound = bias_bound(detail::target(weight).shape());
  uniform_(bias, -bound, bound, gen);
}

// Embedding: standard normal.
template <InitTarget X>
void reset_embedding_(const X& weight, Generator& gen = default_generator()) {
  normal_(weight, 0.0, 1.0, gen);
}

}  // namespace etna::nn::init
