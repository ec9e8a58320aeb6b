// Callbacks fed by hand: EarlyStopping on scripted sequences (Keras semantics), ModelCheckpoint,
// LRSchedulerCallback, CSVLogger's file, History and AnyCallback's type erasure.
#include "etna/train/callbacks.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "etna/etna.hpp"

namespace et = etna;

namespace {
// Runs the callback's epoch hooks over a scripted sequence of `key` values until it stops
// training; returns the number of epochs run.
template <class C>
int run_script(C& cb, const std::string& key, const std::vector<double>& values,
               et::train::TrainState& state) {
  cb.on_train_begin(state);
  int epochs = 0;
  for (std::size_t e = 0; e < values.size() && !state.stop_training; ++e, ++epochs) {
    et::train::Logs logs{{"loss", 1.0}, {key, values[e]}};
    cb.on_epoch_end(static_cast<int>(e), logs, state);
  }
  cb.on_train_end(state);
  return epochs;
}
int run_script(et::train::EarlyStopping& cb, const std::string& key,
               const std::vector<double>& values) {
  et::train::TrainState state;
  return run_script(cb, key, values, state);
}
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("train callbacks: EarlyStopping stops after patience epochs without improvement",
          "[train][callbacks]") {
  et::train::EarlyStopping es{.patience = 2};
  // Best at epoch 1; epochs 2 and 3 do not improve: stop at the end of epoch 3.
  CHECK(run_script(es, "val_loss", {1.0, 0.9, 0.95, 0.92, 0.91, 0.5}) == 4);
  CHECK(es.stopped_epoch == 3);
  CHECK(es.best == 0.9);
  CHECK(es.best_epoch == 1);
  CHECK(es.wait == 2);

  et::train::EarlyStopping zero{.patience = 0};  // the first worse epoch stops
  CHECK(run_script(zero, "val_loss", {1.0, 0.8, 0.8}) == 3);
  CHECK(zero.stopped_epoch == 2);

  et::train::EarlyStopping never{.patience = 2};  // improving every epoch: runs to the end
  CHECK(run_script(never, "val_loss", {5, 4, 3, 2, 1}) == 5);
  CHECK(never.stopped_epoch == 0);
}

TEST_CASE("train callbacks: EarlyStopping min_delta, mode and monitor", "[train][callbacks]") {
  // Improvements smaller than min_delta do not count.
  et::train::EarlyStopping delta{.patience = 2, .min_delta = 0.05};
  CHECK(run_script(delta, "val_loss", {1.0, 0.97, 0.96, 0.90}) == 3);
  CHECK(delta.stopped_epoch == 2);
  CHECK(delta.best == 1.0);
  et::train::EarlyStopping no_delta{.patience = 2};
  CHECK(run_script(no_delta, "val_loss", {1.0, 0.97, 0.96, 0.90}) == 4);

  // "val_accuracy" is maximised (auto); an equal value is not an improvement.
  et::train::EarlyStopping acc{.monitor = "val_accuracy", .patience = 2};
  CHECK(acc.higher_better());
  CHECK(run_script(acc, "val_accuracy", {0.5, 0.6, 0.6, 0.55, 0.9}) == 4);
  CHECK(acc.stopped_epoch == 3);
  CHECK(acc.best == 0.6);

  // An explicit mode overrides the name; min_delta's sign is ignored as in Keras.
  et::train::EarlyStopping score{
      .monitor = "score", .mode = et::train::Mode::max, .patience = 1, .min_delta = -0.1};
  CHECK(run_script(score, "score", {1.0, 1.05, 1.2, 1.25}) == 2);
  CHECK(score.stopped_epoch == 1);
  CHECK_FALSE(et::train::EarlyStopping{.monitor = "val_loss"}.higher_better());

  // Improving but never beating the baseline does not reset wait: the first epoch without
  // improvement then stops (Keras 3: an improving epoch itself never stops training).
  et::train::EarlyStopping base{.patience = 2, .baseline = 0.5};
  CHECK(run_script(base, "val_loss", {1.0, 0.9, 0.95, 0.5}) == 3);
  CHECK(base.stopped_epoch == 2);
  CHECK(base.best == 0.9);
  et::train::EarlyStopping no_base{.patience = 2};
  CHECK(run_script(no_base, "val_loss", {1.0, 0.9, 0.95, 0.5}) == 4);
  et::train::EarlyStopping improving{.patience = 0, .baseline = 0.1};
  CHECK(run_script(improving, "val_loss", {1.0, 0.9, 0.8}) == 3);

  et::train::EarlyStopping missing;
  et::train::TrainState state;
  et::train::Logs logs{{"loss", 1.0}};
  CHECK_THROWS_WITH(missing.on_epoch_end(0, logs, state),
                    Catch::Contains("'val_loss' is not in the logs (they have: loss)"));
}

TEST_CASE("train callbacks: EarlyStopping restores the best epoch's weights",
          "[train][callbacks]") {
  et::nn::Linear<2, 1> net;
  et::train::TrainState state{.model = et::train::ModelHandle(net)};
  et::train::EarlyStopping es{.patience = 2, .restore_best_weights = true};
  es.on_train_begin(state);
  const std::vector<double> val_loss{1.0, 0.5, 0.7, 0.8, 0.1};
  int epoch = 0;
  for (; epoch < 5 && !state.stop_training; ++epoch) {
    net.weight.value().fill(float(epoch + 1));  // "training" sets the weights to epoch + 1
    net.bias.value().fill(-float(epoch + 1));
    et::train::Logs logs{{"val_loss", val_loss[epoch]}};
    es.on_epoch_end(epoch, logs, state);
  }
  CHECK(epoch == 4);
  CHECK(net.weight.value().at({0, 0}) == 4.f);  // weights of the last epoch until train end
  es.on_train_end(state);
  CHECK(es.best_epoch == 1);
  CHECK(net.weight.value().at({0, 0}) == 2.f);
  CHECK(net.weight.value().at({0, 1}) == 2.f);
  CHECK(net.bias.value().at({0}) == -2.f);
  CHECK(es.best_weights.size() == 2);

  et::train::TrainState no_model;  // restore_best_weights without a model is an error
  et::train::EarlyStopping orphan{.restore_best_weights = true};
  orphan.on_train_begin(no_model);
  et::train::Logs logs{{"val_loss", 1.0}};
  CHECK_THROWS_AS(orphan.on_epoch_end(0, logs, no_model), et::value_error);
}

TEST_CASE("train callbacks: ModelCheckpoint saves and keeps the best weights",
          "[train][callbacks]") {
  et::nn::Linear<2, 1> net;
  et::train::TrainState state{.model = et::train::ModelHandle(net)};
  std::vector<std::string> saved;
  std::vector<float> saved_weight;
  et::train::ModelCheckpoint best{
      .path = "ckpt/", .save_best_only = true, .save = [&](const std::string& p) {
        saved.push_back(p);
        saved_weight.push_back(net.weight.value().at({0, 0}));
      }};
  const std::vector<double> val_loss{1.0, 0.8, 0.9, 0.7, 0.75};
  best.on_train_begin(state);
  for (int e = 0; e < 5; ++e) {
    net.weight.value().fill(float(e));
    et::train::Logs logs{{"val_loss", val_loss[e]}};
    best.on_epoch_end(e, logs, state);
  }
  CHECK(saved == std::vector<std::string>(3, "ckpt/best.safetensors"));
  CHECK(saved_weight == std::vector<float>{0.f, 1.f, 3.f});  // saved with that epoch's weights
  CHECK(best.best_epoch == 3);
  CHECK(best.best == 0.7);
  best.restore_best();
  CHECK(net.weight.value().at({0, 0}) == 3.f);

  // Without a save function, every due checkpoint is written with et::io::save (folders made).
  const auto run = std::filesystem::temp_directory_path() / "etna_callbacks_test_run";
  std::filesystem::remove_all(run);
  et::train::ModelCheckpoint every{.path = (run / "model_{epoch}.st").string(),
                                   .monitor = "val_accuracy"};
  every.on_train_begin(state);
  for (int e = 0; e < 3; ++e) {
    et::train::Logs logs{{"val_accuracy", 0.5 + 0.1 * (e % 2)}};
    every.on_epoch_end(e, logs, state);
  }
  CHECK(every.last_saved == (run / "model_3.st").string());
  for (int e = 1; e <= 3; ++e)
    CHECK(std::filesystem::exists(run / ("model_" + std::to_string(e) + ".st")));
  std::filesystem::remove_all(run);
  CHECK(every.best_epoch == 1);
  CHECK(et::train::ModelCheckpoint{"out/"}.file_for(11) == "out/epoch_12.safetensors");

  et::train::ModelCheckpoint strict{.path = "x", .monitor = "val_f1", .save_best_only = true};
  et::train::Logs logs{{"loss", 1.0}};
  CHECK_THROWS_AS(strict.on_epoch_end(0, logs, state), et::value_error);
  CHECK_THROWS_AS(et::train::ModelCheckpoint{}.restore_best(), et::value_error);
}

TEST_CASE("train callbacks: LRSchedulerCallback steps schedules and plateaus",
          "[train][callbacks]") {
  auto w = et::Var<float>(et::zeros<float>({1}), true);
  et::optim::SGD opt({w}, {.lr = 0.1});
  et::optim::StepLR step(opt, {.step_size = 1, .gamma = 0.5});
  et::train::LRSchedulerCallback per_epoch(step);
  et::train::Logs logs{{"loss", 1.0}};
  per_epoch.on_epoch_end(0, logs);
  CHECK(opt.param_groups()[0].lr == Approx(0.05));
  per_epoch.on_batch_end(0, logs);  // per-epoch schedules ignore batches
  CHECK(opt.param_groups()[0].lr == Approx(0.05));

  auto batched = et::train::LRSchedulerCallback::per_batch(step);
  batched.on_batch_end(0, logs);
  batched.on_epoch_end(0, logs);
  CHECK(opt.param_groups()[0].lr == Approx(0.025));

  et::optim::SGD opt2({w}, {.lr = 0.1});
  et::optim::ReduceLROnPlateau plateau(opt2, {.factor = 0.5, .patience = 0});
  et::train::LRSchedulerCallback on_plateau(plateau, "val_loss");
  et::train::Logs v{{"val_loss", 1.0}};
  on_plateau.on_epoch_end(0, v);
  CHECK(opt2.param_groups()[0].lr == Approx(0.1));
  on_plateau.on_epoch_end(1, v);  // no improvement, patience 0: halved
  CHECK(opt2.param_groups()[0].lr == Approx(0.05));
  CHECK_THROWS_AS(on_plateau.on_epoch_end(2, logs), et::value_error);  // no val_loss
}

TEST_CASE("train callbacks: CSVLogger writes a flushed row per epoch", "[train][callbacks]") {
  const auto path = (std::filesystem::temp_directory_path() / "etna_csv_logger_test.csv").string();
  et::train::CSVLogger csv{path};
  et::train::TrainState state;
  csv.on_train_begin();
  et::train::Logs logs{
      {"lr", 0.125}, {"val_accuracy", 1.0}, {"val_loss", 0.25}, {"accuracy", 0.75}, {"loss", 0.5}};
  csv.on_epoch_end(0, logs);
  CHECK(read_file(path) ==  // readable before training ends
        "epoch,loss,accuracy,val_loss,val_accuracy,lr\n0,0.5,0.75,0.25,1,0.125\n");
  logs.erase("val_accuracy");
  logs["loss"] = 0.1;
  csv.on_epoch_end(1, logs);
  csv.on_train_end();
  CHECK(read_file(path) ==
        "epoch,loss,accuracy,val_loss,val_accuracy,lr\n0,0.5,0.75,0.25,1,0.125\n"
        "1,0.1,0.75,0.25,,0.125\n");

  et::train::CSVLogger more{.path = path, .append = true};  // keeps the file and its columns
  more.on_train_begin();
  more.on_epoch_end(2, {{"loss", 0.05}, {"lr", 0.5}});
  more.on_train_end();
  CHECK(read_file(path) ==
        "epoch,loss,accuracy,val_loss,val_accuracy,lr\n0,0.5,0.75,0.25,1,0.125\n"
        "1,0.1,0.75,0.25,,0.125\n2,0.05,,,,0.5\n");
  std::filesystem::remove(path);

  et::train::CSVLogger bad{"/nonexistent-dir/x/h.csv"};
  CHECK_THROWS_AS(bad.on_train_begin(), et::io_error);
}

namespace {
struct CountEpochs {  // a user callback with only the short hook form
  int* count;
  void on_epoch_end(int, const et::train::Logs&) { ++*count; }
};
struct Virtual : et::train::Callback {  // or derived from the virtual base
  int batches = 0;
  void on_batch_end(std::int64_t, const et::train::Logs&, et::train::TrainState& s) override {
    if (++batches == 2) s.stop_training = true;
  }
};
}  // namespace

TEST_CASE("train callbacks: AnyCallback erases any callback type", "[train][callbacks]") {
  static_assert(et::train::CallbackType<et::train::EarlyStopping>);
  static_assert(et::train::CallbackType<std::reference_wrapper<et::train::History>>);
  static_assert(!et::train::CallbackType<int>);
  int count = 0;
  et::train::History history;
  Virtual v;
  std::vector<et::train::AnyCallback> cbs = {CountEpochs{&count}, std::ref(history), std::ref(v),
                                             et::train::EarlyStopping{.patience = 1}};
  et::train::TrainState state;
  for (auto& cb : cbs) cb.on_train_begin(state);
  for (int e = 0; e < 3; ++e) {
    et::train::Logs logs{{"loss", 1.0 / (e + 1)}, {"val_loss", 1.0}};
    for (auto& cb : cbs) cb.on_batch_end(0, logs, state);
    for (auto& cb : cbs) cb.on_epoch_end(e, logs, state);
  }
  for (auto& cb : cbs) cb.on_train_end(state);
  CHECK(count == 3);
  CHECK(v.batches == 3);
  CHECK(state.stop_training);
  REQUIRE(history.size() == 3);
  CHECK(history.values("loss") == std::vector<double>{1.0, 0.5, 1.0 / 3});
  CHECK(history[1].at("val_loss") == 1.0);
  CHECK(history.values("nothing").empty());

  auto copy = cbs[0];  // copies share one callback
  et::train::Logs logs;
  copy.on_epoch_end(3, logs, state);
  cbs[0].on_epoch_end(4, logs, state);
  CHECK(count == 5);
}
