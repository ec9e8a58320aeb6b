// The Module protocol (etna/nn/module.hpp, module_ref.hpp, module_summary.hpp): names as
// PyTorch's state_dict, buffers, modules, train/eval, gradients and freezing, apply, clone,
// parameter counts, the summary table and repr strings checked against torch's own.
#include "etna/nn/module.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd.hpp"
#include "etna/nn/activation.hpp"
#include "etna/nn/dropout.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/normalization.hpp"
#include "etna/nn/sequential.hpp"
#include "etna/optim/adam.hpp"
#include "etna/optim/sgd.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;

namespace {

// torch: class Block(nn.Module): fc = nn.Linear(4, 4, bias=False); act = nn.GELU()
struct Block : nn::Module<Block> {
  nn::Linear<> fc{4, 4, false};
  nn::GELU act;
  ETNA_MODULE(fc, act)
  template <class X>
  auto forward(const X& x) {
    return act(fc(x));
  }
};

// torch: fc1 = nn.Linear(3, 4); block = Block(); head = nn.Sequential(nn.Linear(4, 2),
// nn.LogSoftmax(dim=-1))
struct Net : nn::Module<Net> {
  nn::Linear<> fc1{3, 4};
  Block block;
  nn::Sequential<nn::Linear<4, 2>, nn::LogSoftmax> head;
  ETNA_MODULE(fc1, block, head)
  template <class X>
  auto forward(const X& x) {
    return head(block(fc1(x)));
  }
};

struct Stack : nn::Module<Stack> {
  std::vector<nn::Linear<>> layers;
  nn::Linear<> out{4, 2};
  Stack() {
    layers.emplace_back(3, 4);
    layers.emplace_back(4, 4);
  }
  ETNA_MODULE(layers, out)
};

// Two layers sharing one weight (as a tied embedding and decoder).
struct Tied : nn::Module<Tied> {
  nn::Linear<> a{4, 4}, b{4, 4};
  Tied() { b.weight = a.weight; }
  ETNA_MODULE(a, b)
};

struct WithNorm : nn::Module<WithNorm> {
  nn::Linear<> fc{3, 4};
  nn::BatchNorm1d<> bn{4};
  nn::Dropout drop{0.5};
  ETNA_MODULE(fc, bn, drop)
  template <class X>
  auto forward(const X& x) {
    return drop(bn(fc(x)));
  }
};

template <class P>
std::vector<std::string> names_of(const P& pairs) {
  std::vector<std::string> out;
  for (const auto& [name, value] : pairs) out.push_back(name);
  return out;
}

template <class M>
struct is_linear : std::false_type {};
template <std::int64_t I, std::int64_t O, class T, class D>
struct is_linear<nn::Linear<I, O, T, D>> : std::true_type {};

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("module: named_parameters follow PyTorch's state_dict names", "[nn][module]") {
  Net net;
  CHECK(names_of(net.named_parameters()) ==
        Strings{"fc1.weight", "fc1.bias", "block.fc.weight", "head.0.weight", "head.0.bias"});
  CHECK(names_of(net.named_parameters(false)).empty());  // Net registers no Var of its own
  CHECK(net.parameters().size() == 5);
  CHECK(net.named_parameters()[0].second.shape() == et::Shape{4, 3});

  Stack stack;  // std::vector<Linear<>> members: "layers.0.weight", as nn.ModuleList
  CHECK(names_of(stack.named_parameters()) ==
        Strings{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                "out.weight", "out.bias"});
}

TEST_CASE("module: a tied parameter is listed and counted once", "[nn][module]") {
  Tied t;
  CHECK(names_of(t.named_parameters()) == Strings{"a.weight", "a.bias", "b.bias"});
  CHECK(t.num_parameters() == 16 + 4 + 4);
}

TEST_CASE("module: buffers and index buffers", "[nn][module]") {
  WithNorm m;
  CHECK(names_of(m.named_buffers()) == Strings{"bn.running_mean", "bn.running_var"});
  CHECK(names_of(m.named_index_buffers()) == Strings{"bn.num_batches_tracked"});
  CHECK(m.buffers().size() == 2);
  CHECK(names_of(m.named_parameters()) ==
        Strings{"fc.weight", "fc.bias", "bn.weight", "bn.bias"});
}

TEST_CASE("module: named_modules and named_children in PyTorch's order", "[nn][module]") {
  Net net;
  CHECK(names_of(net.named_modules()) ==
        Strings{"", "fc1", "block", "block.fc", "block.act", "head", "head.0", "head.1"});
  Strings types;
  for (auto& [name, m] : net.named_modules()) types.push_back(m.type_name());
  CHECK(types == Strings{"Net", "Linear", "Block", "Linear", "GELU", "Sequential", "Linear",
                         "LogSoftmax"});
  CHECK(names_of(net.named_children()) == Strings{"fc1", "block", "head"});
}

TEST_CASE("module: train and eval reach every module; Dropout follows", "[nn][module]") {
  et::manual_seed(1);
  WithNorm m;
  CHECK(m.is_training());
  m.eval();
  for (auto& [name, sub] : m.named_modules()) CHECK_FALSE(sub.is_training());
  const auto x = et::randn<float>({8, 3});
  const et::Var<float> a = m(x), b = m(x);  // eval: deterministic, running statistics
  ETNA_CHECK_CLOSE(a.value(), b.value(), 0.0, 0.0);
  m.train();
  for (auto& [name, sub] : m.named_modules()) CHECK(sub.is_training());
  m.bn.eval();  // a subtree only
  CHECK(m.is_training());
  CHECK_FALSE(m.bn.is_training());
  CHECK(m.drop.is_training());
}

TEST_CASE("module: zero_grad clears or zeroes the gradients", "[nn][module]") {
  Net net;
  const et::Var<float> y = net(et::randn<float>({2, 3}));
  et::sum(y).backward();
  for (auto& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad(false);
  for (auto& p : net.parameters()) {
    REQUIRE(p.grad().defined());
    CHECK(et::sum(et::abs(p.grad())).item() == 0.f);
  }
  net.zero_grad();
  for (auto& p : net.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("module: frozen parameters get no gradient and optimizers leave them", "[nn][module]") {
  et::manual_seed(2);
  Net net;
  net.block.freeze();
  CHECK_FALSE(net.block.fc.weight.requires_grad());
  CHECK(net.num_parameters() == 16 + 16 + 10);
  CHECK(net.num_parameters(/*trainable_only=*/true) == 16 + 10);
  const auto x = et::randn<float>({5, 3});
  auto run = [&](auto& opt) {
    const et::Tensor<float> frozen = net.block.fc.weight.value().clone();
    const et::Tensor<float> trained = net.fc1.weight.value().clone();
    opt.zero_grad();
    et::sum(et::square(net(x))).backward();
    CHECK_FALSE(net.block.fc.weight.grad().defined());
    opt.step();
    ETNA_CHECK_CLOSE(net.block.fc.weight.value(), frozen, 0.0, 0.0);
    CHECK_FALSE(et::test::mismatch(net.fc1.weight.value(), trained, 0.0, 0.0).empty());
  };
  et::optim::SGD sgd(net.parameters(), {.lr = 0.1});
  run(sgd);
  et::optim::Adam adam(net.parameters(), {.lr = 0.1});
  run(adam);

  net.unfreeze();
  CHECK(net.block.fc.weight.requires_grad());
  net.head.get<0>().requires_grad(false);  // one layer of a Sequential
  CHECK(net.num_parameters(true) == 16 + 16);
}

TEST_CASE("module: apply visits every typed module, children first", "[nn][module]") {
  Net net;
  int linears = 0;
  Strings order;
  net.apply([&](auto& m) {
    using M = std::remove_cvref_t<decltype(m)>;
    if constexpr (is_linear<M>::value) ++linears;
    order.push_back(et::nn::detail::type_name_of<M>());
  });
  CHECK(linears == 3);
  CHECK(order == Strings{"Linear", "Linear", "GELU", "Block", "Linear", "LogSoftmax",
                         "Sequential", "Net"});
  // The usual use: a custom initialisation.
  net.apply([](auto& m) {
    if constexpr (is_linear<std::remove_cvref_t<decltype(m)>>::value) m.weight.value().fill(0.5f);
  });
  CHECK(net.head.get<0>().weight.value()(1, 3) == 0.5f);
}

TEST_CASE("module: clone is independent and keeps ties", "[nn][module]") {
  Tied t;
  Tied c = t.clone();
  CHECK(c.a.weight.value().data() == c.b.weight.value().data());  // still tied
  CHECK(c.a.weight.value().data() != t.a.weight.value().data());  // own storage
  ETNA_CHECK_CLOSE(c.a.weight.value(), t.a.weight.value(), 0.0, 0.0);
  c.a.weight.value().fill(3.f);
  CHECK(t.a.weight.value()(0, 0) != 3.f);
  CHECK(c.b.weight.value()(0, 0) == 3.f);

  Tied shallow = t;  // a plain copy is a handle: it shares parameters, as PyTorch references
  CHECK(shallow.a.weight.value().data() == t.a.weight.value().data());

  WithNorm m;
  WithNorm mc = m.clone();
  CHECK(mc.bn.running_mean.data() != m.bn.running_mean.data());
  CHECK(mc.bn.num_batches_tracked.data() != m.bn.num_batches_tracked.data());
  mc.eval();
  CHECK(m.is_training());  // the training flag is per object
}

TEST_CASE("module: num_parameters", "[nn][module]") {
  Net net;
  CHECK(net.num_parameters() == 3 * 4 + 4 + 4 * 4 + 4 * 2 + 2);
  nn::Sequential<nn::Linear<784, 256>, nn::ReLU, nn::Linear<256, 10>> mlp;
  CHECK(mlp.num_parameters() == 784 * 256 + 256 + 256 * 10 + 10);
}

TEST_CASE("module: summary prints the Keras-style table", "[nn][module]") {
  nn::Sequential<nn::Linear<4, 3>, nn::ReLU, nn::Linear<3, 2>> net;
  net.get<2>().freeze();
  const std::string expected =
      "Model: Sequential\n"
      "=====================================\n"
      "Layer (type)   Output Shape   Param #\n"
      "-------------------------------------\n"
      "0 (Linear)     [5, 3]              15\n"
      "1 (ReLU)       [5, 3]               0\n"
      "2 (Linear)     [5, 2]               8\n"
      "=====================================\n"
      "Total params: 23\n"
      "Trainable params: 15\n"
      "Non-trainable params: 8\n";
  CHECK(net.summary(et::Shape{5, 4}) == expected);
  CHECK(net.is_training());  // summary runs in eval mode and restores the flags

  Net user;
  const std::string nested =
      "Model: Net\n"
      "===============================\n"
      "Layer (type)            Param #\n"
      "-------------------------------\n"
      "fc1 (Linear)                 16\n"
      "block (Block)                16\n"
      "  block.fc (Linear)          16\n"
      "  block.act (GELU)            0\n"
      "head (Sequential)            10\n"
      "  head.0 (Linear)            10\n"
      "  head.1 (LogSoftmax)         0\n"
      "===============================\n"
      "Total params: 42\n"
      "Trainable params: 42\n"
      "Non-trainable params: 0\n";
  CHECK(user.summary() == nested);
}

TEST_CASE("module: repr equals PyTorch's repr of the same module", "[nn][module]") {
  // Strings printed by torch 2 (repr(module)) for the equivalent torch.nn modules.
  nn::Sequential<nn::Flatten, nn::Linear<784, 256>, nn::ReLU, nn::Dropout, nn::Linear<256, 10>>
      mlp(nn::Flatten{}, nn::Linear<784, 256>{}, nn::ReLU{}, nn::Dropout(0.2),
          nn::Linear<256, 10>{});
  CHECK(mlp.repr() ==
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=784, out_features=256, bias=True)\n"
        "  (2): ReLU()\n"
        "  (3): Dropout(p=0.2, inplace=False)\n"
        "  (4): Linear(in_features=256, out_features=10, bias=True)\n"
        ")");
  Net net;
  CHECK(net.repr() ==
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=4, out_features=4, bias=False)\n"
        "    (act): GELU(approximate='none')\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "    (1): LogSoftmax(dim=-1)\n"
        "  )\n"
        ")");
  std::ostringstream os;
  os << net.block;
  CHECK(os.str() == net.block.repr());
  nn::Sequential<nn::BatchNorm1d<4>, nn::LayerNorm<4>, nn::AlphaDropout, nn::Identity, nn::SiLU,
                 nn::Sigmoid, nn::Tanh, nn::LeakyReLU, nn::Softmax>
      more(nn::BatchNorm1d<4>{}, nn::LayerNorm<4>{}, nn::AlphaDropout(0.1), nn::Identity{},
           nn::SiLU{}, nn::Sigmoid{}, nn::Tanh{}, nn::LeakyReLU{}, nn::Softmax{});
  CHECK(more.repr() ==
        "Sequential(\n"
        "  (0): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (1): LayerNorm((4,), eps=1e-05, elementwise_affine=True)\n"
        "  (2): AlphaDropout(p=0.1, inplace=False)\n"
        "  (3): Identity()\n"
        "  (4): SiLU()\n"
        "  (5): Sigmoid()\n"
        "  (6): Tanh()\n"
        "  (7): LeakyReLU(negative_slope=0.01)\n"
        "  (8): Softmax(dim=-1)\n"
        ")");
}

TEST_CASE("module: operator() takes tensors and Vars", "[nn][module]") {
  et::manual_seed(3);
  nn::Linear<> fc(3, 2);
  const auto x = et::randn<float>({4, 3});
  const et::Var<float> from_tensor = fc(x);
  const auto expected = et::matmul(x, fc.weight.value().transpose()) + fc.bias.value();
  ETNA_CHECK_CLOSE(from_tensor.value(), expected, 1e-6, 1e-6);
  CHECK(from_tensor.requires_grad());  // the weights require grad

  const et::Var<float> xv(x, true);
  const et::Var<float> from_var = fc(xv);
  ETNA_CHECK_CLOSE(from_var.value(), expected, 1e-6, 1e-6);
  et::sum(from_var).backward();
  REQUIRE(xv.grad().defined());
  ETNA_CHECK_CLOSE(xv.grad(), et::matmul(et::ones<float>({4, 2}), fc.weight.value()), 1e-6,
                   1e-6);

  Net net;  // a user module's operator() calls its forward
  const et::Var<float> y = net(et::Var<float>(et::randn<float>({2, 3})));
  CHECK(y.shape() == et::Shape{2, 2});
}
