// Malformed safetensors files: every way the header or the layout can be wrong, truncation at
// every byte, and a deterministic mutation fuzzer. Each must be an io_error naming the file
// (and the tensor), never a crash or another exception. Also built as test_io_asan, under
// AddressSanitizer and UBSan, so it includes only io headers.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "io/safetensors_test_util.hpp"

namespace et = etna;
namespace io = etna::io;
using etna_test::safetensors_bytes;
using namespace std::string_literals;

namespace {

const std::string file = "bad.safetensors";

// The message of the io_error that opening `bytes` raises ("" when it opens).
std::string open_error(const std::vector<std::byte>& bytes) {
  try {
    (void)io::SafeTensorsFile::from_bytes(bytes, file);
  } catch (const et::io_error& e) {
    return e.what();
  }
  return "";
}
std::string open_error(const std::string& header, const std::string& data = "") {
  return open_error(safetensors_bytes(header, data));
}

// A tensor entry of the header. (Strings are built by appending: GCC 12 misreports
// `"literal" + std::string` under -Werror=restrict.)
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  std::string out = "\"";
  out.append(name).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":").append(shape);
  return out.append(",\"data_offsets\":").append(offsets).append("}");
}

// A JSON object of the given members.
std::string obj(std::initializer_list<std::string> members) {
  std::string out = "{";
  for (const std::string& m : members) out.append(out.size() > 1 ? "," : "").append(m);
  return out.append("}");
}

// Reads every entry of a file that opened, with the scalar type its dtype converts to, and
// touches every byte (so the sanitizers see any span past the buffer).
void read_everything(const io::SafeTensorsFile& f) {
  unsigned sum = 0;
  for (const io::TensorEntry& e : f.entries()) {
    for (std::byte b : e.bytes) sum += static_cast<unsigned>(b);
    try {
      if (io::is_floating(e.dtype))
        (void)f.tensor<float>(e.name);
      else if (io::is_integral(e.dtype))
        (void)f.tensor<std::int64_t>(e.name);
      else
        (void)f.tensor<bool>(e.name);
    } catch (const et::io_error&) {
      // a BOOL byte other than 0/1 is refused at conversion
    }
  }
  (void)sum;
}

io::SafeTensorsWriter small_writer() {
  io::SafeTensorsWriter w;
  auto f = et::empty<float>({2, 2});
  for (int i = 0; i < 4; ++i) f.data()[i] = static_cast<float>(i) - 1.5f;
  auto n = et::empty<std::int64_t>({3});
  for (int i = 0; i < 3; ++i) n.data()[i] = 100 * i - 7;
  auto m = et::empty<bool>({3});
  m.data()[0] = true;
  m.data()[1] = false;
  m.data()[2] = true;
  w.add("w", f);
  w.add("h", f, io::DType::F16);
  w.add("b", f, io::DType::BF16);
  w.add("d", f.to<double>());
  w.add("n", n);
  w.add("i", n, io::DType::I32);
  auto u = et::empty<std::int32_t>({3});
  for (int i = 0; i < 3; ++i) u.data()[i] = 100 * i + 7;
  w.add("u", u, io::DType::U8);
  w.add("m", m);
  w.add("s", et::empty<float>(et::Shape{}));
  w.add("e", et::empty<float>({0, 2}));
  w.set_metadata("format", "pt");
  return w;
}

}  // namespace

TEST_CASE("Malformed files: header length, JSON and its shape", "[io][safetensors][validation]") {
  CHECK(open_error(std::vector<std::byte>(5)) ==
        "safetensors file 'bad.safetensors': the file has 5 bytes, too short for a safetensors "
        "header (8-byte length first)");
  auto too_long = safetensors_bytes("{}    ");
  too_long[0] = std::byte{100};
  CHECK(open_error(too_long) ==
        "safetensors file 'bad.safetensors': header length 100 exceeds the file size (14 bytes): "
        "truncated or not a safetensors file");
  auto huge = safetensors_bytes("{}");
  huge[7] = std::byte{0xFF};  // 2^63 and more: no overflow in the comparison
  CHECK_THROWS_AS(io::SafeTensorsFile::from_bytes(huge), et::io_error);
  CHECK(open_error("{not json")
            .find("safetensors file 'bad.safetensors': the header is not valid JSON: ") == 0);
  CHECK(open_error("[1, 2]") ==
        "safetensors file 'bad.safetensors': the header is JSON array, not an object");
  CHECK(open_error("\"text\"") ==
        "safetensors file 'bad.safetensors': the header is JSON string, not an object");
  CHECK(open_error("").find("not valid JSON") != std::string::npos);
  CHECK(open_error("{} trailing").find("not valid JSON") != std::string::npos);
  CHECK(open_error("{}\0\0"s).find("not valid JSON") != std::string::npos);
  CHECK(open_error("{}      ") == "");  // padding spaces are fine
  CHECK(open_error("{\"a\":\"\xff\"}").find("not valid JSON") != std::string::npos);  // bad UTF-8
  CHECK(open_error(obj({"\"x\":" + std::string(100000, '[') + std::string(100000, ']')})) ==
        "safetensors file 'bad.safetensors': the header JSON is nested deeper than a safetensors "
        "header can be");
  CHECK(open_error(obj({entry("w", "F32", "[1]", "[0,4]"), entry("w", "F32", "[1]", "[0,4]")}),
                   "abcd") ==
        "safetensors file 'bad.safetensors': the header has the key 'w' twice");
  CHECK(open_error("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}") ==
        "safetensors file 'bad.safetensors': the header has the key 'a' twice");
}

TEST_CASE("Malformed files: tensor entries", "[io][safetensors][validation]") {
  const std::string prefix = "safetensors file 'bad.safetensors': tensor 'w': ";
  auto one = [](const std::string& e, const std::string& data = "abcd") {
    return open_error(obj({e}), data);
  };
  CHECK(one(entry("w", "F32", "[1]", "[0,4]")) == "");
  CHECK(one("\"w\":[1,2]") == prefix + "entry is JSON array, not an object");
  CHECK(one("\"w\":{\"dtype\":\"F32\",\"shape\":[1]}") == prefix + "missing field 'data_offsets'");
  CHECK(one("\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}") ==
        prefix + "missing field 'shape'");
  CHECK(one("\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}") == prefix + "missing field 'dtype'");
  CHECK(one("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}") ==
        prefix + "unexpected field 'extra'");
  CHECK(one(entry("w", "I8", "[4]", "[0,4]")) ==
        prefix + "unsupported dtype 'I8' (etna reads F16, BF16, F32, F64, I64, I32, U8, BOOL)");
  CHECK(one("\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}") ==
        prefix + "dtype is not a string");
  CHECK(one(entry("w", "F32", "[-1]", "[0,4]")) ==
        prefix + "shape [-1] has an entry that is not a non-negative integer");
  CHECK(one(entry("w", "F32", "[1.0]", "[0,4]")) ==
        prefix + "shape [1.0] has an entry that is not a non-negative integer");
  CHECK(one(entry("w", "F32", "[\"1\"]", "[0,4]")).find("not a non-negative integer") !=
        std::string::npos);
  CHECK(one(entry("w", "F32", "[1e30]", "[0,4]")).find("not a non-negative integer") !=
        std::string::npos);
  CHECK(one(entry("w", "F32", "[18446744073709551615]", "[0,4]"))
            .find("not a non-negative integer") != std::string::npos);
  CHECK(one(entry("w", "F32", "[99999999999999999999999]", "[0,4]"))
            .find("not a non-negative integer") != std::string::npos);
  CHECK(one(entry("w", "F32", "[4294967296,4294967296]", "[0,4]")) ==
        prefix + "shape [4294967296,4294967296] has more elements than int64 can count");
  CHECK(one(entry("w", "F32", "[0,4294967296,4294967296]", "[0,0]"), "").find("more elements") !=
        std::string::npos);
  CHECK(
      one(entry("w", "F32", "[4611686018427387904]", "[0,4]")).find("needs more than 2^64 bytes") !=
      std::string::npos);
  CHECK(one(entry("w", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]")) ==
        prefix + "shape has 9 dimensions, etna supports at most 8");
  CHECK(one(entry("w", "F32", "{}", "[0,4]")) == prefix + "shape is not an array");
  CHECK(one(entry("w", "F32", "[2]", "[0,4]")) ==
        prefix + "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4");
  CHECK(one(entry("w", "F16", "[1]", "[0,4]")) ==
        prefix + "shape [1] of F16 needs 2 bytes but data_offsets [0, 4] hold 4");
  CHECK(one(entry("w", "F32", "[1]", "[0,8]")) ==
        prefix + "data_offsets [0, 8] run past the end of the data (4 bytes)");
  CHECK(one(entry("w", "F32", "[1]", "[4,0]")) ==
        prefix + "data_offsets [4, 0] end before they begin");
  CHECK(one(entry("w", "F32", "[1]", "[0]")) ==
        prefix + "data_offsets [0] is not [begin, end] of non-negative integers");
  CHECK(one(entry("w", "F32", "[1]", "[0,4,8]")).find("is not [begin, end]") != std::string::npos);
  CHECK(one(entry("w", "F32", "[1]", "[-4,0]")).find("is not [begin, end]") != std::string::npos);
  CHECK(one(entry("w", "F32", "[1]", "[0.0,4]")).find("is not [begin, end]") != std::string::npos);
  CHECK(one(entry("w", "F32", "[1]", "{}")).find("is not [begin, end]") != std::string::npos);
  CHECK(one(entry("w", "F32", "[1]", "[0,18446744073709551615]")).find("run past the end") !=
        std::string::npos);
}

TEST_CASE("Malformed files: layout of the data region and metadata",
          "[io][safetensors][validation]") {
  const std::string a = entry("a", "F32", "[2]", "[0,8]");
  CHECK(open_error(obj({a, entry("b", "F32", "[2]", "[4,12]")}), std::string(12, 'x')) ==
        "safetensors file 'bad.safetensors': tensors 'a' [0, 8) and 'b' [4, 12) overlap");
  CHECK(open_error(obj({a, entry("b", "F32", "[2]", "[0,8]")}), std::string(8, 'x')) ==
        "safetensors file 'bad.safetensors': tensors 'a' [0, 8) and 'b' [0, 8) overlap");
  CHECK(open_error(obj({a, entry("b", "F32", "[1]", "[12,16]")}), std::string(16, 'x')) ==
        "safetensors file 'bad.safetensors': tensor 'b': data_offsets [12, 16] leave a hole of 4 "
        "bytes "
        "before it (at byte 8)");
  CHECK(
      open_error(obj({entry("a", "F32", "[1]", "[4,8]")}), std::string(8, 'x')) ==
      "safetensors file 'bad.safetensors': tensor 'a': data_offsets [4, 8] leave a hole of 4 bytes "
      "before it (at byte 0)");
  CHECK(
      open_error(obj({a}), std::string(11, 'x')) ==
      "safetensors file 'bad.safetensors': 3 bytes of data after the last tensor (the data region "
      "has 11 bytes, the tensors use 8)");
  CHECK(open_error("{}", "x").find("1 bytes of data after the last tensor") != std::string::npos);
  // Offsets out of file order are fine (the reference writer sorts by dtype alignment); so are
  // empty tensors sharing an offset.
  CHECK(open_error(obj({entry("b", "F32", "[1]", "[8,12]"), a, entry("e", "F32", "[0]", "[8,8]"),
                        entry("z", "F64", "[0,5]", "[8,8]")}),
                   std::string(12, 'x')) == "");
  const auto f = io::SafeTensorsFile::from_bytes(
      safetensors_bytes(obj({entry("b", "F32", "[1]", "[8,12]"), a}), std::string(12, 'x')));
  CHECK(f.keys() == std::vector<std::string>{"a", "b"});

  CHECK(
      open_error("{\"__metadata__\":{\"k\":1}}") ==
      "safetensors file 'bad.safetensors': __metadata__ value of 'k' is JSON number, not a string");
  CHECK(open_error("{\"__metadata__\":{\"k\":null}}").find("value of 'k' is JSON null") !=
        std::string::npos);
  CHECK(open_error("{\"__metadata__\":[\"k\"]}") ==
        "safetensors file 'bad.safetensors': __metadata__ is JSON array, not an object of strings");
  CHECK(open_error("{\"__metadata__\":{}}") == "");
}

TEST_CASE("Truncating a valid file at any byte is an io_error", "[io][safetensors][validation]") {
  const std::vector<std::byte> bytes = small_writer().to_bytes();
  REQUIRE(open_error(bytes) == "");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string message =
        open_error(std::vector<std::byte>(bytes.begin(), bytes.begin() + n));
    if (message.rfind("safetensors file 'bad.safetensors': ", 0) != 0)
      FAIL("truncated to " << n << " bytes: '" << message << "'");
  }
}

TEST_CASE("Fuzzing: mutated files load or raise io_error, nothing else",
          "[io][safetensors][fuzz]") {
  const io::SafeTensorsWriter writer = small_writer();
  const std::vector<std::byte> valid = writer.to_bytes();
  std::uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= static_cast<std::uint64_t>(valid[i]) << (8 * i);
  const std::string interesting = "{}[]\",:0123456789-.eE +\\u";
  const etna_test::TempDir dir("st_fuzz");
  std::mt19937_64 rng(20261127);
  auto below = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  int loaded = 0, rejected = 0;
  for (int c = 0; c < 4000; ++c) {
    std::vector<std::byte> bytes = valid;
    const std::size_t mutations = 1 + below(3);
    for (std::size_t m = 0; m < mutations; ++m) {
      // The header as far as an earlier cut left it (the loop stops below 9 bytes).
      const std::size_t header_end = std::min<std::size_t>(8 + header_size, bytes.size());
      switch (below(6)) {
        case 0:  // a structural character in the header
          bytes[8 + below(header_end - 8)] =
              static_cast<std::byte>(interesting[below(interesting.size())]);
          break;
        case 1: {  // a digit for a digit: offsets and shapes change, the JSON stays valid
          std::vector<std::size_t> digits;
          for (std::size_t i = 8; i < header_end; ++i)
            if (std::isdigit(static_cast<int>(bytes[i]))) digits.push_back(i);
          if (!digits.empty())
            bytes[digits[below(digits.size())]] = static_cast<std::byte>('0' + below(10));
          break;
        }
        case 2:  // one bit anywhere
          bytes[below(bytes.size())] ^= static_cast<std::byte>(1u << below(8));
          break;
        case 3:  // the length prefix
          bytes[below(8)] = static_cast<std::byte>(rng());
          break;
        case 4:  // a random byte anywhere
          bytes[below(bytes.size())] = static_cast<std::byte>(rng());
          break;
        default:  // cut or extend
          if (rng() % 2)
            bytes.resize(below(bytes.size()));
          else
            bytes.resize(bytes.size() + 1 + below(16), static_cast<std::byte>(rng()));
      }
      if (bytes.size() < 9) break;
    }
    // Every 50th case goes through a real file, memory-mapped.
    const bool on_disk = c % 50 == 0;
    const std::string name = on_disk ? dir / "fuzz.safetensors" : file;
    if (on_disk) etna_test::write_bytes(name, bytes);
    try {
      const auto f =
          on_disk ? io::SafeTensorsFile(name) : io::SafeTensorsFile::from_bytes(bytes, file);
      read_everything(f);
      ++loaded;
    } catch (const et::io_error& e) {
      if (std::string(e.what()).find(name) == std::string::npos)
        FAIL("case " << c << ": the message does not name the file: " << e.what());
      ++rejected;
    } catch (const std::exception& e) {
      FAIL("case " << c << ": " << typeid(e).name() << ": " << e.what());
    }
  }
  INFO(loaded << " loaded, " << rejected << " rejected");
  CHECK(loaded > 100);
  CHECK(rejected > 1000);
}
