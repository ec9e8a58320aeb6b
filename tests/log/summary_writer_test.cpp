// SummaryWriter's files read back by the independent reader in event_reader.hpp: naming, the
// file_version record, every add_* kind, add_scalars / add_hparams child runs, buffering and
// flushing, closing, threads, and errors.
#include "etna/log/summary_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "etna/etna.hpp"
#include "log/event_reader.hpp"

namespace et = etna;
namespace lg = etna::logging;
namespace fs = std::filesystem;
using etna_test::read_events;

namespace {
// A fresh, empty directory per test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("etna_log_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string str(const std::string& sub = "") const { return (path / sub).string(); }
};

// Every event file directly in `dir`.
std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

lg::SummaryWriterOptions no_autoflush() { return {.flush_secs = 0, .max_queue = 1000000}; }

et::Tensor<double> tensor_of(const std::vector<double>& values) {
  auto t = et::Tensor<double>::allocate(et::Shape({static_cast<std::int64_t>(values.size())}));
  std::copy(values.begin(), values.end(), t.data());
  return t;
}
}  // namespace

TEST_CASE("SummaryWriter names its file as PyTorch and starts with brain.Event:2",
          "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str("run"));
  CHECK(w.log_dir() == dir.str("run"));
  const auto files = event_files(dir.str("run"));
  REQUIRE(files.size() == 1);
  CHECK(files[0] == w.file_path());
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::regex name(
      R"(events\.out\.tfevents\.(\d{10})\.)" +
      std::regex_replace(std::string(host), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"));
  std::smatch m;
  const std::string filename = fs::path(w.file_path()).filename().string();
  REQUIRE(std::regex_match(filename, m, name));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(std::abs(std::stod(m[1].str()) - now) < 60);
  // The first record is on disk at once, so a new file is already a valid event file.
  const auto events = read_events(w.file_path());
  REQUIRE(events.size() == 1);
  CHECK(events[0].file_version == "brain.Event:2");
  CHECK(std::abs(events[0].wall_time - now) < 60);
}

TEST_CASE("SummaryWriter appends filename_suffix and never shares a file",
          "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter a(dir.str(), {.filename_suffix = ".v2"});
  lg::SummaryWriter b(dir.str(), {.filename_suffix = ".v2"});
  CHECK(a.file_path().ends_with(".v2"));
  CHECK(b.file_path().ends_with(".v2"));
  CHECK(a.file_path() != b.file_path());
  CHECK(event_files(dir.str()).size() == 2);
}

TEST_CASE("SummaryWriter's default log_dir is runs/<Mon><DD>_<HH>-<MM>-<SS>_<host>",
          "[log][summary_writer]") {
  const std::string dir = lg::detail::default_log_dir();
  CHECK(std::regex_match(dir, std::regex(R"(runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_.+)")));
}

TEST_CASE("add_scalar writes tag, step, value and wall time", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  w.add_scalar("loss", 0.5, 1);
  w.add_scalar("loss", 0.25, 2);
  w.add_scalar("train/acc", 0.875, 7, 1234.5);
  w.close();
  const auto ev = read_events(w.file_path());
  REQUIRE(ev.size() == 4);
  CHECK(ev[1].tag == "loss");
  CHECK(ev[1].step == 1);
  CHECK(ev[1].simple_value == 0.5f);
  CHECK(ev[2].step == 2);
  CHECK(ev[2].simple_value == 0.25f);
  CHECK(ev[3].tag == "train/acc");
  CHECK(ev[3].step == 7);
  CHECK(ev[3].wall_time == 1234.5);
}

TEST_CASE("add_histogram writes HistogramProto with TensorFlow's buckets",
          "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  const std::vector<double> values{-3.5, 0.0, 1e-5, 2.0, 2.0, 100.0, -0.25};
  w.add_histogram("weights", tensor_of(values), 3);
  auto ints = et::Tensor<std::int32_t>::allocate(et::Shape({2, 3}));
  std::iota(ints.data(), ints.data() + 6, 0);
  w.add_histogram("ints", ints, 4, "3");
  CHECK_THROWS_AS(w.add_histogram("bad", ints, 0, "auto-ish"), et::value_error);
  CHECK_THROWS_AS(w.add_histogram("empty", et::Tensor<float>(), 0), et::value_error);
  w.close();
  const auto ev = read_events(w.file_path());
  REQUIRE(ev.size() == 3);
  REQUIRE(ev[1].histo);
  const auto& h = *ev[1].histo;
  CHECK(ev[1].tag == "weights");
  CHECK(ev[1].step == 3);
  CHECK(h.min == -3.5);
  CHECK(h.max == 100.0);
  CHECK(h.num == 7);
  CHECK(h.sum == Approx(100.25));
  CHECK(h.sum_squares == Approx(3.5 * 3.5 + 1e-10 + 8 + 10000 + 0.0625));
  CHECK(std::accumulate(h.bucket.begin(), h.bucket.end(), 0.0) == h.num);
  REQUIRE(h.bucket.size() == h.bucket_limit.size());
  CHECK(std::is_sorted(h.bucket_limit.begin(), h.bucket_limit.end()));
  CHECK(h.bucket.front() == 0);  // the empty bucket marking where the support starts
  CHECK(h.bucket_limit.front() < -3.5);
  CHECK(h.bucket_limit.back() >= 100.0);
  CHECK(h.bucket_limit.size() == 646);  // as torch.utils.tensorboard writes these values
  // Equal-width bins: numpy.histogram(range(6), bins=3) -> [2, 2, 2], plus the leading empty one.
  REQUIRE(ev[2].histo);
  CHECK(ev[2].histo->bucket == std::vector<double>{0, 2, 2, 2});
  CHECK(ev[2].histo->bucket_limit == std::vector<double>{0, 5.0 / 3, 10.0 / 3, 5});
}

TEST_CASE("add_image writes a PNG of the right size for CHW, HWC and HW", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  auto chw = et::Tensor<float>::allocate(et::Shape({3, 4, 5}));
  std::fill(chw.data(), chw.data() + chw.numel(), 0.5f);
  w.add_image("chw", chw, 1);
  auto hwc = et::Tensor<double>::allocate(et::Shape({6, 2, 4}));
  std::fill(hwc.data(), hwc.data() + hwc.numel(), 1.0);
  w.add_image("hwc", hwc, 2, "HWC");
  auto hw = et::Tensor<std::int32_t>::allocate(et::Shape({7, 3}));
  std::fill(hw.data(), hw.data() + hw.numel(), 300);
  w.add_image("hw", hw, 3, "HW");
  CHECK_THROWS_AS(w.add_image("two", et::Tensor<float>::allocate(et::Shape({2, 4, 4}))),
                  et::shape_error);
  CHECK_THROWS_AS(w.add_image("rank", chw, 0, "HW"), et::shape_error);
  CHECK_THROWS_AS(w.add_image("fmt", chw, 0, "NCHW"), et::value_error);
  w.close();
  const auto ev = read_events(w.file_path());
  REQUIRE(ev.size() == 4);
  struct Expect {
    std::int64_t h, w, c;
  };
  const Expect expect[] = {{4, 5, 3}, {6, 2, 4}, {7, 3, 1}};
  for (int i = 0; i < 3; ++i) {
    REQUIRE(ev[i + 1].image);
    const auto& img = *ev[i + 1].image;
    CHECK(img.height == expect[i].h);
    CHECK(img.width == expect[i].w);
    CHECK(img.colorspace == expect[i].c);
    REQUIRE(img.png.size() > 33);
    CHECK(img.png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK(img.png.substr(12, 4) == "IHDR");
    CHECK(etna_test::read_le<std::uint32_t>(img.png, 16) ==
          __builtin_bswap32(static_cast<std::uint32_t>(expect[i].w)));
    CHECK(etna_test::read_le<std::uint32_t>(img.png, 20) ==
          __builtin_bswap32(static_cast<std::uint32_t>(expect[i].h)));
    CHECK(img.png.substr(img.png.size() - 8, 4) == "IEND");
  }
}

TEST_CASE("add_text writes PyTorch's text summary", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  w.add_text("notes", "hello **world**", 5);
  w.close();
  const auto ev = read_events(w.file_path());
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].tag == "notes/text_summary");
  CHECK(ev[1].step == 5);
  CHECK(ev[1].plugin_name == "text");
  CHECK(ev[1].text == "hello **world**");
}

TEST_CASE("add_scalars writes one child run per key under main_tag", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  w.add_scalars("loss/all", {{"train", 1.5}, {"val", 2.5}}, 1);
  w.add_scalars("loss/all", {{"train", 1.0}, {"val", 2.0}}, 2);
  w.close();
  for (const auto& [key, first, second] : {std::tuple{"train", 1.5f, 1.0f}, {"val", 2.5f, 2.0f}}) {
    const auto files = event_files(dir.str(std::string("loss_all_") + key));
    REQUIRE(files.size() == 1);
    const auto ev = read_events(files[0]);
    REQUIRE(ev.size() == 3);
    CHECK(ev[1].tag == "loss/all");
    CHECK(ev[1].step == 1);
    CHECK(ev[1].simple_value == first);
    CHECK(ev[2].step == 2);
    CHECK(ev[2].simple_value == second);
  }
  CHECK(read_events(w.file_path()).size() == 1);  // the parent's file holds none of them
}

TEST_CASE("add_hparams writes the hparams plugin's summaries into a child run",
          "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str());
  w.add_hparams({{"lr", 0.01}, {"optimizer", std::string("adam")}, {"augment", true}},
                {{"hparam/accuracy", 0.9}}, "trial1");
  w.add_hparams({{"lr", 0.1}}, {{"hparam/accuracy", 0.8}});
  w.close();
  const auto files = event_files(dir.str("trial1"));
  REQUIRE(files.size() == 1);
  const auto ev = read_events(files[0]);
  REQUIRE(ev.size() == 5);
  CHECK(ev[1].tag == "_hparams_/experiment");
  CHECK(ev[2].tag == "_hparams_/session_start_info");
  CHECK(ev[3].tag == "_hparams_/session_end_info");
  for (int i = 1; i <= 3; ++i) CHECK(ev[i].plugin_name == "hparams");
  CHECK(ev[2].plugin_content.find("adam") != std::string::npos);
  CHECK(ev[4].tag == "hparam/accuracy");
  CHECK(ev[4].simple_value == 0.9f);
  // The default run name is the unix time, as Python's str(time.time()).
  int runs = 0;
  for (const auto& e : fs::directory_iterator(dir.path))
    if (e.is_directory() &&
        std::regex_match(e.path().filename().string(), std::regex(R"(\d{10}(\.\d+)?)")))
      ++runs;
  CHECK(runs == 1);
}

TEST_CASE("SummaryWriter buffers until max_queue, flush() or close()", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str(), {.flush_secs = 0, .max_queue = 3});
  w.add_scalar("a", 1, 1);
  w.add_scalar("a", 2, 2);
  CHECK(read_events(w.file_path()).size() == 1);
  w.add_scalar("a", 3, 3);  // the third pending record writes the queue
  CHECK(read_events(w.file_path()).size() == 4);
  w.add_scalar("a", 4, 4);
  CHECK(read_events(w.file_path()).size() == 4);
  w.flush();
  CHECK(read_events(w.file_path()).size() == 5);
  w.add_scalar("a", 5, 5);
  w.close();
  CHECK(read_events(w.file_path()).size() == 6);
  CHECK_NOTHROW(w.close());  // idempotent
  CHECK_NOTHROW(w.flush());
  try {
    w.add_scalar("a", 6, 6);
    FAIL("add_scalar on a closed writer did not throw");
  } catch (const et::value_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("SummaryWriter") && Catch::Contains("closed"));
  }
  CHECK_THROWS_AS(w.add_text("t", "x"), et::value_error);
}

TEST_CASE("SummaryWriter flushes every flush_secs and on destruction", "[log][summary_writer]") {
  TempDir dir;
  std::string path;
  {
    lg::SummaryWriter w(dir.str(), {.flush_secs = 0.05, .max_queue = 1000});
    path = w.file_path();
    w.add_scalar("a", 1, 1);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {  // up to 5 s on a loaded machine
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      seen = read_events(path).size() == 2;
    }
    CHECK(seen);
    w.add_scalar("a", 2, 2);
  }
  CHECK(read_events(path).size() == 3);
  {
    lg::SummaryWriter w(dir.str("d"), no_autoflush());
    path = w.file_path();
    w.add_text("t", "x");
    CHECK(read_events(path).size() == 1);
  }
  CHECK(read_events(path).size() == 2);
}

TEST_CASE("SummaryWriter is safe to use from several threads", "[log][summary_writer]") {
  TempDir dir;
  lg::SummaryWriter w(dir.str(), {.flush_secs = 0.01, .max_queue = 7});
  constexpr int threads = 4, per_thread = 150;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&w, t] {
      const std::string tag = "thread" + std::to_string(t);
      for (int i = 0; i < per_thread; ++i) {
        w.add_scalar(tag, i, i);
        if (i % 50 == 0) w.add_scalars("shared", {{"k", double(i)}}, i);
        if (i % 37 == 0) w.flush();
      }
    });
  for (auto& th : pool) th.join();
  w.close();
  const auto ev = read_events(w.file_path());  // throws on any torn record or bad CRC
  REQUIRE(ev.size() == 1 + threads * per_thread);
  for (int t = 0; t < threads; ++t) {
    std::vector<std::int64_t> steps;
    for (const auto& e : ev)
      if (e.tag == "thread" + std::to_string(t)) {
        CHECK(e.simple_value == static_cast<float>(e.step));
        steps.push_back(e.step);
      }
    std::sort(steps.begin(), steps.end());
    std::vector<std::int64_t> expected(per_thread);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(steps == expected);
  }
  CHECK(read_events(event_files(dir.str("shared_k")).at(0)).size() == 1 + threads * 3);
}

TEST_CASE("SummaryWriter reports a directory it cannot create, naming it",
          "[log][summary_writer]") {
  TempDir dir;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "file") << "not a directory";
  const std::string bad = dir.str("file/run");  // fails even as root
  try {
    lg::SummaryWriter w(bad);
    FAIL("no io_error");
  } catch (const et::io_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(bad) && Catch::Contains("cannot create directory"));
  }
}
