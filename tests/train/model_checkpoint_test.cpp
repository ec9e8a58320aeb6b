// ModelCheckpoint's default save: fit with no save function writes each due checkpoint with
// et::io::save, and every file loads back into a model equal to the one of that epoch
// (parameters, BatchNorm running stats and num_batches_tracked), with Keras's file names.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "etna/etna.hpp"
#include "etna/io.hpp"
#include "etna/train.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace fs = std::filesystem;

namespace {
using Batch = et::data::Example<et::Tensor<float>, et::Tensor<std::int64_t>>;
using Net = et::nn::Sequential<et::nn::Linear<2, 8>, et::nn::BatchNorm1d<8>, et::nn::ReLU,
                               et::nn::Linear<8, 2>>;

// 4 batches of 16 points: class 1 around (1, 1), class 0 around (-1, -1).
std::vector<Batch> blobs() {
  std::vector<Batch> out;
  for (int b = 0; b < 4; ++b) {
    et::Tensor<float> x = et::randn<float>({16, 2}) * 0.5f;
    auto y = et::empty<std::int64_t>({16});
    for (std::int64_t i = 0; i < 16; ++i) {
      y.at({i}) = i % 2;
      for (std::int64_t j = 0; j < 2; ++j) x.at({i, j}) += i % 2 ? 1.f : -1.f;
    }
    out.push_back({x, y});
  }
  return out;
}

// Clones the net at each epoch end (it runs after ModelCheckpoint: the same weights).
struct KeepClones {
  Net* net;
  std::vector<Net>* clones;
  void on_epoch_end(int, et::train::Logs&) { clones->push_back(net->clone()); }
};

void check_same_state(const Net& a, const Net& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i)
    ETNA_CHECK_CLOSE(pa[i].second.value(), pb[i].second.value(), 0, 0);
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  for (std::size_t i = 0; i < ba.size(); ++i) ETNA_CHECK_CLOSE(ba[i].second, bb[i].second, 0, 0);
  CHECK(a.get<1>().num_batches_tracked.item() == b.get<1>().num_batches_tracked.item());
}
}  // namespace

TEST_CASE("train ModelCheckpoint: without a save function fit writes loadable safetensors",
          "[train][model_checkpoint]") {
  const fs::path dir =
      fs::temp_directory_path() / ("etna_model_checkpoint_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  et::manual_seed(21);
  const auto data = blobs();
  Net net;
  et::optim::SGD opt(net.parameters(), {.lr = 0.2});
  std::vector<Net> clones;
  et::train::ModelCheckpoint every{.path = (dir / "every").string() + "/", .monitor = "loss"};
  et::train::ModelCheckpoint best{.path = (dir / "best" / "model.safetensors").string(),
                                  .monitor = "loss",
                                  .save_best_only = true};
  et::train::fit(net, opt, et::nn::CrossEntropyLoss{}, data,
                 {.epochs = 4,
                  .callbacks = {std::ref(every), std::ref(best), KeepClones{&net, &clones}},
                  .verbose = 0});
  REQUIRE(clones.size() == 4);
  for (int e = 0; e < 4; ++e) {
    INFO("epoch " << e + 1);
    const fs::path file = dir / "every" / ("epoch_" + std::to_string(e + 1) + ".safetensors");
    REQUIRE(fs::exists(file));
    Net loaded;
    et::io::load(loaded, file.string());
    check_same_state(loaded, clones[e]);
  }
  CHECK(every.last_saved == (dir / "every" / "epoch_4.safetensors").string());
  REQUIRE(best.best_epoch >= 0);
  Net loaded;
  et::io::load(loaded, best.last_saved);
  check_same_state(loaded, clones[best.best_epoch]);
  fs::remove_all(dir);
}
