// Must not compile: a module that forgot ETNA_MODULE(...). The build's compile_fail test checks
// that the error is Module's static_assert, which says what to write.
#include "etna/nn/linear.hpp"
#include "etna/nn/module.hpp"

namespace nn = etna::nn;

struct Net : nn::Module<Net> {
  nn::Linear<> fc{4, 2};
  template <class X>
  auto forward(const X& x) {
    return fc(x);
  }
};

int main() {
  Net net;
  return static_cast<int>(net.parameters().size());
}
