// An independent reader of TensorBoard event files for the tests: TFRecord framing with both
// CRCs checked (its own bitwise CRC32C, not etna's table) and a generic protobuf field parser.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace etna_test {

inline std::uint32_t bitwise_crc32c(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}
inline std::uint32_t masked(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

template <class U>
U read_le(const std::string& s, std::size_t at) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i)
    v |= static_cast<U>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// Splits a file into its records, checking lengths and both masked CRCs; throws on any defect.
inline std::vector<std::string> read_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("event_reader: cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<std::string> records;
  std::size_t at = 0;
  while (at < data.size()) {
    if (data.size() - at < 12)
      throw std::runtime_error("event_reader: truncated length in " + path);
    const std::string len_bytes = data.substr(at, 8);
    const auto len = read_le<std::uint64_t>(data, at);
    if (read_le<std::uint32_t>(data, at + 8) != masked(bitwise_crc32c(len_bytes)))
      throw std::runtime_error("event_reader: bad length CRC in " + path);
    if (data.size() - at - 12 < len + 4)
      throw std::runtime_error("event_reader: truncated record in " + path);
    std::string record = data.substr(at + 12, len);
    if (read_le<std::uint32_t>(data, at + 12 + len) != masked(bitwise_crc32c(record)))
      throw std::runtime_error("event_reader: bad data CRC in " + path);
    records.push_back(std::move(record));
    at += 12 + len + 4;
  }
  return records;
}

// One protobuf field: its wire type and either the integer (varint / fixed) or the bytes.
struct Field {
  int wire = 0;
  std::uint64_t number = 0;
  std::string bytes;
  double as_double() const { return std::bit_cast<double>(number); }
  float as_float() const { return std::bit_cast<float>(static_cast<std::uint32_t>(number)); }
};
using Fields = std::multimap<int, Field>;

inline Fields parse(const std::string& s) {
  Fields out;
  std::size_t at = 0;
  auto varint = [&] {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= s.size() || shift > 63) throw std::runtime_error("event_reader: bad varint");
      const auto b = static_cast<unsigned char>(s[at++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < s.size()) {
    const std::uint64_t key = varint();
    Field f;
    f.wire = static_cast<int>(key & 7);
    switch (f.wire) {
      case 0:
        f.number = varint();
        break;
      case 1:
        f.number = read_le<std::uint64_t>(s, at), at += 8;
        break;
      case 5:
        f.number = read_le<std::uint32_t>(s, at), at += 4;
        break;
      case 2: {
        const auto n = varint();
        if (at + n > s.size()) throw std::runtime_error("event_reader: bad length");
        f.bytes = s.substr(at, n), at += n;
        break;
      }
      default:
        throw std::runtime_error("event_reader: unknown wire type");
    }
    if (at > s.size()) throw std::runtime_error("event_reader: truncated field");
    out.emplace(static_cast<int>(key >> 3), std::move(f));
  }
  return out;
}

inline const Field* get(const Fields& f, int number) {
  auto it = f.find(number);
  return it == f.end() ? nullptr : &it->second;
}
inline std::vector<double> packed_doubles(const Field* f) {
  std::vector<double> v;
  if (!f) return v;
  for (std::size_t i = 0; i + 8 <= f->bytes.size(); i += 8)
    v.push_back(std::bit_cast<double>(read_le<std::uint64_t>(f->bytes, i)));
  return v;
}

struct Histo {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
};
struct Image {
  std::int64_t height = 0, width = 0, colorspace = 0;
  std::string png;
};

// The decoded fields of one Event with (at most) one Summary.Value, as etna writes them.
struct Event {
  double wall_time = 0;
  std::int64_t step = 0;
  std::string file_version;
  std::string tag;
  std::optional<float> simple_value;
  std::optional<Histo> histo;
  std::optional<Image> image;
  std::optional<std::string> text;  // TensorProto.string_val[0]
  std::string plugin_name;          // SummaryMetadata.plugin_data.plugin_name
  std::string plugin_content;
};

inline Event decode_event(const std::string& record) {
  const Fields e = parse(record);
  Event ev;
  if (auto* f = get(e, 1)) ev.wall_time = f->as_double();
  if (auto* f = get(e, 2)) ev.step = static_cast<std::int64_t>(f->number);
  if (auto* f = get(e, 3)) ev.file_version = f->bytes;
  const Field* summary = get(e, 5);
  if (!summary) return ev;
  const Fields s = parse(summary->bytes);
  const Field* value = get(s, 1);
  if (!value) return ev;
  const Fields v = parse(value->bytes);
  if (auto* f = get(v, 1)) ev.tag = f->bytes;
  if (auto* f = get(v, 2)) ev.simple_value = f->as_float();
  if (auto* f = get(v, 5)) {
    const Fields h = parse(f->bytes);
    Histo histo;
    for (auto [n, dst] : {std::pair{1, &histo.min},
                          {2, &histo.max},
                          {3, &histo.num},
                          {4, &histo.sum},
                          {5, &histo.sum_squares}})
      if (auto* x = get(h, n)) *dst = x->as_double();
    histo.bucket_limit = packed_doubles(get(h, 6));
    histo.bucket = packed_doubles(get(h, 7));
    ev.histo = histo;
  }
  if (auto* f = get(v, 4)) {
    const Fields i = parse(f->bytes);
    Image image;
    if (auto* x = get(i, 1)) image.height = static_cast<std::int64_t>(x->number);
    if (auto* x = get(i, 2)) image.width = static_cast<std::int64_t>(x->number);
    if (auto* x = get(i, 3)) image.colorspace = static_cast<std::int64_t>(x->number);
    if (auto* x = get(i, 4)) image.png = x->bytes;
    ev.image = image;
  }
  if (auto* f = get(v, 8)) {
    const Fields t = parse(f->bytes);
    if (auto* x = get(t, 8)) ev.text = x->bytes;
  }
  if (auto* f = get(v, 9)) {
    const Fields meta = parse(f->bytes);
    if (auto* pd = get(meta, 1)) {
      const Fields plugin = parse(pd->bytes);
      if (auto* x = get(plugin, 1)) ev.plugin_name = x->bytes;
      if (auto* x = get(plugin, 2)) ev.plugin_content = x->bytes;
    }
  }
  return ev;
}

inline std::vector<Event> read_events(const std::string& path) {
  std::vector<Event> events;
  for (const auto& r : read_records(path)) events.push_back(decode_event(r));
  return events;
}

}  // namespace etna_test
