// Masks through training and files: optimizer steps keep pruned weights at zero, masks travel
// as "<param>_mask" buffers through named_buffers, clone, io::save/load and checkpoints.
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>

#include "etna/etna.hpp"
#include "etna/prune.hpp"

namespace et = etna;
namespace nn = et::nn;
namespace prune = et::prune;

namespace {

using Net = nn::Sequential<nn::Linear<8, 16>, nn::ReLU, nn::Linear<16, 4>>;

// Every element the mask prunes is exactly zero in the value (and gradient, when there is one).
template <class P>
bool masked_are_zero(const P& p) {
  const auto m = p.impl_ptr()->mask.template to<et::cpu>();
  const auto v = p.value().template to<et::cpu>();
  for (std::int64_t i = 0; i < m.numel(); ++i)
    if (m.data()[i] == 0 && v.data()[i] != 0) return false;
  if (p.grad().defined()) {
    const auto g = p.grad().template to<et::cpu>();
    for (std::int64_t i = 0; i < m.numel(); ++i)
      if (m.data()[i] == 0 && g.data()[i] != 0) return false;
  }
  return true;
}

template <class O>
void train_steps(Net& net, O& opt, int steps) {
  for (int s = 0; s < steps; ++s) {
    auto x = et::Var<float>(et::randn<float>({32, 8}));
    auto loss = et::mean(et::square(net(x) - 1.f));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
}

template <class A, class B>
bool same(const A& a, const B& b) {
  const et::Tensor<float> x = a.template to<et::cpu>(), y = b.template to<et::cpu>();
  if (!(x.shape() == y.shape())) return false;
  for (std::int64_t i = 0; i < x.numel(); ++i)
    if (x.data()[i] != y.data()[i]) return false;
  return true;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("etna_prune_" + name)).string();
}

}  // namespace

TEST_CASE("masks survive optimizer steps: SGD with momentum and weight decay, Adam", "[prune]") {
  et::manual_seed(2);
  Net net;
  prune::l1_unstructured(net, "0.weight", 0.6);
  prune::ln_structured(net, "2.weight", 0.5, 2, 0);
  prune::l1_unstructured(net, "0.bias", 4);
  const auto masked = prune::sparsity_report(net).total_zeros();
  SECTION("SGD") {
    et::optim::SGD sgd(net.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01});
    train_steps(net, sgd, 20);
  }
  SECTION("Adam") {
    et::optim::Adam adam(net.parameters(), {.lr = 0.01, .weight_decay = 0.01});
    train_steps(net, adam, 20);
  }
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    if (p.impl_ptr()->mask.defined()) CHECK(masked_are_zero(p));
  }
  const auto report = prune::sparsity_report(net);
  CHECK(report.total_zeros() == masked);  // the unpruned weights moved off zero, none came back
  CHECK(report.at("0.weight").masked == std::llround(0.6 * 128));
}

TEST_CASE("masks are buffers: named_buffers, clone, state_dict names", "[prune]") {
  et::manual_seed(4);
  Net net;
  prune::l1_unstructured(net, "2.weight", 0.5);
  const auto buffers = net.named_buffers();
  REQUIRE(buffers.size() == 1);
  CHECK(buffers[0].first == "2.weight_mask");
  Net copy = net.clone();
  REQUIRE(prune::is_pruned(copy, "2.weight"));
  CHECK(copy.get<2>().weight.impl_ptr()->mask.data() !=
        net.get<2>().weight.impl_ptr()->mask.data());  // an independent copy
  prune::l1_unstructured(copy, "2.weight", 0.5);
  CHECK(prune::sparsity_report(net).at("2.weight").masked == 32);
  CHECK(prune::sparsity_report(copy).at("2.weight").masked == 48);
}

TEST_CASE("save and load carry masks, into pruned and fresh models", "[prune]") {
  et::manual_seed(6);
  Net net;
  prune::global_unstructured(net, {"*.weight"}, {.amount = 0.75});
  const std::string path = temp_path("masks.safetensors");
  et::io::save(net, path);
  {
    const et::io::SafeTensorsFile f(path);
    CHECK(f.contains("0.weight_mask"));
    CHECK(f.contains("2.weight_mask"));
    CHECK_FALSE(f.contains("0.bias_mask"));
  }
  SECTION("into a fresh model: the masks attach, and keep working in training") {
    et::manual_seed(99);
    Net fresh;
    et::io::load(fresh, path);
    REQUIRE(prune::is_pruned(fresh, "0.weight"));
    CHECK_FALSE(prune::is_pruned(fresh, "0.bias"));
    CHECK(same(fresh.get<0>().weight.impl_ptr()->mask, net.get<0>().weight.impl_ptr()->mask));
    CHECK(same(fresh.get<2>().weight.value(), net.get<2>().weight.value()));
    et::optim::SGD sgd(fresh.parameters(), {.lr = 0.1, .momentum = 0.9});
    train_steps(fresh, sgd, 5);
    CHECK(masked_are_zero(fresh.get<0>().weight));
    CHECK(masked_are_zero(fresh.get<2>().weight));
  }
  SECTION("a failed load leaves the fresh model unpruned") {
    nn::Sequential<nn::Linear<8, 16>, nn::ReLU, nn::Linear<16, 5>> other;
    CHECK_THROWS_AS(et::io::load(other, path), et::shape_error);
    CHECK_FALSE(prune::is_pruned(other));
  }
  SECTION("an unpruned model takes only the effective weights when told to") {
    Net target;
    et::io::load(target, path, {.exclude = {"*_mask"}});
    CHECK_FALSE(prune::is_pruned(target));
    CHECK(same(target.get<0>().weight.value(), net.get<0>().weight.value()));
    prune::remove(net, "0.weight");
    prune::remove(net, "2.weight");
    et::io::save(net, path);  // remove() then save: a plain state_dict, zeros included
    Net plain;
    et::io::load(plain, path);
    CHECK_FALSE(prune::is_pruned(plain));
    CHECK(same(plain.get<2>().weight.value(), net.get<2>().weight.value()));
  }
  SECTION("a dense file loaded into a pruned model keeps the pruning") {
    Net dense;
    const std::string dense_path = temp_path("dense.safetensors");
    et::io::save(dense, dense_path);
    Net pruned = net.clone();
    et::io::load(pruned, dense_path, {.strict = false});  // the file has no masks
    CHECK(prune::is_pruned(pruned, "0.weight"));
    CHECK(masked_are_zero(pruned.get<0>().weight));
    CHECK(prune::sparsity_report(pruned, {"*.weight"}).total_zeros() ==
          prune::sparsity_report(net, {"*.weight"}).total_zeros());
    std::filesystem::remove(dense_path);
  }
  SECTION("loading drops the parameters' inference caches") {
    Net pruned = net.clone();
    auto& impl = *pruned.get<0>().weight.impl_ptr();
    using Entry = et::autograd::InferenceCacheEntry;
    impl.inference_cache = std::make_shared<Entry>();
    pruned.get<2>().bias.impl_ptr()->inference_cache = std::make_shared<Entry>();
    et::io::load(pruned, path, {.exclude = {"2.bias"}});
    CHECK(impl.inference_cache == nullptr);
    CHECK(pruned.get<2>().bias.impl_ptr()->inference_cache != nullptr);  // not loaded
  }
  std::filesystem::remove(path);
}

TEST_CASE("checkpoints resume a pruned model into a fresh one", "[prune]") {
  et::manual_seed(8);
  Net net;
  prune::l1_unstructured(net, "0.weight", 0.5);
  et::optim::Adam adam(net.parameters(), {.lr = 1e-2});
  train_steps(net, adam, 3);
  const std::string path = temp_path("ckpt.etna");
  et::io::save_checkpoint(path, net, adam, 3);
  Net fresh;
  et::optim::Adam adam2(fresh.parameters(), {.lr = 1e-2});
  const auto info = et::io::load_checkpoint(path, fresh, adam2);
  CHECK(info.step == 3);
  REQUIRE(prune::is_pruned(fresh, "0.weight"));
  CHECK(same(fresh.get<0>().weight.impl_ptr()->mask, net.get<0>().weight.impl_ptr()->mask));
  train_steps(fresh, adam2, 3);
  CHECK(masked_are_zero(fresh.get<0>().weight));
  std::filesystem::remove(path);
}

TEST_CASE("pruning works on runtime-typed networks (AnySequential)", "[prune]") {
  et::manual_seed(10);
  nn::AnySequential<float> net(nn::Linear<>(6, 12), nn::ReLU{}, nn::Linear<>(12, 3));
  prune::global_unstructured(net, {"0.weight", "2.weight"}, {.amount = 54});
  CHECK(prune::sparsity_report(net).total_zeros() == 54);
  CHECK(net.named_buffers().size() == 2);
  et::optim::SGD sgd(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int s = 0; s < 3; ++s) {
    auto loss = et::mean(et::square(net(et::Var<float>(et::randn<float>({4, 6})))));
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  CHECK(prune::sparsity_report(net).total_zeros() == 54);
}
