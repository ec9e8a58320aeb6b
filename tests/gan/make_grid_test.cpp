// utils::make_grid and utils::save_image against hand-computed grids (torchvision's layout:
// nrow, padding, pad_value, normalize with value_range or scale_each, 1 -> 3 channels) and a
// PNG decoded back with zlib.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "etna/etna.hpp"
#include "etna/utils.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace ut = etna::utils;

namespace {

// [B, 1, H, W] with image b's pixel (y, x) = 100 b + 10 y + x: every value says where it is from.
et::Tensor<float> labelled_batch(std::int64_t b, std::int64_t h, std::int64_t w) {
  auto t = et::empty<float>({b, 1, h, w});
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x) t.at({i, 0, y, x}) = float(100 * i + 10 * y + x);
  return t;
}

}  // namespace

TEST_CASE("make_grid lays images out nrow per row with padding and pad_value", "[gan][make_grid]") {
  // 3 images of 2x2, nrow 2, padding 1: 2 rows of 2 slots of 3x3 plus the closing padding.
  const auto grid =
      ut::make_grid(labelled_batch(3, 2, 2), {.nrow = 2, .padding = 1, .pad_value = -1});
  REQUIRE(grid.shape() == et::Shape{3, 7, 7});
  for (std::int64_t c = 0; c < 3; ++c) {  // the greyscale images became 3 equal channels
    for (std::int64_t y = 0; y < 7; ++y) {
      for (std::int64_t x = 0; x < 7; ++x) {
        const std::int64_t slot_y = y / 3, slot_x = x / 3, k = slot_y * 2 + slot_x;
        const bool pad = y % 3 == 0 || x % 3 == 0 || k >= 3;  // k = 3 is the empty slot
        const float expected = pad ? -1.f : float(100 * k + 10 * (y % 3 - 1) + (x % 3 - 1));
        INFO("c " << c << " y " << y << " x " << x);
        CHECK(grid.at({c, y, x}) == expected);
      }
    }
  }
}

TEST_CASE("make_grid sizes: nrow larger than the batch, padding 0, 3-channel images",
          "[gan][make_grid]") {
  // xmaps = min(nrow, B): 2 images with nrow 8 make one row of 2.
  CHECK(ut::make_grid(labelled_batch(2, 3, 4)).shape() == et::Shape{3, 3 + 4, 2 * 6 + 2});
  const auto tight = ut::make_grid(labelled_batch(4, 2, 2), {.nrow = 2, .padding = 0});
  REQUIRE(tight.shape() == et::Shape{3, 4, 4});
  CHECK(tight.at({0, 0, 0}) == 0.f);
  CHECK(tight.at({0, 1, 3}) == 111.f);  // image 1, pixel (1, 1)
  CHECK(tight.at({0, 3, 2}) == 310.f);  // image 3, pixel (1, 0)
  // Three channels stay as they are (no repetition), each channel laid out the same way.
  auto rgb = et::empty<float>({2, 3, 1, 1});
  for (int i = 0; i < 6; ++i) rgb.data()[i] = float(i);
  const auto g = ut::make_grid(rgb, {.padding = 1});
  REQUIRE(g.shape() == et::Shape{3, 3, 5});
  CHECK(g.at({0, 1, 1}) == 0.f);
  CHECK(g.at({2, 1, 1}) == 2.f);
  CHECK(g.at({1, 1, 3}) == 4.f);
  CHECK(g.at({2, 1, 3}) == 5.f);
}

TEST_CASE("make_grid: one image comes back unpadded; [H, W] and [1, H, W] become RGB",
          "[gan][make_grid]") {
  const auto one = labelled_batch(1, 2, 3);
  const auto g = ut::make_grid(one, {.padding = 5});
  REQUIRE(g.shape() == et::Shape{3, 2, 3});  // as torchvision: a batch of one is not padded
  CHECK(g.at({2, 1, 2}) == 12.f);
  CHECK(ut::make_grid(one.select(0, 0)).shape() == et::Shape{3, 2, 3});               // [1, H, W]
  CHECK(ut::make_grid(one.select(0, 0).select(0, 0)).shape() == et::Shape{3, 2, 3});  // [H, W]
}

TEST_CASE("make_grid normalize: min-max over the batch, value_range clamps, scale_each",
          "[gan][make_grid]") {
  const auto batch = labelled_batch(2, 1, 2);  // values 0, 1 | 100, 101
  const auto before = batch.clone();
  const auto global = ut::make_grid(batch, {.padding = 0, .normalize = true});
  REQUIRE(global.shape() == et::Shape{3, 1, 4});
  CHECK(global.at({0, 0, 0}) == Approx(0.0));
  CHECK(global.at({0, 0, 1}) == Approx(1.0 / 101));
  CHECK(global.at({1, 0, 2}) == Approx(100.0 / 101));
  CHECK(global.at({2, 0, 3}) == Approx(1.0));
  CHECK(et::test::mismatch(batch, before, 0, 0).empty());  // the caller's tensor is not touched

  const auto each = ut::make_grid(batch, {.padding = 0, .normalize = true, .scale_each = true});
  CHECK(each.at({0, 0, 0}) == Approx(0.0));
  CHECK(each.at({0, 0, 1}) == Approx(1.0));
  CHECK(each.at({0, 0, 2}) == Approx(0.0));
  CHECK(each.at({0, 0, 3}) == Approx(1.0));

  // value_range (1, 100): clamp, then (x - 1) / 99.
  const auto ranged =
      ut::make_grid(batch, {.padding = 0, .normalize = true, .value_range = std::pair{1.0, 100.0}});
  CHECK(ranged.at({0, 0, 0}) == Approx(0.0));
  CHECK(ranged.at({0, 0, 1}) == Approx(0.0));
  CHECK(ranged.at({0, 0, 2}) == Approx(1.0));
  CHECK(ranged.at({0, 0, 3}) == Approx(1.0));

  // A constant image divides by max(high - low, 1e-5), as torchvision: zeros, not NaN.
  const auto flat = ut::make_grid(et::full<float>({2, 1, 1, 1}, 3.f),
                                  {.padding = 0, .normalize = true, .scale_each = true});
  CHECK(flat.at({0, 0, 0}) == 0.f);
  // A 3-channel batch is normalised too (on a copy).
  const auto rgb = et::full<float>({2, 3, 1, 1}, 2.f);
  ut::make_grid(rgb, {.normalize = true});
  CHECK(rgb.at({0, 0, 0, 0}) == 2.f);
}

TEST_CASE("make_grid rejects bad shapes and options with readable errors", "[gan][make_grid]") {
  CHECK_THROWS_WITH(ut::make_grid(et::zeros<float>({1, 1, 1, 1, 1})),
                    Catch::Contains("make_grid") && Catch::Contains("[1, 1, 1, 1, 1]"));
  CHECK_THROWS_WITH(ut::make_grid(et::zeros<float>({2, 1, 2, 2}), {.nrow = 0}),
                    Catch::Contains("nrow"));
  CHECK_THROWS_WITH(ut::make_grid(et::zeros<float>({2, 1, 2, 2}), {.padding = -1}),
                    Catch::Contains("padding"));
  CHECK_THROWS_WITH(ut::make_grid(et::zeros<float>({2, 1, 2, 2}),
                                  {.normalize = true, .value_range = std::pair{1.0, 0.0}}),
                    Catch::Contains("value_range"));
  CHECK_THROWS_WITH(ut::save_image(et::zeros<float>({2, 2, 2, 2}), "/tmp/never.png"),
                    Catch::Contains("1, 3 or 4 channels"));
}

namespace {
std::uint32_t be32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
}  // namespace

TEST_CASE("save_image writes a PNG whose pixels are round(255 x) of the clamped grid",
          "[gan][save_image]") {
  // One 2x3 greyscale image: values below 0 and above 1 clamp; x * 255 + 0.5 truncates.
  auto img = et::tensor<float>({{{-0.1f, 0.f, 0.2f}, {0.5f, 1.f, 1.3f}}});  // [1, 2, 3]
  const std::vector<std::uint8_t> expected_grey{0, 0, 51, 128, 255, 255};
  const auto path = std::filesystem::temp_directory_path() /
                    ("etna_save_image_" + std::to_string(::getpid()) + ".png");
  ut::save_image(img, path.string());
  std::ifstream in(path, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  REQUIRE(png.size() > 8);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR first: width 3, height 2, 8 bits, colour type 2 (RGB: 1 channel became 3).
  REQUIRE(png.substr(12, 4) == "IHDR");
  CHECK(be32(png, 16) == 3);
  CHECK(be32(png, 20) == 2);
  CHECK(png[24] == 8);
  CHECK(png[25] == 2);
  // The IDAT chunk, inflated: per row a filter byte 0 and 3 RGB pixels.
  const std::size_t idat_at = 8 + 12 + be32(png, 8);
  REQUIRE(png.substr(idat_at + 4, 4) == "IDAT");
  const std::uint32_t len = be32(png, idat_at);
  std::string raw(2 * (1 + 3 * 3), '\0');
  uLongf size = raw.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                     reinterpret_cast<const Bytef*>(png.data() + idat_at + 8), len) == Z_OK);
  REQUIRE(size == raw.size());
  for (int y = 0; y < 2; ++y) {
    CHECK(raw[static_cast<std::size_t>(y * 10)] == 0);
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c)
        CHECK(static_cast<unsigned char>(raw[static_cast<std::size_t>(y * 10 + 1 + 3 * x + c)]) ==
              expected_grey[static_cast<std::size_t>(3 * y + x)]);
  }
}

TEST_CASE("image_bytes: a grid of a batch, HWC bytes; normalize maps [-1, 1] images",
          "[gan][save_image]") {
  // Two 1x1 tanh-range images at -1 and 1 with padding 1: 3 x 5 pixels, padding black.
  auto batch = et::tensor<float>({-1.f, 1.f}).reshape({2, 1, 1, 1});
  const auto img = ut::image_bytes(
      batch, {.padding = 1, .normalize = true, .value_range = std::pair{-1.0, 1.0}});
  REQUIRE(img.height == 3);
  REQUIRE(img.width == 5);
  REQUIRE(img.channels == 3);
  REQUIRE(img.bytes.size() == 45u);
  auto at = [&](int y, int x, int c) {
    return img.bytes[static_cast<std::size_t>((y * 5 + x) * 3 + c)];
  };
  CHECK(at(1, 1, 0) == 0);
  CHECK(at(1, 3, 2) == 255);
  CHECK(at(0, 0, 0) == 0);
  // Without normalize the same values clamp: -1 -> 0, 1 -> 255, and pad_value 1 -> 255.
  const auto raw = ut::image_bytes(batch, {.padding = 1, .pad_value = 1});
  CHECK(raw.bytes[0] == 255);
  CHECK(raw.bytes[static_cast<std::size_t>((1 * 5 + 1) * 3)] == 0);
}
