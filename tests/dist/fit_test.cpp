// train::fit on a DistributedDataParallel with the rank-0 helpers: one progress output, a
// callback on rank 0 only, epoch logs averaged by SyncLogs, and the same weights as one process
// trained on the concatenated batches.
#include <memory>
#include <sstream>

#include "ddp_support.hpp"

using namespace etna::test::ddp;

namespace {
struct EpochCounter {
  std::shared_ptr<int> epochs = std::make_shared<int>(0);
  void on_epoch_end(int, et::train::Logs&) { ++*epochs; }
};
struct LossRecorder {
  std::shared_ptr<std::vector<double>> losses = std::make_shared<std::vector<double>>();
  void on_epoch_end(int, et::train::Logs& logs) { losses->push_back(logs.at("loss")); }
};
}  // namespace

TEST_CASE("dist: fit with DDP, SyncLogs and rank-0 callbacks", "[dist][fit]") {
  const int r = dist::rank(), n = dist::world_size();
  Net<> ref = make_net(100);
  Net<> local = make_net(100 + 37 * r);
  dist::DistributedDataParallel ddp(local);
  // Each epoch: 3 steps; rank r's batches are its rows of the step's data.
  std::vector<std::pair<et::Tensor<double>, et::Tensor<double>>> mine, all;
  for (int step = 0; step < 3; ++step) {
    auto [x, y] = step_data(step, n);
    mine.emplace_back(rows_of(x, r), rows_of(y, r));
    all.emplace_back(x, y);
  }
  auto loss_fn = [](const et::Var<double>& out, const et::Tensor<double>& y) {
    return mse(out, y);
  };
  et::optim::SGD opt(ddp.parameters(), {.lr = 0.1});
  EpochCounter on_main;
  LossRecorder synced;
  std::ostringstream out;
  auto options = dist::fit_options_for_rank(
      {.epochs = 2,
       .callbacks = {dist::SyncLogs{}, dist::main_process_only(on_main), synced},
       .verbose = 2,
       .metrics = {},
       .out = &out});
  et::train::fit(ddp, opt, loss_fn, mine, options);

  et::optim::SGD ref_opt(ref.parameters(), {.lr = 0.1});
  for (int epoch = 0; epoch < 2; ++epoch)
    for (auto& [x, y] : all) {
      ref_opt.zero_grad();
      mse(ref(et::Var<double>(x)), y).backward();
      ref_opt.step();
    }
  check_same_parameters(ddp, ref);
  check_ranks_identical(ddp);

  CHECK(*on_main.epochs == (r == 0 ? 2 : 0));
  CHECK(out.str().empty() == (r != 0));  // one progress output per job
  REQUIRE(synced.losses->size() == 2);
  auto losses = et::tensor<double>({(*synced.losses)[0], (*synced.losses)[1]});
  auto gathered = dist::all_gather(losses);  // averaged: the same on every rank
  for (auto& g : gathered) CHECK(close(g, gathered[0], 0, 0));
}
