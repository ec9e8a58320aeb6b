// The argument types of convolution, pooling and resampling: sizes given as one number for
// both spatial dimensions or as {height, width}, "same"/"valid" padding, and the layers' option
// structs. All are structural types, so typed layers take them as template arguments:
// Conv2d<1, 6, 5, Conv2dOptions{.padding = 2}> as well as Conv2d<>(1, 6, 5, {.padding = 2}).
#pragma once

#include <cstdint>

namespace etna::nn {

// A (height, width) pair; Size2(3) is (3, 3), Size2(3, 1) is (3, 1), as PyTorch's int-or-tuple.
struct Size2 {
  std::int64_t h = 0, w = 0;
  constexpr Size2() = default;
  constexpr Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: int-or-tuple, as PyTorch
  constexpr Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  friend constexpr bool operator==(const Size2&, const Size2&) = default;
};

// Convolution padding: explicit sizes, or PyTorch's padding="same" (output size = input size at
// stride 1; extra padding goes to the bottom/right when the total is odd) and "valid" (none).
enum class PaddingKind { explicit_sizes, same, valid };

struct Padding2 {
  PaddingKind kind = PaddingKind::explicit_sizes;
  Size2 size{0, 0};
  constexpr Padding2() = default;
  constexpr Padding2(std::int64_t both) : size(both) {}  // NOLINT: as PyTorch's padding=2
  constexpr Padding2(std::int64_t height, std::int64_t width) : size(height, width) {}
  constexpr Padding2(Size2 s) : size(s) {}  // NOLINT
  constexpr explicit Padding2(PaddingKind k) : kind(k) {}
  // Member-wise, as nvcc's front end re-emits a template argument of this type ({kind, {h, w}}).
  constexpr Padding2(PaddingKind k, Size2 s) : kind(k), size(s) {}
  friend constexpr bool operator==(const Padding2&, const Padding2&) = default;
};

// The one-dimensional form (Conv1d).
struct Padding1 {
  PaddingKind kind = PaddingKind::explicit_sizes;
  std::int64_t size = 0;
  constexpr Padding1() = default;
  constexpr Padding1(std::int64_t s) : size(s) {}  // NOLINT
  constexpr explicit Padding1(PaddingKind k) : kind(k) {}
  constexpr Padding1(PaddingKind k, std::int64_t s) : kind(k), size(s) {}  // see Padding2
  friend constexpr bool operator==(const Padding1&, const Padding1&) = default;
};

// padding = et::nn::same / et::nn::valid, for both Padding2 and Padding1.
struct PaddingKeyword {
  PaddingKind kind;
  constexpr operator Padding2() const { return Padding2(kind); }  // NOLINT
  constexpr operator Padding1() const { return Padding1(kind); }  // NOLINT
};
inline constexpr PaddingKeyword same{PaddingKind::same};
inline constexpr PaddingKeyword valid{PaddingKind::valid};

// How a convolution layer pads (PyTorch's padding_mode): zeros, or by reflecting, replicating or
// wrapping the border (applied with et::pad before a convolution without padding).
enum class PaddingMode { zeros, reflect, replicate, circular };

// The keyword arguments of torch.nn.Conv2d after (in, out, kernel_size).
struct Conv2dOptions {
  Size2 stride = 1;
  Padding2 padding = 0;
  Size2 dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  PaddingMode padding_mode = PaddingMode::zeros;
  friend constexpr bool operator==(const Conv2dOptions&, const Conv2dOptions&) = default;
};

// torch.nn.Conv1d's.
struct Conv1dOptions {
  std::int64_t stride = 1;
  Padding1 padding = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  PaddingMode padding_mode = PaddingMode::zeros;
  friend constexpr bool operator==(const Conv1dOptions&, const Conv1dOptions&) = default;
};

// torch.nn.ConvTranspose2d's (zero padding only, as PyTorch).
struct ConvTranspose2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 output_padding = 0;
  std::int64_t groups = 1;
  bool bias = true;
  Size2 dilation = 1;
  friend constexpr bool operator==(const ConvTranspose2dOptions&,
                                   const ConvTranspose2dOptions&) = default;
};

// torch.nn.MaxPool2d's after kernel_size; a zero stride means "the kernel size" (PyTorch's
// stride=None).
struct MaxPool2dOptions {
  Size2 stride = 0;
  Size2 padding = 0;
  Size2 dilation = 1;
  bool ceil_mode = false;
  friend constexpr bool operator==(const MaxPool2dOptions&, const MaxPool2dOptions&) = default;
};

// torch.nn.AvgPool2d's after kernel_size; divisor_override 0 means none.
struct AvgPool2dOptions {
  Size2 stride = 0;
  Size2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::int64_t divisor_override = 0;
  friend constexpr bool operator==(const AvgPool2dOptions&, const AvgPool2dOptions&) = default;
};

// Output sizes along one dimension (PyTorch's formulas; a result below 1 means the input is too
// small, which the ops report as a shape_error). Constexpr: typed layers compute their output
// shapes at compile time with them.
//   convolution:  (in + pad_begin + pad_end - dilation (kernel - 1) - 1) / stride + 1
//   same padding: pad total dilation (kernel - 1), pad_begin = total / 2 (the rest at the end)
//   transposed:   (in - 1) stride - 2 pad + dilation (kernel - 1) + output_padding + 1
//   pooling:      as convolution with pad_begin = pad_end = pad, rounded up with ceil_mode, but
//                 the last window must start inside the input or its left padding.
constexpr std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                        std::int64_t pad_begin, std::int64_t pad_end,
                                        std::int64_t dilation) {
  const std::int64_t span = in + pad_begin + pad_end - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}
constexpr std::int64_t same_padding_begin(std::int64_t kernel, std::int64_t dilation) {
  return dilation * (kernel - 1) / 2;
}
constexpr std::int64_t same_padding_end(std::int64_t kernel, std::int64_t dilation) {
  return dilation * (kernel - 1) - same_padding_begin(kernel, dilation);
}
constexpr std::int64_t conv_transpose_output_size(std::int64_t in, std::int64_t kernel,
                                                  std::int64_t stride, std::int64_t pad,
                                                  std::int64_t output_padding,
                                                  std::int64_t dilation) {
  return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1;
}
constexpr std::int64_t pool_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                        std::int64_t pad, std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// A tag for "no bias" in the functional convolutions: F::conv2d(x, w, {}, 2) or
// F::conv2d(x, w, et::nn::no_bias).
struct NoBias {};
inline constexpr NoBias no_bias{};

}  // namespace etna::nn
