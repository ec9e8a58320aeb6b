// Checkpoints of cuda models: resuming on the device is bit-identical (Adam's step counts live
// on the device), and a checkpoint moves between devices (cuda -> cpu and cpu -> cuda).
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

#include "cuda/support.hpp"
#include "etna/io/checkpoint.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace optim = etna::optim;
namespace io = etna::io;
using et::test::gpu;

namespace {

using CpuNet =
    nn::Sequential<nn::Linear<6, 8>, nn::BatchNorm1d<8>, nn::ReLU, nn::Dropout, nn::Linear<8, 3>>;
using GpuNet = decltype(std::declval<const CpuNet&>().to<gpu>());

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("etna_cuda_checkpoint_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

CpuNet make_cpu_net(std::uint64_t seed) {
  et::manual_seed(seed);
  return CpuNet{};
}
GpuNet make_gpu_net(std::uint64_t seed) { return make_cpu_net(seed).to<gpu>(); }

// Batch k from a formula, so the RNG only feeds Dropout.
template <class D>
std::pair<et::Tensor<float, D>, et::Tensor<float, D>> batch(int k) {
  auto x = et::empty<float>({16, 6}), y = et::empty<float>({16, 3});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::sin(0.37f * i + 1.3f * k);
  for (std::int64_t i = 0; i < y.numel(); ++i) y.data()[i] = std::cos(0.11f * i - 0.7f * k);
  if constexpr (std::is_same_v<D, et::cpu>)
    return {x, y};
  else
    return {x.to<D>(), y.to<D>()};
}

template <class Net, class Opt, class Sched>
void train(Net& net, Opt& opt, Sched& sched, int from, int count) {
  using D = typename Opt::device_type;
  net.train();
  for (int k = from; k < from + count; ++k) {
    const auto [x, y] = batch<D>(k);
    auto loss = nn::mse_loss(net(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    sched.step();
  }
}

template <class T, class D>
bool same_bits(const et::Tensor<T, D>& a_any, const et::Tensor<T, D>& b_any) {
  const et::Tensor<T> a = a_any.template to<et::cpu>().contiguous();
  const et::Tensor<T> b = b_any.template to<et::cpu>().contiguous();
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(T) * a.numel()) == 0;
}

template <class A, class B>
void require_same_model(const A& a, const B& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    CHECK(same_bits(pa[i].second.value(), pb[i].second.value()));
  }
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i) CHECK(same_bits(ba[i].second, bb[i].second));
  const auto ia = a.named_index_buffers(), ib = b.named_index_buffers();
  REQUIRE(ia.size() == ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i) CHECK(same_bits(ia[i].second, ib[i].second));
}

// A cuda model against a cpu one, within `tol` (device math may round differently).
template <class A, class B>
void require_close_model(const A& device, const B& host, double tol) {
  const auto pa = device.named_parameters();
  const auto pb = host.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    ETNA_REQUIRE_MATCHES_CPU(pa[i].second.value(), pb[i].second.value(), tol);
  }
  const auto ba = device.named_buffers();
  const auto bb = host.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(ba[i].second, bb[i].second, tol);
}

using GpuAdam = optim::Adam<float, gpu>;
using CpuAdam = optim::Adam<float, et::cpu>;
constexpr optim::AdamOptions kAdam{.lr = 0.01, .amsgrad = true};
constexpr optim::StepLROptions kStep{.step_size = 3, .gamma = 0.5};

}  // namespace

TEST_CASE("cuda checkpoint: resuming a cuda model is bit-identical", "[cuda][io][checkpoint]") {
  const std::string path = temp_path("resume.ckpt");
  GpuNet a = make_gpu_net(1);
  GpuAdam opt_a(a.parameters(), kAdam);
  optim::StepLR sched_a(opt_a, kStep);
  et::manual_seed(7);
  train(a, opt_a, sched_a, 0, 10);

  GpuNet b = make_gpu_net(1);
  GpuAdam opt_b(b.parameters(), kAdam);
  optim::StepLR sched_b(opt_b, kStep);
  et::manual_seed(7);
  train(b, opt_b, sched_b, 0, 5);
  io::save_checkpoint(path, b, opt_b, sched_b, 5);

  GpuNet c = make_gpu_net(123);
  GpuAdam opt_c(c.parameters(), kAdam);
  optim::StepLR sched_c(opt_c, kStep);
  et::manual_seed(999);
  CHECK(io::load_checkpoint(path, c, opt_c, sched_c).step == 5);
  train(c, opt_c, sched_c, 5, 5);

  require_same_model(a, c);
  const auto sa = opt_a.state_dict(), sc = opt_c.state_dict();
  REQUIRE(sa.state.size() == sc.state.size());
  for (const auto& [index, entries] : sa.state)
    for (const auto& [key, t] : entries) {
      INFO("parameter " << index << " state " << key);
      CHECK(same_bits(t, sc.state.at(index).at(key)));
    }
  CHECK(sa.state.at(0).at("step").data()[0] == 10.0f);
  CHECK(opt_a.param_groups()[0].lr == opt_c.param_groups()[0].lr);
  std::filesystem::remove(path);
}

TEST_CASE("cuda checkpoint: a checkpoint resumes on the other device", "[cuda][io][checkpoint]") {
  const std::string from_gpu = temp_path("from_gpu.ckpt"), from_cpu = temp_path("from_cpu.ckpt");
  // The reference: 10 steps on each device.
  GpuNet g_ref = make_gpu_net(1);
  GpuAdam g_ref_opt(g_ref.parameters(), kAdam);
  optim::StepLR g_ref_sched(g_ref_opt, kStep);
  et::manual_seed(7);
  train(g_ref, g_ref_opt, g_ref_sched, 0, 10);
  CpuNet c_ref = make_cpu_net(1);
  CpuAdam c_ref_opt(c_ref.parameters(), kAdam);
  optim::StepLR c_ref_sched(c_ref_opt, kStep);
  et::manual_seed(7);
  train(c_ref, c_ref_opt, c_ref_sched, 0, 10);

  {  // 5 steps on cuda, 5 on the cpu.
    GpuNet g = make_gpu_net(1);
    GpuAdam g_opt(g.parameters(), kAdam);
    optim::StepLR g_sched(g_opt, kStep);
    et::manual_seed(7);
    train(g, g_opt, g_sched, 0, 5);
    io::save_checkpoint(from_gpu, g, g_opt, g_sched, 5);
    CpuNet c = make_cpu_net(50);
    CpuAdam c_opt(c.parameters(), kAdam);
    optim::StepLR c_sched(c_opt, kStep);
    io::load_checkpoint(from_gpu, c, c_opt, c_sched);
    train(c, c_opt, c_sched, 5, 5);
    require_close_model(g_ref, c, 1e-5);
    require_close_model(g_ref, c_ref, 1e-5);
  }
  {  // 5 steps on the cpu, 5 on cuda.
    CpuNet c = make_cpu_net(1);
    CpuAdam c_opt(c.parameters(), kAdam);
    optim::StepLR c_sched(c_opt, kStep);
    et::manual_seed(7);
    train(c, c_opt, c_sched, 0, 5);
    io::save_checkpoint(from_cpu, c, c_opt, c_sched, 5);
    GpuNet g = make_gpu_net(60);
    GpuAdam g_opt(g.parameters(), kAdam);
    optim::StepLR g_sched(g_opt, kStep);
    io::load_checkpoint(from_cpu, g, g_opt, g_sched);
    train(g, g_opt, g_sched, 5, 5);
    require_close_model(g, c_ref, 1e-5);
  }
  std::filesystem::remove(from_gpu);
  std::filesystem::remove(from_cpu);
}
