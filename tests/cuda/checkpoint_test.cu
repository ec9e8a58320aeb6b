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

// Resuming on the other device: right after load_checkpoint the model and the optimizer state
// equal the saved ones bit for bit, and the next steps equal those of the same state moved to
// that device in memory (to<>(), optimizer and scheduler load_state_dict, the RNG's state).
// Training on two devices is not compared: cpu and cuda round differently, and Adam turns a
// last-bit difference of a near-zero gradient into a whole step (seen on an H200: 0.6%).
template <class DstNet, class DstOpt, class SrcNet, class SrcOpt, class SrcSched>
void check_resume_across(const SrcNet& src, const SrcOpt& src_opt, const SrcSched& src_sched,
                         DstNet resumed, DstNet moved, const std::string& path) {
  io::save_checkpoint(path, src, src_opt, src_sched, 5);
  const auto rng = et::default_generator().get_state();
  DstOpt opt(resumed.parameters(), kAdam);
  optim::StepLR sched(opt, kStep);
  et::manual_seed(999);
  CHECK(io::load_checkpoint(path, resumed, opt, sched).step == 5);
  require_same_model(resumed, src.template to<typename DstOpt::device_type>());
  const auto s_src = src_opt.state_dict(), s_dst = opt.state_dict();
  REQUIRE(s_src.state.size() == s_dst.state.size());
  for (const auto& [index, entries] : s_src.state)
    for (const auto& [key, t] : entries) {
      INFO("parameter " << index << " state " << key);
      CHECK(same_bits(t, s_dst.state.at(index).at(key)));
    }
  CHECK(opt.param_groups()[0].lr == src_opt.param_groups()[0].lr);
  train(resumed, opt, sched, 5, 5);

  DstOpt moved_opt(moved.parameters(), kAdam);
  moved_opt.load_state_dict(src_opt.state_dict());
  optim::StepLR moved_sched(moved_opt, kStep);
  moved_sched.load_state_dict(src_sched.state_dict());
  et::default_generator().set_state(rng);
  train(moved, moved_opt, moved_sched, 5, 5);
  require_same_model(resumed, moved);
  std::filesystem::remove(path);
}

TEST_CASE("cuda checkpoint: a checkpoint resumes on the other device", "[cuda][io][checkpoint]") {
  {  // 5 steps on cuda, then on the cpu.
    GpuNet g = make_gpu_net(1);
    GpuAdam g_opt(g.parameters(), kAdam);
    optim::StepLR g_sched(g_opt, kStep);
    et::manual_seed(7);
    train(g, g_opt, g_sched, 0, 5);
    check_resume_across<CpuNet, CpuAdam>(g, g_opt, g_sched, make_cpu_net(50),
                                         g.to<et::cpu>(), temp_path("from_gpu.ckpt"));
  }
  {  // 5 steps on the cpu, then on cuda.
    CpuNet c = make_cpu_net(1);
    CpuAdam c_opt(c.parameters(), kAdam);
    optim::StepLR c_sched(c_opt, kStep);
    et::manual_seed(7);
    train(c, c_opt, c_sched, 0, 5);
    check_resume_across<GpuNet, GpuAdam>(c, c_opt, c_sched, make_gpu_net(60), c.to<gpu>(),
                                         temp_path("from_cpu.ckpt"));
  }
}
