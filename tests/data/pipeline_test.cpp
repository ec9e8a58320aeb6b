// Pipelines (etna/data/pipeline.hpp): the exact output of map, filter, take, skip, repeat,
// batch, shuffle and cache; prefetch gives what the pipeline without it gives, stops cleanly
// when the consumer leaves early and forwards upstream errors.
#include "etna/data/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <vector>

#include "etna/data/transforms.hpp"

namespace et = etna;
namespace data = etna::data;
using et::Shape;

namespace {
template <class P>
auto collect(P& pipeline) {
  std::vector<typename P::element_type> out;
  for (auto& e : pipeline) out.push_back(e);
  return out;
}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

template <class T>
std::vector<T> values(const et::Tensor<T>& t) {
  return std::vector<T>(t.begin(), t.end());
}

// Example i: data [i, 10 i] (float), target i.
struct Pairs {
  std::size_t n = 7;
  std::size_t size() const { return n; }
  data::Example<> get(std::size_t i) const {
    const auto v = static_cast<float>(i);
    return {et::tensor<float>({v, 10 * v}), static_cast<std::int64_t>(i)};
  }
};

// Example i: a 1x4x4 image filled with i, target i.
struct Tiles {
  std::size_t size() const { return 50; }
  data::Example<> get(std::size_t i) const {
    return {et::full<float>({1, 4, 4}, static_cast<float>(i)), static_cast<std::int64_t>(i)};
  }
};
}  // namespace

TEST_CASE("map, filter, take and skip are lazy and exact", "[data][pipeline]") {
  auto p = data::from_range(iota(10)) | data::map([](int x) { return x * 3; }) |
           data::filter([](int x) { return x % 2 == 0; }) | data::skip(1) | data::take(3);
  static_assert(std::ranges::input_range<decltype(p)>);
  CHECK(collect(p) == std::vector<int>{6, 12, 18});
  CHECK(collect(p) == std::vector<int>{6, 12, 18});  // a second pass is the same

  int pulled = 0;
  auto counted = data::from_range(std::views::iota(0, 1000)) | data::map([&](int x) {
                   ++pulled;
                   return x;
                 }) |
                 data::take(5);
  CHECK(collect(counted) == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(pulled == 5);  // take stops pulling

  auto none = data::from_range(iota(3)) | data::skip(5);
  CHECK(collect(none).empty());
  auto zero = data::from_range(iota(3)) | data::take(0);
  CHECK(collect(zero).empty());

  // Manual pulling: next() after the end keeps returning nothing.
  auto manual = data::from_range(iota(2));
  CHECK(manual.next() == 0);
  CHECK(manual.next() == 1);
  CHECK(!manual.next());
  CHECK(!manual.next());
  manual.reset();
  CHECK(manual.next() == 0);
}

TEST_CASE("repeat re-runs upstream a number of times or forever", "[data][pipeline]") {
  auto three = data::from_range(iota(3)) | data::repeat(3);
  CHECK(collect(three) == std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2});
  auto never = data::from_range(iota(3)) | data::repeat(0);
  CHECK(collect(never).empty());
  auto forever = data::from_range(iota(3)) | data::repeat() | data::take(7);
  CHECK(collect(forever) == std::vector<int>{0, 1, 2, 0, 1, 2, 0});
  auto empty = data::from_range(std::vector<int>{}) | data::repeat();  // no endless spin
  CHECK(collect(empty).empty());
  auto per_pass = data::from_range(iota(5)) | data::take(2) | data::repeat(2);
  CHECK(collect(per_pass) == std::vector<int>{0, 1, 0, 1});
}

TEST_CASE("batch stacks tensors and gathers targets", "[data][pipeline]") {
  auto p = data::from_dataset(Pairs{}) | data::batch(3);
  const auto batches = collect(p);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].data.shape() == Shape{3, 2});
  CHECK(values(batches[0].data) == std::vector<float>{0, 0, 1, 10, 2, 20});
  CHECK(values(batches[1].target) == std::vector<std::int64_t>{3, 4, 5});
  CHECK(batches[2].data.shape() == Shape{1, 2});
  CHECK(values(batches[2].target) == std::vector<std::int64_t>{6});

  auto dropped = data::from_dataset(Pairs{}) | data::batch(3, /*drop_remainder=*/true);
  CHECK(collect(dropped).size() == 2);
  auto scalars = data::from_range(iota(5)) | data::batch(2);
  const auto sb = collect(scalars);
  REQUIRE(sb.size() == 3);
  CHECK(values(sb[1]) == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("shuffle is a seeded buffer shuffle", "[data][pipeline]") {
  const auto input = iota(100);
  auto shuffled = [&](std::int64_t buffer, std::uint64_t seed) {
    auto p = data::from_range(input) | data::shuffle(buffer, seed);
    return collect(p);
  };
  const auto a = shuffled(10, 1);
  CHECK(a != input);
  CHECK(std::is_permutation(a.begin(), a.end(), input.begin(), input.end()));
  CHECK(shuffled(10, 1) == a);
  CHECK(shuffled(10, 2) != a);
  CHECK(shuffled(1, 1) == input);
  // With a buffer of 10, output position p is drawn from the first p + 10 inputs.
  for (std::size_t pos = 0; pos < a.size(); ++pos) CHECK(a[pos] <= static_cast<int>(pos) + 9);
  const auto full = shuffled(1000, 3);
  CHECK(std::is_permutation(full.begin(), full.end(), input.begin(), input.end()));

  // Each pass reshuffles; a new pipeline with the same seed replays the same passes.
  auto p = data::from_range(input) | data::shuffle(100, 5);
  const auto first = collect(p), second = collect(p);
  CHECK(first != second);
  CHECK(std::is_permutation(second.begin(), second.end(), input.begin(), input.end()));
  auto q = data::from_range(input) | data::shuffle(100, 5);
  CHECK(collect(q) == first);
  CHECK(collect(q) == second);

  et::manual_seed(42);
  auto s1 = data::from_range(input) | data::shuffle(50);
  et::manual_seed(42);
  auto s2 = data::from_range(input) | data::shuffle(50);
  CHECK(collect(s1) == collect(s2));
}

TEST_CASE("prefetch yields exactly what the pipeline without it yields", "[data][pipeline]") {
  auto tf = data::RandomCrop(4, 1) | data::GaussianNoise(0.5f);
  auto make = [&] {
    return data::from_dataset(data::transformed(Tiles{}, tf, 9)) | data::shuffle(16, 4) |
           data::batch(8);
  };
  auto plain = make();
  auto ahead = make() | data::prefetch(2);
  for (int pass = 0; pass < 2; ++pass) {  // two passes: epochs and reshuffles stay in step
    const auto a = collect(plain), b = collect(ahead);
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() == 7);
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(values(a[i].data) == values(b[i].data));
      CHECK(values(a[i].target) == values(b[i].target));
    }
  }
}

TEST_CASE("prefetch stops cleanly when the consumer leaves early", "[data][pipeline]") {
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> produced{0};
    {
      auto p = data::from_range(std::views::iota(0, 100000)) | data::map([&](int x) {
                 ++produced;
                 return x;
               }) |
               data::prefetch(3);
      int seen = 0;
      for (int x : p) {
        CHECK(x == seen);
        if (++seen == 5) break;
      }
      // A second pass starts over; leave it early too, then destroy the pipeline mid-pass.
      auto it = p.begin();
      CHECK(*it == 0);
      ++it;
      CHECK(*it == 1);
    }
    CHECK(produced.load() < 100000);
  }
  // take after prefetch leaves the producer blocked on a full queue: destruction still joins.
  auto p = data::from_range(std::views::iota(0, 1000)) | data::prefetch(1) | data::take(2);
  CHECK(collect(p) == std::vector<int>{0, 1});
}

TEST_CASE("prefetch forwards an upstream exception after the elements before it",
          "[data][pipeline]") {
  auto p = data::from_range(iota(10)) | data::map([](int x) {
             if (x == 4) throw std::runtime_error("bad element 4");
             return x;
           }) |
           data::prefetch(2);
  std::vector<int> seen;
  CHECK_THROWS_WITH(
      [&] {
        for (int x : p) seen.push_back(x);
      }(),
      "bad element 4");
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("cache evaluates upstream once and replays it", "[data][pipeline]") {
  int calls = 0;
  auto p = data::from_range(iota(6)) | data::map([&](int x) {
             ++calls;
             return x * x;
           }) |
           data::cache();
  const std::vector<int> squares{0, 1, 4, 9, 16, 25};
  CHECK(collect(p) == squares);
  CHECK(collect(p) == squares);
  CHECK(collect(p) == squares);
  CHECK(calls == 6);

  calls = 0;
  auto r = data::from_range(iota(4)) | data::map([&](int x) {
             ++calls;
             return x;
           }) |
           data::cache() | data::repeat(3);
  CHECK(collect(r).size() == 12);
  CHECK(calls == 4);

  // A pass cut short is not kept: the next pass reads upstream again.
  calls = 0;
  auto c = data::from_range(iota(4)) | data::map([&](int x) {
             ++calls;
             return x;
           }) |
           data::cache();
  for (int x : c)
    if (x == 1) break;
  CHECK(collect(c) == std::vector<int>{0, 1, 2, 3});
  CHECK(collect(c) == std::vector<int>{0, 1, 2, 3});
  CHECK(calls == 2 + 4);
}

TEST_CASE("from_dataset moves a transformed dataset to the next epoch on each pass",
          "[data][pipeline]") {
  const Pairs base{.n = 3};
  auto tf = data::GaussianNoise(1.f);
  auto p = data::from_dataset(data::transformed(base, tf, 1));
  const auto first = collect(p), second = collect(p);
  auto ds = data::transformed(base, tf, 1);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(values(first[i].data) == values(ds.get(i).data));
    CHECK(values(second[i].data) != values(first[i].data));
  }
  // An lvalue dataset is referenced: its epoch moves with the passes.
  auto q = data::from_dataset(ds);
  collect(q);
  collect(q);
  collect(q);
  CHECK(ds.epoch() == 2);
}

TEST_CASE("pipeline arguments are checked", "[data][pipeline]") {
  CHECK_THROWS_AS(data::batch(0), et::value_error);
  CHECK_THROWS_WITH(data::batch(0), "batch: batch size must be at least 1, got 0");
  CHECK_THROWS_AS(data::take(-1), et::value_error);
  CHECK_THROWS_AS(data::skip(-1), et::value_error);
  CHECK_THROWS_AS(data::repeat(-2), et::value_error);
  CHECK_THROWS_AS(data::shuffle(0, 1), et::value_error);
  CHECK_THROWS_AS(data::prefetch(0), et::value_error);
}
