// nn::functional::conv_transpose2d: the adjoint of conv2d (torch.nn.functional.conv_transpose2d,
// same argument order). It runs on conv2d's kernels: its forward is the input gradient of the
// convolution that maps its output back onto its input, its input gradient that convolution's
// forward, and its weight gradient that convolution's weight gradient with the operands swapped.
#pragma once

#include <cstdint>

#include "etna/nn/functional/conv.hpp"

namespace etna::nn::functional {
namespace detail {

// The geometry of the convolution that conv_transpose2d inverts: input [n, c, h, w] is the
// transposed op's output, [n, o, ho, wo] its input.
inline ConvGeometry conv_transpose_geometry(const Shape& xs, const Shape& ws, const Shape* bs,
                                            Size2 stride, Size2 padding, Size2 output_padding,
                                            std::int64_t groups, Size2 dilation) {
  const char* op = "conv_transpose2d";
  check_common(op, 2, xs, ws, stride, padding, dilation, groups);
  const bool batched = xs.size() == 4;
  ConvGeometry g;
  g.n = batched ? xs[0] : 1;
  g.o = xs[batched ? 1 : 0];
  g.ho = xs[xs.size() - 2];
  g.wo = xs[xs.size() - 1];
  g.kh = ws[2], g.kw = ws[3];
  g.groups = groups;
  if (ws[0] % groups != 0)
    throw value_error(etna::detail::str(op, ": groups=", groups,
                                        " must divide the input channels, but the weight ", ws,
                                        " has ", ws[0]));
  if (ws[0] != g.o)
    throw shape_error(etna::detail::str(op, ": expected input", xs, " to have ", ws[0],
                                        " channels (weight ", ws, ", groups=", groups,
                                        "), but got ", g.o, " channels"));
  g.c = ws[1] * groups;
  check_bias(op, bs, g.c);
  if (output_padding.h < 0 || output_padding.w < 0)
    throw value_error(etna::detail::str(op, ": output_padding must be non-negative, got ",
                                        sizes(2, output_padding)));
  if ((output_padding.h >= stride.h && output_padding.h >= dilation.h) ||
      (output_padding.w >= stride.w && output_padding.w >= dilation.w))
    throw value_error(etna::detail::str(op, ": output_padding ", sizes(2, output_padding),
                                        " must be smaller than either stride ", sizes(2, stride),
                                        " or dilation ", sizes(2, dilation)));
  g.sh = stride.h, g.sw = stride.w, g.dh = dilation.h, g.dw = dilation.w;
  g.ph = padding.h, g.pw = padding.w;
  g.h = conv_transpose_output_size(g.ho, g.kh, g.sh, g.ph, output_padding.h, g.dh);
  g.w = conv_transpose_output_size(g.wo, g.kw, g.sw, g.pw, output_padding.w, g.dw);
  if (g.h <= 0 || g.w <= 0)
    throw shape_error(etna::detail::str(op, ": input", xs, " with kernel [", g.kh, ", ", g.kw,
                                        "], stride ", sizes(2, stride), ", padding ",
                                        sizes(2, padding), " and dilation ", sizes(2, dilation),
                                        " gives an empty output [", g.h, ", ", g.w, "]"));
  return g;
}

}  // namespace detail

// torch.nn.functional.conv_transpose2d: x [N, C_in, H, W] or [C_in, H, W]; weight [C_in,
// C_out / groups, kH, kW] (PyTorch's layout); bias [C_out] or none. Output size per dimension:
// (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.
template <class X, class W, class B = NoBias>
auto conv_transpose2d(const X& x, const W& weight, const B& bias = {}, Size2 stride = 1,
                      Size2 padding = 0, Size2 output_padding = 0, std::int64_t groups = 1,
                      Size2 dilation = 1) {
  return detail::with_conv_operands(x, weight, bias, [&](const auto& xv, const auto& wv, auto b) {
    const Shape bs = b ? b->shape() : Shape{};
    const auto g =
        detail::conv_transpose_geometry(xv.shape(), wv.shape(), b ? &bs : nullptr, stride, padding,
                                        output_padding, groups, dilation);
    Shape out;
    if (xv.dim() == 4) out.push_back(g.n);
    for (std::int64_t s : {g.c, g.h, g.w}) out.push_back(s);
    return detail::conv_apply(xv, wv, b, g, true, out);
  });
}

}  // namespace etna::nn::functional
