// The image-transform protocol: a callable (const Tensor<float>&, Generator&) -> Tensor<float>,
// composition with `|` (Compose), Lambda, and the helpers every image transform shares.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/random.hpp"
#include "etna/core/tensor.hpp"

namespace etna::data {

// A transform maps an image (Tensor<float> shaped [C, H, W] or [H, W]) to a new image. Random
// transforms draw only from `gen`, so a seeded Generator reproduces them exactly; deterministic
// ones ignore it. A transform never writes into its input: datasets may hand out views of
// their own storage.
template <class T>
concept Transform = std::copy_constructible<T> &&
    requires(const T& t, const Tensor<float>& x, Generator& gen) {
  { t(x, gen) } -> std::convertible_to<Tensor<float>>;
};

// Transforms applied left to right. Built by `a | b | c`, which keeps the list flat.
template <Transform... Ts>
class Compose {
 public:
  explicit Compose(Ts... parts) : parts_(std::move(parts)...) {}

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    Tensor<float> y = x;
    std::apply([&](const auto&... t) { ((y = t(y, gen)), ...); }, parts_);
    return y;
  }
  const std::tuple<Ts...>& parts() const { return parts_; }

 private:
  std::tuple<Ts...> parts_;
};

namespace transform_detail {
template <class T>
struct is_compose : std::false_type {};
template <class... Ts>
struct is_compose<Compose<Ts...>> : std::true_type {};

template <class T>
auto transform_parts(T t) {
  if constexpr (is_compose<T>::value)
    return t.parts();
  else
    return std::tuple<T>(std::move(t));
}
}  // namespace transform_detail

// `ToFloat{} | Normalize{{0.5f}, {0.5f}} | RandomHorizontalFlip{}`: one transform.
template <Transform A, Transform B>
auto operator|(A a, B b) {
  return std::apply(
      [](auto&&... t) { return Compose<std::remove_cvref_t<decltype(t)>...>(std::move(t)...); },
      std::tuple_cat(transform_detail::transform_parts(std::move(a)),
                     transform_detail::transform_parts(std::move(b))));
}

// Wraps a function of the image, f(x), or of the image and the generator, f(x, gen).
template <class F>
class Lambda {
 public:
  explicit Lambda(F f) : f_(std::move(f)) {}

  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const {
    if constexpr (std::is_invocable_v<const F&, const Tensor<float>&, Generator&>) {
      return f_(x, gen);
    } else {
      static_assert(std::is_invocable_v<const F&, const Tensor<float>&>,
                    "etna: Lambda needs f(const Tensor<float>&) or "
                    "f(const Tensor<float>&, Generator&) returning a Tensor<float>");
      return f_(x);
    }
  }

 private:
  F f_;
};

namespace transform_detail {

// Consecutive random draws, each from its own Philox block, out of blocks reserved up front.
// A transform reserves the same number of blocks whatever branch it takes, so the draws of
// the transforms after it do not depend on its outcome.
class Draws {
 public:
  Draws(Generator& gen, std::uint64_t count) : stream_(gen.reserve(count)), count_(count) {}

  // Uniform on [0, 1) with 53 random bits.
  double uniform() {
    const auto r = block();
    return uniform_double(r.v[0], r.v[1]);
  }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer on [low, high), high > low (bias below 2^-32 for small ranges).
  std::int64_t integer(std::int64_t low, std::int64_t high) {
    const auto r = block();
    const std::uint64_t bits = std::uint64_t{r.v[0]} << 32 | r.v[1];
    const auto range = static_cast<std::uint64_t>(high - low);
    return low + static_cast<std::int64_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
  }

 private:
  Philox4x32 block() {
    if (next_ >= count_)
      throw error("etna internal: a transform drew more blocks than it reserved");
    return Philox4x32::generate(stream_.seed, stream_.offset + next_++);
  }

  RandomStream stream_;
  std::uint64_t count_, next_ = 0;
};

// Channels, height and width of an image shaped [C, H, W] or [H, W] (one channel).
struct ImageDims {
  std::int64_t channels, height, width;
};
inline ImageDims image_dims(const Tensor<float>& x, std::string_view op) {
  if (x.dim() == 3) return {x.size(0), x.size(1), x.size(2)};
  if (x.dim() == 2) return {1, x.size(0), x.size(1)};
  throw shape_error(etna::detail::str(
      op, ": expected an image of shape [C, H, W] or [H, W], got shape ", x.shape()));
}

// The shape of `x` with its last two extents replaced.
inline Shape with_height_width(const Shape& shape, std::int64_t height, std::int64_t width) {
  Shape out = shape;
  out[out.size() - 2] = height;
  out[out.size() - 1] = width;
  return out;
}

inline void check_probability(double p, std::string_view op) {
  if (!(p >= 0 && p <= 1))
    throw value_error(etna::detail::str(op, ": probability must be in [0, 1], got ", p));
}

}  // namespace transform_detail
}  // namespace etna::data
