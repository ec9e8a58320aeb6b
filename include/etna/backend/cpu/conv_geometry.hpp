// The shape of one 2-d convolution, shared by the CPU and CUDA kernels. Every convolution op is
// expressed through it: conv1d is conv2d with H = 1, and conv_transpose2d is the input gradient
// of the convolution that maps its output back onto its input (so its geometry describes that
// convolution: c/h/w are the transposed op's output, o/ho/wo its input).
#pragma once

#include <cstdint>

#include "etna/core/macros.hpp"

namespace etna::detail {

// Input [n, c, h, w], weight [o, c / groups, kh, kw], output [n, o, ho, wo]; ph / pw are the
// top / left padding (the bottom / right padding is implied by ho / wo). Trivially copyable, so
// device kernels take it by value.
struct ConvGeometry {
  std::int64_t n = 0, c = 0, h = 0, w = 0, o = 0, kh = 0, kw = 0;
  std::int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1, ho = 0, wo = 0;

  ETNA_HD std::int64_t cg() const { return c / groups; }      // input channels per group
  ETNA_HD std::int64_t og() const { return o / groups; }      // output channels per group
  ETNA_HD std::int64_t kg() const { return cg() * kh * kw; }  // column rows per group
  ETNA_HD std::int64_t in_plane() const { return h * w; }
  ETNA_HD std::int64_t out_plane() const { return ho * wo; }
  // A 1x1, stride-1, unpadded convolution: the input image is already the column matrix.
  ETNA_HD bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && ho == h && wo == w;
  }
  // Depthwise: one input channel per group (optionally several outputs per channel).
  ETNA_HD bool depthwise() const { return groups == c && groups > 1; }
};

// The output positions ox in [lo, hi) whose input column ox * stride + off lies inside [0, in).
struct ValidRange {
  std::int64_t lo, hi;
};
ETNA_HD inline ValidRange valid_range(std::int64_t off, std::int64_t stride, std::int64_t in,
                                      std::int64_t out) {
  std::int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  std::int64_t hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / stride + 1;
  if (hi > out) hi = out;
  if (lo > hi) lo = hi;
  return {lo, hi};
}

}  // namespace etna::detail
