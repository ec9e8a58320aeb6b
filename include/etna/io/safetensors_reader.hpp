// Reading safetensors files (the Hugging Face format: 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw data). Everything
// is validated on open, so a corrupt or hostile file is an io_error, never a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/io/convert.hpp"
#include "etna/io/dtype.hpp"
#include "etna/io/mapped_file.hpp"
#include "etna/io/safetensors_header.hpp"

namespace etna::io {

// One tensor of an open file: a view of its bytes (valid while the file object, or a copy of
// it, lives).
struct TensorEntry {
  std::string name;
  DType dtype;
  Shape shape;
  std::span<const std::byte> bytes;
};

// Declared outside SafeTensorsFile so that `Options options = {}` can default its members.
struct SafeTensorsOptions {
  bool mmap = true;  // false: read the whole file into memory
};

// A validated safetensors file, memory-mapped (default) or read into memory. Copies share the
// bytes; entries' spans stay valid while any copy lives.
class SafeTensorsFile {
 public:
  using Options = SafeTensorsOptions;

  explicit SafeTensorsFile(const std::string& path, Options options = {})
      : path_(path), data_(std::make_shared<const MappedFile>(path, options.mmap)) {
    parse();
  }

  // Validates `bytes` as a file; `name` stands for the path in error messages.
  static SafeTensorsFile from_bytes(std::vector<std::byte> bytes, std::string name = "<memory>") {
    return SafeTensorsFile(std::move(name), std::make_shared<const MappedFile>(std::move(bytes)));
  }

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::size_t size() const { return entries_.size(); }
  bool is_mapped() const { return data_->is_mapped(); }

  // Tensor names in file (data offset) order.
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const TensorEntry& e : entries_) out.push_back(e.name);
    return out;
  }
  // All entries in file order.
  const std::vector<TensorEntry>& entries() const { return entries_; }

  bool contains(const std::string& name) const { return index_.count(name) != 0; }

  const TensorEntry& entry(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end())
      throw io_error(etna::detail::str("safetensors file '", path_, "': no tensor named '", name,
                                       "' (the file has ", entries_.size(), " tensors)"));
    return entries_[it->second];
  }

  // A host tensor with the entry's values converted to T: F16/BF16/F32/F64 -> float or double;
  // I32/I64/U8 -> int32/int64 (io_error if a value does not fit); BOOL -> bool (bytes 0 or 1).
  // Any other pairing (float <-> int, bool <-> U8) is an io_error naming both dtypes.
  template <Scalar T>
  Tensor<T> tensor(const std::string& name) const {
    const TensorEntry& e = entry(name);
    if (!converts<T>(e.dtype))
      throw io_error(etna::detail::str("safetensors file '", path_, "': tensor '", name,
                                       "' has dtype ", e.dtype, ", which does not convert to ",
                                       etna::dtype_name<T>()));
    auto t = empty<T>(e.shape);
    const std::int64_t bad = detail::decode<T>(e.dtype, e.bytes.data(), t.numel(), t.data());
    if (bad >= 0)
      throw io_error(etna::detail::str(
          "safetensors file '", path_, "': tensor '", name, "': element ", bad, " (", e.dtype, ") ",
          std::is_same_v<T, bool> ? "is not a valid bool (0 or 1)" : "does not fit ",
          std::is_same_v<T, bool> ? "" : etna::dtype_name<T>()));
    return t;
  }

 private:
  SafeTensorsFile(std::string name, std::shared_ptr<const MappedFile> data)
      : path_(std::move(name)), data_(std::move(data)) {
    parse();
  }

  void parse() {
    const std::span<const std::byte> all = data_->bytes();
    detail::ParsedHeader h = detail::parse_safetensors_header(all, path_);
    metadata_ = std::move(h.metadata);
    const std::byte* base = all.data() + h.data_start;
    entries_.reserve(h.tensors.size());
    for (detail::HeaderTensor& t : h.tensors) {
      index_.emplace(t.name, entries_.size());
      entries_.push_back(TensorEntry{std::move(t.name), t.dtype, t.shape,
                                     std::span<const std::byte>(base + t.begin, t.end - t.begin)});
    }
  }

  std::string path_;
  std::shared_ptr<const MappedFile> data_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorEntry> entries_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace etna::io
