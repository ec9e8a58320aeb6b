// Tests etna/ops/indexing.hpp against PyTorch fixtures: index_select, gather, scatter_add,
// index_add, one_hot; transposed inputs, duplicate indices, parallel paths, error messages.
#include "etna/ops/indexing.hpp"

#include <catch2/catch.hpp>
#include <cstdint>

#include "support/fixtures.hpp"

namespace {

namespace et = etna;
using et::Tensor;
using I = std::int64_t;

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("shape_ops.json");
  return f;
}

// Naive oracles for 2-d tensors, element by element through the logical indexing API.
Tensor<double> gather_ref(const Tensor<double>& x, int dim, const Tensor<I>& idx) {
  auto out = et::empty<double>(idx.shape());
  for (I i = 0; i < idx.size(0); ++i)
    for (I j = 0; j < idx.size(1); ++j) out(i, j) = dim == 0 ? x(idx(i, j), j) : x(i, idx(i, j));
  return out;
}
Tensor<double> scatter_add_ref(const Tensor<double>& x, int dim, const Tensor<I>& idx,
                               const Tensor<double>& src) {
  auto out = x.clone();
  for (I i = 0; i < idx.size(0); ++i)
    for (I j = 0; j < idx.size(1); ++j)
      (dim == 0 ? out(idx(i, j), j) : out(i, idx(i, j))) += src(i, j);
  return out;
}
Tensor<double> index_add_ref(const Tensor<double>& x, int dim, const Tensor<I>& idx,
                             const Tensor<double>& src) {
  auto out = x.clone();
  for (I i = 0; i < src.size(0); ++i)
    for (I j = 0; j < src.size(1); ++j) (dim == 0 ? out(idx(i), j) : out(i, idx(j))) += src(i, j);
  return out;
}

}  // namespace

TEST_CASE("index_select matches torch.index_select", "[ops][indexing]") {
  const auto& f = fx();
  auto x = f.tensor<float>("is_x");
  auto i0 = f.tensor<I>("is_idx0"), i1 = f.tensor<I>("is_idx1");
  ETNA_CHECK_CLOSE(et::index_select(x, 0, i0), f.tensor<float>("is_dim0"), 0, 0);
  ETNA_CHECK_CLOSE(et::index_select(x, 1, i1), f.tensor<float>("is_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::index_select(x.t(), -1, i0), f.tensor<float>("is_dimm1_t"), 0, 0);
  ETNA_CHECK_CLOSE(et::index_select(f.tensor<float>("is_x3"), 1, f.tensor<I>("is_idx3")),
                   f.tensor<float>("is_x3_dim1"), 0, 0);
  // A 0-d index selects one slice and keeps the dimension (size 1).
  CHECK(et::index_select(x, 1, et::tensor<I>(2)).shape() == et::Shape{4, 1});
  // Other element types, expressions, empty index.
  auto xi = x.to<std::int32_t>();
  ETNA_CHECK_CLOSE(et::index_select(xi, 0, i0), f.tensor<std::int32_t>("is_dim0"), 0, 0);
  auto mask = et::tensor<bool>({true, false, true});
  ETNA_CHECK_CLOSE(et::index_select(mask, 0, et::tensor<I>({1, 0})),
                   et::tensor<bool>({false, true}), 0, 0);
  ETNA_CHECK_CLOSE(et::index_select(x * 2.f, 0, i0), f.tensor<float>("is_dim0") * 2.f, 0, 0);
  CHECK(et::index_select(x, 0, et::empty<I>({0})).shape() == et::Shape{0, 5});
}

TEST_CASE("index_select errors", "[ops][indexing]") {
  auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::index_select(x, 1, et::tensor<I>({-1})), et::index_error);
  CHECK_THROWS_WITH(et::index_select(x, 1, et::tensor<I>({0, -1})),
                    "index_select: index -1 is out of range for dimension 1 with size 3");
  CHECK_THROWS_WITH(et::index_select(x, 1, et::tensor<I>({3})),
                    "index_select: index 3 is out of range for dimension 1 with size 3");
  CHECK_THROWS_AS(et::index_select(x, 1, et::full<I>({1, 1}, 0)), et::shape_error);
  CHECK_THROWS_WITH(et::index_select(x, 1, et::full<I>({1, 1}, 0)),
                    "index_select: index must be 0-d or 1-d, got shape [1, 1]");
  CHECK_THROWS_WITH(et::index_select(x, 2, et::tensor<I>({0})),
                    "index_select: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
}

TEST_CASE("gather matches torch.gather", "[ops][indexing]") {
  const auto& f = fx();
  auto g = f.tensor<float>("g_x");
  ETNA_CHECK_CLOSE(et::gather(g, 1, f.tensor<I>("g_idx1")), f.tensor<float>("g_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::gather(g, 0, f.tensor<I>("g_idx0")), f.tensor<float>("g_dim0"), 0, 0);
  ETNA_CHECK_CLOSE(et::gather(g.t(), 0, f.tensor<I>("g_idx0_t")), f.tensor<float>("g_dim0_t"), 0,
                   0);
  auto g3 = f.tensor<float>("g3_x");
  ETNA_CHECK_CLOSE(et::gather(g3, 1, f.tensor<I>("g3_idx")), f.tensor<float>("g3_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::gather(g3, -1, f.tensor<I>("g3_idxl")), f.tensor<float>("g3_dimm1"), 0, 0);
  // A transposed index and a 0-d input.
  auto idx = f.tensor<I>("g_idx1");
  ETNA_CHECK_CLOSE(et::gather(g.t(), 0, idx.t()), f.tensor<float>("g_dim1").t(), 0, 0);
  CHECK(et::gather(et::tensor<float>(5.f), 0, et::tensor<I>(0)).item() == 5.f);
  ETNA_CHECK_CLOSE(
      et::gather(et::tensor<std::int32_t>({{1, 2}, {3, 4}}), 1, et::tensor<I>({{1, 1}, {0, 1}})),
      et::tensor<std::int32_t>({{2, 2}, {3, 4}}), 0, 0);
}

TEST_CASE("gather on large tensors agrees with the naive oracle", "[ops][indexing]") {
  auto x = et::randn<double>({257, 300});
  for (int dim : {0, 1}) {
    INFO("dim " << dim);
    auto idx = et::randint<I>(0, x.size(dim), {250, 290});
    ETNA_CHECK_CLOSE(et::gather(x, dim, idx), gather_ref(x, dim, idx), 0, 0);
    auto xt = x.t().contiguous().t();  // same values, column-major layout
    ETNA_CHECK_CLOSE(et::gather(xt, dim, idx), gather_ref(x, dim, idx), 0, 0);
  }
}

TEST_CASE("gather errors", "[ops][indexing]") {
  auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::gather(x, 1, et::full<I>({1, 1}, -1)), et::index_error);
  CHECK_THROWS_WITH(et::gather(x, 1, et::full<I>({1, 1}, -1)),
                    "gather: index -1 is out of range for dimension 1 with size 3");
  CHECK_THROWS_WITH(et::gather(x, 0, et::tensor<I>({{0, 2, 1}})),
                    "gather: index 2 is out of range for dimension 0 with size 2");
  CHECK_THROWS_AS(et::gather(x, 1, et::tensor<I>({0})), et::shape_error);
  CHECK_THROWS_WITH(et::gather(x, 1, et::tensor<I>({0})),
                    "gather: index of shape [1] must have as many dimensions as the input of "
                    "shape [2, 3]");
  CHECK_THROWS_WITH(et::gather(x, 1, et::zeros<I>({3, 1})),
                    "gather: index of shape [3, 1] is larger than the input of shape [2, 3] in "
                    "dimension 0 (only dimension 1 may be larger)");
}

TEST_CASE("scatter_add matches torch.scatter_add", "[ops][indexing]") {
  const auto& f = fx();
  auto base = f.tensor<float>("sa_base");
  const auto before = base.clone();
  ETNA_CHECK_CLOSE(et::scatter_add(base, 1, f.tensor<I>("sa_idx1"), f.tensor<float>("sa_src1")),
                   f.tensor<float>("sa_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::scatter_add(base, 0, f.tensor<I>("sa_idx0"), f.tensor<float>("sa_src0")),
                   f.tensor<float>("sa_dim0"), 0, 0);
  ETNA_CHECK_CLOSE(base, before, 0, 0);  // out-of-place
  auto s3 = f.tensor<float>("sa3_base");
  ETNA_CHECK_CLOSE(et::scatter_add(s3, 1, f.tensor<I>("sa3_idx"), f.tensor<float>("sa3_src")),
                   f.tensor<float>("sa3_dim1"), 0, 0);
  ETNA_CHECK_CLOSE(et::scatter_add(s3, -1, f.tensor<I>("sa3_idxl"), f.tensor<float>("sa3_srcl")),
                   f.tensor<float>("sa3_dimm1"), 0, 0);
  // Duplicate indices accumulate; a transposed src; an expression src.
  auto dup = et::scatter_add(et::zeros<float>({3}), 0, et::tensor<I>({1, 1, 1, 2}),
                             et::tensor<float>({1, 2, 3, 4}));
  ETNA_CHECK_CLOSE(dup, et::tensor<float>({0, 6, 4}), 0, 0);
  auto src = et::tensor<float>({{1, 2}, {3, 4}});
  ETNA_CHECK_CLOSE(
      et::scatter_add(et::zeros<float>({2, 2}), 1, et::tensor<I>({{0, 0}, {1, 0}}), src.t()),
      et::tensor<float>({{4, 0}, {4, 2}}), 0, 0);
  ETNA_CHECK_CLOSE(et::scatter_add(et::zeros<float>({2}), 0, et::tensor<I>({0, 0}), src[0] * 2.f),
                   et::tensor<float>({6, 0}), 0, 0);
  ETNA_CHECK_CLOSE(et::scatter_add(et::zeros<std::int32_t>({2}), 0, et::tensor<I>({1, 1}),
                                   et::tensor<std::int32_t>({5, 6})),
                   et::tensor<std::int32_t>({0, 11}), 0, 0);
}

TEST_CASE("scatter_add on large tensors agrees with the naive oracle", "[ops][indexing]") {
  // dim 0 with one outer block splits columns; dim 1 splits rows; few targets force collisions.
  auto x = et::randn<double>({64, 4096});
  for (int dim : {0, 1}) {
    INFO("dim " << dim);
    auto idx = et::randint<I>(0, dim == 0 ? 7 : 5, {60, 4000});
    auto src = et::randn<double>({64, 4000});
    ETNA_CHECK_CLOSE(et::scatter_add(x, dim, idx, src), scatter_add_ref(x, dim, idx, src), 1e-12,
                     1e-12);
  }
}

TEST_CASE("scatter_add errors", "[ops][indexing]") {
  auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::scatter_add(x, 1, et::full<I>({1, 1}, 5), et::ones<float>({1, 1})),
                  et::index_error);
  CHECK_THROWS_WITH(et::scatter_add(x, 1, et::full<I>({1, 1}, 5), et::ones<float>({1, 1})),
                    "scatter_add: index 5 is out of range for dimension 1 with size 3");
  CHECK_THROWS_WITH(et::scatter_add(x, 1, et::full<I>({1, 1}, -1), et::ones<float>({1, 1})),
                    "scatter_add: index -1 is out of range for dimension 1 with size 3");
  CHECK_THROWS_AS(et::scatter_add(x, 1, et::tensor<I>({{0, 1}}), et::ones<float>({1, 1})),
                  et::shape_error);
  CHECK_THROWS_WITH(et::scatter_add(x, 1, et::tensor<I>({{0, 1}}), et::ones<float>({1, 1})),
                    "scatter_add: index of shape [1, 2] is larger than src of shape [1, 1] in "
                    "dimension 1");
  CHECK_THROWS_WITH(et::scatter_add(x, 1, et::zeros<I>({3, 1}), et::ones<float>({3, 1})),
                    "scatter_add: index of shape [3, 1] is larger than the input of shape [2, 3] "
                    "in dimension 0 (only dimension 1 may be larger)");
  CHECK_THROWS_WITH(et::scatter_add(x, 0, et::tensor<I>({1, 0}), et::ones<float>({2, 3})),
                    "scatter_add: index of shape [2], src of shape [2, 3] and the input of shape "
                    "[2, 3] must have the same number of dimensions");
}

TEST_CASE("index_add matches torch.index_add", "[ops][indexing]") {
  const auto& f = fx();
  auto base = f.tensor<float>("ia_base");
  const auto before = base.clone();
  ETNA_CHECK_CLOSE(et::index_add(base, 0, f.tensor<I>("ia_idx0"), f.tensor<float>("ia_src0")),
                   f.tensor<float>("ia_dim0"), 0, 0);
  ETNA_CHECK_CLOSE(et::index_add(base, 1, f.tensor<I>("ia_idx1"), f.tensor<float>("ia_src1"), 2.5f),
                   f.tensor<float>("ia_dim1_alpha"), 0, 0);
  ETNA_CHECK_CLOSE(base, before, 0, 0);  // out-of-place
  ETNA_CHECK_CLOSE(et::index_add(f.tensor<float>("ia3_base"), 1, f.tensor<I>("ia3_idx"),
                                 f.tensor<float>("ia3_src")),
                   f.tensor<float>("ia3_dim1"), 0, 0);
  // Duplicates accumulate; transposed input and src; expression input.
  auto dup = et::index_add(et::zeros<float>({3}), 0, et::tensor<I>({2, 2, 2}),
                           et::tensor<float>({1, 2, 3}));
  ETNA_CHECK_CLOSE(dup, et::tensor<float>({0, 0, 6}), 0, 0);
  auto src = f.tensor<float>("ia_src0");
  ETNA_CHECK_CLOSE(et::index_add(base.t(), 1, f.tensor<I>("ia_idx0"), src.t()),
                   f.tensor<float>("ia_dim0").t(), 0, 0);
  ETNA_CHECK_CLOSE(et::index_add(base + 0.f, 0, f.tensor<I>("ia_idx0"), src),
                   f.tensor<float>("ia_dim0"), 0, 0);
  CHECK(et::index_add(et::tensor<float>(1.f), 0, et::tensor<I>(0), et::tensor<float>(2.f)).item() ==
        3.f);
}

TEST_CASE("index_add on large tensors agrees with the naive oracle", "[ops][indexing]") {
  auto wide = et::randn<double>({4, 20000});  // few rows: columns are split across threads
  auto i0 = et::randint<I>(0, 4, {9});
  auto s0 = et::randn<double>({9, 20000});
  ETNA_CHECK_CLOSE(et::index_add(wide, 0, i0, s0), index_add_ref(wide, 0, i0, s0), 1e-12, 1e-12);
  auto tall = et::randn<double>({20000, 6});  // many rows: rows are split
  auto i1 = et::randint<I>(0, 6, {11});
  auto s1 = et::randn<double>({20000, 11});
  ETNA_CHECK_CLOSE(et::index_add(tall, 1, i1, s1), index_add_ref(tall, 1, i1, s1), 1e-12, 1e-12);
}

TEST_CASE("index_add errors", "[ops][indexing]") {
  auto x = et::zeros<float>({2, 3});
  CHECK_THROWS_AS(et::index_add(x, 1, et::tensor<I>({0, 5}), et::ones<float>({2, 2})),
                  et::index_error);
  CHECK_THROWS_WITH(et::index_add(x, 1, et::tensor<I>({0, 5}), et::ones<float>({2, 2})),
                    "index_add: index 5 is out of range for dimension 1 with size 3");
  CHECK_THROWS_WITH(et::index_add(x, 1, et::tensor<I>({0, -1}), et::ones<float>({2, 2})),
                    "index_add: index -1 is out of range for dimension 1 with size 3");
  CHECK_THROWS_AS(et::index_add(x, 1, et::tensor<I>({0, 1}), et::ones<float>({2, 3})),
                  et::shape_error);
  CHECK_THROWS_WITH(et::index_add(x, 1, et::tensor<I>({0, 1}), et::ones<float>({2, 3})),
                    "index_add: src of shape [2, 3] must have shape [2, 2] (the input's shape "
                    "[2, 3] with dimension 1 replaced by the 2 indices)");
  CHECK_THROWS_WITH(et::index_add(x, 1, et::tensor<I>({{0, 1}}), et::ones<float>({2, 2})),
                    "index_add: index must be 0-d or 1-d, got shape [1, 2]");
}

TEST_CASE("one_hot matches F.one_hot", "[ops][indexing]") {
  const auto& f = fx();
  auto labels = f.tensor<I>("oh_labels");
  auto inferred = et::one_hot(labels);
  static_assert(std::is_same_v<decltype(inferred), Tensor<I>>);
  ETNA_CHECK_CLOSE(inferred, f.tensor<I>("oh_infer"), 0, 0);
  ETNA_CHECK_CLOSE(et::one_hot(labels, 6), f.tensor<I>("oh_6"), 0, 0);
  ETNA_CHECK_CLOSE(et::one_hot<float>(labels, 6), f.tensor<float>("oh_6"), 0, 0);
  ETNA_CHECK_CLOSE(et::one_hot(labels.t(), 6), f.tensor<I>("oh_6").transpose(0, 1), 0, 0);
  CHECK(et::one_hot(et::empty<I>({0}), 3).shape() == et::Shape{0, 3});
  ETNA_CHECK_CLOSE(et::one_hot(et::tensor<I>(1), 3), et::tensor<I>({0, 1, 0}), 0, 0);
}

TEST_CASE("one_hot errors", "[ops][indexing]") {
  CHECK_THROWS_AS(et::one_hot(et::tensor<I>({-1, 0})), et::index_error);
  CHECK_THROWS_WITH(et::one_hot(et::tensor<I>({-1, 0})),
                    "one_hot: class values must be non-negative, got -1");
  CHECK_THROWS_WITH(et::one_hot(et::tensor<I>({3, 0}), 3),
                    "one_hot: class value 3 is out of range for num_classes 3");
  CHECK_THROWS_AS(et::one_hot(et::empty<I>({0})), et::value_error);
  CHECK_THROWS_WITH(et::one_hot(et::empty<I>({0})),
                    "one_hot: cannot infer num_classes from an empty tensor; pass it explicitly");
  CHECK_THROWS_WITH(et::one_hot(et::tensor<I>({1}), -2),
                    "one_hot: num_classes must be -1 (infer) or non-negative, got -2");
}

TEST_CASE("gather and scatter_add are adjoint", "[ops][indexing]") {
  // <gather(x, idx), g> == <x, scatter_add(0, idx, g)>: what autograd will rely on.
  auto x = et::randn<double>({5, 7});
  auto idx = et::randint<I>(0, 7, {5, 9});
  auto g = et::randn<double>({5, 9});
  double lhs = 0, rhs = 0;
  auto gx = et::gather(x, 1, idx);
  auto sg = et::scatter_add(et::zeros<double>({5, 7}), 1, idx, g);
  for (I i = 0; i < 5; ++i) {
    for (I j = 0; j < 9; ++j) lhs += gx(i, j) * g(i, j);
    for (I j = 0; j < 7; ++j) rhs += x(i, j) * sg(i, j);
  }
  CHECK(lhs == Approx(rhs).epsilon(1e-12));
}
