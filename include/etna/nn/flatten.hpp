// nn::Flatten, nn::Unflatten and nn::Identity: the stateless shape layers. Flatten(start_dim=1,
// end_dim=-1) joins dimensions as torch.nn.Flatten (a view, no copy); Unflatten(dim, sizes)
// splits one as torch.nn.Unflatten (a generator's [N, 6272] -> [N, 128, 7, 7]); Identity returns
// its input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/static_shape.hpp"

namespace etna::nn {

// Flattens dimensions start_dim..end_dim into one; the default keeps the batch dimension, so
// [N, C, H, W] becomes [N, C*H*W]. The output size is not known at compile time.
struct Flatten : Module<Flatten> {
  std::int64_t start_dim = 1, end_dim = -1;
  Flatten() = default;
  // A known sample shape [C, H, W] becomes [C*H*W]. This assumes the default dimensions (a
  // Flatten built with others is checked at run time by the layers after it).
  template <SampleShape S>
  static constexpr SampleShape static_output_shape() {
    if constexpr (!S.known()) return kUnknownShape;
    else return sample_shape(S.complete() ? S.numel() : 0);
  }
  explicit Flatten(std::int64_t start, std::int64_t end = -1) : start_dim(start), end_dim(end) {}

  // A Var (or Var expression) gives a Var whose gradient is reshaped back; a tensor, a tensor.
  template <class X>
  auto forward(const X& x) const {
    if constexpr (VarLike<X>)
      return as_var(x).flatten(start_dim, end_dim);
    else
      return etna::eval(x).flatten(start_dim, end_dim);
  }
  std::string extra_repr() const {
    return etna::detail::str("start_dim=", start_dim, ", end_dim=", end_dim);
  }
  ETNA_MODULE()
};

// Splits dimension `dim` into `sizes` (their product must equal that dimension; one size may be
// -1, inferred), as torch.nn.Unflatten: Unflatten(1, {128, 7, 7}) turns [N, 6272] into
// [N, 128, 7, 7]. The output size is not known at compile time.
struct Unflatten : Module<Unflatten> {
  std::int64_t dim = 1;
  std::vector<std::int64_t> sizes;
  Unflatten() = default;
  Unflatten(std::int64_t d, std::vector<std::int64_t> unflattened_size)
      : dim(d), sizes(std::move(unflattened_size)) {}

  template <class X>
  auto forward(const X& x) const {
    if constexpr (VarLike<X>) {
      const auto v = as_var(x);
      return v.reshape(output_shape(v.shape()));
    } else {
      const auto t = etna::eval(x);
      return t.reshape(output_shape(t.shape()));
    }
  }
  Shape output_shape(const Shape& in) const {
    const int d = normalize_dim(dim, in.size(), "Unflatten");
    if (sizes.empty()) throw value_error("Unflatten: unflattened_size must not be empty");
    Shape out;
    for (int i = 0; i < d; ++i) out.push_back(in[i]);
    for (auto s : sizes) out.push_back(s);
    for (int i = d + 1; i < in.size(); ++i) out.push_back(in[i]);
    // reshape checks the product (and resolves one -1); this names the layer in the message.
    std::int64_t known = 1;
    bool infer = false;
    for (auto s : sizes) {
      if (s == -1) infer = true;
      else known *= s;
    }
    if ((!infer && known != in[d]) || (infer && (known == 0 || in[d] % known != 0)))
      throw shape_error(etna::detail::str("Unflatten: cannot split dimension ", d, " of size ",
                                          in[d], " (input ", in, ") into ", extra_repr()));
    return out;
  }
  std::string extra_repr() const {
    std::string s = "dim=" + std::to_string(dim) + ", unflattened_size=(";
    for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
    return s + (sizes.size() == 1 ? ",)" : ")");
  }
  ETNA_MODULE()
};

// A placeholder layer (PyTorch's nn.Identity): forward returns its input unchanged, lazy
// expressions included.
struct Identity : Module<Identity> {
  static constexpr std::int64_t static_out_features = kSameFeatures;
  template <class X>
  X forward(const X& x) const {
    return x;
  }
  ETNA_MODULE()
};

}  // namespace etna::nn
