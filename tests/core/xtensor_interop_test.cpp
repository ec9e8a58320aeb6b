// xtensor interop (etna/core/xtensor_interop.hpp): to_xarray copies any view in logical order,
// from_xtensor evaluates any xtensor expression, adapt() views a tensor's memory (no copy).
#include <vector>

#include <catch2/catch.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "support/fixtures.hpp"

namespace et = etna;
using et::Shape;

TEST_CASE("to_xarray copies in logical order", "[core][xtensor]") {
  const auto a = et::arange<float>(6).reshape({2, 3});
  auto x = et::to_xarray(a);
  REQUIRE(x.dimension() == 2);
  CHECK(x.shape()[0] == 2);
  CHECK(x.shape()[1] == 3);
  CHECK(x(1, 2) == 5.f);
  x(0, 0) = 100.f;  // a copy
  CHECK(a(0, 0) == 0.f);
  const auto t = et::to_xarray(a.t());
  CHECK(t.shape()[0] == 3);
  CHECK(t(2, 1) == 5.f);
  CHECK(t(1, 0) == 1.f);
  const auto s = et::to_xarray(et::tensor<double>(2.5));
  CHECK(s.dimension() == 0);
  CHECK(s() == 2.5);
  CHECK(et::to_xarray(et::zeros<std::int64_t>({0, 4})).size() == 0);
}

TEST_CASE("from_xtensor evaluates an xtensor expression into a new tensor", "[core][xtensor]") {
  xt::xarray<double> x = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  auto t = et::from_xtensor(x * 2.0 + 1.0);
  static_assert(std::is_same_v<decltype(t), et::Tensor<double>>);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t(1, 2) == 13.0);
  auto v = et::from_xtensor(xt::view(x, xt::all(), 1));
  CHECK(v.shape() == Shape{2});
  CHECK(v(1) == 5.0);
  auto i = et::from_xtensor(xt::arange<std::int32_t>(5));
  static_assert(std::is_same_v<decltype(i), et::Tensor<std::int32_t>>);
  CHECK(i(4) == 4);
  auto b = et::from_xtensor(x > 3.0);
  static_assert(std::is_same_v<decltype(b), et::Tensor<bool>>);
  CHECK(b(1, 0));
  CHECK_FALSE(b(0, 2));
  // round trip
  const auto r = et::randn<float>({3, 4});
  ETNA_CHECK_CLOSE(et::from_xtensor(et::to_xarray(r)), r, 0, 0);
}

TEST_CASE("adapt views the tensor's memory without copying", "[core][xtensor]") {
  auto a = et::arange<float>(12).reshape({3, 4});
  auto x = et::adapt(a);
  CHECK(x.data() == a.data());
  CHECK(x(2, 3) == 11.f);
  x(0, 1) = -1.f;  // writes through
  CHECK(a(0, 1) == -1.f);
  CHECK(xt::sum(x)() == 66.f - 1.f - 1.f);
  // strided views keep their strides
  auto t = et::adapt(a.t());
  CHECK(t.shape()[0] == 4);
  CHECK(t(3, 2) == a(2, 3));
  auto stepped = et::adapt(a.slice(1, 1, 4, 2));  // columns 1 and 3
  CHECK(stepped.shape()[1] == 2);
  CHECK(stepped(2, 1) == 11.f);
  stepped(1, 0) = 50.f;
  CHECK(a(1, 1) == 50.f);
  auto row = et::adapt(a[2]);
  CHECK(row(0) == 8.f);
  auto col = et::adapt(a.select(1, 3));
  CHECK(col(2) == 11.f);
  CHECK(xt::amax(col)() == 11.f);
  // xtensor algorithms over the adaptor write into the tensor
  auto b = et::zeros<double>({2, 2});
  et::adapt(b) = xt::xarray<double>{{1, 2}, {3, 4}};
  CHECK(b(1, 0) == 3.0);
  CHECK(et::adapt(et::tensor<float>(4.f))() == 4.f);
}
