// Reader for IDX files (the MNIST family's format), plain or gzip-compressed, with every
// header field and the payload length checked so a bad file is an io_error, never garbage.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "etna/core/error.hpp"

namespace etna::data {

// An IDX array of unsigned bytes: its dimensions and its elements in row-major order.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

namespace detail {

inline std::string hex(std::uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*X", digits, static_cast<unsigned>(v));
  return buf;
}

inline const char* idx_type_name(unsigned type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

inline std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// gzread reads plain files transparently, so one path serves .gz and uncompressed files.
class IdxSource {
 public:
  explicit IdxSource(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw io_error(etna::detail::str("read_idx: ", path.string(), ": no such file"));
    if (std::filesystem::is_directory(path, ec))
      throw io_error(
          etna::detail::str("read_idx: ", path.string(), ": is a directory, not a file"));
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_)
      throw io_error(etna::detail::str("read_idx: ", path.string(), ": cannot open (",
                                       errno ? std::strerror(errno) : "out of memory", ")"));
    gzbuffer(file_.get(), 1 << 17);
  }

  // Reads up to n bytes; fewer only at the end of the data. A damaged gzip stream is an error.
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t got = 0;
    while (got < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 24));
      const int r = gzread(file_.get(), out + got, chunk);
      if (r < 0) {
        int code = 0;
        const char* msg = gzerror(file_.get(), &code);
        throw io_error(
            etna::detail::str("read_idx: ", path_.string(), ": ",
                              code == Z_BUF_ERROR ? "truncated gzip stream" : "corrupt gzip data",
                              " after ", consumed_ + got, " bytes (zlib: ", msg, ")"));
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    consumed_ += got;
    return got;
  }

  // Whether the file is stored uncompressed (then its size on disk is its length).
  bool plain() const { return gzdirect(file_.get()) == 1; }
  std::size_t consumed() const { return consumed_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  std::size_t consumed_ = 0;
};

}  // namespace detail

// Reads an unsigned-byte IDX file (plain or .gz). The header is a magic number 0x0000TTNN
// (TT: element type, NN: number of dimensions), NN big-endian uint32 dimensions, then the
// elements. expected_dims > 0 demands that many dimensions (MNIST labels 1, images 3). A file
// whose length differs from what its header promises is an io_error naming both lengths.
inline IdxArray read_idx(const std::filesystem::path& path, int expected_dims = 0) {
  const std::string name = path.string();
  auto fail = [&](auto&&... parts) {
    return io_error(etna::detail::str("read_idx: ", name, ": ", parts...));
  };
  detail::IdxSource src(path);
  unsigned char magic[4];
  const std::size_t got_magic = src.read(magic, 4);
  if (got_magic < 4)
    throw fail("truncated: ", got_magic, " bytes, too short for the 4-byte IDX magic number");
  const std::uint32_t magic_value = std::uint32_t{magic[0]} << 24 | std::uint32_t{magic[1]} << 16 |
                                    std::uint32_t{magic[2]} << 8 | magic[3];
  if (magic[0] != 0 || magic[1] != 0)
    throw fail("bad magic number ", detail::hex(magic_value, 8),
               ": not an IDX file (its magic number starts with two zero bytes)");
  if (magic[2] != 0x08)
    throw fail("element type ", detail::hex(magic[2], 2), " (", detail::idx_type_name(magic[2]),
               ") is not supported; etna reads unsigned-byte IDX files (type 0x08)");
  const int ndims = magic[3];
  if (ndims == 0) throw fail("bad magic number ", detail::hex(magic_value, 8), ": zero dimensions");
  if (expected_dims > 0 && ndims != expected_dims)
    throw fail("expected ", expected_dims, " dimensions (magic ",
               detail::hex(0x0800u | static_cast<std::uint32_t>(expected_dims), 8), "), found ",
               ndims, " (magic ", detail::hex(magic_value, 8), ")");

  IdxArray out;
  std::uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    unsigned char b[4];
    if (src.read(b, 4) < 4)
      throw fail("truncated: the header ends before dimension ", d + 1, " of ", ndims);
    const std::uint64_t extent =
        std::uint64_t{b[0]} << 24 | std::uint64_t{b[1]} << 16 | std::uint64_t{b[2]} << 8 | b[3];
    out.dims.push_back(static_cast<std::int64_t>(extent));
    count *= extent;
    if (count > (std::uint64_t{1} << 40))  // 1 TiB: a corrupt header, not a dataset
      throw fail("dimensions ", detail::dims_string(out.dims), "... are implausibly large");
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(ndims);
  const std::size_t expected = header + count;
  const char* kind = expected_dims == 3 ? "image data" : expected_dims == 1 ? "label data" : "data";
  const char* where = src.plain() ? "" : " after decompression";
  auto size_error = [&](const char* what, const std::string& found) {
    return fail(what, ": expected ", expected, " bytes (", header, "-byte header and ", count,
                " bytes of ", kind, " for dims ", detail::dims_string(out.dims), ")", where,
                ", found ", found);
  };

  // A plain file's length is known before reading: check it before allocating.
  if (src.plain()) {
    std::error_code ec;
    const auto on_disk = std::filesystem::file_size(path, ec);
    if (!ec && on_disk != expected)
      throw size_error(on_disk < expected ? "truncated" : "trailing data after the last element",
                       std::to_string(on_disk));
  }
  // Grow as data arrives so a corrupt .gz header cannot make us allocate what is not there.
  std::size_t have = 0;
  while (have < count) {
    const std::size_t want =
        std::min<std::size_t>(count - have, std::max<std::size_t>(have, 1 << 20));
    out.data.resize(have + want);
    const std::size_t r = src.read(out.data.data() + have, want);
    have += r;
    if (r < want) throw size_error("truncated", std::to_string(header + have));
  }
  unsigned char extra;
  if (src.read(&extra, 1) != 0) throw size_error("trailing data after the last element", "more");
  return out;
}

}  // namespace etna::data
