// utils::save_image: torchvision.utils.save_image for etna tensors: make_grid, then values in
// [0, 1] to bytes (x * 255 + 0.5, clamped to [0, 255], truncated) written as an 8-bit PNG.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/io/atomic_file.hpp"
#include "etna/log/png.hpp"
#include "etna/utils/make_grid.hpp"

namespace etna::utils {

// An 8-bit image: height rows of width * channels bytes, channels interleaved (HWC).
struct ImageBytes {
  std::int64_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> bytes;
};

// The bytes save_image writes: the grid with C = 1, 3 or 4 channels. The scaling and rounding
// run on the tensor's device; only the finished grid is copied to the host.
template <Scalar T, Device D>
ImageBytes image_bytes(const Tensor<T, D>& batch_or_image, const GridOptions& options = {}) {
  Tensor<T, D> grid = make_grid(batch_or_image, options);
  if (grid.dim() == 2) grid = grid.unsqueeze(0);
  const std::int64_t channels = grid.size(0);
  if (channels != 1 && channels != 3 && channels != 4)
    throw shape_error(
        etna::detail::str("save_image: a PNG holds 1, 3 or 4 channels, the image grid has ",
                          channels, " (shape ", grid.shape(), ")"));
  const Tensor<T, D> scaled = etna::clamp(grid * T(255) + T(0.5), 0.0, 255.0);
  const Tensor<T, cpu> host = scaled.permute({1, 2, 0}).contiguous().template to<cpu>();
  ImageBytes image{grid.size(1), grid.size(2), channels,
                   std::vector<std::uint8_t>(static_cast<std::size_t>(host.numel()))};
  const T* p = host.data();
  // NaN compares false with everything: it becomes 0 rather than an undefined cast.
  for (std::size_t i = 0; i < image.bytes.size(); ++i)
    image.bytes[i] = p[i] >= T(0) ? static_cast<std::uint8_t>(p[i]) : std::uint8_t{0};
  return image;
}

// Writes batch_or_image ([B, C, H, W], [C, H, W] or [H, W]; values expected in [0, 1], or any
// range with options.normalize) to `path` as a PNG: greyscale, RGB or RGBA by the channels.
template <Scalar T, Device D>
void save_image(const Tensor<T, D>& batch_or_image, const std::string& path,
                const GridOptions& options = {}) {
  const ImageBytes image = image_bytes(batch_or_image, options);
  const std::string png =
      logging::encode_png(image.bytes.data(), static_cast<int>(image.height),
                          static_cast<int>(image.width), static_cast<int>(image.channels));
  // Atomically, as etna's other files: a failed write leaves no half-written image behind.
  io::write_file_atomically(path, std::as_bytes(std::span(png.data(), png.size())));
}

}  // namespace etna::utils
