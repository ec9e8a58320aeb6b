// A file's bytes held read-only in memory: memory-mapped when the OS allows it (large models
// load without a copy), else read into a buffer. The bytes stay put while the object lives.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define ETNA_IO_HAVE_MMAP 1
#endif

#include "etna/core/error.hpp"

namespace etna::io {

class MappedFile {
 public:
  MappedFile() = default;
  // Wraps bytes already in memory (SafeTensorsFile::from_bytes).
  explicit MappedFile(std::vector<std::byte> bytes) : buffer_(std::move(bytes)) {}

  // Maps `path` (or reads it when `mmap` is false or mapping fails: pipes, empty files, file
  // systems without mmap). Throws io_error naming the file when it cannot be opened or read.
  // A mapped file that another program truncates while mapped faults on access; etna's own
  // writes replace files by rename (write_file_atomically), which never does that.
  MappedFile(const std::string& path, bool mmap) {
#ifdef ETNA_IO_HAVE_MMAP
    if (mmap && try_map(path)) return;
#else
    (void)mmap;
#endif
    read_all(path);
  }

  MappedFile(MappedFile&& other) noexcept { swap(other); }
  MappedFile& operator=(MappedFile&& other) noexcept {
    MappedFile moved(std::move(other));
    swap(moved);
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
#ifdef ETNA_IO_HAVE_MMAP
    if (mapped_) ::munmap(mapped_, mapped_size_);
#endif
  }

  std::span<const std::byte> bytes() const {
    if (mapped_) return {static_cast<const std::byte*>(mapped_), mapped_size_};
    return {buffer_.data(), buffer_.size()};
  }
  bool is_mapped() const { return mapped_ != nullptr; }

 private:
  void swap(MappedFile& other) noexcept {
    std::swap(mapped_, other.mapped_);
    std::swap(mapped_size_, other.mapped_size_);
    buffer_.swap(other.buffer_);
  }

#ifdef ETNA_IO_HAVE_MMAP
  // Returns false (and leaves the reading to read_all) whenever mapping is not possible.
  bool try_map(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;  // read_all reports the error with its reason
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    if (ok) {
      void* p =
          ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      ok = p != MAP_FAILED;
      if (ok) {
        mapped_ = p;
        mapped_size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);  // the mapping keeps the file referenced
    return ok;
  }
#endif

  void read_all(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw io_error(etna::detail::str("cannot read '", path, "': it is a directory"));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(etna::detail::str("cannot open '", path, "': ", std::strerror(errno)));
    std::vector<char> chunk(1 << 16);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      const auto* first = reinterpret_cast<const std::byte*>(chunk.data());
      buffer_.insert(buffer_.end(), first, first + n);
    }
    if (in.bad()) throw io_error(etna::detail::str("cannot read '", path, "': read error"));
  }

  void* mapped_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::vector<std::byte> buffer_;
};

}  // namespace etna::io
