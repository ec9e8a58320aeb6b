// A checkpoint written by rank 0 of a DDP job is a plain state_dict: every rank (and, in the
// 1-process run after the 2-rank one, a world of one) loads it into a fresh model.
#include <filesystem>

#include "ddp_support.hpp"

using namespace etna::test::ddp;

namespace {
// The file the 2-rank run leaves for the 1-process run (ctest runs them in that order, in the
// same working directory).
const std::string shared_checkpoint = "etna_dist_test_checkpoint.safetensors";

// What 3 SGD steps of DDP over `world` ranks give: one process on the concatenated batches.
Net<> reference_after_training(int world) {
  Net<> ref = make_net(100);
  et::optim::SGD opt(ref.parameters(), {.lr = 0.1});
  for (int step = 0; step < 3; ++step) {
    auto [x, y] = step_data(step, world);
    opt.zero_grad();
    mse(ref(et::Var<double>(x)), y).backward();
    opt.step();
  }
  return ref;
}
}  // namespace

TEST_CASE("dist: a checkpoint saved by rank 0 loads on every rank", "[dist][checkpoint]") {
  const int r = dist::rank(), n = dist::world_size();
  Net<> local = make_net(100 + 37 * r);  // rank 0: the reference's seed
  dist::DistributedDataParallel ddp(local);
  et::optim::SGD opt(ddp.parameters(), {.lr = 0.1});
  for (int step = 0; step < 3; ++step) {
    auto [x, y] = step_data(step, n);
    opt.zero_grad();
    mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
    opt.step();
  }
  const auto path = (std::filesystem::temp_directory_path() /
                     ("etna_dist_ckpt_" + std::to_string(n) + ".safetensors"))
                        .string();
  dist::run_on_main([&] {
    et::io::save(ddp, path);
    if (n == 2) et::io::save(ddp, shared_checkpoint);  // what the 1-process run checks
  });
  dist::barrier();
  Net<> fresh = make_net(999);
  et::io::load(fresh, path);
  check_same_parameters(fresh, ddp, 0);
  check_same_parameters(fresh, reference_after_training(n));
  dist::barrier();
  dist::run_on_main([&] { std::filesystem::remove(path); });
}

TEST_CASE("dist: the 2-rank job's checkpoint loads in a world of one", "[dist][checkpoint]") {
  if (dist::world_size() != 1) return;
  if (!std::filesystem::exists(shared_checkpoint)) {
    WARN("no " << shared_checkpoint << " here: run the 2-rank test_dist first (ctest does)");
    return;
  }
  Net<> fresh = make_net(999);
  et::io::load(fresh, shared_checkpoint);
  check_same_parameters(fresh, reference_after_training(2));
}
