// NumPy broadcasting in element-wise expressions (etna/expr/node.hpp, core/shape.hpp) and the
// evaluator's strided paths: edge-case shapes, scalars, 0-d and zero-size operands, transposed,
// stepped and expanded operands, against PyTorch (tests/reference/make_expr.py).
#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("expr.json");
  return f;
}
}  // namespace

TEST_CASE("broadcast shapes match PyTorch", "[expr][broadcast]") {
  for (const char* name : {"col_row", "vec_mat", "scalar0d", "bias_rows", "column", "three_d",
                           "zero_size", "zero_size2"}) {
    const std::string p = std::string("bc_") + name;
    INFO(p);
    const auto a = fx().tensor(p + "_a"), b = fx().tensor(p + "_b");
    const auto add = fx().tensor(p + "_add"), fused = fx().tensor(p + "_fused");
    ETNA_CHECK_CLOSE(a + b, add, 0, 0);
    ETNA_CHECK_CLOSE(b + a, add, 0, 0);
    ETNA_CHECK_CLOSE(a * b + et::exp(a) - et::tanh(b) / 3.f, fused, 2e-6, 1e-6);
    CHECK((a + b).shape() == add.shape());
    // the same through assign into an existing tensor of the result's shape
    auto out = et::full<float>(add.shape(), -1.f);
    out.assign(a + b);
    ETNA_CHECK_CLOSE(out, add, 0, 0);
  }
}

TEST_CASE("result shapes of edge cases", "[expr][broadcast]") {
  const auto s = et::tensor<float>(2.f);  // 0-d
  CHECK((s + s).shape() == et::Shape{});
  CHECK(et::eval(s * s).item() == 4.f);
  CHECK((s + et::zeros<float>({2, 3})).shape() == et::Shape{2, 3});
  CHECK((et::zeros<float>({0, 3}) + et::zeros<float>({1, 3})).shape() == et::Shape{0, 3});
  CHECK((et::zeros<float>({2, 0}) + et::zeros<float>({2, 1})).shape() == et::Shape{2, 0});
  CHECK((et::zeros<float>({0}) + s).shape() == et::Shape{0});
  CHECK(et::eval(et::zeros<float>({0}) + s).numel() == 0);
  CHECK((et::zeros<float>({1, 1, 1}) + et::zeros<float>({4})).shape() == et::Shape{1, 1, 4});
  CHECK((et::zeros<float>({5, 1, 4, 1}) * et::zeros<float>({3, 1, 6})).shape() ==
        et::Shape{5, 3, 4, 6});
}

TEST_CASE("scalars on either side", "[expr][broadcast]") {
  const auto a = et::tensor<float>({{1, 2}, {4, 8}});
  ETNA_CHECK_CLOSE(a + 1, et::tensor<float>({{2, 3}, {5, 9}}), 0, 0);
  ETNA_CHECK_CLOSE(1 + a, et::tensor<float>({{2, 3}, {5, 9}}), 0, 0);
  ETNA_CHECK_CLOSE(a - 1.5, et::tensor<float>({{-0.5, 0.5}, {2.5, 6.5}}), 0, 0);
  ETNA_CHECK_CLOSE(1.5 - a, et::tensor<float>({{0.5, -0.5}, {-2.5, -6.5}}), 0, 0);
  ETNA_CHECK_CLOSE(a * 2.f, et::tensor<float>({{2, 4}, {8, 16}}), 0, 0);
  ETNA_CHECK_CLOSE(2.f * a, et::tensor<float>({{2, 4}, {8, 16}}), 0, 0);
  ETNA_CHECK_CLOSE(a / 4, et::tensor<float>({{0.25, 0.5}, {1, 2}}), 0, 0);
  ETNA_CHECK_CLOSE(8 / a, et::tensor<float>({{8, 4}, {2, 1}}), 0, 0);
  ETNA_CHECK_CLOSE(et::pow(a, 2), et::tensor<float>({{1, 4}, {16, 64}}), 0, 0);
  ETNA_CHECK_CLOSE(et::pow(2, a), et::tensor<float>({{2, 4}, {16, 256}}), 0, 0);
  ETNA_CHECK_CLOSE(et::maximum(a, 3), et::tensor<float>({{3, 3}, {4, 8}}), 0, 0);
  ETNA_CHECK_CLOSE(et::minimum(3, a), et::tensor<float>({{1, 2}, {3, 3}}), 0, 0);
  ETNA_CHECK_CLOSE(a > 3, et::tensor<bool>({{false, false}, {true, true}}), 0, 0);
  ETNA_CHECK_CLOSE(3 > a, et::tensor<bool>({{true, true}, {false, false}}), 0, 0);
  // a scalar is converted to the tensor's element type (no promotion, as documented)
  const auto i = et::tensor<std::int64_t>({1, 2, 3});
  ETNA_CHECK_CLOSE(i * 2.7, et::tensor<std::int64_t>({2, 4, 6}), 0, 0);
}

TEST_CASE("non-contiguous operands: transposed, stepped, expanded", "[expr][broadcast]") {
  const auto base = fx().tensor("nc_base");    // [6, 8]
  const auto other = fx().tensor("nc_other");  // [8, 6]
  ETNA_CHECK_CLOSE(base.t() * 2.f + other, fx().tensor("nc_transposed"), 0, 0);
  ETNA_CHECK_CLOSE(base.slice(0, 0, 6, 2).slice(1, 1, 8, 3) -
                       et::sin(base.slice(0, 1, 6, 2).slice(1, 0, 3)),
                   fx().tensor("nc_step"), 1e-6, 1e-6);
  ETNA_CHECK_CLOSE(base.slice(1, 0, 1).expand({6, 8}) * base + base[2].expand({6, 8}),
                   fx().tensor("nc_expanded"), 1e-6, 1e-7);
  ETNA_CHECK_CLOSE(base.slice(0, 0, 6, 2).slice(1, 0, 8, 2) + base[5].slice(0, 0, 8, 2),
                   fx().tensor("nc_step_bcast"), 0, 0);
  // writing through a transposed destination
  auto dst = et::zeros<float>({6, 8});
  dst.t().assign(other);
  ETNA_CHECK_CLOSE(dst, other.t(), 0, 0);
}

TEST_CASE("incompatible shapes raise shape_error naming the operation", "[expr][broadcast]") {
  const auto a = et::zeros<float>({2, 3}), b = et::zeros<float>({4});
  CHECK_THROWS_AS(a + b, et::shape_error);
  CHECK_THROWS_WITH(a + b, "add: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)");
  CHECK_THROWS_WITH(b * a, "mul: shapes [4] and [2, 3] cannot be broadcast (dimension 1: 4 vs 3)");
  CHECK_THROWS_WITH(et::maximum(a, b),
                    "maximum: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)");
  CHECK_THROWS_WITH(a < b, "lt: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)");
  CHECK_THROWS_WITH(et::where(et::zeros<bool>({2}), a, a),
                    "where: shapes [2] and [2, 3] cannot be broadcast (dimension 1: 2 vs 3)");
  CHECK_THROWS_WITH(et::exp(a) - b,
                    "sub: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)");
  CHECK_THROWS_WITH(et::zeros<float>({0, 3}) + et::zeros<float>({2, 3}),
                    "add: shapes [0, 3] and [2, 3] cannot be broadcast (dimension 0: 0 vs 2)");
  // assign broadcasts the source to the destination, never the other way
  CHECK_THROWS_WITH(et::zeros<float>({3}).assign(et::zeros<float>({2, 3})),
                    "assign: cannot write a value of shape [2, 3] into a tensor of shape [3]");
  CHECK_THROWS_WITH(et::zeros<float>({2, 3}).assign(b),
                    "assign: shapes [4] and [2, 3] cannot be broadcast (dimension 1: 4 vs 3)");
}

// Mixing element types is a compile error, not a runtime one, so it cannot be tested here:
//   et::zeros<float>({2}) + et::zeros<double>({2})
// fails with the static_assert in etna/expr/operators.hpp (binary_value_type): "etna:
// element-wise operands have different element types; convert one with .to<T>() or
// etna::cast<T>(x)". assign() has its own: "etna: assign() source has a different element type
// than the destination; convert it with etna::cast<T>(x)" (backend/cpu/evaluate.hpp).
