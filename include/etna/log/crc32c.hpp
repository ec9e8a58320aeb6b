// CRC-32C (Castagnoli), the checksum of TFRecord framing, and TensorFlow's masked form of it.
// Table-driven, one byte at a time: event files are small, so speed is not worth SSE4.2 code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace etna::logging {

namespace detail {
// Reflected polynomial of CRC-32C (0x1EDC6F41 bit-reversed).
inline constexpr std::uint32_t crc32c_polynomial = 0x82F63B78u;

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? crc32c_polynomial : 0u);
    table[i] = crc;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> crc32c_table = make_crc32c_table();
}  // namespace detail

// Continues a CRC over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b).
inline std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i)
    crc = detail::crc32c_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

inline std::uint32_t crc32c(const void* data, std::size_t size) {
  return crc32c_extend(0, data, size);
}
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

// TensorFlow masks stored CRCs (rotate right by 15, add a constant) because a CRC computed
// over data that itself contains CRCs is weak; readers check the masked value.
inline std::uint32_t mask_crc32c(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline std::uint32_t unmask_crc32c(std::uint32_t masked) {
  const std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}
inline std::uint32_t masked_crc32c(const void* data, std::size_t size) {
  return mask_crc32c(crc32c(data, size));
}
inline std::uint32_t masked_crc32c(std::string_view bytes) {
  return masked_crc32c(bytes.data(), bytes.size());
}

}  // namespace etna::logging
