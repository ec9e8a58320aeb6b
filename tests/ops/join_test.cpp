// Tests etna/ops/join.hpp: concat/cat and stack against PyTorch fixtures (any dtype, negative
// dims, transposed inputs, the parallel copy), split/chunk views sharing storage, and errors.
#include "etna/ops/join.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "support/fixtures.hpp"

namespace {

namespace et = etna;
using et::Tensor;

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("shape_ops.json");
  return f;
}

}  // namespace

TEST_CASE("concat matches torch.cat", "[ops][join]") {
  const auto& f = fx();
  auto a = f.tensor<float>("cat_a"), b = f.tensor<float>("cat_b"), c = f.tensor<float>("cat_c");
  ETNA_CHECK_CLOSE(et::concat({a, b}, 1), f.tensor<float>("cat_ab_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::cat({a, c}), f.tensor<float>("cat_ac_dim0"), 0, 0);
  ETNA_CHECK_CLOSE(et::cat({a, b}, -1), f.tensor<float>("cat_ab_dim1"), 0, 0);
  auto x = f.tensor<float>("cat3_x"), y = f.tensor<float>("cat3_y"), z = f.tensor<float>("cat3_z");
  ETNA_CHECK_CLOSE(et::concat(std::vector<Tensor<float>>{x, y, z}, 1),
                   f.tensor<float>("cat3_xyz_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::cat({x, x}, -1), f.tensor<float>("cat3_xx_dim2"), 0, 0);
}

TEST_CASE("concat of transposed views and mixed layouts", "[ops][join]") {
  const auto& f = fx();
  auto p = f.tensor<float>("cat_p"), q = f.tensor<float>("cat_q");
  REQUIRE_FALSE(p.t().is_contiguous());
  const auto expected = f.tensor<float>("cat_pt_qt_dim1");
  ETNA_CHECK_CLOSE(et::cat({p.t(), q.t()}, 1), expected, 0, 0);
  ETNA_CHECK_CLOSE(et::cat({p.t(), q.t().contiguous()}, 1), expected, 0, 0);
  ETNA_CHECK_CLOSE(et::cat({p.t().contiguous(), q.t()}, -1), expected, 0, 0);
}

TEST_CASE("concat of int32, int64, double and bool tensors", "[ops][join]") {
  const auto& f = fx();
  auto i1 = f.tensor<std::int32_t>("cat_i1"), i2 = f.tensor<std::int32_t>("cat_i2");
  ETNA_CHECK_CLOSE(et::cat({i1, i2}, 1), f.tensor<std::int32_t>("cat_i12_dim1"), 0, 0);
  auto l = et::cat({et::arange<std::int64_t>(3), et::arange<std::int64_t>(2)});
  ETNA_CHECK_CLOSE(l, et::tensor<std::int64_t>({0, 1, 2, 0, 1}), 0, 0);
  auto d = et::cat({et::ones<double>({1, 2}), et::zeros<double>({2, 2})});
  ETNA_CHECK_CLOSE(d, et::tensor<double>({{1, 1}, {0, 0}, {0, 0}}), 0, 0);
  auto m = et::cat({et::tensor<bool>({true, false}), et::tensor<bool>({false, true, true})});
  ETNA_CHECK_CLOSE(m, et::tensor<bool>({true, false, false, true, true}), 0, 0);
}

TEST_CASE("concat skips legacy empty 1-d tensors like PyTorch", "[ops][join]") {
  auto a = et::arange<float>(6).reshape({2, 3});
  Tensor<float> acc;  // default: shape [0]
  acc = et::cat({acc, a});
  ETNA_CHECK_CLOSE(acc, a, 0, 0);
  ETNA_CHECK_CLOSE(et::cat({a, et::empty<float>({0}), a}, 1), et::cat({a, a}, 1), 0, 0);
  CHECK(et::cat({Tensor<float>(), Tensor<float>()}).shape() == et::Shape{0});
  // Other empty tensors take part normally.
  CHECK(et::cat({et::zeros<float>({2, 0}), a}, 1).shape() == et::Shape{2, 3});
  // The copy is a new tensor, not a view of an input.
  auto c = et::cat({a});
  c(0, 0) = 100.f;
  CHECK(a(0, 0) == 0.f);
}

TEST_CASE("concat of large tensors (parallel block copy)", "[ops][join]") {
  auto a = et::randn<float>({300, 500}), b = et::randn<float>({300, 211});
  auto bt = et::randn<float>({211, 300}).t();  // strided part
  auto out = et::cat({a, b, bt}, 1);
  REQUIRE(out.shape() == et::Shape{300, 922});
  ETNA_CHECK_CLOSE(out.slice(1, 0, 500), a, 0, 0);
  ETNA_CHECK_CLOSE(out.slice(1, 500, 711), b, 0, 0);
  ETNA_CHECK_CLOSE(out.slice(1, 711, 922), bt, 0, 0);
  auto rows = et::cat({a, et::randn<float>({700, 500})}, 0);
  ETNA_CHECK_CLOSE(rows.slice(0, 0, 300), a, 0, 0);
  auto mid = et::randn<float>({500, 300}).t();             // strided
  auto last = et::stack({a, mid, et::eval(a * 2.f)}, -1);  // one-element blocks per row
  REQUIRE(last.shape() == et::Shape{300, 500, 3});
  ETNA_CHECK_CLOSE(last.select(2, 0), a, 0, 0);
  ETNA_CHECK_CLOSE(last.select(2, 1), mid, 0, 0);
  ETNA_CHECK_CLOSE(last.select(2, 2), a * 2.f, 0, 0);
}

TEST_CASE("concat errors", "[ops][join]") {
  auto a = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::concat(std::vector<Tensor<float>>{}), et::value_error);
  CHECK_THROWS_WITH(et::concat(std::vector<Tensor<float>>{}),
                    "concat: expected a non-empty list of tensors");
  CHECK_THROWS_AS(et::cat({a, et::zeros<float>({2, 4})}), et::shape_error);
  CHECK_THROWS_WITH(et::cat({a, a, et::zeros<float>({2, 4})}),
                    "concat: tensor 2 has shape [2, 4] but tensor 0 has shape [2, 3]; sizes must "
                    "match except in dimension 0");
  CHECK_THROWS_WITH(et::cat({a, et::zeros<float>({3})}, 1),
                    "concat: tensor 1 has shape [3] but tensor 0 has shape [2, 3]; sizes must "
                    "match except in dimension 1");
  CHECK_THROWS_AS(et::cat({a, a}, 2), et::index_error);
  CHECK_THROWS_WITH(et::cat({a, a}, 2),
                    "concat: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_THROWS_WITH(et::cat({et::zeros<float>({3}), et::tensor<float>(1.f)}),
                    "concat: tensor 1 is 0-d and cannot be concatenated; use stack, or unsqueeze "
                    "it first");
}

TEST_CASE("stack matches torch.stack for every dim", "[ops][join]") {
  const auto& f = fx();
  auto s0 = f.tensor<float>("stack_s0"), s1 = f.tensor<float>("stack_s1");
  auto s2 = f.tensor<float>("stack_s2");
  for (int d : {0, 1, 2, -1, -3}) {
    INFO("dim " << d);
    ETNA_CHECK_CLOSE(et::stack({s0, s1, s2}, d), f.tensor<float>("stack_dim" + std::to_string(d)),
                     0, 0);
  }
  // Transposed inputs and 0-d inputs.
  ETNA_CHECK_CLOSE(et::stack({s0.t(), s1.t()}, 1), et::stack({s0, s1}, 1).permute({2, 1, 0}), 0, 0);
  ETNA_CHECK_CLOSE(et::stack({et::tensor<float>(1.f), et::tensor<float>(2.f)}),
                   et::tensor<float>({1, 2}), 0, 0);
}

TEST_CASE("stack errors", "[ops][join]") {
  auto a = et::zeros<float>({2, 3});
  CHECK_THROWS_WITH(et::stack(std::vector<Tensor<float>>{}),
                    "stack: expected a non-empty list of tensors");
  CHECK_THROWS_AS(et::stack({a, et::zeros<float>({2, 4})}), et::shape_error);
  CHECK_THROWS_WITH(et::stack({a, et::zeros<float>({2, 4})}),
                    "stack: tensor 1 has shape [2, 4] but tensor 0 has shape [2, 3]; all tensors "
                    "must have the same shape");
  CHECK_THROWS_WITH(et::stack({a, a}, 3),
                    "stack: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
}

TEST_CASE("split matches torch.split and returns views", "[ops][join]") {
  const auto& f = fx();
  auto t = f.tensor<float>("split_in");
  auto pieces = et::split(t, 2);
  REQUIRE(pieces.size() == 3);
  for (std::size_t k = 0; k < pieces.size(); ++k)
    ETNA_CHECK_CLOSE(pieces[k], f.tensor<float>("split2_dim0_" + std::to_string(k)), 0, 0);
  auto by_sizes = et::split(t, {1, 3}, -1);
  REQUIRE(by_sizes.size() == 2);
  ETNA_CHECK_CLOSE(by_sizes[0], f.tensor<float>("split13_dim1_0"), 0, 0);
  ETNA_CHECK_CLOSE(by_sizes[1], f.tensor<float>("split13_dim1_1"), 0, 0);

  // Views: no copy, and writing through a piece writes into the original.
  CHECK(pieces[1].storage() == t.storage());
  CHECK(pieces[1].data() == t.data() + 2 * 4);
  pieces[2](0, 1) = 42.f;
  CHECK(t(4, 1) == 42.f);
  by_sizes[1].fill(-1.f);
  CHECK(t(3, 2) == -1.f);
  CHECK_FALSE(by_sizes[1].is_contiguous());

  // A braced list means sizes (as PyTorch's list), a number means the piece size.
  CHECK(et::split(t, {5}).size() == 1);
  CHECK(et::split(t, 5).size() == 1);
  CHECK(et::split(t, 6).size() == 1);
  CHECK(et::split(t, std::vector<std::int64_t>{2, 0, 3})[1].shape() == et::Shape{0, 4});
  CHECK(et::split(et::zeros<float>({2, 0}), 0, 1).size() == 1);
  // Expressions are evaluated first.
  auto e = et::split(t * 2.f, 3, 1);
  REQUIRE(e.size() == 2);
  ETNA_CHECK_CLOSE(e[1], t.slice(1, 3, 4) * 2.f, 0, 0);
}

TEST_CASE("split errors", "[ops][join]") {
  auto t = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::split(t, {1, 1}, 1), et::shape_error);
  CHECK_THROWS_WITH(et::split(t, {1, 1}, 1),
                    "split: sizes [1, 1] sum to 2 but dimension 1 of the input of shape [2, 3] "
                    "has size 3");
  CHECK_THROWS_AS(et::split(t, {4, -1}, 1), et::value_error);
  CHECK_THROWS_WITH(et::split(t, {4, -1}, 1), "split: sizes must be non-negative, got [4, -1]");
  CHECK_THROWS_WITH(et::split(t, -1, 1), "split: split_size must be non-negative, got -1");
  CHECK_THROWS_WITH(et::split(t, 0, 1),
                    "split: split_size can only be 0 if dimension 1 has size 0, but it has size 3");
  CHECK_THROWS_WITH(et::split(et::tensor<float>(1.f), 1),
                    "split: expected at least a 1-d tensor, got a 0-d tensor");
  CHECK_THROWS_WITH(et::split(t, 1, -3),
                    "split: dimension -3 out of range for a 2-d tensor (expected -2 to 1)");
}

TEST_CASE("chunk matches torch.chunk", "[ops][join]") {
  const auto& f = fx();
  auto t = f.tensor<float>("chunk_in");
  auto pieces = et::chunk(t, 4, 1);
  REQUIRE(static_cast<int>(pieces.size()) == f.value<int>("chunk4_count"));  // 3, not 4
  for (std::size_t k = 0; k < pieces.size(); ++k)
    ETNA_CHECK_CLOSE(pieces[k], f.tensor<float>("chunk4_dim1_" + std::to_string(k)), 0, 0);
  pieces[0].fill(7.f);
  CHECK(t(2, 1) == 7.f);
  auto five = et::chunk(et::arange<float>(5), 4);
  REQUIRE(five.size() == 3);
  CHECK(five[2].numel() == 1);
  // An empty dimension still gives the requested number of (empty) pieces.
  auto empty = et::chunk(et::zeros<float>({2, 0}), 3, 1);
  REQUIRE(empty.size() == 3);
  CHECK(empty[2].shape() == et::Shape{2, 0});
  CHECK(et::chunk(t + 1.f, 2).size() == 2);
}

TEST_CASE("chunk errors", "[ops][join]") {
  CHECK_THROWS_AS(et::chunk(et::zeros<float>({4}), 0), et::value_error);
  CHECK_THROWS_WITH(et::chunk(et::zeros<float>({4}), 0),
                    "chunk: chunks must be greater than 0, got 0");
  CHECK_THROWS_WITH(et::chunk(et::tensor<float>(1.f), 1),
                    "chunk: expected at least a 1-d tensor, got a 0-d tensor");
}
