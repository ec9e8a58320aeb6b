// What `compile/mlp_example` times: a user's small program that defines the typed MLP, trains it
// and runs inference. bench/run.sh compiles it with the project's Release flags under /usr/bin/time.
#include <cstdio>

#include "etna/etna.hpp"

namespace et = etna;

using Mlp = et::nn::Sequential<et::nn::Linear<784, 256>, et::nn::ReLU, et::nn::Linear<256, 256>,
                               et::nn::ReLU, et::nn::Linear<256, 10>>;

int main() {
  et::manual_seed(0);
  Mlp net;
  et::optim::Adam opt(net.parameters(), {.lr = 1e-3});
  const auto x = et::randn<float>({64, 784});
  const auto y = et::randint(0, 10, {64});
  for (int step = 0; step < 20; ++step) {
    auto loss = et::nn::cross_entropy(net(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % 5 == 0) std::printf("step %d loss %.4f\n", step, loss.item());
  }
  et::NoGradGuard no_grad;
  const auto logits = net(x);
  std::printf("first logit %.4f\n", logits.value().data()[0]);
  return 0;
}
