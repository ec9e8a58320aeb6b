// Samplers, collate and DataLoader (etna/data/{sampler,collate,data_loader}.hpp): every sample
// once per epoch, seeded and epoch-dependent order, workers == no workers batch for batch,
// early exits and worker errors, PyTorch's DistributedSampler shards and weighted draws.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "etna/data/collate.hpp"
#include "etna/data/data_loader.hpp"
#include "etna/data/sampler.hpp"
#include "etna/etna.hpp"

namespace et = etna;
namespace data = etna::data;
using Catch::Matchers::Contains;

namespace {

// Example i is ([i, 10 i], i); get(bad) throws, to test error propagation.
struct Numbers {
  std::size_t n = 10;
  std::size_t bad = static_cast<std::size_t>(-1);
  std::size_t size() const { return n; }
  data::Example<et::Tensor<float>, std::int64_t> get(std::size_t i) const {
    if (i == bad) throw et::value_error("Numbers: bad sample " + std::to_string(i));
    auto x = et::empty<float>({2});
    x.data()[0] = static_cast<float>(i);
    x.data()[1] = static_cast<float>(10 * i);
    return {x, static_cast<std::int64_t>(i)};
  }
};

// Adds noise seeded by the loader's per-sample seed: the same for any number of workers.
struct Noisy {
  Numbers base;
  std::size_t size() const { return base.size(); }
  data::Example<et::Tensor<float>, std::int64_t> get(std::size_t i) const {
    auto ex = base.get(i);
    const data::LoadContext* ctx = data::current_load_context();
    if (!ctx) throw std::logic_error("Noisy: called outside a DataLoader");
    if (ctx->index != i || ctx->worker_id >= ctx->num_workers)
      throw std::logic_error("Noisy: inconsistent load context");
    et::Generator gen(ctx->sample_seed());
    ex.data = ex.data + et::randn<float>({2}, gen);
    return ex;
  }
};

// Targets of every batch of one epoch; checks that each row's data matches its target.
template <class Loader>
std::vector<std::vector<std::int64_t>> epoch_targets(Loader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  for (auto& [x, y] : loader) {
    REQUIRE(x.dim() == 2);
    REQUIRE(x.size(0) == y.numel());
    std::vector<std::int64_t> ys(y.begin(), y.end());
    for (std::int64_t r = 0; r < y.numel(); ++r) {
      REQUIRE(x(r, 0) == static_cast<float>(ys[static_cast<std::size_t>(r)]));
      REQUIRE(x(r, 1) == static_cast<float>(10 * ys[static_cast<std::size_t>(r)]));
    }
    out.push_back(ys);
  }
  return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& batches) {
  std::vector<std::int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

std::vector<std::int64_t> iota64(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

}  // namespace

static_assert(data::Sampler<data::SequentialSampler>);
static_assert(data::Sampler<data::RandomSampler>);
static_assert(data::Sampler<data::WeightedRandomSampler>);
static_assert(data::Sampler<data::DistributedSampler>);
static_assert(std::input_iterator<data::DataLoader<Numbers&>::iterator>);

TEST_CASE("DataLoader deduces reference or ownership from how the dataset is passed",
          "[data][loader]") {
  Numbers train_set{.n = 130};
  data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .num_workers = 2});
  static_assert(std::is_same_v<decltype(loader), data::DataLoader<Numbers&>>);
  CHECK(&loader.dataset() == &train_set);
  data::DataLoader owned(Numbers{.n = 7}, {.batch_size = 2});
  static_assert(std::is_same_v<decltype(owned), data::DataLoader<Numbers>>);
  CHECK(owned.dataset().size() == 7);
  CHECK(loader.size() == 3);
  CHECK(owned.size() == 4);
  std::size_t batches = 0;
  for (auto& [xb, yb] : loader) {
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(xb)>, et::Tensor<float>>);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(yb)>, et::Tensor<std::int64_t>>);
    CHECK(xb.shape() == et::Shape{batches < 2 ? 64 : 2, 2});
    ++batches;
  }
  CHECK(batches == 3);
}

TEST_CASE("DataLoader visits each sample exactly once per epoch", "[data][loader]") {
  Numbers ds{.n = 10};
  for (bool shuffle : {false, true}) {
    data::DataLoader loader(ds, {.batch_size = 3, .shuffle = shuffle, .seed = 1});
    REQUIRE(loader.size() == 4);
    for (int epoch = 0; epoch < 3; ++epoch) {
      const auto batches = epoch_targets(loader);
      REQUIRE(batches.size() == 4);
      CHECK(batches.back().size() == 1);
      auto all = flat(batches);
      if (!shuffle) CHECK(all == iota64(10));
      std::sort(all.begin(), all.end());
      CHECK(all == iota64(10));
    }
    CHECK(loader.epoch() == 3);
  }
}

TEST_CASE("DataLoader drop_last drops the short last batch", "[data][loader]") {
  Numbers ds{.n = 10};
  data::DataLoader loader(ds, {.batch_size = 3, .shuffle = true, .drop_last = true, .seed = 2});
  CHECK(loader.size() == 3);
  const auto batches = epoch_targets(loader);
  REQUIRE(batches.size() == 3);
  for (const auto& b : batches) CHECK(b.size() == 3);
  const auto all = flat(batches);
  CHECK(std::set<std::int64_t>(all.begin(), all.end()).size() == 9);

  data::DataLoader small(Numbers{.n = 2}, {.batch_size = 3, .drop_last = true});
  CHECK(small.size() == 0);
  CHECK(small.begin() == small.end());
}

TEST_CASE("DataLoader order is a function of the seed and the epoch", "[data][loader]") {
  Numbers ds{.n = 50};
  data::DataLoader a(ds, {.batch_size = 7, .shuffle = true, .seed = 5});
  data::DataLoader b(ds, {.batch_size = 7, .shuffle = true, .seed = 5});
  const auto a0 = epoch_targets(a), a1 = epoch_targets(a);
  CHECK(a0 == epoch_targets(b));
  CHECK(a1 == epoch_targets(b));
  CHECK(flat(a0) != flat(a1));  // a new permutation each epoch
  CHECK(flat(a0) != iota64(50));
  a.set_epoch(0);
  CHECK(epoch_targets(a) == a0);

  data::DataLoader c(ds, {.batch_size = 7, .shuffle = true, .seed = 6});
  CHECK(flat(epoch_targets(c)) != flat(a0));

  // Without a seed the loader draws one from the default generator: manual_seed fixes it.
  et::manual_seed(7);
  data::DataLoader d(ds, {.batch_size = 7, .shuffle = true});
  et::manual_seed(7);
  data::DataLoader e(ds, {.batch_size = 7, .shuffle = true});
  CHECK(d.seed() == e.seed());
  CHECK(epoch_targets(d) == epoch_targets(e));
}

TEST_CASE("DataLoader with workers yields the same batches as without", "[data][loader]") {
  Noisy ds{Numbers{.n = 103}};
  auto run = [&](int workers, int prefetch) {
    data::DataLoader loader(ds, {.batch_size = 8,
                                 .shuffle = true,
                                 .seed = 11,
                                 .num_workers = workers,
                                 .prefetch_factor = prefetch});
    std::vector<std::vector<float>> out;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (auto& [x, y] : loader) {
        std::vector<float> v(x.begin(), x.end());
        for (auto t : y) v.push_back(static_cast<float>(t));
        out.push_back(v);
      }
    return out;
  };
  const auto reference = run(0, 2);
  REQUIRE(reference.size() == 2 * 13);
  for (int workers : {1, 2, 4})
    for (int prefetch : {1, 2}) {
      INFO("num_workers = " << workers << ", prefetch_factor = " << prefetch);
      CHECK(run(workers, prefetch) == reference);
    }
}

TEST_CASE("DataLoader iterators expose the epoch, batch index and batch seed", "[data][loader]") {
  Numbers ds{.n = 9};
  data::DataLoader loader(ds, {.batch_size = 4, .seed = 3});
  loader.set_epoch(5);
  auto it = loader.begin();
  CHECK(it.epoch() == 5);
  CHECK(it.batch_index() == 0);
  ++it;
  CHECK(it.batch_index() == 1);
  CHECK(it.batch_seed() == loader.batch_seed(5, 1));
  CHECK(it.batch_seed() == data::batch_seed(3, 5, 1));
  CHECK(loader.batch_seed(5, 1) != loader.batch_seed(5, 2));
  CHECK(loader.batch_seed(5, 1) != loader.batch_seed(6, 1));
  CHECK(loader.epoch() == 6);
  CHECK(data::current_load_context() == nullptr);

  // A second begin() ends the first epoch: its iterator refuses to advance.
  auto again = loader.begin();
  CHECK_THROWS_AS(++it, et::value_error);
  CHECK(again.epoch() == 6);
}

TEST_CASE("DataLoader with workers stops cleanly on break and destruction", "[data][loader]") {
  for (int round = 0; round < 20; ++round) {
    const int workers = 1 + round % 4;
    data::DataLoader loader(Numbers{.n = 200},
                            {.batch_size = 3, .shuffle = true, .seed = 1, .num_workers = workers});
    int seen = 0;
    for (auto& batch : loader) {
      CHECK(batch.data.size(0) == 3);
      if (++seen == 1 + round % 3) break;
    }
    CHECK(seen == 1 + round % 3);
    auto it = loader.begin();  // a fresh epoch after the break, left mid-way for the destructor
    ++it;
    CHECK(it.batch_index() == 1);
  }
  // An iterator that outlives its loader: the workers are joined, advancing throws.
  data::DataLoader<Numbers>::iterator stale;
  {
    data::DataLoader loader(Numbers{.n = 100}, {.batch_size = 2, .num_workers = 2});
    stale = loader.begin();
  }
  CHECK((*stale).target.numel() == 2);
  CHECK_THROWS_AS(++stale, et::value_error);
}

TEST_CASE("DataLoader rethrows a worker's exception in the consuming thread", "[data][loader]") {
  for (int workers : {0, 1, 2, 4}) {
    INFO("num_workers = " << workers);
    data::DataLoader loader(Numbers{.n = 40, .bad = 13},
                            {.batch_size = 4, .num_workers = workers, .prefetch_factor = 3});
    std::vector<std::int64_t> before;
    auto consume = [&] {
      for (auto& [x, y] : loader) before.insert(before.end(), y.begin(), y.end());
    };
    CHECK_THROWS_WITH(consume(), Contains("bad sample 13"));
    CHECK(before == iota64(12));  // batches before the failing one arrived, in order
    CHECK_THROWS_AS(consume(), et::value_error);  // the next epoch fails the same way
  }
  data::DataLoader first_batch_fails(Numbers{.n = 8, .bad = 0},
                                     {.batch_size = 4, .num_workers = 2});
  CHECK_THROWS_WITH(first_batch_fails.begin(), Contains("bad sample 0"));
}

TEST_CASE("DataLoader follows a sampler and checks its options", "[data][loader]") {
  Numbers ds{.n = 10};
  data::DataLoader loader(ds, data::DistributedSampler(10, 1, 3, {.shuffle = false}),
                          {.batch_size = 2});
  CHECK(loader.size() == 2);
  CHECK(epoch_targets(loader) == std::vector<std::vector<std::int64_t>>{{1, 4}, {7, 0}});

  data::DataLoader weighted(ds, data::WeightedRandomSampler({0, 0, 1}, 6, true, 1),
                            {.batch_size = 4, .num_workers = 1});
  CHECK(flat(epoch_targets(weighted)) == std::vector<std::int64_t>(6, 2));

  CHECK_THROWS_WITH(data::DataLoader(ds, data::SequentialSampler(10), {.shuffle = true}),
                    Contains("shuffle"));
  CHECK_THROWS_WITH(data::DataLoader(ds, {.batch_size = 0}), Contains("batch_size"));
  CHECK_THROWS_WITH(data::DataLoader(ds, {.num_workers = -1}), Contains("num_workers"));
  CHECK_THROWS_WITH(data::DataLoader(ds, {.num_workers = 1, .prefetch_factor = 0}),
                    Contains("prefetch_factor"));
  data::DataLoader out_of_range(ds, data::SequentialSampler(11));
  CHECK_THROWS_WITH(out_of_range.begin(), Contains("index 10"));
}

TEST_CASE("SequentialSampler and RandomSampler", "[data][sampler]") {
  CHECK(data::SequentialSampler(4).indices() == std::vector<std::size_t>{0, 1, 2, 3});

  data::RandomSampler r(20, {.seed = 9});
  const auto p0 = r.indices();
  auto sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> expected(20);
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  CHECK(sorted == expected);
  CHECK(p0 != expected);
  CHECK(data::RandomSampler(20, {.seed = 9}).indices() == p0);
  r.set_epoch(1);
  CHECK(r.indices() != p0);
  r.set_epoch(0);
  CHECK(r.indices() == p0);

  // num_samples > n without replacement: whole permutations, the last one cut short.
  const auto many = data::RandomSampler(10, {.num_samples = 25, .seed = 1}).indices();
  REQUIRE(many.size() == 25);
  for (std::size_t start : {0, 10}) {
    std::set<std::size_t> s(many.begin() + static_cast<std::ptrdiff_t>(start),
                            many.begin() + static_cast<std::ptrdiff_t>(start + 10));
    CHECK(s.size() == 10);
  }
  CHECK(std::set<std::size_t>(many.begin() + 20, many.end()).size() == 5);

  const auto drawn =
      data::RandomSampler(5, {.replacement = true, .num_samples = 5000, .seed = 2}).indices();
  std::map<std::size_t, int> counts;
  for (auto i : drawn) ++counts[i];
  REQUIRE(counts.size() == 5);
  for (auto [i, c] : counts) CHECK(std::abs(c - 1000) < 150);
  CHECK_THROWS_AS(data::RandomSampler(0, {.num_samples = 3}), et::value_error);
}

TEST_CASE("WeightedRandomSampler draws in proportion to the weights", "[data][sampler]") {
  data::WeightedRandomSampler s({1, 2, 3, 4, 0}, 100000, true, 3);
  std::vector<int> counts(5, 0);
  for (auto i : s.indices()) ++counts[i];
  for (int i = 0; i < 4; ++i) CHECK(std::abs(counts[i] / 100000.0 - (i + 1) / 10.0) < 0.01);
  CHECK(counts[4] == 0);

  // Without replacement: distinct indices, never a zero weight, first pick ~ weight / total.
  data::WeightedRandomSampler once({1, 2, 3, 4, 0}, 4, false, 3);
  std::vector<int> first(5, 0);
  for (std::uint64_t e = 0; e < 4000; ++e) {
    once.set_epoch(e);
    auto idx = once.indices();
    ++first[idx[0]];
    std::sort(idx.begin(), idx.end());
    REQUIRE(idx == std::vector<std::size_t>{0, 1, 2, 3});
  }
  for (int i = 0; i < 4; ++i) CHECK(std::abs(first[i] / 4000.0 - (i + 1) / 10.0) < 0.03);

  CHECK_THROWS_WITH(data::WeightedRandomSampler({1, 0, 1}, 3, false), Contains("without"));
  CHECK_THROWS_WITH(data::WeightedRandomSampler({1, -1}, 3), Contains("weight 1"));
  CHECK_THROWS_AS(data::WeightedRandomSampler({0, 0}, 3), et::value_error);
  CHECK_THROWS_AS(data::WeightedRandomSampler({}, 3), et::value_error);
}

TEST_CASE("BatchSampler groups indices into batches", "[data][sampler]") {
  data::BatchSampler b(data::SequentialSampler(10), 3);
  CHECK(b.size() == 4);
  const auto batches = b.batches();
  REQUIRE(batches.size() == 4);
  CHECK(batches[0] == std::vector<std::size_t>{0, 1, 2});
  CHECK(batches[3] == std::vector<std::size_t>{9});
  data::BatchSampler dropped(data::RandomSampler(10, {.seed = 4}), 3, true);
  CHECK(dropped.size() == 3);
  for (const auto& batch : dropped.batches()) CHECK(batch.size() == 3);
  CHECK_THROWS_AS(data::BatchSampler(data::SequentialSampler(3), 0), et::value_error);
}

TEST_CASE("DistributedSampler shards as PyTorch's does", "[data][sampler]") {
  using V = std::vector<std::size_t>;
  // PyTorch, shuffle=False, 10 samples over 3 ranks: padded with [0, 1] to 12.
  CHECK(data::DistributedSampler(10, 0, 3, {.shuffle = false}).indices() == V{0, 3, 6, 9});
  CHECK(data::DistributedSampler(10, 1, 3, {.shuffle = false}).indices() == V{1, 4, 7, 0});
  CHECK(data::DistributedSampler(10, 2, 3, {.shuffle = false}).indices() == V{2, 5, 8, 1});
  // drop_last: floor(10 / 3) each, no padding.
  CHECK(data::DistributedSampler(10, 2, 3, {.shuffle = false, .drop_last = true}).indices() ==
        V{2, 5, 8});
  // Padding by repetition when n < world.
  CHECK(data::DistributedSampler(2, 4, 5, {.shuffle = false}).indices() == V{0});

  for (bool drop_last : {false, true})
    for (std::uint64_t epoch : {0, 1}) {
      std::vector<std::size_t> all;
      std::vector<V> shards;
      for (int rank = 0; rank < 4; ++rank) {
        data::DistributedSampler s(23, rank, 4, {.seed = 8, .drop_last = drop_last});
        s.set_epoch(epoch);
        CHECK(s.size() == (drop_last ? 5u : 6u));
        shards.push_back(s.indices());
        all.insert(all.end(), shards.back().begin(), shards.back().end());
      }
      const std::set<std::size_t> distinct(all.begin(), all.end());
      CHECK(all.size() == (drop_last ? 20u : 24u));
      CHECK(distinct.size() == (drop_last ? 20u : 23u));  // disjoint but for the padding
      if (!drop_last) CHECK(*distinct.rbegin() == 22);
      data::DistributedSampler other_epoch(23, 0, 4, {.seed = 8, .drop_last = drop_last});
      other_epoch.set_epoch(epoch + 1);
      CHECK(other_epoch.indices() != shards[0]);
    }

  CHECK_THROWS_WITH(data::DistributedSampler(10, 3, 3), Contains("rank 3"));
  CHECK_THROWS_AS(data::DistributedSampler(10, -1, 3), et::value_error);
  CHECK_THROWS_WITH(data::DistributedSampler(10, 0, 0), Contains("world size"));
}

TEST_CASE("collate stacks tensors and gathers scalars", "[data][collate]") {
  using E = data::Example<et::Tensor<float>, double>;
  auto m = et::tensor<float>({{1, 2, 3}, {4, 5, 6}});
  std::vector<E> examples{{m.transpose(), 0.5}, {m.transpose() * 2.f, 1.5}};  // strided rows
  auto batch = data::collate(examples);
  static_assert(std::is_same_v<decltype(batch.target), et::Tensor<float>>);
  CHECK(batch.data.shape() == et::Shape{2, 3, 2});
  CHECK(batch.data(1, 2, 1) == 12.f);
  CHECK(batch.data(0, 0, 1) == 4.f);
  CHECK(batch.target(1) == 1.5f);

  std::vector<data::Example<data::Example<int, bool>, et::Tensor<std::int64_t>>> nested{
      {{3, true}, et::tensor<std::int64_t>({1, 2})},
      {{4, false}, et::tensor<std::int64_t>({3, 4})}};
  auto nb = data::collate(nested);
  static_assert(std::is_same_v<decltype(nb.data.data), et::Tensor<std::int64_t>>);
  static_assert(std::is_same_v<decltype(nb.data.target), et::Tensor<bool>>);
  CHECK(nb.data.data(1) == 4);
  CHECK(nb.data.target(0));
  CHECK(nb.target(1, 0) == 3);

  std::vector<data::Example<et::Tensor<float>, std::int64_t>> bad{
      {et::zeros<float>({2, 3}), 0}, {et::zeros<float>({2, 3}), 1}, {et::zeros<float>({3, 2}), 2}};
  CHECK_THROWS_AS(data::collate(bad), et::shape_error);
  CHECK_THROWS_WITH(data::collate(bad), Contains("example 2") && Contains("[3, 2]") &&
                                            Contains("[2, 3]") && Contains("data"));
  CHECK_THROWS_AS(data::collate(std::vector<data::Example<>>{}), et::value_error);
}
