// F16 and bfloat16 conversion (etna/io/half.hpp): known bit patterns, ties to even, specials,
// and every one of the 65536 bit patterns of each, with GCC's _Float16 as an independent oracle.
#include "etna/io/half.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

namespace io = etna::io;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TEST_CASE("F16: known bit patterns, round to nearest even, specials", "[io][half]") {
  CHECK(io::float_to_f16_bits(1.0) == 0x3C00);
  CHECK(io::float_to_f16_bits(-2.5) == 0xC100);
  CHECK(io::float_to_f16_bits(65504.0) == 0x7BFF);
  CHECK(io::float_to_f16_bits(65519.99) == 0x7BFF);  // below the midpoint to 65536
  CHECK(io::float_to_f16_bits(65520.0) == 0x7C00);   // the tie rounds to even: overflow to inf
  CHECK(io::float_to_f16_bits(1e10) == 0x7C00);
  CHECK(io::float_to_f16_bits(-0.0) == 0x8000);
  CHECK(io::float_to_f16_bits(std::ldexp(1.0, -14)) == 0x0400);  // smallest normal
  CHECK(io::float_to_f16_bits(std::ldexp(1.0, -24)) == 0x0001);  // smallest subnormal
  CHECK(io::float_to_f16_bits(std::ldexp(1.0, -25)) == 0x0000);  // tie between 0 and 1: even
  CHECK(io::float_to_f16_bits(std::ldexp(1.5, -25)) == 0x0001);
  CHECK(io::float_to_f16_bits(std::ldexp(3.0, -25)) == 0x0002);     // tie between 1 and 2: even
  CHECK(io::float_to_f16_bits(std::ldexp(1023.5, -24)) == 0x0400);  // subnormal rounds up to normal
  CHECK(io::float_to_f16_bits(-std::ldexp(1.0, -30)) == 0x8000);
  CHECK(io::float_to_f16_bits(1.0 + std::ldexp(1.0, -11)) == 0x3C00);  // tie: even
  CHECK(io::float_to_f16_bits(1.0 + std::ldexp(3.0, -11)) == 0x3C02);  // tie: even
  CHECK(io::float_to_f16_bits(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)) ==
        0x3C01);  // no double rounding
  CHECK(io::float_to_f16_bits(inf) == 0x7C00);
  CHECK(io::float_to_f16_bits(-inf) == 0xFC00);
  const std::uint16_t n = io::float_to_f16_bits(qnan);
  CHECK((n & 0x7C00) == 0x7C00);
  CHECK((n & 0x03FF) != 0);

  CHECK(io::f16_bits_to_float(0x3C00) == 1.0f);
  CHECK(io::f16_bits_to_float(0xC100) == -2.5f);
  CHECK(io::f16_bits_to_float(0x7BFF) == 65504.0f);
  CHECK(io::f16_bits_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(io::f16_bits_to_float(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(io::f16_bits_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(io::f16_bits_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(io::f16_bits_to_float(0x7E00)));
  CHECK(std::isnan(io::f16_bits_to_float(0xFC01)));
  CHECK(std::signbit(io::f16_bits_to_float(0x8000)));
}

TEST_CASE("BF16: known bit patterns, round to nearest even, specials", "[io][half]") {
  CHECK(io::float_to_bf16_bits(1.0) == 0x3F80);
  CHECK(io::float_to_bf16_bits(-2.5) == 0xC020);
  CHECK(io::float_to_bf16_bits(1.0 + std::ldexp(1.0, -8)) == 0x3F80);          // tie: even
  CHECK(io::float_to_bf16_bits(1.0 + std::ldexp(3.0, -8)) == 0x3F82);          // tie: even
  CHECK(io::float_to_bf16_bits(std::numeric_limits<float>::max()) == 0x7F80);  // rounds to inf
  CHECK(io::float_to_bf16_bits(std::ldexp(1.0, -133)) == 0x0001);              // smallest subnormal
  CHECK(io::float_to_bf16_bits(std::ldexp(1.0, -149)) == 0x0000);
  CHECK(io::float_to_bf16_bits(std::ldexp(1.0, -126)) == 0x0080);
  CHECK(io::float_to_bf16_bits(-0.0) == 0x8000);
  CHECK(io::float_to_bf16_bits(inf) == 0x7F80);
  CHECK(io::float_to_bf16_bits(-inf) == 0xFF80);
  const std::uint16_t n = io::float_to_bf16_bits(-qnan);
  CHECK((n & 0x7F80) == 0x7F80);
  CHECK((n & 0x007F) != 0);
  CHECK(io::bf16_bits_to_float(0x3F80) == 1.0f);
  CHECK(io::bf16_bits_to_float(0x0001) == std::ldexp(1.0f, -133));
  CHECK(io::bf16_bits_to_float(0xFF80) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(io::bf16_bits_to_float(0x7FC0)));
}

TEST_CASE("F16/BF16: every bit pattern survives decode + encode; floats agree with the compiler",
          "[io][half]") {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float h = io::f16_bits_to_float(bits);
    const float bf = io::bf16_bits_to_float(bits);
    if (std::isnan(h))
      CHECK(std::isnan(io::f16_bits_to_float(io::float_to_f16_bits(h))));
    else if (io::float_to_f16_bits(h) != bits)
      FAIL("F16 bits " << b << " do not round trip");
    if (std::isnan(bf))
      CHECK(std::isnan(io::bf16_bits_to_float(io::float_to_bf16_bits(bf))));
    else if (io::float_to_bf16_bits(bf) != bits)
      FAIL("BF16 bits " << b << " do not round trip");
  }
#ifdef __FLT16_MAX__
  // GCC's _Float16 conversion is IEEE round-to-nearest-even: an independent oracle.
  std::uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    const float f =
        std::bit_cast<float>((state & 0x8FFFFFFFu) | 0x30000000u);  // around F16's range
    const auto expected = std::bit_cast<std::uint16_t>(static_cast<_Float16>(f));
    if (!std::isnan(f) && io::float_to_f16_bits(f) != expected)
      FAIL("F16 of " << f << ": " << io::float_to_f16_bits(f) << " != " << expected);
  }
#endif
}
