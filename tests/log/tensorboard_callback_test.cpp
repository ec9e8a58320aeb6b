// The TensorBoard callback in a real fit run, read back with the independent event reader
// (tests/log/event_reader.hpp): the train / validation run layout, epoch scalars equal to the
// CSV rows and History (one metrics source), the learning rate, weight histograms under the
// PyTorch parameter names, batch-level scalars and the options' errors; and by TensorBoard's
// own reader (read_events.py in the tests' .venv; skipped with a warning without it).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "etna/data/data_loader.hpp"
#include "etna/data/tensor_dataset.hpp"
#include "etna/etna.hpp"
#include "etna/train.hpp"
#include "log/event_reader.hpp"

namespace et = etna;
namespace fs = std::filesystem;

namespace {

using Net = et::nn::Sequential<et::nn::Linear<2, 4>, et::nn::Tanh, et::nn::Linear<4, 2>>;

// 64 points, label = (x0 + x1 > 0).
et::data::TensorDataset<float, std::int64_t> dataset() {
  auto x = et::randn<float>({64, 2});
  auto y = et::empty<std::int64_t>({64});
  for (std::int64_t i = 0; i < 64; ++i) y.at({i}) = x.at({i, 0}) + x.at({i, 1}) > 0;
  return {x, y};
}

// A fresh temporary directory, unique to this process (test binaries may run concurrently).
fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// The one event file of a run directory.
std::vector<etna_test::Event> run_events(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  return etna_test::read_events(files[0].string());
}

// tag -> step -> value of the scalar events.
using Scalars = std::map<std::string, std::map<std::int64_t, float>>;
Scalars scalars(const std::vector<etna_test::Event>& ev) {
  Scalars out;
  for (const auto& e : ev)
    if (e.simple_value) CHECK(out[e.tag].emplace(e.step, *e.simple_value).second);
  return out;
}

// The CSVLogger file as column -> values per row.
std::map<std::string, std::vector<double>> read_csv(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  REQUIRE(std::getline(in, line));
  std::vector<std::string> columns;
  std::stringstream header(line);
  for (std::string c; std::getline(header, c, ',');) columns.push_back(c);
  std::map<std::string, std::vector<double>> out;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string field;
    for (const auto& c : columns) {
      REQUIRE(std::getline(row, field, ','));
      out[c].push_back(std::stod(field));
    }
  }
  return out;
}

// read_events.py's JSON for every run under dir, read by TensorBoard's EventAccumulator;
// nullopt (after a WARN) when the tests' venv is missing. (As in tensorboard_reader_test.cpp.)
std::optional<nlohmann::json> read_with_tensorboard(const fs::path& dir) {
  const fs::path python = ETNA_TEST_PYTHON;
  if (!fs::exists(python)) {
    WARN("skipped the TensorBoard reader check: " << python.string()
                                                  << " not found (run scripts/setup-python.sh)");
    return std::nullopt;
  }
  const fs::path script = fs::path(__FILE__).parent_path() / "read_events.py";
  std::string cmd;
  for (const fs::path& arg : {python, script, dir}) cmd.append("'").append(arg.string()).append("' ");
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  REQUIRE(::pclose(pipe) == 0);
  return nlohmann::json::parse(out);
}

}  // namespace

TEST_CASE("log TensorBoard callback: fit writes Keras's train / validation runs",
          "[log][tensorboard]") {
  const fs::path dir = temp_dir("etna_tensorboard_callback_test");
  et::manual_seed(3);
  const auto data = dataset();
  et::data::DataLoader train(data, {.batch_size = 16, .shuffle = true, .seed = 1});  // 4 batches
  et::data::DataLoader val(data, {.batch_size = 32});
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.1});
  const fs::path csv = dir / "history.csv";
  fs::create_directories(dir);
  std::ostringstream quiet;
  // The CSVLogger and the TensorBoard callback consume the same Logs that fit hands them.
  const auto history = et::train::fit(
      net, opt, et::nn::CrossEntropyLoss{}, train,
      {.epochs = 3,
       .val = &val,
       .callbacks = {et::train::CSVLogger{.path = csv.string()},
                     et::train::TensorBoard{.log_dir = (dir / "tb").string(),
                                            .histogram_freq = 1,
                                            .update_freq = 2}},
       .verbose = 0,
       .out = &quiet});
  REQUIRE(history.size() == 3);

  const auto train_events = run_events(dir / "tb" / "train");
  const auto val_events = run_events(dir / "tb" / "validation");
  CHECK(train_events.at(0).file_version == "brain.Event:2");
  CHECK(val_events.at(0).file_version == "brain.Event:2");
  const auto train_scalars = scalars(train_events);
  const auto val_scalars = scalars(val_events);

  // One metrics source: every CSV value, History value and TensorBoard scalar is the same
  // number (TensorBoard keeps it as float).
  const auto rows = read_csv(csv);
  const std::map<std::string, std::pair<const Scalars*, std::string>> where = {{"loss", {&train_scalars, "epoch_loss"}},
               {"accuracy", {&train_scalars, "epoch_accuracy"}},
               {"val_loss", {&val_scalars, "epoch_loss"}},
               {"val_accuracy", {&val_scalars, "epoch_accuracy"}},
               {"lr", {&train_scalars, "epoch_learning_rate"}}};
  CHECK(rows.size() == where.size() + 1);  // + the epoch column
  for (const auto& [key, place] : where) {
    INFO(key);
    const auto& [run, tag] = place;
    REQUIRE(run->count(tag) == 1);
    const auto& steps = run->at(tag);
    REQUIRE(steps.size() == 3);
    REQUIRE(rows.at(key).size() == 3);
    for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
      REQUIRE(steps.count(epoch) == 1);  // step = epoch, 0-based like the CSV's epoch column
      CHECK(rows.at("epoch")[epoch] == epoch);
      CHECK(history[epoch].at(key) == rows.at(key)[epoch]);
      CHECK(static_cast<float>(rows.at(key)[epoch]) == steps.at(epoch));
    }
  }
  CHECK(train_scalars.at("epoch_learning_rate").at(2) == Approx(0.1));
  CHECK(val_scalars.size() == 2);  // only the val_ entries go to the validation run

  // Batch scalars every 2 optimizer steps: 12 steps over 3 epochs.
  for (const char* tag : {"batch_loss", "batch_accuracy"}) {
    INFO(tag);
    REQUIRE(train_scalars.count(tag) == 1);
    std::vector<std::int64_t> steps;
    for (const auto& [step, value] : train_scalars.at(tag)) steps.push_back(step);
    CHECK(steps == std::vector<std::int64_t>{2, 4, 6, 8, 10, 12});
  }
  // The running loss at the last batch of an epoch is that epoch's loss.
  CHECK(train_scalars.at("batch_loss").at(4) == train_scalars.at("epoch_loss").at(0));

  // Weight histograms every epoch, tagged with the PyTorch parameter names.
  std::map<std::string, std::map<std::int64_t, etna_test::Histo>> histograms;
  for (const auto& e : train_events)
    if (e.histo) histograms[e.tag][e.step] = *e.histo;
  const auto params = net.named_parameters();
  REQUIRE(histograms.size() == params.size());
  for (const auto& [name, p] : params) {
    INFO(name);
    REQUIRE(histograms.count(name) == 1);
    REQUIRE(histograms.at(name).size() == 3);
    // The epoch-2 histogram was taken after the last step: the final weights.
    const auto& h = histograms.at(name).at(2);
    const auto w = p.value();
    CHECK(h.num == static_cast<double>(w.numel()));
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (const float v : w) sum += v, lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
    CHECK(h.sum == Approx(sum).margin(1e-5));
    CHECK(h.min == Approx(lo));
    CHECK(h.max == Approx(hi));
  }
  CHECK(histograms.count("0.weight") == 1);
  CHECK(histograms.count("2.bias") == 1);

  // TensorBoard itself sees the two runs with the same tag (one chart, two curves).
  if (const auto tb = read_with_tensorboard(dir / "tb")) {
    REQUIRE(tb->contains("train"));
    REQUIRE(tb->contains("validation"));
    for (const auto& [run, key] : {std::pair{"train", "loss"}, std::pair{"validation", "val_loss"}}) {
      INFO(run);
      const auto& points = tb->at(run).at("scalars").at("epoch_loss");
      REQUIRE(points.size() == 3);
      for (std::size_t epoch = 0; epoch < 3; ++epoch) {
        CHECK(points[epoch][0].get<std::int64_t>() == static_cast<std::int64_t>(epoch));
        CHECK(points[epoch][1].get<double>() == static_cast<float>(rows.at(key)[epoch]));
      }
    }
    CHECK(tb->at("train").at("histograms").size() == params.size());
    CHECK(tb->at("train").at("histograms").contains("0.weight"));
  }
  fs::remove_all(dir);
}

TEST_CASE("log TensorBoard callback: options: no validation, no lr, sparse histograms",
          "[log][tensorboard]") {
  const fs::path dir = temp_dir("etna_tensorboard_callback_options");
  et::manual_seed(4);
  const auto data = dataset();
  et::data::DataLoader train(data, {.batch_size = 32});
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.05});
  et::train::TensorBoard tb{.log_dir = dir.string(), .histogram_freq = 2, .write_lr = false};
  et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                 {.epochs = 3, .callbacks = {std::ref(tb)}, .verbose = 0});
  CHECK(!fs::exists(dir / "validation"));  // made only when the logs have val_ entries
  CHECK(!tb.writers);                       // the files were closed at the end of training
  const auto events = run_events(dir / "train");
  const auto s = scalars(events);
  CHECK(s.count("epoch_loss") == 1);
  CHECK(s.count("epoch_learning_rate") == 0);
  CHECK(s.count("batch_loss") == 0);  // update_freq "epoch"
  std::map<std::string, std::vector<std::int64_t>> steps;
  for (const auto& e : events)
    if (e.histo) steps[e.tag].push_back(e.step);
  CHECK(steps.size() == 4);
  CHECK(steps["0.weight"] == std::vector<std::int64_t>{0, 2});

  // The run and tag of each key, as documented.
  CHECK(tb.scalar_tag("val_top5_accuracy") ==
        std::pair<std::string, std::string>{"validation", "epoch_top5_accuracy"});
  CHECK(tb.scalar_tag("batch_size").second == "epoch_batch_size");
  CHECK(tb.scalar_tag("epoch_time_s").second == "epoch_time_s");  // not epoch_epoch_
  CHECK(tb.scalar_tag("lr").first.empty());  // write_lr = false
  fs::remove_all(dir);
}

TEST_CASE("log TensorBoard callback: bad options are readable errors", "[log][tensorboard]") {
  CHECK_THROWS_WITH(et::train::UpdateFreq("weekly"), Catch::Contains("\"weekly\""));
  CHECK_THROWS_AS(et::train::UpdateFreq(0), et::value_error);
  CHECK(et::train::UpdateFreq("batch").batches() == 1);
  CHECK(et::train::UpdateFreq("epoch").batches() == 0);
  CHECK(et::train::UpdateFreq(100).batches() == 100);
  et::train::TensorBoard bad{.log_dir = "unused", .histogram_freq = -1};
  et::train::TrainState state;
  CHECK_THROWS_WITH(bad.on_train_begin(state), Catch::Contains("histogram_freq"));
  // Without fit there is no model to take histograms of.
  const fs::path dir = temp_dir("etna_tensorboard_callback_nomodel");
  et::train::TensorBoard tb{.log_dir = dir.string(), .histogram_freq = 1};
  et::train::Logs logs{{"loss", 0.5}};
  CHECK_THROWS_WITH(tb.on_epoch_end(0, logs, state), Catch::Contains("TrainState::model"));
  tb.close();
  fs::remove_all(dir);
}
