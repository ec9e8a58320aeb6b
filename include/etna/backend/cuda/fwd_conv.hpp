// Declarations of the CUDA backend's convolution kernels (defined in backend/cuda/conv.hpp), so
// that nn/functional/conv.hpp dispatches to them without including CUDA. Same contract as the
// CPU kernels of backend/cpu/conv.hpp: contiguous NCHW / OIHW device buffers described by a
// ConvGeometry, nullptr for an operand that is absent or not needed.
#pragma once

#include <cstdint>

#include "etna/backend/cpu/conv_geometry.hpp"

namespace etna::cuda_backend {

// y [n, o, ho, wo] = conv(x [n, c, h, w], w [o, c / groups, kh, kw]) + bias [o].
template <class T>
void conv2d_forward(const etna::detail::ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y);

// Gradients from dy [n, o, ho, wo]: dx, dw and db (each overwritten, or skipped if nullptr).
template <class T>
void conv2d_backward(const etna::detail::ConvGeometry& g, const T* x, const T* dy, const T* w,
                     T* dx, T* dw, T* db);

// y [n, c, plane] += bias [c].
template <class T>
void add_channel_bias(T* y, const T* bias, std::int64_t n, std::int64_t c, std::int64_t plane);

}  // namespace etna::cuda_backend
