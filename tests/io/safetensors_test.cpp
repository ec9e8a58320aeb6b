// The safetensors format (etna/io/safetensors_*.hpp): round trips of every dtype, conversions,
// files written by the Python `safetensors` package (fixtures from
// tests/reference/make_safetensors_fixtures.py) and files read back by it. Malformed files are
// in safetensors_fuzz_test.cpp, F16/BF16 in half_test.cpp, atomic saves in atomic_file_test.cpp.
#include <sys/wait.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "etna/io/dtype.hpp"
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

std::uint16_t u16_at(std::span<const std::byte> b, std::size_t i) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(b[2 * i]) |
                                    (static_cast<unsigned>(b[2 * i + 1]) << 8));
}

constexpr double inf = std::numeric_limits<double>::infinity();

// One writer holding every dtype, with the values each must read back as.
io::SafeTensorsWriter all_dtypes_writer() {
  io::SafeTensorsWriter w;
  w.add("f32", make<float>({2, 3}, {0.f, -1.5f, 3.25f, 1e-30f, -1e30f, 7.f}));
  w.add("f16", make<float>({4}, {1.0, -2.5, 65504.0, std::ldexp(1.0, -24)}), io::DType::F16);
  w.add("bf16", make<double>({3}, {1.0, -2.5, 3.0e38}), io::DType::BF16);
  w.add("f64", make<double>({2}, {0.1, -1e300}));
  w.add("i64",
        make<std::int64_t>({3}, {std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max(), std::int64_t{-7}}));
  w.add("i32", make<std::int32_t>({1, 2}, {std::numeric_limits<std::int32_t>::min(), 5}));
  w.add("u8", make<std::int64_t>({3}, {0, 128, 255}), io::DType::U8);
  w.add("mask", make<bool, int>({2, 2}, {1, 0, 0, 1}));
  w.add("scalar", make<float>(et::Shape{}, {7.5f}));
  w.add("empty", et::empty<float>({0, 3}));
  w.add("empty_i64", et::empty<std::int64_t>({0}));
  w.set_metadata("format", "pt");
  w.set_metadata("note", "héllo \"quoted\"");
  return w;
}

const std::vector<std::string> all_dtypes_order = {
    "f32", "f16", "bf16", "f64", "i64", "i32", "u8", "mask", "scalar", "empty", "empty_i64"};

void check_all_dtypes(const io::SafeTensorsFile& f) {
  CHECK(f.keys() == all_dtypes_order);
  CHECK(f.metadata() ==
        std::map<std::string, std::string>{{"format", "pt"}, {"note", "héllo \"quoted\""}});
  CHECK(f.entry("f32").dtype == io::DType::F32);
  CHECK(f.entry("f32").shape == et::Shape{2, 3});
  CHECK(values_of(f.tensor<float>("f32")) ==
        std::vector<float>{0.f, -1.5f, 3.25f, 1e-30f, -1e30f, 7.f});
  CHECK(f.entry("f16").dtype == io::DType::F16);
  CHECK(values_of(f.tensor<double>("f16")) ==
        std::vector<double>{1.0, -2.5, 65504.0, std::ldexp(1.0, -24)});
  CHECK(u16_at(f.entry("f16").bytes, 0) == 0x3C00);
  CHECK(u16_at(f.entry("f16").bytes, 1) == 0xC100);
  CHECK(u16_at(f.entry("f16").bytes, 2) == 0x7BFF);
  CHECK(u16_at(f.entry("f16").bytes, 3) == 0x0001);
  CHECK(f.entry("bf16").dtype == io::DType::BF16);
  CHECK(u16_at(f.entry("bf16").bytes, 0) == 0x3F80);
  CHECK(u16_at(f.entry("bf16").bytes, 1) == 0xC020);
  CHECK(values_of(f.tensor<float>("bf16"))[2] == std::bit_cast<float>(std::uint32_t{0x7F62} << 16));
  CHECK(values_of(f.tensor<double>("f64")) == std::vector<double>{0.1, -1e300});
  CHECK(values_of(f.tensor<float>("f64")) ==
        std::vector<float>{0.1f, -std::numeric_limits<float>::infinity()});
  CHECK(values_of(f.tensor<std::int64_t>("i64")) ==
        std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                  std::numeric_limits<std::int64_t>::max(), -7});
  CHECK(values_of(f.tensor<std::int32_t>("i32")) ==
        std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), 5});
  CHECK(values_of(f.tensor<std::int64_t>("i32")) ==
        std::vector<std::int64_t>{std::numeric_limits<std::int32_t>::min(), 5});
  CHECK(f.entry("u8").dtype == io::DType::U8);
  CHECK(values_of(f.tensor<std::int32_t>("u8")) == std::vector<std::int32_t>{0, 128, 255});
  CHECK(values_of(f.tensor<bool>("mask")) == std::vector<bool>{true, false, false, true});
  CHECK(f.entry("mask").shape == et::Shape{2, 2});
  const auto scalar = f.tensor<float>("scalar");
  CHECK(scalar.dim() == 0);
  CHECK(scalar.item() == 7.5f);
  CHECK(f.entry("empty").shape == et::Shape{0, 3});
  CHECK(f.entry("empty").bytes.empty());
  CHECK(f.tensor<float>("empty").shape() == et::Shape{0, 3});
  CHECK(f.tensor<std::int64_t>("empty_i64").numel() == 0);
}

}  // namespace

TEST_CASE("SafeTensorsWriter -> SafeTensorsFile: every dtype round trips", "[io][safetensors]") {
  const io::SafeTensorsWriter w = all_dtypes_writer();
  const std::vector<std::byte> bytes = w.to_bytes();

  SECTION("header: 8-byte length, JSON padded with spaces to 8 bytes, data in insertion order") {
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
    CHECK(n % 8 == 0);
    const std::string text(reinterpret_cast<const char*>(bytes.data() + 8), n);
    const auto header = nlohmann::json::parse(text);
    CHECK(text.find_last_not_of(' ') == text.rfind('}'));
    CHECK(header["f16"]["dtype"] == "F16");
    CHECK(header["scalar"]["shape"] == nlohmann::json::array());
    CHECK(header["__metadata__"]["format"] == "pt");
    std::uint64_t at = 0;
    for (const std::string& name : all_dtypes_order) {
      CHECK(header[name]["data_offsets"][0] == at);
      at = header[name]["data_offsets"][1];
    }
    CHECK(bytes.size() == 8 + n + at);
  }
  SECTION("from memory") { check_all_dtypes(io::SafeTensorsFile::from_bytes(bytes)); }
  SECTION("from a file, mapped or read") {
    TempDir dir("st_roundtrip");
    w.save(dir / "all.safetensors");
    CHECK(etna_test::read_bytes(dir / "all.safetensors") == bytes);
    const io::SafeTensorsFile mapped(dir / "all.safetensors");
    CHECK(mapped.is_mapped());
    CHECK(mapped.path() == dir / "all.safetensors");
    check_all_dtypes(mapped);
    const io::SafeTensorsFile read(dir / "all.safetensors", {.mmap = false});
    CHECK_FALSE(read.is_mapped());
    check_all_dtypes(read);
  }
  SECTION("an empty writer makes a valid file with no tensors") {
    const auto f = io::SafeTensorsFile::from_bytes(io::SafeTensorsWriter().to_bytes());
    CHECK(f.keys().empty());
    CHECK(f.metadata().empty());
  }
}

TEST_CASE("SafeTensorsWriter: views are written in logical order, values copied at add()",
          "[io][safetensors]") {
  auto a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  io::SafeTensorsWriter w;
  w.add("t", a.t());
  a.data()[0] = 100;  // after add: not in the file
  const auto f = io::SafeTensorsFile::from_bytes(w.to_bytes());
  CHECK(f.entry("t").shape == et::Shape{3, 2});
  CHECK(values_of(f.tensor<float>("t")) == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("SafeTensorsWriter: invalid names and conversions are value_errors",
          "[io][safetensors]") {
  io::SafeTensorsWriter w;
  w.add("x", make<float>({1}, {1}));
  CHECK_THROWS_MATCHES(w.add("x", make<float>({1}, {2})), et::value_error,
                       Catch::Message("SafeTensorsWriter::add: duplicate tensor name 'x'"));
  CHECK_THROWS_AS(w.add("", make<float>({1}, {2})), et::value_error);
  CHECK_THROWS_AS(w.add("__metadata__", make<float>({1}, {2})), et::value_error);
  CHECK_THROWS_AS(w.add(std::string("bad\xff"), make<float>({1}, {2})), et::value_error);
  CHECK_THROWS_MATCHES(
      w.add("f", make<float>({1}, {2}), io::DType::I32), et::value_error,
      Catch::Message("SafeTensorsWriter::add: tensor 'f' of float32 cannot be stored as I32"));
  CHECK_THROWS_AS(w.add("b", make<bool, int>({1}, {1}), io::DType::U8), et::value_error);
  CHECK_THROWS_AS(w.add("i", make<std::int64_t>({1}, {1}), io::DType::F32), et::value_error);
  CHECK_THROWS_MATCHES(
      w.add("u", make<std::int64_t>({3}, {0, 256, 1}), io::DType::U8), et::value_error,
      Catch::Message("SafeTensorsWriter::add: tensor 'u': element 1 = 256 does not fit U8"));
  CHECK_THROWS_AS(w.add("u", make<std::int32_t>({1}, {-1}), io::DType::U8), et::value_error);
  CHECK_THROWS_AS(w.add("big", make<std::int64_t>({1}, {std::int64_t{1} << 40}), io::DType::I32),
                  et::value_error);
  CHECK_THROWS_AS(w.set_metadata("k", std::string("\xc3")), et::value_error);
  CHECK(w.size() == 1);  // failed adds leave nothing behind
  w.add("u", make<std::int32_t>({1}, {255}), io::DType::U8);
  w.add("i64_as_i32", make<std::int64_t>({1}, {-5}), io::DType::I32);
  w.add("i32_as_i64", make<std::int32_t>({1}, {-3}), io::DType::I64);
  w.add("d_as_f32", make<double>({2}, {0.1, 1e300}), io::DType::F32);
  w.add("f_as_f64", make<float>({1}, {0.1f}), io::DType::F64);
  const auto f = io::SafeTensorsFile::from_bytes(w.to_bytes());
  CHECK(f.keys() ==
        std::vector<std::string>{"x", "u", "i64_as_i32", "i32_as_i64", "d_as_f32", "f_as_f64"});
  CHECK(f.entry("i64_as_i32").dtype == io::DType::I32);
  CHECK(values_of(f.tensor<std::int64_t>("i64_as_i32")) == std::vector<std::int64_t>{-5});
  CHECK(f.entry("i32_as_i64").dtype == io::DType::I64);
  CHECK(values_of(f.tensor<std::int32_t>("i32_as_i64")) == std::vector<std::int32_t>{-3});
  CHECK(values_of(f.tensor<float>("d_as_f32")) ==
        std::vector<float>{0.1f, std::numeric_limits<float>::infinity()});
  CHECK(values_of(f.tensor<double>("f_as_f64")) == std::vector<double>{double{0.1f}});
}

TEST_CASE("SafeTensorsFile::tensor: conversions it refuses name both dtypes", "[io][safetensors]") {
  io::SafeTensorsWriter w;
  w.add("f", make<float>({1}, {1}));
  w.add("u", make<std::int64_t>({1}, {3}), io::DType::U8);
  w.add("big", make<std::int64_t>({2}, {std::int64_t{1}, std::int64_t{1} << 40}));
  w.add("m", make<bool, int>({1}, {1}));
  const auto f = io::SafeTensorsFile::from_bytes(w.to_bytes(), "conv.safetensors");
  CHECK_THROWS_MATCHES(
      f.tensor<bool>("u"), et::io_error,
      Catch::Message("safetensors file 'conv.safetensors': tensor 'u' has dtype U8, "
                     "which does not convert to bool"));
  CHECK_THROWS_MATCHES(
      f.tensor<std::int64_t>("f"), et::io_error,
      Catch::Message("safetensors file 'conv.safetensors': tensor 'f' has dtype F32, "
                     "which does not convert to int64"));
  CHECK_THROWS_AS(f.tensor<float>("m"), et::io_error);
  CHECK_THROWS_AS(f.tensor<std::int32_t>("m"), et::io_error);
  CHECK_THROWS_MATCHES(
      f.tensor<std::int32_t>("big"), et::io_error,
      Catch::Message("safetensors file 'conv.safetensors': tensor 'big': element 1 "
                     "(I64) does not fit int32"));
  CHECK(values_of(f.tensor<std::int64_t>("big"))[1] == std::int64_t{1} << 40);
  CHECK_THROWS_MATCHES(f.entry("nope"), et::io_error,
                       Catch::Message("safetensors file 'conv.safetensors': no tensor named 'nope' "
                                      "(the file has 4 tensors)"));
  CHECK(f.contains("m"));
  CHECK_FALSE(f.contains("nope"));
}

TEST_CASE("SafeTensorsFile: copies and moves keep the entries' bytes valid", "[io][safetensors]") {
  TempDir dir("st_move");
  all_dtypes_writer().save(dir / "m.safetensors");
  std::vector<io::SafeTensorsFile> files;
  {
    io::SafeTensorsFile f(dir / "m.safetensors");
    const std::byte* first = f.entry("f32").bytes.data();
    io::SafeTensorsFile moved = std::move(f);
    CHECK(moved.entry("f32").bytes.data() == first);
    files.push_back(moved);  // a copy
    files.push_back(std::move(moved));
  }
  for (int i = 0; i < 8; ++i) files.push_back(files.front());  // reallocations move the objects
  fs::remove(dir / "m.safetensors");                           // the mapping outlives the name
  for (const auto& f : files) check_all_dtypes(f);
}

TEST_CASE("SafeTensorsFile: a missing file or a folder is an io_error naming it",
          "[io][safetensors]") {
  TempDir dir("st_missing");
  CHECK_THROWS_MATCHES(io::SafeTensorsFile(dir / "none.safetensors"), et::io_error,
                       Catch::Message("cannot open '" + (dir / "none.safetensors") +
                                      "': No such file or directory"));
  CHECK_THROWS_WITH(io::SafeTensorsFile(dir.path.string()), Catch::Contains(dir.path.string()));
  CHECK_THROWS_AS(io::SafeTensorsFile(dir.path.string(), {.mmap = false}), et::io_error);
}

namespace {

// Values checked by the expected.json of make_safetensors_fixtures.py: a number, or a string
// for inf/-inf/nan.
bool same_value(double actual, const nlohmann::json& expected) {
  if (expected.is_string()) {
    const auto s = expected.get<std::string>();
    if (s == "nan") return std::isnan(actual);
    return actual == (s == "inf" ? inf : -inf);
  }
  const double e = expected.get<double>();
  return actual == e && std::signbit(actual) == std::signbit(e);
}

void check_against_python(const io::SafeTensorsFile& f, const nlohmann::json& expected) {
  CHECK(f.keys() == expected["order"].get<std::vector<std::string>>());
  CHECK(f.metadata() == expected["metadata"].get<std::map<std::string, std::string>>());
  for (const auto& [name, e] : expected["tensors"].items()) {
    INFO("tensor " << name);
    const io::TensorEntry& entry = f.entry(name);
    CHECK(io::dtype_name(entry.dtype) == e["dtype"].get<std::string>());
    CHECK(std::vector<std::int64_t>(entry.shape.begin(), entry.shape.end()) ==
          e["shape"].get<std::vector<std::int64_t>>());
    const auto& values = e["values"];
    REQUIRE(static_cast<std::size_t>(entry.shape.numel()) == values.size());
    if (io::is_floating(entry.dtype)) {
      const auto t = values_of(f.tensor<double>(name));
      for (std::size_t i = 0; i < t.size(); ++i) {
        INFO(name << "[" << i << "] = " << t[i] << ", expected " << values[i].dump());
        CHECK(same_value(t[i], values[i]));
      }
    } else if (entry.dtype == io::DType::BOOL) {
      const auto t = values_of(f.tensor<bool>(name));
      for (std::size_t i = 0; i < t.size(); ++i) CHECK(t[i] == (values[i].get<int>() != 0));
    } else {
      CHECK(values_of(f.tensor<std::int64_t>(name)) == values.get<std::vector<std::int64_t>>());
    }
  }
}

}  // namespace

TEST_CASE("Files written by the Python safetensors package load with their values",
          "[io][safetensors][python]") {
  const std::string dir = std::string(ETNA_TEST_DATA_DIR) + "/safetensors/";
  std::ifstream in(dir + "expected.json");
  REQUIRE(in);
  const auto expected = nlohmann::json::parse(in);
  for (const char* name : {"torch_all_dtypes", "numpy_no_metadata"}) {
    INFO("fixture " << name << " (safetensors " << expected["safetensors_version"] << ")");
    check_against_python(io::SafeTensorsFile(dir + name + ".safetensors"), expected[name]);
    check_against_python(io::SafeTensorsFile(dir + name + ".safetensors", {.mmap = false}),
                         expected[name]);
  }
}

namespace {
// Loads the file with safetensors.torch and compares with what all_dtypes_writer() wrote.
// Exit status 3: safetensors or torch cannot be imported (the test skips).
constexpr const char* python_check = R"PY(
import sys
try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
except ImportError as e:
    print("cannot import:", e)
    sys.exit(3)
path = sys.argv[1]
t = load_file(path)
with safe_open(path, framework="pt") as f:
    meta = f.metadata()
i64 = [-(2 ** 63), 2 ** 63 - 1, -7]
expect = {
    "f32": (torch.float32, [2, 3], [0.0, -1.5, 3.25, 1e-30, -1e30, 7.0]),
    "f16": (torch.float16, [4], [1.0, -2.5, 65504.0, 2.0 ** -24]),
    "bf16": (torch.bfloat16, [3], [1.0, -2.5, 3.0e38]),
    "f64": (torch.float64, [2], [0.1, -1e300]),
    "i64": (torch.int64, [3], i64),
    "i32": (torch.int32, [1, 2], [-(2 ** 31), 5]),
    "u8": (torch.uint8, [3], [0, 128, 255]),
    "mask": (torch.bool, [2, 2], [True, False, False, True]),
    "scalar": (torch.float32, [], [7.5]),
    "empty": (torch.float32, [0, 3], []),
    "empty_i64": (torch.int64, [0], []),
}
errors = []
if sorted(t) != sorted(expect):
    errors.append(f"names {sorted(t)} != {sorted(expect)}")
for name, (dtype, shape, values) in expect.items():
    x = t.get(name)
    if x is None:
        continue
    if x.dtype != dtype or list(x.shape) != shape:
        errors.append(f"{name}: {x.dtype} {list(x.shape)} != {dtype} {shape}")
    elif not torch.equal(x.reshape(-1), torch.tensor(values, dtype=dtype)):
        errors.append(f"{name}: {x.reshape(-1).tolist()} != {values}")
if meta != {"format": "pt", "note": "h\u00e9llo \"quoted\""}:
    errors.append(f"metadata {meta}")
print("\n".join(errors))
sys.exit(1 if errors else 0)
)PY";
}  // namespace

TEST_CASE("The Python safetensors package reads etna's files", "[io][safetensors][python]") {
  const fs::path python = ETNA_TEST_PYTHON;
  if (!fs::exists(python)) {
    WARN("skipped: " << python.string()
                     << " not found (run scripts/setup-python.sh to check files with safetensors)");
    return;
  }
  TempDir dir("st_python");
  all_dtypes_writer().save(dir / "etna.safetensors");
  std::ofstream(dir / "check.py") << python_check;
  std::string cmd;
  for (const std::string& arg : {python.string(), dir / "check.py", dir / "etna.safetensors"})
    cmd.append("'").append(arg).append("' ");
  cmd.append("2>&1");
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
    WARN("skipped: the venv lacks safetensors or torch (run scripts/setup-python.sh): " << out);
    return;
  }
  INFO("python output:\n" << out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
