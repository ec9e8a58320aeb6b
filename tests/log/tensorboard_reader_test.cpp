// Integration: event files written by SummaryWriter, read back by TensorBoard's own Python
// reader (EventAccumulator, via read_events.py in the tests' .venv). Skips with a warning when
// the venv is missing (scripts/setup-python.sh creates it; CI runs it through install-deps.sh).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>

#include "etna/etna.hpp"
#include "etna/log/summary_writer.hpp"

namespace et = etna;
namespace lg = etna::logging;
namespace fs = std::filesystem;

namespace {
// Runs read_events.py on `dir`; nullopt (after a WARN) when the venv's python is missing.
std::optional<nlohmann::json> read_with_tensorboard(const fs::path& dir) {
  const fs::path python = ETNA_TEST_PYTHON;
  if (!fs::exists(python)) {
    WARN("skipped: "
         << python.string()
         << " not found (run scripts/setup-python.sh to read event files with TensorBoard)");
    return std::nullopt;
  }
  const fs::path script = fs::path(__FILE__).parent_path() / "read_events.py";
  const fs::path err = dir.string() + ".stderr";
  // Built by appending: GCC 12 misreports `"literal" + std::string&&` under -Werror=restrict.
  std::string cmd;
  for (const fs::path& arg : {python, script, dir})
    cmd.append("'").append(arg.string()).append("' ");
  cmd.append("2>'").append(err.string()).append("'");
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  std::stringstream errors;
  errors << std::ifstream(err).rdbuf();
  fs::remove(err);
  INFO("read_events.py stderr:\n" << errors.str());
  REQUIRE(status == 0);
  return nlohmann::json::parse(out);
}
}  // namespace

TEST_CASE("TensorBoard's EventAccumulator reads what SummaryWriter wrote", "[log][tensorboard]") {
  const fs::path dir = fs::temp_directory_path() / ("etna_tb_reader_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    lg::SummaryWriter w(dir.string());
    for (int step = 0; step < 5; ++step) w.add_scalar("loss", 1.0 / (step + 1), step);
    w.add_scalar("lr", 0.125, 3);
    auto weights = et::Tensor<float>::allocate(et::Shape({4, 25}));
    std::iota(weights.data(), weights.data() + 100, -50.0f);
    w.add_histogram("weights", weights, 2);
    w.add_histogram("weights_10", weights, 2, "10");
    auto image = et::Tensor<float>::allocate(et::Shape({3, 8, 6}));
    std::fill(image.data(), image.data() + image.numel(), 0.25f);
    w.add_image("sample", image, 1);
    auto grey = et::Tensor<float>::allocate(et::Shape({5, 9}));
    std::fill(grey.data(), grey.data() + grey.numel(), 1.0f);
    w.add_image("grey", grey, 1, "HW");
    w.add_text("config", "lr = 0.125", 0);
    w.add_scalars("acc", {{"train", 0.75}, {"val", 0.5}}, 4);
    w.add_hparams({{"lr", 0.125}, {"optimizer", std::string("sgd")}, {"nesterov", false}},
                  {{"hparam/loss", 0.2}}, "hp_run");
  }
  const auto runs = read_with_tensorboard(dir);
  if (!runs) {
    fs::remove_all(dir);
    return;
  }
  INFO((*runs).dump(1));
  const auto& main = runs->at(".");
  const auto& loss = main.at("scalars").at("loss");
  REQUIRE(loss.size() == 5);
  for (int step = 0; step < 5; ++step) {
    CHECK(loss[step][0] == step);
    CHECK(loss[step][1].get<double>() == Approx(1.0 / (step + 1)));
  }
  CHECK(main.at("scalars").at("lr")[0][1].get<double>() == 0.125);

  const auto& h = main.at("histograms").at("weights")[0];
  CHECK(h.at("step") == 2);
  CHECK(h.at("num").get<double>() == 100);
  CHECK(h.at("min").get<double>() == -50);
  CHECK(h.at("max").get<double>() == 49);
  double total = 0;
  for (const auto& c : h.at("bucket")) total += c.get<double>();
  CHECK(total == 100);
  const auto& h10 = main.at("histograms").at("weights_10")[0];
  CHECK(h10.at("bucket").size() == 11);  // 10 bins and the leading empty one
  for (std::size_t i = 1; i < 11; ++i) CHECK(h10.at("bucket")[i].get<double>() == 10);

  const auto& img = main.at("images").at("sample")[0];
  CHECK(img.at("width") == 6);
  CHECK(img.at("height") == 8);
  CHECK(img.at("png") == true);
  CHECK(main.at("images").at("grey")[0].at("width") == 9);
  CHECK(main.at("images").at("grey")[0].at("height") == 5);

  CHECK(main.at("texts").at("config/text_summary")[0][1] == "lr = 0.125");

  CHECK(runs->at("acc_train").at("scalars").at("acc")[0][1].get<double>() == 0.75);
  CHECK(runs->at("acc_val").at("scalars").at("acc")[0][1].get<double>() == 0.5);
  CHECK(runs->at("acc_val").at("scalars").at("acc")[0][0] == 4);

  const auto& hp = runs->at("hp_run").at("hparams");
  CHECK(hp.at("tags").size() == 3);
  CHECK(hp.at("values").at("lr").get<double>() == 0.125);
  CHECK(hp.at("values").at("optimizer") == "sgd");
  CHECK(hp.at("values").at("nesterov") == false);
  CHECK(hp.at("hparam_types").at("lr") == 3);         // DATA_TYPE_FLOAT64
  CHECK(hp.at("hparam_types").at("optimizer") == 1);  // DATA_TYPE_STRING
  CHECK(hp.at("hparam_types").at("nesterov") == 2);   // DATA_TYPE_BOOL
  CHECK(hp.at("metrics") == nlohmann::json::array({"hparam/loss"}));
  CHECK(hp.at("status") == 1);  // STATUS_SUCCESS
  CHECK(runs->at("hp_run").at("scalars").at("hparam/loss")[0][1].get<double>() == Approx(0.2));
  fs::remove_all(dir);
}
