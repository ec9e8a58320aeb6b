// dist's collectives on host tensors: values as torch.distributed gives them, for any world
// size (test_dist runs with 1 and 2 ranks).
#include <catch2/catch.hpp>
#include <cstdint>

#include "etna/dist.hpp"
#include "etna/etna.hpp"

namespace et = etna;
namespace dist = etna::dist;

TEST_CASE("dist: the world matches mpirun's", "[dist][collectives]") {
  REQUIRE(dist::is_initialized());
  CHECK(dist::world_size() >= 1);
  CHECK(dist::rank() >= 0);
  CHECK(dist::rank() < dist::world_size());
  CHECK(dist::is_main_process() == (dist::rank() == 0));
  CHECK(dist::default_group()->backend() == "mpi");
  dist::barrier();
}

TEST_CASE("dist: all_reduce sum, avg, max and min", "[dist][collectives]") {
  const int r = dist::rank(), n = dist::world_size();
  // rank r holds [r + 1, 10 (r + 1), -r]
  auto make = [&] { return et::tensor<double>({r + 1.0, 10.0 * (r + 1), -double(r)}); };
  const double sum1 = n * (n + 1) / 2.0;  // 1 + 2 + ... + n

  auto s = make();
  dist::all_reduce(s);  // sum by default
  CHECK(s(0) == sum1);
  CHECK(s(1) == 10 * sum1);
  CHECK(s(2) == -(n - 1) * n / 2.0);

  auto a = make();
  dist::all_reduce(a, dist::ReduceOp::avg);
  CHECK(a(0) == Approx(sum1 / n));
  CHECK(a(1) == Approx(10 * sum1 / n));

  auto mx = make();
  dist::all_reduce(mx, dist::ReduceOp::max);
  CHECK(mx(0) == n);
  CHECK(mx(2) == 0);

  auto mn = make();
  dist::all_reduce(mn, dist::ReduceOp::min);
  CHECK(mn(0) == 1);
  CHECK(mn(2) == -(n - 1));

  // Integers and a non-contiguous view (written back through the view).
  auto ints = et::tensor<std::int64_t>({{1, 2}, {3, 4}});
  auto col = ints.transpose();
  dist::all_reduce(col);
  CHECK(ints(0, 1) == 2 * n);
  CHECK(ints(1, 0) == 3 * n);

  // Asynchronous: the result is there after wait().
  auto f = et::full<float>({1000}, float(r));
  dist::Work w = dist::all_reduce_async(f, dist::ReduceOp::sum);
  w.wait();
  CHECK(f(999) == Approx(float(n * (n - 1) / 2)));
  CHECK(w.is_completed());
}

TEST_CASE("dist: broadcast copies the root's tensor", "[dist][collectives]") {
  const int n = dist::world_size();
  for (int root = 0; root < n; ++root) {
    auto t = et::full<float>({2, 3}, float(dist::rank() * 7));
    dist::broadcast(t, root);
    CHECK(t(1, 2) == float(root * 7));
  }
  auto bad = et::zeros<float>({1});
  CHECK_THROWS_AS(dist::broadcast(bad, n), et::value_error);
}

TEST_CASE("dist: all_gather and all_gather_into in rank order", "[dist][collectives]") {
  const int r = dist::rank(), n = dist::world_size();
  auto t = et::tensor<std::int32_t>({{r, 10 * r}});  // [1, 2]
  auto parts = dist::all_gather(t);
  REQUIRE(parts.size() == std::size_t(n));
  for (int k = 0; k < n; ++k) {
    CHECK(parts[k].shape() == et::Shape({1, 2}));
    CHECK(parts[k](0, 1) == 10 * k);
  }
  auto all = dist::all_gather_into(t);
  CHECK(all.shape() == et::Shape({n, 2}));
  for (int k = 0; k < n; ++k) CHECK(all(k, 0) == k);
}

TEST_CASE("dist: reduce_scatter gives rank r the reduced r-th chunk", "[dist][collectives]") {
  const int r = dist::rank(), n = dist::world_size();
  // rows k of rank r: [k + r, 1]; rank r gets rows 2r, 2r+1 summed over ranks.
  auto t = et::Tensor<double>::allocate(et::Shape({2 * n, 2}));
  for (int k = 0; k < 2 * n; ++k) {
    t(k, 0) = k + r;
    t(k, 1) = 1;
  }
  auto out = dist::reduce_scatter(t);
  REQUIRE(out.shape() == et::Shape({2, 2}));
  const double rank_sum = n * (n - 1) / 2.0;
  CHECK(out(0, 0) == n * (2 * r) + rank_sum);
  CHECK(out(1, 0) == n * (2 * r + 1) + rank_sum);
  CHECK(out(1, 1) == n);
  auto avg = dist::reduce_scatter(t, dist::ReduceOp::avg);
  CHECK(avg(1, 1) == 1);
  auto odd = et::zeros<double>({2 * n + 1});
  if (n > 1) CHECK_THROWS_AS(dist::reduce_scatter(odd), et::shape_error);
}

TEST_CASE("dist: DistributedSampler shards are disjoint and cover the data", "[dist][sampler]") {
  const int r = dist::rank(), n = dist::world_size();
  const std::size_t size = 10 * n;  // divisible: no padding, so exactly disjoint
  et::data::DistributedSampler sampler(size, r, n, {.shuffle = true, .seed = 7});
  sampler.set_epoch(3);
  const auto mine = sampler.indices();
  REQUIRE(mine.size() == 10);
  auto local = et::Tensor<std::int64_t>::allocate(et::Shape({10}));
  for (std::size_t i = 0; i < mine.size(); ++i) local(i) = std::int64_t(mine[i]);
  auto all = dist::all_gather_into(local);
  std::vector<int> seen(size, 0);
  for (std::int64_t i = 0; i < all.numel(); ++i) ++seen.at(std::size_t(all(i)));
  for (std::size_t i = 0; i < size; ++i) CHECK(seen[i] == 1);
}
