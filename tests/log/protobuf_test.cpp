// The wire-format writer against encodings from the protobuf documentation.
#include "etna/log/protobuf.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace pb = etna::logging::protobuf;

TEST_CASE("protobuf varints and keys follow the wire format", "[log][protobuf]") {
  CHECK(pb::Message().varint(1, 150).str() == std::string("\x08\x96\x01", 3));  // the docs' example
  CHECK(pb::Message().varint(2, 0).str() == std::string("\x10\x00", 2));
  CHECK(pb::Message().varint(1, -1).str().size() == 11);  // negative ints take ten bytes
  CHECK(pb::Message().boolean(16, true).str() == std::string("\x80\x01\x01", 3));
  CHECK(pb::Message().bytes(2, "testing").str() == std::string("\x12\x07testing", 9));
}

TEST_CASE("protobuf fixed-width and packed fields are little-endian", "[log][protobuf]") {
  CHECK(pb::Message().float64(1, 1.0).str() == std::string("\x09\0\0\0\0\0\0\xf0\x3f", 9));
  CHECK(pb::Message().float32(2, 1.0f).str() == std::string("\x15\0\0\x80\x3f", 5));
  const std::vector<double> d{1.0, 2.0};
  const std::string packed = pb::Message().packed_float64(6, d).str();
  CHECK(packed.substr(0, 2) == std::string("\x32\x10", 2));
  CHECK(packed.size() == 18);
  const std::vector<std::int64_t> ints{3, 270, 86942};  // the docs' packed example
  CHECK(pb::Message().packed_varint(4, ints).str() ==
        std::string("\x22\x06\x03\x8e\x02\x9e\xa7\x05", 8));
  pb::Message inner;
  inner.varint(1, 150);
  CHECK(pb::Message().message(3, inner).str() == std::string("\x1a\x03\x08\x96\x01", 5));
}
