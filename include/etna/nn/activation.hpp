// Activation layers (ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax,
// LogSoftmax): stateless modules over the etna:: functions, printed as PyTorch prints them.
#pragma once

#include <cstdint>
#include <string>

#include "etna/autograd/ops/softmax.hpp"
#include "etna/expr/operators.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"

namespace etna::nn {

// Element-wise activations return lazy expressions: the next layer (or the end of a
// Sequential) evaluates them, fused with whatever else is element-wise there.
#define ETNA_ELEMENTWISE_ACTIVATION(Name, call)                   \
  struct Name : Module<Name> {                                    \
    static constexpr std::int64_t static_out_features = kSameFeatures; \
    template <class X>                                            \
    auto forward(const X& x) const {                              \
      return call;                                                \
    }                                                             \
    ETNA_MODULE()                                                 \
  };

ETNA_ELEMENTWISE_ACTIVATION(ReLU, etna::relu(x))
ETNA_ELEMENTWISE_ACTIVATION(SiLU, etna::silu(x))
ETNA_ELEMENTWISE_ACTIVATION(Sigmoid, etna::sigmoid(x))
ETNA_ELEMENTWISE_ACTIVATION(Tanh, etna::tanh(x))
#undef ETNA_ELEMENTWISE_ACTIVATION

struct LeakyReLU : Module<LeakyReLU> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  double negative_slope = 0.01;
  LeakyReLU() = default;
  explicit LeakyReLU(double slope) : negative_slope(slope) {}
  template <class X>
  auto forward(const X& x) const {
    return etna::leaky_relu(x, negative_slope);
  }
  std::string extra_repr() const { return "negative_slope=" + detail::python_float(negative_slope); }
  ETNA_MODULE()
};

struct ELU : Module<ELU> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  double alpha = 1.0;
  ELU() = default;
  explicit ELU(double a) : alpha(a) {}
  template <class X>
  auto forward(const X& x) const {
    return etna::elu(x, alpha);
  }
  std::string extra_repr() const { return "alpha=" + detail::python_float(alpha); }
  ETNA_MODULE()
};

// approximate: "none" (exact, erf) or "tanh", as PyTorch.
struct GELU : Module<GELU> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  std::string approximate = "none";
  GELU() = default;
  explicit GELU(std::string approx) : approximate(std::move(approx)) {
    if (approximate != "none" && approximate != "tanh")
      throw value_error(detail::str("GELU: approximate must be \"none\" or \"tanh\", got \"",
                                    approximate, "\""));
  }
  template <class X>
  auto forward(const X& x) const {
    return etna::gelu(x, approximate);
  }
  std::string extra_repr() const { return "approximate='" + approximate + "'"; }
  ETNA_MODULE()
};

struct Softplus : Module<Softplus> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  double beta = 1.0, threshold = 20.0;
  Softplus() = default;
  explicit Softplus(double b, double t = 20.0) : beta(b), threshold(t) {}
  template <class X>
  auto forward(const X& x) const {
    return etna::softplus(x, beta, threshold);
  }
  std::string extra_repr() const { return detail::str("beta=", beta, ", threshold=", threshold); }
  ETNA_MODULE()
};

// Softmax over `dim` (default: the last dimension, the class dimension of a [N, C] batch).
struct Softmax : Module<Softmax> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  std::int64_t dim = -1;
  Softmax() = default;
  explicit Softmax(std::int64_t d) : dim(d) {}
  template <class X>
  auto forward(const X& x) const {
    return etna::softmax(x, dim);
  }
  std::string extra_repr() const { return detail::str("dim=", dim); }
  ETNA_MODULE()
};

struct LogSoftmax : Module<LogSoftmax> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  std::int64_t dim = -1;
  LogSoftmax() = default;
  explicit LogSoftmax(std::int64_t d) : dim(d) {}
  template <class X>
  auto forward(const X& x) const {
    return etna::log_softmax(x, dim);
  }
  std::string extra_repr() const { return detail::str("dim=", dim); }
  ETNA_MODULE()
};

}  // namespace etna::nn
