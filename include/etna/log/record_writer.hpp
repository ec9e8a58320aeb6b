// TFRecord framing into one file: each record is uint64 length (little-endian), masked CRC32C
// of the length, the data, masked CRC32C of the data. Buffered; not thread-safe on its own
// (SummaryWriter serialises access).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "etna/core/error.hpp"
#include "etna/log/crc32c.hpp"
#include "etna/log/protobuf.hpp"

namespace etna::logging {

class RecordWriter {
 public:
  // Creates `path`, which must not exist yet (so two writers never share a file). Returns
  // nullptr if it exists; throws io_error for any other failure.
  static std::unique_ptr<RecordWriter> create_new(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wbx");  // "x": fail if it exists (C11, glibc)
    if (!f) {
      if (errno == EEXIST) return nullptr;
      throw io_error("RecordWriter: cannot create '" + path + "': " + std::strerror(errno));
    }
    return std::unique_ptr<RecordWriter>(new RecordWriter(path, f));
  }
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  ~RecordWriter() {
    try {
      close();
    } catch (...) {  // a destructor cannot report; close() explicitly to see write errors
    }
  }

  const std::string& path() const { return path_; }
  std::size_t pending() const { return pending_; }

  // Frames `data` into the buffer; nothing reaches the file before flush().
  void write(std::string_view data) {
    const auto length_at = buffer_.size();
    protobuf::append_fixed64(buffer_, data.size());
    protobuf::append_fixed32(buffer_, masked_crc32c(buffer_.data() + length_at, 8));
    buffer_.append(data);
    protobuf::append_fixed32(buffer_, masked_crc32c(data));
    ++pending_;
  }

  // Writes the buffered records and hands them to the OS (fflush), so readers see them.
  void flush() {
    if (!file_) return;
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      throw io_error("RecordWriter: write failure on '" + path_ + "': " + std::strerror(errno));
    buffer_.clear();
    pending_ = 0;
    if (std::fflush(file_) != 0)
      throw io_error("RecordWriter: write failure on '" + path_ + "': " + std::strerror(errno));
  }

  void close() {
    if (!file_) return;
    std::FILE* f = file_;
    try {
      flush();
    } catch (...) {
      file_ = nullptr;
      std::fclose(f);
      throw;
    }
    file_ = nullptr;
    if (std::fclose(f) != 0)
      throw io_error("RecordWriter: cannot close '" + path_ + "': " + std::strerror(errno));
  }

 private:
  RecordWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::size_t pending_ = 0;
};

}  // namespace etna::logging
