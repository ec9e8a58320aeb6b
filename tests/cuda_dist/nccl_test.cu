// The NCCL process group on one GPU (a world of one, joined without MPI): every collective runs
// through NCCL on device memory and leaves the values a one-rank world must leave, errors are
// readable dist_errors, and a DistributedDataParallel step over the group equals the plain step.
// Built by nvcc only (test_cuda_dist, linked with -lnccl); without a GPU it exits with 77.
#include "cuda/support.hpp"

#include <memory>
#include <vector>

#include <etna/cuda.hpp>
#include <etna/dist/collectives.hpp>
#include <etna/dist/ddp.hpp>
#include <etna/dist/nccl_group.hpp>

namespace et = etna;
namespace dist = etna::dist;
namespace nn = etna::nn;

namespace {

// One group for the whole run: NCCL communicators are costly to create.
const std::shared_ptr<dist::NcclProcessGroup>& shared_group() {
  static const std::shared_ptr<dist::NcclProcessGroup> g = [] {
    ncclUniqueId id;
    REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
    return std::make_shared<dist::NcclProcessGroup>(0, 1, id, dist::local_device());
  }();
  return g;
}
dist::NcclProcessGroup& group() { return *shared_group(); }

// A small net with a layer applied twice (two gradient contributions per backward).
struct Net : nn::Module<Net> {
  nn::Linear<4, 8, float, et::cuda> fc1;
  nn::Linear<8, 8, float, et::cuda> mid;
  nn::Linear<8, 3, float, et::cuda> fc2;
  et::Var<float, et::cuda> forward(const et::Var<float, et::cuda>& x) {
    auto h = et::tanh(fc1(x));
    h = et::tanh(mid(h));
    return fc2(et::tanh(mid(h)));
  }
  ETNA_MODULE(fc1, mid, fc2)
};

template <class Model>
et::Var<float, et::cuda> mse(Model& net, int step) {
  et::Generator gen(500 + step);
  const auto x = et::randn<float>({6, 4}, gen).to<et::cuda>();
  const auto y = et::randn<float>({6, 3}, gen).to<et::cuda>();
  return et::mean(et::square(net(et::Var<float, et::cuda>(x)) - et::Var<float, et::cuda>(y)));
}

template <class T>
std::vector<T> host(const et::Tensor<T, et::cuda>& t) {
  const et::Tensor<T> h = t.template to<et::cpu>();
  return std::vector<T>(h.begin(), h.end());
}

template <class T>
et::Tensor<T, et::cuda> device_tensor(std::int64_t n, T start) {
  et::Tensor<T> h = et::zeros<T>(et::Shape{n});
  T v = start;
  for (auto& x : h) x = v++;
  return h.template to<et::cuda>();
}

template <class T>
void check_all_reduce(dist::ReduceOp op) {
  auto t = device_tensor<T>(1000, T(3));
  const auto before = host(t);
  dist::Work work = group().all_reduce(t.data(), t.numel(), dist::dtype_of<T>(), op,
                                       dist::DeviceKind::cuda);
  work.wait();
  CHECK(work.is_completed());
  CHECK(host(t) == before);  // sum, avg, max and min over one rank are the identity
}

}  // namespace

TEST_CASE("NCCL group of one rank: identity and backend", "[dist][nccl]") {
  auto& g = group();
  CHECK(g.rank() == 0);
  CHECK(g.size() == 1);
  CHECK(g.backend() == "nccl");
  CHECK(g.supports(dist::DeviceKind::cuda));
  CHECK_FALSE(g.supports(dist::DeviceKind::cpu));
  g.barrier();
}

TEST_CASE("NCCL all_reduce on every dtype and op", "[dist][nccl]") {
  for (auto op : {dist::ReduceOp::sum, dist::ReduceOp::avg, dist::ReduceOp::max,
                  dist::ReduceOp::min}) {
    check_all_reduce<float>(op);
    check_all_reduce<double>(op);
    check_all_reduce<std::int32_t>(op);
    check_all_reduce<std::int64_t>(op);
  }
  // Work queued after etna's kernels sees their results, and etna's later kernels see NCCL's.
  auto t = et::ones<float>(et::Shape{256}).to<et::cuda>();
  et::Tensor<float, et::cuda> doubled = t * 2.0f;
  group().all_reduce(doubled.data(), doubled.numel(), dist::DType::float32, dist::ReduceOp::sum,
                     dist::DeviceKind::cuda).wait();
  et::Tensor<float, et::cuda> plus_one = doubled + 1.0f;
  for (float v : host(plus_one)) CHECK(v == 3.0f);
}

TEST_CASE("NCCL broadcast, all_gather and reduce_scatter", "[dist][nccl]") {
  auto& g = group();
  auto t = device_tensor<float>(517, 1.5f);
  const auto values = host(t);
  g.broadcast(t.data(), t.numel(), dist::DType::float32, 0, dist::DeviceKind::cuda);
  CHECK(host(t) == values);

  et::Tensor<float, et::cuda> gathered = et::zeros<float>(et::Shape{517}).to<et::cuda>();
  g.all_gather(t.data(), gathered.data(), t.numel(), dist::DType::float32, dist::DeviceKind::cuda);
  CHECK(host(gathered) == values);

  auto ints = device_tensor<std::int64_t>(64, 7);
  et::Tensor<std::int64_t, et::cuda> scattered =
      et::zeros<std::int64_t>(et::Shape{64}).to<et::cuda>();
  g.reduce_scatter(ints.data(), scattered.data(), 64, dist::DType::int64, dist::ReduceOp::sum,
                   dist::DeviceKind::cuda);
  CHECK(host(scattered) == host(ints));
}

TEST_CASE("dist's free collectives on cuda tensors go through the NCCL group", "[dist][nccl]") {
  auto& g = group();
  et::manual_seed(3);
  const et::Tensor<float> x = et::randn<float>(et::Shape{6, 5});
  et::Tensor<float, et::cuda> t = x.to<et::cuda>();
  dist::all_reduce(t, dist::ReduceOp::avg, g);
  ETNA_REQUIRE_MATCHES_CPU(t, x, 1e-7);
  dist::all_reduce_async(t, dist::ReduceOp::sum, g).wait();
  dist::broadcast(t, 0, g);
  ETNA_REQUIRE_MATCHES_CPU(t, x, 1e-7);
  const auto parts = dist::all_gather(t, g);
  REQUIRE(parts.size() == 1);
  ETNA_REQUIRE_MATCHES_CPU(parts[0], x, 1e-7);
  ETNA_REQUIRE_MATCHES_CPU(dist::all_gather_into(t, g), x, 1e-7);
  ETNA_REQUIRE_MATCHES_CPU(dist::reduce_scatter(t, dist::ReduceOp::max, g), x, 1e-7);
  // A strided view goes through a contiguous copy and is written back.
  et::Tensor<float, et::cuda> view = t.t();
  dist::all_reduce(view, dist::ReduceOp::sum, g);
  ETNA_REQUIRE_MATCHES_CPU(t, x, 1e-7);
  dist::barrier(g);
}

TEST_CASE("NCCL group errors are readable", "[dist][nccl]") {
  auto& g = group();
  std::vector<float> on_host(4, 1.0f);
  CHECK_THROWS_WITH(g.all_reduce(on_host.data(), 4, dist::DType::float32, dist::ReduceOp::sum,
                                 dist::DeviceKind::cpu),
                    Catch::Contains("device memory only") && Catch::Contains("cpu"));
  auto t = device_tensor<float>(4, 0.0f);
  CHECK_THROWS_WITH(g.broadcast(t.data(), 4, dist::DType::float32, 3, dist::DeviceKind::cuda),
                    Catch::Contains("root 3"));
  et::Tensor<bool, et::cuda> flags = et::ones<bool>(et::Shape{4}).to<et::cuda>();
  CHECK_THROWS_WITH(g.all_reduce(flags.data(), 4, dist::DType::boolean, dist::ReduceOp::avg,
                                 dist::DeviceKind::cuda),
                    Catch::Contains("not defined for bool"));
  g.all_reduce(flags.data(), 4, dist::DType::boolean, dist::ReduceOp::sum, dist::DeviceKind::cuda)
      .wait();
  for (bool b : host(flags)) CHECK(b);
  CHECK_THROWS_AS(dist::NcclProcessGroup(0, 1, ncclUniqueId{}, 4096), dist::dist_error);

  // An aborted communicator refuses further work with the reason (a separate group: the shared
  // one stays usable for the other cases).
  ncclUniqueId id;
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
  dist::NcclProcessGroup doomed(0, 1, id, group().device());
  doomed.abort();
  CHECK_THROWS_WITH(doomed.barrier(), Catch::Contains("aborted"));
}

TEST_CASE("DDP over the NCCL group: a step equals the plain step", "[dist][nccl][ddp]") {
  Net plain, local;
  {
    auto from = plain.named_parameters();
    auto to = local.named_parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].second.value().assign(from[i].second.value());
  }
  // A 1-byte bucket cap: one bucket per parameter, each reduced as soon as its gradient is done.
  dist::DistributedDataParallel ddp(local, {.bucket_cap_mb = 1e-6, .group = shared_group()});
  et::optim::SGD a(ddp.parameters(), {.lr = 0.1, .momentum = 0.9});
  et::optim::SGD b(plain.parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int step = 0; step < 3; ++step) {
    a.zero_grad();
    mse(ddp, step).backward();
    a.step();
    b.zero_grad();
    mse(plain, step).backward();
    b.step();
  }
  // Gradient accumulation: two backward passes under no_sync, the third one reduces the total.
  a.zero_grad();
  b.zero_grad();
  const std::int64_t before = ddp.bytes_communicated();
  {
    auto guard = ddp.no_sync();
    mse(ddp, 10).backward();
    mse(ddp, 11).backward();
  }
  CHECK(ddp.bytes_communicated() == before);
  mse(ddp, 12).backward();
  for (int step = 10; step < 13; ++step) mse(plain, step).backward();
  a.step();
  b.step();

  const auto pa = ddp.named_parameters();
  const auto pb = plain.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO("parameter " << pa[i].first);
    CHECK(pa[i].first == pb[i].first);
    ETNA_REQUIRE_MATCHES_CPU(pa[i].second.value(), pb[i].second.value().to<et::cpu>(), 1e-6);
  }
  // Each synchronised backward (3 steps and the one after no_sync) hands every gradient to
  // NCCL once: DDP reduces in a world of one too, as PyTorch does.
  CHECK(ddp.bucket_names().size() == pa.size());
  CHECK(ddp.bytes_communicated() == 4 * ddp.num_parameters() * std::int64_t(sizeof(float)));
}
