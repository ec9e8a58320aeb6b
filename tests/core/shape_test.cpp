#include "etna/core/shape.hpp"

#include <catch2/catch.hpp>

using etna::Shape;

TEST_CASE("broadcast_shape follows NumPy rules", "[shape]") {
  CHECK(etna::broadcast_shape({3, 1, 5}, {4, 1}) == Shape{3, 4, 5});
  CHECK(etna::broadcast_shape({}, {2, 3}) == Shape{2, 3});
  CHECK(etna::broadcast_shape({0, 1}, {1, 4}) == Shape{0, 4});
  CHECK_THROWS_WITH(etna::broadcast_shape({2, 3}, {4}, "add"),
                    "add: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)");
}

TEST_CASE("contiguous strides and numel", "[shape]") {
  CHECK(etna::contiguous_strides({2, 3, 4}) == Shape{12, 4, 1});
  CHECK(Shape{2, 3, 4}.numel() == 24);
  CHECK(Shape{}.numel() == 1);
  CHECK_THROWS_AS(Shape({1, 1, 1, 1, 1, 1, 1, 1, 1}), etna::shape_error);
}
