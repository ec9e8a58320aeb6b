// The 20-line example of README.md, built and run by the test suite so the README stays true.
#include <etna/etna.hpp>
#include <iostream>
namespace et = etna;

int main() {
  et::manual_seed(42);                                   // reproducible on any thread count
  auto x = et::randn<float>({64, 784});                  // a batch of inputs...
  auto y = et::randint(0, 10, {64});                     // ...and int64 labels
  et::Var<float> w(et::randn<float>({784, 10}) * 0.01f, /*requires_grad=*/true);
  et::Var<float> b(et::zeros<float>({10}), true);
  for (int step = 0; step <= 20; ++step) {
    auto logits = et::matmul(x, w) + b;                  // lazy: the bias add fuses downstream
    et::Var<float> loss = -et::mean(et::gather(et::log_softmax(logits, 1), 1, y.unsqueeze(1)));
    w.zero_grad();
    b.zero_grad();
    loss.backward();                                     // reverse mode through the graph
    w.value().assign(w.value() - 0.5f * w.grad());       // one fused in-place pass each
    b.value().assign(b.value() - 0.5f * b.grad());
    if (step % 5 == 0) std::cout << "step " << step << "  loss " << loss.item() << "\n";
  }
  std::cout << et::softmax(et::matmul(x.slice(0, 0, 2), w.value()), 1) << "\n";
}
