// Image transforms (etna/data/transforms.hpp): exact pixels on tiny hand-made images for each
// transform, reproducibility from a seed, `|` composition, and transformed()'s independence of
// thread and call order.
#include "etna/data/transforms.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "etna/expr/operators.hpp"

namespace et = etna;
namespace data = etna::data;
using et::Shape;

namespace {
std::vector<float> values(const et::Tensor<float>& t) {
  return std::vector<float>(t.begin(), t.end());
}

et::Tensor<float> image(const Shape& shape, std::vector<float> v) {
  return et::tensor<float>(v, shape);
}

// 1, 2, ..., h * w as an [h, w] image (value at (i, j) is w * i + j + 1).
et::Tensor<float> counting(std::int64_t h, std::int64_t w) {
  std::vector<float> v(static_cast<std::size_t>(h * w));
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(k + 1);
  return image({h, w}, v);
}

// A tiny map-style dataset of 4x4 images (value i * 100 + pixel) with labels i.
struct Images {
  std::size_t size() const { return 6; }
  data::Example<> get(std::size_t i) const {
    auto x = counting(4, 4).unsqueeze(0).clone();
    for (float& v : x) v += static_cast<float>(i) * 100.f;
    return {x, static_cast<std::int64_t>(i)};
  }
};
}  // namespace

TEST_CASE("ToFloat divides by 255 and Normalize subtracts and divides per channel",
          "[data][transforms]") {
  et::Generator gen(1);
  CHECK(values(data::ToFloat{}(image({1, 3}, {0, 51, 255}), gen)) ==
        std::vector<float>{0.f, 51.f / 255.f, 1.f});

  const auto x = image({2, 1, 2}, {1, 2, 3, 5});  // two channels of 1x2
  const data::Normalize norm({1.f, 1.f}, {2.f, 4.f});
  CHECK(values(norm(x, gen)) == std::vector<float>{0.f, 0.5f, 0.5f, 1.f});
  CHECK(values(data::Normalize({0.5f}, {0.25f})(image({2, 2}, {0.5f, 1, 0, 0.75f}), gen)) ==
        std::vector<float>{0.f, 2.f, -2.f, 1.f});  // [H, W]: one channel
  CHECK_THROWS_AS(data::Normalize({0.5f}, {0.5f})(x, gen), et::shape_error);
  CHECK_THROWS_WITH(data::Normalize({0.5f, 0.5f, 0.5f}, {1.f, 1.f, 1.f})(x, gen),
                    "Normalize: the image has 2 channels (shape [2, 1, 2]) but mean and std "
                    "have 3");
  CHECK_THROWS_AS(data::Normalize({0.5f}, {0.f}), et::value_error);
  CHECK_THROWS_AS(data::Normalize({0.5f, 0.1f}, {1.f}), et::value_error);
  CHECK_THROWS_WITH(
      norm(et::zeros<float>({1, 2, 2, 2}), gen),
      "Normalize: expected an image of shape [C, H, W] or [H, W], got shape [1, 2, 2, 2]");
  // Per-pixel scaling takes any shape (a batch, say).
  CHECK(data::ToFloat{}(et::zeros<float>({1, 1, 2, 2}), gen).shape() == Shape{1, 1, 2, 2});
}

TEST_CASE("RandomHorizontalFlip mirrors each row and follows its sampled decision",
          "[data][transforms]") {
  const auto x = image({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  et::Generator gen(3);
  const std::vector<float> flipped{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10};
  CHECK(values(data::RandomHorizontalFlip(1.0)(x, gen)) == flipped);
  CHECK(values(data::RandomHorizontalFlip(0.0)(x, gen)) == values(x));
  CHECK(values(data::RandomHorizontalFlip::apply(counting(3, 4))) ==
        std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});
  const data::RandomHorizontalFlip flip(0.5);
  int flips = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    et::Generator g1(seed), g2(seed);
    const bool sampled = flip.sample(g1);
    flips += sampled;
    CHECK(values(flip(x, g2)) == (sampled ? flipped : values(x)));
  }
  CHECK(flips > 70);
  CHECK(flips < 130);
  CHECK_THROWS_AS(data::RandomHorizontalFlip(1.5), et::value_error);
}

TEST_CASE("RandomCrop pads with fill and crops at the sampled offset", "[data][transforms]") {
  const auto x = counting(4, 4);
  const data::RandomCrop crop(4, /*padding=*/2, /*fill=*/-1.f);
  // Padded to 8x8; the crop at (top 1, left 3) covers input rows -1..2 and columns 1..4.
  CHECK(values(crop.apply(x, {1, 3})) == std::vector<float>{-1, -1, -1, -1,  //
                                                            2, 3, 4, -1,     //
                                                            6, 7, 8, -1,     //
                                                            10, 11, 12, -1});
  CHECK(values(crop.apply(x, {2, 2})) == values(x));
  CHECK(values(data::RandomCrop({.height = 2, .width = 3}).apply(x, {2, 1})) ==
        std::vector<float>{10, 11, 12, 14, 15, 16});
  // Channels are cropped alike.
  const auto x2 = image({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(values(data::RandomCrop(2, 1).apply(x2, {0, 1})) ==
        std::vector<float>{0, 0, 1, 2, 0, 0, 5, 6});

  std::set<std::int64_t> tops, lefts;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    et::Generator g1(seed), g2(seed);
    const auto at = crop.sample(4, 4, g1);
    REQUIRE(at.top >= 0);
    REQUIRE(at.top <= 4);
    REQUIRE(at.left >= 0);
    REQUIRE(at.left <= 4);
    tops.insert(at.top);
    lefts.insert(at.left);
    // Reference from the same offset, computed here independently of apply().
    std::vector<float> expected;
    for (std::int64_t i = 0; i < 4; ++i)
      for (std::int64_t j = 0; j < 4; ++j) {
        const std::int64_t y = at.top - 2 + i, xx = at.left - 2 + j;
        expected.push_back(y >= 0 && y < 4 && xx >= 0 && xx < 4 ? x(y, xx) : -1.f);
      }
    CHECK(values(crop(x, g2)) == expected);
  }
  CHECK(tops.size() == 5);
  CHECK(lefts.size() == 5);
  et::Generator gen(0);
  CHECK(crop(x.unsqueeze(0), gen).shape() == Shape{1, 4, 4});
  CHECK_THROWS_WITH(data::RandomCrop(9, 2)(x, gen),
                    "RandomCrop: crop size [9, 9] is larger than the padded image [8, 8] (image "
                    "[4, 4], padding 2)");
  CHECK_THROWS_AS(crop.apply(x, {5, 0}), et::value_error);
  CHECK_THROWS_AS(data::RandomCrop(0), et::value_error);
}

TEST_CASE("RandomAffine: quarter turns permute pixels exactly, shifts move whole pixels",
          "[data][transforms]") {
  const auto x = counting(4, 4);
  const auto t = x.transpose().contiguous();
  std::vector<float> rot90;  // numpy.rot90(x): transpose, then flip upside down
  for (std::int64_t i = 3; i >= 0; --i)
    for (std::int64_t j = 0; j < 4; ++j) rot90.push_back(t(i, j));
  CHECK(values(data::RandomAffine::apply(x, {90, 0, 0})) == rot90);
  // -90: transpose, then mirror left-right (clockwise on screen).
  CHECK(values(data::RandomAffine::apply(x, {-90, 0, 0})) ==
        values(data::RandomHorizontalFlip::apply(t)));
  std::vector<float> reversed = values(x);
  std::reverse(reversed.begin(), reversed.end());
  CHECK(values(data::RandomAffine::apply(x, {180, 0, 0})) == reversed);
  const auto r = counting(3, 4);  // not square: the centre is (1.5, 1)
  std::vector<float> r_reversed = values(r);
  std::reverse(r_reversed.begin(), r_reversed.end());
  CHECK(values(data::RandomAffine::apply(r, {180, 0, 0})) == r_reversed);
  CHECK(values(data::RandomAffine::apply(r, {360, 0, 0})) == values(r));

  // One pixel right; one pixel up. Vacated pixels are 0.
  CHECK(values(data::RandomAffine::apply(r, {0, 1, 0})) ==
        std::vector<float>{0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11});
  CHECK(values(data::RandomAffine::apply(r, {0, 0, -1})) ==
        std::vector<float>{5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0});
  // Half a pixel right: bilinear, the average of the two neighbours (0 beyond the edge).
  CHECK(
      values(data::RandomAffine::apply(r, {0, 0.5, 0})) ==
      std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 2.5f, 5.5f, 6.5f, 7.5f, 4.5f, 9.5f, 10.5f, 11.5f});
  // Each channel warps alike.
  const auto x2 = image({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(values(data::RandomAffine::apply(x2, {90, 0, 0})) ==
        std::vector<float>{2, 4, 1, 3, 6, 8, 5, 7});

  const data::RandomAffine affine(10, {0.25, 0.5});
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    et::Generator g1(seed), g2(seed);
    const auto p = affine.sample(4, 8, g1);
    CHECK(std::abs(p.angle) <= 10);
    CHECK(std::abs(p.tx) <= 2);
    CHECK(std::abs(p.ty) <= 2);
    CHECK(p.tx == std::round(p.tx));
    CHECK(values(affine(counting(4, 8), g2)) ==
          values(data::RandomAffine::apply(counting(4, 8), p)));
  }
  et::Generator gen(5);
  CHECK(values(data::RandomAffine(0)(x, gen)) == values(x));
  CHECK_THROWS_AS(data::RandomAffine(-1), et::value_error);
  CHECK_THROWS_AS(data::RandomAffine(5, {1.5, 0}), et::value_error);
}

TEST_CASE("GaussianNoise adds seeded normal noise", "[data][transforms]") {
  const auto x = et::zeros<float>({1, 100, 100});
  et::Generator g1(7), g2(7), g3(8);
  const data::GaussianNoise noise(0.5f, 1.f);
  const auto a = noise(x, g1);
  CHECK(values(a) == values(noise(x, g2)));
  CHECK(values(a) != values(noise(x, g3)));
  double sum = 0, sq = 0;
  for (float v : a) sum += v;
  const double mean = sum / 10000.0;
  for (float v : a) sq += (v - mean) * (v - mean);
  CHECK(mean == Approx(1.0).margin(0.03));
  CHECK(std::sqrt(sq / 9999.0) == Approx(0.5).margin(0.03));
  CHECK(values(data::GaussianNoise(0.f, 2.f)(image({2}, {1, 2}).view({1, 2}), g1)) ==
        std::vector<float>{3, 4});
  // Its noise is etna::randn's (up to the last bits: SIMD log and sin).
  et::Generator g4(21), g5(21);
  const auto z = values(data::GaussianNoise(1.f)(et::zeros<float>({3, 5, 7}), g4));
  const auto ref = values(et::randn<float>({3, 5, 7}, g5));
  for (std::size_t i = 0; i < z.size(); ++i) CHECK(z[i] == Approx(ref[i]).margin(1e-5));
  CHECK_THROWS_AS(data::GaussianNoise(-1.f), et::value_error);
}

TEST_CASE("RandomErasing fills one rectangle inside the image", "[data][transforms]") {
  const auto x = et::ones<float>({2, 10, 12});
  const data::RandomErasing erase(1.0, {0.02, 0.33}, {0.3, 3.3}, -5.f);
  int erased = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    et::Generator g1(seed), g2(seed);
    const auto box = erase.sample(10, 12, g1);
    const auto y = erase(x, g2);
    if (!box) {
      CHECK(values(y) == values(x));
      continue;
    }
    ++erased;
    REQUIRE(box->top >= 0);
    REQUIRE(box->left >= 0);
    REQUIRE(box->height < 10);
    REQUIRE(box->width < 12);
    REQUIRE(box->top + box->height <= 10);
    REQUIRE(box->left + box->width <= 12);
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t i = 0; i < 10; ++i)
        for (std::int64_t j = 0; j < 12; ++j) {
          const bool inside = i >= box->top && i < box->top + box->height && j >= box->left &&
                              j < box->left + box->width;
          REQUIRE(y(c, i, j) == (inside ? -5.f : 1.f));
        }
  }
  CHECK(erased > 90);
  // Fixed area and aspect: a 10% square of a 10x10 image is 3x3 (round(sqrt(10))).
  et::Generator gen(2);
  const auto box = data::RandomErasing(1.0, {0.1, 0.1}, {1, 1}).sample(10, 10, gen);
  REQUIRE(box);
  CHECK(box->height == 3);
  CHECK(box->width == 3);
  CHECK(values(data::RandomErasing(0.0)(x, gen)) == values(x));
  CHECK(values(data::RandomErasing::apply(image({2, 3}, {1, 2, 3, 4, 5, 6}), {1, 1, 1, 2}, 0)) ==
        std::vector<float>{1, 2, 3, 4, 0, 0});
  CHECK_THROWS_AS(data::RandomErasing(0.5, {0.5, 0.1}), et::value_error);
  CHECK_THROWS_AS(data::RandomErasing(0.5, {0.1, 0.5}, {0, 1}), et::value_error);
}

TEST_CASE("Transforms compose with | into one flat, reproducible transform", "[data][transforms]") {
  auto tf = data::ToFloat{} | data::Normalize{{0.2860f}, {0.3530f}} |
            data::RandomHorizontalFlip{0.5} | data::RandomCrop{28, 2};
  static_assert(data::Transform<decltype(tf)>);
  static_assert(std::tuple_size_v<std::remove_cvref_t<decltype(tf.parts())>> == 4);
  const auto x = et::uniform<float>({1, 28, 28}, 0, 255);
  et::Generator g1(11), g2(11);
  const auto a = tf(x, g1);
  CHECK(a.shape() == Shape{1, 28, 28});
  CHECK(values(a) == values(tf(x, g2)));

  const auto scale =
      data::Lambda([](const et::Tensor<float>& t) -> et::Tensor<float> { return t * 2.f; });
  const auto jitter = data::Lambda(
      [](const et::Tensor<float>& t, et::Generator& g) { return data::GaussianNoise(1.f)(t, g); });
  auto both = scale | jitter;
  et::Generator g3(4), g4(4);
  const auto small = image({1, 2}, {1, 2});
  CHECK(values(both(small, g3)) == values(data::GaussianNoise(1.f)(image({1, 2}, {2, 4}), g4)));
  // x is untouched by every transform.
  CHECK(values(small) == std::vector<float>{1, 2});
}

TEST_CASE("transformed() gives the same examples whatever the thread or call order",
          "[data][transforms]") {
  const Images base;
  auto tf = data::RandomCrop(4, 1) | data::RandomAffine(20) | data::GaussianNoise(0.1f);
  auto ds = data::transformed(base, tf, 1234);
  static_assert(data::Dataset<decltype(ds)>);
  REQUIRE(ds.size() == 6);
  std::vector<std::vector<float>> forward;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto [x, y] = ds.get(i);
    CHECK(y == static_cast<std::int64_t>(i));
    CHECK(x.shape() == Shape{1, 4, 4});
    forward.push_back(values(x));
  }
  for (std::size_t i = ds.size(); i-- > 0;) CHECK(values(ds.get(i).data) == forward[i]);

  std::vector<std::vector<float>> threaded(ds.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < ds.size(); i += 3) threaded[i] = values(ds.get(i).data);
    });
  for (auto& th : threads) th.join();
  CHECK(threaded == forward);

  // Another seed or epoch: other draws; back at epoch 0: the same ones again.
  CHECK(values(data::transformed(base, tf, 99).get(2).data) != forward[2]);
  ds.set_epoch(1);
  CHECK(ds.epoch() == 1);
  CHECK(values(ds.get(2).data) != forward[2]);
  ds.set_epoch(0);
  CHECK(values(ds.get(2).data) == forward[2]);
  auto copy = ds;
  CHECK(values(copy.get(3).data) == forward[3]);
}

TEST_CASE("transformed() converts integer image data to float", "[data][transforms]") {
  struct Bytes {
    std::size_t size() const { return 1; }
    data::Example<et::Tensor<std::int32_t>, std::int64_t> get(std::size_t) const {
      return {et::tensor<std::int32_t>({{0, 255}}), 7};
    }
  };
  auto ds = data::transformed(Bytes{}, data::ToFloat{}, 0);
  const auto ex = ds.get(0);
  static_assert(std::is_same_v<decltype(ex.data), et::Tensor<float>>);
  CHECK(values(ex.data) == std::vector<float>{0, 1});
  CHECK(ex.target == 7);
}

TEST_CASE("transformed() inside a DataLoader follows the loader's epoch", "[data][transforms]") {
  auto ds = data::transformed(Images{}, data::GaussianNoise(1.f), 5);
  auto batches = [&](int workers) {
    data::DataLoader loader(ds, {.batch_size = 4, .seed = 3, .num_workers = workers});
    std::vector<std::vector<float>> out;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (auto& [xb, yb] : loader) out.push_back(values(xb));
    return out;
  };
  const auto serial = batches(0);
  REQUIRE(serial.size() == 4);
  CHECK(serial[0] != serial[2]);  // epoch 1 draws other noise
  CHECK(batches(2) == serial);
}
