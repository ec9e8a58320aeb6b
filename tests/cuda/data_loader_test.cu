// Batches moved to the GPU by et::data::to_device<cuda>(loader): same values, same order.
#include "cuda/support.hpp"

namespace et = etna;
using et::test::gpu;

TEST_CASE("to_device hands out every batch of a loader on the gpu") {
  const auto x = et::arange<float>(0, 40).reshape({10, 4});
  const auto y = et::arange<std::int64_t>(0, 10);
  et::data::TensorDataset ds(x, y);
  et::data::DataLoader loader(ds, {.batch_size = 3});
  auto gpu_loader = et::data::to_device<gpu>(loader);
  CHECK(gpu_loader.size() == 4);
  int batches = 0;
  std::int64_t seen = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (auto& [bx, by] : gpu_loader) {
      static_assert(std::is_same_v<std::remove_cvref_t<decltype(bx)>, et::Tensor<float, gpu>>);
      static_assert(std::is_same_v<std::remove_cvref_t<decltype(by)>, et::Tensor<std::int64_t, gpu>>);
      const auto hx = bx.to<et::cpu>();
      const auto hy = by.to<et::cpu>();
      REQUIRE(hx.size(0) == hy.size(0));
      for (std::int64_t i = 0; i < hy.size(0); ++i) {
        CHECK(hy(i) == seen % 10);
        CHECK(hx(i, 3) == static_cast<float>(4 * (seen % 10) + 3));
        ++seen;
      }
      ++batches;
    }
  }
  CHECK(batches == 8);
  CHECK(seen == 20);
  // Leaving a loop early with a batch still being copied is safe.
  for (auto& batch : gpu_loader) {
    (void)batch;
    break;
  }
}
