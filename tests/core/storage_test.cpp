#include "etna/core/storage.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>
#include <vector>

#include "etna/core/factory.hpp"

namespace et = etna;

TEST_CASE("storage is 64-byte aligned, large blocks 2 MiB aligned", "[storage]") {
  for (std::int64_t n : {1, 3, 1000, 1 << 20}) {
    auto t = et::empty<float>({n});
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  }
  auto big = et::empty<float>({std::int64_t{2} << 20});  // 8 MiB
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % (std::uintptr_t{2} << 20) == 0);
}

TEST_CASE("freed large blocks are reused, small ones are not cached", "[storage]") {
  et::empty_cache();
  CHECK(et::cached_bytes() == 0);
  const float* first;
  {
    auto t = et::empty<float>({1 << 19});  // 2 MiB
    first = t.data();
  }
  CHECK(et::cached_bytes() == std::size_t{2} << 20);
  {
    auto again = et::empty<float>({1 << 19});
    CHECK(again.data() == first);
    CHECK(et::cached_bytes() == 0);
  }
  { auto small = et::empty<float>({1000}); }
  CHECK(et::cached_bytes() == std::size_t{2} << 20);  // only the 2 MiB block
  et::empty_cache();
  CHECK(et::cached_bytes() == 0);
}

TEST_CASE("the block cache respects its limit", "[storage]") {
  et::empty_cache();
  et::set_cache_limit(std::size_t{3} << 20);
  { auto a = et::empty<float>({1 << 19}), b = et::empty<float>({1 << 19}); }
  CHECK(et::cached_bytes() == std::size_t{2} << 20);  // the second block did not fit
  et::set_cache_limit(std::size_t{1} << 20);          // lowering the limit empties the cache
  CHECK(et::cached_bytes() == 0);
  et::set_cache_limit(std::size_t{2} << 30);
}

TEST_CASE("blocks from glibc's mmap threshold (128 KiB) up are cached", "[storage]") {
  // Activations and weight gradients of an MLP step at batch 256 are 256-800 KiB; without the
  // cache each step refaults them (see kCachedBlockThreshold).
  et::empty_cache();
  const float* first;
  {
    auto t = et::empty<float>({1 << 15});  // 128 KiB
    first = t.data();
  }
  CHECK(et::cached_bytes() == std::size_t{128} << 10);
  {
    auto again = et::empty<float>({1 << 15});
    CHECK(again.data() == first);
  }
  { auto below = et::empty<float>({(1 << 15) - 16}); }  // 128 KiB - 64 bytes: not cached
  CHECK(et::cached_bytes() == std::size_t{128} << 10);
  et::empty_cache();
}

TEST_CASE("small blocks come from a per-thread pool and are reused", "[storage]") {
  // Up to 64 KiB a tensor is one block (data, then its shared_ptr control block) from the
  // calling thread's size-class pool: freeing and allocating the same size hands it back.
  const float* first;
  {
    auto t = et::empty<float>({1000});
    first = t.data();
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  }
  {
    auto again = et::empty<float>({1000});
    CHECK(again.data() == first);
    // Handles share the block; it returns to the pool only when the last one goes.
    auto copy = again;
    CHECK(again.storage().use_count() == 2);
  }
  for (std::int64_t n : {1, 15, 16, 17, 100, 1000, 4000, 16368}) {
    auto t = et::full<float>({n}, 1.5f);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    CHECK(t(n - 1) == 1.5f);
  }
  CHECK(et::cached_bytes() == 0);  // the pool is not the large-block cache
  et::empty_cache();
}

TEST_CASE("a small block may be freed on another thread", "[storage]") {
  std::vector<et::Tensor<float>> made;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) made.push_back(et::full<float>({64}, float(i)));
  });
  producer.join();  // the producer's pool is gone; its blocks are still valid
  for (int i = 0; i < 100; ++i) CHECK(made[static_cast<std::size_t>(i)](63) == float(i));
  made.clear();  // released here, into this thread's pool (or the heap)
  float seen = 0;  // Catch2 assertions stay on the main thread
  std::thread consumer([&] {
    auto t = et::full<float>({64}, 2.f);
    seen = t(0);
  });
  consumer.join();
  CHECK(seen == 2.f);
}
