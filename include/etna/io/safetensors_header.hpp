// Parsing and validating a safetensors header: the 8-byte length, the JSON, each tensor's
// dtype/shape/data_offsets, and that the tensors tile the data region exactly (no overlaps,
// holes or trailing bytes), as the reference implementation (safetensors' Rust crate) demands.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/shape.hpp"
#include "etna/io/convert.hpp"
#include "etna/io/dtype.hpp"

namespace etna::io::detail {

// The reference implementation refuses headers above 100 MB; so do we (a corrupt length must
// not make us parse gigabytes).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

struct HeaderTensor {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin, end;  // byte range within the data region
};

struct ParsedHeader {
  std::map<std::string, std::string> metadata;
  std::vector<HeaderTensor> tensors;  // in data order
  std::size_t data_start = 0;         // offset of the data region in the file
};

class HeaderParser {
 public:
  explicit HeaderParser(const std::string& file) : file_(file) {}

  ParsedHeader parse(std::span<const std::byte> all) {
    if (all.size() < 8)
      fail(etna::detail::str("the file has ", all.size(),
                             " bytes, too short for a safetensors header (8-byte length first)"));
    const auto n = load_le<std::uint64_t>(all.data());
    if (n > all.size() - 8)
      fail(etna::detail::str("header length ", n, " exceeds the file size (", all.size(),
                             " bytes): truncated or not a safetensors file"));
    if (n > max_header_bytes)
      fail(etna::detail::str("header length ", n, " exceeds the limit of ", max_header_bytes,
                             " bytes"));
    ParsedHeader out;
    out.data_start = 8 + static_cast<std::size_t>(n);
    const char* text = reinterpret_cast<const char*>(all.data() + 8);
    // JSON never holds a raw NUL, and nlohmann would take one as the end of the input.
    if (std::memchr(text, '\0', static_cast<std::size_t>(n)) != nullptr)
      fail("the header is not valid JSON: it contains a NUL byte");
    const nlohmann::json header = parse_json(text, text + n);
    if (!header.is_object())
      fail(etna::detail::str("the header is JSON ", header.type_name(), ", not an object"));
    const std::uint64_t data_size = all.size() - out.data_start;
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__")
        out.metadata = parse_metadata(value);
      else
        out.tensors.push_back(parse_tensor(key, value, data_size));
    }
    check_layout(out.tensors, data_size);
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw io_error(etna::detail::str("safetensors file '", file_, "': ", problem));
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& problem) const {
    fail(etna::detail::str("tensor '", name, "': ", problem));
  }

  // Parses strictly (no trailing text except whitespace, which pads headers), rejecting
  // duplicate keys (nlohmann keeps the last silently) and nesting deeper than the format uses.
  nlohmann::json parse_json(const char* first, const char* last) const {
    std::vector<std::set<std::string>> keys_seen;
    std::string duplicate;
    bool too_deep = false;
    auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
      using E = nlohmann::json::parse_event_t;
      if (depth > 4) too_deep = true;
      if (too_deep || !duplicate.empty()) return false;
      if (event == E::object_start)
        keys_seen.emplace_back();
      else if (event == E::object_end && !keys_seen.empty())
        keys_seen.pop_back();
      else if (event == E::key && !keys_seen.empty() &&
               !keys_seen.back().insert(parsed.get<std::string>()).second)
        duplicate = parsed.get<std::string>();
      return true;
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(first, last, callback);
    } catch (const nlohmann::json::exception& e) {
      if (too_deep) fail("the header JSON is nested deeper than a safetensors header can be");
      if (!duplicate.empty())
        fail(etna::detail::str("the header has the key '", duplicate, "' twice"));
      fail(etna::detail::str("the header is not valid JSON: ", e.what()));
    }
    if (too_deep) fail("the header JSON is nested deeper than a safetensors header can be");
    if (!duplicate.empty())
      fail(etna::detail::str("the header has the key '", duplicate, "' twice"));
    return j;
  }

  std::map<std::string, std::string> parse_metadata(const nlohmann::json& value) const {
    if (!value.is_object())
      fail(etna::detail::str("__metadata__ is JSON ", value.type_name(),
                             ", not an object of strings"));
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string())
        fail(etna::detail::str("__metadata__ value of '", k, "' is JSON ", v.type_name(),
                               ", not a string"));
      out.emplace(k, v.get<std::string>());
    }
    return out;
  }

  HeaderTensor parse_tensor(const std::string& name, const nlohmann::json& value,
                            std::uint64_t data_size) const {
    if (!value.is_object())
      fail_tensor(name, etna::detail::str("entry is JSON ", value.type_name(), ", not an object"));
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!value.contains(field))
        fail_tensor(name, etna::detail::str("missing field '", field, "'"));
    for (const auto& [k, v] : value.items())
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        fail_tensor(name, etna::detail::str("unexpected field '", k, "'"));

    HeaderTensor t{name, DType::F32, Shape{}, 0, 0};
    const nlohmann::json& dtype = value["dtype"];
    if (!dtype.is_string()) fail_tensor(name, "dtype is not a string");
    const auto parsed = parse_dtype(dtype.get<std::string>());
    if (!parsed)
      fail_tensor(name,
                  etna::detail::str("unsupported dtype '", dtype.get<std::string>(),
                                    "' (etna reads F16, BF16, F32, F64, I64, I32, U8, BOOL)"));
    t.dtype = *parsed;

    const nlohmann::json& shape = value["shape"];
    if (!shape.is_array()) fail_tensor(name, "shape is not an array");
    if (shape.size() > static_cast<std::size_t>(kMaxDims))
      fail_tensor(name, etna::detail::str("shape has ", shape.size(),
                                          " dimensions, etna supports at most ", kMaxDims));
    // Strides multiply the non-zero extents, so even an empty tensor's extents must have a
    // product that fits int64 (a [0, 2^62, 2^62] tensor cannot be indexed).
    std::int64_t nonzero_product = 1;
    bool has_zero = false;
    for (const nlohmann::json& d : shape) {
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail_tensor(name, etna::detail::str("shape ", shape.dump(),
                                            " has an entry that is not a non-negative integer"));
      const auto extent = static_cast<std::int64_t>(d.get<std::uint64_t>());
      if (extent == 0)
        has_zero = true;
      else if (__builtin_mul_overflow(nonzero_product, extent, &nonzero_product))
        fail_tensor(name, etna::detail::str("shape ", shape.dump(),
                                            " has more elements than int64 can count"));
      t.shape.push_back(extent);
    }
    const std::uint64_t numel = has_zero ? 0 : static_cast<std::uint64_t>(nonzero_product);

    const nlohmann::json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail_tensor(name, etna::detail::str("data_offsets ", offsets.dump(),
                                          " is not [begin, end] of non-negative integers"));
    t.begin = offsets[0].get<std::uint64_t>();
    t.end = offsets[1].get<std::uint64_t>();
    if (t.begin > t.end)
      fail_tensor(name, etna::detail::str("data_offsets [", t.begin, ", ", t.end,
                                          "] end before they begin"));
    if (t.end > data_size)
      fail_tensor(name,
                  etna::detail::str("data_offsets [", t.begin, ", ", t.end,
                                    "] run past the end of the data (", data_size, " bytes)"));
    std::uint64_t expected = 0;
    const bool overflow = __builtin_mul_overflow(numel, dtype_size(t.dtype), &expected);
    if (overflow || expected != t.end - t.begin)
      fail_tensor(
          name, etna::detail::str(
                    "shape ", t.shape, " of ", t.dtype, " needs ",
                    overflow ? std::string("more than 2^64") : std::to_string(expected),
                    " bytes but data_offsets [", t.begin, ", ", t.end, "] hold ", t.end - t.begin));
    return t;
  }

  // The tensors must cover the data region exactly once, in some order.
  void check_layout(std::vector<HeaderTensor>& tensors, std::uint64_t data_size) const {
    std::stable_sort(tensors.begin(), tensors.end(),
                     [](const HeaderTensor& a, const HeaderTensor& b) {
                       return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                     });
    std::uint64_t at = 0;
    const HeaderTensor* previous = nullptr;
    for (const HeaderTensor& t : tensors) {
      if (t.begin < at)
        fail(etna::detail::str("tensors '", previous->name, "' [", previous->begin, ", ",
                               previous->end, ") and '", t.name, "' [", t.begin, ", ", t.end,
                               ") overlap"));
      if (t.begin > at)
        fail_tensor(t.name,
                    etna::detail::str("data_offsets [", t.begin, ", ", t.end, "] leave a hole of ",
                                      t.begin - at, " bytes before it (at byte ", at, ")"));
      at = t.end;
      previous = &t;
    }
    if (at != data_size)
      fail(etna::detail::str(data_size - at,
                             " bytes of data after the last tensor (the data region has ",
                             data_size, " bytes, the tensors use ", at, ")"));
  }

  const std::string& file_;
};

inline ParsedHeader parse_safetensors_header(std::span<const std::byte> all,
                                             const std::string& file) {
  return HeaderParser(file).parse(all);
}

}  // namespace etna::io::detail
