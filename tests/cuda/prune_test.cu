// et::prune on cuda modules: the masks live on the device, computed through the host, and
// match the cpu's; optimizer steps keep pruned weights at zero; to<cuda>() / to<cpu>() and
// io::save / load carry the masks.
#include <filesystem>
#include <string>

#include "cuda/support.hpp"
#include "etna/backend/cuda/sparse.hpp"  // the CSR kernel behind nn::Linear's compressed path
#include "etna/prune.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace prune = etna::prune;
using et::test::gpu;

namespace {

template <class D = et::cpu>
struct ConvNet : nn::Module<ConvNet<D>> {
  nn::Conv2d<2, 6, 3, nn::Conv2dOptions{}, float, D> conv;
  nn::Linear<6 * 4 * 4, 10, float, D> fc;
  template <class X>
  auto forward(const X& x) {
    return fc(et::flatten(et::relu(conv(x)), 1));
  }
  ETNA_MODULE(conv, fc)
};

// Elements the mask prunes are exactly zero in the value (read back on the host).
template <class P>
bool masked_are_zero(const P& p) {
  const et::Tensor<float> m = p.impl_ptr()->mask.template to<et::cpu>();
  const et::Tensor<float> v = p.value().template to<et::cpu>();
  for (std::int64_t i = 0; i < m.numel(); ++i)
    if (m.data()[i] == 0 && v.data()[i] != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("cuda: pruning a cuda Linear and Conv2d matches the cpu, steps keep the masks",
          "[cuda][prune]") {
  et::manual_seed(21);
  ConvNet<> host;
  auto dev = host.to<gpu>();
  const auto prune_all = [](auto& net) {
    prune::ln_structured(net, "conv.weight", 0.5, 2, 0);  // 3 of the 6 output channels
    prune::l1_unstructured(net, "fc.weight", 0.8);
    prune::global_unstructured(net, {"conv.weight", "fc.weight"}, {.amount = 10});
  };
  prune_all(host);
  prune_all(dev);
  for (const char* name : {"conv.weight", "fc.weight"}) {
    INFO(name);
    const auto hp = prune::detail::find_parameter(host, name, "test");
    const auto dp = prune::detail::find_parameter(dev, name, "test");
    ETNA_REQUIRE_MATCHES_CPU(dp.impl_ptr()->mask, hp.impl_ptr()->mask, 1e-30);
    ETNA_REQUIRE_MATCHES_CPU(dp.value(), hp.value(), 1e-30);
  }
  const auto pruned = prune::sparsity_report(host).total_zeros();
  CHECK(prune::sparsity_report(dev).total_zeros() == pruned);

  et::optim::SGD sgd(dev.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01});
  et::optim::Adam adam(dev.parameters(), {.lr = 0.01});
  for (int s = 0; s < 4; ++s) {
    auto x = et::Var<float, gpu>(et::randn<float>({3, 2, 6, 6}).to<gpu>());
    auto loss = et::mean(et::square(dev(x)));
    sgd.zero_grad();
    loss.backward();
    if (s % 2)
      sgd.step();
    else
      adam.step();
  }
  CHECK(masked_are_zero(dev.conv.weight));
  CHECK(masked_are_zero(dev.fc.weight));
  CHECK(prune::sparsity_report(dev).total_zeros() == pruned);  // the rest moved off zero
}

TEST_CASE("cuda: masks travel through to<cuda>(), to<cpu>() and save / load", "[cuda][prune]") {
  et::manual_seed(22);
  ConvNet<> host;
  prune::l1_unstructured(host, "fc.weight", 0.5);
  auto dev = host.to<gpu>();
  REQUIRE(prune::is_pruned(dev, "fc.weight"));
  CHECK(dev.named_buffers().size() == 1);
  const auto& host_mask = host.fc.weight.impl_ptr()->mask;
  ETNA_REQUIRE_MATCHES_CPU(dev.fc.weight.impl_ptr()->mask, host_mask, 1e-30);
  auto back = dev.to<et::cpu>();
  CHECK(prune::sparsity_report(back).at("fc.weight").masked == 480);

  const std::string path =
      (std::filesystem::temp_directory_path() / "etna_prune_cuda.safetensors").string();
  et::io::save(dev, path);
  auto fresh = ConvNet<>().to<gpu>();
  et::io::load(fresh, path);
  REQUIRE(prune::is_pruned(fresh, "fc.weight"));
  ETNA_REQUIRE_MATCHES_CPU(fresh.fc.weight.impl_ptr()->mask, host_mask, 1e-30);
  ETNA_REQUIRE_MATCHES_CPU(fresh.fc.weight.value(), host.fc.weight.value(), 1e-30);
  std::filesystem::remove(path);
}
