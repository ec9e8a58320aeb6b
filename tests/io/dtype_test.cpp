// The safetensors dtypes (etna/io/dtype.hpp): the file's spellings, element sizes, parsing and
// etna's default dtype for each scalar type.
#include <catch2/catch.hpp>
#include <cstdint>

#include "etna/io/dtype.hpp"

namespace io = etna::io;

TEST_CASE("DType: the file's names, element sizes and etna's default dtypes", "[io][safetensors]") {
  CHECK(io::dtype_name(io::DType::BF16) == "BF16");
  CHECK(io::dtype_name(io::DType::BOOL) == "BOOL");
  CHECK(io::dtype_size(io::DType::F16) == 2);
  CHECK(io::dtype_size(io::DType::I64) == 8);
  CHECK(io::dtype_size(io::DType::U8) == 1);
  for (io::DType d : io::all_dtypes) CHECK(io::parse_dtype(io::dtype_name(d)) == d);
  CHECK_FALSE(io::parse_dtype("F8_E4M3").has_value());
  CHECK_FALSE(io::parse_dtype("f32").has_value());
  STATIC_REQUIRE(io::dtype_of<float>() == io::DType::F32);
  STATIC_REQUIRE(io::dtype_of<double>() == io::DType::F64);
  STATIC_REQUIRE(io::dtype_of<std::int32_t>() == io::DType::I32);
  STATIC_REQUIRE(io::dtype_of<std::int64_t>() == io::DType::I64);
  STATIC_REQUIRE(io::dtype_of<bool>() == io::DType::BOOL);
  // What a Tensor<T> may be stored as / loaded from.
  STATIC_REQUIRE(io::converts<float>(io::DType::BF16));
  STATIC_REQUIRE(io::converts<double>(io::DType::F16));
  STATIC_REQUIRE_FALSE(io::converts<float>(io::DType::I32));
  STATIC_REQUIRE(io::converts<std::int32_t>(io::DType::U8));
  STATIC_REQUIRE_FALSE(io::converts<std::int64_t>(io::DType::BOOL));
  STATIC_REQUIRE_FALSE(io::converts<bool>(io::DType::U8));
  STATIC_REQUIRE(io::converts<bool>(io::DType::BOOL));
}
