// Geometric image transforms: RandomHorizontalFlip, RandomCrop (pad, then crop) and RandomAffine
// (rotation and translation, bilinear). Each exposes sample() and a static apply() so a test or
// a user can reproduce exactly what a call did.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

#include "etna/data/transforms/transform.hpp"

namespace etna::data {

// Mirrors the image left-right with probability p (one uniform draw: flips when u < p).
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5) : p_(p) {
    transform_detail::check_probability(p, "RandomHorizontalFlip");
  }

  // Whether this call flips: draws one block from gen.
  bool sample(Generator& gen) const { return transform_detail::Draws(gen, 1).uniform() < p_; }

  static Tensor<float> apply(const Tensor<float>& x) {
    const auto d = transform_detail::image_dims(x, "RandomHorizontalFlip");
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    for (std::int64_t row = 0; row < d.channels * d.height; ++row) {
      const float* in = src.data() + row * d.width;
      std::reverse_copy(in, in + d.width, out.data() + row * d.width);
    }
    return out;
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    return sample(gen) ? apply(x) : x;
  }

 private:
  double p_;
};

// Where a crop starts, in the coordinates of the padded image.
struct CropOffset {
  std::int64_t top, left;
};

// A rectangular crop size: RandomCrop({.height = 24, .width = 20}).
struct CropSize {
  std::int64_t height = 0, width = 0;
};

// torchvision's RandomCrop(size, padding, fill): pads every side by `padding` pixels of value
// `fill`, then takes a crop of `size` at a uniformly random offset (top drawn first, then left;
// two blocks). A crop larger than the padded image is a value_error. Size is one extent for a
// square crop, or a CropSize.
class RandomCrop {
 public:
  explicit RandomCrop(std::int64_t size, std::int64_t padding = 0, float fill = 0.f)
      : RandomCrop(CropSize{size, size}, padding, fill) {}
  explicit RandomCrop(CropSize size, std::int64_t padding = 0, float fill = 0.f)
      : height_(size.height), width_(size.width), padding_(padding), fill_(fill) {
    if (height_ <= 0 || width_ <= 0 || padding_ < 0)
      throw value_error(
          etna::detail::str("RandomCrop: size must be positive and padding non-negative, "
                            "got size [",
                            height_, ", ", width_, "], padding ", padding_));
  }

  // The offset of this call's crop for an image of height x width (before padding).
  CropOffset sample(std::int64_t height, std::int64_t width, Generator& gen) const {
    const std::int64_t ph = height + 2 * padding_, pw = width + 2 * padding_;
    if (height_ > ph || width_ > pw)
      throw value_error(etna::detail::str(
          "RandomCrop: crop size [", height_, ", ", width_, "] is larger than the padded image [",
          ph, ", ", pw, "] (image [", height, ", ", width, "], padding ", padding_, ")"));
    transform_detail::Draws draws(gen, 2);
    const std::int64_t top = draws.integer(0, ph - height_ + 1);
    const std::int64_t left = draws.integer(0, pw - width_ + 1);
    return {top, left};
  }

  // The crop at `at` of x padded with this transform's padding and fill.
  Tensor<float> apply(const Tensor<float>& x, CropOffset at) const {
    const auto d = transform_detail::image_dims(x, "RandomCrop");
    const std::int64_t ph = d.height + 2 * padding_, pw = d.width + 2 * padding_;
    if (at.top < 0 || at.left < 0 || at.top + height_ > ph || at.left + width_ > pw)
      throw value_error(etna::detail::str("RandomCrop: a [", height_, ", ", width_, "] crop at (",
                                          at.top, ", ", at.left,
                                          ") does not fit the padded image [", ph, ", ", pw, "]"));
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(transform_detail::with_height_width(x.shape(), height_, width_));
    // Output column j reads input column left - padding + j; clamp the in-image span once.
    const std::int64_t x0 = at.left - padding_;
    const std::int64_t j_begin = std::clamp<std::int64_t>(-x0, 0, width_);
    const std::int64_t j_end = std::clamp<std::int64_t>(d.width - x0, j_begin, width_);
    for (std::int64_t c = 0; c < d.channels; ++c) {
      for (std::int64_t i = 0; i < height_; ++i) {
        float* o = out.data() + (c * height_ + i) * width_;
        const std::int64_t y = at.top - padding_ + i;
        if (y < 0 || y >= d.height) {
          std::fill(o, o + width_, fill_);
          continue;
        }
        const float* in = src.data() + (c * d.height + y) * d.width;
        std::fill(o, o + j_begin, fill_);
        std::copy(in + (x0 + j_begin), in + (x0 + j_end), o + j_begin);
        std::fill(o + j_end, o + width_, fill_);
      }
    }
    return out;
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    const auto d = transform_detail::image_dims(x, "RandomCrop");
    return apply(x, sample(d.height, d.width, gen));
  }

 private:
  std::int64_t height_, width_, padding_;
  float fill_;
};

// One affine warp: rotation by `angle` degrees counter-clockwise as displayed (row 0 at the
// top), about the image centre, then a shift of tx pixels right and ty pixels down.
struct AffineParams {
  double angle = 0, tx = 0, ty = 0;
};

namespace transform_detail {
// sin and cos of an angle in degrees, exact at multiples of 90 degrees, so quarter turns move
// pixels without interpolation error.
inline std::pair<double, double> sin_cos_degrees(double degrees) {
  const double quarters = std::nearbyint(degrees / 90.0);
  const double rest = (degrees - 90.0 * quarters) * (3.14159265358979323846 / 180.0);
  const double s = std::sin(rest), c = std::cos(rest);
  switch (((static_cast<long long>(quarters) % 4) + 4) % 4) {
    case 0:
      return {s, c};
    case 1:
      return {c, -s};
    case 2:
      return {-s, -c};
    default:
      return {-c, s};
  }
}
}  // namespace transform_detail

// torchvision's RandomAffine(degrees, translate) with bilinear interpolation and zero fill:
// angle uniform on [-degrees, degrees], then tx = round(uniform(-a W, a W)) and
// ty = round(uniform(-b H, b H)) whole pixels for translate = {a, b} (three blocks).
//
// Coordinate convention: pixel (row i, column j) has its centre at (x, y) = (j, i); the image
// centre is ((W - 1) / 2, (H - 1) / 2). Output pixel (x, y) samples the input at
// R(-angle) (x - centre - t) + centre, bilinearly from the four nearest pixels; neighbours
// outside the image count as 0 (grid_sample's zero padding, align_corners = False).
class RandomAffine {
 public:
  explicit RandomAffine(double degrees, std::array<double, 2> translate = {0, 0})
      : degrees_(degrees), translate_(translate) {
    if (!(degrees >= 0))
      throw value_error(
          etna::detail::str("RandomAffine: degrees must be non-negative, got ", degrees));
    for (double t : translate)
      if (!(t >= 0 && t <= 1))
        throw value_error(
            etna::detail::str("RandomAffine: translate fractions must be in [0, 1], got ", t));
  }

  AffineParams sample(std::int64_t height, std::int64_t width, Generator& gen) const {
    transform_detail::Draws draws(gen, 3);
    AffineParams p;
    p.angle = draws.uniform(-degrees_, degrees_);
    const double max_dx = translate_[0] * static_cast<double>(width);
    const double max_dy = translate_[1] * static_cast<double>(height);
    p.tx = std::nearbyint(draws.uniform(-max_dx, max_dx));  // Python's round: half to even
    p.ty = std::nearbyint(draws.uniform(-max_dy, max_dy));
    return p;
  }

  static Tensor<float> apply(const Tensor<float>& x, AffineParams p) {
    const auto d = transform_detail::image_dims(x, "RandomAffine");
    const Tensor<float> src = x.contiguous();
    auto out = empty<float>(x.shape());
    const auto [s, c] = transform_detail::sin_cos_degrees(p.angle);
    const double cx = static_cast<double>(d.width - 1) / 2,
                 cy = static_cast<double>(d.height - 1) / 2;
    const std::int64_t plane = d.height * d.width;
    const float* in = src.data();
    float* o = out.data();
    for (std::int64_t i = 0; i < d.height; ++i) {
      // Inverse map: rotate the output point back by -angle (the forward rotation is
      // counter-clockwise on screen, i.e. [[c, s], [-s, c]] with y pointing down). Along a row
      // the sample point moves by (c, s) per pixel.
      const double dy = static_cast<double>(i) - cy - p.ty, dx0 = -cx - p.tx;
      double sx = c * dx0 - s * dy + cx, sy = s * dx0 + c * dy + cy;
      for (std::int64_t j = 0; j < d.width; ++j, sx += c, sy += s) {
        const double fx0 = std::floor(sx), fy0 = std::floor(sy);
        const auto x0 = static_cast<std::int64_t>(fx0), y0 = static_cast<std::int64_t>(fy0);
        const auto ax = static_cast<float>(sx - fx0), ay = static_cast<float>(sy - fy0);
        float w[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
        std::int64_t off[4];
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < d.width && y0 + 1 < d.height) {
          off[0] = y0 * d.width + x0;
          off[1] = off[0] + 1;
          off[2] = off[0] + d.width;
          off[3] = off[2] + 1;
        } else {
          if (x0 < -1 || y0 < -1 || x0 >= d.width || y0 >= d.height) {  // all four outside
            for (std::int64_t ch = 0; ch < d.channels; ++ch) o[ch * plane + i * d.width + j] = 0.f;
            continue;
          }
          for (int k = 0; k < 4; ++k) {  // outside neighbours get weight 0
            const std::int64_t xx = x0 + (k & 1), yy = y0 + (k >> 1);
            const bool inside = xx >= 0 && xx < d.width && yy >= 0 && yy < d.height;
            off[k] = inside ? yy * d.width + xx : 0;
            if (!inside) w[k] = 0.f;
          }
        }
        for (std::int64_t ch = 0; ch < d.channels; ++ch) {
          const float* v = in + ch * plane;
          o[ch * plane + i * d.width + j] =
              w[0] * v[off[0]] + w[1] * v[off[1]] + w[2] * v[off[2]] + w[3] * v[off[3]];
        }
      }
    }
    return out;
  }

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    const auto d = transform_detail::image_dims(x, "RandomAffine");
    return apply(x, sample(d.height, d.width, gen));
  }

 private:
  double degrees_;
  std::array<double, 2> translate_;
};

}  // namespace etna::data
