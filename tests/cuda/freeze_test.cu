// Transfer learning on the device: a cuda network loads a cpu-trained backbone, its backbone is
// frozen by pattern and by layer index, a replaced head trains with its own learning rate, and
// frozen weights stay bit-identical through fused cuda optimizer steps (SGD with momentum and
// weight decay, Adam), while the trainable ones move exactly as the same steps move them on
// the cpu.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "cuda/support.hpp"
#include "etna/io/module_io.hpp"
#include "etna/nn/freeze.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace io = etna::io;
namespace optim = etna::optim;
using et::test::gpu;

namespace {

using CpuNet = nn::Sequential<nn::Linear<6, 8>, nn::ReLU, nn::Linear<8, 8>, nn::ReLU,
                              nn::Linear<8, 4>>;
using GpuNet = decltype(std::declval<const CpuNet&>().to<gpu>());

template <class D>
et::Tensor<float, D> input() {
  auto x = et::empty<float>({5, 6});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::sin(0.3f * i);
  if constexpr (std::is_same_v<D, et::cpu>) return x;
  else return x.to<D>();
}

template <class Net, class Opt>
void train_steps(Net& net, Opt& opt, int steps) {
  using D = typename Opt::device_type;
  const auto x = input<D>();
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    et::sum(et::square(net(x))).backward();
    opt.step();
  }
}

std::vector<et::Tensor<float>> host_values(const GpuNet& net) {
  std::vector<et::Tensor<float>> out;
  for (const auto& p : net.parameters()) out.push_back(p.value().to<et::cpu>());
  return out;
}

bool same_bits(const et::Tensor<float>& a, const et::Tensor<float>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.numel())) == 0;
}

}  // namespace

TEST_CASE("cuda transfer: frozen layers stay unchanged through device optimizer steps",
          "[cuda][transfer]") {
  et::manual_seed(3);
  GpuNet net = CpuNet().to<gpu>();
  net.freeze_layers(0, -1);                // all but the head
  CHECK(nn::trainable_parameters(net).size() == 2);
  const auto before = host_values(net);
  optim::SGD<float, gpu> sgd(net.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  train_steps(net, sgd, 3);
  net.unfreeze().freeze("2.*");            // now only the middle layer is frozen
  optim::Adam<float, gpu> adam(net.parameters(), {.lr = 0.01, .weight_decay = 0.01});
  train_steps(net, adam, 3);
  const auto after = host_values(net);
  const auto names = net.named_parameters();
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i].first);
    const bool frozen_throughout = names[i].first.starts_with("2.");
    CHECK(same_bits(before[i], after[i]) == frozen_throughout);
  }
}

TEST_CASE("cuda transfer: a loaded backbone with a replaced head trains as on the cpu",
          "[cuda][transfer]") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("etna_cuda_freeze_test_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  et::manual_seed(5);
  CpuNet pretrained;
  io::save(pretrained, path);

  auto make = [&]<class D>() {
    et::manual_seed(11);  // the new head's initial weights, equal on both devices
    auto net = CpuNet().replace<4>(nn::Linear<8, 2>{});
    io::LoadResult r = io::load(net, path, {.exclude = {"4.*"}});  // strict for the rest
    CHECK(r.missing_keys.empty());
    CHECK(r.unexpected_keys.empty());
    return net.template to<D>();
  };
  auto cpu_net = make.template operator()<et::cpu>();
  auto gpu_net = make.template operator()<gpu>();
  cpu_net.freeze("0.*");
  gpu_net.freeze("0.*");
  optim::SGD<float, et::cpu> cpu_opt(nn::parameters_not_matching(cpu_net, "4.*"), {.lr = 1e-3});
  cpu_opt.add_param_group(nn::parameters_matching(cpu_net, "4.*"), {.lr = 1e-1});
  optim::SGD<float, gpu> gpu_opt(nn::parameters_not_matching(gpu_net, "4.*"), {.lr = 1e-3});
  gpu_opt.add_param_group(nn::parameters_matching(gpu_net, "4.*"), {.lr = 1e-1});
  train_steps(cpu_net, cpu_opt, 4);
  train_steps(gpu_net, gpu_opt, 4);
  const auto c = cpu_net.named_parameters();
  const auto g = gpu_net.named_parameters();
  REQUIRE(c.size() == g.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    INFO(c[i].first);
    ETNA_REQUIRE_MATCHES_CPU(g[i].second.value(), c[i].second.value(), 1e-5);
  }
  std::filesystem::remove(path);
}
