// Atomic file replacement (etna/io/atomic_file.hpp) through SafeTensorsWriter::save: the new
// file appears whole or not at all; failures leave the old file byte-identical and no temp file.
#include "etna/io/atomic_file.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "io/safetensors_test_util.hpp"

namespace et = etna;
namespace io = etna::io;
namespace fs = std::filesystem;
using etna_test::make;
using etna_test::TempDir;
using etna_test::values_of;

namespace {
std::vector<std::string> folder_listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST_CASE("Saving replaces files atomically; failures leave the old file as it was",
          "[io][safetensors][atomic]") {
  TempDir dir("st_atomic");
  const std::string path = dir / "model.safetensors";
  io::SafeTensorsWriter old_writer;
  old_writer.add("w", make<float>({2}, {1, 2}));
  old_writer.save(path);
  const std::vector<std::byte> old_bytes = etna_test::read_bytes(path);
  io::SafeTensorsWriter big;
  big.add("w", et::zeros<float>({1 << 18}));  // 1 MiB

  SECTION("a successful save replaces the file, keeps its permission bits, leaves no temp file") {
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    const io::SafeTensorsFile still_mapped(path);
    big.save(path);
    CHECK(etna_test::read_bytes(path) == big.to_bytes());
    CHECK(fs::status(path).permissions() ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK(folder_listing(dir.path) == std::vector<std::string>{"model.safetensors"});
    CHECK(values_of(still_mapped.tensor<float>("w")) == std::vector<float>{1, 2});  // old inode
  }
  SECTION("a write that fails midway (file size limit) leaves the old file and no temp file") {
    rlimit old_limit{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    rlimit small = old_limit;
    small.rlim_cur = 4096;
    const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
      big.save(path);
    } catch (const et::io_error& e) {
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::signal(SIGXFSZ, old_handler);
    CHECK(message == "cannot write '" + path + "': write failed: File too large");
    CHECK(etna_test::read_bytes(path) == old_bytes);
    CHECK(folder_listing(dir.path) == std::vector<std::string>{"model.safetensors"});
  }
  SECTION("a folder that is not writable: io_error, old file untouched") {
    if (::geteuid() == 0) {
      WARN("skipped the read-only folder check: root writes anywhere");
      return;
    }
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(big.save(path), Catch::StartsWith("cannot write '" + path +
                                                        "': cannot create a temporary file in"));
    fs::permissions(dir.path, fs::perms::owner_all);
    CHECK(etna_test::read_bytes(path) == old_bytes);
    CHECK(folder_listing(dir.path) == std::vector<std::string>{"model.safetensors"});
  }
  SECTION("an add() that throws before saving leaves the file untouched") {
    io::SafeTensorsWriter w;
    w.add("w", make<float>({2}, {5, 6}));
    CHECK_THROWS_AS(w.add("steps", make<std::int64_t>({1}, {1000}), io::DType::U8),
                    et::value_error);
    CHECK(etna_test::read_bytes(path) == old_bytes);
    w.save(path);
    CHECK(values_of(io::SafeTensorsFile(path).tensor<float>("w")) == std::vector<float>{5, 6});
    CHECK(folder_listing(dir.path) == std::vector<std::string>{"model.safetensors"});
  }
  SECTION("a missing folder or a folder as the target: io_error naming the path") {
    const std::string missing = dir / "no/such/model.safetensors";
    CHECK_THROWS_WITH(
        big.save(missing),
        Catch::StartsWith("cannot write '" + missing + "': cannot create a temporary file in '" +
                          (dir / "no/such") + "': No such file or directory"));
    CHECK_THROWS_MATCHES(
        big.save(dir.path.string()), et::io_error,
        Catch::Message("cannot write '" + dir.path.string() + "': it is a directory"));
    CHECK(folder_listing(dir.path) == std::vector<std::string>{"model.safetensors"});
  }
}
