// Helpers for the safetensors tests: building raw files byte by byte (valid or not), small
// tensors, temporary folders; only core and io headers (test_io_asan compiles them quickly).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"

namespace etna_test {

// A file: 8-byte little-endian header length, `header` as is, then `data`.
inline std::vector<std::byte> safetensors_bytes(const std::string& header,
                                                const std::string& data = "") {
  std::vector<std::byte> out(8);
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>(n >> (8 * i));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  for (char c : data) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// A host tensor of `shape` holding `values` (converted to T).
template <class T, class V = T>
etna::Tensor<T> make(const etna::Shape& shape, std::initializer_list<V> values) {
  auto t = etna::empty<T>(shape);
  if (static_cast<std::size_t>(t.numel()) != values.size())
    throw std::invalid_argument("make: the values do not fill the shape");
  std::int64_t i = 0;
  for (V v : values) t.data()[i++] = static_cast<T>(v);
  return t;
}

// A tensor's values in logical order.
template <class T>
std::vector<T> values_of(const etna::Tensor<T>& t) {
  const auto c = t.contiguous();
  return std::vector<T>(c.data(), c.data() + c.numel());
}

// A fresh, empty folder under the temp directory, removed when the object goes.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("etna_" + tag + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace etna_test
