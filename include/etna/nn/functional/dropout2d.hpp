// nn::functional::dropout1d/2d/3d on Vars: channel-wise (feature) dropout, one keep/drop draw per
// (sample, channel) from etna's generator broadcast over the spatial dimensions in one fused pass.
#pragma once

#include "etna/core/shape.hpp"
#include "etna/nn/functional/dropout.hpp"

namespace etna::nn::functional {
namespace detail {

// Channel-wise (feature) dropout shared by dropout1d/2d/3d: x is [N, C, *spatial] or unbatched
// [C, *spatial] with `spatial` trailing dimensions. One keep/drop draw per (n, c) gives a mask
// of shape [N, C, 1, ...] (or [C, 1, ...]) that the fused multiply broadcasts over the spatial
// dimensions; the gradient is that same broadcast mask.
template <VarLike X>
auto channel_dropout(const char* op, const char* layouts, int spatial, const X& input, double p,
                     bool training, Generator& gen) {
  check_probability(op, p);
  auto x = as_var(input);
  using T = typename decltype(x)::value_type;
  using D = typename decltype(x)::device_type;
  if (x.dim() != spatial + 1 && x.dim() != spatial + 2)
    throw shape_error(
        etna::detail::str(op, ": expected ", layouts, " input, got shape ", x.shape()));
  if (!training || p == 0.0) return x;
  if (p == 1.0) return decltype(x)(x * T(0));  // as dropout: zeros, still in the graph
  Shape mask_shape = x.shape();
  for (int d = x.dim() - spatial; d < x.dim(); ++d) mask_shape[d] = 1;
  const Tensor<T, D> mask =
      keep_mask<T, D>(mask_shape, p, static_cast<T>(1.0 / (1.0 - p)), T(0), gen);
  return decltype(x)(x * mask);
}

}  // namespace detail

// Channel dropout (torch.nn.functional.dropout1d): x [N, C, L] or unbatched [C, L]; each channel
// is zeroed whole with probability p and the kept ones scaled by 1 / (1 - p).
template <VarLike X>
auto dropout1d(const X& input, double p = 0.5, bool training = true,
               Generator& gen = default_generator()) {
  return detail::channel_dropout("dropout1d", "a 2-d [C, L] or 3-d [N, C, L]", 1, input, p,
                                 training, gen);
}

// Channel dropout (torch.nn.functional.dropout2d): x [N, C, H, W] or unbatched [C, H, W]. PyTorch
// warns on a 3-d input and, for historical reasons, treats it as [N, C, L] (dropout1d); etna
// treats a 3-d input as the unbatched [C, H, W] that nn.Dropout2d documents.
template <VarLike X>
auto dropout2d(const X& input, double p = 0.5, bool training = true,
               Generator& gen = default_generator()) {
  return detail::channel_dropout("dropout2d", "a 3-d [C, H, W] or 4-d [N, C, H, W]", 2, input, p,
                                 training, gen);
}

// Channel dropout (torch.nn.functional.dropout3d): x [N, C, D, H, W] or unbatched [C, D, H, W].
template <VarLike X>
auto dropout3d(const X& input, double p = 0.5, bool training = true,
               Generator& gen = default_generator()) {
  return detail::channel_dropout("dropout3d", "a 4-d [C, D, H, W] or 5-d [N, C, D, H, W]", 3, input,
                                 p, training, gen);
}

}  // namespace etna::nn::functional
