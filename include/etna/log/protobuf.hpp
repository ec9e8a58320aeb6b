// A minimal protocol-buffers wire-format writer: just enough to encode TensorBoard's messages
// (event.proto, summary.proto, the hparams plugin) without depending on libprotobuf.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace etna::logging::protobuf {

enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

inline void append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

inline void append_fixed32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}
inline void append_fixed64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// Builds one message's bytes field by field. Fields are written in call order; proto3 readers
// accept any order. A nested message is encoded into its own Message and added with message().
class Message {
 public:
  // int32/int64/uint64/bool/enum fields: negative values take ten bytes, as protobuf does.
  Message& varint(int field, std::int64_t value) {
    key(field, WireType::varint);
    append_varint(bytes_, static_cast<std::uint64_t>(value));
    return *this;
  }
  Message& boolean(int field, bool value) { return varint(field, value ? 1 : 0); }
  Message& float64(int field, double value) {
    key(field, WireType::fixed64);
    append_fixed64(bytes_, std::bit_cast<std::uint64_t>(value));
    return *this;
  }
  Message& float32(int field, float value) {
    key(field, WireType::fixed32);
    append_fixed32(bytes_, std::bit_cast<std::uint32_t>(value));
    return *this;
  }
  // string, bytes and embedded messages share the length-delimited encoding.
  Message& bytes(int field, std::string_view value) {
    key(field, WireType::length_delimited);
    append_varint(bytes_, value.size());
    bytes_.append(value);
    return *this;
  }
  Message& message(int field, const Message& nested) { return bytes(field, nested.bytes_); }
  // repeated double [packed = true]: one length-delimited run of fixed64 values.
  Message& packed_float64(int field, std::span<const double> values) {
    key(field, WireType::length_delimited);
    append_varint(bytes_, values.size() * 8);
    for (double v : values) append_fixed64(bytes_, std::bit_cast<std::uint64_t>(v));
    return *this;
  }
  Message& packed_varint(int field, std::span<const std::int64_t> values) {
    std::string run;
    for (std::int64_t v : values) append_varint(run, static_cast<std::uint64_t>(v));
    return bytes(field, run);
  }

  const std::string& str() const { return bytes_; }
  std::string release() { return std::move(bytes_); }
  bool empty() const { return bytes_.empty(); }

 private:
  void key(int field, WireType type) {
    append_varint(bytes_,
                  (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint32_t>(type));
  }
  std::string bytes_;
};

}  // namespace etna::logging::protobuf
