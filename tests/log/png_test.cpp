// The PNG encoder's output decoded by hand with zlib: signature, chunk CRCs, IHDR fields and
// the pixels behind the filter bytes.
#include "etna/log/png.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace lg = etna::logging;

namespace {
std::uint32_t be32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
struct Chunk {
  std::string type, data;
};
std::vector<Chunk> chunks(const std::string& png) {
  std::vector<Chunk> out;
  std::size_t at = 8;
  while (at < png.size()) {
    const std::uint32_t len = be32(png, at);
    Chunk c{png.substr(at + 4, 4), png.substr(at + 8, len)};
    const std::string typed = png.substr(at + 4, 4 + len);
    CHECK(be32(png, at + 8 + len) ==
          crc32(0L, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size())));
    out.push_back(c);
    at += 12 + len;
  }
  return out;
}
}  // namespace

TEST_CASE("encode_png writes signature, IHDR, IDAT, IEND and the pixels", "[log][png]") {
  const int h = 3, w = 2, c = 3;
  std::vector<std::uint8_t> pixels(h * w * c);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 13);
  const std::string png = lg::encode_png(pixels.data(), h, w, c);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  const auto cs = chunks(png);
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].type == "IHDR");
  CHECK(be32(cs[0].data, 0) == w);
  CHECK(be32(cs[0].data, 4) == h);
  CHECK(cs[0].data[8] == 8);  // bit depth
  CHECK(cs[0].data[9] == 2);  // truecolour
  CHECK(cs[1].type == "IDAT");
  CHECK(cs[2].type == "IEND");
  std::string raw(h * (w * c + 1), '\0');
  uLongf size = raw.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                     reinterpret_cast<const Bytef*>(cs[1].data.data()), cs[1].data.size()) == Z_OK);
  REQUIRE(size == raw.size());
  for (int y = 0; y < h; ++y) {
    CHECK(raw[y * (w * c + 1)] == 0);  // filter type None
    for (int i = 0; i < w * c; ++i)
      CHECK(static_cast<std::uint8_t>(raw[y * (w * c + 1) + 1 + i]) == pixels[y * w * c + i]);
  }
}

TEST_CASE("encode_png maps 1 and 4 channels to grey and RGBA and rejects others", "[log][png]") {
  const std::vector<std::uint8_t> px(16, 7);
  CHECK(chunks(lg::encode_png(px.data(), 2, 2, 1))[0].data[9] == 0);
  CHECK(chunks(lg::encode_png(px.data(), 2, 2, 4))[0].data[9] == 6);
  CHECK_THROWS_AS(lg::encode_png(px.data(), 2, 2, 2), etna::value_error);
  CHECK_THROWS_AS(lg::encode_png(px.data(), 0, 2, 1), etna::value_error);
}
