// Writing safetensors files: named tensors (host or device) converted to their stored dtype as
// they are added, then one header (padded with spaces to 8 bytes, as the reference writer does)
// and the data in insertion order. save() replaces the file atomically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "etna/core/device.hpp"
#include "etna/core/error.hpp"
#include "etna/core/tensor.hpp"
#include "etna/io/atomic_file.hpp"
#include "etna/io/convert.hpp"
#include "etna/io/dtype.hpp"

namespace etna::io {

class SafeTensorsWriter {
 public:
  // Adds `t` under `name`, stored as `as` (default dtype_of<T>()): float/double -> F16/BF16/F32/
  // F64 (round to nearest even); int32/int64 -> I32/I64/U8 (value_error if a value is out of
  // range); bool -> BOOL. Cuda tensors are copied to the host. The values are copied now, so
  // later changes to `t` do not show. Duplicate or empty names and "__metadata__" are
  // value_errors.
  template <Scalar T, Device D>
  void add(const std::string& name, const Tensor<T, D>& t, std::optional<DType> as = std::nullopt) {
    const DType dtype = as.value_or(dtype_of<T>());
    if (!converts<T>(dtype))
      throw value_error(etna::detail::str("SafeTensorsWriter::add: tensor '", name, "' of ",
                                          etna::dtype_name<T>(), " cannot be stored as ", dtype));
    check_name(name);
    const auto host = [&] {
      if constexpr (std::is_same_v<D, cpu>)
        return t.contiguous();
      else
        return t.template to<cpu>().contiguous();
    }();
    std::vector<std::byte> bytes(static_cast<std::size_t>(host.numel()) * dtype_size(dtype));
    const std::int64_t bad = detail::encode<T>(dtype, host.data(), host.numel(), bytes.data());
    if (bad >= 0)
      throw value_error(etna::detail::str("SafeTensorsWriter::add: tensor '", name, "': element ",
                                          bad, " = ", host.data()[bad], " does not fit ", dtype));
    push(name, dtype, host.shape(), std::move(bytes));
  }

  // Adds already-encoded bytes (e.g. an entry copied from another file as it is).
  void add_raw(const std::string& name, DType dtype, const Shape& shape,
               std::span<const std::byte> bytes) {
    check_name(name);
    for (std::int64_t d : shape)
      if (d < 0)
        throw value_error(etna::detail::str("SafeTensorsWriter::add_raw: tensor '", name,
                                            "': negative extent in shape ", shape));
    const auto expected = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
    if (bytes.size() != expected)
      throw value_error(etna::detail::str("SafeTensorsWriter::add_raw: tensor '", name, "': shape ",
                                          shape, " of ", dtype, " needs ", expected, " bytes, got ",
                                          bytes.size()));
    push(name, dtype, shape, std::vector<std::byte>(bytes.begin(), bytes.end()));
  }

  // A __metadata__ entry (string to string); setting a key again replaces its value.
  void set_metadata(const std::string& key, const std::string& value) {
    check_utf8("SafeTensorsWriter::set_metadata: key", key);
    check_utf8(etna::detail::str("SafeTensorsWriter::set_metadata: value of '", key, "'"), value);
    metadata_[key] = value;
  }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  bool contains(const std::string& name) const { return names_.count(name) != 0; }
  std::size_t size() const { return entries_.size(); }

  // The whole file in memory.
  std::vector<std::byte> to_bytes() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) {
      nlohmann::ordered_json meta = nlohmann::ordered_json::object();
      for (const auto& [k, v] : metadata_) meta[k] = v;
      header["__metadata__"] = std::move(meta);
    }
    std::uint64_t offset = 0;
    for (const Entry& e : entries_) {
      nlohmann::ordered_json shape = nlohmann::ordered_json::array();
      for (std::int64_t d : e.shape) shape.push_back(d);
      const std::uint64_t end = offset + e.bytes.size();
      header[e.name] = {{"dtype", std::string(dtype_name(e.dtype))},
                        {"shape", std::move(shape)},
                        {"data_offsets", {offset, end}}};
      offset = end;
    }
    std::string text = header.dump();
    // Pads so the data starts 8-byte aligned (the reference writer pads with spaces too).
    text.append((8 - text.size() % 8) % 8, ' ');
    std::vector<std::byte> out(8 + text.size() + offset);
    detail::store_le<std::uint64_t>(out.data(), text.size());
    std::memcpy(out.data() + 8, text.data(), text.size());
    std::byte* at = out.data() + 8 + text.size();
    for (const Entry& e : entries_) {
      if (!e.bytes.empty()) std::memcpy(at, e.bytes.data(), e.bytes.size());
      at += e.bytes.size();
    }
    return out;
  }

  // Writes the file atomically (see write_file_atomically): on error `path` is unchanged.
  void save(const std::string& path) const { write_file_atomically(path, to_bytes()); }

 private:
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::vector<std::byte> bytes;
  };

  // The header is JSON: names and metadata must be valid UTF-8 (nlohmann refuses others).
  static void check_utf8(const std::string& what, const std::string& s) {
    try {
      (void)nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception&) {
      throw value_error(etna::detail::str(what, " is not valid UTF-8"));
    }
  }

  void check_name(const std::string& name) const {
    if (name.empty()) throw value_error("SafeTensorsWriter::add: empty tensor name");
    if (name == "__metadata__")
      throw value_error("SafeTensorsWriter::add: '__metadata__' is reserved for the metadata");
    if (names_.count(name))
      throw value_error(
          etna::detail::str("SafeTensorsWriter::add: duplicate tensor name '", name, "'"));
    check_utf8(etna::detail::str("SafeTensorsWriter::add: tensor name '", name, "'"), name);
  }

  void push(const std::string& name, DType dtype, const Shape& shape,
            std::vector<std::byte> bytes) {
    entries_.push_back(Entry{name, dtype, shape, std::move(bytes)});
    names_.insert(name);
  }

  std::vector<Entry> entries_;
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace etna::io
