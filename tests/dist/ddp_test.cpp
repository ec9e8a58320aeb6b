// DistributedDataParallel: N steps on each rank's shard give the parameters one process gets
// from the concatenated batches (SGD with momentum and Adam, one bucket and many), the ranks
// stay identical, no_sync accumulates, unused and re-used parameters are handled.
#include "ddp_support.hpp"

using namespace etna::test::ddp;

namespace {

struct Case {
  std::string optimizer;
  double bucket_cap_mb;
};

template <class Opt>
void train_both(Opt& ddp_opt, Opt& ref_opt, dist::DistributedDataParallel<Net<>>& ddp, Net<>& ref,
                int steps) {
  const int r = dist::rank(), n = dist::world_size();
  for (int step = 0; step < steps; ++step) {
    auto [x, y] = step_data(step, n);
    ddp_opt.zero_grad();
    mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
    ddp_opt.step();
    ref_opt.zero_grad();
    mse(ref(et::Var<double>(x)), y).backward();
    ref_opt.step();
  }
}

}  // namespace

TEST_CASE("dist: DDP training equals one process on the concatenated batches", "[dist][ddp]") {
  for (const Case& c :
       {Case{"sgd", 25}, Case{"adam", 25}, Case{"sgd", 0.0005}, Case{"adam", 0.0005}}) {
    INFO(c.optimizer << ", bucket_cap_mb " << c.bucket_cap_mb << ", rank " << dist::rank());
    Net<> ref = make_net(100);
    Net<> local = make_net(100 + dist::rank());  // rank 0's weights must win
    dist::DistributedDataParallel ddp(local, {.bucket_cap_mb = c.bucket_cap_mb});
    check_same_parameters(ddp, ref, 0);
    if (dist::world_size() > 1 && c.bucket_cap_mb < 1) CHECK(ddp.bucket_names().size() > 2);
    if (dist::world_size() > 1) CHECK(ddp.bucket_names().front().front() == "side.bias");
    if (c.optimizer == "sgd") {
      et::optim::SGD a(ddp.parameters(), {.lr = 0.1, .momentum = 0.9});
      et::optim::SGD b(ref.parameters(), {.lr = 0.1, .momentum = 0.9});
      train_both(a, b, ddp, ref, 5);
    } else {
      et::optim::Adam a(ddp.parameters(), {.lr = 0.01});
      et::optim::Adam b(ref.parameters(), {.lr = 0.01});
      train_both(a, b, ddp, ref, 5);
    }
    check_same_parameters(ddp, ref);
    check_ranks_identical(ddp);
    // A world of 1 reduces too (as PyTorch; the 1-GPU NCCL test goes through it).
    const std::int64_t per_step = ddp.num_parameters() * 8;
    CHECK(ddp.bytes_communicated() == 5 * per_step);
  }
}

TEST_CASE("dist: no_sync accumulates locally; the next backward averages the total",
          "[dist][ddp]") {
  const int r = dist::rank(), n = dist::world_size();
  Net<> ref = make_net(100);
  Net<> local = make_net(100 + 37 * r);  // rank 0: the reference's seed
  dist::DistributedDataParallel ddp(local, {.bucket_cap_mb = 0.0005});
  et::optim::SGD a(ddp.parameters(), {.lr = 0.05});
  et::optim::SGD b(ref.parameters(), {.lr = 0.05});
  for (int step = 0; step < 3; ++step) {
    a.zero_grad();
    b.zero_grad();
    for (int micro = 0; micro < 3; ++micro) {
      auto [x, y] = step_data(10 * step + micro, n);
      if (micro < 2) {
        auto guard = ddp.no_sync();
        mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
      } else {
        mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
      }
      mse(ref(et::Var<double>(x)), y).backward();
    }
    a.step();
    b.step();
  }
  check_same_parameters(ddp, ref);
  check_ranks_identical(ddp);
  if (n > 1) CHECK(ddp.bytes_communicated() == 3 * ddp.num_parameters() * 8);
}

TEST_CASE("dist: a parameter unused on some ranks counts as a zero gradient there", "[dist][ddp]") {
  // Rank 0 uses `side`, the others do not; the reference is the mean of the ranks' losses.
  const int r = dist::rank(), n = dist::world_size();
  Net<> ref = make_net(100);
  Net<> local = make_net(100 + 37 * r);  // rank 0: the reference's seed
  local.use_side = r == 0;
  dist::DistributedDataParallel ddp(local, {.bucket_cap_mb = 0.0005});
  et::optim::SGD a(ddp.parameters(), {.lr = 0.1});
  et::optim::SGD b(ref.parameters(), {.lr = 0.1});
  for (int step = 0; step < 4; ++step) {
    auto [x, y] = step_data(step, n);
    a.zero_grad();
    mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
    a.step();
    b.zero_grad();
    et::Var<double> total;
    for (int k = 0; k < n; ++k) {
      ref.use_side = k == 0;
      et::Var<double> loss = mse(ref(et::Var<double>(rows_of(x, k))), rows_of(y, k)) * (1.0 / n);
      if (k == 0)
        total = loss;
      else
        total = total + loss;
    }
    total.backward();
    b.step();
  }
  check_same_parameters(ddp, ref);
  check_ranks_identical(ddp);
}

TEST_CASE("dist: a layer used more often than on the first step is reduced again", "[dist][ddp]") {
  // `mid` runs 1, 3, 2, 3 times: its gradient arrives after its bucket was launched on the
  // steps where it runs more often than on the first one (the ranks agree and redo).
  const int r = dist::rank(), n = dist::world_size();
  Net<> ref = make_net(100);
  Net<> local = make_net(100 + 37 * r);  // rank 0: the reference's seed
  // Without `side` (whose backward may come last) the bucket of fc2 and mid.bias completes
  // with mid's first contribution, so it is launched before the others arrive.
  local.use_side = ref.use_side = false;
  dist::DistributedDataParallel ddp(local, {.bucket_cap_mb = 0.0005});
  et::optim::Adam a(ddp.parameters(), {.lr = 0.01});
  et::optim::Adam b(ref.parameters(), {.lr = 0.01});
  const int repeats[] = {1, 3, 2, 3};
  for (int step = 0; step < 4; ++step) {
    auto [x, y] = step_data(step, n);
    local.repeats = ref.repeats = repeats[step];
    a.zero_grad();
    mse(ddp(et::Var<double>(rows_of(x, r))), rows_of(y, r)).backward();
    a.step();
    b.zero_grad();
    mse(ref(et::Var<double>(x)), y).backward();
    b.step();
  }
  check_same_parameters(ddp, ref);
  check_ranks_identical(ddp);
}

TEST_CASE("dist: DDP keeps the model's names, modes and frozen parameters", "[dist][ddp]") {
  Net<> local = make_net(500 + dist::rank());
  local.fc1.freeze();
  dist::DistributedDataParallel ddp(local);
  std::vector<std::string> names;
  for (auto& [name, p] : ddp.named_parameters()) names.push_back(name);
  CHECK(names.front() == "fc1.weight");
  CHECK(names.back() == "side.bias");
  ddp.eval();
  CHECK_FALSE(local.is_training());
  CHECK_FALSE(local.fc2.is_training());
  ddp.train();
  CHECK(local.is_training());
  for (auto& bucket : ddp.bucket_names())
    for (auto& name : bucket) CHECK(name.rfind("fc1.", 0) != 0);  // frozen: not reduced
  CHECK(&ddp.module() == &local);
}

namespace {
template <class D = et::cpu>
struct BnNet : et::nn::Module<BnNet<D>> {
  et::nn::Linear<4, 4, double, D> fc;
  et::nn::BatchNorm1d<4, double, D> bn;
  et::Var<double, D> forward(const et::Var<double, D>& x) { return bn(fc(x)); }
  ETNA_MODULE(fc, bn)
};
}  // namespace

TEST_CASE("dist: DDP broadcasts rank 0's buffers at construction and before forward",
          "[dist][ddp]") {
  const int r = dist::rank();
  et::manual_seed(7 + r);
  BnNet<> net;
  net.bn.running_mean.fill(double(r + 1));
  dist::DistributedDataParallel ddp(net);
  CHECK(net.bn.running_mean(0) == 1.0);  // rank 0's
  auto idx = net.named_index_buffers();
  REQUIRE(idx.size() == 1);
  check_ranks_identical(ddp);
  // Each rank's forward moves its running statistics with its own batch; the next training
  // forward starts again from rank 0's (PyTorch's broadcast_buffers).
  net.bn.running_var.fill(double(10 * (r + 1)));
  auto x = et::randn<double>({5, 4});
  const et::Tensor<double> h = net.fc(et::Var<double>(x)).value();
  double mean = 0, var = 0;
  for (int i = 0; i < 5; ++i) mean += h(i, 0) / 5;
  for (int i = 0; i < 5; ++i) var += (h(i, 0) - mean) * (h(i, 0) - mean) / 4;  // unbiased
  (void)ddp(et::Var<double>(x));
  CHECK(net.bn.running_var(0) == Approx(0.9 * 10.0 + 0.1 * var));  // from rank 0's 10
  {
    et::NoGradGuard no_grad;  // evaluation: no broadcast (ranks may evaluate alone)
    net.bn.running_var.fill(double(r + 3));
    ddp.eval();
    (void)ddp(et::Var<double>(x));
    CHECK(net.bn.running_var(0) == double(r + 3));
  }
}
