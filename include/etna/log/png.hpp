// A minimal PNG encoder for TensorBoard images: 8-bit grey, RGB or RGBA; IHDR, one
// zlib-compressed IDAT (filter type 0 on every row), IEND. zlib is already one of etna's links.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "etna/core/error.hpp"

namespace etna::logging {

namespace detail {
inline void append_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// A chunk: length, type, data, CRC-32 (zlib's, the PNG polynomial) over type and data.
inline void append_png_chunk(std::string& out, const char (&type)[5], std::string_view data) {
  append_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t type_at = out.size();
  out.append(type, 4);
  out.append(data);
  const auto* typed = reinterpret_cast<const Bytef*>(out.data() + type_at);
  append_be32(out,
              static_cast<std::uint32_t>(crc32(0L, typed, static_cast<uInt>(4 + data.size()))));
}
}  // namespace detail

// pixels: height rows of width * channels bytes, channels interleaved (HWC).
inline std::string encode_png(const std::uint8_t* pixels, int height, int width, int channels) {
  if (height <= 0 || width <= 0)
    throw value_error(etna::detail::str("encode_png: an image needs height and width > 0, got ",
                                        height, " x ", width));
  int color_type = 0;
  switch (channels) {
    case 1:
      color_type = 0;
      break;  // greyscale
    case 3:
      color_type = 2;
      break;  // truecolour
    case 4:
      color_type = 6;
      break;  // truecolour with alpha
    default:
      throw value_error(
          etna::detail::str("encode_png: 1, 3 or 4 channels expected, got ", channels));
  }
  const std::size_t row = static_cast<std::size_t>(width) * channels;
  std::string raw;
  raw.reserve((row + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');  // filter type 0 (None): simple, and zlib still finds the runs
    raw.append(reinterpret_cast<const char*>(pixels) + y * row, row);
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    throw value_error("encode_png: zlib compression failed");
  compressed.resize(compressed_size);

  std::string header;
  detail::append_be32(header, static_cast<std::uint32_t>(width));
  detail::append_be32(header, static_cast<std::uint32_t>(height));
  header += static_cast<char>(8);  // bit depth
  header += static_cast<char>(color_type);
  header.append(3, '\0');  // compression, filter method, no interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  detail::append_png_chunk(png, "IHDR", header);
  detail::append_png_chunk(png, "IDAT", compressed);
  detail::append_png_chunk(png, "IEND", {});
  return png;
}

}  // namespace etna::logging
