// CRC-32C against the published check values (RFC 3720 B.4 and "123456789") and TensorFlow's
// masked form.
#include "etna/log/crc32c.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace lg = etna::logging;

TEST_CASE("crc32c matches the known vectors", "[log][crc32c]") {
  CHECK(lg::crc32c(std::string("123456789")) == 0xE3069283u);
  CHECK(lg::crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(lg::crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
  std::string incrementing;
  for (int i = 0; i < 32; ++i) incrementing.push_back(static_cast<char>(i));
  CHECK(lg::crc32c(incrementing) == 0x46DD794Eu);
  CHECK(lg::crc32c(std::string()) == 0u);
}

TEST_CASE("crc32c_extend continues a CRC over split input", "[log][crc32c]") {
  const std::string a = "12345", b = "6789";
  CHECK(lg::crc32c_extend(lg::crc32c(a), b.data(), b.size()) == 0xE3069283u);
}

TEST_CASE("masked crc32c is TensorFlow's rotate-and-add, and unmasks", "[log][crc32c]") {
  const std::uint32_t crc = 0xE3069283u;
  CHECK(lg::mask_crc32c(crc) ==
        static_cast<std::uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
  CHECK(lg::masked_crc32c(std::string("123456789")) == lg::mask_crc32c(crc));
  CHECK(lg::unmask_crc32c(lg::mask_crc32c(crc)) == crc);
  // Values computed with TensorBoard's own masked_crc32c (its bundled TensorFlow compat module).
  CHECK(lg::masked_crc32c(std::string("123456789")) == 0xC78AB0E5u);
  CHECK(lg::masked_crc32c(std::string(8, '\0')) == 0x07980329u);
}
