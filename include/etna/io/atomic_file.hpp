// Replacing a file all at once: the bytes go to a temporary file in the same folder, which is
// flushed to disk and renamed over the target, so a crash or a failed write never leaves a
// half-written model or checkpoint where the old one was.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "etna/core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <fstream>
#endif

namespace etna::io {

namespace detail {

// A name for the temporary file beside `target` that no other writer (thread or process) picks.
inline std::filesystem::path temporary_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  // Built by appending: GCC 12 misreports `"literal" + std::string` under -Werror=restrict.
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp.");
#if defined(__unix__) || defined(__APPLE__)
  name.append(std::to_string(::getpid())).append(".");
#endif
  name.append(std::to_string(counter++)).append(".").append(std::to_string(ticks % 1000000007));
  return target.parent_path() / name;
}

inline std::string errno_text() { return std::strerror(errno); }

}  // namespace detail

// Writes `bytes` to `path` atomically: temp file in the same folder, write, flush, fsync,
// rename over `path` (an existing file keeps its permission bits). On any failure the temp
// file is removed, `path` is untouched and io_error names the file and the reason.
inline void write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  namespace fs = std::filesystem;
  using etna::detail::str;
  if (path.empty()) throw io_error("write_file_atomically: empty path");
  const fs::path target(path);
  if (!target.has_filename() || fs::is_directory(target))
    throw io_error(str("cannot write '", path, "': it is a directory"));
  const fs::path tmp = detail::temporary_path_for(target);
#if defined(__unix__) || defined(__APPLE__)
  // The mode 0666 is narrowed by the umask, as for any new file.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw io_error(str("cannot write '", path, "': cannot create a temporary file in '",
                       target.parent_path().string(), "': ", detail::errno_text()));
  auto fail = [&](const std::string& what) {
    const std::string reason = detail::errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw io_error(str("cannot write '", path, "': ", what, ": ", reason));
  };
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0) ::fchmod(fd, old.st_mode & 07777);
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const std::string reason = detail::errno_text();
    ::unlink(tmp.c_str());
    throw io_error(str("cannot write '", path, "': close failed: ", reason));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = detail::errno_text();
    ::unlink(tmp.c_str());
    throw io_error(str("cannot write '", path, "': rename failed: ", reason));
  }
  // Makes the rename itself durable; a folder that cannot be opened or synced is not an error.
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
#else
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out)
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw io_error(str("cannot write '", path, "': writing the temporary file failed"));
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw io_error(str("cannot write '", path, "': rename failed: ", ec.message()));
  }
#endif
}

}  // namespace etna::io
