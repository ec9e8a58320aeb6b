// nn::Linear: y = x W^T + b with PyTorch's parameter names, layout [out, in] and default
// initialisation. Linear<784, 256> has compile-time sizes, Linear<> runtime ones; same code.
#pragma once

#include <cstdint>
#include <string>

#include "etna/core/error.hpp"
#include "etna/nn/functional/linear.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/static_shape.hpp"
#include "etna/sparse/compressed_weight.hpp"

namespace etna::nn {

template <std::int64_t In = 0, std::int64_t Out = 0, FloatingScalar T = float, Device D = cpu>
class Linear : public Module<Linear<In, Out, T, D>> {
  static_assert((In == 0) == (Out == 0),
                "et::nn::Linear<In, Out>: give both sizes (typed layer) or neither (Linear<> with "
                "sizes given to the constructor)");
  static_assert(In >= 0 && Out >= 0, "et::nn::Linear<In, Out>: sizes must be positive");

 public:
  static constexpr std::int64_t static_in_features = In;
  static constexpr std::int64_t static_out_features = Out;

  // Acts on the last dimension: a known sample shape [..., In] becomes [..., Out].
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (In == 0 || !S.known()) {
      return kUnknownShape;
    } else {
      if constexpr (S.rank == 0) {
        static_assert(input_rank_must_match<Linear, 1, S.rank>::value);
        return kUnknownShape;
      } else {
        if constexpr (S[S.rank - 1] > 0)
          static_assert(input_features_must_match<Linear, In, S[S.rank - 1]>::value);
        SampleShape out = S;
        out.dims[static_cast<std::size_t>(S.rank - 1)] = Out;
        return out;
      }
    }
  }

  Var<T, D> weight;  // [out_features, in_features]
  Var<T, D> bias;    // [out_features]; undefined without bias

  // Typed layer: Linear<784, 256> fc;  (PyTorch's default initialisation)
  Linear()
    requires(In > 0)
      : Linear(In, Out) {}
  // Linear<> fc(784, 256); with_bias = false drops the bias (PyTorch's bias=False).
  Linear(std::int64_t in_features, std::int64_t out_features, bool with_bias = true) {
    if (in_features < 0 || out_features < 0)
      throw value_error(detail::str("Linear: sizes must be non-negative, got in_features=",
                                    in_features, ", out_features=", out_features));
    if (In > 0 && (in_features != In || out_features != Out))
      throw value_error(detail::str("Linear<", In, ", ", Out, ">: constructed with sizes ",
                                    in_features, " and ", out_features));
    weight = Var<T, D>(empty<T, D>({out_features, in_features}), true);
    if (with_bias) {
      bias = Var<T, D>(empty<T, D>({out_features}), true);
      init::reset_linear_(weight, bias);
    } else {
      init::reset_linear_(weight);
    }
  }

  // The same layer on device D2 (net.to<D2>() builds it with the constructor below).
  template <class D2>
  using on_device = Linear<In, Out, T, D2>;
  template <Device D1>
  Linear(const Linear<In, Out, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)), bias(copy.var(other.bias)) {}

  std::int64_t in_features() const { return weight.size(1); }
  std::int64_t out_features() const { return weight.size(0); }

  // x: [..., in_features] (a Var, a Var expression or a Tensor); returns a Var [..., out].
  // With no gradient recorded (NoGradGuard, InferenceModeGuard) and a weight compressed by
  // prune::compress, a sparse enough weight runs the CSR kernel instead of the dense GEMM.
  template <class X>
  auto forward(const X& x) {
    if (!is_grad_enabled() && weight.defined() && weight.impl_ptr()->inference_cache) {
      const auto xv = as_var(x);  // evaluated once, whichever path runs
      if (auto y = sparse::compressed_linear(xv.value(), weight, bias)) return Var<T, D>(*y);
      if (bias.defined()) return functional::linear(xv, weight, bias);
      return functional::linear(xv, weight);
    }
    if (bias.defined()) return functional::linear(x, weight, bias);
    return functional::linear(x, weight);
  }

  std::string extra_repr() const {
    return detail::str("in_features=", in_features(), ", out_features=", out_features(),
                       ", bias=", bias.defined() ? "True" : "False");
  }

  ETNA_MODULE(weight, bias)
};

}  // namespace etna::nn
