// In-memory datasets and wrappers (etna/data/tensor_dataset.hpp): TensorDataset rows and
// targets, Subset and ConcatDataset indexing, and random_split's determinism and disjointness.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <vector>

#include "etna/core/factory.hpp"
#include "etna/data/tensor_dataset.hpp"

namespace et = etna;
namespace data = etna::data;
using Catch::Contains;

namespace {
// 10 rows of 3 values: row i is (i, 10 i, 100 i); target i is i % 4.
data::TensorDataset<> numbered(std::int64_t n = 10) {
  auto x = et::empty<float>({n, 3});
  auto y = et::empty<std::int64_t>({n});
  for (std::int64_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<float>(i);
    x(i, 1) = static_cast<float>(10 * i);
    x(i, 2) = static_cast<float>(100 * i);
    y(i) = i % 4;
  }
  return data::TensorDataset(x, y);
}

template <class D>
std::vector<float> first_values(const D& ds) {
  std::vector<float> v;
  for (std::size_t i = 0; i < ds.size(); ++i) v.push_back(ds.get(i).data(0));
  return v;
}
}  // namespace

TEST_CASE("TensorDataset pairs each row with its target", "[data][datasets]") {
  const auto ds = numbered();
  STATIC_REQUIRE(data::Dataset<data::TensorDataset<>>);
  STATIC_REQUIRE(std::is_same_v<data::example_t<data::TensorDataset<>>,
                                data::Example<et::Tensor<float>, std::int64_t>>);
  REQUIRE(ds.size() == 10);
  const auto [x, y] = ds.get(7);
  CHECK(x.shape() == et::Shape{3});
  CHECK(x.is_contiguous());
  CHECK(x(0) == 7.0f);
  CHECK(x(2) == 700.0f);
  CHECK(y == 3);

  // Float targets (regression) and any row shape.
  const data::TensorDataset reg(et::zeros<float>({4, 2, 2}),
                                et::tensor<double>({0.5, 1.5, 2.5, 3.5}));
  STATIC_REQUIRE(std::is_same_v<decltype(reg.get(0).target), double>);
  CHECK(reg.get(2).target == 2.5);
  CHECK(reg.get(2).data.shape() == et::Shape{2, 2});

  // A non-contiguous input is made contiguous once, so every row is a contiguous view.
  const data::TensorDataset<> transposed(numbered().data().t().contiguous().t(),
                                         numbered().targets());
  CHECK(transposed.get(4).data.is_contiguous());
  CHECK(transposed.get(4).data(1) == 40.0f);
}

TEST_CASE("TensorDataset errors name the shapes and the index", "[data][datasets]") {
  REQUIRE_THROWS_AS(data::TensorDataset(et::zeros<float>({5, 2}), et::zeros<std::int64_t>({4})),
                    et::shape_error);
  REQUIRE_THROWS_WITH(data::TensorDataset(et::zeros<float>({5, 2}), et::zeros<std::int64_t>({4})),
                      "TensorDataset: data has 5 rows (shape [5, 2]) but targets has 4");
  REQUIRE_THROWS_WITH(data::TensorDataset(et::zeros<float>({4}), et::zeros<std::int64_t>({4, 1})),
                      "TensorDataset: targets must be 1-d [N], got shape [4, 1]");
  const auto ds = numbered();
  REQUIRE_THROWS_AS(ds.get(10), et::index_error);
  REQUIRE_THROWS_WITH(ds.get(10),
                      "TensorDataset::get: index 10 is out of range for a dataset of size 10");
}

TEST_CASE("Subset reads the dataset at its indices, in order", "[data][datasets]") {
  const data::Subset sub(numbered(), {9, 2, 2, 5});
  STATIC_REQUIRE(data::Dataset<decltype(sub)>);
  REQUIRE(sub.size() == 4);
  CHECK(first_values(sub) == std::vector<float>{9, 2, 2, 5});
  CHECK(sub.get(0).target == 1);
  REQUIRE_THROWS_WITH(sub.get(4), "Subset::get: index 4 is out of range for a dataset of size 4");
  REQUIRE_THROWS_AS(data::Subset(numbered(), {1, 10}), et::index_error);
  REQUIRE_THROWS_WITH(data::Subset(numbered(), {1, 10}),
                      "Subset: index 10 (entry 1) is out of range for a dataset of size 10");
  // A subset of a subset.
  const data::Subset nested(sub, {3, 0});
  CHECK(first_values(nested) == std::vector<float>{5, 9});
}

TEST_CASE("ConcatDataset chains datasets end to end", "[data][datasets]") {
  const data::ConcatDataset cat{numbered(3), numbered(0), numbered(2)};
  STATIC_REQUIRE(data::Dataset<decltype(cat)>);
  REQUIRE(cat.size() == 5);
  CHECK(first_values(cat) == std::vector<float>{0, 1, 2, 0, 1});
  CHECK(cat.get(4).target == 1);
  REQUIRE_THROWS_WITH(cat.get(5),
                      "ConcatDataset::get: index 5 is out of range for a dataset of size 5");
  CHECK(data::ConcatDataset<data::TensorDataset<>>(std::vector<data::TensorDataset<>>{}).size() ==
        0);
}

TEST_CASE("random_split is disjoint, complete and deterministic for a seed", "[data][datasets]") {
  const auto ds = numbered(100);
  const auto pieces = data::random_split(ds, {70, 20, 10}, 42);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0].size() == 70);
  CHECK(pieces[1].size() == 20);
  CHECK(pieces[2].size() == 10);
  std::set<std::size_t> seen;
  for (const auto& p : pieces)
    for (auto i : p.indices()) CHECK(seen.insert(i).second);
  CHECK(seen.size() == 100);
  // Actually shuffled, not the identity order.
  CHECK_FALSE(std::is_sorted(pieces[0].indices().begin(), pieces[0].indices().end()));
  // Examples come from the shared dataset through the indices.
  CHECK(pieces[1].get(3).data(1) == 10.0f * static_cast<float>(pieces[1].indices()[3]));

  const auto again = data::random_split(ds, {70, 20, 10}, 42);
  for (std::size_t k = 0; k < 3; ++k) CHECK(again[k].indices() == pieces[k].indices());
  const auto other = data::random_split(ds, {70, 20, 10}, 43);
  CHECK(other[0].indices() != pieces[0].indices());

  // A lengths vector, fractions and a braced list of fractions agree.
  const auto by_lengths = data::random_split(ds, std::vector<std::size_t>{70, 20, 10}, 42);
  const auto by_fractions = data::random_split(ds, std::vector<double>{0.7, 0.2, 0.1}, 42);
  const auto by_braced = data::random_split(ds, {0.7, 0.2, 0.1}, 42);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(by_lengths[k].indices() == pieces[k].indices());
    CHECK(by_fractions[k].indices() == pieces[k].indices());
    CHECK(by_braced[k].indices() == pieces[k].indices());
  }

  // Without a seed the default generator decides, so manual_seed makes it reproducible.
  et::manual_seed(7);
  const auto a = data::random_split(ds, {50, 50});
  et::manual_seed(7);
  const auto b = data::random_split(ds, {50, 50});
  CHECK(a[0].indices() == b[0].indices());
}

TEST_CASE("random_split gives fraction remainders to the first pieces", "[data][datasets]") {
  // 10 examples at 1/3 each: floor gives 3, 3, 3 and the leftover example goes to piece 0.
  const auto pieces = data::random_split(numbered(10), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 1);
  CHECK(pieces[0].size() == 4);
  CHECK(pieces[1].size() == 3);
  CHECK(pieces[2].size() == 3);
  // An empty piece is allowed.
  CHECK(data::random_split(numbered(10), {10, 0}, 1)[1].size() == 0);
}

TEST_CASE("random_split rejects lengths that do not cover the dataset", "[data][datasets]") {
  const auto ds = numbered(10);
  REQUIRE_THROWS_AS(data::random_split(ds, {6, 3}, 0), et::value_error);
  REQUIRE_THROWS_WITH(data::random_split(ds, {6, 3}, 0),
                      "random_split: lengths [6, 3] sum to 9 but the dataset has 10 examples");
  REQUIRE_THROWS_WITH(data::random_split(ds, std::vector<double>{0.5, 0.6}, 0),
                      Contains("fractions sum to 1.1, not 1"));
  REQUIRE_THROWS_WITH(data::random_split(ds, {2.5, 7.5}, 0),
                      Contains("2.5 is neither a whole length nor one of fractions summing to 1"));
  REQUIRE_THROWS_WITH(data::random_split(ds, std::vector<double>{1.5, -0.5}, 0),
                      Contains("fraction 1.5 is not between 0 and 1"));
}
