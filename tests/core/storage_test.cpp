#include "etna/core/storage.hpp"

#include <catch2/catch.hpp>
#include <cstdint>

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
