// Bucket layouts against numpy / torch.utils.tensorboard (values computed with numpy 1.24):
// TensorFlow's default edges, numpy's equal-width counting, "auto", and PyTorch's trimming.
#include "etna/log/histogram.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

namespace lg = etna::logging;

TEST_CASE("tensorflow_bucket_edges are PyTorch's default_bins", "[log][histogram]") {
  const auto& e = lg::tensorflow_bucket_edges();
  REQUIRE(e.size() == 1549);
  CHECK(e[774] == 0.0);
  CHECK(e[775] == 1e-12);
  CHECK(e.back() == 9.920775621859783e+19);
  CHECK(e.front() == -e.back());
  CHECK(std::is_sorted(e.begin(), e.end()));
}

TEST_CASE("make_histogram trims to the support plus one empty bucket, as PyTorch",
          "[log][histogram]") {
  const std::vector<double> v{1.0, 1.0, 2.0};
  const auto h = lg::make_histogram(v, lg::tensorflow_bucket_edges());
  CHECK(h.num == 3);
  CHECK(h.min == 1.0);
  CHECK(h.max == 2.0);
  CHECK(h.sum == 4.0);
  CHECK(h.sum_squares == 6.0);
  REQUIRE(h.bucket.size() == h.bucket_limit.size());
  CHECK(h.bucket.front() == 0);
  CHECK(h.bucket[1] == 2);
  CHECK(h.bucket.back() == 1);
  CHECK(h.bucket_limit[0] <= 1.0);  // the empty bucket's right edge is where the support starts
  CHECK(h.bucket_limit[1] > 1.0);
  CHECK(std::accumulate(h.bucket.begin(), h.bucket.end(), 0.0) == 3);
}

TEST_CASE("equal-width bins count as numpy.histogram", "[log][histogram]") {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 0.0);
  // numpy.histogram(arange(100), bins=3): edges 0, 33, 66, 99; the last bin is closed.
  const auto h3 = lg::make_histogram(v, "3");
  CHECK(h3.bucket == std::vector<double>{0, 33, 33, 34});
  CHECK(h3.bucket_limit == std::vector<double>{0, 33, 66, 99});
  // numpy.histogram(arange(100), bins="auto") -> 8 bins [13, 12, 13, 12, 12, 13, 12, 13].
  const auto ha = lg::make_histogram(v, "auto");
  CHECK(ha.bucket == std::vector<double>{0, 13, 12, 13, 12, 12, 13, 12, 13});
  // All values equal: numpy widens the range by 0.5 each side.
  const std::vector<double> same{2.0, 2.0};
  // edges 1.5, 2, 2.5: both values in the closed last bin, the empty first bin kept left of it.
  CHECK(lg::make_histogram(same, "2").bucket_limit == std::vector<double>{2.0, 2.5});
  CHECK(lg::make_histogram(same, "auto").bucket == std::vector<double>{0, 2});
}

TEST_CASE("make_histogram rejects empty input, bad bins and values outside every bucket",
          "[log][histogram]") {
  const std::vector<double> none;
  const std::vector<double> v{1.0};
  const std::vector<double> nan{std::nan("")};
  CHECK_THROWS_AS(lg::make_histogram(none, "tensorflow"), etna::value_error);
  CHECK_THROWS_AS(lg::make_histogram(v, "0"), etna::value_error);
  CHECK_THROWS_AS(lg::make_histogram(v, "ten"), etna::value_error);
  CHECK_THROWS_AS(lg::make_histogram(nan, "tensorflow"), etna::value_error);
  CHECK_THROWS_AS(lg::make_histogram(nan, "4"), etna::value_error);
}
