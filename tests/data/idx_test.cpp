// IDX files and MNIST-format datasets (etna/data/idx.hpp, etna/data/mnist.hpp): exact values
// from the fixtures of tests/reference/make_idx_fixtures.py, .gz against plain, one io_error
// per kind of damaged file, and the real Fashion-MNIST when its Debian package is installed.
#include "etna/data/idx.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "etna/data/mnist.hpp"

namespace et = etna;
namespace data = etna::data;
using Catch::Contains;

namespace {
std::string fixture(const std::string& name) {
  return std::string(ETNA_TEST_DATA_DIR) + "/idx/" + name;
}

// The pixels make_idx_fixtures.py writes: (37 k + 11) mod 256, with pixel 0 = 0, pixel 59 = 255.
std::vector<std::uint8_t> expected_pixels() {
  std::vector<std::uint8_t> p(60);
  for (int k = 0; k < 60; ++k) p[k] = static_cast<std::uint8_t>((37 * k + 11) % 256);
  p[0] = 0;
  p[59] = 255;
  return p;
}
}  // namespace

TEST_CASE("read_idx reads dimensions and exact bytes of images and labels", "[data][idx]") {
  const auto images = data::read_idx(fixture("images-idx3-ubyte"), 3);
  CHECK(images.dims == std::vector<std::int64_t>{3, 4, 5});
  CHECK(images.data == expected_pixels());
  const auto labels = data::read_idx(fixture("labels-idx1-ubyte"), 1);
  CHECK(labels.dims == std::vector<std::int64_t>{3});
  CHECK(labels.data == std::vector<std::uint8_t>{7, 0, 9});
  // Without an expected dimension count any count is accepted.
  CHECK(data::read_idx(fixture("wrong-dims-labels-idx1-ubyte")).dims ==
        std::vector<std::int64_t>{3, 1});
}

TEST_CASE("read_idx gives the same array from a .gz file as from the plain file", "[data][idx]") {
  for (const char* name : {"images-idx3-ubyte", "labels-idx1-ubyte"}) {
    INFO(name);
    const auto plain = data::read_idx(fixture(name));
    const auto gz = data::read_idx(fixture(std::string(name) + ".gz"));
    CHECK(gz.dims == plain.dims);
    CHECK(gz.data == plain.data);
  }
}

TEST_CASE("read_idx names the file and the defect of each damaged file", "[data][idx]") {
  const auto truncated = fixture("truncated-images-idx3-ubyte");
  REQUIRE_THROWS_AS(data::read_idx(truncated, 3), et::io_error);
  REQUIRE_THROWS_WITH(data::read_idx(truncated, 3),
                      Contains(truncated) &&
                          Contains("truncated: expected 76 bytes (16-byte header and 60 bytes of "
                                   "image data for dims [3, 4, 5]), found 26"));
  REQUIRE_THROWS_WITH(
      data::read_idx(fixture("trailing-images-idx3-ubyte"), 3),
      Contains("trailing data") && Contains("expected 76 bytes") && Contains("found 79"));
  REQUIRE_THROWS_WITH(data::read_idx(fixture("truncated-images-idx3-ubyte.gz"), 3),
                      Contains("truncated-images-idx3-ubyte.gz") && Contains("truncated"));
  REQUIRE_THROWS_WITH(data::read_idx(fixture("wrong-magic-idx3-ubyte"), 3),
                      Contains("wrong-magic-idx3-ubyte") &&
                          Contains("bad magic number 0x12345678: not an IDX file"));
  REQUIRE_THROWS_WITH(data::read_idx(fixture("wrong-dims-labels-idx1-ubyte"), 1),
                      Contains("expected 1 dimensions (magic 0x00000801), found 2 (magic "
                               "0x00000802)"));
  REQUIRE_THROWS_WITH(data::read_idx(fixture("float-idx1-ubyte")),
                      Contains("element type 0x0D (float32) is not supported"));
  const auto missing = fixture("no-such-idx3-ubyte");
  REQUIRE_THROWS_AS(data::read_idx(missing), et::io_error);
  REQUIRE_THROWS_WITH(data::read_idx(missing), Contains(missing) && Contains("no such file"));
}

TEST_CASE("IdxImageDataset scales pixels to [0, 1] and pairs them with labels", "[data][mnist]") {
  const data::IdxImageDataset ds(fixture("images-idx3-ubyte.gz"), fixture("labels-idx1-ubyte"));
  REQUIRE(ds.size() == 3);
  CHECK(ds.rows() == 4);
  CHECK(ds.cols() == 5);
  STATIC_REQUIRE(data::Dataset<data::IdxImageDataset>);
  const auto pixels = expected_pixels();
  const std::int64_t labels[] = {7, 0, 9};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto [x, y] = ds.get(i);
    CHECK(x.shape() == et::Shape{1, 4, 5});
    CHECK(y == labels[i]);
    for (int k = 0; k < 20; ++k)
      CHECK(x.data()[k] == static_cast<float>(pixels[i * 20 + k]) / 255.0f);
  }
  CHECK(ds.get(0).data(0, 0, 0) == 0.0f);
  CHECK(ds.get(2).data(0, 3, 4) == 1.0f);

  const auto all = ds.images_as_tensor();
  CHECK(all.shape() == et::Shape{3, 1, 4, 5});
  for (int k = 0; k < 60; ++k) CHECK(all.data()[k] == static_cast<float>(pixels[k]) / 255.0f);
  const auto ys = ds.labels_as_tensor();
  CHECK(std::vector<std::int64_t>(ys.begin(), ys.end()) == std::vector<std::int64_t>{7, 0, 9});
  CHECK(ds.raw_images().size() == 60);

  REQUIRE_THROWS_AS(ds.get(3), et::index_error);
  REQUIRE_THROWS_WITH(ds.get(3), Contains("index 3") && Contains("size 3"));
  REQUIRE_THROWS_WITH(
      data::IdxImageDataset(fixture("images-idx3-ubyte"), fixture("short-labels-idx1-ubyte")),
      Contains("holds 3 images but") && Contains("holds 2 labels"));
}

TEST_CASE("MNIST finds .gz or plain files per split and checks the labels", "[data][mnist]") {
  const auto root = fixture("mnist");
  const data::MNIST train(root, data::Split::train);
  CHECK(train.size() == 3);
  CHECK(train.get(2).target == 9);
  CHECK(data::MNIST::classes()[9] == "9 - nine");
  REQUIRE_THROWS_WITH(data::MNIST(root, data::Split::test),
                      Contains("t10k-labels-idx1-ubyte.gz") && Contains("label 12 at index 1"));
  REQUIRE_THROWS_AS(data::MNIST(fixture("nowhere")), et::io_error);
  REQUIRE_THROWS_WITH(
      data::MNIST(fixture("nowhere")),
      Contains("train-images-idx3-ubyte.gz not found") && !Contains("dataset-fashion-mnist"));
}

TEST_CASE("FashionMNIST names its classes and where to get its files", "[data][mnist]") {
  CHECK(data::FashionMNIST::classes().size() == 10);
  CHECK(data::FashionMNIST::classes()[0] == "T-shirt/top");
  CHECK(data::FashionMNIST::classes()[9] == "Ankle boot");
  // A root without the files: the message names the path; only the default root names the
  // Debian package, since only there would installing it help.
  REQUIRE_THROWS_WITH(data::FashionMNIST(fixture("nowhere"), data::Split::test),
                      Contains("nowhere/t10k-images-idx3-ubyte.gz not found") &&
                          !Contains("dataset-fashion-mnist"));
  if (!std::filesystem::exists(data::FashionMNIST::default_root))
    REQUIRE_THROWS_WITH(data::FashionMNIST(),
                        Contains("install the Debian package dataset-fashion-mnist"));
}

TEST_CASE("FashionMNIST loads the real training set when it is installed", "[data][mnist]") {
  if (!std::filesystem::exists(data::FashionMNIST::default_root)) {
    WARN("Fashion-MNIST not installed (Debian package dataset-fashion-mnist): test skipped");
    return;
  }
  const data::FashionMNIST train;
  REQUIRE(train.size() == 60000);
  const auto [x, y] = train.get(0);
  CHECK(x.shape() == et::Shape{1, 28, 28});
  CHECK(y == 9);
  CHECK(data::FashionMNIST::classes()[static_cast<std::size_t>(y)] == "Ankle boot");
  const auto images = train.images_as_tensor();
  CHECK(images.shape() == et::Shape{60000, 1, 28, 28});
  double sum = 0;
  for (std::int64_t k = 0; k < images.numel(); ++k) sum += images.data()[k];
  CHECK(sum / static_cast<double>(images.numel()) == Approx(0.2860).margin(1e-3));

  const data::FashionMNIST test(data::Split::test);
  CHECK(test.size() == 10000);
  const auto labels = test.labels_as_tensor();
  std::int64_t per_class[10] = {};
  for (auto l : labels) ++per_class[l];
  for (auto c : per_class) CHECK(c == 1000);  // the test set is balanced
}
