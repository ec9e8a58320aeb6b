// pad(): PyTorch's F.pad with modes constant, reflect, replicate and circular. Padding sizes
// come in (before, after) pairs from the last dimension backwards; negative sizes crop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "etna/backend/cpu/pad.hpp"
#include "etna/backend/cuda/fwd_shape_ops.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/macros.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna {
namespace detail {

enum class PadMode { constant, reflect, replicate, circular };

inline PadMode parse_pad_mode(std::string_view mode) {
  if (mode == "constant") return PadMode::constant;
  if (mode == "reflect") return PadMode::reflect;
  if (mode == "replicate") return PadMode::replicate;
  if (mode == "circular") return PadMode::circular;
  throw value_error(
      str("pad: unknown mode '", mode, "' (expected constant, reflect, replicate or circular)"));
}

// The input coordinate that output coordinate j reads along a dimension of `size` padded by
// (before, after), or -1 for the fill value. Negative sizes crop. reflect and replicate work in
// the frame of the uncropped input (v = j - before); circular, as PyTorch, wraps around what
// is left after cropping. Host and device: the CUDA kernel calls it per output element.
ETNA_HD inline std::int64_t pad_source(PadMode mode, std::int64_t j, std::int64_t before,
                                       std::int64_t after, std::int64_t size) {
  const std::int64_t v = j - before;
  if (v >= 0 && v < size) return v;
  switch (mode) {
    case PadMode::constant:
      return -1;
    case PadMode::reflect:
      return v < 0 ? -v : 2 * (size - 1) - v;
    case PadMode::replicate:
      return v < 0 ? 0 : size - 1;
    case PadMode::circular: {
      const std::int64_t crop_lo = std::max<std::int64_t>(0, -before);
      const std::int64_t kept = size - crop_lo - std::max<std::int64_t>(0, -after);
      const std::int64_t w = j - std::max<std::int64_t>(0, before);
      return crop_lo + ((w % kept) + kept) % kept;
    }
  }
  return -1;
}

}  // namespace detail

// Pads (or, with negative sizes, crops) the last pads.size() / 2 dimensions of t:
// pads = {last_before, last_after, second_last_before, ...}. Modes:
//   constant  - new elements are `value`;
//   reflect   - mirror without repeating the edge (pads must be < the dimension's size);
//   replicate - repeat the edge element;
//   circular  - wrap around what is left after cropping (pads must not exceed it).
// PyTorch restricts the non-constant modes to 2-d to 5-d inputs and a fixed number of padded
// dimensions; etna accepts any rank and agrees with PyTorch wherever PyTorch accepts the call.
template <Scalar T, Device D>
Tensor<T, D> pad(const Tensor<T, D>& t, const std::vector<std::int64_t>& pads,
                 std::string_view mode = "constant", double value = 0) {
  const detail::PadMode m = detail::parse_pad_mode(mode);
  if (pads.size() % 2 != 0)
    throw value_error(detail::str("pad: padding sizes come in (before, after) pairs, got ",
                                  pads.size(), " values"));
  const int n = t.dim();
  const int padded = static_cast<int>(pads.size() / 2);
  if (padded > n)
    throw shape_error(detail::str("pad: ", pads.size(), " padding sizes pad ", padded,
                                  " dimensions, but the input of shape ", t.shape(), " has ", n));
  if (m != detail::PadMode::constant && value != 0)
    throw value_error(detail::str("pad: mode '", mode, "' takes no fill value, got ", value));
  if (n == 0) return t.clone();

  Shape out_shape = t.shape();
  std::vector<std::int64_t> before(n, 0), after(n, 0);
  for (int i = 0; i < padded; ++i) {
    const int d = n - 1 - i;
    const std::int64_t lo = pads[2 * i], hi = pads[2 * i + 1], size = t.size(d);
    before[d] = lo;
    after[d] = hi;
    out_shape[d] = size + lo + hi;
    if (out_shape[d] < 0)
      throw shape_error(detail::str("pad: padding (", lo, ", ", hi, ") makes dimension ", d,
                                    " of the input of shape ", t.shape(), " negative (size ",
                                    out_shape[d], ")"));
    if (m == detail::PadMode::constant) continue;
    if (m == detail::PadMode::circular) {
      const std::int64_t kept =
          size - std::max<std::int64_t>(0, -lo) - std::max<std::int64_t>(0, -hi);
      if (lo > kept || hi > kept)
        throw shape_error(detail::str("pad: circular padding (", lo, ", ", hi,
                                      ") wraps around dimension ", d, " of size ", kept,
                                      kept != size ? " (after cropping)" : "",
                                      " more than once (input shape ", t.shape(), ")"));
      continue;
    }
    if (size == 0)
      throw shape_error(detail::str("pad: ", mode, " padding needs a non-empty dimension ", d,
                                    ", but the input has shape ", t.shape()));
    if (m == detail::PadMode::reflect && (lo >= size || hi >= size))
      throw shape_error(detail::str("pad: reflect padding (", lo, ", ", hi,
                                    ") must be less than the size ", size, " of dimension ", d,
                                    " of the input of shape ", t.shape()));
    if (out_shape[d] < 1)
      throw shape_error(detail::str("pad: padding (", lo, ", ", hi, ") leaves dimension ", d,
                                    " of the input of shape ", t.shape(), " with size 0; ", mode,
                                    " padding needs at least 1"));
  }

  auto out = empty<T, D>(out_shape);
  if (out.numel() == 0) return out;
  if constexpr (std::is_same_v<D, cpu>) {
    std::vector<std::vector<std::int64_t>> maps(n);
    for (int d = 0; d < n; ++d) {
      maps[d].resize(static_cast<std::size_t>(out_shape[d]));
      for (std::int64_t j = 0; j < out_shape[d]; ++j)
        maps[d][j] = detail::pad_source(m, j, before[d], after[d], t.size(d));
    }
    // The last dimension's unpadded middle: a run copied in one go.
    const std::int64_t L = out_shape[n - 1];
    const std::int64_t run_lo = std::clamp<std::int64_t>(before[n - 1], 0, L);
    const std::int64_t run_hi = std::clamp<std::int64_t>(before[n - 1] + t.size(n - 1), run_lo, L);
    const std::int64_t run_src = run_hi > run_lo ? run_lo - before[n - 1] : 0;
    cpu_backend::pad(t.data(), t.strides(), maps, run_lo, run_hi, run_src, out_shape, out.data(),
                     static_cast<T>(value));
  } else {  // the kernel computes each output's source itself (pad_source is host-device)
    cuda_backend::pad(t, out, static_cast<int>(m), before, after, static_cast<T>(value));
  }
  return out;
}
template <ExpressionNode E>
  requires TensorLike<E>
auto pad(const E& e, const std::vector<std::int64_t>& pads, std::string_view mode = "constant",
         double value = 0) {
  return pad(eval(e), pads, mode, value);
}

}  // namespace etna
