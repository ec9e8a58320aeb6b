// End-to-end: fit trains a small MLP on a separable 2-class problem, with validation, callbacks
// (early stopping on a plateau, restoring weights, CSV, LR schedule); evaluate and predict.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "etna/data/dataset.hpp"
#include "etna/etna.hpp"
#include "etna/train.hpp"

namespace et = etna;

namespace {
using Batch = et::data::Example<et::Tensor<float>, et::Tensor<std::int64_t>>;
using Net = et::nn::Sequential<et::nn::Linear<2, 16>, et::nn::Tanh, et::nn::Linear<16, 2>>;

// n points in batches of `batch`: class 1 around (1, 1), class 0 around (-1, -1), noise 0.4.
std::vector<Batch> two_blobs(std::int64_t n, std::int64_t batch) {
  auto noise = et::randn<float>({n, 2});
  std::vector<Batch> out;
  for (std::int64_t start = 0; start < n; start += batch) {
    const std::int64_t m = std::min(batch, n - start);
    auto x = et::empty<float>({m, 2});
    auto y = et::empty<std::int64_t>({m});
    for (std::int64_t i = 0; i < m; ++i) {
      const std::int64_t label = (start + i) % 2;
      const float centre = label ? 1.f : -1.f;
      y.at({i}) = label;
      for (std::int64_t j = 0; j < 2; ++j) x.at({i, j}) = centre + 0.4f * noise.at({start + i, j});
    }
    out.push_back({x, y});
  }
  return out;
}
}  // namespace

TEST_CASE("train fit: an MLP learns a separable 2-class problem", "[train][fit]") {
  et::manual_seed(42);
  auto train = two_blobs(256, 32);
  auto val = two_blobs(128, 64);
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.05});
  std::ostringstream log;
  auto history = et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                                {.epochs = 15, .val = &val, .verbose = 2, .out = &log});
  REQUIRE(history.size() == 15);
  const auto& last = history.back();
  CHECK(last.at("loss") < 0.1);
  CHECK(last.at("accuracy") >= 0.95);
  CHECK(last.at("val_loss") < 0.1);
  CHECK(last.at("val_accuracy") >= 0.95);
  CHECK(last.at("lr") == Approx(0.05));
  CHECK(history.values("loss").front() > 0.3);  // it did have to learn
  CHECK(net.is_training());                     // the mode the net had before fit

  // verbose 2: exactly one line per epoch.
  std::vector<std::string> lines;
  std::istringstream in(log.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 15);
  CHECK(lines[0].rfind("Epoch 1/15 - 8/8 - ", 0) == 0);
  CHECK(lines[14].find("val_accuracy: ") != std::string::npos);
  CHECK(log.str().find('\r') == std::string::npos);

  // evaluate gives fit's last validation numbers (no training in between).
  auto logs = et::train::evaluate(net, et::nn::CrossEntropyLoss{}, val);
  CHECK(logs.at("loss") == Approx(last.at("val_loss")).epsilon(1e-5));
  CHECK(logs.at("accuracy") == Approx(last.at("val_accuracy")));

  // predict: one tensor, or a loader's batches concatenated.
  auto logits = et::train::predict(net, val);
  CHECK(logits.shape() == et::Shape{128, 2});
  auto first = et::train::predict(net, val[0].data);
  CHECK(first.shape() == et::Shape{64, 2});
  CHECK(first.at({3, 1}) == logits.at({3, 1}));
  std::vector<et::Tensor<float>> inputs{val[0].data, val[1].data};
  CHECK(et::train::predict(net, inputs).shape() == et::Shape{128, 2});
  auto targets = et::concat(std::vector<et::Tensor<std::int64_t>>{val[0].target, val[1].target});
  CHECK(et::train::accuracy(logits, targets) == Approx(logs.at("accuracy")));
  auto cm = et::train::confusion_matrix(logits, targets, 2, {"neg", "pos"});
  CHECK(cm.total() == 128);
}

TEST_CASE("train fit: EarlyStopping ends training on a plateau", "[train][fit]") {
  et::manual_seed(1);
  auto train = two_blobs(64, 16);
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.0});  // nothing changes: a perfect plateau
  et::train::EarlyStopping es{.patience = 2};
  auto history =
      et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                     {.epochs = 50, .val = &train, .callbacks = {std::ref(es)}, .verbose = 0});
  CHECK(history.size() == 3);  // best at epoch 0, then 2 epochs without improvement
  CHECK(es.stopped_epoch == 2);
  CHECK(es.best_epoch == 0);
}

TEST_CASE("train fit: callbacks see the run and restore the best weights", "[train][fit]") {
  et::manual_seed(7);
  auto train = two_blobs(128, 32);
  auto val = two_blobs(64, 64);
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.5});
  et::optim::StepLR schedule(opt, {.step_size = 2, .gamma = 0.5});
  const auto csv = (std::filesystem::temp_directory_path() / "etna_fit_test_history.csv").string();
  et::train::EarlyStopping es{.patience = 3, .restore_best_weights = true};
  const auto ckpt = std::filesystem::temp_directory_path() / "etna_fit_test_ckpt";
  std::filesystem::remove_all(ckpt);
  et::train::ModelCheckpoint best{.path = ckpt.string() + "/", .save_best_only = true};
  std::int64_t batches = 0;
  struct CountBatches {
    std::int64_t* n;
    void on_batch_end(std::int64_t, const et::train::Logs& logs) {
      ++*n;
      CHECK(logs.count("loss") == 1);
    }
  };
  // Runs after EarlyStopping took its snapshot: wrecks the weights at the end of the last epoch,
  // so only restore_best_weights brings the trained ones back.
  struct WreckAtEnd {
    Net* net;
    void on_epoch_end(int epoch, et::train::Logs&, et::train::TrainState& s) {
      if (epoch == s.epochs - 1)
        for (auto& p : net->parameters()) p.value().fill(0.f);
    }
  };
  auto history = et::train::fit(
      net, opt, et::nn::CrossEntropyLoss{}, train,
      {.epochs = 6,
       .val = &val,
       .callbacks = {std::ref(es), std::ref(best), et::train::LRSchedulerCallback(schedule),
                     et::train::CSVLogger{csv}, CountBatches{&batches}, WreckAtEnd{&net}},
       .verbose = 0});
  REQUIRE(history.size() == 6);
  CHECK(batches == 6 * 4);
  // The lr logged for an epoch is the one it trained with; StepLR halves it every 2 epochs.
  CHECK(history.values("lr") == std::vector<double>{0.5, 0.5, 0.25, 0.25, 0.125, 0.125});

  // restore_best_weights: the net ends with the weights of the best validation epoch.
  auto logs = et::train::evaluate(net, et::nn::CrossEntropyLoss{}, val);
  CHECK(logs.at("loss") == Approx(es.best).epsilon(1e-5));
  CHECK(logs.at("loss") < 0.1);  // the wrecked net would give log(2)
  CHECK(best.best == es.best);
  CHECK(best.best_epoch == es.best_epoch);
  // Without a save function ModelCheckpoint wrote the best epoch with et::io::save.
  Net reloaded;
  et::io::load(reloaded, best.last_saved);
  CHECK(et::train::evaluate(reloaded, et::nn::CrossEntropyLoss{}, val).at("loss") ==
        Approx(es.best).epsilon(1e-5));
  std::filesystem::remove_all(ckpt);

  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  CHECK(header == "epoch,loss,accuracy,val_loss,val_accuracy,lr");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 6);
  in.close();
  std::filesystem::remove(csv);
}

TEST_CASE("train fit: metrics by name, regression targets and errors", "[train][fit]") {
  et::manual_seed(3);
  auto train = two_blobs(64, 32);
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.1});
  auto h = et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                          {.epochs = 1,
                           .verbose = 0,
                           .metrics = {"accuracy", "top2_accuracy", "precision", "recall", "f1"}});
  const auto& logs = h.back();
  CHECK(logs.at("top2_accuracy") == 1.0);
  for (const char* key : {"accuracy", "precision", "recall", "f1"}) {
    CHECK(logs.at(key) >= 0.0);
    CHECK(logs.at(key) <= 1.0);
  }
  CHECK_THROWS_WITH(et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                                   {.epochs = 1, .verbose = 0, .metrics = {"auc"}}),
                    Catch::Contains("unknown metric 'auc'"));

  // Regression: float targets, MSE; accuracy (the default) does not apply and is skipped.
  using RBatch = et::data::Example<et::Tensor<float>, et::Tensor<float>>;
  std::vector<RBatch> reg{
      {et::tensor<float>({{0.f, 1.f}, {1.f, 0.f}}), et::tensor<float>({{1.f, 0.f}, {0.f, 1.f}})}};
  Net rnet;
  et::optim::SGD ropt(rnet.parameters(), {.lr = 0.1});
  auto rh = et::train::fit(rnet, ropt, et::nn::MSELoss{}, reg,
                           {.epochs = 2, .verbose = 0, .metrics = {"accuracy", "mae", "rmse"}});
  CHECK(rh.back().count("accuracy") == 0);
  CHECK(rh.back().at("rmse") >= rh.back().at("mae"));

  // Validation batches must have the training batches' type.
  std::vector<std::pair<et::Tensor<float>, et::Tensor<std::int64_t>>> pairs{
      {train[0].data, train[0].target}};
  CHECK_THROWS_WITH(et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                                   {.epochs = 1, .val = &pairs, .verbose = 0}),
                    Catch::Contains("not of the training batches' type"));
  // ... though pairs are batches too.
  CHECK(et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, pairs, {.verbose = 0}).size() == 1);
  // A monitor that needs validation data says so.
  CHECK_THROWS_WITH(
      et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, train,
                     {.epochs = 2, .callbacks = {et::train::EarlyStopping{}}, .verbose = 0}),
      Catch::Contains("give fit a validation loader"));
}
